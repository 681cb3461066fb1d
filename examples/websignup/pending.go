package main

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/register"
)

// States of a pending registration.
const (
	stateWorking = "working" // choosing, verifying, registering
	stateCaptcha = "captcha" // waiting for the user's answer
	stateDone    = "done"    // finished, with an account or an error
)

// maxEvents caps the progress lines kept per registration.
const maxEvents = 50

// pending is a registration in progress: the goroutine running
// onboard.Signup and what the pages show of it. The provider's connection
// stays open in that goroutine while the user reads the CAPTCHA.
type pending struct {
	id      string
	owner   string // the session ID
	expires time.Time
	cancel  context.CancelFunc
	answers chan answer // from the answer form to SolveCaptcha

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change
	state   string
	events  []string
	captcha *captchaView
	seq     int // of the current CAPTCHA, so that a stale form is ignored
	outcome *outcome
}

type answer struct {
	seq  int
	text string
}

// captchaView is a CAPTCHA as the page shows it.
type captchaView struct {
	Domain string
	Label  string
	Seq    int
	HasImg bool
	img    []byte
	mime   string
}

// outcome is the final page: an account (Password only if generated, so
// that the user can write it down) or an error.
type outcome struct {
	JID       string
	Password  string
	Info      onboard.Info
	Redirect  string
	Error     string
	Attempts  []attemptView
	Provider  string
	Generated bool
}

type attemptView struct {
	Domain, Reason string
}

// view is the data of the pages about a registration.
type view struct {
	ID      string
	CSRF    string
	State   string
	Events  []string
	Captcha *captchaView
	Outcome *outcome
}

// set changes the state under the lock and wakes the waiting requests.
func (p *pending) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	close(p.changed)
	p.changed = make(chan struct{})
}

// await waits until cond holds for the state, ctx is done or d passes.
func (p *pending) await(ctx context.Context, d time.Duration, cond func(state string) bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		p.mu.Lock()
		st, ch := p.state, p.changed
		p.mu.Unlock()
		if cond(st) {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-t.C:
			return
		}
	}
}

// progress records an event for the page. Events hold what servers
// sent: sanitize.Line shows control and bidi characters as escapes.
func (p *pending) progress(e onboard.Event) {
	p.set(func() {
		if len(p.events) < maxEvents {
			p.events = append(p.events, sanitize.Line(e.String()))
		}
	})
}

// imageTypes are the CAPTCHA image types the page serves.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// solve is the Signup.SolveCaptcha callback: it shows the CAPTCHA and
// waits for the answer from the page.
func (p *pending) solve(ctx context.Context, domain string, c *register.Captcha) (string, error) {
	var seq int
	p.set(func() {
		p.seq++
		seq = p.seq
		cv := &captchaView{Domain: domain, Label: c.Label, Seq: seq}
		if len(c.Image) > 0 && imageTypes[c.MIME] {
			cv.img = append([]byte(nil), c.Image...)
			cv.mime = c.MIME
			cv.HasImg = true
		}
		p.captcha = cv
		p.state = stateCaptcha
	})
	for {
		select {
		case a := <-p.answers:
			if a.seq != seq {
				continue // an answer to an earlier CAPTCHA
			}
			p.set(func() {
				p.state = stateWorking
				p.captcha = nil
			})
			return a.text, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// answer hands an answer to solve; it reports whether solve took it.
func (p *pending) answer(ctx context.Context, seqText, text string) bool {
	seq, err := strconv.Atoi(seqText)
	if err != nil {
		return false
	}
	select {
	case p.answers <- answer{seq: seq, text: text}:
		return true
	case <-ctx.Done():
	case <-time.After(time.Second): // nobody waits for an answer
	}
	return false
}

func (p *pending) image() ([]byte, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.captcha == nil || !p.captcha.HasImg {
		return nil, ""
	}
	return p.captcha.img, p.captcha.mime
}

func (p *pending) finish(o *outcome) {
	p.set(func() {
		p.outcome = o
		p.state = stateDone
		p.captcha = nil
	})
}

func (p *pending) view() view {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := view{ID: p.id, State: p.state, Events: append([]string(nil), p.events...), Outcome: p.outcome}
	if p.captcha != nil {
		c := *p.captcha
		v.Captcha = &c
	}
	return v
}

// newOutcome turns the result of Signup.Run into the final page.
func newOutcome(res *onboard.Result, err error) *outcome {
	o := &outcome{}
	if res != nil {
		o.Info = res.Info
		// A link is offered only if it is https.
		o.Info.Website = httpsLink(o.Info.Website)
		o.Info.PasswordReset = httpsLink(o.Info.PasswordReset)
		o.Info.LegalNotice = httpsLink(o.Info.LegalNotice)
		o.Provider = res.Provider.JID
		o.Redirect = httpsLink(res.RedirectURL)
		if res.RedirectURL != "" && o.Redirect == "" && err == nil {
			o.Error = message(onboard.ErrNoProvider)
		}
		o.JID = res.JID.String()
		if res.PasswordGenerated && o.JID != "" {
			o.Password, o.Generated = res.Password, true
		}
		o.Attempts = attemptViews(res.Attempts)
	}
	if err != nil {
		o.Error = message(err)
		var npe *onboard.NoProviderError
		if errors.As(err, &npe) {
			o.Attempts = attemptViews(npe.Attempts)
		}
		if o.JID == "" {
			o.Password = ""
		}
	}
	return o
}

// httpsLink returns the link s if it may be offered (netguard.HTTPSLink:
// https, a public host, no user information, no control characters),
// else "".
func httpsLink(s string) string {
	l, _ := netguard.HTTPSLink(s)
	return l
}

func attemptViews(as []*onboard.AttemptError) []attemptView {
	var out []attemptView
	for _, a := range as {
		out = append(out, attemptView{Domain: a.Domain, Reason: reason(a)})
	}
	return out
}

// message says in words what went wrong.
func message(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "The sign-up took too long and was stopped. Please start again."
	case errors.Is(err, onboard.ErrNoProvider):
		return "No provider could create your account right now."
	case errors.Is(err, register.ErrWeakPassword):
		return "The provider finds this password too weak. Please choose a longer one, or leave it empty to get one."
	case errors.Is(err, register.ErrUsernameTaken):
		return "This username is taken, and so were the variants we tried. Please choose another one."
	case errors.Is(err, register.ErrInvalidUsername):
		return "The provider does not accept this username. Please choose another one."
	case errors.Is(err, register.ErrLoginFailed):
		return "The account was created, but logging in with it failed. Try logging in with your app."
	case errors.Is(err, register.ErrOutcomeUnknown):
		return "The connection broke while the account was being created; it may or may not exist."
	}
	return "The sign-up failed."
}

// reason says in words why one provider failed.
func reason(a *onboard.AttemptError) string {
	switch {
	case errors.Is(a, onboard.ErrNoSolver):
		return "asks for a CAPTCHA"
	case errors.Is(a, register.ErrRegistrationClosed), errors.Is(a, register.ErrNotAdvertised):
		return "not open for new accounts"
	case errors.Is(a, register.ErrRateLimited):
		return "too many sign-ups from here; try later"
	case errors.Is(a, register.ErrWebOnly):
		return "sign-up only on its web site"
	case errors.Is(a, register.ErrCaptchaFailed):
		return "the CAPTCHA answers were wrong"
	case errors.Is(a, context.DeadlineExceeded):
		return "did not answer in time"
	case errors.Is(a, register.ErrNoTLS):
		return "no secure connection"
	case errors.Is(a, register.ErrConnect):
		return "could not connect"
	}
	return "failed"
}
