package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
)

// TestBrowser drives whole sign-ups in headless Chromium, in English,
// German and French (Accept-Language), against real servers on
// loopback: a Prosody with open registration, an ejabberd that asks for a
// CAPTCHA (whose answers the test reads from the server, testserver's
// CaptchaAnswers) and already has a user of the name the newcomer wants,
// a Prosody that takes invitations only, and a "dead" provider that
// accepts connections and never answers. In each language the newcomer
//
//   - types two different passwords (the form says so, at the field),
//   - picks the dead provider (the status page shows the stage, then the
//     failure page says it did not answer and offers the form again),
//   - picks the CAPTCHA provider with the taken name, answers the CAPTCHA
//     wrong (a new image and a message), then right, is told the name is
//     taken and types another, solves the next CAPTCHA and gets the
//     account (address, xmpp: link, QR code, apps; shown again on a
//     reload),
//   - opens an invitation link (/invite/TOKEN: apps, the
//     xmpp:DOMAIN?register;preauth=TOKEN link and its QR code) and creates
//     the account there with a generated password (shown, with a form
//     for the password manager).
//
// Every page is checked with axe-core for WCAG 2.2 A and AA violations
// (there must be none) and photographed at 1280 and 390 px wide, into
// the directory of go test -outputdir (else $TMPDIR/websignup-screenshots).
// axe-core comes from npm: see axeSource.
func TestBrowser(t *testing.T) {
	axe := axeSource(t)
	br := startBrowser(t)
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	captcha := testserver.StartEjabberd(t, testserver.EjabberdConfig{Domain: "captcha.example", Captcha: true})
	invite := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "invite.example", Registration: testserver.RegistrationInvite})
	dead := deadServer(t)
	list := listFile(t)
	base, logs := startServer(t, "-file", list, "-ip-signups", "100", "-domain", "open.example="+open.Addr, "-domain", "captcha.example="+captcha.Addr,
		"-domain", "dead.example="+dead, "-invite", "invite.example="+invite.Addr,
		"-cafile", caFile(t, open, captcha, invite), "-timeout", "5s")
	dir := shotDir(t)
	var secrets []string // what must never be in the log

	for _, code := range []string{"en", "de", "fr"} {
		t.Run(code, func(t *testing.T) {
			parent := br.t
			br.t = t
			defer func() { br.t = parent }()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			T := func(key string, args ...any) string { return tr(code, key, args...) }
			check := func(name string) {
				t.Helper()
				br.checkAxe(t, axe, code+"-"+name)
				for _, w := range []int{1280, 390} {
					shot(t, br, dir, code+"-"+name, w)
				}
			}
			headers := map[string]string{"en": "en-GB,en;q=0.9", "de": "de-DE,de;q=0.9,en;q=0.5", "fr": "fr-FR,fr;q=0.9,de;q=0.2,en;q=0.1"}
			br.setHeaders(map[string]string{"Accept-Language": headers[code]})
			pw, pw2 := "browser-Passw0rd-"+code, "second-Passw0rd-"+code
			secrets = append(secrets, pw, pw2)

			// The start page, in the language.
			br.navigate(base + "/")
			br.waitState(ctx, "index")
			if got := br.evalString(`document.documentElement.lang`); got != code {
				t.Errorf("<html lang=%q>", got)
			}
			br.expectText("h1", T("index.h1"))
			br.do(`document.querySelector("#chooser").open = true`)
			// What matters about each provider, in the language.
			facts := func(domain string) string {
				return br.evalString(`document.getElementById(document.querySelector('input[value=` + js(domain) + `]').getAttribute("aria-describedby")).textContent`)
			}
			for domain, want := range map[string][]string{
				"open.example": {T("fact.locations", countries{"de", "at"}), T("fact.free"), T("fact.upload.kept", providers.Megabytes(100), providers.Days(30)),
					T("fact.archive", providers.Days(365)), T("fact.nocaptcha"), T("fact.noemail"), T("fact.reset"), T("fact.support", texts{msg("fact.support.email"), msg("fact.support.chat")})},
				"captcha.example": {T("fact.locations", countries{"fr"}), T("fact.paid"), T("fact.upload.nolimit"), T("fact.captcha"), T("fact.noreset"), T("fact.nosupport")},
			} {
				got := facts(domain)
				for _, w := range want {
					if !strings.Contains(got, w) {
						t.Errorf("the chooser says of %s %q, without %q", domain, got, w)
					}
				}
			}
			check("index")

			// Two different passwords.
			u := newUser("web" + code)
			br.fill("#username", u)
			br.fill("#password", pw)
			br.fill("#password2", pw+"x")
			br.submit(ctx, "#submit", "index")
			br.expectText("#password2-error", T("err.passwordMismatch"))
			if got := br.evalString(`document.querySelector("#password2").getAttribute("aria-describedby")`); !strings.Contains(got, "password2-error") {
				t.Errorf("the confirmation field is described by %q", got)
			}
			check("mismatch")

			// A provider that never answers: the status page, then the
			// failure page with the form again.
			br.pick("dead.example")
			br.fill("#password", pw)
			br.fill("#password2", pw)
			if st := br.submit(ctx, "#submit", "working", "failed"); st == "working" {
				if got := br.text(`#steps [aria-current="step"]`); !strings.HasPrefix(got, T("step.providers")) {
					t.Errorf("current step %q, want %q", got, T("step.providers"))
				}
				check("working")
				br.waitNext(ctx, "failed")
			} else {
				t.Error("no status page while the provider was being checked")
			}
			br.expectText("#error", T("err.providerRefused", "dead.example", T("reason.timeout")))
			br.expectText("#advice", T("advice.another"))
			if got := br.evalString(`document.querySelector("#username").value`); got != u {
				t.Errorf("the form again has username %q, want %q", got, u)
			}
			check("failed")

			// The CAPTCHA provider, where the name is taken.
			taken := "taken" + code
			captcha.AddUser(t, taken, "someone-elses-Passw0rd")
			br.pick("captcha.example")
			br.fill("#username", taken)
			br.fill("#password", pw2)
			br.fill("#password2", pw2)
			br.submit(ctx, "#submit", "captcha")
			br.waitImage(ctx, "#captcha")
			check("captcha")
			br.fill("#answer", "wrong")
			br.submit(ctx, "#send", "captcha")
			br.expectText("#error", T("captcha.wrong"))
			br.waitImage(ctx, "#captcha")
			check("captcha-wrong")
			a := captcha.CaptchaAnswers()
			br.fill("#answer", a[len(a)-1])
			br.submit(ctx, "#send", "rename")
			br.expectText("#error", T("rename.taken", taken, "captcha.example"))
			check("rename")
			u2 := newUser("other" + code)
			br.fill("#username", u2)
			br.submit(ctx, "#send", "captcha")
			if br.exists("#error") {
				t.Errorf("a new CAPTCHA after the rename says %q", br.text("#error"))
			}
			br.waitImage(ctx, "#captcha")
			a = captcha.CaptchaAnswers()
			br.fill("#answer", a[len(a)-1])
			br.submit(ctx, "#send", "done")
			jid := u2 + "@captcha.example"
			br.expectText("#jid", jid)
			br.expectText("h1", T("done.h1"))
			br.checkResult(ctx, jid)
			if br.exists("#password") {
				t.Error("the page shows the typed password")
			}
			if html := br.evalString(`document.documentElement.outerHTML`); strings.Contains(html, pw2) || strings.Contains(html, pw) {
				t.Error("the page holds a typed password")
			}
			check("done")
			br.do(`window.onboardOldPage = true; location.reload()`)
			br.waitState(ctx, "done")
			br.expectText("#jid", jid)

			// An invitation.
			uri := invite.InviteURI(t)
			_, token, ok := strings.Cut(uri, ";preauth=")
			if !ok || strings.ContainsAny(token, ";&") {
				t.Fatalf("invitation %q", uri)
			}
			br.navigate(base + "/invite/" + token)
			br.waitState(ctx, "invite")
			br.expectText("h1", T("invite.h1", "invite.example"))
			if got := br.evalString(`document.querySelector("#xmpp-link").getAttribute("href")`); got != "xmpp:invite.example?register;preauth="+token {
				t.Errorf("invitation link %q", got)
			}
			br.waitImage(ctx, "#qr")
			br.checkApps()
			check("invite")
			u3 := newUser("invited" + code)
			br.fill("#username", u3)
			br.submit(ctx, "#submit", "done")
			jid = u3 + "@invite.example"
			br.expectText("#jid", jid)
			br.checkResult(ctx, jid)
			gen := br.text("#password")
			if len(gen) < 20 {
				t.Errorf("generated password of %d characters", len(gen))
			}
			secrets = append(secrets, gen, token)
			// A form the password manager picks up.
			for sel, want := range map[string]string{"#cred-user": "username", "#cred-pass": "new-password"} {
				if got := br.evalString(`document.querySelector(` + js(sel) + `).autocomplete`); got != want {
					t.Errorf("%s autocomplete %q, want %q", sel, got, want)
				}
			}
			if br.evalString(`document.querySelector("#cred-user").value`) != jid || br.evalString(`document.querySelector("#cred-pass").value`) != gen ||
				br.evalString(`document.querySelector("#cred-pass").form.id`) != "credentials" {
				t.Error("the credentials form does not hold the account")
			}
			check("done-generated")
			br.submit(ctx, "#save", "done")
			br.expectText("#saved", T("done.saved"))
			if br.text("#password") != gen {
				t.Error("the page does not show the generated password again")
			}
		})
	}

	// Without JavaScript the status page reloads itself (the meta refresh
	// in <noscript>) until the sign-up moves on.
	t.Run("no JavaScript", func(t *testing.T) {
		parent := br.t
		br.t = t
		defer func() { br.t = parent }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := br.call("Emulation.setScriptExecutionDisabled", map[string]any{"value": true}, nil); err != nil {
			t.Fatal(err)
		}
		defer br.call("Emulation.setScriptExecutionDisabled", map[string]any{"value": false}, nil)
		br.setHeaders(map[string]string{"Accept-Language": "en"})
		br.navigate(base + "/")
		br.waitState(ctx, "index")
		br.pick("dead.example")
		if st := br.submit(ctx, "#submit", "working", "failed"); st == "working" {
			if !br.exists(`meta[http-equiv="refresh"]`) {
				t.Error("the status page has no refresh without JavaScript")
			}
			br.waitNext(ctx, "failed")
		} else {
			t.Error("no status page while the provider was being checked")
		}
		br.expectText("#error", tr("en", "err.providerRefused", "dead.example", tr("en", "reason.timeout")))
	})

	l := logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(l, s) {
			t.Error("the log shows a password or an invitation token")
		}
	}
}

// redactRE finds the generated password on a result page and the values
// of password fields, which test output must not show.
var redactRE = regexp.MustCompile(`(id="password">)[^<]*|(type="password"[^>]*value=")[^"]*`)

// redact returns the page without passwords.
func redact(page string) string { return redactRE.ReplaceAllString(page, "$1$2[redacted]") }

// text returns the trimmed text of the first element matching sel, or "".
func (b *browser) text(sel string) string {
	return strings.TrimSpace(b.evalString(`(document.querySelector(` + js(sel) + `) || {}).textContent || ""`))
}

// exists reports whether an element matches sel.
func (b *browser) exists(sel string) bool {
	return b.evalString(`String(document.querySelector(`+js(sel)+`) !== null)`) == "true"
}

// expectText fails the test unless the element sel says want (spaces
// collapsed).
func (b *browser) expectText(sel, want string) {
	b.t.Helper()
	got := strings.Join(strings.Fields(b.text(sel)), " ")
	if got != strings.Join(strings.Fields(want), " ") {
		b.t.Errorf("%s says %q, want %q", sel, got, want)
	}
}

// fill types value into the field sel (as a user would: the value, and
// the input event).
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do(`(function(e){ e.value = ` + js(value) + `; e.dispatchEvent(new Event("input", {bubbles: true})); })(document.querySelector(` + js(sel) + `))`)
}

// pick chooses a provider in the chooser (unfolding it first).
func (b *browser) pick(domain string) {
	b.t.Helper()
	b.do(`document.querySelector("#chooser").open = true`)
	b.do(`document.querySelector('input[name=provider][value=` + js(domain) + `]').click()`)
}

// waitNext waits for a page with one of the states that the page itself
// navigates to (the status page does, when the sign-up moves on).
func (b *browser) waitNext(ctx context.Context, states ...string) string {
	b.t.Helper()
	b.do(`window.onboardOldPage = true`)
	return b.waitState(ctx, states...)
}

// waitImage waits until the image sel has loaded and been decoded.
func (b *browser) waitImage(ctx context.Context, sel string) {
	b.t.Helper()
	q := `document.querySelector(` + js(sel) + `)`
	for b.evalString(`String(`+q+` !== null && `+q+`.complete && `+q+`.naturalWidth > 0)`) != "true" {
		select {
		case <-ctx.Done():
			b.t.Fatalf("the image %s did not load", sel)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkApps checks the recommended apps: a link each, all https.
func (b *browser) checkApps() {
	b.t.Helper()
	n := b.evalString(`String(document.querySelectorAll("#apps a").length)`)
	https := b.evalString(`String([...document.querySelectorAll("#apps a")].every(a => a.protocol === "https:"))`)
	if n != "6" || https != "true" {
		b.t.Errorf("%s app links, all https: %s", n, https)
	}
}

// checkResult checks the result page of the account jid: its xmpp:
// link, its QR code and the apps.
func (b *browser) checkResult(ctx context.Context, jid string) {
	b.t.Helper()
	if got := b.evalString(`document.querySelector("#xmpp-link").getAttribute("href")`); got != "xmpp:"+jid {
		b.t.Errorf("xmpp: link %q", got)
	}
	b.waitImage(ctx, "#qr")
	if w, _ := strconv.Atoi(b.evalString(`String(document.querySelector("#qr").naturalWidth)`)); w < 100 {
		b.t.Errorf("QR code %d px wide", w)
	}
	b.checkApps()
}

// axeViolation is what checkAxe reports of an axe-core violation.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkAxe runs axe-core (its source in src) on the page, for the rules
// of WCAG 2.0, 2.1 and 2.2 at levels A and AA, and fails the test for
// each violation. The script is injected through the DevTools protocol,
// so the page's CSP (scripts from 'self' only) stays as it is.
func (b *browser) checkAxe(t *testing.T, src, name string) {
	t.Helper()
	if b.evalString(`typeof axe`) != "object" {
		if _, err := b.eval(src); err != nil {
			t.Fatalf("%s: injecting axe-core: %v", name, err)
		}
	}
	v, err := b.evalAwait(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]}, resultTypes: ["violations"]})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}))))`)
	if err != nil {
		t.Fatalf("%s: axe: %v", name, err)
	}
	var s string
	var found []axeViolation
	if err := json.Unmarshal(v, &s); err != nil || json.Unmarshal([]byte(s), &found) != nil {
		t.Fatalf("%s: axe said %s", name, v)
	}
	for _, f := range found {
		t.Errorf("%s: axe: %s (%s): %s\n\t%s", name, f.ID, f.Impact, f.Help, strings.Join(f.Nodes, "\n\t"))
	}
}

// axeSource returns axe-core's axe.min.js, from the npm package
// installed in testdata/axe (see its package.json; node_modules is not
// committed). If it is not installed yet, it installs it, as test.sh
// may do beforehand:
//
//	npm install --prefix examples/websignup/testdata/axe --no-package-lock --no-audit --no-fund
//
// Without npm the test is skipped (it fails under CI=true).
func axeSource(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("testdata", "axe")
	path := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	if data, err := os.ReadFile(path); err == nil {
		return string(data)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("npm is not installed, and axe-core is not in testdata/axe (CI=true)")
		}
		t.Skip("npm is not installed, and axe-core is not in testdata/axe")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "install", "--prefix", dir, "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error").CombinedOutput()
	if err != nil {
		t.Fatalf("npm install axe-core: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// shotDir is where the screenshots go: websignup-screenshots in the
// directory of go test -outputdir, or in $TMPDIR.
func shotDir(t *testing.T) string {
	t.Helper()
	base := os.TempDir()
	if f := flag.Lookup("test.outputdir"); f != nil && f.Value.String() != "" {
		base = f.Value.String()
	}
	dir := filepath.Join(base, "websignup-screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// listFile writes a provider list that describes the test's providers
// as the XMPP Providers list does, and returns its path.
func listFile(t *testing.T) string {
	t.Helper()
	rec := func(domain string, f func(p *providers.Provider)) providers.Provider {
		p := providers.New(domain)
		p.Category, p.InBandRegistration = providers.CategoryA, true
		f(&p)
		return p
	}
	l := providers.List{Providers: []providers.Provider{
		rec("open.example", func(p *providers.Provider) {
			p.Website = providers.Localized{"en": "https://open.example/"}
			p.ServerLocations = []string{"de", "at"}
			p.FreeOfCharge = true
			p.UploadFileSize, p.UploadStorageTime, p.ArchiveStorageTime = 100, 30, 365
			p.PasswordReset = providers.Localized{"en": "https://open.example/reset"}
			p.EmailSupport = providers.LocalizedList{"en": {"help@open.example"}}
			p.ChatSupport = providers.LocalizedList{"en": {"help@open.example"}}
		}),
		rec("captcha.example", func(p *providers.Provider) {
			p.ServerLocations = []string{"fr"}
			p.CaptchaRequired = true
			p.UploadFileSize = 0 // no limit
		}),
		rec("dead.example", func(p *providers.Provider) {
			p.ServerLocations = []string{"us"}
			p.FreeOfCharge = true
		}),
	}}
	data, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "providers.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// deadServer is a provider that accepts connections and never answers.
func deadServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return ln.Addr().String()
}

// shot takes a screenshot of the whole page laid out width px wide,
// saves it as dir/name-width.png and checks that it is a real picture of
// a page: a PNG of that width with more than a handful of colours.
func shot(t *testing.T, br *browser, dir, name string, width int) {
	t.Helper()
	data := br.screenshotAt(width)
	path := filepath.Join(dir, name+"-"+strconv.Itoa(width)+".png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	colours := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if b.Dx() != width || b.Dy() < 300 || len(colours) < 16 {
		t.Errorf("%s: %dx%d with %d colours", path, b.Dx(), b.Dy(), len(colours))
	}
}
