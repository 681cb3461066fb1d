package xmppconn

import (
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
	NSClient      = "jabber:client"
	NSStream      = "http://etherx.jabber.org/streams"
	NSStreamError = "urn:ietf:params:xml:ns:xmpp-streams"
	NSStanzaError = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSTLS         = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL        = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind        = "urn:ietf:params:xml:ns:xmpp-bind"
	NSXML         = "http://www.w3.org/XML/1998/namespace"
	NSRegister    = "jabber:iq:register"
	NSPreauth     = "urn:xmpp:pars:0"
)

// Limits of one top-level element.
const (
	// MaxDepth is the deepest nesting accepted below a top-level
	// element.
	MaxDepth = 32
	// MaxElements is the largest number of elements in one top-level
	// element.
	MaxElements = 8192
)

// ErrProtocol is matched by every error for XML that breaks the protocol
// (see ProtocolError), and ErrTooLarge by every limit violation.
var (
	ErrProtocol = errors.New("protocol error")
	ErrTooLarge = errors.New("server data exceeds limits")
)

// ProtocolError is XML the protocol does not allow: a syntax error, a
// comment, an invalid name, text at the stream level. Msg never quotes
// more than a name.
type ProtocolError struct {
	Msg string
	Err error
}

func (e *ProtocolError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the underlying error.
func (e *ProtocolError) Unwrap() error { return e.Err }

// Is reports whether target is ErrProtocol.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// LimitError is a limit violation: What says which.
type LimitError struct{ What string }

func (e *LimitError) Error() string { return "server sent " + e.What }

// Is reports whether target is ErrTooLarge.
func (e *LimitError) Is(target error) bool { return target == ErrTooLarge }

// Element is one parsed XML element. Character data directly inside the
// element is concatenated in Text; the order of text and children is not
// kept (XMPP payloads do not use mixed content). Attr holds no namespace
// declarations.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*Element
	Text     string
}

// New returns an element; attrs are name, value pairs (pairs with an
// empty value are left out).
func New(space, local string, attrs ...string) *Element {
	e := &Element{Name: xml.Name{Space: space, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return e
}

// Add appends children (nil ones are skipped) and returns e.
func (e *Element) Add(kids ...*Element) *Element {
	for _, k := range kids {
		if k != nil {
			e.Children = append(e.Children, k)
		}
	}
	return e
}

// WithText sets the character data and returns e.
func (e *Element) WithText(s string) *Element {
	e.Text = s
	return e
}

// Is reports whether e is not nil and has the given name.
func (e *Element) Is(space, local string) bool {
	return e != nil && e.Name.Space == space && e.Name.Local == local
}

// Get returns the value of the attribute local in no namespace.
func (e *Element) Get(local string) string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// Lang returns the xml:lang attribute.
func (e *Element) Lang() string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attr {
		if a.Name.Local == "lang" && (a.Name.Space == NSXML || a.Name.Space == "xml") {
			return a.Value
		}
	}
	return ""
}

// Child returns the first child with the given name, or nil; an empty
// space matches any namespace.
func (e *Element) Child(space, local string) *Element {
	if e == nil {
		return nil
	}
	for _, k := range e.Children {
		if k.Name.Local == local && (space == "" || k.Name.Space == space) {
			return k
		}
	}
	return nil
}

// All returns the children with the given name; an empty space matches
// any namespace.
func (e *Element) All(space, local string) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	for _, k := range e.Children {
		if k.Name.Local == local && (space == "" || k.Name.Space == space) {
			out = append(out, k)
		}
	}
	return out
}

// TrimmedText returns the character data without surrounding space; ""
// for a nil element.
func (e *Element) TrimmedText() string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text)
}

// Budget is the byte reader under the XML decoder: it fails once more
// than Max bytes have been read since the last Reset (Max 0: no limit),
// and remembers the last error of the transport, so that an error of the
// decoder can be told from one of the connection. The decoder reads one
// byte at a time through it, so the count is exact.
type Budget struct {
	r   *bufio.Reader
	n   int64
	Max int64
	err error
}

// NewBudget returns a budget of max bytes per element over r.
func NewBudget(r io.Reader, max int64) *Budget {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &Budget{r: br, Max: max}
}

// ReadByte implements io.ByteReader.
func (b *Budget) ReadByte() (byte, error) {
	if b.Max > 0 && b.n >= b.Max {
		return 0, &LimitError{What: fmt.Sprintf("an element larger than %d bytes", b.Max)}
	}
	c, err := b.r.ReadByte()
	if err == nil {
		b.n++
	} else {
		b.err = err
	}
	return c, err
}

// Read implements io.Reader, one byte at a time.
func (b *Budget) Read(p []byte) (int, error) {
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

// Reset starts a new budget.
func (b *Budget) Reset() { b.n = 0 }

// Buffered returns the bytes read from the transport but not yet by the
// decoder.
func (b *Budget) Buffered() int { return b.r.Buffered() }

// FromTransport reports whether err, returned by a decoder reading from
// b, is the transport's (a network error, a deadline, the end of the
// connection) rather than the decoder's own complaint about the XML.
func (b *Budget) FromTransport(err error) bool {
	return b.err != nil && errors.Is(err, b.err)
}

// NewDecoder returns a strict XML decoder reading from r.
func NewDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.Strict = true
	return d
}

// ReadTree reads the rest of the element that begins with start from d and
// returns it as a tree, enforcing MaxDepth and MaxElements. Comments,
// processing instructions and directives are refused (RFC 6120 §11.1
// restricts XMPP to a subset of XML), and so are names that are not XML
// names.
func ReadTree(d *xml.Decoder, start xml.StartElement) (*Element, error) {
	if err := checkNames(start); err != nil {
		return nil, err
	}
	root := startElement(start)
	stack := []*Element{root}
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
			if count > MaxElements {
				return nil, &LimitError{What: fmt.Sprintf("more than %d elements in one stanza", MaxElements)}
			}
			if len(stack) >= MaxDepth {
				return nil, &LimitError{What: fmt.Sprintf("elements nested deeper than %d", MaxDepth)}
			}
			if err := checkNames(t); err != nil {
				return nil, err
			}
			n := startElement(t)
			top := stack[len(stack)-1]
			top.Children = append(top.Children, n)
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			top := stack[len(stack)-1]
			top.Text = string(text[len(text)-1])
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

// startElement converts a start element, dropping namespace declarations.
func startElement(t xml.StartElement) *Element {
	n := &Element{Name: t.Name}
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		n.Attr = append(n.Attr, a)
	}
	return n
}

// Parse parses one element from data, with the limits of a stream and
// maxBytes as the size limit (0: none). It is the entry point for tests
// and fuzzing of the parsers that read server replies.
func Parse(data []byte, maxBytes int64) (*Element, error) {
	d := NewDecoder(NewBudget(bytes.NewReader(data), maxBytes))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return ReadTree(d, t)
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

// ValidString reports whether s can be sent as XML text unchanged.
func ValidString(s string) bool {
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

// isXMLChar reports whether r is allowed in XML 1.0 character data.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
