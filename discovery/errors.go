package discovery

import (
	"errors"
	"fmt"
	"strings"

	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"github.com/xmpp-onboard/onboard/internal/netguard"
)

// Errors reported in Status.Err and Report.Err; match them with errors.Is.
var (
	// ErrNeedsAccount means the server refused a query on an
	// unauthenticated stream; probing with an Account may tell more.
	ErrNeedsAccount = errors.New("discovery: needs an account")
	// ErrSkipped means the Prober was configured not to probe the part.
	ErrSkipped = errors.New("discovery: not probed")
	// ErrTooLarge means a response exceeded its size limit.
	ErrTooLarge = errors.New("discovery: response too large")
	// ErrNotHTTPS means a URL or redirect was not https and was refused.
	ErrNotHTTPS = errors.New("discovery: not an https URL")
	// ErrInvalidDomain means the domain is not a valid XMPP domain.
	ErrInvalidDomain = errors.New("discovery: invalid domain")
	// ErrNoTLS means the server offered no way to encrypt the stream, so
	// the prober sent nothing else.
	ErrNoTLS = errors.New("discovery: STARTTLS not offered")
	// ErrStreamClosed means the server closed the stream early.
	ErrStreamClosed = errors.New("discovery: stream closed by the server")
	// ErrProtocol means the server sent something that is not valid XMPP.
	ErrProtocol = errors.New("discovery: protocol error")
	// ErrCertificate means the TLS certificate is not valid for the
	// domain; credentials are never sent on such a stream.
	ErrCertificate = errors.New("discovery: certificate not valid for the domain")
	// ErrAuth means logging in with the Account failed.
	ErrAuth = errors.New("discovery: authentication failed")
	// ErrMissingField means the provider file lacks a required key.
	ErrMissingField = errors.New("discovery: missing key")
	// ErrUnknownField means the provider file has a key the format does
	// not define.
	ErrUnknownField = errors.New("discovery: unknown key")
	// ErrInvalidValue: a provider file value that is not a safe link, or
	// that does not decode and whose decoder's complaint would have
	// quoted it. The report says what kind of value it was, never the
	// value.
	ErrInvalidValue = errors.New("discovery: invalid value")
	// ErrForbiddenDestination: Prober.Destinations refused the address
	// (loopback, private, link-local or reserved); nothing was sent to it.
	ErrForbiddenDestination = netguard.ErrForbiddenDestination
)

// sentinels are restored by name when a Status is read back from JSON.
var sentinels = [...]error{
	ErrNeedsAccount, ErrSkipped, ErrTooLarge, ErrNotHTTPS, ErrInvalidDomain, ErrNoTLS,
	ErrStreamClosed, ErrProtocol, ErrCertificate, ErrAuth, ErrMissingField, ErrUnknownField,
	ErrForbiddenDestination, ErrInvalidValue,
}

// IQError is a stanza error the server returned for one query. It wraps a
// [stanza.Error], so errors.Is(err, stanza.Error{Condition:
// stanza.ServiceUnavailable}) matches it.
type IQError struct {
	// Query names what was asked, such as "disco#info" or "register".
	Query string
	// Err is the server's error.
	Err stanza.Error
}

// Error implements error.
func (e *IQError) Error() string {
	msg := string(e.Err.Condition)
	if t := e.Err.Error(); t != msg && t != "" {
		msg += ": " + t
	}
	if e.Err.Type != "" {
		msg = string(e.Err.Type) + "/" + msg
	}
	return "discovery: " + e.Query + ": " + msg
}

// Unwrap returns the stanza error.
func (e *IQError) Unwrap() error { return e.Err }

// StreamError is a stream error the server sent (RFC 6120 §4.9). It wraps a
// [stream.Error], so errors.Is(err, stream.PolicyViolation) matches it.
type StreamError struct {
	// Err is the stream error as package stream decodes it.
	Err stream.Error
}

// Error implements error.
func (e *StreamError) Error() string {
	msg := "discovery: stream error: " + e.Err.Err
	for _, t := range e.Err.Text {
		if t.Value != "" {
			msg += ": " + t.Value
			break
		}
	}
	return msg
}

// Unwrap returns the stream error.
func (e *StreamError) Unwrap() error { return e.Err }

// needsAccountError marks a refusal on an unauthenticated stream. It
// matches ErrNeedsAccount and unwraps to the server's error.
type needsAccountError struct{ err error }

func (e *needsAccountError) Error() string {
	return "discovery: needs an account: " + strings.TrimPrefix(e.err.Error(), "discovery: ")
}

func (e *needsAccountError) Is(target error) bool { return target == ErrNeedsAccount }

func (e *needsAccountError) Unwrap() error { return e.err }

// FieldError is one problem with a provider file: a key with a value of the
// wrong type or out of range, a missing key or an unknown key.
type FieldError struct {
	// Field is the key; "" for a problem with the whole file.
	Field string
	// Err is the cause; ErrMissingField and ErrUnknownField for missing
	// and unknown keys.
	Err error
}

// Error implements error.
func (e *FieldError) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = strings.TrimPrefix(e.Err.Error(), "discovery: ")
	}
	if e.Field == "" {
		return "discovery: provider file: " + msg
	}
	return fmt.Sprintf("discovery: provider file: key %q: %s", e.Field, msg)
}

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }
