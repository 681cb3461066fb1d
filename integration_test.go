package onboard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// Integration tests: several real servers on loopback play the providers
// of an injected list. They are skipped when Prosody or ejabberd is not
// installed (and fail under CI=true).

// TestFallback: the first candidate is closed (Prosody without
// registration), the second never answers (a blackhole that accepts TCP),
// the third is open. The account is created on the third.
func TestFallback(t *testing.T) {
	closed := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "closed.example", Registration: testserver.RegistrationClosed})
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	net := newNetwork()
	net.server("closed.example", closed)
	net.server("open.example", open)
	black := net.blackhole(t, "black.example")
	l := list(
		provider("closed.example", "de", "de"), // language and country: first
		provider("black.example", "de", "at"),  // language only: second
		provider("open.example", "fr", "fr"),   // neither: last
	)
	const timeout = time.Second

	for _, par := range []int{1, 3} {
		t.Run(fmt.Sprintf("parallel=%d", par), func(t *testing.T) {
			check := noLeak(t)
			rec := &recorder{t: t}
			s := onboard.Signup{
				Username:  newUser("fb"),
				Password:  testPass,
				Language:  "de",
				Country:   "de",
				Providers: l,
				Query:     ordered(),
				Dialer:    net.Dialer(),
				Parallel:  par,
				Timeout:   timeout,
				Progress:  rec.progress,
			}
			ctx := testCtx(t, 30*time.Second)
			res, err := s.Run(ctx)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := rec.find(onboard.StageCandidates).Candidates; !slices.Equal(got, []string{"closed.example", "black.example", "open.example"}) {
				t.Errorf("candidates %v", got)
			}
			if res.JID.Domainpart() != "open.example" || res.JID.Localpart() != s.Username {
				t.Errorf("account %v", res.JID)
			}
			if res.Password != testPass || res.PasswordGenerated {
				t.Errorf("password changed or marked generated")
			}
			// What to show the newcomer, in German where published.
			if res.Info.Website != "https://open.example/en/" || res.Info.PasswordReset != "https://open.example/reset" ||
				res.Info.UploadFileSize != 100 || res.Info.ArchiveStorageTime != 30 || res.Info.Category != providers.CategoryA {
				t.Errorf("info %+v", res.Info)
			}
			closeResult(t, res)

			// Why the others failed.
			var doms []string
			for _, a := range res.Attempts {
				doms = append(doms, a.Domain)
			}
			// The closed one fails; open wins: with Parallel 1 it starts
			// beside the blackhole once that is overdue (hedging), with 3
			// at once. The blackhole is abandoned (not a failure), long
			// before its Timeout.
			if !slices.Equal(doms, []string{"closed.example"}) {
				t.Fatalf("attempts %v", res.Attempts)
			}
			if !errors.Is(res.Attempts[0], register.ErrNotAdvertised) {
				t.Errorf("closed: %v", res.Attempts[0])
			}
			want := []onboard.Stage{onboard.StageConnecting, onboard.StageSecured, onboard.StageForm, onboard.StageChosen,
				onboard.StageSubmitting, onboard.StageRegistered, onboard.StageLoggingIn, onboard.StageLoggedIn}
			if got := rec.stages("open.example"); !slices.Equal(got, want) {
				t.Errorf("stages of open.example: %v, want %v", got, want)
			}
			noSecret(t, "debug output", net.sent(), testPass)
			check()
		})
	}
	t.Logf("blackhole connections: %d", black.Stats().Connections)
}

// TestReuse: the connection that verified the provider, and its form, are
// the ones the account is created on: one TCP connection, one form
// request.
func TestReuse(t *testing.T) {
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	p, err := latency.Start(context.Background(), open.Addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	net := newNetwork()
	net.add("open.example", p.Addr(), open.CA.Cert)
	rec := &recorder{t: t}
	s := onboard.Signup{Providers: list(provider("open.example", "en", "de")), Dialer: net.Dialer(), Progress: rec.progress}
	res, err := s.Run(testCtx(t, 30*time.Second))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	closeResult(t, res)
	if n := p.Stats().Connections; n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	gets, sets := 0, 0
	for _, l := range strings.Split(net.sent(), "\n") {
		switch {
		case strings.HasPrefix(l, "<iq type='get'") && strings.Contains(l, "jabber:iq:register"):
			gets++
		case strings.HasPrefix(l, "<iq type='set'") && strings.Contains(l, "jabber:iq:register"):
			sets++
		}
	}
	if gets != 1 || sets != 1 {
		t.Errorf("%d form requests and %d submissions, want 1 and 1:\n%s", gets, sets, net.sent())
	}
	if n := rec.count(onboard.StageForm, ""); n != 1 {
		t.Errorf("%d forms received", n)
	}
	// Generated username and password.
	if !res.PasswordGenerated || len(res.Password) < 20 {
		t.Errorf("generated password: %v, %d characters", res.PasswordGenerated, len(res.Password))
	}
	if u := res.JID.Localpart(); len(u) < 6 {
		t.Errorf("generated username %q", u)
	}
	noSecret(t, "debug output", net.sent(), res.Password)
	for _, s := range []string{fmt.Sprint(res), fmt.Sprintf("%+v", *res), fmt.Sprintf("%#v", res)} {
		noSecret(t, "formatted result", s, res.Password)
	}
}

// TestCaptcha: an ejabberd provider with a CAPTCHA that the list does not
// flag. Without a solver it is skipped for the open one; with one, the
// account is created there, also after a wrong answer.
func TestCaptcha(t *testing.T) {
	captcha := testserver.StartEjabberd(t, testserver.EjabberdConfig{Domain: "captcha.example", Captcha: true, PasswordStrength: 64})
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	net := newNetwork()
	net.server("captcha.example", captcha)
	net.server("open.example", open)
	l := list(provider("captcha.example", "de", "de"), provider("open.example", "en", "us"))
	// Where the CAPTCHA provider must win, open.example is far away (300
	// ms RTT), so that a loaded machine cannot make the loopback ejabberd
	// slower than it: a much slower earlier provider loses its place in
	// the fair order by design (hedging).
	far, err := latency.Start(context.Background(), open.Addr, 150*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { far.Close() })
	slowOpen := newNetwork()
	slowOpen.server("captcha.example", captcha)
	slowOpen.add("open.example", far.Addr(), open.CA.Cert)

	t.Run("no solver", func(t *testing.T) {
		check := noLeak(t)
		s := onboard.Signup{Username: newUser("cap"), Password: testPass, Language: "de", Country: "de",
			Providers: l, Query: ordered(), Dialer: net.Dialer(), Parallel: 1}
		res, err := s.Run(testCtx(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		// The CAPTCHA provider is an attempt that failed for want of a
		// solver, or, when the open one was verified while it was still
		// running and overdue (hedging), no attempt at all.
		if res.JID.Domainpart() != "open.example" || len(res.Attempts) > 1 {
			t.Fatalf("account %v, attempts %v", res.JID, res.Attempts)
		}
		for _, a := range res.Attempts {
			if a.Domain != "captcha.example" || !errors.Is(a, onboard.ErrNoSolver) || !errors.Is(a, register.ErrFormIncomplete) {
				t.Errorf("attempt %v", a)
			}
		}
		check()
	})

	t.Run("listed as CAPTCHA", func(t *testing.T) {
		// Without a solver, providers the list flags are not candidates.
		pc := provider("captcha.example", "de", "de")
		pc.CaptchaRequired = true
		dials := net.dialCount("captcha.example")
		rec := &recorder{t: t}
		s := onboard.Signup{Password: testPass, Providers: list(pc), Dialer: net.Dialer(), Progress: rec.progress}
		_, err := s.Run(testCtx(t, 30*time.Second))
		if !errors.Is(err, onboard.ErrNoProvider) || !errors.Is(err, providers.ErrNoMatch) {
			t.Fatalf("Run: %v", err)
		}
		if net.dialCount("captcha.example") != dials || len(rec.events) != 0 {
			t.Errorf("a provider was contacted: %v", rec.events)
		}
	})

	answer := func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
		a := captcha.CaptchaAnswers()
		return a[len(a)-1], nil
	}
	t.Run("weak password", func(t *testing.T) {
		// A password the user chose and a verified provider refuses ends
		// the run: another provider would not make it stronger, so the
		// application asks the user for a better one.
		rec := &recorder{t: t}
		s := onboard.Signup{Username: newUser("weak"), Password: "abcabc", Language: "de", Country: "de", Query: ordered(),
			Parallel: 1, Providers: l, Dialer: slowOpen.Dialer(), SolveCaptcha: answer, Progress: rec.progress}
		_, err := s.Run(testCtx(t, 30*time.Second))
		var ae *onboard.AttemptError
		if !errors.As(err, &ae) || ae.Domain != "captcha.example" || !errors.Is(err, register.ErrWeakPassword) {
			t.Fatalf("Run: %v", err)
		}
		// open.example may have been verified beside it (a hedge), but
		// nothing was submitted there.
		if rec.count(onboard.StageSubmitting, "open.example") != 0 {
			t.Errorf("fell back to open.example")
		}
		s.Progress = nil
		noSecret(t, "error", err.Error(), "abcabc")
		// A generated password is strong enough.
		s.Password = ""
		res, err := s.Run(testCtx(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		if res.JID.Domainpart() != "captcha.example" || !res.PasswordGenerated {
			t.Errorf("account %v", res.JID)
		}
	})

	t.Run("solver", func(t *testing.T) {
		check := noLeak(t)
		rec := &recorder{t: t}
		calls := 0
		s := onboard.Signup{
			Username: newUser("cap"), Password: testPass, Language: "de", Country: "de",
			Providers: l, Query: ordered(), Dialer: slowOpen.Dialer(), Progress: rec.progress, Parallel: 1,
			SolveCaptcha: func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
				calls++
				if domain != "captcha.example" || len(c.Image) == 0 || c.MIME != "image/png" {
					t.Errorf("challenge from %s: %d bytes of %s", domain, len(c.Image), c.MIME)
				}
				if calls == 1 {
					return "wrong", nil // one wrong answer: a new CAPTCHA
				}
				return answer(ctx, domain, c)
			},
		}
		res, err := s.Run(testCtx(t, 60*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		if res.JID.Domainpart() != "captcha.example" || len(res.Attempts) != 0 || calls != 2 {
			t.Errorf("account %v, attempts %v, %d CAPTCHAs", res.JID, res.Attempts, calls)
		}
		if res.Info.Website != "https://captcha.example/de/" {
			t.Errorf("website in German: %q", res.Info.Website)
		}
		if n := rec.count(onboard.StageCaptcha, "captcha.example"); n != 2 {
			t.Errorf("%d CAPTCHA stages", n)
		}
		check()
	})
}

// TestAllFail: every candidate fails; the error names each and why.
func TestAllFail(t *testing.T) {
	closed := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "closed.example", Registration: testserver.RegistrationClosed})
	invite := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "invite.example", Registration: testserver.RegistrationInvite})
	net := newNetwork()
	net.server("closed.example", closed)
	net.server("invite.example", invite)
	net.blackhole(t, "black.example")
	check := noLeak(t)
	rec := &recorder{t: t}
	s := onboard.Signup{
		Password:      testPass,
		ReusePassword: true, // invite.example refuses after the submission
		Providers:     list(provider("closed.example", "en", "de"), provider("black.example", "en", "de"), provider("invite.example", "en", "de"), provider("nowhere.example", "en", "de")),
		Dialer:        net.Dialer(),
		Timeout:       time.Second,
		Progress:      rec.progress,
	}
	res, err := s.Run(testCtx(t, 30*time.Second))
	if err == nil {
		res.Close()
		t.Fatalf("Run created %v", res.JID)
	}
	t.Logf("error: %v", err)
	var npe *onboard.NoProviderError
	if !errors.As(err, &npe) || !errors.Is(err, onboard.ErrNoProvider) {
		t.Fatalf("error %T %v", err, err)
	}
	if npe.Candidates != 4 || len(npe.Attempts) != 4 {
		t.Fatalf("%d candidates, %d attempts", npe.Candidates, len(npe.Attempts))
	}
	why := map[string]error{
		"closed.example":  register.ErrNotAdvertised,
		"black.example":   context.DeadlineExceeded,
		"invite.example":  register.ErrInviteRequired,
		"nowhere.example": nil,
	}
	for _, a := range npe.Attempts {
		want, ok := why[a.Domain]
		if !ok {
			t.Errorf("unexpected attempt %v", a)
			continue
		}
		delete(why, a.Domain)
		if want != nil && !errors.Is(a, want) {
			t.Errorf("%s: %v, want %v", a.Domain, a, want)
		}
		if !strings.Contains(err.Error(), a.Domain) {
			t.Errorf("message does not name %s", a.Domain)
		}
	}
	if len(why) != 0 {
		t.Errorf("no attempt for %v", why)
	}
	if !errors.Is(err, register.ErrInviteRequired) || errors.Is(err, register.ErrUsernameTaken) {
		t.Errorf("errors.Is over the attempts is wrong")
	}
	if n := rec.count(onboard.StageFallback, ""); n != 4 {
		t.Errorf("%d fallback events", n)
	}
	noSecret(t, "error", err.Error(), testPass)
	check()
}

// TestSubmitFallback: a provider that is verified but refuses at submit
// time (rate limit) hands over to the next one.
func TestSubmitFallback(t *testing.T) {
	throttled := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "busy.example", ThrottleMax: 1, ThrottlePeriod: 600})
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example", ExtraFields: []string{"email+"}})
	net := newNetwork()
	net.server("busy.example", throttled)
	net.server("open.example", open)
	first := onboard.Signup{Username: newUser("rl"), Password: testPass, Providers: list(provider("busy.example", "en", "de")), Dialer: net.Dialer()}
	res, err := first.Run(testCtx(t, 30*time.Second))
	if err != nil {
		t.Fatalf("first registration: %v", err)
	}
	closeResult(t, res)

	pOpen := provider("open.example", "en", "fr")
	pOpen.EmailRequired = true
	l := list(provider("busy.example", "en", "de"), pOpen)
	t.Run("no FillForm", func(t *testing.T) {
		// open.example asks for an e-mail address; without FillForm it
		// is not a candidate, and busy.example's refusal ends the run.
		s := onboard.Signup{Username: newUser("rl"), Password: testPass, Providers: l, Dialer: net.Dialer()}
		_, err := s.Run(testCtx(t, 30*time.Second))
		var npe *onboard.NoProviderError
		if !errors.As(err, &npe) || len(npe.Attempts) != 1 || npe.Attempts[0].Step != onboard.StepSubmit || !errors.Is(err, register.ErrRateLimited) {
			t.Fatalf("Run: %v", err)
		}
	})
	t.Run("typed password stays with one provider", func(t *testing.T) {
		// busy.example refuses after it received the password: it is
		// not sent to open.example too (issue 11, item 10).
		var submitted []string
		s := onboard.Signup{
			Username: newUser("rl"), Password: testPass, Language: "de", Country: "de",
			Providers: l, Query: ordered(), Dialer: net.Dialer(), Parallel: 1,
			Progress: func(e onboard.Event) {
				if e.Stage == onboard.StageSubmitting {
					submitted = append(submitted, e.Domain)
				}
			},
			FillForm: func(ctx context.Context, domain string, f *register.Form) error {
				return f.Set("email", "newcomer@example.net")
			},
		}
		res, err := s.Run(testCtx(t, 30*time.Second))
		var npe *onboard.NoProviderError
		if res != nil || !errors.As(err, &npe) || len(npe.Attempts) != 1 || npe.Attempts[0].Domain != "busy.example" || !errors.Is(err, onboard.ErrPasswordSent) || !errors.Is(err, register.ErrRateLimited) {
			t.Fatalf("Run = %v, %v; want busy.example's refusal, matching ErrPasswordSent and ErrRateLimited", res, err)
		}
		if len(submitted) != 1 {
			t.Errorf("the password was submitted to %v", submitted)
		}
	})
	t.Run("FillForm", func(t *testing.T) {
		check := noLeak(t)
		rec := &recorder{t: t}
		s := onboard.Signup{
			Username: newUser("rl"), Password: testPass, ReusePassword: true, Language: "de", Country: "de",
			Providers: l, Query: ordered(), Dialer: net.Dialer(), Parallel: 1, Progress: rec.progress,
			FillForm: func(ctx context.Context, domain string, f *register.Form) error {
				return f.Set("email", "newcomer@example.net")
			},
		}
		res, err := s.Run(testCtx(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		if res.JID.Domainpart() != "open.example" || len(res.Attempts) != 1 || !errors.Is(res.Attempts[0], register.ErrRateLimited) {
			t.Errorf("account %v, attempts %v", res.JID, res.Attempts)
		}
		check()
	})
}

// TestUsernameTaken: a taken name gets digits appended, a bounded number
// of times, or the application's choice.
func TestUsernameTaken(t *testing.T) {
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	net := newNetwork()
	net.server("open.example", open)
	l := list(provider("open.example", "en", "de"))
	taken := newUser("taken")
	open.AddUser(t, taken, "whatever-Passw0rd")

	t.Run("digits", func(t *testing.T) {
		rec := &recorder{t: t}
		s := onboard.Signup{Username: taken, Password: testPass, Providers: l, Dialer: net.Dialer(), Progress: rec.progress, RenameTyped: true}
		res, err := s.Run(testCtx(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		u := res.JID.Localpart()
		if !strings.HasPrefix(u, taken) || len(u) < len(taken)+2 || strings.Trim(u[len(taken):], "0123456789") != "" {
			t.Errorf("new name %q", u)
		}
		if e := rec.find(onboard.StageUsernameTaken); e == nil || e.Username != u || !errors.Is(e.Err, register.ErrUsernameTaken) {
			t.Errorf("event %v", e)
		}
		if n := rec.count(onboard.StageForm, ""); n != 1 {
			t.Errorf("%d forms for a retry without CAPTCHA", n)
		}
	})
	t.Run("app declines", func(t *testing.T) {
		errStop := errors.New("user cancelled")
		s := onboard.Signup{Username: taken, Password: testPass, Providers: l, Dialer: net.Dialer(),
			Rename: func(ctx context.Context, domain, name string) (string, error) { return "", errStop }}
		_, err := s.Run(testCtx(t, 30*time.Second))
		var ae *onboard.AttemptError
		if !errors.As(err, &ae) || ae.Domain != "open.example" || !errors.Is(err, register.ErrUsernameTaken) || !errors.Is(err, errStop) {
			t.Fatalf("Run: %v", err)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		n := 0
		s := onboard.Signup{Username: taken, Password: testPass, Providers: l, Dialer: net.Dialer(), Renames: 2,
			Rename: func(ctx context.Context, domain, name string) (string, error) { n++; return taken, nil }}
		_, err := s.Run(testCtx(t, 30*time.Second))
		if !errors.Is(err, register.ErrUsernameTaken) || n != 2 {
			t.Fatalf("Run after %d renames: %v", n, err)
		}
	})
}

// TestInvite: an invitation registers on its server directly, even an
// invite-only one, and is not used for any other.
func TestInvite(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "invite.example", Registration: testserver.RegistrationInvite,
		HTTPUpload: 50 << 20, ContactInfo: map[string][]string{"support": {"mailto:help@invite.example"}}})
	net := newNetwork()
	net.server("invite.example", srv)
	uri := srv.InviteURI(t)
	token := uri[strings.Index(uri, "preauth=")+len("preauth="):]
	rec := &recorder{t: t}
	// The server is not in the list; a probe with the new account tells
	// what to show the newcomer.
	s := onboard.Signup{Username: newUser("inv"), Invite: uri, Dialer: net.Dialer(), Progress: rec.progress,
		Providers: list(provider("other.example", "en", "de")),
		Probe: &discovery.Prober{TLSConfig: srv.TLSConfig(), Addrs: map[string]string{"invite.example": srv.Addr},
			Skip: discovery.PartHTTP, Timeout: 20 * time.Second}}
	res, err := s.Run(testCtx(t, 30*time.Second))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	closeResult(t, res)
	if res.JID.Domainpart() != "invite.example" || net.dialCount("other.example") != 0 {
		t.Errorf("account %v", res.JID)
	}
	if res.Provider.JID != "invite.example" || res.Info.Domain != "invite.example" {
		t.Errorf("provider %q", res.Provider.JID)
	}
	if res.Report == nil || res.Report.Login.Status.State != discovery.Observed || rec.count(onboard.StageProbing, "invite.example") != 1 {
		t.Fatalf("no probe with the account: %+v", res.Report)
	}
	if res.Info.UploadFileSize != providers.MegabytesFromBytes(50<<20) || !slices.Contains(res.Info.EmailSupport, "help@invite.example") {
		t.Errorf("live info %+v", res.Info)
	}
	noSecret(t, "debug output", net.sent(), token)
	// Used up: no fallback to other providers.
	_, err = s.Run(testCtx(t, 30*time.Second))
	if !errors.Is(err, register.ErrInviteInvalid) || net.dialCount("other.example") != 0 {
		t.Fatalf("second use: %v", err)
	}
}

// TestWebOnly: a provider that only allows web registration is skipped,
// and offered to AcceptRedirect when no provider could register in-band.
func TestWebOnly(t *testing.T) {
	const page = "https://web.example/register"
	web := testserver.StartEjabberd(t, testserver.EjabberdConfig{Domain: "web.example", RedirectURL: page})
	net := newNetwork()
	net.server("web.example", web)
	net.blackhole(t, "black.example")
	l := list(provider("web.example", "en", "de"), provider("black.example", "en", "de"))
	var offered []string
	s := onboard.Signup{Password: testPass, Providers: l, Dialer: net.Dialer(), Timeout: 5 * time.Second, // ejabberd's first TLS handshake is slow on a loaded machine
		AcceptRedirect: func(ctx context.Context, domain, url string) bool {
			offered = append(offered, domain+" "+url)
			return false
		}}
	_, err := s.Run(testCtx(t, 30*time.Second))
	var npe *onboard.NoProviderError
	if !errors.As(err, &npe) || !errors.Is(err, register.ErrWebOnly) || len(npe.Attempts) != 2 {
		t.Fatalf("Run: %v", err)
	}
	if !slices.Equal(offered, []string{"web.example " + page}) {
		t.Errorf("offered %v", offered)
	}
	var re *register.Error
	for _, a := range npe.Attempts {
		if a.Domain == "web.example" && !errors.As(a, &re) {
			t.Errorf("web.example: %v", a)
		}
	}
	if re == nil || re.RedirectURL != page {
		t.Errorf("redirect in the error: %v", re)
	}

	s.AcceptRedirect = func(ctx context.Context, domain, url string) bool { return true }
	res, err := s.Run(testCtx(t, 30*time.Second))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.RedirectURL != page || res.Session != nil || !res.JID.Equal(jid.JID{}) || res.Provider.JID != "web.example" || len(res.Attempts) != 2 {
		t.Errorf("result %v %+v", res, res.Attempts)
	}
	if !strings.Contains(res.String(), page) {
		t.Errorf("String() = %s", res)
	}
}
