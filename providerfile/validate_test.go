package providerfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
)

// validator is the validator of the tests: a fixed date, so that "since in
// the future" does not depend on the clock.
var validator = providerfile.Validator{At: ratedAt, Domain: "chat.example.org"}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// problems formats a report as "severity field" strings.
func problems(rep providerfile.Report) []string {
	out := []string{}
	for _, p := range rep.Problems {
		out = append(out, string(p.Severity)+" "+string(p.Field))
	}
	return out
}

func TestValidateValid(t *testing.T) {
	p, rep, err := validator.Validate(bytes.NewReader(readFile(t, "valid.json")))
	if err != nil || !rep.Clean() {
		t.Fatalf("err %v, problems %v", err, rep.Problems)
	}
	want := providers.New("chat.example.org")
	want.Website = providers.Localized{"en": "https://chat.example.org/en/", "de": "https://chat.example.org/de/"}
	want.AlternativeJIDs = []string{"example.net"}
	want.BusFactor = 2
	want.Organization = providers.OrganizationNonGovernmental
	want.PasswordReset = providers.Localized{"en": "https://chat.example.org/reset?lang=en&from=app"}
	want.ServerTesting = true
	want.UploadTotalSize = 500
	want.UploadStorageTime = 30
	want.ArchiveStorageTime = 0
	want.ProfessionalHosting = true
	want.FreeOfCharge = true
	want.LegalNotice = providers.Localized{"en": "https://chat.example.org/legal/"}
	want.ServerLocations = []string{"de", "fi"}
	want.Since = providers.Date{Year: 2019, Month: 5, Day: 1}
	if a, b := jsonOf(t, p), jsonOf(t, want); a != b {
		t.Errorf("record\n got %s\nwant %s", a, b)
	}
	// Fields that are not in a provider file stay unknown.
	if p.UploadFileSize != providers.Unknown || p.InBandRegistration || p.ComplianceTester != 0 {
		t.Errorf("fields outside the provider file are set: %+v", p)
	}
}

func TestValidateFiles(t *testing.T) {
	tests := []struct {
		file  string
		fatal bool
		want  []string
	}{
		{"ejabberd-defaults.json", false, []string{
			"warning website", "warning organization", "warning legalNotice", "warning serverLocations", "warning since"}},
		{"mistakes.json", false, []string{
			"warning website", "warning website", "error website",
			"warning alternativeJids", "error alternativeJids",
			"error busFactor",
			"error organization",
			"error passwordReset",
			"error serverTesting",
			"warning maximumHttpFileUploadTotalSize",
			"warning maximumHttpFileUploadStorageTime",
			"error maximumMessageArchiveManagementStorageTime",
			"error professionalHosting",
			"error freeOfCharge",
			"error legalNotice",
			"warning serverLocations", "warning serverLocations", "error serverLocations",
			"error since",
			"warning inBandRegistration",
			"warning comment",
		}},
		{"v1.json", false, []string{
			"warning company", "warning maximumHttpFileUploadTotalSize", "warning onlineSince",
			"error alternativeJids", "error organization", "error serverTesting", "error since"}},
		{"not-object.json", true, []string{"error "}},
		{"truncated.json", true, []string{"error "}},
		{"trailing.json", true, []string{"error "}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, rep, err := validator.Validate(bytes.NewReader(readFile(t, tc.file)))
			if got := problems(rep); !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n got %q\nwant %q\n%v", got, tc.want, rep.Problems)
			}
			hasErr := slices.ContainsFunc(tc.want, func(s string) bool { return strings.HasPrefix(s, "error") })
			if hasErr != (err != nil) || hasErr == rep.OK() {
				t.Fatalf("err %v, OK %v", err, rep.OK())
			}
			if err == nil {
				return
			}
			var fe *providerfile.FileError
			if !errors.Is(err, providerfile.ErrInvalid) || !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FileError matching ErrInvalid", err, err)
			}
			if (fe.Err != nil) != tc.fatal {
				t.Errorf("FileError.Err = %v, fatal %v", fe.Err, tc.fatal)
			}
			if !slices.Equal(fe.Problems, rep.Errors()) {
				t.Errorf("FileError problems %v, report errors %v", fe.Problems, rep.Errors())
			}
			if !strings.HasPrefix(err.Error(), "providerfile: invalid provider file") {
				t.Errorf("message %q", err)
			}
		})
	}
}

// keys are the values of valid.json, in the generator's order.
var validKeys = [][2]string{
	{"website", `{"en": "https://chat.example.org/en/"}`},
	{"alternativeJids", `["example.net"]`},
	{"busFactor", `2`},
	{"organization", `"non-governmental"`},
	{"passwordReset", `{"en": "https://chat.example.org/reset"}`},
	{"serverTesting", `true`},
	{"maximumHttpFileUploadTotalSize", `500`},
	{"maximumHttpFileUploadStorageTime", `30`},
	{"maximumMessageArchiveManagementStorageTime", `0`},
	{"professionalHosting", `true`},
	{"freeOfCharge", `true`},
	{"legalNotice", `{"en": "https://chat.example.org/legal/"}`},
	{"serverLocations", `["de"]`},
	{"since", `"2019-05-01"`},
}

// fileWith returns valid.json's keys with key set to raw ("" drops the key;
// a key not among the 14 is appended).
func fileWith(key, raw string) []byte {
	var b strings.Builder
	b.WriteString("{")
	n := 0
	add := func(k, v string) {
		if n > 0 {
			b.WriteString(",")
		}
		n++
		b.WriteString(`"` + k + `": ` + v)
	}
	found := false
	for _, kv := range validKeys {
		v := kv[1]
		if kv[0] == key {
			found = true
			if raw == "" {
				continue
			}
			v = raw
		}
		add(kv[0], v)
	}
	if !found {
		add(key, raw)
	}
	b.WriteString("}")
	return []byte(b.String())
}

func TestValidateKeys(t *testing.T) {
	const (
		ok   = ""
		warn = providerfile.SeverityWarning
		bad  = providerfile.SeverityError
	)
	tests := []struct {
		key, raw string
		want     providerfile.Severity
		words    string // in the message, if set
	}{
		{"busFactor", `-1`, ok, ""},
		{"busFactor", `1`, ok, ""},
		{"busFactor", `0`, warn, "use -1"},
		{"busFactor", `5000`, warn, "implausible"},
		{"busFactor", `-2`, bad, "below -1"},
		{"busFactor", `1.5`, bad, "integer"},
		{"busFactor", `1e2`, bad, "integer"},
		{"busFactor", `"2"`, bad, "got a string"},
		{"busFactor", `null`, bad, "got null"},

		{"organization", `"company"`, ok, ""},
		{"organization", `"commercial person"`, ok, ""},
		{"organization", `"private person"`, ok, ""},
		{"organization", `"governmental"`, ok, ""},
		{"organization", `"non-governmental"`, ok, ""},
		{"organization", `""`, warn, "unknown"},
		{"organization", `"Private Person"`, bad, `did you mean "private person"`},
		{"organization", `"club"`, bad, `unknown organization "club"`},
		{"organization", `false`, bad, "want a string"},

		{"serverTesting", `false`, ok, ""},
		{"serverTesting", `"true"`, bad, "got a string"},
		{"professionalHosting", `0`, bad, "got a number"},
		{"freeOfCharge", `null`, bad, "got null"},

		{"maximumHttpFileUploadTotalSize", `0`, ok, ""},
		{"maximumHttpFileUploadTotalSize", `-1`, ok, ""},
		{"maximumHttpFileUploadTotalSize", `100`, ok, ""},
		{"maximumHttpFileUploadTotalSize", `512`, ok, ""},
		{"maximumHttpFileUploadTotalSize", `1073`, ok, ""},
		{"maximumHttpFileUploadTotalSize", `999999`, ok, ""},
		{"maximumHttpFileUploadTotalSize", `-2`, bad, "below -1"},
		{"maximumHttpFileUploadTotalSize", `1024`, warn, "1024 MiB is 1073"},
		{"maximumHttpFileUploadTotalSize", `10240`, warn, "MiB"},
		{"maximumHttpFileUploadTotalSize", `1000000`, warn, "byte count"},
		{"maximumHttpFileUploadTotalSize", `104857600`, warn, "104857600 bytes is 104 MB"},
		{"maximumHttpFileUploadTotalSize", `9223372036854775807`, warn, "byte count"},
		{"maximumHttpFileUploadTotalSize", `9223372036854775808`, bad, "integer"},
		{"maximumHttpFileUploadTotalSize", `"100 MB"`, bad, "want an integer"},

		{"maximumHttpFileUploadStorageTime", `0`, ok, ""},
		{"maximumHttpFileUploadStorageTime", `-1`, ok, ""},
		{"maximumHttpFileUploadStorageTime", `7`, ok, ""},
		{"maximumHttpFileUploadStorageTime", `36500`, ok, ""},
		{"maximumHttpFileUploadStorageTime", `36501`, warn, "100 years"},
		{"maximumHttpFileUploadStorageTime", `604800`, warn, "seconds (7 days)"},
		{"maximumHttpFileUploadStorageTime", `-3`, bad, "below -1"},
		{"maximumHttpFileUploadStorageTime", `2147483648`, bad, "too large"},
		{"maximumMessageArchiveManagementStorageTime", `86400`, warn, "seconds (1 days)"},
		{"maximumMessageArchiveManagementStorageTime", `7.0`, bad, "integer"},

		{"serverLocations", `["de", "fi"]`, ok, ""},
		{"serverLocations", `["DE"]`, warn, `lower-case "de"`},
		{"serverLocations", `["uk"]`, warn, `did you mean "gb"`},
		{"serverLocations", `["xx"]`, warn, "not in ISO 3166-1"},
		{"serverLocations", `["de", "de"]`, warn, "twice"},
		{"serverLocations", `[]`, warn, "empty"},
		{"serverLocations", `["deu"]`, bad, "invalid country code"},
		{"serverLocations", `["d1"]`, bad, "invalid country code"},
		{"serverLocations", `[1]`, bad, "item 0"},
		{"serverLocations", `"de"`, bad, "array of strings"},

		{"website", `{"en": "https://chat.example.org/"}`, ok, ""},
		{"website", `{}`, warn, "empty"},
		{"website", `{"EN": "https://chat.example.org/"}`, warn, "lower-case"},
		{"website", `{"xx": "https://chat.example.org/"}`, warn, "not in ISO 639-1"},
		{"website", `{"en": "http://chat.example.org/"}`, warn, "not https"},
		{"website", `{"en-US": "https://chat.example.org/"}`, bad, "invalid language code"},
		{"website", `{"": "https://chat.example.org/"}`, bad, "invalid language code"},
		{"website", `{"en": "ftp://chat.example.org/"}`, bad, "not an absolute https URL"},
		{"website", `{"en": "javascript:alert(1)"}`, bad, "not an absolute https URL"},
		{"website", `{"en": "/about"}`, bad, "not an absolute https URL"},
		{"website", `{"en": "https://"}`, bad, "not an absolute https URL"},
		{"website", `{"en": ""}`, bad, "empty URL"},
		{"website", `{"en": "https://chat.example.org/a b"}`, bad, "white space"},
		{"website", `{"en": "https://chat.example.org/%zz"}`, bad, "invalid URL"},
		{"website", `{"en": 5}`, bad, "want a string"},
		{"website", `{"en": "https://a.example/", "en": "https://b.example/"}`, bad, "twice"},
		{"website", `["https://chat.example.org/"]`, bad, "want an object"},
		{"passwordReset", `{}`, ok, ""},
		{"passwordReset", `null`, bad, "got null"},
		{"legalNotice", `{}`, warn, "legal notice"},

		{"alternativeJids", `[]`, ok, ""},
		{"alternativeJids", `["xn--bcher-kva.example"]`, ok, ""},
		{"alternativeJids", `["chat.example.org"]`, warn, "main domain"},
		{"alternativeJids", `["Example.net"]`, warn, "lower-case"},
		{"alternativeJids", `["a.example", "a.example"]`, warn, "twice"},
		{"alternativeJids", `["user@example.net"]`, bad, "invalid domain"},
		{"alternativeJids", `["example.net/resource"]`, bad, "invalid domain"},
		{"alternativeJids", `["https://example.net"]`, bad, "invalid domain"},
		{"alternativeJids", `[""]`, bad, "empty domain"},
		{"alternativeJids", `["example..net"]`, bad, "empty label"},
		{"alternativeJids", `{}`, bad, "array"},

		{"since", `"2019-05-01"`, ok, ""},
		{"since", `"2026-07-22"`, ok, ""},
		{"since", `""`, warn, "unknown"},
		{"since", `"1990-01-01"`, warn, "before XMPP"},
		{"since", `"2026-07-23"`, bad, "in the future"},
		{"since", `"2019-5-1"`, bad, "YYYY-MM-DD"},
		{"since", `"2019-02-30"`, bad, "YYYY-MM-DD"},
		{"since", `"2019-05-01T00:00:00Z"`, bad, "YYYY-MM-DD"},
		{"since", `20190501`, bad, "want a string"},

		{"jid", `"chat.example.org"`, warn, "not part of the provider file"},
		{"category", `"A"`, warn, "not part of the provider file"},
		{"company", `true`, warn, "API v1"},
		{"Since", `"2019-05-01"`, warn, `did you mean "since"`},
		{"x-comment", `"hello"`, warn, "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.raw, func(t *testing.T) {
			_, rep, err := validator.Validate(bytes.NewReader(fileWith(tc.key, tc.raw)))
			if tc.want == ok {
				if !rep.Clean() || err != nil {
					t.Fatalf("want clean, got %v, %v", rep.Problems, err)
				}
				return
			}
			if len(rep.Problems) != 1 {
				t.Fatalf("want one %s, got %v", tc.want, rep.Problems)
			}
			p := rep.Problems[0]
			if p.Severity != tc.want || string(p.Field) != tc.key || !strings.Contains(p.Message, tc.words) {
				t.Errorf("got %q; want %s about %s with %q", p, tc.want, tc.key, tc.words)
			}
			if (err != nil) != (tc.want == bad) {
				t.Errorf("err = %v", err)
			}
			if got := rep.For(providers.Field(tc.key)); len(got) != 1 {
				t.Errorf("For(%s) = %v", tc.key, got)
			}
		})
	}
}

// TestValidateInvalidValueNotStored checks that a record never carries a
// value that was rejected, and keeps the valid ones.
func TestValidateInvalidValueNotStored(t *testing.T) {
	p, _, err := validator.Validate(bytes.NewReader(fileWith("maximumHttpFileUploadTotalSize", "-5")))
	if err == nil {
		t.Fatal("no error")
	}
	if p.UploadTotalSize != providers.Unknown {
		t.Errorf("rejected size stored: %d", p.UploadTotalSize)
	}
	if p.BusFactor != 2 || p.Since.String() != "2019-05-01" {
		t.Errorf("valid values lost: %+v", p)
	}
}

func TestValidateMissingKeys(t *testing.T) {
	for _, f := range providers.ProviderFileFields() {
		t.Run(string(f), func(t *testing.T) {
			_, rep, err := validator.Validate(bytes.NewReader(fileWith(string(f), "")))
			if !errors.Is(err, providerfile.ErrInvalid) {
				t.Fatalf("err %v", err)
			}
			if got := problems(rep); !slices.Equal(got, []string{"error " + string(f)}) {
				t.Errorf("problems %v", rep.Problems)
			}
		})
	}
	_, rep, _ := validator.Validate(strings.NewReader(`{}`))
	if len(rep.Errors()) != 14 {
		t.Errorf("empty object: %d errors, want 14", len(rep.Errors()))
	}
}

func TestValidateDuplicateKey(t *testing.T) {
	in := bytes.Replace(readFile(t, "valid.json"), []byte(`"busFactor": 2,`), []byte(`"busFactor": 2, "busFactor": 3,`), 1)
	p, rep, err := validator.Validate(bytes.NewReader(in))
	if !errors.Is(err, providerfile.ErrInvalid) || !slices.Equal(problems(rep), []string{"error busFactor"}) {
		t.Fatalf("err %v, problems %v", err, rep.Problems)
	}
	if !strings.Contains(rep.Problems[0].Message, "duplicate") || p.BusFactor != 2 {
		t.Errorf("%v, bus factor %d", rep.Problems[0], p.BusFactor)
	}
}

func TestValidateSizeCap(t *testing.T) {
	valid := readFile(t, "valid.json")
	pad := func(n int) []byte {
		return append(bytes.Clone(valid), bytes.Repeat([]byte(" "), n-len(valid))...)
	}
	var v providerfile.Validator
	v.At = ratedAt
	if _, _, err := v.Validate(bytes.NewReader(pad(providerfile.DefaultMaxBytes))); err != nil {
		t.Errorf("exactly at the cap: %v", err)
	}
	_, rep, err := v.Validate(bytes.NewReader(pad(providerfile.DefaultMaxBytes + 1)))
	if !errors.Is(err, providerfile.ErrTooLarge) || !errors.Is(err, providerfile.ErrInvalid) || rep.OK() {
		t.Errorf("over the cap: %v", err)
	}
	v.MaxBytes = 100
	if _, _, err := v.Validate(bytes.NewReader(valid)); !errors.Is(err, providerfile.ErrTooLarge) {
		t.Errorf("MaxBytes 100: %v", err)
	}
	// An endless input is cut at the cap, not read to the end.
	if _, _, err := v.Validate(endless{}); !errors.Is(err, providerfile.ErrTooLarge) {
		t.Errorf("endless input: %v", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestValidateUnreadable(t *testing.T) {
	cases := map[string][]byte{
		"empty":       nil,
		"white space": []byte("  \n"),
		"not JSON":    []byte("website: {}"),
		"string":      []byte(`"{}"`),
		"null":        []byte(`null`),
		"bad UTF-8":   append(fileWith("x-note", `"`), 0xff, '"', '}'),
		"two objects": []byte(`{} {}`),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, rep, err := validator.Validate(bytes.NewReader(in))
			var fe *providerfile.FileError
			if !errors.As(err, &fe) || fe.Err == nil || !errors.Is(err, providerfile.ErrInvalid) {
				t.Fatalf("err %#v", err)
			}
			if got := problems(rep); !slices.Equal(got, []string{"error "}) {
				t.Errorf("problems %v", rep.Problems)
			}
		})
	}
}

func TestValidateReadError(t *testing.T) {
	boom := errors.New("boom")
	_, _, err := validator.Validate(iotest.ErrReader(boom))
	if !errors.Is(err, boom) || errors.Is(err, providerfile.ErrInvalid) {
		t.Errorf("err %v", err)
	}
}

// TestValidateDefaultDate checks that the zero Validator compares "since"
// with today.
func TestValidateDefaultDate(t *testing.T) {
	future := providers.DateOf(time.Now().AddDate(0, 0, 2)).String()
	_, rep, err := providerfile.Validate(bytes.NewReader(fileWith("since", `"`+future+`"`)))
	if err == nil || !slices.Equal(problems(rep), []string{"error since"}) {
		t.Errorf("since %s: %v, %v", future, err, rep.Problems)
	}
}

func TestFileErrorMessage(t *testing.T) {
	_, _, err := validator.Validate(bytes.NewReader(readFile(t, "mistakes.json")))
	msg := err.Error()
	for _, w := range []string{"providerfile: invalid provider file: website:", "alternativeJids:", "busFactor:", "and 9 more"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q lacks %q", msg, w)
		}
	}
}
