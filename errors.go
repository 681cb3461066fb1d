package onboard

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/register"
)

// Sentinel errors. The errors of [Signup.Run] wrap them; match them with
// errors.Is.
var (
	// ErrNoProvider: no candidate provider could register the account
	// (see [NoProviderError] for each one's reason), or none matched the
	// query.
	ErrNoProvider = errors.New("onboard: no provider could create the account")
	// ErrNoSolver: the provider asks for a CAPTCHA and [Signup.SolveCaptcha]
	// is nil. The attempt's error also matches register.ErrFormIncomplete.
	ErrNoSolver = errors.New("onboard: the provider asks for a CAPTCHA and there is no solver")
	// ErrMoreFields: the provider asks for more than a username, a
	// password and a CAPTCHA (an e-mail address, for example) and
	// [Signup.FillForm] is nil. The attempt's error also matches
	// register.ErrFormIncomplete.
	ErrMoreFields = errors.New("onboard: the provider asks for more fields and there is no FillForm")
	// ErrMalformedInvite: [Signup.Invite] cannot be read, or names no server
	// and Signup.Domain is empty. It also matches register.ErrMalformedInvite
	// when the invitation could not be parsed.
	ErrMalformedInvite = errors.New("onboard: malformed invitation")
	// ErrAddrWithoutDomain: Signup.Dialer.Addr names one server, but
	// Signup.Domain is empty, so the providers of the list would all be
	// sent to that address. Set Domain to the server's XMPP domain.
	ErrAddrWithoutDomain = errors.New("onboard: Signup.Dialer.Addr is set but Signup.Domain is not")
	// ErrPasswordSent: a provider refused the registration after it had
	// received the password the user typed, and Run did not send that
	// password to another provider (see [Signup.Password] and
	// Signup.ReusePassword). The error also matches the provider's
	// reason (register.ErrRateLimited, …), through the *NoProviderError
	// that Run returns. Ask the user for another password, or run again
	// with ReusePassword.
	ErrPasswordSent = errors.New("onboard: the typed password was sent to a provider that refused the registration; it is not sent to another")
)

// Steps of an attempt, in [AttemptError.Step].
const (
	StepVerify   = "verify"   // connect, secure, fetch the form
	StepCaptcha  = "captcha"  // the CAPTCHA (or FillForm) step
	StepSubmit   = "submit"   // submitting the form
	StepConfirm  = "confirm"  // logging in on a new connection after an unknown outcome
	StepLogin    = "login"    // logging in after the registration
	StepUsername = "username" // choosing another username after a conflict
)

// AttemptError is the failure of one candidate provider. It unwraps to the
// cause, usually a *register.Error, so errors.Is matches the register
// sentinels (register.ErrRegistrationClosed, register.ErrRateLimited,
// register.ErrWebOnly, …) and the context errors (a candidate that did not
// answer within [Signup.Timeout] matches context.DeadlineExceeded).
//
// Its message never contains a password.
type AttemptError struct {
	// Domain is the provider's XMPP domain.
	Domain string
	// Step is the step that failed: StepVerify, StepCaptcha, StepSubmit,
	// StepConfirm, StepLogin or StepUsername.
	Step string
	// Elapsed is how long the attempt ran until it failed.
	Elapsed time.Duration
	// Err is the cause.
	Err error
}

// Error returns "onboard: DOMAIN: STEP: CAUSE".
func (e *AttemptError) Error() string {
	return "onboard: " + e.Domain + ": " + e.Step + ": " + e.reason()
}

// reason describes the cause without package prefixes.
func (e *AttemptError) reason() string {
	if e.Err == nil {
		return "failed"
	}
	s := e.Err.Error()
	for _, p := range []string{"onboard: ", "register: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// Unwrap returns the cause.
func (e *AttemptError) Unwrap() error { return e.Err }

// UsernameTakenError is the cause of the *AttemptError that [Signup.Run]
// returns when a username the user typed (Signup.Username, or the one an
// invitation names) is taken and neither Signup.Rename nor
// Signup.RenameTyped is set: the user
// chooses another name, perhaps one of Suggestions. It matches
// register.ErrUsernameTaken, and unwraps to the server's refusal.
type UsernameTakenError struct {
	// Domain is the provider the name is taken on.
	Domain string
	// Username is the taken name, normalised.
	Username string
	// Suggestions are other names to offer (the name with a few digits);
	// the server has not been asked about them.
	Suggestions []string
	// Err is the server's refusal (a *register.Error of
	// KindUsernameTaken).
	Err error
}

// Error returns "USERNAME is taken on DOMAIN; suggestions: …".
func (e *UsernameTakenError) Error() string {
	s := strconv.Quote(e.Username) + " is taken on " + e.Domain
	if len(e.Suggestions) > 0 {
		s += "; free perhaps: " + strings.Join(e.Suggestions, ", ")
	}
	return s
}

// Is reports whether target is register.ErrUsernameTaken.
func (e *UsernameTakenError) Is(target error) bool { return target == register.ErrUsernameTaken }

// Unwrap returns the server's refusal.
func (e *UsernameTakenError) Unwrap() error { return e.Err }

// NoProviderError is returned by [Signup.Run] when no candidate provider
// created the account. Attempts lists every provider tried, in the order
// they failed, with the reason.
//
// errors.Is matches [ErrNoProvider], providers.ErrNoMatch when no provider
// matched at all, the context error when the run was interrupted, and the
// cause of any attempt (so errors.Is(err, register.ErrRateLimited) reports
// whether some provider was rate limited). To know what happened to each
// provider, range over Attempts.
type NoProviderError struct {
	// Attempts are the failed candidates, in the order they failed.
	Attempts []*AttemptError
	// Candidates is the number of providers that matched the query; it
	// may be larger than len(Attempts) when the run was interrupted.
	Candidates int
	// Err is the context error when the run was interrupted, a
	// *providers.NoMatchError when no provider matched, ErrPasswordSent
	// when the run stopped so as not to send a typed password to a second
	// provider, else nil.
	Err error
}

// Error lists every attempt: "onboard: no provider could create the
// account: a.example: registration closed; b.example: …".
func (e *NoProviderError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoProvider.Error())
	switch {
	case len(e.Attempts) == 0 && e.Err != nil:
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "providers: "))
		return b.String()
	case len(e.Attempts) == 0:
		b.WriteString(": no candidate")
		return b.String()
	}
	b.WriteString(" (")
	b.WriteString(strconv.Itoa(len(e.Attempts)))
	b.WriteString(" tried")
	if e.Err != nil {
		b.WriteString(", stopped: ")
		b.WriteString(e.Err.Error())
	}
	b.WriteString("): ")
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(a.Domain)
		if a.Step != StepVerify {
			b.WriteString(" (" + a.Step + ")")
		}
		b.WriteString(": ")
		b.WriteString(a.reason())
	}
	return b.String()
}

// Is reports whether target is ErrNoProvider.
func (e *NoProviderError) Is(target error) bool { return target == ErrNoProvider }

// Unwrap returns Err and the attempts.
func (e *NoProviderError) Unwrap() []error {
	out := make([]error, 0, len(e.Attempts)+1)
	if e.Err != nil {
		out = append(out, e.Err)
	}
	for _, a := range e.Attempts {
		out = append(out, a)
	}
	return out
}
