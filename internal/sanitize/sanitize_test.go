package sanitize

import (
	"encoding/json"
	"strings"
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

func TestJSON(t *testing.T) {
	in := map[string]string{"k": "del\x7f c1\u009b31m \u202egpj.exe \x1b[2J\r\n ok ✓"}
	b, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	out := JSON(b)
	if Text(string(out)) != string(out) {
		t.Fatalf("JSON left raw controls: %q", out)
	}
	if want := `\u007f`; !strings.Contains(string(out), want) || !strings.Contains(string(out), `\u009b`) || !strings.Contains(string(out), `\u202e`) {
		t.Errorf("JSON = %s", out)
	}
	if strings.Count(string(out), "\n") != strings.Count(string(b), "\n") {
		t.Errorf("newlines changed: %q", out)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil || got["k"] != in["k"] {
		t.Errorf("data changed: %v %q", err, got["k"])
	}
	if plain := []byte(`{"a":"b"}`); &JSON(plain)[0] != &plain[0] {
		t.Error("clean input copied")
	}
}
