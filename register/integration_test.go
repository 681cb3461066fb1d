package register_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/stanza"

	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// Integration tests against real Prosody 0.12 and ejabberd 23.01 started by
// internal/testserver. They are skipped when the servers are not installed
// (and fail under CI=true).

var userSeq atomic.Int64

// newUser returns a fresh username.
func newUser(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, userSeq.Add(1))
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// debugLog collects the Debug output and fails the test if a secret shows
// up in it.
type debugLog struct {
	mu      sync.Mutex
	b       strings.Builder
	secrets []string
}

func (l *debugLog) hook(dir string, xml []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, "%s: %s\n", dir, xml)
}

func (l *debugLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// watch registers a check that no secret appeared in the debug output.
func watch(t *testing.T, d *register.Dialer, secrets ...string) *debugLog {
	l := &debugLog{secrets: secrets}
	d.Debug = l.hook
	t.Cleanup(func() {
		out := l.String()
		for _, s := range l.secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("debug output contains a secret %q", s[:2]+"…")
			}
		}
		if t.Failed() {
			t.Logf("debug output:\n%s", out)
		}
	})
	return l
}

func dialerFor(srv *testserver.Server, direct bool) register.Dialer {
	d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}
	if direct {
		d.Addr, d.DirectTLS = srv.DirectTLSAddr, true
	}
	return d
}

// serve runs s.Serve until the test ends.
func serve(t *testing.T, s *xmpp.Session) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(nil)
	}()
	t.Cleanup(func() {
		s.Close()
		s.Conn().Close()
		<-done
	})
}

// login logs in with an existing account on a new connection.
func login(t *testing.T, ctx context.Context, d register.Dialer, domain, user, pass string) (*xmpp.Session, error) {
	t.Helper()
	c, err := d.Dial(ctx, domain)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	s, err := c.Login(ctx, user, pass)
	if err != nil {
		c.Close()
		return nil, err
	}
	serve(t, s)
	return s, nil
}

// confirm checks whether an account exists by logging in.
func confirm(t *testing.T, ctx context.Context, d register.Dialer, domain, user, pass string, want bool) {
	t.Helper()
	got, err := d.Confirm(ctx, domain, user, pass)
	if err != nil {
		t.Fatalf("Confirm(%s): %v", user, err)
	}
	if got != want {
		t.Fatalf("Confirm(%s) = %v, want %v", user, got, want)
	}
}

// wantKind checks that err is an *Error of kind k matching its sentinel.
func wantKind(t *testing.T, err error, k register.Kind) *register.Error {
	t.Helper()
	var e *register.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *register.Error of kind %v", err, err, k)
	}
	if e.Kind != k || !errors.Is(err, k.Sentinel()) {
		t.Fatalf("err = %v: kind %v, want %v", err, e.Kind, k)
	}
	t.Logf("got expected error: %v", err)
	return e
}

// accountLifecycle registers (and logs in on the same stream), checks
// conflict, changes the password, checks that the old one is refused,
// removes the account and checks that login then fails.
func accountLifecycle(t *testing.T, srv *testserver.Server, direct bool) {
	ctx := testCtx(t)
	user, pass, newPass := newUser("life"), "first-Passw0rd-x", "second-Passw0rd-y"
	d := dialerFor(srv, direct)
	watch(t, &d, pass, newPass)
	c := register.Client{Dialer: d}
	var secured register.Event
	c.Progress = func(e register.Event) {
		if e.Stage == register.StageSecured {
			secured = e
		}
	}
	acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: pass, Login: true})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if secured.DirectTLS != direct || secured.TLS.Version == 0 {
		t.Errorf("secured event = direct %v, TLS %x", secured.DirectTLS, secured.TLS.Version)
	}
	s := acct.Session
	if s == nil || s.State()&xmpp.Ready == 0 || s.LocalAddr().Bare().String() != user+"@"+srv.Domain {
		t.Fatalf("session not logged in as %s: %v", user, s.LocalAddr())
	}
	serve(t, s)

	// Conflict on a second registration.
	_, err = c.Register(ctx, srv.Domain, register.Request{Username: user, Password: "whatever-123456"})
	e := wantKind(t, err, register.KindUsernameTaken)
	if !errors.Is(err, stanza.Error{Condition: stanza.Conflict}) || e.Stanza.Type != stanza.Cancel {
		t.Errorf("conflict error = %v", err)
	}

	// Password change.
	if err := register.ChangePassword(ctx, s, pass, newPass); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	confirm(t, ctx, d, srv.Domain, user, pass, false)
	confirm(t, ctx, d, srv.Domain, user, newPass, true)

	// Removal on a fresh session.
	s2, err := login(t, ctx, d, srv.Domain, user, newPass)
	if err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if err := register.Remove(ctx, s2, newPass); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	_, err = login(t, ctx, d, srv.Domain, user, newPass)
	wantKind(t, err, register.KindLoginFailed)
	var sf *register.SASLError
	if !errors.As(err, &sf) || sf.Condition != "not-authorized" {
		t.Errorf("login after removal: %v", err)
	}
}

// registerOnly registers without logging in, then confirms the account on
// a new connection.
func registerOnly(t *testing.T, srv *testserver.Server) {
	ctx := testCtx(t)
	user, pass := newUser("only"), "only-Passw0rd-123"
	d := dialerFor(srv, false)
	watch(t, &d, pass)
	c := register.Client{Dialer: d}
	acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: pass})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if acct.Session != nil {
		t.Errorf("session without Login")
	}
	confirm(t, ctx, d, srv.Domain, user, pass, true)
	confirm(t, ctx, d, srv.Domain, user, "wrong-password-1", false)
}

// invalidUsername submits a name the server refuses (through the low-level
// API, since Register refuses it locally).
func invalidUsername(t *testing.T, srv *testserver.Server, name string) {
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	watch(t, &d, "pass-Word-1234")
	if _, err := register.NormalizeUsername(name); err == nil {
		c := register.Client{Dialer: d}
		_, err := c.Register(ctx, srv.Domain, register.Request{Username: name, Password: "pass-Word-1234"})
		wantKind(t, err, register.KindInvalidUsername)
		return
	}
	conn, err := d.Dial(ctx, srv.Domain)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := conn.Form(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.SetUsername(name)
	f.SetPassword("pass-Word-1234")
	err = conn.Submit(ctx, f)
	wantKind(t, err, register.KindInvalidUsername)
	// The stream is still usable after a refusal.
	f.SetUsername(newUser("valid"))
	if err := conn.Submit(ctx, f); err != nil {
		t.Fatalf("second Submit on the same stream: %v", err)
	}
}

func TestProsodyOpen(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{DirectTLS: true})
	t.Run("Form", func(t *testing.T) {
		ctx := testCtx(t)
		d := dialerFor(srv, false)
		conn, err := d.Dial(ctx, srv.Domain)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		feats := conn.Features()
		if !feats.Register || feats.Invites() || len(feats.Mechanisms) == 0 || feats.DirectTLS {
			t.Errorf("features = %+v", feats)
		}
		for _, m := range feats.Mechanisms {
			if strings.HasPrefix(m, "SCRAM") {
				goto ok
			}
		}
		t.Errorf("no SCRAM among %v", feats.Mechanisms)
	ok:
		f, err := conn.Form(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Prosody sends legacy fields and a data form; the form wins.
		if !f.IsDataForm || f.FormType != register.NS || len(f.LegacyFields) != 2 || f.Instructions == "" {
			t.Errorf("form = %v", f)
		}
		u := f.Field("username")
		p := f.Field("password")
		if u == nil || !u.Required || u.Type != register.TextSingle || p == nil || p.Type != register.TextPrivate {
			t.Errorf("fields = %+v", f.Fields)
		}
		if len(f.Missing()) != 2 || f.Captcha != nil || f.RedirectURL != "" || f.WebOnly() {
			t.Errorf("form = %v", f)
		}
	})
	t.Run("Lifecycle", func(t *testing.T) { accountLifecycle(t, srv, false) })
	t.Run("LifecycleDirectTLS", func(t *testing.T) { accountLifecycle(t, srv, true) })
	t.Run("RegisterOnly", func(t *testing.T) { registerOnly(t, srv) })
	t.Run("InvalidUsername", func(t *testing.T) { invalidUsername(t, srv, "a b") })
	t.Run("InvalidUsernameLocal", func(t *testing.T) { invalidUsername(t, srv, "a@b") })
	t.Run("CaseFolding", func(t *testing.T) {
		ctx := testCtx(t)
		user := newUser("Mixed")
		c := register.Client{Dialer: dialerFor(srv, false)}
		acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: "case-Passw0rd", Login: true})
		if err != nil {
			t.Fatal(err)
		}
		serve(t, acct.Session)
		if acct.JID.Localpart() != strings.ToLower(user) {
			t.Errorf("JID = %v", acct.JID)
		}
	})
}

func TestProsodyClosed(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{Registration: testserver.RegistrationClosed})
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	c := register.Client{Dialer: d}
	_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("closed"), Password: "closed-Passw0rd"})
	wantKind(t, err, register.KindNotAdvertised)

	// Forced: the server answers the form request with an error.
	_, err = c.Register(ctx, srv.Domain, register.Request{Username: newUser("closed"), Password: "closed-Passw0rd", Force: true})
	e := wantKind(t, err, register.KindRegistrationClosed)
	if e.Stanza == nil || e.Stanza.Condition != stanza.ServiceUnavailable {
		t.Errorf("stanza error = %v", e.Stanza)
	}
}

func TestProsodyInvite(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{Registration: testserver.RegistrationInvite})
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	uri := srv.InviteURI(t)
	inv, err := register.ParseInvite(uri)
	if err != nil || inv.Domain != srv.Domain || inv.Token == "" {
		t.Fatalf("ParseInvite(%q) = %+v, %v", uri, inv, err)
	}
	watch(t, &d, inv.Token, "invite-Passw0rd")
	c := register.Client{Dialer: d}

	conn, err := d.Dial(ctx, srv.Domain)
	if err != nil {
		t.Fatal(err)
	}
	feats := conn.Features()
	conn.Close()
	if !feats.Register || !feats.InviteToken || !feats.InviteLegacy {
		t.Errorf("features = %+v", feats)
	}

	t.Run("NoToken", func(t *testing.T) {
		_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("noinv"), Password: "invite-Passw0rd"})
		wantKind(t, err, register.KindInviteRequired)
		if !errors.Is(err, register.ErrRegistrationClosed) {
			t.Errorf("invite required should also match ErrRegistrationClosed")
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		_, err := c.Register(ctx, "", register.Request{Username: newUser("badinv"), Password: "invite-Passw0rd", Invite: "xmpp:" + srv.Domain + "?register;preauth=notavalidtoken"})
		e := wantKind(t, err, register.KindInviteInvalid)
		if e.Stanza == nil || e.Stanza.Condition != stanza.Forbidden {
			t.Errorf("stanza error = %v", e.Stanza)
		}
	})
	user := newUser("invited")
	t.Run("GoodToken", func(t *testing.T) {
		acct, err := c.Register(ctx, "", register.Request{Username: user, Password: "invite-Passw0rd", Invite: uri, Login: true})
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		serve(t, acct.Session)
	})
	t.Run("ReusedToken", func(t *testing.T) {
		_, err := c.Register(ctx, "", register.Request{Username: newUser("reuse"), Password: "invite-Passw0rd", Invite: uri})
		wantKind(t, err, register.KindInviteInvalid)
	})
	t.Run("BareToken", func(t *testing.T) {
		inv, _ := register.ParseInvite(srv.InviteURI(t))
		_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("bare"), Password: "invite-Passw0rd", Invite: inv.Token})
		if err != nil {
			t.Fatalf("Register with a bare token: %v", err)
		}
	})
	t.Run("RoundTrips", func(t *testing.T) {
		// The token goes out only once the features have shown that the
		// server advertises invitations (XEP-0445 §3), with the form
		// request: one round trip more than without a token (TCP 1,
		// stream+<starttls/> 1, TLS 1, stream 1, token+form 1, submit 1).
		// Counted when the reply to the submission has arrived.
		p := proxied(t, srv.Addr, rttDelay)
		pd := register.Dialer{Addr: p.Addr(), TLSConfig: srv.TLSConfig()}
		c := register.Client{Dialer: pd}
		var secured, registered latency.Stats
		c.Progress = func(e register.Event) {
			switch e.Stage {
			case register.StageSecured:
				secured = p.Stats()
				if e.Features == nil || !e.Features.InviteToken {
					t.Errorf("secured event without features: %+v", e.Features)
				}
			case register.StageRegistered:
				registered = p.Stats()
			}
		}
		if _, err := c.Register(ctx, "", register.Request{Username: newUser("rtt"), Password: "invite-Passw0rd", Invite: srv.InviteURI(t)}); err != nil {
			t.Fatal(err)
		}
		if n := registered.RoundTrips - secured.RoundTrips; n != 2 || roundTrips(registered) != 6 || registered.Connections != 1 {
			t.Errorf("%d round trips from the secured stream to the registration, %d in all; want 2 (token+form, submit) and 6", n, roundTrips(registered))
		}
	})
	t.Run("LowLevel", func(t *testing.T) {
		inv, _ := register.ParseInvite(srv.InviteURI(t))
		conn, err := d.Dial(ctx, srv.Domain)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Preauth(ctx, "wrong-token"); !errors.Is(err, register.ErrInviteInvalid) {
			t.Fatalf("Preauth(wrong) = %v", err)
		}
		if err := conn.Preauth(ctx, inv.Token); err != nil {
			t.Fatalf("Preauth: %v", err)
		}
		f, err := conn.Form(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.SetUsername(newUser("low"))
		f.SetPassword("invite-Passw0rd")
		if err := conn.Submit(ctx, f); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	})
}

func TestProsodyThrottled(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{ThrottleMax: 1, ThrottlePeriod: 600})
	ctx := testCtx(t)
	c := register.Client{Dialer: dialerFor(srv, false)}
	if _, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("thr"), Password: "throttle-Passw0rd"}); err != nil {
		t.Fatalf("first registration: %v", err)
	}
	_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("thr"), Password: "throttle-Passw0rd"})
	e := wantKind(t, err, register.KindRateLimited)
	if e.Stanza == nil || e.Stanza.Type != stanza.Wait {
		t.Errorf("stanza error = %v", e.Stanza)
	}
}

func TestProsodyExtraField(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{ExtraFields: []string{"email+"}})
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	watch(t, &d, "extra-Passw0rd")
	c := register.Client{Dialer: d}
	_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("extra"), Password: "extra-Passw0rd"})
	e := wantKind(t, err, register.KindFormIncomplete)
	if len(e.Fields) != 1 || e.Fields[0] != "email" || e.Form == nil {
		t.Fatalf("error = %v, fields %v", err, e.Fields)
	}
	var seen *register.Form
	acct, err := c.Register(ctx, srv.Domain, register.Request{
		Username: newUser("extra"), Password: "extra-Passw0rd", Login: true,
		Solve: func(ctx context.Context, f *register.Form) error {
			seen = f.Clone()
			return f.Set("email", "someone@example.org")
		},
	})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	serve(t, acct.Session)
	if fl := seen.Field("email"); fl == nil || !fl.Required {
		t.Errorf("email field = %+v", fl)
	}
}

func TestEjabberdOpen(t *testing.T) {
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{DirectTLS: true})
	t.Run("Form", func(t *testing.T) {
		ctx := testCtx(t)
		d := dialerFor(srv, false)
		conn, err := d.Dial(ctx, srv.Domain)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		f, err := conn.Form(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// ejabberd 23.01 sends legacy fields only.
		if f.IsDataForm || len(f.Fields) != 2 || !f.Fields[0].Legacy || f.Instructions == "" {
			t.Errorf("form = %v", f)
		}
	})
	t.Run("Lifecycle", func(t *testing.T) { accountLifecycle(t, srv, false) })
	t.Run("LifecycleDirectTLS", func(t *testing.T) { accountLifecycle(t, srv, true) })
	t.Run("RegisterOnly", func(t *testing.T) { registerOnly(t, srv) })
	t.Run("InvalidUsername", func(t *testing.T) { invalidUsername(t, srv, "a b") })
}

func TestEjabberdNone(t *testing.T) {
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{Registration: testserver.RegistrationNone})
	c := register.Client{Dialer: dialerFor(srv, false)}
	_, err := c.Register(testCtx(t), srv.Domain, register.Request{Username: newUser("none"), Password: "none-Passw0rd"})
	wantKind(t, err, register.KindNotAdvertised)
}

func TestEjabberdDeny(t *testing.T) {
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{Registration: testserver.RegistrationDeny})
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	watch(t, &d, "deny-Passw0rd")
	c := register.Client{Dialer: d}
	_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("deny"), Password: "deny-Passw0rd"})
	e := wantKind(t, err, register.KindRegistrationClosed)
	if e.Stanza == nil || e.Stanza.Condition != stanza.Forbidden {
		t.Errorf("stanza error = %v", e.Stanza)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), "deny-Passw0rd") {
		t.Errorf("error shows the password")
	}
}

func TestEjabberdRedirect(t *testing.T) {
	const url = "https://example.invalid/register"
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{RedirectURL: url})
	ctx := testCtx(t)
	c := register.Client{Dialer: dialerFor(srv, false)}
	_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("web"), Password: "web-Passw0rd"})
	e := wantKind(t, err, register.KindWebOnly)
	if e.RedirectURL != url {
		t.Errorf("RedirectURL = %q", e.RedirectURL)
	}
}

func TestEjabberdCaptcha(t *testing.T) {
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{Captcha: true})
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	watch(t, &d, "captcha-Passw0rd")
	answer := func() string {
		a := srv.CaptchaAnswers()
		if len(a) == 0 {
			t.Fatal("no CAPTCHA answer recorded")
		}
		return a[len(a)-1]
	}
	conn, err := d.Dial(ctx, srv.Domain)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := conn.Form(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp := f.Captcha
	if cp == nil || cp.Type != "ocr" || cp.Field != "ocr" || len(cp.Image) == 0 || !strings.HasPrefix(cp.MIME, "image/") || cp.Challenge == "" {
		t.Fatalf("form = %v, captcha %+v", f, cp)
	}
	if string(cp.Image[1:4]) != "PNG" {
		t.Errorf("image is not a PNG: %q", cp.Image[:8])
	}
	if !f.IsDataForm || f.Field("username") == nil || f.Field("password") == nil {
		t.Fatalf("form = %v", f)
	}

	t.Run("Wrong", func(t *testing.T) {
		f := f.Clone()
		f.SetUsername(newUser("cap"))
		f.SetPassword("captcha-Passw0rd")
		f.Set(cp.Field, "wrong"+answer())
		err := conn.Submit(ctx, f)
		wantKind(t, err, register.KindCaptchaFailed)
		// The challenge is single-use: the right answer now fails too.
		f.Set(cp.Field, answer())
		err = conn.Submit(ctx, f)
		wantKind(t, err, register.KindCaptchaFailed)
	})
	t.Run("Right", func(t *testing.T) {
		c := register.Client{Dialer: d}
		acct, err := c.Register(ctx, srv.Domain, register.Request{
			Username: newUser("cap"), Password: "captcha-Passw0rd", Login: true,
			Solve: func(ctx context.Context, f *register.Form) error {
				if f.Captcha == nil || len(f.Captcha.Image) == 0 {
					return errors.New("no captcha")
				}
				return f.Set(f.Captcha.Field, answer())
			},
		})
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		serve(t, acct.Session)
	})
	t.Run("Reused", func(t *testing.T) {
		c := register.Client{Dialer: d}
		var used *register.Form
		_, err := c.Register(ctx, srv.Domain, register.Request{
			Username: newUser("cap"), Password: "captcha-Passw0rd",
			Solve: func(ctx context.Context, f *register.Form) error {
				used = f
				return f.Set(f.Captcha.Field, answer())
			},
		})
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		// Submit the same, already answered challenge again on a new
		// stream.
		conn, err := d.Dial(ctx, srv.Domain)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		used.SetUsername(newUser("cap"))
		err = conn.Submit(ctx, used)
		wantKind(t, err, register.KindCaptchaFailed)
	})
	t.Run("NoSolver", func(t *testing.T) {
		c := register.Client{Dialer: d}
		_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("cap"), Password: "captcha-Passw0rd"})
		e := wantKind(t, err, register.KindFormIncomplete)
		if e.Form == nil || e.Form.Captcha == nil {
			t.Errorf("no form in the error")
		}
	})
}

func TestEjabberdPolicy(t *testing.T) {
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{PasswordStrength: 32, RegistrationTimeout: 600})
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	watch(t, &d, "abc", "Str0ng-And-L0ng-Passw0rd!")
	c := register.Client{Dialer: d}
	_, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("weak"), Password: "abc"})
	wantKind(t, err, register.KindWeakPassword)
	if _, err := c.Register(ctx, srv.Domain, register.Request{Username: newUser("strong"), Password: "Str0ng-And-L0ng-Passw0rd!"}); err != nil {
		t.Fatalf("strong password: %v", err)
	}
	_, err = c.Register(ctx, srv.Domain, register.Request{Username: newUser("again"), Password: "Str0ng-And-L0ng-Passw0rd!"})
	wantKind(t, err, register.KindRateLimited)
}
