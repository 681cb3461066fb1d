package xmppconn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"mellium.im/xmpp/stream"
)

// ErrClosed is matched by the error of a read on a stream the server ended
// (</stream:stream>) or whose connection was cut, also inside an element.
// It wraps io.ErrUnexpectedEOF: a reply that was awaited will not come.
var ErrClosed = fmt.Errorf("the server closed the stream: %w", io.ErrUnexpectedEOF)

// StreamErrorReceived is a <stream:error/> the server sent (decoded by
// StreamError): the stream is over.
type StreamErrorReceived struct{ Err stream.Error }

// Error returns "stream error: CONDITION (TEXT)"; the text is the
// server's, without the secrets (StreamError).
func (e *StreamErrorReceived) Error() string {
	s := "stream error: " + e.Err.Err
	for _, t := range e.Err.Text {
		if t.Value != "" {
			s += " (" + strconv.Quote(t.Value) + ")"
			break
		}
	}
	return s
}

// Unwrap returns the stream error, so that errors.Is matches mellium's
// values (stream.HostUnknown, …).
func (e *StreamErrorReceived) Unwrap() error { return e.Err }

// Header is what the server's stream header said.
type Header struct {
	ID, Version, From string
	// Decls are its namespace declarations (at most 16), for a copy of
	// the header handed to mellium.
	Decls []xml.Attr
}

// Reader reads the server's side of a client stream: the stream header,
// then one top-level element at a time, each under the byte budget and
// the element limits, with every error classified once (ErrProtocol,
// ErrTooLarge, ErrClosed, *StreamErrorReceived, or the transport's own
// error, as it is). The zero value is not usable; see NewReader.
type Reader struct {
	bb  *Budget
	dec *xml.Decoder
	// Debug, if set, receives each element read (redacted with Secrets)
	// and the stream's header and end.
	Debug   func(dir string, xml []byte)
	Secrets func() []string
}

// NewReader reads from r with at most maxElement bytes per top-level
// element (0: no limit).
func NewReader(r io.Reader, maxElement int64) *Reader {
	bb := NewBudget(r, maxElement)
	return &Reader{bb: bb, dec: NewDecoder(bb)}
}

// Restart starts reading a new stream on the same transport (after
// STARTTLS on a new reader, or after SASL success): a new XML decoder;
// bytes already buffered are kept.
func (r *Reader) Restart() { r.dec = NewDecoder(r.bb) }

// Budget returns the byte budget under the decoder.
func (r *Reader) Budget() *Budget { return r.bb }

func (r *Reader) debug(b []byte) {
	if r.Debug != nil {
		r.Debug("in", b)
	}
}

// Classify turns an error of the decoder into the Reader's classes.
func (r *Reader) Classify(err error) error {
	var le *LimitError
	var pe *ProtocolError
	var sr *StreamErrorReceived
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &le), errors.As(err, &pe), errors.As(err, &sr), errors.Is(err, ErrClosed):
		return err
	case errors.As(err, &se) && se.Msg == "unexpected EOF":
		// encoding/xml reports a stream cut inside an element as a
		// syntax error; it is a closed connection, not malformed XML.
		return ErrClosed
	case errors.As(err, &se):
		return &ProtocolError{Msg: "malformed XML", Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrClosed
	case !r.bb.FromTransport(err):
		// encoding/xml's other complaints about the document (an
		// unsupported XML version or encoding) are plain errors.
		return &ProtocolError{Msg: "malformed XML", Err: err}
	}
	return err
}

// Header reads the server's stream header (RFC 6120 §4.7): the stream
// namespace jabber:client and a version 1.x are required.
func (r *Reader) Header() (Header, error) {
	r.bb.Reset()
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return Header{}, r.Classify(err)
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target != "xml" {
				return Header{}, &ProtocolError{Msg: "processing instruction in stream"}
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return Header{}, &ProtocolError{Msg: "text before the stream header"}
			}
		case xml.StartElement:
			if t.Name.Space != NSStream || t.Name.Local != "stream" {
				return Header{}, &ProtocolError{Msg: fmt.Sprintf("expected a stream header, got <%s xmlns='%s'>", Clip(t.Name.Local, 64), Clip(t.Name.Space, 128))}
			}
			var h Header
			var xmlns string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" && len(h.Decls) < 16 {
					h.Decls = append(h.Decls, a)
				}
				if a.Name.Space != "" {
					continue
				}
				switch a.Name.Local {
				case "version":
					h.Version = Clip(a.Value, 16)
				case "id":
					h.ID = Clip(a.Value, 256)
				case "from":
					h.From = Clip(a.Value, 1024)
				case "xmlns":
					xmlns = a.Value
				}
			}
			r.debug(fmt.Appendf(nil, "<stream:stream xmlns='%s' version='%s' id='%s'>", Clip(xmlns, 128), h.Version, h.ID))
			if xmlns != NSClient {
				return Header{}, &ProtocolError{Msg: fmt.Sprintf("stream namespace %q is not jabber:client", Clip(xmlns, 128))}
			}
			if !strings.HasPrefix(h.Version, "1.") {
				return Header{}, &ProtocolError{Msg: fmt.Sprintf("unsupported stream version %q", h.Version)}
			}
			return h, nil
		default:
			return Header{}, &ProtocolError{Msg: fmt.Sprintf("unexpected %T before the stream header", tok)}
		}
	}
}

// Next reads the next top-level element. Whitespace between elements is
// skipped; text, comments and processing instructions at the stream level
// are a ProtocolError; a <stream:error/> is a *StreamErrorReceived and the
// end of the stream ErrClosed.
func (r *Reader) Next() (*Element, error) {
	r.bb.Reset()
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, r.Classify(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, &ProtocolError{Msg: "text at the stream level"}
			}
		case xml.StartElement:
			n, err := ReadTree(r.dec, t)
			if err != nil {
				return nil, r.Classify(err)
			}
			var secrets []string
			if r.Secrets != nil {
				secrets = r.Secrets()
			}
			if r.Debug != nil {
				r.debug(n.Redacted(redactSet(secrets)))
			}
			if n.Is(NSStream, "error") {
				return nil, &StreamErrorReceived{Err: StreamError(n, redactSet(secrets))}
			}
			return n, nil
		case xml.EndElement:
			r.debug([]byte("</stream:stream>"))
			return nil, ErrClosed
		default:
			return nil, &ProtocolError{Msg: fmt.Sprintf("unexpected %T at the stream level", tok)}
		}
	}
}
