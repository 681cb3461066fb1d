package providers

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
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
