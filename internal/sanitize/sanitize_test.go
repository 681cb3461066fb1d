package sanitize

import (
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"prosody 13.0.1", "prosody 13.0.1"},
		{"héllo wörld ✓", "héllo wörld ✓"},
		{"registered admin@bank.example\r", `registered admin@bank.example\x0d`},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"a\nb\tc", `a\x0ab\x09c`},
		{"\u202egpj.exe", `\u202egpj.exe`},
		{"x\u2066y\u2069", `x\u2066y\u2069`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"bad\xffbyte", `bad\ufffdbyte`},
		{"del\x7f", `del\x7f`},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	if got, want := Text("one\ntwo\r\n\x1b[2J"), `one`+"\n"+`two\x0d`+"\n"+`\x1b[2J`; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func FuzzLine(f *testing.F) {
	f.Add("plain")
	f.Add("\x1b[31mred\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		if !Clean(out) || !utf8.ValidString(out) {
			t.Fatalf("Line(%q) = %q still unsafe", s, out)
		}
		if Clean(s) != (out == s) {
			t.Fatalf("Clean(%q) = %v but Line changed it to %q", s, Clean(s), out)
		}
		if t := Text(s); !utf8.ValidString(t) {
			panic(t)
		}
	})
}
