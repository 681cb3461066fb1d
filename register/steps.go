package register

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmpp/jid"
)

// ErrNoMechanism is matched by the error of a registration with login
// that was not submitted because the server offers no SASL mechanism this
// package can log in with: the account would exist but be unusable.
var ErrNoMechanism = errors.New("register: no usable SASL mechanism")

// FormOptions are the options of [Dialer.DialForm].
type FormOptions struct {
	// Token is an invitation token (XEP-0445), sent before the form is
	// requested when the server advertises invitations (XEP-0445's
	// urn:xmpp:ibr-token:0 or XEP-0401's urn:xmpp:invite); without that
	// feature it is not sent and plain registration is tried. "" for
	// none.
	Token string
	// Force requests the form even if the server does not advertise
	// in-band registration. A token forces it too.
	Force bool
	// Progress, if set, receives the events of the dial and the form.
	Progress func(Event)
	// Username, if known before the form (the name the account will
	// have), is announced in the secured stream header (from=) so that
	// servers offer SASL2 (XEP-0388) with Bind2 for the login after the
	// registration (see [SASL2Options]); the form's username must then
	// stay the same for SASL2 to be used.
	Username string
}

// DialForm is the first of the two steps of [Client.Register], for
// applications that drive the registration themselves (onboard.Signup
// does): it connects to domain as [Dialer.Dial] does, with the request for
// the registration form sent in the same write as the secured stream
// header, so that the form arrives one round trip sooner than with Dial and
// [Conn.Form]. With an invitation token the token and the form request
// wait for the features: the token goes only to a server that advertises
// invitations. A server that does not
// advertise in-band registration is refused with an *Error of
// KindNotAdvertised, unless o.Force or o.Token is set; a web-only form is
// returned with the connection (see Form.WebOnly).
//
// Fill the form, then call [Conn.Register]. Close the connection if the
// form is not submitted.
func (d *Dialer) DialForm(ctx context.Context, domain string, o FormOptions) (*Conn, *Form, error) {
	// An invitation token goes out only to a server that advertises
	// invitations (XEP-0445 or XEP-0401), so its requests wait for the
	// features; without that feature plain registration is tried.
	var pf *prefetch
	if o.Token == "" {
		pf = &prefetch{}
	}
	user := ""
	if o.Username != "" {
		user, _ = NormalizeUsername(o.Username)
	}
	conn, err := d.dialAs(ctx, domain, user, o.Progress, pf)
	if err != nil {
		return nil, nil, err
	}
	if !conn.Features().Register && !o.Force && o.Token == "" {
		conn.Close()
		return nil, nil, &Error{Op: opForm, Kind: KindNotAdvertised}
	}
	token := o.Token
	if !conn.Features().Invites() {
		token = ""
	}
	f, err := conn.formWith(ctx, token)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, f, nil
}

// SetProgress replaces the Progress function given at dial for the steps
// that follow, for an application that gets the form on one goroutine and
// registers on another (f is called on the goroutine of each call). nil
// stops the events.
func (c *Conn) SetProgress(f func(Event)) { c.progress = f }

// Register is the second step of [Client.Register]: it submits the filled
// form f and, if login is set, logs in with the new account on the same
// stream, binds a resource and returns the session in Account.Session.
// The SASL <auth/> goes out in the same write as the submission, so the
// session comes one round trip sooner than with [Conn.Submit] and
// [Conn.Login].
//
// A refused registration returns its *Error (a new form, for a wrong
// CAPTCHA answer, in Error.Form) and the stream stays usable for another
// submission: a new name, a new answer. Only the first submission of a
// stream carries the <auth/> (a refused registration makes it fail too,
// which a server may count against the client's address).
//
// The other errors are those of Client.Register: ErrOutcomeUnknown with
// the credentials when the connection broke after the submission, and the
// Account with an error matching ErrLoginFailed when the account was
// created but the login failed. After a successful login the Conn must not
// be used any more.
func (c *Conn) Register(ctx context.Context, f *Form, login bool) (*Account, error) {
	user, err := NormalizeUsername(f.Username())
	if err != nil {
		return nil, err
	}
	if user != f.Username() {
		f.SetUsername(user)
	}
	pass := f.Password()
	if pass == "" {
		return nil, &Error{Op: opSubmit, Kind: KindFormIncomplete, Fields: []string{"password"}}
	}
	as := ""
	if login {
		as = user
		// Never create an account that cannot be logged into: the
		// mechanisms are known before the submission.
		// The mechanisms of the profile the login will use (SASL2 or
		// RFC 6120's).
		offered := c.offered(c.useSASL2(user, true))
		if _, ok := chooseMechanism(Features{Mechanisms: offered, ChannelBindings: c.features.ChannelBindings}, c.t.TLS().ConnectionState(), c.allowPlain); !ok {
			return nil, &Error{Op: opSubmit, Kind: KindLoginFailed, Err: fmt.Errorf("%w: nothing was submitted, the server offers %v (PLAIN allowed: %v)",
				ErrNoMechanism, offered, c.allowPlain)}
		}
	}
	st, err := c.submit(ctx, f, as)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == KindOutcomeUnknown {
			e.Username, e.Password = user, pass
		}
		return nil, err
	}
	j, err := jid.New(user, c.Domain(), "")
	if err != nil {
		return nil, &Error{Op: opSubmit, Kind: KindInvalidUsername, Err: err}
	}
	acct := &Account{JID: j, Password: pass}
	if !login {
		return acct, nil
	}
	s, err := c.loginWith(ctx, user, pass, st, &acct.Token)
	if err != nil {
		return acct, loginError(ctx, user, pass, err)
	}
	acct.Session = s
	return acct, nil
}

// loginError is the error of a failed login after a registration: an
// *Error of KindLoginFailed with the credentials, which matches ctx's
// error when ctx cut the login short.
func loginError(ctx context.Context, user, pass string, err error) error {
	e := &Error{Op: opLogin, Kind: KindLoginFailed, Username: user, Password: pass, Err: err}
	var inner *Error
	if errors.As(err, &inner) {
		inner.Username, inner.Password = user, pass
		if inner.Kind == KindLoginFailed {
			e = inner
		} else {
			e.Err = err
		}
	}
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		// The connection's deadline (set from ctx) fired a moment
		// before ctx reports it.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(e, cerr) {
		e.Err = fmt.Errorf("%w (%w)", cerr, e.Err)
	}
	return e
}
