package main

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/register"
)

// The tests of this file (issue 16: the sign-up page for newcomers) use
// the rig of security_test.go: the app on loopback with a fake
// onboard.Signup.Run, which plays what a provider would do through the
// callbacks (Progress, SolveCaptcha, Rename).

// has reports whether the page holds the catalogue text (HTML-escaped as
// the template writes it).
func has(c *client, s string) bool { return strings.Contains(c.page, html.EscapeString(s)) }

// get fetches path with the Accept-Language header h.
func getIn(c *client, path, h string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	resp, err := c.http.Do(func() *http.Request { req.Header.Set("Accept-Language", h); return req }())
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	c.page, c.code, c.url = b.String(), resp.StatusCode, resp.Request.URL.String()
	if got := resp.Header.Get("Content-Language"); c.code == 200 && got == "" {
		c.t.Errorf("%s: no Content-Language", path)
	}
}

// TestLanguages: the pages are in the language the browser prefers
// most among English, German and French (q-values count), with
// <html lang>; English otherwise.
func TestLanguages(t *testing.T) {
	r := newRig(t, succeed, false, nil)
	c := r.browser("")
	for h, code := range map[string]string{
		"de":                          "de",
		"fr-CH, fr;q=0.9, en;q=0.8":   "fr",
		"en;q=0.3, de;q=0.8":          "de",
		"ja, es;q=0.9":                "en",
		"":                            "en",
		"it, fr;q=0.5, de;q=0.4":      "fr",
		"de-AT;q=0.1, fr-BE;q=0.2, *": "fr",
	} {
		getIn(c, "/", h)
		if !strings.Contains(c.page, `<html lang="`+code+`">`) || !has(c, tr(code, "index.h1")) || !has(c, tr(code, "form.submit")) {
			t.Errorf("Accept-Language %q: want %s:\n%.300s", h, code, redact(c.page))
		}
	}
}

// block is a runner that stays in the checking stage until the sign-up
// is stopped.
func block(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
	s.Progress(onboard.Event{Stage: onboard.StageCandidates, Candidates: []string{"open.example"}})
	s.Progress(onboard.Event{Stage: onboard.StageConnecting, Domain: "open.example"})
	<-ctx.Done()
	return nil, &onboard.NoProviderError{Err: ctx.Err()}
}

// TestAnswersAtOnce: the form's POST does not wait for the sign-up: it
// redirects to the status page, which says what happens and refreshes
// itself without JavaScript (meta refresh in noscript) or with status.js
// (from the page's origin; the CSP allows no other script).
func TestAnswersAtOnce(t *testing.T) {
	r := newRig(t, block, false, nil)
	c, location := noFollow(r.browser(""))
	signup(c, "waiting")
	if c.code != http.StatusSeeOther || !strings.HasPrefix(location(), "/pending/") {
		t.Fatalf("POST /signup: %d, redirect to %q", c.code, location())
	}
	c.get(location())
	if c.code != 200 || c.state() != "working" {
		t.Fatalf("status page: %d\n%s", c.code, redact(c.page))
	}
	for _, want := range []string{
		`<noscript><meta http-equiv="refresh" content="2"></noscript>`,
		`<script src="/status.js" defer></script>`,
		`aria-current="step">` + html.EscapeString(tr("de", "step.providers")),
		html.EscapeString(tr("de", "ev.connecting", "open.example")),
		`aria-live="polite"`,
	} {
		if !strings.Contains(c.page, want) {
			t.Errorf("the status page lacks %s:\n%s", want, redact(c.page))
		}
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+="`).MatchString(c.page) {
		t.Error("inline script on the status page")
	}
	resp, err := r.srv.Client().Get(r.base + "/status.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
		t.Errorf("status.js: %d %s, CSP %s", resp.StatusCode, resp.Header.Get("Content-Type"), csp)
	}
}

// TestWrongCaptcha: a second CAPTCHA from the same provider after an
// answer means the answer was wrong, and the page says so; the
// provider's https link to the challenge is offered, an http one not.
func TestWrongCaptcha(t *testing.T) {
	var answers []string
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		c := &register.Captcha{Label: "Type it", Image: pngImage(), MIME: "image/png", URLs: []string{"http://open.example/c/1", "https://open.example/c/1"}}
		for range 2 {
			s.Progress(onboard.Event{Stage: onboard.StageCaptcha, Domain: "open.example"})
			a, err := s.SolveCaptcha(ctx, "open.example", c)
			if err != nil {
				return nil, err
			}
			answers = append(answers, a)
		}
		return succeed(ctx, s)
	}, false, nil)
	c := r.browser("")
	signup(c, "robot")
	if c.state() != "captcha" || has(c, tr("de", "captcha.wrong")) {
		t.Fatalf("first CAPTCHA: %d\n%s", c.code, redact(c.page))
	}
	if !strings.Contains(c.page, `href="https://open.example/c/1"`) || strings.Contains(c.page, "http://open.example/c/1") {
		t.Errorf("the challenge links:\n%s", redact(c.page))
	}
	c.post("/captcha/"+pendingID(c), url.Values{"seq": {c.field("seq")}, "answer": {"first"}})
	c.settle() // the runner may not have asked again yet
	if c.state() != "captcha" || !has(c, tr("de", "captcha.wrong")) || !strings.Contains(c.page, `aria-describedby="error`) {
		t.Fatalf("second CAPTCHA: %d\n%s", c.code, redact(c.page))
	}
	c.post("/captcha/"+pendingID(c), url.Values{"seq": {c.field("seq")}, "answer": {"second"}})
	c.settle()
	if c.state() != "done" || strings.Join(answers, ",") != "first,second" {
		t.Errorf("after two answers %v: %d\n%s", answers, c.code, redact(c.page))
	}
}

// pngImage is a small PNG, a CAPTCHA image for the fake providers.
func pngImage() []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 40, 20)))
	return b.Bytes()
}

// pendingID is the registration ID in the page's forms or URL.
func pendingID(c *client) string {
	if m := regexp.MustCompile(`/(?:pending|captcha|rename)/([0-9a-f]{32})`).FindStringSubmatch(c.url + c.page); m != nil {
		return m[1]
	}
	c.t.Fatalf("no registration ID in %s", c.url)
	return ""
}

// TestRename: a typed name that is taken is not replaced silently: the
// page asks, and the user keeps the suggestion or types another (checked
// first). A generated name is replaced without asking.
func TestRename(t *testing.T) {
	var mu sync.Mutex
	var got []string
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		u := s.Username
		for range 2 {
			nu, err := s.Rename(ctx, "open.example", u)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			got = append(got, nu)
			mu.Unlock()
			s.Progress(onboard.Event{Stage: onboard.StageUsernameTaken, Domain: "open.example", Username: nu})
			u = nu
		}
		s.Username = u
		return succeed(ctx, s)
	}, false, nil)
	c := r.browser("")
	signup(c, "dave")
	if c.state() != "rename" || !has(c, tr("de", "rename.taken", "dave", "open.example")) {
		t.Fatalf("name taken: %d\n%s", c.code, redact(c.page))
	}
	suggestion := regexp.MustCompile(`id="keep">[^<]*?(dave\d+)`).FindStringSubmatch(c.page)
	if suggestion == nil {
		t.Fatalf("no suggestion:\n%s", redact(c.page))
	}
	c.post("/rename/"+pendingID(c), url.Values{"seq": {c.field("seq")}, "choice": {"suggestion"}})
	if c.state() != "rename" {
		t.Fatalf("the suggestion is taken too: %d\n%s", c.code, redact(c.page))
	}
	id, seq := pendingID(c), c.field("seq")
	c.post("/rename/"+id, url.Values{"seq": {seq}, "choice": {"own"}, "username": {"no spaces"}})
	if c.code != http.StatusUnprocessableEntity || !has(c, tr("de", "err.username")) || !strings.Contains(c.page, `aria-describedby="username-error" aria-invalid="true"`) {
		t.Errorf("an invalid name: %d\n%s", c.code, redact(c.page))
	}
	c.post("/rename/"+id, url.Values{"seq": {seq}, "choice": {"own"}, "username": {"Dave.Jones"}})
	if c.state() != "done" || c.text("jid") != "dave.jones@open.example" {
		t.Fatalf("after typing another: %d\n%s", c.code, redact(c.page))
	}
	mu.Lock()
	if len(got) != 2 || got[0] != suggestion[1] || got[1] != "dave.jones" {
		t.Errorf("names handed to the sign-up: %v, want %s and dave.jones", got, suggestion[1])
	}
	got = nil
	mu.Unlock()
	// A generated name: no question.
	c.get("/")
	c.post("/signup", url.Values{"provider": {"open.example"}})
	if c.state() != "done" {
		t.Errorf("generated name: %d\n%s", c.code, redact(c.page))
	}
}

// TestPasswordSent: a provider refused after it received the typed
// password; the sign-up stopped (it goes to no other provider), and the
// page says so and asks for a new password, with the form: the sign-up
// is not started again by itself.
func TestPasswordSent(t *testing.T) {
	var runs atomic.Int64
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		runs.Add(1)
		a := &onboard.AttemptError{Domain: "open.example", Step: onboard.StepSubmit, Err: &register.Error{Op: "submit", Kind: register.KindRateLimited}}
		return nil, &onboard.NoProviderError{Attempts: []*onboard.AttemptError{a}, Candidates: 2, Err: onboard.ErrPasswordSent}
	}, false, nil)
	c := r.browser("")
	signup(c, "carol")
	if c.state() != "failed" {
		t.Fatalf("%d\n%s", c.code, redact(c.page))
	}
	for _, want := range []string{tr("de", "err.passwordSent", "open.example", tr("de", "reason.rate")), tr("de", "advice.newPassword")} {
		if !has(c, want) {
			t.Errorf("the page lacks %q:\n%s", want, redact(c.page))
		}
	}
	if !strings.Contains(c.page, `id="password"`) || !strings.Contains(c.page, `id="password2"`) || !strings.Contains(c.page, `value="carol"`) ||
		strings.Contains(c.page, "fake-Passw0rd") {
		t.Errorf("the form again (username kept, no password):\n%s", redact(c.page))
	}
	c.get(strings.TrimPrefix(c.url, c.base))
	if n := runs.Load(); n != 1 || c.state() != "failed" {
		t.Errorf("%d runs, state %s after a reload", n, c.state())
	}
}

// TestResultPage: the result can be shown again to the same browser for
// its lifetime, with a generated password in a form for the password
// manager, the xmpp: link and its QR code (a PNG of the same origin);
// another browser gets nothing, and after -ttl the page is gone.
func TestResultPage(t *testing.T) {
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		res := created(s)
		res.Password, res.PasswordGenerated = "generated-Secret-0123456789", true
		return res, nil
	}, false, nil)
	c := r.browser("")
	c.get("/")
	c.post("/signup", url.Values{"username": {"erin"}})
	page := strings.TrimPrefix(c.url, c.base)
	for i := range 2 {
		if c.state() != "done" || c.text("jid") != "erin@open.example" || c.text("password") != "generated-Secret-0123456789" {
			t.Fatalf("view %d: %d\n%s", i+1, c.code, redact(c.page))
		}
		for _, want := range []string{`href="xmpp:erin@open.example"`, `src="` + page + `/qr.png"`,
			`<input id="cred-user" autocomplete="username" value="erin@open.example">`,
			`<input id="cred-pass" type="password" autocomplete="new-password" value="generated-Secret-0123456789">`,
			`href="https://conversations.im/"`, `href="https://gajim.org/"`} {
			if !strings.Contains(c.page, want) {
				t.Errorf("the result page lacks %s", want)
			}
		}
		c.get(page)
	}
	resp, err := c.http.Get(c.base + page + "/qr.png")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR code: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkQR(t, b.Bytes(), "xmpp:erin@open.example")
	// The credentials form sends nothing but the token.
	c.post(page+"/saved", url.Values{})
	if c.state() != "done" || !has(c, tr("de", "done.saved")) {
		t.Errorf("after the credentials form: %d\n%s", c.code, redact(c.page))
	}
	other := r.browser("")
	other.get("/")
	for _, p := range []string{page, page + "/qr.png"} {
		other.get(p)
		if other.code != http.StatusNotFound {
			t.Errorf("another browser, %s: %d", p, other.code)
		}
	}
	r.clock.advance(r.a.cfg.ttl + resultGrace + 1)
	c.get(page)
	if c.code != http.StatusNotFound {
		t.Errorf("after -ttl: %d", c.code)
	}
}

// checkQR decodes the modules of a QR code PNG made by qrPNG and
// compares them with what the library encodes for want.
func checkQR(t *testing.T, data []byte, want string) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	code, err := qrcode.NewWith(want, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		t.Fatal(err)
	}
	w := &matrixWriter{}
	var mat qrcode.Matrix
	code.Save(recorder{w, &mat})
	n := mat.Width()
	if side := (n + 2*qrQuiet) * qrModule; img.Bounds().Dx() != side || img.Bounds().Dy() != side {
		t.Fatalf("QR code %v, want %d px square", img.Bounds(), side)
	}
	bad := 0
	mat.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		r, _, _, _ := img.At((x+qrQuiet)*qrModule+qrModule/2, (y+qrQuiet)*qrModule+qrModule/2).RGBA()
		if dark := r < 0x8000; dark != v.IsSet() {
			bad++
		}
	})
	if r, _, _, _ := img.At(1, 1).RGBA(); bad > 0 || r < 0x8000 {
		t.Errorf("%d modules differ from the code of %q (corner %x)", bad, want, r)
	}
}

// recorder is a qrcode.Writer that keeps the matrix too.
type recorder struct {
	w   *matrixWriter
	mat *qrcode.Matrix
}

// Write keeps m and paints it (qrcode.Writer).
func (r recorder) Write(m qrcode.Matrix) error { *r.mat = m; return r.w.Write(m) }

// Close does nothing (qrcode.Writer).
func (r recorder) Close() error { return nil }

// TestInvitePage: with -invite, /invite/TOKEN shows the apps, the
// xmpp:DOMAIN?register;preauth=TOKEN link and its QR code, and the form;
// the sign-up it starts is an invitation to that domain; the token is
// never logged; a token that is not one gets 404.
func TestInvitePage(t *testing.T) {
	var mu sync.Mutex
	var seen onboard.Signup
	const token = "Tok3n-abc_DEF"
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		mu.Lock()
		seen = *s
		mu.Unlock()
		if s.Username == "late" {
			a := &onboard.AttemptError{Domain: "invite.example", Err: &register.Error{Op: "preauth", Kind: register.KindInviteInvalid}}
			return nil, &onboard.NoProviderError{Attempts: []*onboard.AttemptError{a}, Candidates: 1}
		}
		return succeed(ctx, s)
	}, false, func(c *config) { c.invite = "invite.example" })
	c := r.browser("")
	c.get("/invite/" + token)
	if c.code != 200 || c.state() != "invite" || c.field("invite") != token {
		t.Fatalf("invitation page: %d\n%s", c.code, redact(c.page))
	}
	for _, want := range []string{`href="xmpp:invite.example?register;preauth=` + token + `"`, `src="/invite/` + token + `/qr.png"`,
		`href="https://monal-im.org/"`, html.EscapeString(tr("de", "invite.h1", "invite.example"))} {
		if !strings.Contains(c.page, want) {
			t.Errorf("the invitation page lacks %s", want)
		}
	}
	if strings.Contains(c.page, `name="provider"`) {
		t.Error("the invitation page offers other providers")
	}
	resp, err := c.http.Get(c.base + "/invite/" + token + "/qr.png")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	checkQR(t, b.Bytes(), "xmpp:invite.example?register;preauth="+token)
	c.post("/signup", url.Values{"username": {"frank"}, "invite": {token}, "password": {"fake-Passw0rd"}, "password2": {"fake-Passw0rd-other"}})
	if c.code != http.StatusUnprocessableEntity || c.state() != "invite" || c.field("invite") != token {
		t.Errorf("mismatched passwords on the invitation page: %d\n%s", c.code, redact(c.page))
	}
	c.post("/signup", url.Values{"username": {"frank"}, "invite": {token}, "provider": {"open.example"}})
	mu.Lock()
	if c.state() != "done" || seen.Invite != token || seen.Domain != "invite.example" {
		t.Errorf("sign-up with the invitation: %s, Invite %q, Domain %q", c.state(), seen.Invite, seen.Domain)
	}
	mu.Unlock()
	c.get("/invite/" + token)
	c.post("/signup", url.Values{"username": {"late"}, "invite": {token}})
	if c.state() != "failed" || !has(c, tr("de", "err.inviteRefused", "invite.example", tr("de", "reason.invite"))) || strings.Contains(c.page, `id="signup"`) {
		t.Errorf("a used invitation: %d\n%s", c.code, redact(c.page))
	}
	for _, bad := range []string{"/invite/a%20b", "/invite/" + strings.Repeat("x", 2000), "/invite/xmpp:evil.example%3Fregister"} {
		c.get(bad)
		if c.code != http.StatusNotFound {
			t.Errorf("%s: %d", bad, c.code)
		}
	}
	if strings.Contains(r.logs.String(), token) {
		t.Error("the log shows the invitation token")
	}
	// Without -invite there are no invitation pages, and a form with a
	// token is refused.
	plain := newRig(t, succeed, false, nil)
	pc := plain.browser("")
	pc.get("/invite/" + token)
	if pc.code != http.StatusNotFound {
		t.Errorf("without -invite: %d", pc.code)
	}
	pc.get("/")
	pc.post("/signup", url.Values{"username": {"frank"}, "invite": {token}})
	if pc.code != http.StatusUnprocessableEntity {
		t.Errorf("a token without -invite: %d", pc.code)
	}
}

// TestFieldErrors: each error of the form is at its field, which names
// it in aria-describedby and is aria-invalid; the others are not.
func TestFieldErrors(t *testing.T) {
	r := newRig(t, succeed, false, nil)
	c := r.browser("")
	c.get("/")
	c.post("/signup", url.Values{"username": {"bad name"}, "password": {"short"}, "password2": {"other"}})
	if c.code != http.StatusUnprocessableEntity || c.text("error") == "" {
		t.Fatalf("%d\n%s", c.code, redact(c.page))
	}
	for _, f := range []string{"username", "password", "password2"} {
		if !strings.Contains(c.page, `id="`+f+`-error"`) || !regexp.MustCompile(`id="`+f+`"[^>]*aria-describedby="[^"]*`+f+`-error"[^>]*aria-invalid="true"`).MatchString(c.page) {
			t.Errorf("%s: error not tied to the field:\n%s", f, redact(c.page))
		}
	}
	for _, want := range []string{tr("de", "err.username"), tr("de", "err.passwordLength", minPassword), tr("de", "err.passwordMismatch")} {
		if !has(c, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestCreatedLoginFailed: the account was created but the login after
// failed: the failure page still gives the address and the generated
// password, which exist nowhere else.
func TestCreatedLoginFailed(t *testing.T) {
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		res := created(s)
		res.Password, res.PasswordGenerated = "generated-Secret-9876543210", true
		return res, &onboard.AttemptError{Domain: "open.example", Step: onboard.StepLogin, Err: &register.Error{Op: "login", Kind: register.KindLoginFailed}}
	}, false, nil)
	c := r.browser("")
	c.get("/")
	c.post("/signup", url.Values{"username": {"gina"}})
	if c.state() != "failed" || !has(c, tr("de", "err.loginFailed")) || c.text("jid") != "gina@open.example" || c.text("password") != "generated-Secret-9876543210" {
		t.Errorf("%d\n%s", c.code, redact(c.page))
	}
}
