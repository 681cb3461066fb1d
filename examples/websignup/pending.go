package main

import (
	"context"
	"errors"
	"html/template"
	"math/rand/v2"
	"strconv"
	"strings"
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
	stateCaptcha = "captcha" // waiting for the user's CAPTCHA answer
	stateRename  = "rename"  // the name is taken: waiting for the user's choice of another
	stateDone    = "done"    // finished, with an account or an error
)

// maxEvents caps the progress lines kept per registration.
const maxEvents = 50

// pending is a registration in progress: the goroutine running
// onboard.Signup and what the pages show of it. The provider's connection
// stays open in that goroutine while the user reads the CAPTCHA or
// chooses another name.
type pending struct {
	id        string
	owner     string // the session ID
	expires   time.Time
	cancel    context.CancelFunc
	answers   chan answer // from the answer forms to SolveCaptcha and Rename
	typedName bool        // the user typed the username (else it is generated)
	username  string      // the typed username, for the form shown again after a failure
	provider  string      // the provider the user chose, or ""
	invite    string      // the invitation token, or ""

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced at every change
	state    string
	events   []eventRec
	captcha  *captchaView
	renaming *renameView
	seq      int // of the current question, so that a stale form is ignored
	// answered is the provider whose CAPTCHA was answered last, until the
	// answer is known to be right or beside the point (the name was
	// taken): a new CAPTCHA from it means the answer was wrong.
	answered   string
	sawCaptcha bool
	outcome    *outcome
}

type answer struct {
	seq  int
	text string
}

// eventRec is an onboard.Event as the status page shows it: what
// servers sent is sanitized (sanitize.Line).
type eventRec struct {
	Stage    onboard.Stage
	Domain   string
	Next     string
	Username string
	Reason   text
	N        int
}

// captchaView is a CAPTCHA as the page shows it.
type captchaView struct {
	Domain string
	Label  string
	Seq    int
	HasImg bool
	Wrong  bool   // the previous answer to this provider was wrong
	Link   string // the provider's https page of the challenge, or ""
	img    []byte
	mime   string
}

// renameView asks for another name when the typed one is taken.
type renameView struct {
	Domain     string
	Taken      string
	Suggestion string
	Seq        int
	Error      string // the typed name cannot be used (in the page's language)
	Typed      string
}

// outcome is the final page: an account (Password only if generated, so
// that the user can write it down) or an error.
type outcome struct {
	JID       string
	URI       template.URL // xmpp:JID
	Password  string
	Info      onboard.Info
	Redirect  string
	Error     text
	Advice    *text
	Retry     bool   // show the sign-up form again
	Username  string // the name the user typed, for that form
	Attempts  []attemptView
	Provider  string
	Generated bool
}

type attemptView struct {
	Domain string
	Reason text
}

// stepView is one stage on the status page.
type stepView struct {
	Key    string // its name
	Class  string // done, current, todo or skipped
	Status string // the key of the class's word
}

// statusView is what the pages show of a registration.
type statusView struct {
	State   string
	Steps   []stepView
	Now     string
	Events  []string
	Captcha *captchaView
	Rename  *renameView
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
	rec := eventRec{Stage: e.Stage, Domain: sanitize.Line(e.Domain), Next: sanitize.Line(e.Next), Username: sanitize.Line(e.Username), N: len(e.Candidates)}
	var a *onboard.AttemptError
	if e.Err != nil {
		if !errors.As(e.Err, &a) {
			a = &onboard.AttemptError{Err: e.Err}
		}
		rec.Reason = reason(a)
	}
	p.set(func() {
		if len(p.events) < maxEvents {
			p.events = append(p.events, rec)
		} else {
			p.events[len(p.events)-1] = rec
		}
		switch e.Stage {
		case onboard.StageUsernameTaken, onboard.StageRegistered, onboard.StageFallback:
			p.answered = ""
		case onboard.StageCaptcha:
			p.sawCaptcha = true
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
		cv := &captchaView{Domain: sanitize.Line(domain), Label: sanitize.Line(c.Label), Seq: seq, Wrong: p.answered == domain}
		if len(c.Image) > 0 && imageTypes[c.MIME] {
			cv.img = append([]byte(nil), c.Image...)
			cv.mime = c.MIME
			cv.HasImg = true
		}
		for _, u := range c.URLs {
			if l := httpsLink(u); l != "" {
				cv.Link = l
				break
			}
		}
		p.captcha = cv
		p.state = stateCaptcha
	})
	text, err := p.wait(ctx, seq)
	if err != nil {
		return "", err
	}
	p.set(func() {
		p.state = stateWorking
		p.captcha = nil
		p.answered = domain
	})
	return text, nil
}

// rename is the Signup.Rename callback. A generated name is replaced by
// another generated one; a name the user typed is not replaced silently:
// the page says it is taken and the user keeps the suggestion or types
// another.
func (p *pending) rename(ctx context.Context, domain, taken string) (string, error) {
	if !p.typedName {
		return onboard.RandomUsername(), nil
	}
	var seq int
	p.set(func() {
		p.seq++
		seq = p.seq
		p.renaming = &renameView{Domain: sanitize.Line(domain), Taken: sanitize.Line(taken), Suggestion: suggest(taken), Seq: seq}
		p.state = stateRename
		p.answered = ""
	})
	name, err := p.wait(ctx, seq)
	if err != nil {
		return "", err
	}
	p.set(func() {
		p.state = stateWorking
		p.renaming = nil
	})
	return name, nil
}

// suggest returns taken with two to four random digits, at most
// maxUsername bytes.
func suggest(taken string) string {
	digits := strconv.Itoa(10 + rand.IntN(9990))
	base := strings.TrimRight(taken, "0123456789")
	if base == "" {
		base = taken
	}
	if len(base)+len(digits) > maxUsername {
		base = base[:maxUsername-len(digits)]
	}
	if u, err := register.NormalizeUsername(base + digits); err == nil {
		return u
	}
	return onboard.RandomUsername()
}

// wait waits for the answer to question seq.
func (p *pending) wait(ctx context.Context, seq int) (string, error) {
	for {
		select {
		case a := <-p.answers:
			if a.seq == seq {
				return a.text, nil
			}
			// An answer to an earlier question.
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// answer hands an answer to the waiting question; it reports whether it
// was taken.
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
		p.renaming = nil
	})
}

// The stages of the status page, and the onboard stages of each.
var steps = []string{"step.providers", "step.captcha", "step.create", "step.login"}

func stepOf(s onboard.Stage) int {
	switch s {
	case onboard.StageCaptcha:
		return 1
	case onboard.StageSubmitting, onboard.StageUsernameTaken, onboard.StageRegistered:
		return 2
	case onboard.StageLoggingIn, onboard.StageLoggedIn, onboard.StageProbing:
		return 3
	}
	return 0
}

// view returns what the pages show, in l.
func (p *pending) view(l lang) statusView {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := statusView{State: p.state, Outcome: p.outcome}
	cur := 0
	if n := len(p.events); n > 0 {
		cur = stepOf(p.events[n-1].Stage)
		v.Now = eventText(l, p.events[n-1])
	}
	if p.state == stateCaptcha {
		cur = 1
	}
	for i, k := range steps {
		s := stepView{Key: k, Class: "todo", Status: "status.todo"}
		switch {
		case i == 1 && i < cur && !p.sawCaptcha:
			s.Class, s.Status = "skipped", "status.skipped"
		case i < cur:
			s.Class, s.Status = "done", "status.done"
		case i == cur:
			s.Class, s.Status = "current", "status.current"
		}
		v.Steps = append(v.Steps, s)
	}
	for _, e := range p.events {
		v.Events = append(v.Events, eventText(l, e))
	}
	if p.captcha != nil {
		c := *p.captcha
		v.Captcha = &c
	}
	if p.renaming != nil {
		r := *p.renaming
		v.Rename = &r
	}
	return v
}

// eventText says in l what an event means.
func eventText(l lang, e eventRec) string {
	switch e.Stage {
	case onboard.StageCandidates:
		return l.T("ev.candidates", e.N)
	case onboard.StageConnecting:
		return l.T("ev.connecting", e.Domain)
	case onboard.StageSecured:
		return l.T("ev.secured", e.Domain)
	case onboard.StageForm:
		return l.T("ev.form", e.Domain)
	case onboard.StageFallback:
		if e.Next != "" {
			return l.T("ev.fallback.next", e.Domain, e.Reason, e.Next)
		}
		return l.T("ev.fallback", e.Domain, e.Reason)
	case onboard.StageChosen:
		return l.T("ev.chosen", e.Domain)
	case onboard.StageCaptcha:
		return l.T("ev.captcha", e.Domain)
	case onboard.StageSubmitting:
		return l.T("ev.submitting", e.Username, e.Domain)
	case onboard.StageUsernameTaken:
		return l.T("ev.taken", e.Domain, e.Username)
	case onboard.StageRegistered:
		return l.T("ev.registered", e.Username, e.Domain)
	case onboard.StageLoggingIn:
		return l.T("ev.loggingin", e.Domain)
	case onboard.StageLoggedIn:
		return l.T("ev.loggedin", e.Domain)
	case onboard.StageProbing:
		return l.T("ev.probing", e.Domain)
	}
	return l.T("ev.other", e.Domain)
}

// newOutcome turns the result of Signup.Run into the final page;
// stopped means that the sign-up's own time ran out.
func newOutcome(res *onboard.Result, err error, p *pending, stopped bool) *outcome {
	o := &outcome{Username: p.username}
	if res != nil {
		o.Info = res.Info
		// A link is offered only if it is https.
		o.Info.Website = httpsLink(o.Info.Website)
		o.Info.PasswordReset = httpsLink(o.Info.PasswordReset)
		o.Info.LegalNotice = httpsLink(o.Info.LegalNotice)
		o.Provider = res.Provider.JID
		o.Redirect = httpsLink(res.RedirectURL)
		if res.RedirectURL != "" && o.Redirect == "" && err == nil {
			o.Error, o.Retry = msg("err.noProvider"), true
			o.Advice = &text{Key: "advice.another"}
		}
		if j := res.JID.String(); j != "" {
			o.JID = j
			// A JID has no characters that need escaping in a URI but
			// those the template's URL normaliser escapes.
			o.URI = template.URL("xmpp:" + o.JID)
		}
		if res.PasswordGenerated && o.JID != "" {
			o.Password, o.Generated = res.Password, true
		}
		o.Attempts = attemptViews(res.Attempts)
	}
	if err != nil {
		o.Error, o.Advice, o.Retry = explain(err, p, stopped)
		var npe *onboard.NoProviderError
		if errors.As(err, &npe) {
			o.Attempts = attemptViews(npe.Attempts)
		}
		switch o.Error.Key {
		case "err.providerRefused", "err.passwordSent", "err.inviteRefused":
			if len(o.Attempts) == 1 {
				o.Attempts = nil // the message names it
			}
		}
		if o.JID == "" {
			o.Password = ""
		}
	}
	return o
}

// explain says in words what went wrong, what to do, and whether the
// form is worth showing again. It never starts anything again by itself.
func explain(err error, p *pending, stopped bool) (text, *text, bool) {
	advice := func(k string) *text { return &text{Key: k} }
	var npe *onboard.NoProviderError
	isNPE := errors.As(err, &npe)
	last, why := p.provider, msg("reason.failed")
	if isNPE && len(npe.Attempts) > 0 {
		a := npe.Attempts[len(npe.Attempts)-1]
		last, why = sanitize.Line(a.Domain), reason(a)
	}
	// The run's own context (not a provider's time limit) ended it.
	stopped = stopped || isNPE && npe.Err != nil && (errors.Is(npe.Err, context.DeadlineExceeded) || errors.Is(npe.Err, context.Canceled)) ||
		!isNPE && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled))
	switch {
	case errors.Is(err, onboard.ErrPasswordSent):
		return msg("err.passwordSent", last, why), advice("advice.newPassword"), true
	case stopped:
		return msg("err.timeout"), advice("advice.again"), true
	case isNPE && p.invite != "":
		return msg("err.inviteRefused", last, why), advice("advice.invite"), false
	case isNPE && p.provider != "":
		return msg("err.providerRefused", last, why), advice("advice.another"), true
	case isNPE:
		return msg("err.noProvider"), advice("advice.later"), true
	case errors.Is(err, register.ErrWeakPassword):
		return msg("err.weak"), advice("advice.newPassword"), true
	case errors.Is(err, register.ErrUsernameTaken):
		return msg("err.taken"), advice("advice.otherName"), true
	case errors.Is(err, register.ErrInvalidUsername):
		return msg("err.invalidUsername"), advice("advice.otherName"), true
	case errors.Is(err, register.ErrLoginFailed):
		return msg("err.loginFailed"), nil, false
	case errors.Is(err, register.ErrOutcomeUnknown):
		return msg("err.unknown"), nil, false
	case errors.Is(err, onboard.ErrMalformedInvite):
		return msg("err.invite"), advice("advice.invite"), false
	}
	return msg("err.failed"), advice("advice.again"), true
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
		out = append(out, attemptView{Domain: sanitize.Line(a.Domain), Reason: reason(a)})
	}
	return out
}

// reason says why one provider failed.
func reason(a *onboard.AttemptError) text {
	switch {
	case errors.Is(a, onboard.ErrNoSolver):
		return msg("reason.captcha")
	case errors.Is(a, onboard.ErrMoreFields):
		return msg("reason.fields")
	case errors.Is(a, register.ErrInviteInvalid), errors.Is(a, register.ErrInviteRequired):
		return msg("reason.invite")
	case errors.Is(a, register.ErrRegistrationClosed), errors.Is(a, register.ErrNotAdvertised):
		return msg("reason.closed")
	case errors.Is(a, register.ErrRateLimited):
		return msg("reason.rate")
	case errors.Is(a, register.ErrWebOnly):
		return msg("reason.web")
	case errors.Is(a, register.ErrCaptchaFailed):
		return msg("reason.captchaWrong")
	case errors.Is(a, register.ErrWeakPassword):
		return msg("reason.weak")
	case errors.Is(a, context.DeadlineExceeded):
		return msg("reason.timeout")
	case errors.Is(a, register.ErrNoTLS):
		return msg("reason.tls")
	case errors.Is(a, register.ErrConnect):
		return msg("reason.connect")
	}
	return msg("reason.failed")
}
