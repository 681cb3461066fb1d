package register

import (
	"errors"

	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// Namespaces used on the wire.
const (
	nsClient      = xmppconn.NSClient
	nsStream      = xmppconn.NSStream
	nsStreamError = xmppconn.NSStreamError
	nsStanzaError = xmppconn.NSStanzaError
	nsTLS         = xmppconn.NSTLS
	nsSASL        = xmppconn.NSSASL
	nsXML         = xmppconn.NSXML
	nsData        = xmppconn.NSData
	nsOOB         = "jabber:x:oob"
	nsBoB         = "urn:xmpp:bob"
	nsPreauth     = xmppconn.NSPreauth
	nsBind        = xmppconn.NSBind
	nsSASLCB      = xmppconn.NSChannelBinding
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

	maxValues   = 256 // values or options per form field
	maxSkipped  = 256 // unrelated elements skipped while waiting for a reply
	redactedStr = redact.Mark
)

// node is one parsed XML element (the module's one element tree).
type node = xmppconn.Element

// newNode returns an element; attrs are name, value pairs.
func newNode(space, local string, attrs ...string) *node { return xmppconn.New(space, local, attrs...) }

// limitError is wrapped by every limit violation (see ErrTooLarge).
type limitError struct{ what string }

func (e *limitError) Error() string { return "register: server sent " + e.what }
func (e *limitError) Is(target error) bool {
	return target == ErrTooLarge
}

// parseNode parses one element from data (for tests and fuzzing): the
// same limits as on a stream apply, with maxBytes as the size limit.
func parseNode(data []byte, maxBytes int64) (*node, error) {
	n, err := xmppconn.Parse(data, maxBytes)
	if err != nil {
		return nil, fromCore(err)
	}
	return n, nil
}

// fromCore turns the element reader's own errors into register's: a
// limit into a limitError (ErrTooLarge), bad XML into a ProtocolError
// (ErrProtocol); others are returned as they are.
func fromCore(err error) error {
	var le *xmppconn.LimitError
	var pe *xmppconn.ProtocolError
	switch {
	case errors.As(err, &le):
		return &limitError{what: le.What}
	case errors.As(err, &pe):
		return &ProtocolError{Msg: pe.Msg, Err: pe.Err}
	}
	return err
}

// redactedWith serialises n for debug output, with every secret and every
// form of the known secrets replaced.
func redactedWith(n *node, secrets []string) []byte {
	return n.Redacted(redact.New(secrets...))
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
