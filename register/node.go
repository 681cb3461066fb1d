package register

import (
	"github.com/xmpp-onboard/onboard/internal/redact"

	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Namespaces used on the wire.
const (
	nsClient      = "jabber:client"
	nsStream      = "http://etherx.jabber.org/streams"
	nsStreamError = "urn:ietf:params:xml:ns:xmpp-streams"
	nsStanzaError = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsTLS         = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL        = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsXML         = "http://www.w3.org/XML/1998/namespace"
	nsData        = "jabber:x:data"
	nsOOB         = "jabber:x:oob"
	nsBoB         = "urn:xmpp:bob"
	nsMedia       = "urn:xmpp:media-element"
	nsPreauth     = "urn:xmpp:pars:0"
	nsBind        = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSASLCB      = "urn:xmpp:sasl-cb:0"
)

// Default limits for everything read from the server.
const (
	// DefaultMaxStanza is the default for [Dialer.MaxStanza]: the largest
	// top-level element (stanza, features list, SASL message) accepted
	// from a server, in bytes.
	DefaultMaxStanza = 1 << 20
	// MaxBoBSize is the largest decoded Bits of Binary (XEP-0231) payload
	// accepted as a CAPTCHA image, in bytes.
	MaxBoBSize = 64 << 10
	// MaxFields is the largest number of fields (data form fields plus
	// legacy fields) accepted in a registration form.
	MaxFields = 256

	maxDepth    = 32   // element nesting below the stream
	maxNodes    = 8192 // elements in one top-level element
	maxValues   = 256  // values or options per form field
	maxSkipped  = 256  // unrelated elements skipped while waiting for a reply
	redactedStr = redact.Mark
)

// node is one parsed XML element. Character data directly inside the
// element is concatenated in text; the order of text and children is not
// kept (XMPP payloads do not use mixed content).
type node struct {
	name xml.Name
	attr []xml.Attr // namespace declarations removed
	kids []*node
	text string
}

// newNode returns an element; attrs are name, value pairs.
func newNode(space, local string, attrs ...string) *node {
	n := &node{name: xml.Name{Space: space, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		n.attr = append(n.attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return n
}

// add appends children and returns n.
func (n *node) add(kids ...*node) *node {
	for _, k := range kids {
		if k != nil {
			n.kids = append(n.kids, k)
		}
	}
	return n
}

// withText sets the character data and returns n.
func (n *node) withText(s string) *node {
	n.text = s
	return n
}

// is reports whether n has the given name.
func (n *node) is(space, local string) bool {
	return n != nil && n.name.Space == space && n.name.Local == local
}

// get returns the value of the un-namespaced attribute local.
func (n *node) get(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// child returns the first child with the given name, or nil.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.is(space, local) {
			return k
		}
	}
	return nil
}

// limitError is wrapped by every limit violation (see ErrTooLarge).
type limitError struct{ what string }

func (e *limitError) Error() string { return "register: server sent " + e.what }
func (e *limitError) Is(target error) bool {
	return target == ErrTooLarge
}

// byteBudget is an io.ByteReader that fails once more than max bytes have
// been read since the last reset. The XML decoder reads through it one byte
// at a time, so the count is exact (no read-ahead is charged).
type byteBudget struct {
	r   *bufio.Reader
	n   int64
	max int64
	// err is the last error of the transport, so that an error of the
	// decoder can be told from one of the connection under it.
	err error
}

func (b *byteBudget) ReadByte() (byte, error) {
	if b.max > 0 && b.n >= b.max {
		return 0, &limitError{what: fmt.Sprintf("an element larger than %d bytes", b.max)}
	}
	c, err := b.r.ReadByte()
	if err == nil {
		b.n++
	} else {
		b.err = err
	}
	return c, err
}

// fromTransport reports whether err, returned by a decoder reading from
// b, is the transport's (a network error, a deadline, the end of the
// connection) rather than the decoder's own complaint about the XML.
func (b *byteBudget) fromTransport(err error) bool {
	return b.err != nil && errors.Is(err, b.err)
}

func (b *byteBudget) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := b.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// reset starts a new budget.
func (b *byteBudget) reset() { b.n = 0 }

// newDecoder returns a strict XML decoder reading from r.
func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.Strict = true
	return d
}

// readTree reads the rest of the element that begins with start from d and
// returns it as a tree, enforcing the depth and element count limits.
// Comments, processing instructions and directives are refused (RFC 6120
// §11.1 restricts XMPP to a subset of XML).
func readTree(d *xml.Decoder, start xml.StartElement) (*node, error) {
	if err := checkNames(start); err != nil {
		return nil, err
	}
	root := startNode(start)
	stack := []*node{root}
	count := 1
	text := [][]byte{nil}
	for len(stack) > 0 {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxNodes {
				return nil, &limitError{what: fmt.Sprintf("more than %d elements in one stanza", maxNodes)}
			}
			if len(stack) >= maxDepth {
				return nil, &limitError{what: fmt.Sprintf("elements nested deeper than %d", maxDepth)}
			}
			if err := checkNames(t); err != nil {
				return nil, err
			}
			n := startNode(t)
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			top := stack[len(stack)-1]
			top.text = string(text[len(text)-1])
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			text[len(text)-1] = append(text[len(text)-1], t...)
		case xml.Comment:
			return nil, &ProtocolError{Msg: "XML comment in stream"}
		case xml.ProcInst:
			return nil, &ProtocolError{Msg: "XML processing instruction in stream"}
		case xml.Directive:
			return nil, &ProtocolError{Msg: "XML directive in stream"}
		}
	}
	return root, nil
}

// checkNames refuses element and attribute names that are not XML names:
// encoding/xml accepts "<a:0/>" as the element "0", which no XML writer
// (our debug output included) can write back.
func checkNames(t xml.StartElement) error {
	if !xmlName(t.Name.Local) {
		return &ProtocolError{Msg: fmt.Sprintf("invalid element name %q", t.Name.Local)}
	}
	for _, a := range t.Attr {
		if !xmlName(a.Name.Local) {
			return &ProtocolError{Msg: fmt.Sprintf("invalid attribute name %q", a.Name.Local)}
		}
	}
	return nil
}

// xmlName reports whether s is a plausible XML NCName: a letter or '_'
// first, then letters, digits, marks, '.', '-' or '_'.
func xmlName(s string) bool {
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || r == '_':
		case i > 0 && (unicode.IsDigit(r) || unicode.IsMark(r) || r == '.' || r == '-'):
		default:
			return false
		}
	}
	return s != ""
}

// startNode converts a start element, dropping namespace declarations.
func startNode(t xml.StartElement) *node {
	n := &node{name: t.Name}
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		n.attr = append(n.attr, a)
	}
	return n
}

// parseNode parses one element from data (for tests and fuzzing): the
// same limits as on a stream apply, with maxBytes as the size limit.
func parseNode(data []byte, maxBytes int64) (*node, error) {
	bb := &byteBudget{r: bufio.NewReader(bytes.NewReader(data)), max: maxBytes}
	d := newDecoder(bb)
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return readTree(d, t)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, &ProtocolError{Msg: "text outside of an element"}
			}
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, &ProtocolError{Msg: "XML processing instruction in stream"}
			}
		default:
			return nil, &ProtocolError{Msg: fmt.Sprintf("unexpected %T", tok)}
		}
	}
}

// redactRule decides what a debug copy hides.
type redactRule int

const (
	noRedact redactRule = iota
	redactSecrets
)

// marshal serialises n. The stream's default namespace is jabber:client, so
// top-level stanzas carry no xmlns attribute.
func (n *node) marshal() []byte {
	var b bytes.Buffer
	n.write(&b, nsClient, noRedact, false)
	return b.Bytes()
}

// redacted serialises n with every secret replaced by "[redacted]":
// legacy <password/> and <old_password/>, data form fields whose var
// contains "password" or whose type is text-private, all SASL payloads and
// invitation tokens.
func (n *node) redacted() []byte {
	var b bytes.Buffer
	n.write(&b, nsClient, redactSecrets, false)
	return b.Bytes()
}

// redactedWith is redacted with every occurrence of each known secret
// (for example a password a server echoes in an error text) replaced too.
func (n *node) redactedWith(secrets []string) []byte {
	return redact.New(secrets...).Bytes(n.redacted())
}

// secretText reports whether the character data of n (and its children,
// see secretKids) is a secret.
func (n *node) secretText() bool {
	switch n.name.Space {
	case nsSASL:
		switch n.name.Local {
		case "auth", "response", "challenge", "success":
			return true
		}
	case nsData:
		if n.name.Local == "field" {
			return secretField(n.get("var"), n.get("type"))
		}
	}
	if isPasswordName(n.name.Local) {
		return true
	}
	return false
}

// secretField reports whether a data form field holds a secret.
func secretField(v, typ string) bool {
	return typ == string(TextPrivate) || isPasswordName(v)
}

// isPasswordName reports whether an element or field name names a password.
func isPasswordName(s string) bool {
	return strings.Contains(strings.ToLower(s), "password")
}

// secretAttr reports whether attribute a of n is a secret.
func (n *node) secretAttr(a xml.Attr) bool {
	return n.name.Space == nsPreauth && a.Name.Local == "token"
}

func (n *node) write(b *bytes.Buffer, parentNS string, rule redactRule, secret bool) {
	b.WriteByte('<')
	b.WriteString(n.name.Local)
	if n.name.Space != parentNS {
		b.WriteString(" xmlns='")
		escape(b, n.name.Space, true)
		b.WriteByte('\'')
	}
	prefixes := 0
	for _, a := range n.attr {
		b.WriteByte(' ')
		switch a.Name.Space {
		case "":
		case nsXML, "xml":
			b.WriteString("xml:")
		default:
			p := fmt.Sprintf("a%d", prefixes)
			prefixes++
			b.WriteString("xmlns:" + p + "='")
			escape(b, a.Name.Space, true)
			b.WriteString("' " + p + ":")
		}
		b.WriteString(a.Name.Local)
		b.WriteString("='")
		if rule == redactSecrets && n.secretAttr(a) {
			b.WriteString(redactedStr)
		} else {
			escape(b, a.Value, true)
		}
		b.WriteByte('\'')
	}
	if n.text == "" && len(n.kids) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	secret = secret || (rule == redactSecrets && n.secretText())
	if n.text != "" {
		if secret {
			b.WriteString(redactedStr)
		} else {
			escape(b, n.text, false)
		}
	}
	for _, k := range n.kids {
		k.write(b, n.name.Space, rule, secret)
	}
	b.WriteString("</")
	b.WriteString(n.name.Local)
	b.WriteByte('>')
}

// escape writes s with XML escaping. Invalid UTF-8 and characters not
// allowed in XML are replaced by U+FFFD.
func escape(b *bytes.Buffer, s string, attr bool) {
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
		case r == utf8.RuneError || !isXMLChar(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
}

// isXMLChar reports whether r is allowed in XML 1.0 character data.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// validXMLString reports whether s can be sent as XML text unchanged.
func validXMLString(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

// ProtocolError reports a server that broke the XMPP protocol: malformed or
// unexpected XML, a missing reply, or a reply that does not fit the
// request. It matches [ErrProtocol] with errors.Is.
type ProtocolError struct {
	// Msg describes what was wrong; it never contains a password.
	Msg string
	// Err is the underlying error, if any (for example an
	// *xml.SyntaxError).
	Err error
}

// Error returns "register: protocol error: MSG[: ERR]".
func (e *ProtocolError) Error() string {
	if e.Err != nil {
		return "register: protocol error: " + e.Msg + ": " + e.Err.Error()
	}
	return "register: protocol error: " + e.Msg
}

// Unwrap returns the underlying error.
func (e *ProtocolError) Unwrap() error { return e.Err }

// Is reports whether target is ErrProtocol.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }
