package rating_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

// FuzzValidateProviderFile feeds arbitrary input to the validator. It must
// not panic; it must return an error exactly when the report has errors;
// and every file it accepts must survive a round trip through
// GenerateProviderFile with the same values.
func FuzzValidateProviderFile(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "providerfile", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/providerfile: %v", err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, kv := range validKeys {
		f.Add(fileWith(kv[0], ""))
	}
	f.Add([]byte(`{"website": {"en": "https://a.example/", "EN": "http://b.example/"}}`))
	f.Add([]byte(`{"serverLocations": ["DE", "de", "uk"], "alternativeJids": ["Chat.Example.Org", "x.example"]}`))

	v := validator
	v.MaxBytes = 64 << 10
	f.Fuzz(func(t *testing.T, in []byte) {
		p, rep, err := v.Validate(bytes.NewReader(in))
		if (err != nil) != !rep.OK() {
			t.Fatalf("err %v but report OK %v: %v", err, rep.OK(), rep.Problems)
		}
		for _, pr := range rep.Problems {
			if (pr.Severity != rating.SeverityError && pr.Severity != rating.SeverityWarning) || pr.Message == "" {
				t.Fatalf("malformed problem %#v", pr)
			}
		}
		if err != nil {
			if !errors.Is(err, rating.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		if p.JID != v.Domain {
			t.Fatalf("JID %q", p.JID)
		}
		out, err := rating.GenerateProviderFile(p, answersOf(p))
		if err != nil {
			t.Fatalf("accepted file cannot be regenerated: %v\ninput: %q", err, in)
		}
		q, rep2, err := v.Validate(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("regenerated file invalid: %v %v\n%s", err, rep2.Problems, out)
		}
		for _, fld := range providers.ProviderFileFields() {
			if a, b := jsonValue(t, q, fld), jsonValue(t, p, fld); a != b {
				t.Fatalf("%s changed in the round trip: %s → %s\ninput: %q", fld, b, a, in)
			}
		}
	})
}
