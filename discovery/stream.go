package discovery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"io"
	"net"
	"strings"
	"time"
)

// xstream is a minimal, read-mostly XMPP client stream: it opens streams,
// reads features, upgrades with STARTTLS, sends IQ gets and logs in. It sends
// nothing but stream headers, <starttls/>, IQ gets, and (with an account, on
// a verified TLS stream only) SASL and resource binding. It never registers.
type xstream struct {
	raw    net.Conn // the TCP connection
	conn   net.Conn // raw, or the TLS connection over it
	tls    *tls.Conn
	budget *budgetReader    // bytes of the whole stream
	rd     *xmppconn.Reader // the server's side, over budget
	domain string
	from   string // from attribute of the last stream header
	idBase string
	seq    int
	broken error // set when a read or write failed; the stream is unusable
}

// budgetReader fails once more than left bytes have been read.
type budgetReader struct {
	r    io.Reader
	left int64
	// err is the last error of the transport, so that an error of the
	// decoder can be told from one of the connection under it.
	err error
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("%w: stream exceeds the read limit", ErrTooLarge)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err != nil {
		b.err = err
	}
	return n, err
}

func newStream(conn net.Conn, domain string, maxBytes int64) *xstream {
	var id [6]byte
	_, _ = rand.Read(id[:])
	s := &xstream{raw: conn, conn: conn, domain: domain, idBase: hex.EncodeToString(id[:])}
	s.budget = &budgetReader{r: conn, left: maxBytes}
	s.rd = xmppconn.NewReader(s.budget, 0)
	return s
}

// guard applies ctx to the connection: its deadline, and an immediate
// deadline when ctx is cancelled, so that blocked reads and writes return.
// Call the returned function when the operation is done.
func (s *xstream) guard(ctx context.Context) func() {
	if d, ok := ctx.Deadline(); ok {
		_ = s.raw.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.raw.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }
}

// ctxErr prefers the context's error over the I/O error it caused.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	if c := context.Cause(ctx); c != nil && (timeout || errors.Is(err, net.ErrClosed)) {
		return c
	}
	// The connection deadline is the context's; it may fire a moment
	// before the context reports it.
	if d, ok := ctx.Deadline(); ok && timeout && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return err
}

func (s *xstream) write(ctx context.Context, data string) error {
	defer s.guard(ctx)()
	_, err := io.WriteString(s.conn, data)
	return ctxErr(ctx, err)
}

// nextID returns a fresh IQ id; ids are random per stream.
// Next reads the next top-level element (xmppconn.Stream).
func (s *xstream) Next(ctx context.Context) (*node, error) { return s.next(ctx) }

// Send writes one element (xmppconn.Stream).
func (s *xstream) Send(ctx context.Context, e *node) error { return s.write(ctx, string(e.Marshal())) }

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
	hdr := "<?xml version='1.0'?><stream:stream to='" + escape(s.domain) +
		"' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='" + nsStreams + "'>"
	if err := s.write(ctx, hdr); err != nil {
		return nil, err
	}
	defer s.guard(ctx)()
	h, err := s.rd.Header()
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	s.from = clipString(h.From)
	n, err := s.nextLocked(ctx)
	if err != nil {
		return nil, err
	}
	if !n.Is(nsStreams, "features") {
		return nil, fmt.Errorf("%w: expected stream features, got <%s>", ErrProtocol, n.Name.Local)
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
	case errors.Is(err, ErrTooLarge):
		return err
	case errors.Is(err, xmppconn.ErrProtocol), errors.Is(err, xmppconn.ErrTooLarge):
		return coreErr(err)
	}
	return ctxErr(ctx, err)
}

// next reads the next top-level element of the stream.
func (s *xstream) next(ctx context.Context) (*node, error) {
	defer s.guard(ctx)()
	return s.nextLocked(ctx)
}

func (s *xstream) nextLocked(ctx context.Context) (*node, error) {
	n, err := s.rd.Next()
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	return n, nil
}

// startTLS negotiates STARTTLS and performs the TLS handshake.
func (s *xstream) startTLS(ctx context.Context, cfg *tls.Config) error {
	if err := s.write(ctx, "<starttls xmlns='"+nsTLS+"'/>"); err != nil {
		return err
	}
	n, err := s.next(ctx)
	if err != nil {
		return err
	}
	switch {
	case n.Is(nsTLS, "proceed"):
	case n.Is(nsTLS, "failure"):
		return fmt.Errorf("%w: server answered <failure/> to <starttls/>", ErrProtocol)
	default:
		return fmt.Errorf("%w: expected <proceed/>, got <%s>", ErrProtocol, n.Name.Local)
	}
	return s.handshake(ctx, cfg)
}

// handshake runs a TLS client handshake on the raw connection and resets
// the XML decoder to read from TLS.
func (s *xstream) handshake(ctx context.Context, cfg *tls.Config) error {
	defer s.guard(ctx)()
	tc := tls.Client(s.raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return ctxErr(ctx, err)
	}
	s.tls, s.conn = tc, tc
	s.restart()
	return nil
}

// restart makes a new decoder for a new stream on the same transport.
func (s *xstream) restart() {
	s.budget.r = s.conn
	s.rd = xmppconn.NewReader(s.budget, 0)
}

// close ends the stream politely and closes the connection without waiting
// for the server.
func (s *xstream) close() {
	if s == nil {
		return
	}
	_ = s.raw.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	_, _ = io.WriteString(s.conn, "</stream:stream>")
	_ = s.raw.Close()
}

// iqRequest is one IQ to send; payload is trusted XML built by the prober.
type iqRequest struct {
	name    string // what is asked, for errors ("disco#info")
	typ     string // "get" or "set"
	to      string // "" for the server
	payload string
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
	var b strings.Builder
	for i, r := range reqs {
		id := s.nextID()
		ids[id] = i
		typ := r.typ
		if typ == "" {
			typ = "get"
		}
		b.WriteString("<iq type='" + typ + "' id='" + id + "'")
		if r.to != "" {
			b.WriteString(" to='" + escape(r.to) + "'")
		}
		b.WriteString(">" + r.payload + "</iq>")
	}
	t0 := time.Now()
	err := s.write(ctx, b.String())
	for err == nil && len(ids) > 0 {
		var n *node
		n, err = s.next(ctx)
		if err != nil {
			break
		}
		if !n.Is(nsClient, "iq") {
			continue // messages, presences: not for us
		}
		i, ok := ids[n.Get("id")]
		if !ok {
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
		default:
			r.err = fmt.Errorf("%w: %s: reply of type %q", ErrProtocol, reqs[i].name, n.Get("type"))
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
