package providerfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// probed is what a live probe could have seen of chat.example.org: no
// provider-file values except those it can observe, and upload limits the
// operator set on the record.
func probed() providers.Provider {
	p := providers.New("chat.example.org")
	p.InBandRegistration = true
	p.UploadFileSize = 100
	p.UploadTotalSize = 1000
	p.UploadStorageTime = 30
	p.ArchiveStorageTime = 0
	p.ChatSupport = providers.LocalizedList{"en": {"admin@chat.example.org"}}
	p.AlternativeJIDs = []string{"chat.example.org", "Example.NET", "example.net"}
	return p
}

func answers() providerfile.Answers {
	return providerfile.Answers{
		Organization:        providers.OrganizationNonGovernmental,
		BusFactor:           2,
		ServerTesting:       true,
		ProfessionalHosting: true,
		FreeOfCharge:        true,
		Since:               providers.Date{Year: 2019, Month: 5, Day: 1},
		LegalNotice:         providers.Localized{"en": "https://chat.example.org/legal?a=1&b=2"},
		Website:             providers.Localized{"EN": "https://chat.example.org/", "de": "https://chat.example.org/de/"},
		PasswordReset:       providers.Localized{"en": "https://chat.example.org/reset"},
		ServerLocations:     []string{"DE", "fi"},
	}
}

func TestGenerateGolden(t *testing.T) {
	got, err := providerfile.Generate(probed(), answers())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "generated.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("generated file differs from %s (run with -update to accept):\n%s", golden, got)
	}
	// The keys come in the generator's order.
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.Token()
	var keys []providers.Field
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, providers.Field(k.(string)))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	if !slices.Equal(keys, providers.ProviderFileFields()) {
		t.Errorf("keys %v", keys)
	}
}

// fileValues returns the 14 provider-file values of p in JSON form.
func fileValues(t *testing.T, p providers.Provider) map[providers.Field]string {
	t.Helper()
	m := map[providers.Field]string{}
	for _, f := range providers.ProviderFileFields() {
		m[f] = jsonValue(t, p, f)
	}
	return m
}

func TestGenerateRoundTrip(t *testing.T) {
	out, err := providerfile.Generate(probed(), answers())
	if err != nil {
		t.Fatal(err)
	}
	p, rep, err := validator.Validate(bytes.NewReader(out))
	if err != nil || !rep.Clean() {
		t.Fatalf("generated file does not validate cleanly: %v %v\n%s", err, rep.Problems, out)
	}
	want := providers.New("chat.example.org")
	want.Website = providers.Localized{"en": "https://chat.example.org/", "de": "https://chat.example.org/de/"}
	want.AlternativeJIDs = []string{"example.net"}
	want.BusFactor = 2
	want.Organization = providers.OrganizationNonGovernmental
	want.PasswordReset = providers.Localized{"en": "https://chat.example.org/reset"}
	want.ServerTesting = true
	want.UploadTotalSize = 1000
	want.UploadStorageTime = 30
	want.ArchiveStorageTime = 0
	want.ProfessionalHosting = true
	want.FreeOfCharge = true
	want.LegalNotice = providers.Localized{"en": "https://chat.example.org/legal?a=1&b=2"}
	want.ServerLocations = []string{"de", "fi"}
	want.Since = providers.Date{Year: 2019, Month: 5, Day: 1}
	got, exp := fileValues(t, p), fileValues(t, want)
	for _, f := range providers.ProviderFileFields() {
		if got[f] != exp[f] {
			t.Errorf("%s: got %s, want %s", f, got[f], exp[f])
		}
	}

	// A second round gives the same bytes.
	again, err := providerfile.Generate(p, answersOf(p))
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("regenerating from the validated record changed the file (%v):\n%s\n%s", err, out, again)
	}
}

// answersOf takes the operator's answers from a record.
func answersOf(p providers.Provider) providerfile.Answers {
	return providerfile.Answers{
		Organization:        p.Organization,
		BusFactor:           p.BusFactor,
		ServerTesting:       p.ServerTesting,
		ProfessionalHosting: p.ProfessionalHosting,
		FreeOfCharge:        p.FreeOfCharge,
		Since:               p.Since,
		LegalNotice:         p.LegalNotice,
		Website:             p.Website,
		PasswordReset:       p.PasswordReset,
		ServerLocations:     p.ServerLocations,
		AlternativeJIDs:     p.AlternativeJIDs,
	}
}

// TestGenerateFromRealData generates a provider file for every provider of
// every v2 snapshot from its published values and checks the round trip.
func TestGenerateFromRealData(t *testing.T) {
	for _, s := range snapshots(t, "v2") {
		for _, p := range s.list.Providers {
			out, err := providerfile.Generate(p, answersOf(p))
			if err != nil {
				t.Errorf("%s %s: %v", s.name, p.JID, err)
				continue
			}
			v := providerfile.Validator{At: s.date, Domain: p.JID}
			got, rep, err := v.Validate(bytes.NewReader(out))
			if err != nil {
				t.Errorf("%s %s: generated file invalid: %v", s.name, p.JID, err)
				continue
			}
			for _, w := range rep.Warnings() {
				t.Logf("%s %s: %s", s.name, p.JID, w)
			}
			a, b := fileValues(t, got), fileValues(t, p)
			for _, f := range providers.ProviderFileFields() {
				if a[f] != b[f] {
					t.Errorf("%s %s: %s: got %s, published %s", s.name, p.JID, f, a[f], b[f])
				}
			}
		}
	}
}

func TestGenerateAnswersOverLive(t *testing.T) {
	live := probed()
	live.Organization = providers.OrganizationCompany
	live.BusFactor = 1
	live.Since = providers.Date{Year: 2010, Month: 1, Day: 1}
	live.Website = providers.Localized{"en": "https://old.example/"}

	// Empty answers take the live values.
	out, err := providerfile.Generate(live, providerfile.Answers{})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := validator.Validate(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if p.Organization != providers.OrganizationCompany || p.BusFactor != 1 || p.Since != live.Since ||
		p.Website["en"] != "https://old.example/" || p.ProfessionalHosting {
		t.Errorf("live values not used: %s", out)
	}

	// Answers win.
	out, err = providerfile.Generate(live, answers())
	if err != nil {
		t.Fatal(err)
	}
	p, _, _ = validator.Validate(bytes.NewReader(out))
	if p.Organization != providers.OrganizationNonGovernmental || p.BusFactor != 2 ||
		p.Since.String() != "2019-05-01" || p.Website["en"] != "https://chat.example.org/" {
		t.Errorf("answers not used: %s", out)
	}
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*providers.Provider, *providerfile.Answers)
		field  providers.Field
	}{
		{"organization", func(_ *providers.Provider, a *providerfile.Answers) { a.Organization = "club" },
			providers.FieldOrganization},
		{"since in the future", func(_ *providers.Provider, a *providerfile.Answers) {
			a.Since = providers.Date{Year: 9999, Month: 1, Day: 1}
		}, providers.FieldSince},
		{"URL", func(_ *providers.Provider, a *providerfile.Answers) {
			a.LegalNotice = providers.Localized{"en": "legal.html"}
		}, providers.FieldLegalNotice},
		{"language", func(_ *providers.Provider, a *providerfile.Answers) {
			a.Website = providers.Localized{"english": "https://chat.example.org/"}
		}, providers.FieldWebsite},
		{"country", func(_ *providers.Provider, a *providerfile.Answers) { a.ServerLocations = []string{"Germany"} },
			providers.FieldServerLocations},
		{"bus factor", func(_ *providers.Provider, a *providerfile.Answers) { a.BusFactor = -3 },
			providers.FieldBusFactor},
		{"size", func(p *providers.Provider, _ *providerfile.Answers) { p.UploadTotalSize = -2 },
			providers.FieldUploadTotalSize},
		{"domain", func(p *providers.Provider, _ *providerfile.Answers) { p.AlternativeJIDs = []string{"a@b"} },
			providers.FieldAlternativeJIDs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			live, a := probed(), answers()
			tc.change(&live, &a)
			out, err := providerfile.Generate(live, a)
			var fe *providerfile.FileError
			if out != nil || !errors.As(err, &fe) || !errors.Is(err, providerfile.ErrInvalid) {
				t.Fatalf("got %s, %v", out, err)
			}
			if len(fe.Problems) != 1 || fe.Problems[0].Field != tc.field {
				t.Errorf("problems %v, want one about %s", fe.Problems, tc.field)
			}
		})
	}
}

// TestGenerateWarnsOnly checks that incomplete answers still give a file:
// what is unknown is a warning, not an error.
func TestGenerateWarnsOnly(t *testing.T) {
	out, err := providerfile.Generate(providers.New("chat.example.org"), providerfile.Answers{})
	if err != nil {
		t.Fatal(err)
	}
	_, rep, err := validator.Validate(bytes.NewReader(out))
	if err != nil || rep.Clean() {
		t.Fatalf("%v %v", err, rep.Problems)
	}
	if !strings.Contains(string(out), `"busFactor": -1`) || !strings.Contains(string(out), `"maximumHttpFileUploadTotalSize": -1`) {
		t.Errorf("unknown values not written as -1:\n%s", out)
	}
}
