package register

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"mellium.im/xmpp/stanza"
)

// Openness is what a probe submission ([Conn.ProbeOpen]) says about a
// server's in-band registration.
type Openness uint8

// Openness values. The zero value is OpennessUnknown.
const (
	// OpennessUnknown: the answer does not tell (or nothing was sent).
	// Prosody 0.12 and 13 check the form's fields before their policy,
	// so they always land here, open or not.
	OpennessUnknown Openness = iota
	// OpennessOpen: the server got past its registration policy and
	// refused the submission only for its empty password (ejabberd open:
	// modify/not-acceptable "The password contains unacceptable
	// characters"): a registration with a real password would be taken.
	OpennessOpen
	// OpennessClosed: the server refused the submission by its policy
	// before it looked at the password (ejabberd with access: register
	// denying everyone: auth/forbidden "Access denied by service
	// policy"), although it serves the form and may advertise
	// registration.
	OpennessClosed
)

var opennessNames = [...]string{"unknown", "open", "closed"}

// String returns "unknown", "open" or "closed".
func (o Openness) String() string {
	if int(o) < len(opennessNames) {
		return opennessNames[o]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (o Openness) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; a name it does not
// know is OpennessUnknown.
func (o *Openness) UnmarshalText(b []byte) error {
	*o = OpennessUnknown
	for i, n := range opennessNames {
		if n == string(b) {
			*o = Openness(i)
		}
	}
	return nil
}

// ErrProbeCreated is returned by [Conn.ProbeOpen] and [ProbeAnswer] when the
// server accepted the probe's empty password and created the account
// ProbeResult.Username. No server of the test suite does (Prosody 0.12 and
// 13, ejabberd 23.01 and 24.12); one that does must not be probed again,
// and its operator should delete that account (it has an empty password).
var ErrProbeCreated = errors.New("register: the probe submission created an account")

// ErrProbeSkipped is returned by [ProbeRequest] for a form that is not
// probed (see [Conn.ProbeOpen]); the error says why.
var ErrProbeSkipped = errors.New("register: form not probed")

// opProbe is the Error.Op of a probe submission.
const opProbe = "probe"

// ProbeUsernamePrefix starts the throwaway username of every probe
// submission, so that operators can tell probes apart in their logs.
const ProbeUsernamePrefix = "probe-"

// ProbeResult is the outcome of a probe submission.
type ProbeResult struct {
	// Openness is what the answer says.
	Openness Openness
	// Sent reports whether a submission was sent; without one (a form
	// with a CAPTCHA, a web-only form, a form without a password field)
	// Openness is OpennessUnknown and Reason says why.
	Sent bool
	// Username is the random, unused name the submission carried ("" when
	// none was sent). It starts with [ProbeUsernamePrefix].
	Username string
	// Kind classifies the server's refusal as it would classify that of a
	// real registration: KindWeakPassword when the password was the only
	// problem, KindRegistrationClosed or KindInviteRequired for a policy,
	// KindFormIncomplete when the fields were checked first (Prosody),
	// KindRateLimited for a rate limit, KindUnknown otherwise.
	Kind Kind
	// Stanza is the server's error as sent, nil when there was none.
	Stanza *stanza.Error
	// Created is set when the server answered with success: it created
	// the account Username with an empty password (see [ErrProbeCreated]).
	Created bool
	// Reason says in words why Openness is what it is.
	Reason string
}

// ProbeOpen tells a server that serves a registration form but refuses
// every registration from one that takes them, without creating an account:
// it submits f once with a new random username ([ProbeUsernamePrefix] and 12
// hex digits) and an empty password, and reads the refusal.
//
// Why this creates nothing: XEP-0077 §3.1 makes an empty password a
// missing required field, and every server of the test suite refuses it
// (measured on Prosody 0.12 and 13 and ejabberd 23.01 and 24.12, open and
// closed; the tests check that no account appears). ejabberd checks its
// access rule first, then the password: closed answers auth/forbidden
// ("Access denied by service policy"), open modify/not-acceptable ("The
// password contains unacceptable characters"); the refusal also does not
// start its registration_timeout. Prosody checks the fields first and
// answers "Password: Required value missing" whether open, closed by
// invitation or throttled: OpennessUnknown. Should a server ever answer
// with success, ProbeOpen returns the result with Created set and an error
// matching [ErrProbeCreated]: never probe that server again.
//
// Use it only where the application was asked for a live check: it is a
// submission, which the server may log (under the probe's name). It never
// sends what f holds: every field the user fills is sent empty, only hidden
// fields (FORM_TYPE, a transaction key) keep their values, and f itself is
// not changed. A form with a CAPTCHA is not submitted (the probe would be a
// failed CAPTCHA and spend the challenge), nor is a web-only form or one
// without a username and a password field: the result is then
// OpennessUnknown with Sent false and the reason, and the error nil.
//
// After ProbeOpen the stream is usable for a real registration (request a
// new form first if the server's form carries a one-time challenge).
func (c *Conn) ProbeOpen(ctx context.Context, f *Form) (ProbeResult, error) {
	q, user, err := probeQuery(f)
	if err != nil {
		return ProbeResult{Reason: strings.TrimPrefix(err.Error(), ErrProbeSkipped.Error()+": ")}, nil
	}
	var reply *node
	err = c.do(ctx, opProbe, func(ctx context.Context) error {
		if err := c.pendingClose(); err != nil {
			return err
		}
		var err error
		reply, err = c.exchange("set", q)
		return err
	})
	if err != nil {
		return ProbeResult{Sent: true, Username: user, Reason: "no answer"}, err
	}
	if reply.Get("type") != "error" {
		return ProbeAnswer(user, nil)
	}
	se := parseStanzaError(reply)
	return ProbeAnswer(user, &se)
}

// ProbeRequest returns the submission [Conn.ProbeOpen] sends for f, for
// applications that send it on a stream of their own (as package discovery
// does): query is the <query xmlns='jabber:iq:register'/> element to send in
// an IQ of type set, carrying username, a new random name, and an empty
// password. For a form that is not probed (see Conn.ProbeOpen) the error
// matches [ErrProbeSkipped] and says why. Pass the server's answer to
// [ProbeAnswer].
func ProbeRequest(f *Form) (query []byte, username string, err error) {
	q, user, err := probeQuery(f)
	if err != nil {
		return nil, "", err
	}
	return q.Marshal(), user, nil
}

// probeQuery builds the probe submission for f: a copy of f with every
// fillable field emptied, a random username and an empty password.
func probeQuery(f *Form) (*node, string, error) {
	skip := func(why string) (*node, string, error) {
		return nil, "", fmt.Errorf("%w: %s", ErrProbeSkipped, why)
	}
	switch {
	case f == nil:
		return skip("no form")
	case f.Captcha != nil:
		return skip("the form has a CAPTCHA (a probe would be a failed CAPTCHA)")
	case f.WebOnly():
		return skip("the form offers web registration only")
	case f.Field("username") == nil || f.Field("password") == nil:
		return skip("the form has no username and password fields")
	}
	g := f.Clone()
	for _, fields := range [][]Field{g.Fields, g.LegacyFields} {
		for i := range fields {
			if fields[i].fillable() {
				fields[i].Values = nil
			}
		}
	}
	user := newProbeUsername()
	if err := g.SetUsername(user); err != nil {
		return nil, "", err
	}
	return g.submission(), user, nil
}

// newProbeUsername returns ProbeUsernamePrefix and 12 random hex digits: a
// valid localpart that no one has registered.
func newProbeUsername() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return ProbeUsernamePrefix + hex.EncodeToString(b[:])
}

// ProbeAnswer interprets the server's answer to a probe submission for the
// throwaway username: se is the stanza error it sent, nil when it answered
// with success (then the account was created: the result has Created set
// and the error matches [ErrProbeCreated]). It decides by the error
// condition as [Kind] does for a real registration; see [Conn.ProbeOpen].
func ProbeAnswer(username string, se *stanza.Error) (ProbeResult, error) {
	r := ProbeResult{Sent: true, Username: username}
	if se == nil {
		r.Openness, r.Created = OpennessOpen, true
		r.Reason = "the server accepted an empty password and created " + username
		return r, &Error{Op: opProbe, Kind: KindUnknown, Username: username,
			Err: fmt.Errorf("%w: %s (empty password); delete it and do not probe this server again", ErrProbeCreated, username)}
	}
	e := stanzaErr(opSubmit, *se, nil)
	r.Kind, r.Stanza = e.Kind, e.Stanza
	switch e.Kind {
	case KindWeakPassword:
		r.Openness = OpennessOpen
		r.Reason = "refused for the empty password only: the registration policy let it through"
	case KindRegistrationClosed, KindInviteRequired, KindNotAllowed:
		r.Openness = OpennessClosed
		r.Reason = "refused by the server's policy before the password was looked at"
	case KindWebOnly:
		r.Openness = OpennessClosed
		r.Reason = "the server sends registrations to the web"
	case KindRateLimited:
		r.Reason = "rate limited: the server takes registrations, but not from this address now"
	case KindFormIncomplete:
		r.Reason = "the server checks the form's fields before its policy; the answer does not tell"
	default:
		r.Reason = "the answer does not tell"
	}
	return r, nil
}
