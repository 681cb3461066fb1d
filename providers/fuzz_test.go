package providers

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds Decode mutations of the real published files. Whatever the
// input, Decode must not panic, must return either a list or a *DecodeError,
// and a list it accepts must survive an encode/decode round trip.
func FuzzDecode(f *testing.F) {
	// Seed with single real entries rather than whole files: the fuzzer
	// minimises every interesting input, which takes minutes on 48 KB.
	for _, file := range snapshots(f, "*.json") {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(b, &entries); err != nil {
			f.Fatal(err)
		}
		for _, e := range entries[:2] {
			f.Add([]byte("[" + string(e) + "]"))
		}
	}
	f.Add([]byte(`{"a.example":{"busFactor":{"content":2,"source":""}}}`))
	f.Add([]byte(`["a.example","b.example"]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := Decoder{MaxBytes: 1 << 20}
		l, err := d.Decode(bytes.NewReader(data))
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if l.Format == FormatSimple || l.Format == FormatFull {
			return
		}
		enc, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(bytes.NewReader(enc))
		if err != nil {
			// A v1 list re-encodes as v2 and must stay decodable, unless
			// it lacks keys a v2 entry requires... which Encode always writes.
			t.Fatalf("re-decoding our own encoding: %v\n%s", err, enc)
		}
		a, _ := json.Marshal(l.Providers)
		b, _ := json.Marshal(again.Providers)
		if !bytes.Equal(a, b) {
			t.Fatalf("round trip changed the list:\n%s\n%s", a, b)
		}
	})
}

// FuzzParseObject compares the hand-written object scanner with
// encoding/json: on valid JSON objects without duplicate keys both must see
// the same keys and the same values; on anything else the scanner may fail
// but must not panic or accept what encoding/json rejects as an object.
func FuzzParseObject(f *testing.F) {
	f.Add([]byte(`{"a": 1, "b": "x\"}", "c": [1, {"d": []}], "e": {"f": null}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"\u0041": true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := parseObject(data)
		var ref map[string]json.RawMessage
		refErr := json.Unmarshal(data, &ref)
		if err == nil && refErr != nil && json.Valid(data) {
			t.Fatalf("scanner accepted what encoding/json rejects as an object: %v", refErr)
		}
		if err != nil || refErr != nil || !utf8.Valid(data) {
			return // Decode refuses invalid UTF-8 before scanning
		}
		if len(o.keys) != len(ref) {
			t.Fatalf("scanner found %d keys, encoding/json %d", len(o.keys), len(ref))
		}
		for k, v := range ref {
			if !bytes.Equal(bytes.TrimSpace(o.vals[k]), bytes.TrimSpace(v)) {
				t.Fatalf("key %q: scanner %q, encoding/json %q", k, o.vals[k], v)
			}
		}
	})
}
