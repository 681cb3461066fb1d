package register

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard/internal/saslclient"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// SASL2Options configure XEP-0388 SASL2 logins. Servers offer SASL2 (and
// XEP-0386 Bind2, XEP-0484 FAST) to a secured stream header that names the
// account (from='user@domain'); this package sends one whenever it knows
// the account before the stream opens ([Client.Register] with a
// Request.Username, [Dialer.Login], [Dialer.LoginFAST], [Dialer.Confirm],
// [FormOptions.Username]) and never before TLS. ejabberd 24.12 refuses a
// SASL2 login as another account than the header named, so SASL2 is used
// only for the account announced, or when nothing was announced. With
// Bind2 the session comes in the SASL2 success: no stream restart and no
// separate resource binding (one round trip fewer). Servers without SASL2
// get RFC 6120 SASL as before. The zero value uses SASL2 where offered
// and asks for a FAST token.
type SASL2Options struct {
	// Disable uses RFC 6120 SASL even where SASL2 is offered.
	Disable bool
	// NoToken does not ask for a FAST token at login.
	NoToken bool
	// StreamManagement asks for XEP-0198 stream management inline in
	// Bind2 where offered. mellium.im/xmpp v0.23.0 does not implement
	// XEP-0198: an application that sets it must answer the server's
	// <r/> itself (Prosody closes a session whose unacknowledged queue
	// overflows).
	StreamManagement bool
	// UserAgentID is the XEP-0388 user-agent id, a UUID that stays the
	// same for one installation of the application (servers keep FAST
	// tokens per id); "" makes a random one per login, recorded in the
	// Token.
	UserAgentID string
	// Software and Device name the application in the user-agent
	// (default "onboard" and none).
	Software, Device string
	// Tag is the Bind2 tag the server builds the resource from (default
	// "onboard").
	Tag string
}

// Token is a XEP-0484 FAST token: a secret the server issued at a login,
// which [Dialer.LoginFAST] uses instead of the password. It is as
// valuable as the password until it expires: String and GoString do not
// show it, nothing in this package logs or stores it, and where it is kept
// is the application's choice.
type Token struct {
	// Secret is the token.
	Secret string
	// Expiry is when the server said it expires (zero if it did not).
	Expiry time.Time
	// Mechanism is the HT-SHA-256-* mechanism it was issued for.
	Mechanism string
	// UserAgentID is the user-agent id it was issued to; a FAST login
	// must send the same.
	UserAgentID string
}

// String returns the mechanism and expiry, never the secret.
func (t *Token) String() string {
	if t == nil {
		return "<nil>"
	}
	exp := "no expiry"
	if !t.Expiry.IsZero() {
		exp = "expires " + t.Expiry.UTC().Format(time.RFC3339)
	}
	return "FAST token [redacted] (" + t.Mechanism + ", " + exp + ")"
}

// GoString is String, for %#v.
func (t *Token) GoString() string { return t.String() }

// Format makes every verb print String.
func (t *Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// ErrTokenUnusable is matched by the error of a FAST login whose token
// cannot be used on this connection: empty, expired, for a mechanism the
// server does not offer or a channel binding the connection lacks.
var ErrTokenUnusable = errors.New("register: FAST token unusable")

// fromJID is the JID announced in the secured stream header.
func fromJID(user, domain string) string {
	if user == "" {
		return ""
	}
	j, err := jid.New(user, domain, "")
	if err != nil {
		return ""
	}
	return j.String()
}

// lateNodes returns the elements of pf to send with the secured stream
// header, computed once TLS is up.
func (pf *prefetch) lateNodes(c *Conn) ([]*node, error) {
	if pf == nil || pf.late == nil || !c.pipeline {
		return nil, nil
	}
	return pf.late(c)
}

// useSASL2 reports whether a login as username goes through SASL2: it is
// offered with Bind2 (or bind is not wanted), and the stream announced
// that account or none.
func (c *Conn) useSASL2(username string, bind bool) bool {
	if c.sasl2.Disable || len(c.features.SASL2) == 0 || bind && !c.features.Bind2 {
		return false
	}
	return c.from == "" || strings.EqualFold(c.from, fromJID(username, c.domain))
}

// userAgentID returns the configured id or a random UUID (version 4).
func (o SASL2Options) userAgentID() string {
	if o.UserAgentID != "" {
		return o.UserAgentID
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// authenticate2 returns the XEP-0388 extras of a login: user-agent,
// Bind2 (when bind), SM and the FAST token request as configured and
// offered.
func (c *Conn) authenticate2(bind bool, cs saslclient.Choice) (xmppconn.Authenticate, string) {
	o := c.sasl2
	a := xmppconn.Authenticate{UserAgentID: o.userAgentID(), Software: o.Software, Device: o.Device}
	if a.Software == "" {
		a.Software = "onboard"
	}
	if bind {
		tag := o.Tag
		if tag == "" {
			tag = "onboard"
		}
		a.Bind = &xmppconn.Bind2{Tag: tag, EnableSM: o.StreamManagement && c.features.StreamManagement}
		if !o.NoToken && !strings.HasPrefix(cs.Name, "HT-") {
			if m, ok := saslclient.ChooseFAST(c.features.FAST, c.features.ChannelBindings, c.t.TLS().ConnectionState()); ok {
				a.RequestToken = m.Name
			}
		}
	}
	return a, a.UserAgentID
}

// token turns the token of a SASL2 success into a Token.
func tokenOf(t *xmppconn.FASTToken, mech, uaID string) *Token {
	if t == nil {
		return nil
	}
	return &Token{Secret: t.Token, Expiry: t.Expiry, Mechanism: mech, UserAgentID: uaID}
}

// Login connects to domain, announcing the account (so that servers
// offer SASL2, Bind2 and FAST), and logs in as username: with SASL2 and
// Bind2 where offered (the session comes in the success, and a FAST token
// in Account.Token unless SASL2Options.NoToken), else as [Conn.Login]
// does. The Account's Session is ready (run its Serve).
func (d *Dialer) Login(ctx context.Context, domain, username, password string) (*Account, error) {
	c, err := d.dialAs(ctx, domain, username, nil, nil)
	if err != nil {
		return nil, err
	}
	a, err := c.loginAccount(ctx, username, password, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	return a, nil
}

// LoginFAST logs in to the account addr (a bare JID) with the FAST token
// t (XEP-0484) instead of the password, on a new connection, and returns
// the bound session in Account.Session. The <authenticate/> goes out with
// the secured stream header: a FAST login takes three round trips on
// direct TLS (TCP, TLS, authentication with binding). A token the server
// replaced comes back in Account.Token (nil if it did not). A refused
// token is an *Error of KindLoginFailed wrapping a *SASLError (log in
// with the password, and ask for a new token); one that cannot be used
// here matches ErrTokenUnusable.
func (d *Dialer) LoginFAST(ctx context.Context, addr jid.JID, t *Token) (*Account, error) {
	if t == nil || t.Secret == "" || t.Mechanism == "" || !t.Expiry.IsZero() && time.Now().After(t.Expiry) {
		return nil, &Error{Op: opLogin, Kind: KindLoginFailed, Err: fmt.Errorf("%w: empty or expired", ErrTokenUnusable)}
	}
	user := addr.Localpart()
	if user == "" {
		return nil, &Error{Op: opLogin, Kind: KindInvalidUsername, Err: errors.New("register: a FAST login needs user@domain")}
	}
	var st *saslState
	pf := &prefetch{noForm: true, late: func(c *Conn) ([]*node, error) {
		var auth *node
		var err error
		st, auth, err = c.fastStart(context.Background(), user, t)
		if err != nil {
			return nil, err
		}
		return []*node{auth}, nil
	}}
	if d.NoPipelining {
		pf = nil
	}
	c, err := d.dialAs(ctx, addr.Domainpart(), user, nil, pf)
	if err != nil {
		return nil, err
	}
	if st == nil {
		// Without pipelining: after the features.
		var auth *node
		err = c.do(ctx, opLogin, func(ctx context.Context) error {
			if !c.useSASL2(user, true) {
				return &Error{Op: opLogin, Kind: KindLoginFailed, Err: fmt.Errorf("%w: the server offers no SASL2 with Bind2", ErrTokenUnusable)}
			}
			st, auth, err = c.fastStart(ctx, user, t)
			if err != nil {
				return err
			}
			return c.write(auth)
		})
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	a, err := c.loginAccount(ctx, user, t.Secret, st)
	if err != nil {
		c.Close()
		return nil, err
	}
	return a, nil
}

// fastStart begins a FAST authentication with token t.
func (c *Conn) fastStart(ctx context.Context, user string, t *Token) (*saslState, *node, error) {
	cs := c.t.TLS().ConnectionState()
	mech := saslclient.Choice{Name: t.Mechanism}
	for _, m := range []struct{ name, cb string }{
		{"HT-SHA-256-EXPR", saslclient.BindingExporter}, {"HT-SHA-256-ENDP", saslclient.BindingServerEndPoint},
		{"HT-SHA-256-UNIQ", saslclient.BindingUnique},
	} {
		if strings.EqualFold(m.name, t.Mechanism) {
			mech.Binding = m.cb
		}
	}
	if !saslclient.Implemented(mech.Name) || !strings.HasPrefix(strings.ToUpper(mech.Name), "HT-") {
		return nil, nil, &Error{Op: opLogin, Kind: KindLoginFailed, Err: fmt.Errorf("%w: mechanism %q", ErrTokenUnusable, t.Mechanism)}
	}
	c.addSecrets(t.Secret)
	neg, err := saslclient.NewClient(saslclient.Config{Mechanism: mech.Name, Binding: mech.Binding, Username: user, Password: t.Secret, TLS: cs})
	if err != nil {
		return nil, nil, &Error{Op: opLogin, Kind: KindLoginFailed, Err: fmt.Errorf("%w: %w", ErrTokenUnusable, err)}
	}
	o := c.sasl2
	o.UserAgentID = t.UserAgentID
	saved := c.sasl2
	c.sasl2 = o
	a, uaID := c.authenticate2(true, mech)
	c.sasl2 = saved
	a.FAST, a.Count = true, time.Now().UnixMilli()
	auth, err := xmppconn.AuthenticateElement(ctx, neg, a)
	if err != nil {
		return nil, nil, &Error{Op: opLogin, Kind: KindLoginFailed, Err: err}
	}
	return &saslState{mech: mech, neg: neg, sasl2: true, bind: true, uaID: uaID, fast: true, username: user}, auth, nil
}

// loginAccount is login returning the Account with the FAST token.
func (c *Conn) loginAccount(ctx context.Context, username, password string, st *saslState) (*Account, error) {
	var tok *Token
	s, err := c.loginWith(ctx, username, password, st, &tok)
	if err != nil {
		return nil, err
	}
	j, _ := jid.New(username, c.domain, "")
	return &Account{JID: j, Session: s, Token: tok}, nil
}

// ErrDowngrade is matched by the error of a login refused because the
// server's XEP-0474 downgrade-protection hash (in its SCRAM first message,
// SASL or SASL2) does not match the mechanisms and channel-binding types
// this client was offered: something between them removed some. Nothing
// that proves the password was sent.
var ErrDowngrade = saslclient.ErrDowngrade
