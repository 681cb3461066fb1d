package register

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// Stage is a step of a registration, reported to [Client.Progress].
type Stage int

// Stages in the order they happen.
const (
	// StageConnecting: a connection to Event.Addr is being opened.
	StageConnecting Stage = iota + 1
	// StageGreeted: the XMPP server at Event.Addr answered: its stream
	// header and features (before TLS with STARTTLS, after the handshake
	// with direct TLS, where a TLS terminator could answer for a dead
	// server). A server that accepts connections and never answers does
	// not get here; onboard's verification tells live providers from
	// dead ones by it.
	StageGreeted
	// StageSecured: TLS is established (Event.TLS), the certificate was
	// verified for the domain and the secured stream's features are read
	// (Event.Features).
	StageSecured
	// StageForm: the registration form was received (Event.Form).
	StageForm
	// StageSubmitting: the completed form is being sent.
	StageSubmitting
	// StageRegistered: the server accepted the registration.
	StageRegistered
	// StageLoggingIn: SASL authentication starts (with pipelining, its
	// first message already went out with the submitted form).
	StageLoggingIn
	// StageLoggedIn: logged in and a resource is bound (Event.Mechanism
	// is the SASL mechanism used).
	StageLoggedIn
)

// String returns the stage's name, such as "form received".
func (s Stage) String() string {
	switch s {
	case StageConnecting:
		return "connecting"
	case StageGreeted:
		return "greeted"
	case StageSecured:
		return "secured"
	case StageForm:
		return "form received"
	case StageSubmitting:
		return "submitting"
	case StageRegistered:
		return "registered"
	case StageLoggingIn:
		return "logging in"
	case StageLoggedIn:
		return "logged in"
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Event is a progress report.
type Event struct {
	Stage     Stage               // what happened
	Domain    string              // the XMPP domain
	Addr      string              // address connected to
	DirectTLS bool                // StageConnecting, StageGreeted, StageSecured: XEP-0368
	TLS       tls.ConnectionState // StageSecured
	Features  *Features           // StageSecured
	Form      *Form               // StageForm, StageSubmitting (do not modify)
	Username  string              // StageRegistered and later
	Mechanism string              // StageLoggedIn
}

// Client registers accounts. The zero value is ready to use.
type Client struct {
	// Dialer opens the connections.
	Dialer Dialer
	// Progress, if not nil, is called (synchronously, on the calling
	// goroutine) at each stage of Register.
	Progress func(Event)
}

// Request describes an account to register.
type Request struct {
	// Username is the wanted account name (the JID localpart). It is
	// normalised with [NormalizeUsername] before it is sent. It may be
	// empty if Solve fills it, or if Invite names the account.
	Username string
	// Password is the wanted password. It may be empty if Solve fills it.
	Password string
	// Invite is an invitation: a token or an XMPP URI such as
	// "xmpp:example.com?register;preauth=TOKEN" (see [ParseInvite]). The
	// token is sent before the form is requested (XEP-0445). A URI may
	// name the domain (then Register's domain may be "") and the account.
	// The token is sent only to a server that advertises invitations
	// (XEP-0445 or XEP-0401); elsewhere plain registration is tried. An
	// https link to an invitation page is read with InvitePages.
	Invite string
	// InvitePages, if set, fetches an invitation page when Invite is a
	// link to one ([InviteFetcher]; Prosody's
	// https://example.org/invite?TOKEN). nil means such a link is an
	// error matching ErrInvitePage: nothing is fetched unless the
	// application says so.
	InvitePages *InviteFetcher
	// Login, if true, logs in with the new account on the same stream
	// after the registration (SASL and resource binding, no new
	// connection); Account.Session is then the logged-in session.
	Login bool
	// Force submits even if the server does not advertise in-band
	// registration.
	Force bool
	// Solve is called when the form needs more than the username and
	// password: a CAPTCHA (Form.Captcha) or other required fields (see
	// [Form.Missing]). It fills the form with [Form.Set]; it may also change
	// the username and password. If Solve is nil, such a form ends the
	// registration with an *Error of KindFormIncomplete whose Form field
	// holds the form; so does an error from Solve (wrapped in Error.Err).
	// Solve runs while the connection is open and idle: servers drop idle
	// unauthenticated streams after a while (ejabberd's CAPTCHA is valid
	// for 120 s).
	Solve func(ctx context.Context, f *Form) error
}

// String describes the request without its secrets: the password and the
// invitation are shown as "[redacted]" when set (value receiver, so that
// printing a Request with any verb, %+v included, is safe).
func (r Request) String() string {
	hide := func(s string) string {
		if s == "" {
			return `""`
		}
		return redactedStr
	}
	return fmt.Sprintf("register.Request{Username: %q, Password: %s, Invite: %s, Login: %v, Force: %v}",
		r.Username, hide(r.Password), hide(r.Invite), r.Login, r.Force)
}

// GoString is String, for %#v.
func (r Request) GoString() string { return r.String() }

// Account is a registered account.
type Account struct {
	// JID is the bare address user@domain.
	JID jid.JID
	// Password is the password (never printed by String or GoString).
	Password string
	// Session is the logged-in session when Request.Login was set, else
	// nil. The caller owns it: run its Serve method, and end it with
	// Session.Close (which sends the stream end) and Session.Conn().Close().
	Session *xmpp.Session
	// Token is the XEP-0484 FAST token the server issued at the SASL2
	// login, for [Dialer.LoginFAST]; nil without one. Neither String nor
	// GoString shows it; keeping it is the application's choice.
	Token *Token
}

// String returns the address; the password is not shown (value receiver,
// so printing an Account value is safe too).
func (a Account) String() string {
	return "register.Account{" + a.JID.String() + ", password " + redactedStr + "}"
}

// GoString is String, so that %#v hides the password too.
func (a Account) GoString() string { return a.String() }

// NormalizeUsername returns the canonical form of an account name (PRECIS
// UsernameCaseMapped, as servers apply it: "Alice" becomes "alice"), or an
// *Error of KindInvalidUsername.
func NormalizeUsername(username string) (string, error) {
	if username == "" {
		return "", &Error{Op: opSubmit, Kind: KindInvalidUsername, Err: errors.New("empty username")}
	}
	j, err := jid.New(username, "example.net", "")
	if err != nil {
		return "", &Error{Op: opSubmit, Kind: KindInvalidUsername, Err: fmt.Errorf("%q is not a valid JID localpart: %w", username, err)}
	}
	return j.Localpart(), nil
}

// errPlainMedia says why a CAPTCHA cannot be shown.
var errPlainMedia = errors.New("the CAPTCHA's media is offered over plain http only (not offered)")

// Register creates an account on domain: it connects ([Dialer.Dial]),
// sends the invitation token if any, gets the form, fills in the username
// and password, lets Solve complete the rest, submits it and, if
// req.Login is set, logs in on the same stream.
//
// domain may be "" when req.Invite is a URI naming the server.
//
// Errors are *Error values classified by Kind. When the account was
// created but the login failed, Register returns the Account (without
// Session) and an error matching ErrLoginFailed. When the connection fails
// after the form was sent, the error matches ErrOutcomeUnknown and holds
// the credentials; [Dialer.Confirm] tells whether the account exists.
func (c *Client) Register(ctx context.Context, domain string, req Request) (*Account, error) {
	var token string
	if req.Invite != "" {
		inv, err := ParseInvite(req.Invite)
		if errors.Is(err, ErrInvitePage) && req.InvitePages != nil {
			inv, err = req.InvitePages.Resolve(ctx, req.Invite)
		}
		if err != nil {
			return nil, &Error{Op: opPreauth, Kind: KindInviteInvalid, Err: err}
		}
		token = inv.Token
		if inv.Domain != "" {
			d1, _ := normalizeDomain(domain)
			switch {
			case domain == "":
				domain = inv.Domain
			case d1 != inv.Domain:
				return nil, &Error{Op: opPreauth, Kind: KindInviteInvalid, Err: fmt.Errorf("the invitation is for %s, not %s", inv.Domain, domain)}
			}
		}
		if inv.Username != "" {
			switch u, _ := NormalizeUsername(req.Username); {
			case req.Username == "":
				req.Username = inv.Username
			case u != inv.Username:
				return nil, &Error{Op: opPreauth, Kind: KindInvalidUsername, Err: fmt.Errorf("the invitation is for the account %q", inv.Username)}
			}
		}
	}
	if req.Username != "" {
		u, err := NormalizeUsername(req.Username)
		if err != nil {
			return nil, err
		}
		req.Username = u
	}
	// The form request (and the token) go out with the secured stream
	// header.
	conn, f, err := c.Dialer.DialForm(ctx, domain, FormOptions{Token: token, Force: req.Force, Progress: c.Progress, Username: req.Username})
	if err != nil {
		return nil, err
	}
	handedOff := false
	defer func() {
		if !handedOff {
			conn.Close()
		}
	}()
	if f.Registered {
		// XEP-0077 §3.1: the server has a registration on file for this
		// stream; a submission would change it, not create an account.
		return nil, &Error{Op: opForm, Kind: KindAlreadyRegistered, Form: f}
	}
	if f.WebOnly() {
		return nil, f.webOnly(opForm)
	}
	if req.Username != "" {
		if err := f.SetUsername(req.Username); err != nil {
			return nil, err
		}
	}
	if req.Password != "" {
		if err := f.SetPassword(req.Password); err != nil {
			return nil, err
		}
	}
	if f.Captcha != nil || len(f.Missing()) > 0 {
		if req.Solve == nil {
			e := &Error{Op: opForm, Kind: KindFormIncomplete, Form: f}
			for _, fl := range f.Missing() {
				e.Fields = append(e.Fields, fl.Var)
			}
			if f.Captcha != nil && len(e.Fields) == 0 {
				e.Fields = []string{f.Captcha.Field}
			}
			if c := f.Captcha; c != nil && c.PlainHTTP && len(c.Image) == 0 {
				e.Err = errPlainMedia
			}
			return nil, e
		}
		if err := req.Solve(ctx, f); err != nil {
			e := &Error{Op: opForm, Kind: KindFormIncomplete, Form: f, Err: fmt.Errorf("Solve: %w", err)}
			for _, fl := range f.Missing() {
				e.Fields = append(e.Fields, fl.Var)
			}
			return nil, e
		}
	}
	acct, err := conn.Register(ctx, f, req.Login)
	if acct != nil && acct.Session != nil {
		handedOff = true
	}
	return acct, err
}
