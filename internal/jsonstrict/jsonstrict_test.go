package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func TestParseObject(t *testing.T) {
	o, err := ParseObject([]byte(` {"a": 1, "b": "x\"}", "c": [1, {"d": []}], "e": {"f": null}, "\u00e9\ud83d\ude00": true} `))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.Keys, ","); got != "a,b,c,e,é😀" {
		t.Errorf("keys %q", got)
	}
	if v, _ := o.Get("c"); string(v) != `[1, {"d": []}]` {
		t.Errorf("c = %s", v)
	}
	if !o.Has("e") || o.Has("f") || o.Len() != 5 {
		t.Errorf("Has/Len wrong: %v", o.Keys)
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		in   string
		kind error
		off  int64
	}{
		{``, ErrSyntax, 0},
		{`{"a": 1,}`, ErrSyntax, 8},
		{`{"a" 1}`, ErrSyntax, 5},
		{`{"a": 01}`, ErrSyntax, 7},
		{`{"a": 1.}`, ErrSyntax, 8},
		{`{"a": -}`, ErrSyntax, 7},
		{`{"a": tru}`, ErrSyntax, 6},
		{`{"a": truex}`, ErrSyntax, 10},
		{`{"a": "\x"}`, ErrSyntax, 7},
		{`{"a": "\u12g4"}`, ErrSyntax, 7},
		{"{\"a\": \"\t\"}", ErrSyntax, 7},
		{`{"a": "b`, ErrSyntax, 8},
		{`{"a": [1, 2}`, ErrSyntax, 11},
		{"{\"a\": \"\xff\"}", ErrUTF8, 7},
		{"{\"\xc3\": 1}", ErrUTF8, 2},
		{`{"a": 1, "a": 2}`, ErrDuplicateKey, 9},
		{`{"a": 1} x`, ErrTrailingData, 9},
		{`{} {}`, ErrTrailingData, 3},
		{`[1]`, ErrWrongKind, 0},
		{`"{}"`, ErrWrongKind, 0},
		{`{"a": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, ErrTooDeep, 6 + MaxDepth - 1},
	}
	for _, c := range cases {
		_, err := ParseObject([]byte(c.in))
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, c.kind) || e.Offset != c.off {
			t.Errorf("%q: %v (offset %v), want %v at %d", c.in, err, e, c.kind, c.off)
		}
	}
	_, err := ParseObject([]byte(`{"a": 1, "a": 2}`))
	if e := (*Error)(nil); !errors.As(err, &e) || e.Key != "a" || err.Error() != `duplicate key "a" at offset 9` {
		t.Errorf("duplicate: %v", err)
	}
	deep := `{"a": ` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`
	if _, err := ParseObject([]byte(deep)); err != nil {
		t.Errorf("depth %d refused: %v", MaxDepth, err)
	}
}

func TestMembersKeepDuplicates(t *testing.T) {
	m, err := Members([]byte(`{"a": 1, "b": 2, "a": 3}`))
	if err != nil || len(m) != 3 || m[2].Key != "a" || string(m[2].Value) != "3" || m[2].Offset != 17 {
		t.Errorf("%+v %v", m, err)
	}
}

func TestElements(t *testing.T) {
	e, err := Elements([]byte(` [ "a" , {"b": [1]} , 2e-3, null, true ] `))
	if err != nil || len(e) != 5 || string(e[1]) != `{"b": [1]}` || string(e[2]) != "2e-3" {
		t.Errorf("%q %v", e, err)
	}
	if e, err := Elements([]byte(`[]`)); err != nil || len(e) != 0 {
		t.Errorf("empty: %q %v", e, err)
	}
	stop := errors.New("stop")
	n := 0
	err = EachElement([]byte(`[1, 2, 3, x]`), func(i int, _ []byte, off int64) error {
		n++
		if i == 1 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("EachElement: %v after %d", err, n)
	}
	if _, err := Elements([]byte(`{}`)); !errors.Is(err, ErrWrongKind) {
		t.Errorf("object as array: %v", err)
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`:        "plain",
		` "a\"b\\c\/d" `: `a"b\c/d`,
		`"\b\f\n\r\t"`:   "\b\f\n\r\t",
		`"\u00e9\u20AC"`: "é€",
		`"\ud83d\ude00"`: "😀",
		`"\ud83d x"`:     "\uFFFD x",
		`"\ude00\ud83d"`: "\uFFFD\uFFFD",
		`"\ud83d\u0041"`: "\uFFFDA",
	} {
		got, err := String([]byte(in))
		var ref string
		json.Unmarshal([]byte(in), &ref)
		if err != nil || got != want || got != ref {
			t.Errorf("%s: %q %v, want %q (encoding/json %q)", in, got, err, want, ref)
		}
	}
	if _, err := String([]byte(`5`)); !errors.Is(err, ErrWrongKind) {
		t.Errorf("number: %v", err)
	}
	if _, err := String([]byte(`"a" "b"`)); !errors.Is(err, ErrTrailingData) {
		t.Errorf("two strings: %v", err)
	}
}

func TestKind(t *testing.T) {
	for in, want := range map[string]string{
		`"x"`: "a string", `{}`: "an object", `[]`: "an array", `true`: "a boolean",
		`null`: "null", `-1`: "a number", ``: "nothing", `?`: "nothing",
	} {
		if got := KindOf([]byte(in)).String(); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
	if got := Describe([]byte(` "secret" `)); got != "a string of 6 bytes" {
		t.Errorf("Describe = %q", got)
	}
}

func TestReadAll(t *testing.T) {
	if b, err := ReadAll(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Errorf("at the cap: %q %v", b, err)
	}
	if _, err := ReadAll(strings.NewReader("123456"), 5); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the cap: %v", err)
	}
	boom := errors.New("boom")
	if _, err := ReadAll(iotest.ErrReader(boom), 5); err != boom {
		t.Errorf("read error: %v", err)
	}
	// An endless reader is read no further than the cap and one byte.
	r := &countingReader{}
	if _, err := ReadAll(io.LimitReader(r, 1<<30), 1000); !errors.Is(err, ErrTooLarge) || r.n > 1000+512 {
		t.Errorf("endless: %v after %d bytes", err, r.n)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) > 512 {
		p = p[:512]
	}
	for i := range p {
		p[i] = ' '
	}
	c.n += len(p)
	return len(p), nil
}

func TestShift(t *testing.T) {
	_, err := ParseObject([]byte(`{"a" 1}`))
	var e *Error
	if !errors.As(Shift(err, 100), &e) || e.Offset != 105 {
		t.Errorf("Shift: %v", e)
	}
	plain := errors.New("x")
	if Shift(plain, 3) != plain {
		t.Error("Shift changed a foreign error")
	}
}

// FuzzParseObject compares the scanner with encoding/json: it must accept
// no object that encoding/json rejects, and on the objects both accept
// (UTF-8, no duplicate keys, not too deep) see the same keys and values.
func FuzzParseObject(f *testing.F) {
	f.Add([]byte(`{"a": 1, "b": "x\"}", "c": [1, {"d": []}], "e": {"f": null}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"\u0041": true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseObject(data)
		var ref map[string]json.RawMessage
		refErr := json.Unmarshal(data, &ref)
		if err == nil && (refErr != nil || !json.Valid(data)) {
			t.Fatalf("scanner accepted what encoding/json rejects: %v", refErr)
		}
		members, merr := Members(data)
		if refErr == nil && utf8.Valid(data) && ref != nil && merr == nil && len(members) == len(ref) && err != nil && !errors.Is(err, ErrTooDeep) {
			t.Fatalf("scanner refused an object encoding/json accepts: %v", err)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > int64(len(data)) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if len(o.Keys) != len(ref) {
			t.Fatalf("scanner found %d keys, encoding/json %d", len(o.Keys), len(ref))
		}
		for k, v := range ref {
			got, _ := o.Get(k)
			if !bytes.Equal(got, bytes.TrimSpace(v)) {
				t.Fatalf("key %q: scanner %q, encoding/json %q", k, got, v)
			}
		}
	})
}

// FuzzValid compares Valid with json.Valid on UTF-8 input: they agree,
// except that Valid refuses nesting deeper than MaxDepth; and String
// decodes every valid string as encoding/json does.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`"a\u00e9\ud83d"`, `[1, -0.5e+3, true, null, {"a": [{}]}]`, `01`, `"\x7f"`, `1e400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Valid(data)
		if err == nil && !json.Valid(data) {
			t.Fatalf("Valid accepted what encoding/json refuses")
		}
		if err != nil && json.Valid(data) && utf8.Valid(data) && !errors.Is(err, ErrTooDeep) {
			t.Fatalf("Valid refused what encoding/json accepts: %v", err)
		}
		if err == nil && KindOf(data) == KindString {
			s, err := String(data)
			var ref string
			if json.Unmarshal(data, &ref); err != nil || s != ref {
				t.Fatalf("String = %q, %v; encoding/json %q", s, err, ref)
			}
		}
	})
}
