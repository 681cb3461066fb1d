// Package redact removes secrets — passwords, invitation tokens — from
// text that the program is about to show: error messages built from what
// a server sent back, the Debug XML of register, probe reports.
//
// A server that wants a password shown can echo it in any form a client
// will print as it is, so a Set matches each secret as typed and in the
// forms it takes on the wire: XML-escaped (as in "s3cret&amp;pass" or
// "&lt;"), and base64-encoded inside a longer payload (a SASL PLAIN
// response holds "\x00user\x00password" in base64, in which the password's
// characters depend on its offset: each of the three alignments is
// matched, in the standard and the URL alphabets).
package redact

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
)

// Mark replaces every secret.
const Mark = "[redacted]"

// MinLength is the length below which a secret, or one of its base64
// fragments, is not redacted: shorter ones would match ordinary text.
const MinLength = 3

// maxSecrets bounds a Set: a few secrets, each with about ten forms.
const maxSecrets = 32

// Set is a set of secrets to remove. The zero value removes nothing. A Set
// is not safe for concurrent modification.
type Set struct {
	secrets []string // as added
	forms   []string // every form, longest first
}

// New returns a Set of the given secrets.
func New(secrets ...string) *Set {
	s := &Set{}
	s.Add(secrets...)
	return s
}

// Add adds secrets. Those shorter than MinLength, and any beyond the
// thirty-second, are ignored.
func (s *Set) Add(secrets ...string) {
	added := false
	for _, x := range secrets {
		if len(x) < MinLength || len(s.secrets) >= maxSecrets || slices.Contains(s.secrets, x) {
			continue
		}
		s.secrets = append(s.secrets, x)
		s.forms = append(s.forms, forms(x)...)
		added = true
	}
	if added {
		// Longest first, so that a form containing another goes whole.
		slices.SortFunc(s.forms, func(a, b string) int { return len(b) - len(a) })
		s.forms = slices.Compact(s.forms)
	}
}

// Secrets returns the secrets as added.
func (s *Set) Secrets() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.secrets)
}

// String returns x with every form of every secret replaced by Mark.
func (s *Set) String(x string) string {
	if s == nil {
		return x
	}
	for _, f := range s.forms {
		x = strings.ReplaceAll(x, f, Mark)
	}
	return x
}

// Bytes is String for a byte slice; b is not modified.
func (s *Set) Bytes(b []byte) []byte {
	if s == nil {
		return b
	}
	for _, f := range s.forms {
		if bytes.Contains(b, []byte(f)) {
			b = bytes.ReplaceAll(b, []byte(f), []byte(Mark))
		}
	}
	return b
}

// Contains reports whether x holds a form of a secret.
func (s *Set) Contains(x string) bool {
	if s == nil {
		return false
	}
	for _, f := range s.forms {
		if strings.Contains(x, f) {
			return true
		}
	}
	return false
}

// forms returns the forms of secret x: as it is, XML-escaped, and its
// base64 fragments.
func forms(x string) []string {
	out := []string{x}
	for _, esc := range []*strings.Replacer{xmlText, xmlNumeric} {
		if e := esc.Replace(x); e != x {
			out = append(out, e)
		}
	}
	// The characters of the encoding of x at offset k in a longer
	// text that depend on x's bytes only.
	n := len(x)
	for k := 0; k < 3; k++ {
		enc := base64.RawStdEncoding.EncodeToString(append(make([]byte, k), x...))
		start, end := (8*k+5)/6, (8*k+8*n)/6
		if end-start < MinLength+1 {
			continue
		}
		frag := enc[start:end]
		out = append(out, frag, strings.NewReplacer("+", "-", "/", "_").Replace(frag))
	}
	return out
}

var (
	// xmlText is how encoding/xml and most servers escape text.
	xmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;")
	// xmlNumeric is the numeric form (encoding/xml writes &#34; and
	// &#39; for quotes).
	xmlNumeric = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", `"`, "&#34;")
)
