package register

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/stanza"
)

// Features are the stream features of the secured, unauthenticated
// stream: what the server offers before anything is submitted.
type Features struct {
	// Register is true when the server advertises in-band registration
	// (XEP-0077 stream feature). Some servers advertise it and still refuse
	// every submission (ejabberd with a deny rule), or do not advertise it
	// and still answer; see [Request.Force].
	Register bool
	// InviteToken is true when the server advertises XEP-0445
	// pre-authenticated registration (urn:xmpp:ibr-token:0).
	InviteToken bool
	// InviteLegacy is true when the server advertises the older
	// urn:xmpp:invite feature (Prosody 0.12 sends both).
	InviteLegacy bool
	// Mechanisms are the SASL mechanisms offered, in server order.
	Mechanisms []string
	// ChannelBindings are the SASL channel-binding types the server
	// advertises (XEP-0440), such as "tls-exporter" or "tls-unique", in
	// server order; empty when it does not say. They decide whether a
	// -PLUS mechanism is tried (see the package documentation, # Security).
	ChannelBindings []string
	// DirectTLS is true when the connection used TLS from the start
	// (XEP-0368), false after STARTTLS.
	DirectTLS bool
	// SASL2 are the mechanisms of XEP-0388 SASL2, Bind2 and
	// StreamManagement whether XEP-0386 Bind2 and XEP-0198 are offered
	// inline with it, FAST the XEP-0484 token mechanisms. Servers offer
	// them to a stream header that names the account (see
	// [SASL2Options]).
	SASL2            []string
	Bind2            bool
	StreamManagement bool
	FAST             []string
	// Other lists the namespaces of all other features advertised.
	Other []string
}

// Invites reports whether the server advertises invitation tokens in
// either form.
func (f Features) Invites() bool { return f.InviteToken || f.InviteLegacy }

// plainFeatures is what matters on the stream before TLS.
type plainFeatures struct {
	starttls bool
}

// Conn is a TLS-secured, unauthenticated client stream opened by
// [Dialer.Dial]. It is used for registration and then either closed or
// turned into a logged-in *xmpp.Session by [Conn.Login].
//
// A Conn is not safe for concurrent use, except that Close may be called at
// any time to abort a call in progress.
type Conn struct {
	domain     string
	addr       string
	timeout    time.Duration
	maxStanza  int64
	debug      func(string, []byte)
	allowPlain bool
	pipeline   bool // send requests without waiting for earlier replies
	// from is the JID announced in the secured stream header ("" for
	// none), and sasl2 the Dialer's SASL2 options (sasl2.go).
	from  string
	sasl2 SASL2Options
	// authPipelined: an <auth/> already went out with a submission on
	// this stream.
	authPipelined bool
	// unsettled is that <auth/> when the registration was refused: its
	// answer is read before the next request (settleAuth).
	unsettled *saslState
	progress  func(Event)

	mu sync.Mutex // serialises calls
	// t is the connection, secured or not, and the reader of the
	// server's side (the module's one transport).
	t xmppconn.Transport

	plainFeatures plainFeatures
	features      Features
	streamID      string
	hdrDecls      []xml.Attr   // namespace declarations of the server's last stream header
	pending       *pendingForm // requests sent with the secured stream header, replies unread

	err       error     // sticky: the stream is unusable (guarded by mu)
	deadline  time.Time // of the step in progress
	secrets   []string  // sent so far; scrubbed from Debug output
	closeOnce sync.Once
	handedOff atomic.Bool // the connection belongs to an xmpp.Session
}

// Domain returns the XMPP domain of the stream.
func (c *Conn) Domain() string { return c.domain }

// RemoteAddr returns the address connected to ("host:port").
func (c *Conn) RemoteAddr() string { return c.addr }

// Features returns the stream features of the secured stream.
func (c *Conn) Features() Features {
	f := c.features
	f.Mechanisms = append([]string(nil), f.Mechanisms...)
	f.ChannelBindings = append([]string(nil), f.ChannelBindings...)
	f.SASL2 = append([]string(nil), f.SASL2...)
	f.FAST = append([]string(nil), f.FAST...)
	f.Other = append([]string(nil), f.Other...)
	return f
}

// pendingForm records the invitation token and form requests that were
// sent together with the secured stream header (pipelined by
// Client.Register); the next form step reads their replies instead of
// sending the requests.
type pendingForm struct {
	preauthID string // "" without a token
	token     string
	formID    string
}

// ConnectionState returns the TLS state of the connection.
func (c *Conn) ConnectionState() tls.ConnectionState {
	if c.t.TLS() == nil {
		return tls.ConnectionState{}
	}
	return c.t.TLS().ConnectionState()
}

// Close ends the stream and closes the connection. It may be called
// concurrently with another call to abort it, and more than once. After a
// successful [Conn.Login] it does nothing (the connection belongs to the
// session).
func (c *Conn) Close() error {
	if c.isHandedOff() {
		return nil
	}
	var err error
	c.closeOnce.Do(func() {
		if cur := c.t.Conn(); cur != nil {
			_ = cur.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = io.WriteString(cur, "</stream:stream>")
			c.debugRaw("out", []byte("</stream:stream>"))
		}
		if tcp := c.t.TCP(); tcp != nil {
			err = tcp.Close()
		}
	})
	return err
}

func (c *Conn) isHandedOff() bool { return c.handedOff.Load() }

// closeNow closes the connection without a stream end.
func (c *Conn) closeNow() {
	c.closeOnce.Do(func() {
		if tcp := c.t.TCP(); tcp != nil {
			tcp.Close()
		}
	})
}

// errUnusable wraps the sticky error for later calls.
type unusableError struct{ err error }

func (e *unusableError) Error() string {
	return "register: connection unusable after an earlier error: " + trimPrefix(e.err.Error())
}
func (e *unusableError) Unwrap() error { return e.err }

func trimPrefix(s string) string { return strings.TrimPrefix(s, "register: ") }

// fail marks the stream unusable, closes the connection and returns err.
func (c *Conn) fail(err error) error {
	if c.err == nil {
		c.err = err
	}
	c.closeNow()
	return err
}

// event reports progress.
func (c *Conn) event(e Event) {
	if c.progress != nil {
		e.Domain = c.domain
		c.progress(e)
	}
}

// withTimeout applies the per-step timeout to ctx.
func (c *Conn) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}

// do runs one step of the protocol: it serialises calls, bounds the step
// by ctx and the Timeout (through connection deadlines, so that a server
// that stalls cannot hang the call) and makes the stream unusable when the
// step is interrupted.
func (c *Conn) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handedOff.Load() {
		return &opError{op: op, err: errors.New("the stream was handed to an xmpp.Session by Login")}
	}
	if c.err != nil {
		return &unusableError{err: c.err}
	}
	if err := ctx.Err(); err != nil {
		return &opError{op: op, err: err}
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	nc := c.t.Conn()
	var fired bool
	var mu sync.Mutex
	finished := false
	c.deadline = time.Time{}
	if dl, ok := ctx.Deadline(); ok {
		c.deadline = dl
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			fired = true
			nc.SetDeadline(time.Unix(1, 0))
		}
	})
	var err error
	if st := c.unsettled; st != nil {
		// The authentication pipelined with a refused registration
		// is answered first (see settleAuth).
		c.unsettled = nil
		if err = c.settleAuth(st); err != nil {
			err = c.fail(&ProtocolError{Msg: "the authentication sent with the refused registration did not end", Err: err})
		}
	}
	if err == nil {
		err = fn(ctx)
	}
	mu.Lock()
	finished = true
	mu.Unlock()
	stop()
	if err != nil && (ctx.Err() != nil || !c.deadline.IsZero() && !time.Now().Before(c.deadline)) {
		// The connection deadline (set from ctx) may expire a moment
		// before ctx reports it.
		fired = true
	}
	if fired {
		// The step was interrupted (or raced with the deadline): the
		// stream may be half-read.
		cerr := ctx.Err()
		if cerr == nil {
			cerr = context.DeadlineExceeded
		}
		if err == nil {
			c.fail(cerr)
		} else if !errors.Is(err, cerr) {
			err = ctxErr(cerr, err)
			c.fail(err)
		}
		return err
	}
	if c.err == nil && c.t.Conn() != nil {
		c.t.Conn().SetDeadline(time.Time{})
	}
	return err
}

// ctxErr combines the context error with the I/O error it caused.
func ctxErr(cerr, ioErr error) error {
	var e *Error
	if errors.As(ioErr, &e) && e.Kind == KindOutcomeUnknown {
		// Keep the outcome-unknown error (with the credentials) on top.
		e.Err = fmt.Errorf("%w (%w)", cerr, e.Err)
		return ioErr
	}
	return fmt.Errorf("register: %w (%w)", cerr, ioErr)
}

// randomID returns a random stanza ID.
func randomID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// addSecrets remembers values to scrub from the Debug output.
func (c *Conn) addSecrets(s ...string) {
	for _, x := range s {
		if len(x) >= 3 && len(c.secrets) < 32 {
			c.secrets = append(c.secrets, x)
		}
	}
}

// debugRaw passes data to the Debug hook.
func (c *Conn) debugRaw(dir string, b []byte) {
	if c.debug != nil {
		c.debug(dir, b)
	}
}

// write sends one element.
func (c *Conn) write(n *node) error {
	return c.writeAll(n)
}

// writeAll sends several elements in one write (pipelining).
func (c *Conn) writeAll(ns ...*node) error {
	return c.send(false, ns...)
}

// send writes a stream header if header is true (with the account's
// JID in from on the secured stream: servers offer SASL2, XEP-0388, to a
// header that names the account) and the elements, in one write: they
// leave in the same flight, without waiting for a reply.
func (c *Conn) send(header bool, ns ...*node) error {
	c.t.From = c.from
	if err := c.t.Send(header, ns...); err != nil {
		return c.fail(&opError{op: "write", err: err})
	}
	return nil
}

// openStream sends a stream header, followed in the same write by extra
// (requests pipelined with the header), and reads the server's header and
// its <stream:features/>, which it returns.
func (c *Conn) openStream(extra ...*node) (*node, error) {
	if err := c.send(true, extra...); err != nil {
		return nil, err
	}
	if err := c.readHeader(); err != nil {
		return nil, err
	}
	n, err := c.readElement()
	if err != nil {
		return nil, err
	}
	if !n.Is(nsStream, "features") {
		return nil, c.fail(&ProtocolError{Msg: fmt.Sprintf("expected <stream:features/>, got <%s xmlns='%s'>", n.Name.Local, n.Name.Space)})
	}
	return n, nil
}

// startStream opens a stream before (secure false) or after TLS and keeps
// its features. extra is sent in the same write as the header.
func (c *Conn) startStream(secure bool, extra ...*node) error {
	n, err := c.openStream(extra...)
	if err != nil {
		return err
	}
	if !secure {
		c.plainFeatures = plainFeatures{starttls: n.Child(nsTLS, "starttls") != nil}
		return nil
	}
	c.features = parseFeatures(n)
	c.features.DirectTLS = c.t.TCP() == c.t.Conn()
	return nil
}

// parseFeatures reads the features of the secured stream
// (xmppconn.ParseFeatures) and keeps what registration needs.
func parseFeatures(n *node) Features {
	x := xmppconn.ParseFeatures(n)
	f := Features{
		Register: x.Register, InviteToken: x.InviteToken, InviteLegacy: x.InviteLegacy,
		Mechanisms: x.Mechanisms, ChannelBindings: x.ChannelBindings,
		SASL2: x.SASL2, Bind2: x.Bind2, StreamManagement: x.SMInline, FAST: x.FAST,
	}
	for _, name := range x.Advertised {
		switch name.Space {
		case NSFeature, NSIBRToken, NSInviteLegacy, nsSASL, nsSASLCB, nsTLS:
			continue
		}
		f.Other = append(f.Other, name.Space)
	}
	return f
}

// readHeader reads the server's stream header (xmppconn.Reader.Header).
func (c *Conn) readHeader() error {
	h, err := c.t.Reader().Header()
	if err != nil {
		return c.fail(c.readErr(err))
	}
	c.streamID, c.hdrDecls = h.ID, h.Decls
	return nil
}

// readErr turns an error of the stream reader into register's: a limit
// into a limitError (ErrTooLarge), bad XML into a ProtocolError
// (ErrProtocol), a stream error or the end of the stream into an opError
// (the latter matching io.ErrUnexpectedEOF), a transport error into an
// opError.
func (c *Conn) readErr(err error) error {
	err = fromCore(err)
	var le *limitError
	var pe *ProtocolError
	var sr *xmppconn.StreamErrorReceived
	switch {
	case errors.As(err, &le), errors.As(err, &pe):
		return err
	case errors.As(err, &sr) && sr.Err.Err == "policy-violation":
		// How servers end the streams of an address they block
		// (ejabberd's mod_fail2ban after too many failed logins: "Too
		// many (3) failed authentications … unblocked at …").
		return &Error{Op: "read", Kind: KindRateLimited, Err: sr}
	case errors.As(err, &sr):
		return &opError{op: "read", err: sr}
	case errors.Is(err, xmppconn.ErrClosed):
		return &opError{op: "read", err: xmppconn.ErrClosed}
	}
	return &opError{op: "read", err: err}
}

// readElement reads the next top-level element of the stream
// (xmppconn.Reader.Next). Stream errors and the end of the stream are
// returned as errors, and end the Conn.
func (c *Conn) readElement() (*node, error) {
	n, err := c.t.Next()
	if err != nil {
		return nil, c.fail(c.readErr(err))
	}
	return n, nil
}

// attrOf returns an attribute without namespace.
func attrOf(local, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Local: local}, Value: value}
}

// parseStanzaError returns the <error/> of a stanza
// (xmppconn.StanzaError, legacy code-only errors completed by
// withLegacyCode; stanzaErr scrubs the secrets).
func parseStanzaError(st *node) stanza.Error {
	return withLegacyCode(st, xmppconn.StanzaError(st, nil))
}

// iq builds an IQ stanza.
func iq(typ, id string, payload *node) *node {
	return newNode(nsClient, "iq", "type", typ, "id", id).Add(payload)
}

// await reads elements until the reply to the IQ id arrives. Unrelated
// elements are skipped (at most maxSkipped of them).
func (c *Conn) await(id string) (*node, error) {
	return c.awaitKeep(id, nil)
}

// awaitKeep is await that keeps, in *sasl, the first SASL element (a
// challenge, success or failure answering an <auth/> pipelined after the
// IQ) that arrives before the reply, instead of skipping it. Servers
// answer in order, so normally none does.
func (c *Conn) awaitKeep(id string, sasl **node) (*node, error) {
	for i := 0; i < maxSkipped; i++ {
		n, err := c.readElement()
		if err != nil {
			return nil, err
		}
		if sasl != nil && *sasl == nil && (n.Name.Space == nsSASL || n.Name.Space == xmppconn.NSSASL2) {
			*sasl = n
			continue
		}
		if !n.Is(nsClient, "iq") || n.Get("id") != id {
			continue
		}
		if from := n.Get("from"); from != "" && !strings.EqualFold(from, c.domain) {
			continue
		}
		switch n.Get("type") {
		case "result", "error":
			return n, nil
		}
	}
	return nil, c.fail(&ProtocolError{Msg: "no reply to the request among the elements received"})
}

// exchange sends an IQ and returns the reply (type result or error).
func (c *Conn) exchange(typ string, payload *node) (*node, error) {
	id := randomID()
	if err := c.write(iq(typ, id, payload)); err != nil {
		return nil, err
	}
	return c.await(id)
}

// Preauth sends an invitation token (XEP-0445) before the registration
// form is requested. A refused token returns an *Error of KindInviteInvalid.
func (c *Conn) Preauth(ctx context.Context, token string) error {
	if err := checkToken(token); err != nil {
		return &Error{Op: opPreauth, Kind: KindInviteInvalid, Err: err}
	}
	return c.do(ctx, opPreauth, func(ctx context.Context) error {
		c.addSecrets(token)
		reply, err := c.exchange("set", newNode(nsPreauth, "preauth", "token", token))
		if err != nil {
			return err
		}
		if reply.Get("type") == "error" {
			return stanzaErr(opPreauth, parseStanzaError(reply), nil, token)
		}
		return nil
	})
}

// Form requests the registration form (XEP-0077 §3.1). The CAPTCHA image,
// if the form has one, is taken from the Bits of Binary data sent with the
// form or fetched by its cid on the same stream.
//
// A server that does not allow registration usually answers with an error
// (*Error of KindRegistrationClosed). A form that only points to a web
// page is returned as is (see [Form.WebOnly] and Form.RedirectURL).
func (c *Conn) Form(ctx context.Context) (*Form, error) {
	return c.formWith(ctx, "")
}

// formWith gets the form, after sending the invitation token if token is
// not empty. The two requests go out together (one round trip), or not at
// all when the dial already sent them with the stream header (pending).
func (c *Conn) formWith(ctx context.Context, token string) (*Form, error) {
	if token != "" {
		if err := checkToken(token); err != nil {
			return nil, &Error{Op: opPreauth, Kind: KindInviteInvalid, Err: err}
		}
	}
	var f *Form
	err := c.do(ctx, opForm, func(ctx context.Context) error {
		var pid, fid string
		if p := c.pending; p != nil {
			c.pending = nil
			pid, fid, token = p.preauthID, p.formID, p.token
		} else {
			var reqs []*node
			if token != "" {
				c.addSecrets(token)
				pid = randomID()
				reqs = append(reqs, iq("set", pid, newNode(nsPreauth, "preauth", "token", token)))
			}
			fid = randomID()
			reqs = append(reqs, iq("get", fid, newNode(NS, "query")))
			if err := c.writeAll(reqs...); err != nil {
				return err
			}
		}
		var perr error
		if pid != "" {
			reply, err := c.await(pid)
			if err != nil {
				return err
			}
			if reply.Get("type") == "error" {
				se := parseStanzaError(reply)
				// A server that does not know XEP-0445 after all
				// (service-unavailable, feature-not-implemented): the
				// form reply says whether plain registration works.
				if se.Condition != stanza.ServiceUnavailable && se.Condition != stanza.FeatureNotImplemented {
					perr = stanzaErr(opPreauth, se, nil, token)
				}
			}
		}
		reply, err := c.await(fid)
		if err != nil {
			return err
		}
		if perr != nil {
			return perr
		}
		f, err = c.formReply(reply)
		if err != nil {
			return err
		}
		return c.fetchBoB(f)
	})
	if err != nil {
		return nil, err
	}
	c.event(Event{Stage: StageForm, Addr: c.addr, Form: f})
	return f, nil
}

// formRequests returns the token and form requests to pipeline with the
// secured stream header, and records them as pending.
func (c *Conn) formRequests(token string) []*node {
	p := &pendingForm{token: token, formID: randomID()}
	var reqs []*node
	if token != "" {
		c.addSecrets(token)
		p.preauthID = randomID()
		reqs = append(reqs, iq("set", p.preauthID, newNode(nsPreauth, "preauth", "token", token)))
	}
	c.pending = p
	return append(reqs, iq("get", p.formID, newNode(NS, "query")))
}

// formReply turns the reply to a form request into a Form.
func (c *Conn) formReply(reply *node) (*Form, error) {
	if reply.Get("type") == "error" {
		return nil, stanzaErr(opForm, parseStanzaError(reply), nil, c.secrets...)
	}
	q := reply.Child(NS, "query")
	if q == nil {
		return nil, c.fail(&ProtocolError{Msg: "registration form reply without <query/>"})
	}
	f, err := parseQuery(q)
	if err != nil {
		return nil, c.fail(err)
	}
	return f, nil
}

// fetchBoB completes the CAPTCHA image: an inline image that was refused
// is an error; a missing one is fetched by cid (XEP-0231 §3).
func (c *Conn) fetchBoB(f *Form) error {
	t := f.bobTarget()
	if t == nil || t.Image != nil {
		return nil
	}
	if f.bobErr != nil {
		return &opError{op: opBoB, err: f.bobErr}
	}
	if f.bobWant == "" {
		return nil
	}
	reply, err := c.exchange("get", newNode(nsBoB, "data", "cid", f.bobWant))
	if err != nil {
		return err
	}
	if reply.Get("type") == "error" {
		// The form is still usable with the http URLs, if any.
		return nil
	}
	d := reply.Child(nsBoB, "data")
	if d == nil || strings.TrimSpace(d.Get("cid")) != f.bobWant {
		return &opError{op: opBoB, err: &ProtocolError{Msg: "Bits of Binary reply without the requested data"}}
	}
	data, err := decodeBoB(d.Text)
	if err != nil {
		return &opError{op: opBoB, err: err}
	}
	t.Image = data
	if t.MIME == "" {
		t.MIME = strings.TrimSpace(d.Get("type"))
	}
	f.bobWant = ""
	return nil
}

// socketIdle reports whether the connection's socket is known to have
// nothing waiting to be read (no data, no end of stream).
func (c *Conn) socketIdle() bool {
	raw := c.t.TCP()
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	pending, ok := socketPending(raw)
	return ok && !pending
}

// pendingClose checks, without waiting, whether the server has already
// ended the stream (for example an idle timeout while a user was filling
// the form). It returns the error if so.
func (c *Conn) pendingClose() error {
	discarded := 0
	for {
		if c.t.Buffered().Buffered() == 0 {
			// A deadline already in the past fails without trying to
			// read from the socket (but returns what TLS has buffered);
			// 1 ms lets the read system call run once. That is only
			// needed when the socket has data waiting, or when that
			// cannot be told.
			dl := time.Now().Add(time.Millisecond)
			if c.socketIdle() {
				dl = time.Unix(1, 0)
			}
			c.t.Conn().SetReadDeadline(dl)
			_, err := c.t.Buffered().Peek(1)
			c.t.Conn().SetReadDeadline(c.deadline)
			var ne net.Error
			if err != nil && errors.As(err, &ne) && ne.Timeout() {
				return nil
			}
			if err != nil {
				return c.fail(c.readErr(err))
			}
		}
		// Whitespace keepalives between elements are dropped (the XML
		// decoder holds no look-ahead after an element's end).
		b, _ := c.t.Buffered().Peek(c.t.Buffered().Buffered())
		if len(bytes.TrimLeft(b, " \t\r\n")) != 0 {
			break
		}
		discarded += len(b)
		if discarded > 64<<10 {
			return c.fail(&limitError{what: "too much whitespace"})
		}
		c.t.Buffered().Discard(len(b))
	}
	// An element is waiting: normally a stream error or the end of the
	// stream; anything else is read and ignored.
	dl := time.Now().Add(time.Second)
	if !c.deadline.IsZero() && c.deadline.Before(dl) {
		dl = c.deadline
	}
	c.t.Conn().SetReadDeadline(dl)
	defer c.t.Conn().SetReadDeadline(c.deadline)
	_, err := c.readElement()
	return err
}

// Submit sends the completed form (XEP-0077 §3.1): the data form if the
// server sent one, else the legacy fields. Nothing is sent if required
// fields are empty (*Error of KindFormIncomplete) or the form only offers
// web registration (KindWebOnly).
//
// A refusal is returned as an *Error that keeps the server's stanza error
// and classifies it (ErrUsernameTaken, ErrCaptchaFailed, …); the stream
// stays usable, so the caller can fix the form and submit again (after a
// CAPTCHA failure, get a new form first). If the connection fails after
// the form was sent, the error is an *Error of KindOutcomeUnknown holding
// the username and password; see [Dialer.Confirm].
func (c *Conn) Submit(ctx context.Context, f *Form) error {
	_, err := c.submit(ctx, f, "")
	return err
}

// settleAuth reads the answer to the <auth/> of st, pipelined with a
// registration the server refused, so that the stream can go on: a
// <failure/> ends it; a SCRAM challenge (the name belongs to an existing
// account) is aborted. A <success/> (the password was that of the existing
// account) or anything else leaves the stream unusable: an error.
func (c *Conn) settleAuth(st *saslState) error {
	for i := 0; i < 2; i++ {
		n := st.early
		st.early = nil
		if n == nil {
			var err error
			if n, err = c.readElement(); err != nil {
				return err
			}
		}
		switch {
		case n.Is(nsSASL, "failure"), n.Is(xmppconn.NSSASL2, "failure"):
			return nil
		case n.Is(nsSASL, "challenge") && i == 0:
			if err := c.write(newNode(nsSASL, "abort")); err != nil {
				return err
			}
		case n.Is(xmppconn.NSSASL2, "challenge") && i == 0:
			// Prosody 13's mod_sasl2 has no <abort/> (it ends the stream
			// with unsupported-stanza-type): a response that is no SCRAM
			// message ends the exchange with a failure instead. Nothing
			// derived from the password is sent.
			if err := c.write(newNode(xmppconn.NSSASL2, "response").WithText(b64([]byte("x")))); err != nil {
				return err
			}
		default:
			return &ProtocolError{Msg: "unexpected answer to the authentication after a refused registration"}
		}
	}
	return &ProtocolError{Msg: "the aborted authentication did not end"}
}

// submit is Submit. If login is not empty (the username to log in as with
// the form's password), the SASL <auth/> (for SCRAM, the client-first
// message, which holds no password) is sent in the same write as the form,
// so that the login needs one round trip less; the returned state
// continues it (see Conn.login). After a refused registration the
// authentication's failure is read (settleAuth) and the stream stays
// usable; only the first submission of a stream is pipelined so.
func (c *Conn) submit(ctx context.Context, f *Form, login string) (*saslState, error) {
	if f.WebOnly() {
		e := f.webOnly(opSubmit)
		e.Form = nil
		return nil, e
	}
	if m := f.Missing(); len(m) > 0 {
		e := &Error{Op: opSubmit, Kind: KindFormIncomplete}
		for _, fl := range m {
			e.Fields = append(e.Fields, fl.Var)
		}
		return nil, e
	}
	if err := f.invalid(opSubmit); err != nil {
		return nil, err
	}
	for _, fl := range f.Fields {
		for _, v := range fl.Values {
			if !xmppconn.ValidString(v) {
				return nil, &Error{Op: opSubmit, Kind: KindFormIncomplete, Fields: []string{fl.Var}, Err: errors.New("a value is not valid UTF-8 XML text")}
			}
		}
	}
	user, pass := f.Username(), f.Password()
	secrets := f.secrets()
	c.event(Event{Stage: StageSubmitting, Addr: c.addr, Form: f})
	var st *saslState
	err := c.do(ctx, opSubmit, func(ctx context.Context) error {
		c.addSecrets(secrets...)
		if err := c.pendingClose(); err != nil {
			return err
		}
		unknown := func(err error) error {
			return &Error{Op: opSubmit, Kind: KindOutcomeUnknown, Username: user, Password: pass, Err: err}
		}
		id := randomID()
		reqs := []*node{iq("set", id, f.submission())}
		if login != "" && c.pipeline && pass != "" && !c.authPipelined {
			// Without a usable mechanism nothing is pipelined; the login
			// reports it.
			if s, auth, err := c.saslStart(ctx, login, pass, true); err == nil {
				s.pipelined = true
				st = s
				reqs = append(reqs, auth)
				// Once per stream: a refused registration makes the
				// pipelined authentication fail too, which a server
				// counts (ejabberd's mod_fail2ban bans an address
				// after three).
				c.authPipelined = true
			}
		}
		if err := c.writeAll(reqs...); err != nil {
			return unknown(err)
		}
		var early *node
		reply, err := c.awaitKeep(id, &early)
		if err != nil {
			return unknown(err)
		}
		if st != nil {
			st.early = early
		}
		if reply.Get("type") == "error" {
			e := stanzaErr(opSubmit, parseStanzaError(reply), f, secrets...)
			if st != nil {
				// The authentication pipelined with the refused
				// registration is answered next; once it has failed
				// the stream is usable again (RFC 6120 §6.4.5), for
				// another name or a new CAPTCHA answer. It is read
				// before the next request on this stream, not now: a
				// caller that gives up does not wait for it.
				c.unsettled = st
				st = nil
			}
			if q := reply.Child(NS, "query"); q != nil {
				// A data form of type "form" is a new form (ejabberd echoes
				// the submitted query, whose form has type "submit" and is
				// ignored by parseQuery).
				if nf, err := parseQuery(q); err == nil && nf.IsDataForm && len(nf.Fields) > 0 {
					// A server can echo what was just sent in any field.
					nf.scrubSecrets(c.secrets...)
					if st := c.unsettled; st != nil && nf.bobWant != "" {
						// The image is fetched on this stream: the
						// authentication's answer comes first.
						c.unsettled = nil
						if err := c.settleAuth(st); err != nil {
							return c.fail(e)
						}
					}
					if c.fetchBoB(nf) == nil {
						e.Form = nf
					}
				}
			}
			return e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.event(Event{Stage: StageRegistered, Addr: c.addr, Username: user})
	return st, nil
}
