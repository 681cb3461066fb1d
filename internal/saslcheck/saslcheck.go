// Package saslcheck vets what a server sends in a SCRAM exchange before it
// reaches mellium.im/sasl.
//
// mellium.im/sasl v0.3.2 trusts the server-first-message: a malformed last
// attribute makes its parser loop forever, and it runs PBKDF2 with whatever
// iteration count the server asks for (2^31 takes hours), neither of which a
// context can interrupt. Both register and discovery call ServerFirst on
// every SCRAM challenge before handing it to the sasl package.
package saslcheck

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// MaxIterations is the largest PBKDF2 iteration count accepted from a
// server. RFC 7677 recommends at least 4096; Prosody and ejabberd use 4096.
// 100 000 iterations of SHA-256 take tens of milliseconds.
const MaxIterations = 100_000

// MaxChallenge is the largest server-first-message accepted, in bytes.
const MaxChallenge = 4096

// ErrMalformed is matched by every error ServerFirst returns.
var ErrMalformed = errors.New("malformed SCRAM server-first-message")

// ServerFirst checks a SCRAM server-first-message (RFC 5802 §5.1):
// comma-separated attributes of the form "x=value" with a letter x, with the
// nonce (r), salt (s) and iteration count (i) present, i a positive integer
// no greater than MaxIterations, and no more than MaxChallenge bytes.
func ServerFirst(challenge []byte) error {
	if len(challenge) > MaxChallenge {
		return fmt.Errorf("%w: %d bytes", ErrMalformed, len(challenge))
	}
	var r, s, i bool
	for _, attr := range bytes.Split(challenge, []byte{','}) {
		if len(attr) < 2 || attr[1] != '=' || !isLetter(attr[0]) {
			return fmt.Errorf("%w: attribute %q", ErrMalformed, clip(attr))
		}
		v := attr[2:]
		switch attr[0] {
		case 'm':
			return fmt.Errorf("%w: mandatory extension %q", ErrMalformed, clip(attr))
		case 'r':
			r = len(v) > 0
		case 's':
			s = len(v) > 0
		case 'i':
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 1 {
				return fmt.Errorf("%w: iteration count %q", ErrMalformed, clip(v))
			}
			if n > MaxIterations {
				return fmt.Errorf("%w: iteration count %d above %d", ErrMalformed, n, MaxIterations)
			}
			i = true
		}
	}
	if !r || !s || !i {
		return fmt.Errorf("%w: nonce, salt or iteration count missing", ErrMalformed)
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func clip(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "…"
	}
	return string(b)
}
