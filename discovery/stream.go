package discovery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// xstream is a minimal, read-mostly XMPP client stream over the module's
// one transport (xmppconn.Transport): it opens streams, reads features,
// upgrades with STARTTLS, sends IQ gets and logs in. It sends nothing but
// stream headers, <starttls/>, IQ gets, and (with an account, on a
// verified TLS stream only) SASL and resource binding. It never registers.
type xstream struct {
	t      xmppconn.Transport
	from   string // from attribute of the last stream header
	idBase string
	seq    int
	broken error // set when a read or write failed; the stream is unusable
}

// newStream starts a stream on conn; maxBytes caps what is read from the
// connection over its life.
func newStream(conn net.Conn, domain string, maxBytes int64) *xstream {
	var id [6]byte
	_, _ = rand.Read(id[:])
	s := &xstream{idBase: hex.EncodeToString(id[:])}
	s.t.Domain = domain
	s.t.MaxBytes = maxBytes
	s.t.Reset(conn)
	return s
}

// ctxErr prefers the context's error over the I/O error it caused.
func ctxErr(ctx context.Context, err error) error { return xmppconn.CtxErr(ctx, err) }

// send writes elements in one write (with a stream header first if
// header).
func (s *xstream) send(ctx context.Context, header bool, els ...*node) error {
	defer s.t.Guard(ctx)()
	return ctxErr(ctx, s.t.Send(header, els...))
}

// Next reads the next top-level element (xmppconn.Stream).
func (s *xstream) Next(ctx context.Context) (*node, error) { return s.next(ctx) }

// Send writes one element (xmppconn.Stream).
func (s *xstream) Send(ctx context.Context, e *node) error { return s.send(ctx, false, e) }

// nextID returns a fresh IQ id; ids are random per stream.
func (s *xstream) nextID() string {
	s.seq++
	return fmt.Sprintf("%s-%d", s.idBase, s.seq)
}

// escape returns s escaped for use in an attribute or text
// (xmppconn.Escape).
func escape(s string) string {
	var b bytes.Buffer
	xmppconn.Escape(&b, s, true)
	return b.String()
}

// open sends a stream header and reads the server's header and features.
func (s *xstream) open(ctx context.Context) (*Features, error) {
	defer s.t.Guard(ctx)()
	if err := s.t.Send(true); err != nil {
		return nil, ctxErr(ctx, err)
	}
	h, n, err := s.t.ReadOpen()
	s.from = clipString(h.From)
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	return parseFeatures(n), nil
}

// readErr turns an error of the stream reader into discovery's: the end
// of the stream or a cut connection is ErrStreamClosed, bad XML
// ErrProtocol, a limit ErrTooLarge, a stream error a *StreamError; a
// transport error is the context's when the context ended it.
func (s *xstream) readErr(ctx context.Context, err error) error {
	var sr *xmppconn.StreamErrorReceived
	switch {
	case errors.As(err, &sr):
		return &StreamError{Err: sr.Err}
	case errors.Is(err, xmppconn.ErrClosed):
		return ErrStreamClosed
	case errors.Is(err, xmppconn.ErrProtocol), errors.Is(err, xmppconn.ErrTooLarge):
		return coreErr(err)
	}
	return ctxErr(ctx, err)
}

// next reads the next top-level element of the stream.
func (s *xstream) next(ctx context.Context) (*node, error) {
	defer s.t.Guard(ctx)()
	n, err := s.t.Next()
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	return n, nil
}

// startTLS negotiates STARTTLS and performs the TLS handshake.
func (s *xstream) startTLS(ctx context.Context, cfg *tls.Config) error {
	defer s.t.Guard(ctx)()
	if err := s.t.Send(false, xmppconn.StartTLS()); err != nil {
		return ctxErr(ctx, err)
	}
	if err := s.t.Proceed(); err != nil {
		if errors.Is(err, xmppconn.ErrTLSRefused) {
			return fmt.Errorf("%w: server answered <failure/> to <starttls/>", ErrProtocol)
		}
		return s.readErr(ctx, err)
	}
	return s.handshakeLocked(ctx, cfg)
}

// handshake runs a TLS client handshake on the connection (direct TLS).
func (s *xstream) handshake(ctx context.Context, cfg *tls.Config) error {
	defer s.t.Guard(ctx)()
	return s.handshakeLocked(ctx, cfg)
}

func (s *xstream) handshakeLocked(ctx context.Context, cfg *tls.Config) error {
	return ctxErr(ctx, s.t.Handshake(ctx, cfg))
}

// restart starts reading a new stream on the same connection (after SASL).
func (s *xstream) restart() { s.t.Restart() }

// close ends the stream politely and closes the connection without waiting
// for the server.
func (s *xstream) close() {
	if s == nil {
		return
	}
	s.t.Close()
}

// iqRequest is one IQ to send.
type iqRequest struct {
	name    string // what is asked, for errors ("disco#info")
	typ     string // "get" or "set"
	to      string // "" for the server
	payload *node
}

// iqResult is the answer to one iqRequest.
type iqResult struct {
	payload *node // first child of a result, or nil
	lang    string
	err     error
	took    time.Duration
}

// exchange sends all requests at once and reads the replies, so that the
// batch costs one round trip. A stream failure fails the unanswered ones.
func (s *xstream) exchange(ctx context.Context, reqs []iqRequest) []iqResult {
	res := make([]iqResult, len(reqs))
	if len(reqs) == 0 {
		return res
	}
	ids := make(map[string]int, len(reqs))
	els := make([]*node, len(reqs))
	for i, r := range reqs {
		id := s.nextID()
		ids[id] = i
		typ := r.typ
		if typ == "" {
			typ = "get"
		}
		els[i] = xmppconn.IQ(typ, id, r.to, r.payload)
	}
	t0 := time.Now()
	err := s.send(ctx, false, els...)
	for err == nil && len(ids) > 0 {
		var n *node
		n, err = s.next(ctx)
		if err != nil {
			break
		}
		i, ok := ids[n.Get("id")]
		if !ok {
			continue // messages, presences, replies to nothing asked
		}
		if _, reply := xmppconn.Reply(n, s.t.Domain, reqs[i].to); !reply {
			continue
		}
		delete(ids, n.Get("id"))
		r := &res[i]
		r.took = time.Since(t0)
		r.lang = n.Lang()
		switch n.Get("type") {
		case "result":
			if len(n.Children) > 0 {
				r.payload = n.Children[0]
			}
		case "error":
			r.err = &IQError{Query: reqs[i].name, Err: parseStanzaError(n)}
		}
	}
	if err != nil {
		s.broken = err
	}
	for _, i := range ids {
		res[i].err = err
		res[i].took = time.Since(t0)
	}
	return res
}
