package providerfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
)

// FuzzValidate feeds arbitrary input to Validate and Parse (its corpus
// joins those of the former rating.FuzzValidateProviderFile and
// discovery.FuzzProviderFile). Neither may panic; Validate returns an
// error exactly when the report has errors; every problem is well formed
// and has an Err of a documented kind; every key Parse read is a provider
// file key without an error (but a duplicate), and a file without errors
// has all 14; and every file accepted survives a round trip through
// Generate with the same values.
func FuzzValidate(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
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

	kinds := []error{providerfile.ErrNotJSON, providerfile.ErrTooLarge, providerfile.ErrMissingKey,
		providerfile.ErrDuplicateKey, providerfile.ErrUnknownKey, providerfile.ErrWrongType,
		providerfile.ErrInvalidValue, providerfile.ErrSuspicious}
	v := validator
	v.MaxBytes = 64 << 10
	f.Fuzz(func(t *testing.T, in []byte) {
		p, rep, err := v.Validate(bytes.NewReader(in))
		if (err != nil) != !rep.OK() {
			t.Fatalf("err %v but report OK %v: %v", err, rep.OK(), rep.Problems)
		}
		for _, pr := range rep.Problems {
			if (pr.Severity != providerfile.SeverityError && pr.Severity != providerfile.SeverityWarning) || pr.Message == "" {
				t.Fatalf("malformed problem %#v", pr)
			}
			if !slices.ContainsFunc(kinds, func(k error) bool { return errors.Is(pr.Err, k) }) {
				t.Fatalf("problem %v has Err %v of no documented kind", pr, pr.Err)
			}
		}
		if len(in) <= int(v.MaxBytes) {
			file := v.Parse(in)
			for _, fl := range file.Fields {
				if !slices.Contains(providers.ProviderFileFields(), fl) {
					t.Fatalf("read %q, which is not a provider file key", fl)
				}
				for _, pr := range file.Report.For(fl) {
					if pr.Severity == providerfile.SeverityError && !errors.Is(pr.Err, providerfile.ErrDuplicateKey) {
						t.Fatalf("key %q both read and in error: %v", fl, pr)
					}
				}
			}
			if file.Report.OK() && len(file.Fields) != len(providers.ProviderFileFields()) {
				t.Fatalf("no errors but only %d of 14 keys read", len(file.Fields))
			}
		}
		if err != nil {
			if !errors.Is(err, providerfile.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		if p.JID != v.Domain {
			t.Fatalf("JID %q", p.JID)
		}
		out, err := providerfile.Generate(p, answersOf(p))
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
