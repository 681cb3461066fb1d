package xmppconn

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"mellium.im/xmlstream"

	"github.com/xmpp-onboard/onboard/internal/redact"
)

// Tokens returns e as an XML token stream (for mellium's encoder).
func (e *Element) Tokens() xml.TokenReader {
	var toks []xml.Token
	var walk func(*Element)
	walk = func(n *Element) {
		start := xml.StartElement{Name: n.Name, Attr: append([]xml.Attr(nil), n.Attr...)}
		toks = append(toks, start)
		if n.Text != "" {
			toks = append(toks, xml.CharData(n.Text))
		}
		for _, k := range n.Children {
			walk(k)
		}
		toks = append(toks, start.End())
	}
	walk(e)
	i := 0
	return xmlstream.ReaderFunc(func() (xml.Token, error) {
		if i >= len(toks) {
			return nil, io.EOF
		}
		i++
		return toks[i-1], nil
	})
}

// Marshal serialises e. The stream's default namespace is jabber:client, so
// top-level stanzas carry no xmlns attribute.
func (e *Element) Marshal() []byte {
	var b bytes.Buffer
	e.write(&b, NSClient, false, false)
	return b.Bytes()
}

// Redacted serialises e for debug output: every secret replaced by
// redact.Mark — SASL payloads, legacy <password/> and <old_password/>,
// data form fields whose var names a password or whose type is
// text-private, invitation tokens — and every form of the known secrets
// (for example a password a server echoes in an error text).
func (e *Element) Redacted(secrets *redact.Set) []byte {
	var b bytes.Buffer
	e.write(&b, NSClient, true, false)
	return secrets.Bytes(b.Bytes())
}

// SecretText reports whether the character data of e (and of its
// children) is a secret.
func (e *Element) SecretText() bool {
	switch e.Name.Space {
	case NSSASL:
		switch e.Name.Local {
		case "auth", "response", "challenge", "success":
			return true
		}
	case NSSASL2:
		switch e.Name.Local {
		case "initial-response", "response", "challenge", "additional-data":
			return true
		}
	case NSData:
		if e.Name.Local == "field" {
			return SecretField(e.Get("var"), e.Get("type"))
		}
	}
	return IsPasswordName(e.Name.Local)
}

// SecretField reports whether a data form field holds a secret.
func SecretField(v, typ string) bool {
	return typ == "text-private" || IsPasswordName(v)
}

// IsPasswordName reports whether an element or field name names a password.
func IsPasswordName(s string) bool {
	return strings.Contains(strings.ToLower(s), "password")
}

// SecretAttr reports whether attribute a of e is a secret.
func (e *Element) SecretAttr(a xml.Attr) bool {
	return (e.Name.Space == NSPreauth || e.Name.Space == NSFAST) && a.Name.Local == "token"
}

func (e *Element) write(b *bytes.Buffer, parentNS string, redacting, secret bool) {
	b.WriteByte('<')
	b.WriteString(e.Name.Local)
	if e.Name.Space != parentNS {
		b.WriteString(" xmlns='")
		Escape(b, e.Name.Space, true)
		b.WriteByte('\'')
	}
	prefixes := 0
	for _, a := range e.Attr {
		b.WriteByte(' ')
		switch a.Name.Space {
		case "":
		case NSXML, "xml":
			b.WriteString("xml:")
		default:
			p := fmt.Sprintf("a%d", prefixes)
			prefixes++
			b.WriteString("xmlns:" + p + "='")
			Escape(b, a.Name.Space, true)
			b.WriteString("' " + p + ":")
		}
		b.WriteString(a.Name.Local)
		b.WriteString("='")
		if redacting && e.SecretAttr(a) {
			b.WriteString(redact.Mark)
		} else {
			Escape(b, a.Value, true)
		}
		b.WriteByte('\'')
	}
	if e.Text == "" && len(e.Children) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	secret = secret || (redacting && e.SecretText())
	if e.Text != "" {
		if secret {
			b.WriteString(redact.Mark)
		} else {
			Escape(b, e.Text, false)
		}
	}
	for _, k := range e.Children {
		k.write(b, e.Name.Space, redacting, secret)
	}
	b.WriteString("</")
	b.WriteString(e.Name.Local)
	b.WriteByte('>')
}

// Escape writes s with XML escaping (for an attribute value if attr).
// Invalid UTF-8 and characters not allowed in XML are replaced by U+FFFD.
func Escape(b *bytes.Buffer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\'' && attr:
			b.WriteString("&apos;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == '\n' && attr:
			b.WriteString("&#xA;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r == '\t' && attr:
			b.WriteString("&#x9;")
		case !isXMLChar(r) || r == 0xFFFD:
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
}

// redactSet returns the set of secrets (nil for none).
func redactSet(secrets []string) *redact.Set {
	if len(secrets) == 0 {
		return nil
	}
	return redact.New(secrets...)
}
