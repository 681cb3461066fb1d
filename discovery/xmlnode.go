package discovery

import (
	"errors"
	"fmt"

	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// node is one XML element of a server's reply: the module's one element
// tree (internal/xmppconn), read with its limits.
type node = xmppconn.Element

// errXMLLimits is the error for XML beyond the element limits.
var errXMLLimits = fmt.Errorf("%w: XML nested too deeply or too many elements", ErrTooLarge)

// parseElement decodes the first element of b. It is the entry point for
// tests and fuzzing of the parsers that read server replies.
func parseElement(b []byte) (*node, error) {
	n, err := xmppconn.Parse(b, 0)
	return n, coreErr(err)
}

// coreErr turns the element reader's errors into discovery's: a limit
// into ErrTooLarge, XML the protocol does not allow into ErrProtocol.
func coreErr(err error) error {
	var le *xmppconn.LimitError
	var pe *xmppconn.ProtocolError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le):
		return fmt.Errorf("%w: %s", ErrTooLarge, le.What)
	case errors.As(err, &pe):
		return fmt.Errorf("%w: %s", ErrProtocol, pe.Msg)
	}
	return err
}
