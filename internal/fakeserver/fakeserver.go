package fakeserver

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/sasl"

	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// Namespaces.
const (
	NSStream = "http://etherx.jabber.org/streams"
	NSTLS    = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL   = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind   = "urn:ietf:params:xml:ns:xmpp-bind"
)

// Features to pass to [Stream.Negotiate] (concatenate them).
const (
	// FeatureRegister advertises in-band registration (XEP-0077).
	FeatureRegister = `<register xmlns='http://jabber.org/features/iq-register'/>`
	// FeatureIBRToken advertises XEP-0445 invitation tokens.
	FeatureIBRToken = `<register xmlns='urn:xmpp:ibr-token:0'/>`
	// FeatureStartTLS offers STARTTLS (Negotiate adds it by itself).
	FeatureStartTLS = `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>`
)

// Mechanisms returns a SASL mechanisms feature.
func Mechanisms(names ...string) string {
	var b strings.Builder
	b.WriteString(`<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>`)
	for _, n := range names {
		b.WriteString("<mechanism>" + n + "</mechanism>")
	}
	b.WriteString(`</mechanisms>`)
	return b.String()
}

// Config configures a fake server.
type Config struct {
	// Domain is the XMPP domain; default "localhost".
	Domain string
	// CertNames are the DNS names in the server certificate; default
	// {Domain}. Use another name to test certificate verification.
	CertNames []string
	// DirectTLS makes the listener speak TLS from the first byte
	// (XEP-0368); Negotiate then skips STARTTLS.
	DirectTLS bool
	// Handler runs for each connection.
	Handler func(*Stream) error
}

// Server is a running fake server.
type Server struct {
	// Domain is the XMPP domain.
	Domain string
	// Addr is the listener address, "127.0.0.1:port".
	Addr string
	// Roots holds the certificate authority that signed the certificate.
	Roots *x509.CertPool
	// CA is that authority's certificate (for a pool shared by several
	// servers).
	CA *x509.Certificate

	cfg     Config
	cert    tls.Certificate
	ln      net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	streams []*Stream
	errs    []error
	closed  bool
}

// Start starts a server and registers its shutdown with tb.Cleanup.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if len(cfg.CertNames) == 0 {
		cfg.CertNames = []string{cfg.Domain}
	}
	if cfg.Handler == nil {
		tb.Fatalf("fakeserver: Config.Handler is nil")
	}
	roots, cert, err := newCert(cfg.CertNames)
	if err != nil {
		tb.Fatalf("fakeserver: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fakeserver: %v", err)
	}
	ca, err := x509.ParseCertificate(cert.Certificate[len(cert.Certificate)-1])
	if err != nil {
		tb.Fatalf("fakeserver: %v", err)
	}
	s := &Server{Domain: cfg.Domain, Addr: ln.Addr().String(), Roots: roots, CA: ca, cfg: cfg, cert: cert, ln: ln}
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.Close)
	return s
}

// TLSConfig returns a client configuration trusting only the server's CA,
// with ServerName set to Domain.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.Roots, ServerName: s.Domain, MinVersion: tls.VersionTLS12}
}

// Accepted returns the number of connections accepted so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// Transcripts returns, per connection in accept order, everything the
// client has sent so far (decrypted after TLS).
func (s *Server) Transcripts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.streams))
	for i, st := range s.streams {
		out[i] = st.Transcript()
	}
	return out
}

// Errors returns the errors handlers returned, except those caused by the
// client ending the connection.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Close stops the server, closes all connections and waits for the
// handlers. It is called automatically at the end of the test.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.ln.Close()
	for _, st := range s.streams {
		st.raw.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		st := &Stream{Server: s, N: len(s.streams), raw: c, done: make(chan struct{})}
		s.streams = append(s.streams, st)
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(st)
	}
}

func (s *Server) serve(st *Stream) {
	defer s.wg.Done()
	defer st.raw.Close()
	defer close(st.done)
	if s.cfg.DirectTLS {
		tc := tls.Server(st.raw, &tls.Config{Certificates: []tls.Certificate{s.cert}, NextProtos: []string{"xmpp-client"}})
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			st.record(err)
			return
		}
		tc.SetDeadline(time.Time{})
		st.setConn(tc)
		st.secure = true
	} else {
		st.setConn(st.raw)
	}
	st.record(s.cfg.Handler(st))
}

// Stream is the server side of one client connection.
type Stream struct {
	// Server is the server that accepted the connection.
	Server *Server
	// N is the connection's index, 0 for the first.
	N int

	raw    net.Conn
	conn   net.Conn
	br     *bufio.Reader
	dec    *xml.Decoder
	secure bool
	done   chan struct{}

	tmu        sync.Mutex
	transcript bytes.Buffer
}

// record keeps a handler error unless the client simply went away.
func (st *Stream) record(err error) {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, errClientClosed) {
		return
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return
	}
	st.Server.mu.Lock()
	st.Server.errs = append(st.Server.errs, fmt.Errorf("connection %d: %w", st.N, err))
	st.Server.mu.Unlock()
}

// teeReader copies what the client sends into the transcript.
type teeReader struct{ st *Stream }

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.st.conn.Read(p)
	if n > 0 {
		t.st.tmu.Lock()
		t.st.transcript.Write(p[:n])
		t.st.tmu.Unlock()
	}
	return n, err
}

func (st *Stream) setConn(c net.Conn) {
	st.conn = c
	st.br = bufio.NewReader(teeReader{st})
	st.dec = xml.NewDecoder(st.br)
}

// Transcript returns everything the client sent on this connection so far.
func (st *Stream) Transcript() string {
	st.tmu.Lock()
	defer st.tmu.Unlock()
	return st.transcript.String()
}

// Secure reports whether TLS is established.
func (st *Stream) Secure() bool { return st.secure }

// Conn returns the current connection (TCP or TLS), for tests that need to
// write raw bytes or set deadlines.
func (st *Stream) Conn() net.Conn { return st.conn }

var errClientClosed = errors.New("fakeserver: client closed the stream")

// ReadHeader reads the client's stream header and returns its attributes
// (local names).
func (st *Stream) ReadHeader() (map[string]string, error) {
	for {
		tok, err := st.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != NSStream || t.Name.Local != "stream" {
				return nil, fmt.Errorf("fakeserver: expected stream header, got %v", t.Name)
			}
			attrs := map[string]string{}
			for _, a := range t.Attr {
				attrs[a.Name.Local] = a.Value
			}
			return attrs, nil
		case xml.EndElement:
			return nil, errClientClosed
		}
	}
}

// SendHeader sends the server's stream header.
func (st *Stream) SendHeader() error {
	return st.Send(fmt.Sprintf("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='%s' version='1.0' from='%s' id='%s'>", NSStream, st.Server.Domain, randomID()))
}

// SendFeatures sends <stream:features> with the given content.
func (st *Stream) SendFeatures(features string) error {
	return st.Send("<stream:features>" + features + "</stream:features>")
}

// Open reads the client's header and answers with a header and features.
func (st *Stream) Open(features string) error {
	if _, err := st.ReadHeader(); err != nil {
		return err
	}
	if err := st.SendHeader(); err != nil {
		return err
	}
	return st.SendFeatures(features)
}

// StartTLS expects <starttls/>, answers <proceed/> and does the TLS
// handshake. The next stream must then be opened (Open).
func (st *Stream) StartTLS() error {
	e, err := st.Next()
	if err != nil {
		return err
	}
	if e.Name.Space != NSTLS || e.Name.Local != "starttls" {
		return fmt.Errorf("fakeserver: expected <starttls/>, got %s", e.Raw)
	}
	if err := st.Send(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`); err != nil {
		return err
	}
	tc := tls.Server(st.raw, &tls.Config{Certificates: []tls.Certificate{st.Server.cert}})
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("fakeserver: TLS handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	st.setConn(tc)
	st.secure = true
	return nil
}

// Negotiate brings the stream to the secured, unauthenticated state with
// the given features: on a plain connection it opens a stream offering
// STARTTLS and does it; then it opens the secured stream.
func (st *Stream) Negotiate(features string) error {
	if !st.secure {
		if err := st.Open(FeatureStartTLS); err != nil {
			return err
		}
		if err := st.StartTLS(); err != nil {
			return err
		}
	}
	return st.Open(features)
}

// Send writes raw XML.
func (st *Stream) Send(raw string) error {
	_, err := io.WriteString(st.conn, raw)
	return err
}

// Sendf writes formatted raw XML.
func (st *Stream) Sendf(format string, args ...any) error {
	return st.Send(fmt.Sprintf(format, args...))
}

// Cut closes the TCP connection without ending the stream.
func (st *Stream) Cut() error { return st.raw.Close() }

// End sends </stream:stream> and closes the connection.
func (st *Stream) End() error {
	st.Send("</stream:stream>")
	return st.raw.Close()
}

// Stall keeps the connection open without sending anything until the
// client closes it (or sends anything after its stream end), or the server
// is closed, or max elapses. It returns how long it stalled.
func (st *Stream) Stall(max time.Duration) time.Duration {
	t0 := time.Now()
	st.conn.SetReadDeadline(t0.Add(max))
	for {
		if _, err := st.dec.Token(); err != nil {
			break
		}
	}
	st.conn.SetReadDeadline(time.Time{})
	return time.Since(t0)
}

// Element is an XML element received from the client, as the module's
// one element reader (xmppconn.ReadTree) parsed it, with lookups by local
// name that scripted servers find convenient.
type Element struct {
	*xmppconn.Element
	// Raw is the element as re-serialised (namespaces resolved), for
	// error messages.
	Raw string
}

// wrap returns x as an Element (nil for nil).
func wrap(x *xmppconn.Element) *Element {
	if x == nil {
		return nil
	}
	return &Element{Element: x, Raw: string(x.Marshal())}
}

// Attr returns the value of the attribute with the given local name.
func (e *Element) Attr(local string) string {
	if e == nil || e.Element == nil {
		return ""
	}
	return e.Element.Get(local)
}

// Child returns the first child with the given local name (any
// namespace), or nil.
func (e *Element) Child(local string) *Element {
	if e == nil || e.Element == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name.Local == local {
			return wrap(c)
		}
	}
	return nil
}

// Find follows a path of local names, e.g. Find("query", "x").
func (e *Element) Find(path ...string) *Element {
	for _, p := range path {
		e = e.Child(p)
	}
	return e
}

// Field returns the value of a registration field in a submitted
// jabber:iq:register query: the data form field var=name, or the legacy
// element name. ok is false if neither is present.
func (e *Element) Field(name string) (value string, ok bool) {
	q := e.Child("query")
	if q == nil {
		q = e
	}
	if x := q.Child("x"); x != nil {
		for _, c := range x.Children {
			if f := wrap(c); f.Name.Local == "field" && f.Attr("var") == name {
				if v := f.Child("value"); v != nil {
					return v.Text, true
				}
				return "", true
			}
		}
	}
	if c := q.Child(name); c != nil {
		return c.Text, true
	}
	return "", false
}

// Next reads the next top-level element from the client. The client's
// stream end is returned as an error (errors.Is io.EOF is true).
func (st *Stream) Next() (*Element, error) {
	for {
		tok, err := st.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return readElement(st.dec, t)
		case xml.EndElement:
			return nil, fmt.Errorf("%w: %w", errClientClosed, io.EOF)
		}
	}
}

func readElement(d *xml.Decoder, start xml.StartElement) (*Element, error) {
	x, err := xmppconn.ReadTree(d, start)
	if err != nil {
		return nil, err
	}
	return wrap(x), nil
}

// Reply sends an IQ result for the request iq with the given payload.
func (st *Stream) Reply(iq *Element, payload string) error {
	return st.Sendf("<iq type='result' id='%s'>%s</iq>", escapeAttr(iq.Attr("id")), payload)
}

// ReplyError sends an IQ error for the request iq. payload, if any, is
// included before the <error/> element (some servers echo the query).
func (st *Stream) ReplyError(iq *Element, errType, condition, text string, payload ...string) error {
	t := ""
	if text != "" {
		t = "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>" + escapeText(text) + "</text>"
	}
	return st.Sendf("<iq type='error' id='%s'>%s<error type='%s'><%s xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>%s</error></iq>",
		escapeAttr(iq.Attr("id")), strings.Join(payload, ""), errType, condition, t)
}

// Expect reads the next element and checks that it is an IQ of the given
// type whose first child has the given local name.
func (st *Stream) Expect(iqType, payload string) (*Element, error) {
	e, err := st.Next()
	if err != nil {
		return nil, err
	}
	if e.Name.Local != "iq" || e.Attr("type") != iqType || len(e.Children) == 0 || e.Children[0].Name.Local != payload {
		return e, fmt.Errorf("fakeserver: expected <iq type='%s'><%s/>, got %s", iqType, payload, e.Raw)
	}
	return e, nil
}

// SASL runs a SASL exchange as the server. password returns the password
// of a user (ok false for unknown users). Supported: SCRAM-SHA-1,
// SCRAM-SHA-256 and, to imitate ejabberd 23.01, SCRAM-SHA-1-PLUS and
// SCRAM-SHA-256-PLUS, which always fail with "Invalid channel binding".
// Failed attempts are answered with <failure/> and the next <auth/> is
// read (at most 3 attempts). It returns the authenticated username.
func (st *Stream) SASL(password func(user string) (string, bool)) (string, error) {
	for attempt := 0; attempt < 3; attempt++ {
		e, err := st.Next()
		if err != nil {
			return "", err
		}
		if e.Name.Space != NSSASL || e.Name.Local != "auth" {
			return "", fmt.Errorf("fakeserver: expected <auth/>, got %s", e.Raw)
		}
		mech := e.Attr("mechanism")
		var fn func() hash.Hash
		var m sasl.Mechanism
		switch mech {
		case "SCRAM-SHA-1":
			fn, m = sha1.New, sasl.ScramSha1
		case "SCRAM-SHA-256":
			fn, m = sha256.New, sasl.ScramSha256
		case "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS":
			if err := st.saslFailure("not-authorized", "Invalid channel binding"); err != nil {
				return "", err
			}
			continue
		default:
			if err := st.saslFailure("invalid-mechanism", ""); err != nil {
				return "", err
			}
			continue
		}
		var user string
		salt := []byte("fakeserver-salt!")
		neg := sasl.NewServer(m, nil, sasl.SaltedCredentials(func(username, _ []byte, _ string) ([]byte, []byte, int64, error) {
			pw, ok := password(string(username))
			if !ok {
				return nil, nil, 0, sasl.ErrAuthn
			}
			user = string(username)
			return salt, sasl.SCRAMSaltPassword(fn, []byte(pw), salt, 4096), 4096, nil
		}))
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text))
		if err != nil {
			return "", err
		}
		ok := false
		for step := 0; step < 4; step++ {
			more, resp, err := neg.Step(data)
			if err != nil {
				if err := st.saslFailure("not-authorized", ""); err != nil {
					return "", err
				}
				break
			}
			if !more {
				if err := st.Sendf("<success xmlns='%s'>%s</success>", NSSASL, base64.StdEncoding.EncodeToString(resp)); err != nil {
					return "", err
				}
				ok = true
				break
			}
			if err := st.Sendf("<challenge xmlns='%s'>%s</challenge>", NSSASL, base64.StdEncoding.EncodeToString(resp)); err != nil {
				return "", err
			}
			r, err := st.Next()
			if err != nil {
				return "", err
			}
			if r.Name.Local == "abort" {
				if err := st.saslFailure("aborted", ""); err != nil {
					return "", err
				}
				break
			}
			if data, err = base64.StdEncoding.DecodeString(strings.TrimSpace(r.Text)); err != nil {
				return "", err
			}
		}
		if ok {
			st.Restart()
			return user, nil
		}
	}
	return "", errors.New("fakeserver: too many SASL attempts")
}

func (st *Stream) saslFailure(cond, text string) error {
	t := ""
	if text != "" {
		t = "<text>" + escapeText(text) + "</text>"
	}
	return st.Sendf("<failure xmlns='%s'><%s/>%s</failure>", NSSASL, cond, t)
}

// Restart prepares for the client's new stream header after a SASL
// success (RFC 6120 §6.4.6): the next Open reads it. A scripted handler
// that sends its own <success/> calls it before Bind.
func (st *Stream) Restart() { st.dec = xml.NewDecoder(st.br) }

// Bind opens the post-authentication stream offering resource binding and
// answers the client's bind request with user@domain/fake.
func (st *Stream) Bind(user string) error {
	if err := st.Open(`<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>`); err != nil {
		return err
	}
	e, err := st.Expect("set", "bind")
	if err != nil {
		return err
	}
	return st.Reply(e, fmt.Sprintf("<bind xmlns='%s'><jid>%s@%s/fake</jid></bind>", NSBind, user, st.Server.Domain))
}

// Wait blocks until the handler of this stream has returned.
func (st *Stream) Wait() { <-st.done }

func escapeAttr(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&apos;")
}

func escapeText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newCert creates a CA and a leaf certificate for names.
func newCert(names []string) (*x509.CertPool, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fakeserver CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}, nil
}
