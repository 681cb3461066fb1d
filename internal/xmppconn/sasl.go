package xmppconn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/saslclient"
)

// Stream is what the SASL exchange needs of a client stream: the next
// top-level element, and sending one.
type Stream interface {
	Next(ctx context.Context) (*Element, error)
	Send(ctx context.Context, e *Element) error
}

// SASLCondition is a SASL failure condition (RFC 6120 §6.5).
type SASLCondition string

// The conditions RFC 6120 §6.5 defines. A server's other names become
// SASLUndefined: a server can name an element after the password.
const (
	SASLAborted              SASLCondition = "aborted"
	SASLAccountDisabled      SASLCondition = "account-disabled"
	SASLCredentialsExpired   SASLCondition = "credentials-expired"
	SASLEncryptionRequired   SASLCondition = "encryption-required"
	SASLIncorrectEncoding    SASLCondition = "incorrect-encoding"
	SASLInvalidAuthzid       SASLCondition = "invalid-authzid"
	SASLInvalidMechanism     SASLCondition = "invalid-mechanism"
	SASLMalformedRequest     SASLCondition = "malformed-request"
	SASLMechanismTooWeak     SASLCondition = "mechanism-too-weak"
	SASLNotAuthorized        SASLCondition = "not-authorized"
	SASLTemporaryAuthFailure SASLCondition = "temporary-auth-failure"
	SASLUndefined            SASLCondition = "undefined-condition"
)

var saslConditions = []SASLCondition{
	SASLAborted, SASLAccountDisabled, SASLCredentialsExpired, SASLEncryptionRequired,
	SASLIncorrectEncoding, SASLInvalidAuthzid, SASLInvalidMechanism, SASLMalformedRequest,
	SASLMechanismTooWeak, SASLNotAuthorized, SASLTemporaryAuthFailure,
}

// SASLError is a SASL <failure/> from the server (RFC 6120 §6.5). The
// stream stays usable for another attempt.
type SASLError struct {
	// Mechanism is the mechanism that failed.
	Mechanism string
	// Condition is the failure condition: one of those RFC 6120 §6.5
	// defines, or SASLUndefined for any other.
	Condition SASLCondition
	// Text is the server's description, if any, without the secrets.
	Text string
}

// Error returns "SASL MECHANISM failed: CONDITION (TEXT)".
func (e *SASLError) Error() string {
	s := "SASL " + e.Mechanism + " failed: " + string(e.Condition)
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return s
}

// ParseSASLFailure reads a <failure/> (RFC 6120's or XEP-0388's) for
// mechanism mech: the first
// condition counts, and one RFC 6120 does not define is not kept; the
// text is stripped of secrets and clipped to 512 bytes.
func ParseSASLFailure(el *Element, mech string, secrets *redact.Set) *SASLError {
	f := &SASLError{Mechanism: mech, Condition: SASLUndefined}
	cond := false
	for _, k := range el.Children {
		if k.Is(NSSASL2, "text") {
			// XEP-0388: the text is SASL2's, the condition RFC 6120's.
			f.Text = Clip(secrets.String(strings.TrimSpace(k.Text)), 512)
			continue
		}
		if k.Name.Space != NSSASL {
			continue
		}
		if k.Name.Local == "text" {
			f.Text = Clip(secrets.String(strings.TrimSpace(k.Text)), 512)
		} else if !cond {
			cond = true
			for _, c := range saslConditions {
				if string(c) == k.Name.Local {
					f.Condition = c
				}
			}
		}
	}
	return f
}

// SASLProtocolError is a SASL exchange the server broke: a payload the
// negotiation refused (a malformed SCRAM message), a success that proves
// nothing, an element that has no place in SASL. The stream cannot go on.
// It matches ErrProtocol, and unwraps to the cause: the negotiation's
// error (the server did not prove that it knows the password), or one
// matching ErrProtocol (the XML broke the exchange).
type SASLProtocolError struct {
	Mechanism string
	Err       error
}

func (e *SASLProtocolError) Error() string { return "SASL " + e.Mechanism + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *SASLProtocolError) Unwrap() error { return e.Err }

// Is reports whether target is ErrProtocol.
func (e *SASLProtocolError) Is(target error) bool { return target == ErrProtocol }

// AuthElement starts neg and returns its <auth/> element.
func AuthElement(ctx context.Context, neg *saslclient.Negotiation) (*Element, error) {
	resp, err := neg.Start(ctx)
	if err != nil {
		return nil, err
	}
	return New(NSSASL, "auth", "mechanism", neg.Mechanism()).WithText(B64(resp)), nil
}

// FinishSASL reads the server's answers to the <auth/> of neg until its
// success or failure, sending the responses; every payload goes through
// the negotiation, which vets it and accepts a success only once the
// server has proved that it knows the password.
//
// It returns nil after a proven success; a *SASLError for a <failure/>
// (the stream stays usable); an error matching saslclient.ErrFailed when
// the mechanism refused a challenge, after a polite <abort/> (the stream
// stays usable); a *SASLProtocolError when the server broke the exchange;
// ctx's error, or the stream's, as they are. No error quotes a secret.
func FinishSASL(ctx context.Context, s Stream, neg *saslclient.Negotiation, secrets *redact.Set) error {
	mech := neg.Mechanism()
	broken := func(err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return err
		}
		return &SASLProtocolError{Mechanism: mech, Err: err}
	}
	for {
		n, err := s.Next(ctx)
		if err != nil {
			return err
		}
		switch {
		case n.Is(NSSASL, "challenge"):
			data, err := UnB64(n.Text)
			if err != nil {
				return broken(err)
			}
			resp, err := neg.Challenge(ctx, data)
			if errors.Is(err, saslclient.ErrFailed) {
				// The mechanism refused the challenge: abort politely.
				if werr := s.Send(ctx, New(NSSASL, "abort")); werr != nil {
					return werr
				}
				if _, rerr := s.Next(ctx); rerr != nil {
					return rerr
				}
				return fmt.Errorf("SASL %s: %w", mech, err)
			}
			if err != nil {
				return broken(err)
			}
			if err := s.Send(ctx, New(NSSASL, "response").WithText(B64(resp))); err != nil {
				return err
			}
		case n.Is(NSSASL, "success"):
			data, err := UnB64(n.Text)
			if err != nil {
				return broken(err)
			}
			if err := neg.Success(ctx, data); err != nil {
				return broken(err)
			}
			return nil
		case n.Is(NSSASL, "failure"):
			return ParseSASLFailure(n, mech, secrets)
		default:
			return broken(fmt.Errorf("%w: unexpected <%s> during SASL", ErrProtocol, Clip(secrets.String(n.Name.Local), 64)))
		}
	}
}

// errBase64 is invalid base64 in SASL data.
var errBase64 = fmt.Errorf("%w: invalid base64 in SASL data", ErrProtocol)

// B64 encodes SASL data ("=" for none, RFC 6120 §6.4.2).
func B64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// UnB64 decodes SASL data.
func UnB64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "=" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}

// Clip returns s cut to at most n bytes (on a rune boundary), with "…"
// when it was cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
