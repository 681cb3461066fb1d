package onboard_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// Tests without any network: the candidates are observed through
// Progress, with a Dialer whose resolver knows no domain, so that nothing
// is connected to.

// refuse returns a Dialer that connects to nothing.
func refuse() register.Dialer { return register.Dialer{Resolver: &fakedns.Resolver{}} }

// candidatesOf runs s with a Dialer that connects to nothing and returns the
// candidate order.
func candidatesOf(t *testing.T, s onboard.Signup) []string {
	t.Helper()
	var got []string
	s.Dialer = refuse()
	s.Progress = func(e onboard.Event) {
		if e.Stage == onboard.StageCandidates {
			got = e.Candidates
		}
	}
	_, err := s.Run(context.Background())
	var npe *onboard.NoProviderError
	if !errors.As(err, &npe) {
		t.Fatalf("Run: %v", err)
	}
	if len(got) > 0 && (len(npe.Attempts) != len(got) || !errors.Is(err, register.ErrConnect)) {
		t.Fatalf("%d candidates, %d attempts: %v", len(got), len(npe.Attempts), err)
	}
	return got
}

func TestCandidatesDefault(t *testing.T) {
	l := providers.Embedded()
	var eligible []string
	for _, p := range l.Providers {
		if p.Category == providers.CategoryA && p.InBandRegistration && !p.CaptchaRequired && !p.EmailRequired {
			eligible = append(eligible, p.JID)
		}
	}
	if len(eligible) < 3 {
		t.Fatalf("only %d eligible providers in the embedded list", len(eligible))
	}
	first := map[string]int{}
	const runs = 300
	for i := range runs {
		got := candidatesOf(t, onboard.Signup{Rand: rand.New(rand.NewPCG(uint64(i), 7))})
		sorted := slices.Sorted(slices.Values(got))
		if !slices.Equal(sorted, slices.Sorted(slices.Values(eligible))) {
			t.Fatalf("candidates %v, want the eligible %v", got, eligible)
		}
		first[got[0]]++
	}
	// Fair: every eligible provider comes first sometimes, none much more
	// often than its share (a loose bound; the shuffle is uniform).
	for _, d := range eligible {
		if n := first[d]; n == 0 || n > 3*runs/len(eligible) {
			t.Errorf("%s first in %d of %d runs", d, n, runs)
		}
	}
	t.Logf("first candidate counts: %v", first)

	// With a CAPTCHA solver the CAPTCHA providers are candidates too.
	got := candidatesOf(t, onboard.Signup{SolveCaptcha: func(context.Context, string, *register.Captcha) (string, error) { return "", nil }})
	if len(got) <= len(eligible) {
		t.Errorf("with a solver: %v", got)
	}
	// The same seed gives the same order.
	a := candidatesOf(t, onboard.Signup{Rand: rand.New(rand.NewPCG(1, 2))})
	b := candidatesOf(t, onboard.Signup{Rand: rand.New(rand.NewPCG(1, 2))})
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different orders: %v %v", a, b)
	}
}

func TestCandidatesPreference(t *testing.T) {
	l := list(
		provider("de1.example", "de", "de"), provider("de2.example", "de", "de"),
		provider("at.example", "de", "at"), provider("fr.example", "fr", "fr"),
		provider("us.example", "en", "us"),
	)
	b := provider("b.example", "de", "de")
	b.Category = providers.CategoryB
	l.Providers = append(l.Providers, b)
	for i := range 20 {
		got := candidatesOf(t, onboard.Signup{Providers: l, Language: "de", Country: "de", Rand: rand.New(rand.NewPCG(uint64(i), 1))})
		if len(got) != 5 {
			t.Fatalf("candidates %v", got)
		}
		// German and in Germany first (two of them, so the preference
		// applies), then the rest of category A; never category B.
		if !slices.Equal(slices.Sorted(slices.Values(got[:2])), []string{"de1.example", "de2.example"}) {
			t.Errorf("order %v", got)
		}
	}
	// A query that allows B tries it after every A provider.
	q := &providers.Query{Categories: []providers.Category{providers.CategoryA, providers.CategoryB}}
	got := candidatesOf(t, onboard.Signup{Providers: l, Query: q})
	if len(got) != 6 || got[5] != "b.example" {
		t.Errorf("with B: %v", got)
	}
	// MaxCandidates caps the list.
	if got := candidatesOf(t, onboard.Signup{Providers: l, MaxCandidates: 2}); len(got) != 2 {
		t.Errorf("MaxCandidates 2: %v", got)
	}
}

// TestCandidatesRated: a list without categories (such as the full
// providers.json) is rated on its publication date, which gives back the
// published categories.
func TestCandidatesRated(t *testing.T) {
	l := providers.Embedded()
	want := candidatesOf(t, onboard.Signup{Providers: l})
	for i := range l.Providers {
		l.Providers[i].Category = ""
	}
	got := candidatesOf(t, onboard.Signup{Providers: l})
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("rated candidates %v, published %v", got, want)
	}
}

func TestNoMatch(t *testing.T) {
	q := &providers.Query{Categories: []providers.Category{providers.CategoryA}, Countries: []string{"aq"}}
	s := onboard.Signup{Query: q, Dialer: refuse()}
	_, err := s.Run(context.Background())
	var npe *onboard.NoProviderError
	if !errors.As(err, &npe) || !errors.Is(err, providers.ErrNoMatch) || !errors.Is(err, onboard.ErrNoProvider) || len(npe.Attempts) != 0 {
		t.Fatalf("Run: %v", err)
	}
	t.Log(err)
}

// TestBadInput: invalid input is refused before anything is sent.
func TestBadInput(t *testing.T) {
	res := &fakedns.Resolver{}
	for _, c := range []struct {
		s    onboard.Signup
		want error
	}{
		{onboard.Signup{Username: "not@valid"}, register.ErrInvalidUsername},
		{onboard.Signup{Username: "two words"}, register.ErrInvalidUsername},
		{onboard.Signup{Invite: "xmpp:example.org?register;preauth="}, onboard.ErrMalformedInvite},
		{onboard.Signup{Invite: "abcdefghijklmnop"}, onboard.ErrMalformedInvite},                                              // a bare token needs Domain
		{onboard.Signup{Invite: "xmpp:a.example?register;preauth=abcdefgh", Domain: "b.example"}, onboard.ErrMalformedInvite}, // for another server
	} {
		c.s.Dialer = register.Dialer{Resolver: res}
		_, err := c.s.Run(context.Background())
		if !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.s.Username+c.s.Invite, err, c.want)
		}
	}
	if d := res.Domains(); len(d) != 0 {
		t.Errorf("connections were attempted: %v", d)
	}
	// Dialer.Addr without Domain: every provider of the list would be
	// sent to that one address (issue 16).
	s := onboard.Signup{Dialer: register.Dialer{Addr: "127.0.0.1:1"}}
	if _, err := s.Run(context.Background()); !errors.Is(err, onboard.ErrAddrWithoutDomain) {
		t.Errorf("Addr without Domain: %v, want ErrAddrWithoutDomain", err)
	}
}

// TestFixedDomain: Domain and a bare-token invitation register on that
// server only.
func TestFixedDomain(t *testing.T) {
	for _, s := range []onboard.Signup{
		{Domain: "Example.ORG."},
		{Domain: "example.org", Invite: "abcdefghijklmnop"},
		{Invite: "xmpp:example.org?register;preauth=abcdefghijklmnop"},
	} {
		if got := candidatesOf(t, s); !slices.Equal(got, []string{"example.org"}) {
			t.Errorf("%q %q: candidates %v", s.Domain, s.Invite, got)
		}
	}
}

func TestDescribe(t *testing.T) {
	p, ok := providers.Embedded().Lookup("jabjab.de")
	if !ok {
		t.Skip("jabjab.de is not in the embedded list")
	}
	de := onboard.Describe(p, "de-AT")
	en := onboard.Describe(p, "")
	wantDE, _, _ := p.Website.Pick("de")
	wantEN, _, _ := p.Website.Pick("en")
	if de.Website != wantDE || en.Website != wantEN || de.Website == en.Website {
		t.Errorf("websites %q %q", de.Website, en.Website)
	}
	if de.Domain != "jabjab.de" || de.UploadFileSize != p.UploadFileSize || de.ArchiveStorageTime != p.ArchiveStorageTime || de.Category != p.Category {
		t.Errorf("info %+v", de)
	}
	// An unknown provider: nothing to show, but nothing wrong either.
	u := onboard.Describe(providers.New("unknown.example"), "de")
	if u.Website != "" || u.UploadFileSize.Known() || u.Domain != "unknown.example" {
		t.Errorf("unknown provider: %+v", u)
	}
}

func TestRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		u := onboard.RandomUsername()
		n, err := register.NormalizeUsername(u)
		if err != nil || n != u || len(u) != 8 {
			t.Fatalf("RandomUsername() = %q (%v)", u, err)
		}
		seen[u] = true
		p := onboard.RandomPassword()
		if len(p) != 26 || seen[p] {
			t.Fatalf("RandomPassword() = %d characters", len(p))
		}
		seen[p] = true
	}
	if len(seen) < 95 {
		t.Errorf("only %d distinct values in 100", len(seen))
	}
}

func TestErrorsAndEvents(t *testing.T) {
	closed := &onboard.AttemptError{Domain: "a.example", Step: onboard.StepVerify, Err: &register.Error{Op: "form", Kind: register.KindRegistrationClosed}}
	late := &onboard.AttemptError{Domain: "b.example", Step: onboard.StepVerify, Err: fmt.Errorf("no answer: %w", context.DeadlineExceeded)}
	limited := &onboard.AttemptError{Domain: "c.example", Step: onboard.StepSubmit, Err: &register.Error{Op: "submit", Kind: register.KindRateLimited, RetryAfter: time.Minute}}
	err := error(&onboard.NoProviderError{Attempts: []*onboard.AttemptError{closed, late, limited}, Candidates: 3})
	for _, target := range []error{onboard.ErrNoProvider, register.ErrRegistrationClosed, register.ErrRateLimited, context.DeadlineExceeded} {
		if !errors.Is(err, target) {
			t.Errorf("not %v", target)
		}
	}
	if errors.Is(err, register.ErrUsernameTaken) || errors.Is(err, providers.ErrNoMatch) {
		t.Error("matches what no attempt was")
	}
	msg := err.Error()
	for _, s := range []string{"onboard: no provider could create the account (3 tried)", "a.example: form: registration closed", "b.example: no answer", "c.example (submit): submit: rate limited"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q lacks %q", msg, s)
		}
	}
	if got := closed.Error(); got != "onboard: a.example: verify: form: registration closed" {
		t.Errorf("AttemptError: %q", got)
	}
	ev := onboard.Event{Stage: onboard.StageFallback, Domain: "a.example", Err: closed, Next: "b.example"}
	if got := ev.String(); got != "fallback: a.example failed (form: registration closed), trying b.example" {
		t.Errorf("event: %q", got)
	}
	for s := onboard.StageCandidates; s <= onboard.StageProbing; s++ {
		if strings.HasPrefix(s.String(), "Stage(") {
			t.Errorf("stage %d has no name", s)
		}
	}
}

func TestSignupString(t *testing.T) {
	s := onboard.Signup{Username: "juliet", Password: testPass, Language: "de", Country: "at", Invite: "xmpp:example.org?register;preauth=SECRETTOKEN"}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%v", &s)} {
		if strings.Contains(out, testPass) || strings.Contains(out, "SECRETTOKEN") || !strings.Contains(out, "juliet") {
			t.Errorf("formatted: %s", out)
		}
	}
}
