package register

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// SASLError is a SASL <failure/> from the server (RFC 6120 §6.5).
type SASLError struct {
	// Mechanism is the mechanism that failed.
	Mechanism string
	// Condition is the failure condition, such as "not-authorized".
	Condition string
	// Text is the server's description, if any.
	Text string
}

// Error returns "SASL MECHANISM failed: CONDITION (TEXT)".
func (e *SASLError) Error() string {
	s := "SASL " + e.Mechanism + " failed: " + e.Condition
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return s
}

// mechanisms in order of preference. The -PLUS variants bind the
// authentication to the TLS channel.
var scramOrder = []sasl.Mechanism{sasl.ScramSha256Plus, sasl.ScramSha1Plus, sasl.ScramSha256, sasl.ScramSha1}

// plusFallback maps a -PLUS mechanism to the same SCRAM without channel
// binding.
func plusFallback(name string) (sasl.Mechanism, bool) {
	switch name {
	case sasl.ScramSha256Plus.Name:
		return sasl.ScramSha256, true
	case sasl.ScramSha1Plus.Name:
		return sasl.ScramSha1, true
	}
	return sasl.Mechanism{}, false
}

// chooseMechanism picks the best mechanism the server offers.
func chooseMechanism(offered []string, cs tls.ConnectionState, allowPlain bool) (sasl.Mechanism, bool) {
	has := func(name string) bool {
		for _, m := range offered {
			if strings.EqualFold(m, name) {
				return true
			}
		}
		return false
	}
	cbOK := cs.Version >= tls.VersionTLS13 || len(cs.TLSUnique) > 0
	for _, m := range scramOrder {
		if strings.HasSuffix(m.Name, "-PLUS") && !cbOK {
			continue
		}
		if has(m.Name) {
			return m, true
		}
	}
	if allowPlain && has(sasl.Plain.Name) {
		return sasl.Plain, true
	}
	return sasl.Mechanism{}, false
}

// authenticate runs SASL on the stream. If a -PLUS mechanism fails, it is
// retried on the same stream without channel binding: ejabberd 23.01
// advertises SCRAM-SHA-1-PLUS on TLS 1.3 but rejects the tls-exporter
// binding ("Invalid channel binding"). The certificate has been verified
// for the domain, so the retry does not open a path for a machine in the
// middle.
func (c *Conn) authenticate(ctx context.Context, username, password string) (string, error) {
	c.addSecrets(password)
	cs := c.tls.ConnectionState()
	mech, ok := chooseMechanism(c.features.Mechanisms, cs, c.allowPlain)
	if !ok {
		return "", &Error{Op: opLogin, Kind: KindLoginFailed, Err: fmt.Errorf("no supported SASL mechanism among %v (PLAIN allowed: %v)", c.features.Mechanisms, c.allowPlain)}
	}
	err := c.saslExchange(username, password, mech, cs)
	var fail *SASLError
	if fb, plus := plusFallback(mech.Name); plus && errors.As(err, &fail) {
		mech = fb
		has := false
		for _, m := range c.features.Mechanisms {
			has = has || strings.EqualFold(m, fb.Name)
		}
		if !has {
			// Prefer whatever plain SCRAM is offered.
			if m, ok := chooseMechanism(c.features.Mechanisms, tls.ConnectionState{}, false); ok {
				mech = m
			}
		}
		err = c.saslExchange(username, password, mech, cs)
	}
	if err != nil {
		return mech.Name, &Error{Op: opLogin, Kind: KindLoginFailed, Err: err}
	}
	return mech.Name, nil
}

// saslExchange runs one SASL negotiation.
func (c *Conn) saslExchange(username, password string, mech sasl.Mechanism, cs tls.ConnectionState) error {
	neg := sasl.NewClient(mech,
		sasl.Credentials(func() ([]byte, []byte, []byte) {
			return []byte(username), []byte(password), nil
		}),
		sasl.RemoteMechanisms(c.features.Mechanisms...),
		sasl.TLSState(cs),
	)
	more, resp, err := neg.Step(nil)
	if err != nil {
		return err
	}
	if err := c.write(newNode(nsSASL, "auth", "mechanism", mech.Name).withText(b64(resp))); err != nil {
		return err
	}
	for i := 0; i < 8; i++ {
		n, err := c.readElement()
		if err != nil {
			return err
		}
		switch {
		case n.is(nsSASL, "challenge"):
			data, err := unb64(n.text)
			if err != nil {
				return c.fail(err)
			}
			if !more {
				return c.fail(&ProtocolError{Msg: "unexpected SASL challenge"})
			}
			more, resp, err = neg.Step(data)
			if err != nil {
				// Abort politely; the stream stays usable.
				if werr := c.write(newNode(nsSASL, "abort")); werr != nil {
					return werr
				}
				if _, rerr := c.readElement(); rerr != nil {
					return rerr
				}
				return fmt.Errorf("SASL %s: %w", mech.Name, err)
			}
			if err := c.write(newNode(nsSASL, "response").withText(b64(resp))); err != nil {
				return err
			}
		case n.is(nsSASL, "success"):
			data, err := unb64(n.text)
			if err != nil {
				return c.fail(err)
			}
			if more {
				// Verify the server's signature (SCRAM server-final
				// message): without it the server is not proven to know
				// the password.
				if _, _, err := neg.Step(data); err != nil {
					return c.fail(&ProtocolError{Msg: "SASL success without a valid server signature", Err: err})
				}
			}
			return nil
		case n.is(nsSASL, "failure"):
			f := &SASLError{Mechanism: mech.Name, Condition: "undefined-condition"}
			for _, k := range n.kids {
				if k.name.Space != nsSASL {
					continue
				}
				if k.name.Local == "text" {
					f.Text = scrub(strings.TrimSpace(k.text), password)
				} else if f.Condition == "undefined-condition" {
					f.Condition = k.name.Local
				}
			}
			return f
		}
	}
	return c.fail(&ProtocolError{Msg: "SASL negotiation did not end"})
}

func b64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

func unb64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "=" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, &ProtocolError{Msg: "invalid base64 in SASL data", Err: err}
	}
	return b, nil
}

// Login authenticates with SASL on this stream and hands the
// authenticated connection to mellium, which restarts the stream and binds
// a resource. The returned session is ready; run its Serve method to
// receive stanzas (the functions [ChangePassword] and [Remove] need it).
//
// SCRAM is used (SCRAM-SHA-256 or SCRAM-SHA-1, with channel binding when
// the server offers -PLUS and without it when the binding is refused);
// PLAIN only if Dialer.AllowPLAIN is set. A refused login returns an
// *Error of KindLoginFailed wrapping a *SASLError, and the stream stays
// usable for another attempt.
//
// After a successful Login the Conn must not be used any more; Close does
// nothing.
func (c *Conn) Login(ctx context.Context, username, password string) (*xmpp.Session, error) {
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
		mech, err := c.authenticate(ctx, username, password)
		if err != nil {
			return err
		}
		var pre []byte
		if n := c.br.Buffered(); n > 0 {
			pre, _ = c.br.Peek(n)
			pre = append([]byte(nil), pre...)
		}
		hc := &handoffConn{Conn: c.tls, pre: pre, debug: c.debug}
		hc.active.Store(c.debug != nil)
		s, err := xmpp.NewSession(ctx, location, origin, hc, xmpp.Secure|xmpp.Authn,
			xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
				return xmpp.StreamConfig{Features: []xmpp.StreamFeature{xmpp.BindResource()}}
			}))
		hc.active.Store(false)
		if err != nil {
			return c.fail(&Error{Op: opLogin, Kind: KindUnknown, Err: fmt.Errorf("resource binding after %s: %w", mech, err)})
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

// handoffConn is the authenticated TLS connection given to mellium: it
// first returns bytes the stream reader had buffered, shows the resource
// binding to the Debug hook and reports the TLS state.
type handoffConn struct {
	*tls.Conn
	pre    []byte
	debug  func(string, []byte)
	active atomic.Bool
}

var _ net.Conn = (*handoffConn)(nil)

func (h *handoffConn) Read(p []byte) (int, error) {
	if len(h.pre) > 0 {
		n := copy(p, h.pre)
		h.pre = h.pre[n:]
		h.show("in", p[:n])
		return n, nil
	}
	n, err := h.Conn.Read(p)
	h.show("in", p[:n])
	return n, err
}

func (h *handoffConn) Write(p []byte) (int, error) {
	h.show("out", p)
	return h.Conn.Write(p)
}

func (h *handoffConn) show(dir string, p []byte) {
	if len(p) > 0 && h.active.Load() {
		h.debug(dir, append([]byte(nil), p...))
	}
}

// Confirm reports whether the account exists, by logging in on a new
// connection (and closing it again): true when the login succeeds, false
// when the server refuses the credentials (not-authorized). Use it after an
// *Error of KindOutcomeUnknown. Any other failure is returned as an error.
func (d *Dialer) Confirm(ctx context.Context, domain, username, password string) (bool, error) {
	c, err := d.Dial(ctx, domain)
	if err != nil {
		return false, err
	}
	defer c.Close()
	err = c.do(ctx, opLogin, func(ctx context.Context) error {
		_, err := c.authenticate(ctx, username, password)
		return err
	})
	var f *SASLError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &f) && f.Condition == "not-authorized":
		return false, nil
	}
	return false, err
}
