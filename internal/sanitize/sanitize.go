// Package sanitize makes text from outside the program (a server, a
// provider list, a web form) safe to show on a terminal or to write to a
// log: one place decides which characters may reach them.
//
// Foreign text can carry C0 and C1 control characters (ESC starts a
// terminal escape sequence that can move the cursor, clear the screen or
// retitle the window; CR rewrites the current line), and Unicode bidi
// controls (U+202E RIGHT-TO-LEFT OVERRIDE shows "gpj.exe" as "exe.jpg").
// [Line] and [Text] replace each such character with a visible escape
// (\x1b, \u202e), and invalid UTF-8 with \ufffd, so that what the reader
// sees is what was received. [Clean] tells a decoder whether a value
// (a domain, a URL) holds none of them.
package sanitize

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Line returns s for one line of a terminal or a log: every control
// character (newlines and tabs too), bidi control and invalid byte is
// replaced by a visible escape.
func Line(s string) string { return clean(s, false) }

// Text is Line for text that may span lines: "\n" is kept, every other
// control character is escaped.
func Text(s string) string { return clean(s, true) }

// Clean reports whether s has no character that Line would escape.
func Clean(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || Unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

// Unsafe reports whether r is a character that must not reach a terminal
// or a log as it is: C0 and C1 controls, DEL, the bidi embedding, override
// and isolate controls and marks, and the line and paragraph separators.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

func clean(s string, keepNewline bool) string {
	if Clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\ufffd`)
		case r == '\n' && keepNewline:
			b.WriteByte('\n')
		case r < 0x80 && Unsafe(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// JSON returns b, encoded JSON, with every character Unsafe reports
// replaced by its \u escape, but "\n" (the newlines of indentation and
// between JSON lines). encoding/json escapes C0 controls but leaves DEL,
// C1 controls (U+009B is CSI) and bidi controls (U+202E) raw, and a
// terminal showing the JSON would obey them. Inside a JSON string the
// escape means the same character, so the data is unchanged; outside
// strings JSON has no such characters. Invalid UTF-8 (which
// encoding/json never writes) becomes \ufffd.
func JSON(b []byte) []byte {
	if s := string(b); Text(s) == s {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			out = append(out, `\ufffd`...)
		case r != '\n' && Unsafe(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}
