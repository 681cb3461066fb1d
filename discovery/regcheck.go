package discovery

import (
	"errors"

	"github.com/xmpp-onboard/onboard/register"
)

// RegistrationCheck is what the live check of [Prober.CheckRegistration]
// found: one submission of the form with a random, unused username and an
// empty password ([register.Conn.ProbeOpen]), which tells an open server
// from one that serves the form but refuses every registration, without
// creating an account.
type RegistrationCheck struct {
	// Status is Observed when the server answered the submission (Reason
	// says what the answer means), Unknown when nothing was sent (Reason
	// says why: a CAPTCHA, for example) or no answer came.
	Status Status `json:"status"`
	// Result is "open" (refused for the empty password only: ejabberd
	// open), "closed" (refused by the server's policy: ejabberd with
	// access: register denying everyone) or "unknown" (Prosody, which
	// checks the fields first, answers the same open or closed).
	Result register.Openness `json:"result"`
	// Username is the throwaway name sent ("probe-" and 12 hex digits).
	Username string `json:"username,omitempty"`
	// Condition and Text are the server's error condition and text.
	Condition string `json:"condition,omitempty"`
	Text      string `json:"text,omitempty"`
	// Created is set when the server accepted the empty password and
	// created the account Username: it must not be checked again, and its
	// operator should delete that account. No server of the test suite
	// does (Prosody 0.12 and 13, ejabberd 23.01 and 24.12).
	Created bool `json:"created,omitempty"`
}

// registrationCheck returns the check's query for a registration form q (the
// payload of the answer to the form request) that was classified open, or
// none; it sets r.Check when it has something to say without a query.
func registrationCheck(r *Registration, q *node) []pending {
	if q == nil || r.Kind != RegistrationOpen {
		return nil
	}
	f, err := register.ParseForm(q.Marshal())
	if err != nil {
		return nil // parseRegister saw the same error
	}
	query, user, err := register.ProbeRequest(f)
	if err != nil {
		r.Check = &RegistrationCheck{Status: unknown("not checked: "+probeReason(err), ErrSkipped, 0)}
		return nil
	}
	payload, err := parseElement(query)
	if err != nil {
		return nil
	}
	req := iqRequest{name: "register check", typ: "set", payload: payload}
	return []pending{{req, func(res iqResult) { applyCheck(r, user, res) }}}
}

// probeReason is why register did not build a probe.
func probeReason(err error) string {
	msg := err.Error()
	if p := register.ErrProbeSkipped.Error() + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// applyCheck records the answer to the check in r: a refusal by policy
// makes the registration closed.
func applyCheck(r *Registration, user string, res iqResult) {
	var iqe *IQError
	var ans register.ProbeResult
	var err error
	switch {
	case res.err == nil:
		ans, err = register.ProbeAnswer(user, nil)
	case errors.As(res.err, &iqe):
		se := iqe.Err
		ans, err = register.ProbeAnswer(user, &se)
	default:
		r.Check = &RegistrationCheck{Username: user, Status: unknown("no answer to the check", res.err, res.took)}
		return
	}
	c := &RegistrationCheck{Result: ans.Openness, Username: user, Created: ans.Created, Status: observed(res.took)}
	c.Status.Reason, c.Status.Err = ans.Reason, err
	if ans.Stanza != nil {
		c.Condition = string(ans.Stanza.Condition)
		c.Text = clipString(ans.Stanza.Error())
		if c.Text == c.Condition {
			c.Text = ""
		}
	}
	r.Check = c
	switch {
	case ans.Created:
		r.Status.Reason = joinReason(r.Status.Reason, "the check created the account "+user+" (empty password)")
	case ans.Openness == register.OpennessClosed:
		r.Kind = RegistrationClosed
		r.Status = absent(joinReason("the form is served, but a submission is refused by the server's policy", r.Status.Reason), res.err, r.Status.Took+res.took)
	case ans.Openness == register.OpennessOpen:
		r.Status.Reason = joinReason(r.Status.Reason, "checked: a submission is refused for its empty password only")
	}
}
