package register

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"io"
	"net"
	"slices"
	"strings"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"github.com/xmpp-onboard/onboard/internal/saslclient"
)

// SASLError is a SASL <failure/> from the server (RFC 6120 §6.5): its
// Condition is one of the SASL* conditions, SASLUndefined for a name RFC
// 6120 does not define; Text is the server's text without the secrets.
type SASLError = xmppconn.SASLError

// SASLCondition is a SASL failure condition (RFC 6120 §6.5).
type SASLCondition = xmppconn.SASLCondition

// The SASL failure conditions of RFC 6120 §6.5, for SASLError.Condition.
const (
	SASLAborted              = xmppconn.SASLAborted
	SASLAccountDisabled      = xmppconn.SASLAccountDisabled
	SASLCredentialsExpired   = xmppconn.SASLCredentialsExpired
	SASLEncryptionRequired   = xmppconn.SASLEncryptionRequired
	SASLIncorrectEncoding    = xmppconn.SASLIncorrectEncoding
	SASLInvalidAuthzid       = xmppconn.SASLInvalidAuthzid
	SASLInvalidMechanism     = xmppconn.SASLInvalidMechanism
	SASLMalformedRequest     = xmppconn.SASLMalformedRequest
	SASLMechanismTooWeak     = xmppconn.SASLMechanismTooWeak
	SASLNotAuthorized        = xmppconn.SASLNotAuthorized
	SASLTemporaryAuthFailure = xmppconn.SASLTemporaryAuthFailure
	SASLUndefined            = xmppconn.SASLUndefined
)

// plusFallback maps a -PLUS mechanism to the same SCRAM without channel
// binding.
func plusFallback(name string) (saslclient.Choice, bool) {
	if base, ok := strings.CutSuffix(name, "-PLUS"); ok && strings.HasPrefix(base, "SCRAM-") {
		return saslclient.Choice{Name: base}, true
	}
	return saslclient.Choice{}, false
}

// chooseMechanism picks the best mechanism the server offers
// (saslclient.Choose: SCRAM-SHA-512, -256, -1, with channel binding by
// XEP-0440 where it can work; PLAIN only if allowed).
func chooseMechanism(f Features, cs tls.ConnectionState, allowPlain bool) (saslclient.Choice, bool) {
	return saslclient.Choose(f.Mechanisms, f.ChannelBindings, cs, allowPlain)
}

// saslState is a SASL negotiation in progress.
type saslState struct {
	mech saslclient.Choice
	neg  *saslclient.Negotiation
	// early is a SASL element that arrived before the reply to the IQ the
	// <auth/> was pipelined with (see Conn.awaitKeep); it is read first.
	early     *node
	pipelined bool // the <auth/> went out with the registration
	// sasl2: XEP-0388 (an <authenticate/>), bind: with Bind2, fast: with
	// a FAST token; uaID is the user-agent id sent; success is the
	// verified SASL2 success.
	sasl2, bind, fast bool
	uaID              string
	success           *xmppconn.SASL2Success
	username          string  // the account authenticated as
	tokenMech         string  // the FAST mechanism a token was asked for
	bound             jid.JID // the full JID Bind2 bound
}

// offered returns the mechanisms of the SASL profile st uses.
func (c *Conn) offered(sasl2 bool) []string {
	if sasl2 {
		return c.features.SASL2
	}
	return c.features.Mechanisms
}

// saslStart chooses the mechanism and returns the negotiation and its
// <auth/> element (not sent yet).
//
// With bind, a session is wanted (Bind2 inline with SASL2); without, only
// the credentials are checked.
func (c *Conn) saslStart(ctx context.Context, username, password string, bind bool) (*saslState, *node, error) {
	cs := c.t.TLS().ConnectionState()
	sasl2 := c.useSASL2(username, bind)
	offered := c.offered(sasl2)
	mech, ok := saslclient.Choose(offered, c.features.ChannelBindings, cs, c.allowPlain)
	if !ok {
		return nil, nil, &Error{Op: opLogin, Kind: KindLoginFailed, Err: fmt.Errorf("no supported SASL mechanism among %v (PLAIN allowed: %v)", offered, c.allowPlain)}
	}
	st, auth, err := c.saslBegin(ctx, username, password, mech, cs, sasl2, bind)
	if err != nil {
		return nil, nil, &Error{Op: opLogin, Kind: KindLoginFailed, Err: err}
	}
	return st, auth, nil
}

// saslBegin starts a negotiation with mech.
func (c *Conn) saslBegin(ctx context.Context, username, password string, mech saslclient.Choice, cs tls.ConnectionState, sasl2, bind bool) (*saslState, *node, error) {
	c.addSecrets(password)
	neg, err := saslclient.NewClient(saslclient.Config{
		Mechanism: mech.Name, Binding: mech.Binding, Username: username, Password: password,
		Offered: c.offered(sasl2), Bindings: c.features.ChannelBindings, TLS: cs,
	})
	if err != nil {
		return nil, nil, err
	}
	st := &saslState{mech: mech, neg: neg, sasl2: sasl2, bind: bind && sasl2, username: username}
	if sasl2 {
		a, uaID := c.authenticate2(st.bind, mech)
		st.uaID, st.tokenMech = uaID, a.RequestToken
		auth, err := xmppconn.AuthenticateElement(ctx, neg, a)
		if err != nil {
			return nil, nil, err
		}
		return st, auth, nil
	}
	auth, err := xmppconn.AuthElement(ctx, neg)
	if err != nil {
		return nil, nil, err
	}
	return st, auth, nil
}

// authenticate runs SASL on the stream, continuing st if the <auth/> was
// already sent (pipelined with the registration).
//
// A refused authentication is tried again only where the refusal cannot
// be about the password, so that one wrong password costs one failed
// authentication on the server (servers count them: ejabberd's
// mod_fail2ban bans an address after a few): a -PLUS mechanism refused
// because of the channel binding (bindingRefusal; see the package
// documentation, # Security) is tried once without channel binding; an
// <auth/> pipelined with the registration is tried
// once more after not-authorized, since a server may check the
// credentials before it has stored the new account (the password was
// just set, so it is not wrong).
func (c *Conn) authenticate(ctx context.Context, username, password string, st *saslState, bind bool) (*saslState, error) {
	c.addSecrets(password)
	cs := c.t.TLS().ConnectionState()
	if st == nil {
		var auth *node
		var err error
		st, auth, err = c.saslStart(ctx, username, password, bind)
		if err != nil {
			return nil, err
		}
		if err := c.write(auth); err != nil {
			return st, &Error{Op: opLogin, Kind: KindLoginFailed, Err: err}
		}
	}
	mech := st.mech
	err := c.saslFinish(ctx, st, password)
	var fail *SASLError
	if errors.As(err, &fail) {
		retry, again := mech, false
		fb, plus := plusFallback(mech.Name)
		switch {
		case plus && bindingRefusal(fail):
			retry, again = fb, true
			if !slices.ContainsFunc(c.offered(st.sasl2), func(m string) bool { return strings.EqualFold(m, fb.Name) }) {
				// Prefer whatever plain SCRAM is offered.
				if m, ok := chooseMechanism(Features{Mechanisms: c.offered(st.sasl2)}, tls.ConnectionState{}, false); ok {
					retry = m
				}
			}
		case st.pipelined && fail.Condition == SASLNotAuthorized:
			again = true
		}
		if again {
			mech = retry
			var st2 *saslState
			var auth *node
			st2, auth, err = c.saslBegin(ctx, username, password, mech, cs, st.sasl2, st.bind)
			if err == nil {
				if err = c.write(auth); err == nil {
					err = c.saslFinish(ctx, st2, password)
				}
			}
			st = st2
		}
	}
	if err != nil {
		var ne *Error
		if errors.As(err, &ne) {
			return st, err
		}
		return st, &Error{Op: opLogin, Kind: KindLoginFailed, Err: err}
	}
	return st, nil
}

// bindingRefusal reports whether the SASL failure of a -PLUS mechanism is
// about the channel binding rather than the credentials: a condition that
// cannot be about a password, or not-authorized with a text that names
// the channel binding (ejabberd: "Invalid channel binding"; a wrong
// password gets not-authorized without it).
func bindingRefusal(f *SASLError) bool {
	switch f.Condition {
	case SASLMalformedRequest, SASLInvalidMechanism, SASLMechanismTooWeak:
		return true
	case SASLNotAuthorized:
		t := strings.ToLower(f.Text)
		return strings.Contains(t, "channel binding") || strings.Contains(t, "channel-binding")
	}
	return false
}

// saslFinish reads the server's answers to the <auth/> of st until success
// or failure, sending the responses (xmppconn.FinishSASL). A broken
// exchange ends the stream.
func (c *Conn) saslFinish(ctx context.Context, st *saslState, password string) error {
	secrets := redact.New(append([]string{password}, c.secrets...)...)
	var err error
	if st.sasl2 {
		st.success, err = xmppconn.FinishSASL2(ctx, saslStream{c, st}, st.neg, secrets)
		if err == nil {
			err = c.checkSuccess(st)
		}
	} else {
		err = xmppconn.FinishSASL(ctx, saslStream{c, st}, st.neg, secrets)
	}
	var pe *xmppconn.SASLProtocolError
	switch {
	case errors.As(err, &pe):
		return c.fail(&ProtocolError{Msg: "SASL " + pe.Mechanism, Err: pe.Err})
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return c.fail(err)
	}
	return err
}

// saslStream is the stream as the SASL exchange reads it: first the SASL
// element that arrived before the reply the <auth/> was pipelined with.
type saslStream struct {
	c  *Conn
	st *saslState
}

func (s saslStream) Next(context.Context) (*node, error) {
	if n := s.st.early; n != nil {
		s.st.early = nil
		return n, nil
	}
	return s.c.readElement()
}

func (s saslStream) Send(_ context.Context, n *node) error { return s.c.write(n) }

func b64(b []byte) string { return xmppconn.B64(b) }

func unb64(s string) ([]byte, error) {
	b, err := xmppconn.UnB64(s)
	if err != nil {
		return nil, &ProtocolError{Msg: "invalid base64 in SASL data", Err: err}
	}
	return b, nil
}

// Login authenticates with SASL on this stream, restarts the stream, binds
// a resource and hands the connection to mellium as a logged-in session.
// The returned session is ready; run its Serve method to receive stanzas
// (the functions [ChangePassword] and [Remove] need it).
//
// SCRAM is used (SCRAM-SHA-256 or SCRAM-SHA-1, with channel binding when
// the server's offer can work, see the package documentation, # Security);
// PLAIN only if Dialer.AllowPLAIN is set. A refused login returns an
// *Error of KindLoginFailed wrapping a *SASLError, and the stream stays
// usable for another attempt.
//
// After a successful Login the Conn must not be used any more; Close does
// nothing.
func (c *Conn) Login(ctx context.Context, username, password string) (*xmpp.Session, error) {
	return c.login(ctx, username, password, nil)
}

// login is Login, continuing st when the <auth/> was pipelined with the
// registration.
func (c *Conn) login(ctx context.Context, username, password string, st *saslState) (*xmpp.Session, error) {
	return c.loginWith(ctx, username, password, st, nil)
}

// loginWith is login; with SASL2 and Bind2 the session comes in the
// success (no stream restart, no separate bind), and a FAST token it
// carried is put in *tok (when tok is not nil).
func (c *Conn) loginWith(ctx context.Context, username, password string, st *saslState, tok **Token) (*xmpp.Session, error) {
	origin, err := jid.New(username, c.domain, "")
	if err != nil {
		return nil, &Error{Op: opLogin, Kind: KindInvalidUsername, Err: err}
	}
	location, err := jid.New("", c.domain, "")
	if err != nil {
		return nil, &Error{Op: opLogin, Err: err}
	}
	var sess *xmpp.Session
	err = c.do(ctx, opLogin, func(ctx context.Context) error {
		c.event(Event{Stage: StageLoggingIn, Addr: c.addr, Username: username})
		st, err := c.authenticate(ctx, username, password, st, true)
		if err != nil {
			return err
		}
		mech := st.mech.Name
		var full jid.JID
		if st.success != nil && st.success.Bound {
			full = st.bound
			if tok != nil {
				m := st.tokenMech
				if st.fast {
					m = mech
				}
				*tok = tokenOf(st.success.Token, m, st.uaID)
			}
		} else {
			full, err = c.bind(origin)
			if err != nil {
				return c.fail(&Error{Op: opLogin, Kind: KindUnknown, Err: fmt.Errorf("resource binding after %s: %w", mech, err)})
			}
		}
		hc := &handoffConn{Conn: c.t.TLS(), pre: c.handoffBytes()}
		s, err := xmpp.NewSession(ctx, location, full, hc, xmpp.Secure|xmpp.Authn, boundNegotiator(c.streamID))
		if err != nil {
			return c.fail(&Error{Op: opLogin, Kind: KindUnknown, Err: fmt.Errorf("handing the stream to mellium: %w", err)})
		}
		sess = s
		c.handedOff.Store(true)
		c.event(Event{Stage: StageLoggedIn, Addr: c.addr, Username: username, Mechanism: mech})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// checkSuccess checks a SASL2 success: its authorization identifier is
// the account (and, with Bind2, a full JID of it, bound). A server that
// says otherwise ends the stream.
func (c *Conn) checkSuccess(st *saslState) error {
	succ := st.success
	j, err := jid.Parse(succ.AuthzID)
	want := fromJID(st.username, c.domain)
	if err != nil || !strings.EqualFold(j.Bare().String(), want) {
		return c.fail(&ProtocolError{Msg: "the SASL2 success names another account"})
	}
	if st.bind {
		if !succ.Bound || j.Resourcepart() == "" {
			return c.fail(&ProtocolError{Msg: "the SASL2 success did not bind a resource (Bind2)"})
		}
		st.bound = j
	}
	return nil
}

// bind restarts the stream after SASL and binds a resource chosen by the
// server (RFC 6120 §7). With pipelining the bind request goes out with the
// new stream header, before the server's features arrive: every server
// offers resource binding after authentication, and a server that does not
// answers the request with an error. It returns the full JID.
func (c *Conn) bind(origin jid.JID) (jid.JID, error) {
	// A new stream on the same connection: a new XML decoder, but the
	// buffered bytes are kept (nothing should follow <success/>, but
	// nothing is lost if something does).
	c.t.Restart()
	id := randomID()
	req := iq("set", id, newNode(nsBind, "bind"))
	var feats *node
	var err error
	if c.pipeline {
		feats, err = c.openStream(req)
	} else {
		feats, err = c.openStream()
		if err == nil && feats.Child(nsBind, "bind") == nil {
			return jid.JID{}, c.fail(&ProtocolError{Msg: "the server does not offer resource binding"})
		}
		if err == nil {
			err = c.write(req)
		}
	}
	if err != nil {
		return jid.JID{}, err
	}
	reply, err := c.await(id)
	if err != nil {
		return jid.JID{}, err
	}
	if reply.Get("type") == "error" {
		se := parseStanzaError(reply)
		scrubStanza(&se, c.secrets...)
		if feats.Child(nsBind, "bind") == nil {
			return jid.JID{}, fmt.Errorf("the server does not offer resource binding: %w", se)
		}
		return jid.JID{}, se
	}
	jn := reply.Child(nsBind, "bind").Child(nsBind, "jid")
	if jn == nil {
		return jid.JID{}, &ProtocolError{Msg: "resource binding reply without a JID"}
	}
	j, err := jid.Parse(strings.TrimSpace(jn.Text))
	if err != nil {
		return jid.JID{}, &ProtocolError{Msg: "resource binding reply without a valid JID", Err: err}
	}
	if j.Resourcepart() == "" || !strings.EqualFold(j.Bare().String(), origin.String()) {
		return jid.JID{}, &ProtocolError{Msg: fmt.Sprintf("resource binding returned %s for %s", j, origin)}
	}
	return j, nil
}

// handoffBytes is what mellium's decoder reads first: a copy of the
// server's stream header (mellium's XML decoder needs its namespace
// declarations; the real one was read here) followed by whatever the
// stream reader had buffered after the bind reply.
func (c *Conn) handoffBytes() []byte {
	var b bytes.Buffer
	prefix := ""
	for _, a := range c.hdrDecls {
		if a.Value == nsStream {
			prefix = a.Name.Local
		}
	}
	if prefix == "" {
		prefix = "stream"
	}
	b.WriteString("<" + prefix + ":stream xmlns='jabber:client'")
	if !c.declares(prefix) {
		b.WriteString(" xmlns:" + prefix + "='" + nsStream + "'")
	}
	for _, a := range c.hdrDecls {
		b.WriteString(" xmlns:" + a.Name.Local + "='")
		xmppconn.Escape(&b, a.Value, true)
		b.WriteString("'")
	}
	b.WriteString(" version='1.0' from='")
	xmppconn.Escape(&b, c.domain, true)
	b.WriteString("' id='")
	xmppconn.Escape(&b, c.streamID, true)
	b.WriteString("'>")
	if n := c.t.Buffered().Buffered(); n > 0 {
		pre, _ := c.t.Buffered().Peek(n)
		b.Write(pre)
	}
	return b.Bytes()
}

// declares reports whether the server's header declared prefix.
func (c *Conn) declares(prefix string) bool {
	for _, a := range c.hdrDecls {
		if a.Name.Local == prefix {
			return true
		}
	}
	return false
}

// boundNegotiator is the mellium negotiator for a stream that this package
// has already authenticated and bound: it reads the copy of the stream
// header (see handoffBytes), records the stream's details and declares the
// session ready, without sending anything.
func boundNegotiator(streamID string) xmpp.Negotiator {
	return func(ctx context.Context, in, out *stream.Info, s *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, any, error) {
		r := s.TokenReader()
		defer r.Close()
		tok, err := r.Token()
		if err != nil {
			return 0, nil, nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Space != stream.NS || start.Name.Local != "stream" {
			return 0, nil, nil, fmt.Errorf("register: expected the stream header, got %T", tok)
		}
		in.Name, in.XMLNS, in.ID, in.Version = start.Name, stanza.NSClient, streamID, stream.DefaultVersion
		out.Name, out.XMLNS, out.Version = start.Name, stanza.NSClient, stream.DefaultVersion
		return xmpp.Ready, nil, nil, nil
	}
}

// handoffConn is the authenticated TLS connection given to mellium: it
// first returns the bytes of handoffBytes and reports the TLS state.
type handoffConn struct {
	*tls.Conn
	pre []byte
}

var _ net.Conn = (*handoffConn)(nil)

func (h *handoffConn) Read(p []byte) (int, error) {
	if len(h.pre) > 0 {
		n := copy(p, h.pre)
		h.pre = h.pre[n:]
		return n, nil
	}
	return h.Conn.Read(p)
}

// Confirm reports whether the account exists, by logging in on a new
// connection (and closing it again): true when the login succeeds, false
// when the server refuses the credentials (not-authorized). Use it after an
// *Error of KindOutcomeUnknown. Any other failure is returned as an error.
func (d *Dialer) Confirm(ctx context.Context, domain, username, password string) (bool, error) {
	c, err := d.dialAs(ctx, domain, username, nil, nil)
	if err != nil {
		return false, err
	}
	defer c.Close()
	err = c.do(ctx, opLogin, func(ctx context.Context) error {
		_, err := c.authenticate(ctx, username, password, nil, false)
		return err
	})
	var f *SASLError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &f) && f.Condition == SASLNotAuthorized:
		return false, nil
	}
	return false, err
}
