package xmppconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// ErrTLSRefused is matched by the error of [Transport.Proceed] when the
// server answered <starttls/> with <failure/>.
var ErrTLSRefused = errors.New("the server refused STARTTLS")

// Transport is the client's side of one XMPP connection below the
// protocol steps: the TCP connection, the TLS connection once the stream
// is secured (by STARTTLS or from the start), the buffered reader and the
// [Reader] of the server's side over it, and the writer of the client's
// side, which sends a stream header and elements in one write and gives a
// redacted copy to Debug. register (XEP-0077, login) and discovery (the
// probes) both drive their streams through it; what each step means to
// them (their errors, their deadlines) stays theirs.
//
// Set the fields, then call [Transport.Reset] with the connection. A
// Transport is not safe for concurrent use; closing the connection (TCP)
// from another goroutine is.
type Transport struct {
	// Domain is the XMPP domain: the to of the stream headers, and the
	// only from (besides none) accepted on an IQ reply.
	Domain string
	// From, if not empty, is sent as the from of the stream headers on a
	// secured stream only (never before TLS): the account's JID, so that
	// servers offer what they offer only to a known client (XEP-0388).
	From string
	// MaxElement is the largest top-level element read, in bytes; 0: no
	// limit.
	MaxElement int64
	// MaxBytes caps everything read from the connection over its life;
	// 0: no limit.
	MaxBytes int64
	// Debug, if set, receives what is sent ("out") and read ("in"), one
	// element at a time, with every secret replaced (Element.Redacted).
	Debug func(dir string, xml []byte)
	// Secrets returns the values to scrub from Debug output and from the
	// texts of the errors the server sends.
	Secrets func() []string

	tcp   net.Conn
	tls   *tls.Conn
	cur   net.Conn
	total *totalLimit
	br    *bufio.Reader
	rd    *Reader
}

// totalLimit fails once more than left bytes have been read.
type totalLimit struct {
	r    io.Reader
	left int64 // < 0: no limit
}

func (t *totalLimit) Read(p []byte) (int, error) {
	if t.left < 0 {
		return t.r.Read(p)
	}
	if t.left == 0 {
		return 0, &LimitError{What: "more data on the connection than the read limit"}
	}
	if int64(len(p)) > t.left {
		p = p[:t.left]
	}
	n, err := t.r.Read(p)
	t.left -= int64(n)
	return n, err
}

// Reset starts a new stream on nc: the first call gives the Transport its
// connection (a *tls.Conn counts as secured, for direct TLS), later ones
// the TLS connection after a handshake. Bytes buffered from the old
// connection are dropped.
func (t *Transport) Reset(nc net.Conn) {
	if t.tcp == nil {
		t.tcp = nc
		left := t.MaxBytes
		if left <= 0 {
			left = -1
		}
		t.total = &totalLimit{left: left}
	}
	if tc, ok := nc.(*tls.Conn); ok {
		t.tls = tc
	}
	t.cur = nc
	t.total.r = nc
	t.br = bufio.NewReaderSize(t.total, 4096)
	t.rd = NewReader(t.br, t.MaxElement)
	t.rd.Debug = t.Debug
	t.rd.Secrets = t.Secrets
}

// Restart reads a new stream on the same connection (after SASL):
// buffered bytes are kept.
func (t *Transport) Restart() { t.rd.Restart() }

// TCP returns the connection the Transport was given first (for direct
// TLS, the *tls.Conn).
func (t *Transport) TCP() net.Conn { return t.tcp }

// TLS returns the TLS connection, nil before TLS.
func (t *Transport) TLS() *tls.Conn { return t.tls }

// Conn returns what is read and written now.
func (t *Transport) Conn() net.Conn { return t.cur }

// Buffered returns the reader over the connection, for a look at what the
// server sent but nobody read yet (and the hand-off to a session).
func (t *Transport) Buffered() *bufio.Reader { return t.br }

// Reader returns the reader of the server's side of the current stream.
func (t *Transport) Reader() *Reader { return t.rd }

// Secure reports whether the stream runs over TLS.
func (t *Transport) Secure() bool { return t.tls != nil && t.cur == net.Conn(t.tls) }

// Header returns the client's stream header for Domain (with From on a
// secured stream).
func (t *Transport) Header() string {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?><stream:stream xmlns='" + NSClient + "' xmlns:stream='" + NSStream + "' version='1.0' xml:lang='en' to='")
	Escape(&b, t.Domain, true)
	b.WriteByte('\'')
	if t.From != "" && t.Secure() {
		b.WriteString(" from='")
		Escape(&b, t.From, true)
		b.WriteByte('\'')
	}
	b.WriteByte('>')
	return b.String()
}

// Send writes, in one write, the stream header if header is true and then
// els: they leave in the same flight, without waiting for a reply. The
// error is the connection's.
func (t *Transport) Send(header bool, els ...*Element) error {
	var buf bytes.Buffer
	if header {
		h := t.Header()
		buf.WriteString(h)
		t.debug([]byte(h))
	}
	for _, e := range els {
		buf.Write(e.Marshal())
		if t.Debug != nil {
			t.debug(e.Redacted(redactSet(t.secrets())))
		}
	}
	_, err := t.cur.Write(buf.Bytes())
	return err
}

func (t *Transport) secrets() []string {
	if t.Secrets == nil {
		return nil
	}
	return t.Secrets()
}

func (t *Transport) debug(b []byte) {
	if t.Debug != nil {
		t.Debug("out", b)
	}
}

// Next reads the next top-level element ([Reader.Next]).
func (t *Transport) Next() (*Element, error) { return t.rd.Next() }

// Open sends a stream header followed in the same write by extra
// (requests pipelined with it) and reads the server's header and its
// <stream:features/>.
func (t *Transport) Open(extra ...*Element) (Header, *Element, error) {
	if err := t.Send(true, extra...); err != nil {
		return Header{}, nil, err
	}
	return t.ReadOpen()
}

// ReadOpen reads the server's stream header and its <stream:features/>.
func (t *Transport) ReadOpen() (Header, *Element, error) {
	h, err := t.rd.Header()
	if err != nil {
		return Header{}, nil, err
	}
	n, err := t.rd.Next()
	if err != nil {
		return h, nil, err
	}
	if !n.Is(NSStream, "features") {
		return h, nil, &ProtocolError{Msg: fmt.Sprintf("expected <stream:features/>, got <%s xmlns='%s'>", Clip(n.Name.Local, 64), Clip(n.Name.Space, 128))}
	}
	return h, n, nil
}

// StartTLS returns the <starttls/> request.
func StartTLS() *Element { return New(NSTLS, "starttls") }

// Proceed reads the answer to <starttls/>: nil for <proceed/>, an error
// matching ErrTLSRefused for <failure/>, a *ProtocolError for anything
// else, and for data sent after <proceed/> before the TLS handshake (it
// cannot be trusted: STARTTLS command injection).
func (t *Transport) Proceed() error {
	n, err := t.rd.Next()
	if err != nil {
		return err
	}
	switch {
	case n.Is(NSTLS, "proceed"):
	case n.Is(NSTLS, "failure"):
		return ErrTLSRefused
	default:
		return &ProtocolError{Msg: fmt.Sprintf("expected <proceed/>, got <%s xmlns='%s'>", Clip(n.Name.Local, 64), Clip(n.Name.Space, 128))}
	}
	if t.br.Buffered() > 0 {
		return &ProtocolError{Msg: "the server sent data after <proceed/> before TLS"}
	}
	return nil
}

// Handshake runs the TLS client handshake over the TCP connection (after
// <proceed/>) and starts a new stream on it. The error is the handshake's
// (a *tls.CertificateVerificationError for a certificate not valid for
// cfg.ServerName).
func (t *Transport) Handshake(ctx context.Context, cfg *tls.Config) error {
	tc := tls.Client(t.tcp, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	t.Reset(tc)
	return nil
}

// Guard applies ctx to the connection: its deadline, and a deadline in the
// past when ctx is cancelled, so that blocked reads and writes return.
// Call the returned function when the step is done; it clears the
// deadline.
func (t *Transport) Guard(ctx context.Context) func() {
	nc := t.cur
	if d, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	return func() {
		if stop() {
			_ = nc.SetDeadline(time.Time{})
		}
	}
}

// CtxErr prefers the context's error over the I/O error it caused (a
// deadline set from ctx, a cancelled step).
func CtxErr(ctx context.Context, err error) error {
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

// Close ends the stream politely, without waiting for the server, and
// closes the connection.
func (t *Transport) Close() {
	if t == nil || t.tcp == nil {
		return
	}
	_ = t.tcp.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	_, _ = io.WriteString(t.cur, "</stream:stream>")
	_ = t.tcp.Close()
}

// IQ returns an IQ stanza of type typ ("get" or "set") with payload; to
// may be empty (the server).
func IQ(typ, id, to string, payload ...*Element) *Element {
	return New(NSClient, "iq", "type", typ, "id", id, "to", to).Add(payload...)
}

// Reply reports whether n can be the answer to an IQ the client sent to
// to on a stream with the server of domain: an IQ of type result or error
// with no from or from to, or, when to is empty or domain (the server),
// from domain or from a bare JID of domain (RFC 6120 §10.3.3: the server
// answers on behalf of the account). It returns the id.
func Reply(n *Element, domain, to string) (id string, ok bool) {
	if !n.Is(NSClient, "iq") {
		return "", false
	}
	switch n.Get("type") {
	case "result", "error":
	default:
		return "", false
	}
	from := n.Get("from")
	if strings.EqualFold(to, domain) {
		to = ""
	}
	switch {
	case from == "":
		// Only the server sends what carries no from; other entities'
		// stanzas are stamped with theirs.
	case to != "":
		if !strings.EqualFold(from, to) {
			return "", false
		}
	case strings.EqualFold(from, domain):
	default:
		at := strings.LastIndexByte(from, '@')
		if at < 0 || strings.ContainsRune(from, '/') || !strings.EqualFold(from[at+1:], domain) {
			return "", false
		}
	}
	return n.Get("id"), true
}

// Timeout is the module's timeout convention for a configured value v:
// zero means def, a negative value no limit but the context's (returned
// as 0).
func Timeout(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// WithTimeout applies the timeout d (0: none) to ctx.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
