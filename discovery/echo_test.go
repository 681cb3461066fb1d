package discovery

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// secret marks the values of a document that is not what the prober asked
// for (say, an internal API a redirect led to): none may appear in a
// report.
const secret = "S3CRET"

// TestProviderFileReportNeverEchoesValues: unknown keys are reported by
// name (sanitised, clipped, the first eight) and counted; values that do
// not decode or are not safe links are described, never quoted (issue 11,
// item 3).
func TestProviderFileReportNeverEchoesValues(t *testing.T) {
	doc := map[string]any{
		"users":                  []any{map[string]any{"name": "root", "token": secret + "-token"}},
		"api_key":                secret + "-key",
		"evil\u202ekey\x1b[2J":   secret,
		strings.Repeat("k", 300): secret,
		"category":               secret + "-category",
		"busFactor":              secret,
		"website":                map[string]string{"en": "https://127.0.0.1/" + secret},
		"legalNotice":            map[string]string{"en": "https://example.org/\u202e" + secret},
		"registrationWebPage":    map[string]string{secret + "\u202e": "https://[::1]/" + secret},
		"serverLocations":        []string{secret},
	}
	for i := range 20 {
		doc[fmt.Sprintf("extra%02d", i)] = secret
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, fields, errs := parseProviderFile(b)
	pf := ProviderFile{Status: observed(0), Fields: fields, Errors: errs}
	out, err := json.Marshal(pf)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out) + fmt.Sprint(errs)
	for _, e := range errs {
		text += e.Error()
	}
	if strings.Contains(text, secret) {
		t.Errorf("the report echoes values:\n%s", text)
	}
	if strings.ContainsAny(text, "\u202e\x1b") {
		t.Errorf("the report holds control or bidi characters:\n%q", text)
	}
	unknown, summary := 0, false
	for _, e := range errs {
		if e.Err == ErrUnknownField {
			unknown++
			if len(e.Field) > maxKeyLen+len("…") {
				t.Errorf("unknown key not clipped: %d bytes", len(e.Field))
			}
		}
		if e.Field == "" && strings.Contains(e.Error(), "more unknown keys") {
			summary = true
		}
	}
	if unknown != maxUnknownKeys || !summary {
		t.Errorf("%d unknown keys listed (want %d) and summary %v: %v", unknown, maxUnknownKeys, summary, errs)
	}
	for _, f := range []string{"website", "legalNotice", "busFactor", "serverLocations"} {
		found := false
		for _, e := range errs {
			found = found || e.Field == f
		}
		if !found {
			t.Errorf("no error for %s: %v", f, errs)
		}
	}
}

// TestHostMetaReportNeverEchoesValues: links with an unknown relation or
// a refused address keep no address, and problems quote none.
func TestHostMetaReportNeverEchoesValues(t *testing.T) {
	doc := `{"links":[
		{"rel":"x-internal","href":"https://internal.example/` + secret + `"},
		{"rel":"urn:xmpp:alt-connections:websocket","href":"wss://127.0.0.1/` + secret + `"},
		{"rel":"urn:xmpp:alt-connections:xbosh","href":"http://example.org/` + secret + `"},
		{"rel":"urn:xmpp:alt-connections:websocket","href":"wss://example.org/ws"}]}`
	links, problems, err := parseHostMetaJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	xrd := `<XRD xmlns="urn:` + secret + `"><Link rel="x" href="https://a.example/` + secret + `"/></XRD>`
	l2, p2, err := parseHostMetaXML([]byte(xrd))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(HostMetaDoc{Links: append(links, l2...), Problems: append(problems, p2...)})
	if strings.Contains(string(b), secret) {
		t.Errorf("the report echoes values:\n%s", b)
	}
	if len(links) != 4 || links[3].Href != "wss://example.org/ws" {
		t.Errorf("links = %+v", links)
	}
}
