package providerfile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/jsonstrict"
	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
)

func TestParseFields(t *testing.T) {
	f := validator.Parse(readFile(t, "valid.json"))
	if !f.Report.Clean() || !reflect.DeepEqual(f.Fields, providers.ProviderFileFields()) {
		t.Fatalf("valid.json: fields %v, problems %v", f.Fields, f.Report.Problems)
	}
	f = validator.Parse(readFile(t, "mistakes.json"))
	want := []providers.Field{providers.FieldUploadTotalSize, providers.FieldUploadStorageTime}
	if !reflect.DeepEqual(f.Fields, want) {
		t.Errorf("mistakes.json: fields %v, want %v", f.Fields, want)
	}
	// A duplicate is an error, but its first value is read.
	in := strings.Replace(string(readFile(t, "valid.json")), `"busFactor": 2,`, `"busFactor": 2, "busFactor": 3,`, 1)
	f = validator.Parse([]byte(in))
	if len(f.Fields) != 14 || f.Provider.BusFactor != 2 || !errors.Is(f.Report.Errors()[0].Err, providerfile.ErrDuplicateKey) {
		t.Errorf("duplicate: %v %v", f.Fields, f.Report.Problems)
	}
}

// TestUnknownKeysAreWarnings: the one rule for keys the format does not
// define.
func TestUnknownKeysAreWarnings(t *testing.T) {
	_, rep, err := validator.Validate(strings.NewReader(string(fileWith("x-note", `{"a": [1, 2]}`))))
	if err != nil || len(rep.Warnings()) != 1 || !errors.Is(rep.Problems[0].Err, providerfile.ErrUnknownKey) {
		t.Fatalf("err %v, problems %v", err, rep.Problems)
	}
	// Many unknown keys: eight are named, the rest counted.
	var b strings.Builder
	b.WriteString(string(fileWith("x-0", "0")[:len(fileWith("x-0", "0"))-1]))
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&b, `, "x-%d": %d`, i, i)
	}
	b.WriteString("}")
	_, rep, err = validator.Validate(strings.NewReader(b.String()))
	if err != nil || len(rep.Problems) != 9 || rep.Problems[8].Field != "" ||
		!strings.Contains(rep.Problems[8].Err.Error(), "22 more unknown keys") {
		t.Errorf("err %v, problems %v", err, rep.Problems)
	}
}

// TestErrQuotesNothing: Problem.Err describes every problem without a
// byte of the file's values, so that a report about a foreign file can
// show it; Message may quote them, escaped.
func TestErrQuotesNothing(t *testing.T) {
	const secret = "S3CRET"
	doc := map[string]any{
		"api_key":                        secret + "-key",
		"evil\u202ekey\x1b[2J":           secret,
		strings.Repeat("k", 300):         secret,
		"busFactor":                      secret,
		"organization":                   secret,
		"since":                          secret,
		"website":                        map[string]string{"en": "https://127.0.0.1/" + secret},
		"legalNotice":                    map[string]string{"en": "https://example.org/\u202e" + secret},
		"passwordReset":                  map[string]string{secret: "https://example.org/"},
		"serverLocations":                []string{secret, "DE"},
		"alternativeJids":                []string{secret + "@x", "Example.org"},
		"maximumHttpFileUploadTotalSize": 1.5,
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := validator.Parse(raw)
	for _, p := range f.Report.Problems {
		text := p.Err.Error() + string(p.Field)
		if strings.Contains(text, secret) || strings.Contains(text, "1.5") || strings.ContainsAny(text, "\u202e\x1b") {
			t.Errorf("Err of %s quotes the file: %q", p.Field, text)
		}
		if strings.ContainsAny(p.Message, "\u202e\x1b") {
			t.Errorf("Message of %s holds a control or bidi character: %q", p.Field, p.Message)
		}
		if len(p.Field) > 64+len("…") {
			t.Errorf("key not clipped: %d bytes", len(p.Field))
		}
	}
	for _, k := range []providers.Field{"busFactor", "organization", "since", "website", "legalNotice", "passwordReset",
		"serverLocations", "alternativeJids", "maximumHttpFileUploadTotalSize"} {
		bad := false
		for _, p := range f.Report.For(k) {
			bad = bad || p.Severity == providerfile.SeverityError
		}
		if !bad {
			t.Errorf("no error for %s: %v", k, f.Report.For(k))
		}
	}
}

func TestLinksMustBePublic(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1/", "https://[::1]/x", "https://localhost/", "https://user@example.org/",
		"https://10.0.0.1/", "https://example.org/\u202e"} {
		raw, _ := json.Marshal(map[string]string{"en": u})
		_, rep, err := validator.Validate(strings.NewReader(string(fileWith("website", string(raw)))))
		if !errors.Is(err, providerfile.ErrInvalid) || len(rep.Errors()) != 1 || !errors.Is(rep.Errors()[0].Err, providerfile.ErrInvalidValue) {
			t.Errorf("%q: %v %v", u, err, rep.Problems)
		}
	}
}

func TestProblemsPerKeyCapped(t *testing.T) {
	items := make([]string, 100)
	for i := range items {
		items[i] = `"Xx"`
	}
	_, rep, _ := validator.Validate(strings.NewReader(string(fileWith("serverLocations", "["+strings.Join(items, ",")+"]"))))
	got := rep.For(providers.FieldServerLocations)
	if len(got) != 9 || !strings.Contains(got[8].Message, "more problems") {
		t.Errorf("%d problems: %v", len(got), got)
	}
}

func TestNotJSON(t *testing.T) {
	_, rep, err := validator.Validate(strings.NewReader(`{"busFactor": 2,, }`))
	var je *jsonstrict.Error
	var fe *providerfile.FileError
	if !errors.As(err, &fe) || !errors.Is(fe.Err, providerfile.ErrNotJSON) || !errors.As(err, &je) || je.Offset != 16 {
		t.Errorf("err %v (%#v)", err, je)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Field != "" {
		t.Errorf("problems %v", rep.Problems)
	}
	if got := providerfile.URL("chat.example.org"); got != "https://chat.example.org/.well-known/xmpp-provider-v2.json" {
		t.Errorf("URL = %q", got)
	}
}
