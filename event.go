package onboard

import (
	"crypto/tls"
	"strconv"
	"strings"

	"github.com/xmpp-onboard/onboard/register"
)

// Stage is a step of [Signup.Run], reported to [Signup.Progress].
type Stage int

// Stages. The steps of one registration are register's: they have the
// same names and values as register.Stage (Stage(register.StageForm) ==
// StageForm), so that one vocabulary describes a registration whichever
// API runs it. The steps of the flow around it (choosing, falling back,
// the CAPTCHA, probing) are numbered from 100. The verification stages
// (StageConnecting to StageForm) happen for several providers at once.
const (
	// StageConnecting: connecting to Event.Domain.
	StageConnecting = Stage(register.StageConnecting)
	// StageSecured: TLS is up and the certificate matches Event.Domain
	// (Event.Addr, Event.TLSVersion).
	StageSecured = Stage(register.StageSecured)
	// StageForm: the registration form of Event.Domain was received, so
	// registration is open now.
	StageForm = Stage(register.StageForm)
	// StageSubmitting: the form is being sent (Event.Username).
	StageSubmitting = Stage(register.StageSubmitting)
	// StageRegistered: the account Event.Username@Event.Domain exists.
	StageRegistered = Stage(register.StageRegistered)
	// StageLoggingIn: logging in with the new account.
	StageLoggingIn = Stage(register.StageLoggingIn)
	// StageLoggedIn: logged in; Result.Session is ready.
	StageLoggedIn = Stage(register.StageLoggedIn)
)

// stageGreeted is register.StageGreeted, which the verification
// scheduler uses and Progress does not see.
const stageGreeted = Stage(register.StageGreeted)

// The stages of the flow around a registration.
const (
	// StageCandidates: the candidates are chosen (Event.Candidates, in
	// the order they will be tried).
	StageCandidates Stage = iota + 100
	// StageFallback: Event.Domain failed (Event.Err says why); Event.Next
	// is the provider tried in its place, or "" when no other is left.
	StageFallback
	// StageChosen: Event.Domain is verified and chosen; the other
	// verifications stop.
	StageChosen
	// StageCaptcha: the CAPTCHA of Event.Domain is handed to
	// [Signup.SolveCaptcha] (or the form to [Signup.FillForm]).
	StageCaptcha
	// StageUsernameTaken: Event.Err says the name was taken; Event.Username
	// is the next name tried.
	StageUsernameTaken
	// StageProbing: the provider is probed with the new account
	// ([Signup.Probe]).
	StageProbing
)

// String returns the stage's name, such as "form received" (for the
// steps of a registration, register.Stage's name).
func (s Stage) String() string {
	switch s {
	case StageCandidates:
		return "candidates"
	case StageFallback:
		return "fallback"
	case StageChosen:
		return "chosen"
	case StageCaptcha:
		return "captcha"
	case StageUsernameTaken:
		return "username taken"
	case StageProbing:
		return "probing"
	}
	if s >= StageConnecting && s <= StageLoggedIn {
		return register.Stage(s).String()
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Event is a progress report of [Signup.Run]. Only the fields its Stage
// names are set.
type Event struct {
	Stage      Stage
	Domain     string   // the provider the event is about
	Addr       string   // StageSecured: the address connected to
	TLSVersion uint16   // StageSecured: tls.VersionTLS13, …
	Candidates []string // StageCandidates: the domains, in order
	Next       string   // StageFallback: the provider tried instead, or ""
	Username   string   // StageSubmitting, StageUsernameTaken, StageRegistered
	Err        error    // StageFallback, StageUsernameTaken: why
}

// String describes the event in one line, for logs and simple user
// interfaces: "fallback: a.example failed (registration closed), trying
// b.example". It never contains a password.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Stage.String())
	switch e.Stage {
	case StageCandidates:
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Candidates, ", "))
		return b.String()
	case StageFallback:
		b.WriteString(": " + e.Domain + " failed")
		if e.Err != nil {
			r := (&AttemptError{Err: e.Err}).reason()
			if a, ok := e.Err.(*AttemptError); ok {
				r = a.reason()
			}
			b.WriteString(" (" + r + ")")
		}
		if e.Next != "" {
			b.WriteString(", trying " + e.Next)
		}
		return b.String()
	}
	if e.Domain != "" {
		b.WriteString(": " + e.Domain)
	}
	switch e.Stage {
	case StageSecured:
		b.WriteString(" at " + e.Addr + " (" + tls.VersionName(e.TLSVersion) + ")")
	case StageSubmitting, StageRegistered:
		b.WriteString(" as " + e.Username)
	case StageUsernameTaken:
		b.WriteString(", trying " + e.Username)
	}
	return b.String()
}
