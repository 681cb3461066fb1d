package saslclient

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// MaxIterations is the largest PBKDF2 iteration count accepted from a
// server. RFC 7677 recommends at least 4096; Prosody and ejabberd use 4096.
// 100 000 iterations of SHA-256 take tens of milliseconds.
const MaxIterations = 100_000

// MaxMessage is the largest SCRAM server message accepted, in bytes.
const MaxMessage = 4096

// ErrMalformed is matched by every error that ServerFirst and ServerFinal
// return, and by a Negotiation's errors for a payload they refused.
var ErrMalformed = errors.New("malformed SCRAM server message")

// ServerFirst checks a SCRAM server-first-message (RFC 5802 §5.1, §7):
// comma-separated attributes "x=value" with a letter x and a non-empty
// value without NUL or control bytes; the nonce (r), salt (s, base64) and
// iteration count (i, decimal digits, 1 to MaxIterations) present; no
// mandatory extension (m); at most MaxMessage bytes.
func ServerFirst(msg []byte) error {
	if len(msg) > MaxMessage {
		return fmt.Errorf("%w: %d bytes", ErrMalformed, len(msg))
	}
	var r, s, i bool
	for k, attr := range bytes.Split(msg, []byte{','}) {
		if err := checkAttr(k, attr); err != nil {
			return err
		}
		v := attr[2:]
		switch attr[0] {
		case 'm':
			return fmt.Errorf("%w: mandatory extension", ErrMalformed)
		case 'r':
			r = true
		case 's':
			if _, err := base64.StdEncoding.DecodeString(string(v)); err != nil {
				return fmt.Errorf("%w: salt is not base64", ErrMalformed)
			}
			s = true
		case 'i':
			n := 0
			for _, c := range v {
				if c < '0' || c > '9' {
					return fmt.Errorf("%w: iteration count is not a decimal number", ErrMalformed)
				}
				if n = n*10 + int(c-'0'); n > MaxIterations {
					break
				}
			}
			if n < 1 || n > MaxIterations {
				return fmt.Errorf("%w: iteration count not in 1..%d", ErrMalformed, MaxIterations)
			}
			i = true
		}
	}
	if !r || !s || !i {
		return fmt.Errorf("%w: nonce, salt or iteration count missing", ErrMalformed)
	}
	return nil
}

// ServerFinal checks a SCRAM server-final-message (RFC 5802 §7): a
// verifier "v=" with a base64 signature, or "e=" with an error value, at
// most MaxMessage bytes. An "e=" message is refused with ErrServerError:
// the server says the authentication failed.
func ServerFinal(msg []byte) error {
	if len(msg) > MaxMessage {
		return fmt.Errorf("%w: %d bytes", ErrMalformed, len(msg))
	}
	for k, attr := range bytes.Split(msg, []byte{','}) {
		if err := checkAttr(k, attr); err != nil {
			return err
		}
	}
	switch msg[0] {
	case 'v':
		end := bytes.IndexByte(msg, ',')
		if end < 0 {
			end = len(msg)
		}
		if _, err := base64.StdEncoding.DecodeString(string(msg[2:end])); err != nil {
			return fmt.Errorf("%w: server signature is not base64", ErrMalformed)
		}
		return nil
	case 'e':
		return &ServerError{Value: serverErrorValue(msg[2:])}
	}
	return fmt.Errorf("%w: neither a verifier nor an error", ErrMalformed)
}

// checkAttr checks the attribute at index k: a letter, "=", and a value of
// one or more bytes, none of them NUL or a control character. Its errors
// never quote the message: a server can echo the password into it.
func checkAttr(k int, attr []byte) error {
	if len(attr) < 3 || attr[1] != '=' || !isLetter(attr[0]) {
		return fmt.Errorf("%w: attribute %d is not a letter, '=' and a value", ErrMalformed, k+1)
	}
	for _, c := range attr[2:] {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: control character in attribute %d", ErrMalformed, k+1)
		}
	}
	return nil
}

// serverErrors are the server-error-value names of RFC 5802 §7.
var serverErrors = []string{
	"invalid-encoding", "extensions-not-supported", "invalid-proof",
	"channel-bindings-dont-match", "server-does-support-channel-binding",
	"channel-binding-not-supported", "unsupported-channel-binding-type",
	"unknown-user", "invalid-username-encoding", "no-resources", "other-error",
}

// serverErrorValue returns v if RFC 5802 defines it, else "other-error": a
// server may put anything there, the password too.
func serverErrorValue(v []byte) string {
	for _, e := range serverErrors {
		if string(v) == e {
			return e
		}
	}
	return "other-error"
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
