package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// snapshots returns the real published files in testdata (copies of
// ../shared/data/providers).
func snapshots(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no snapshot matches %s: %v", pattern, err)
	}
	return files
}

func rawEntries(t testing.TB, file string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func decodeFile(t testing.TB, file string) List {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return l
}

// TestV2RoundTrip decodes every provider of every v2 filtered snapshot and
// checks that encoding the typed record gives back exactly the raw JSON
// values, key by key.
func TestV2RoundTrip(t *testing.T) {
	for _, file := range snapshots(t, "providers-B.v2.*.json") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			l := decodeFile(t, file)
			raw := rawEntries(t, file)
			if l.Format != FormatFiltered {
				t.Errorf("format = %v, want %v", l.Format, FormatFiltered)
			}
			if len(l.Providers) != len(raw) || len(raw) == 0 {
				t.Fatalf("decoded %d providers, file has %d", len(l.Providers), len(raw))
			}
			for i, p := range l.Providers {
				enc, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				var got map[string]any
				if err := json.Unmarshal(enc, &got); err != nil {
					t.Fatal(err)
				}
				for k, want := range raw[i] {
					if !reflect.DeepEqual(got[k], want) {
						t.Errorf("%s: %s = %#v, raw JSON has %#v", p.JID, k, got[k], want)
					}
				}
				if len(got) != len(raw[i]) {
					t.Errorf("%s: encoded %d keys, raw has %d", p.JID, len(got), len(raw[i]))
				}
			}
		})
	}
}

// TestV2TypedValues checks the typed view against the raw JSON for the fields
// whose Go types carry meaning.
func TestV2TypedValues(t *testing.T) {
	for _, file := range snapshots(t, "providers-B.v2.*.json") {
		l := decodeFile(t, file)
		for i, r := range rawEntries(t, file) {
			p := l.Providers[i]
			if got, want := float64(p.UploadFileSize), r["maximumHttpFileUploadFileSize"].(float64); got != want {
				t.Errorf("%s: UploadFileSize %v, want %v", p.JID, got, want)
			}
			if p.UploadFileSize.Unlimited() != (r["maximumHttpFileUploadFileSize"].(float64) == 0) {
				t.Errorf("%s: Unlimited disagrees with raw 0", p.JID)
			}
			if b, ok := p.UploadFileSize.Bytes(); ok && b != int64(r["maximumHttpFileUploadFileSize"].(float64))*1e6 {
				t.Errorf("%s: Bytes = %d", p.JID, b)
			}
			if got, want := float64(p.ArchiveStorageTime), r["maximumMessageArchiveManagementStorageTime"].(float64); got != want {
				t.Errorf("%s: ArchiveStorageTime %v, want %v", p.JID, got, want)
			}
			if p.Since.String() != r["since"] || p.LatestChange.String() != r["latestChange"] {
				t.Errorf("%s: dates %v %v, want %v %v", p.JID, p.Since, p.LatestChange, r["since"], r["latestChange"])
			}
			if string(p.Category) != r["category"] || string(p.Organization) != r["organization"] {
				t.Errorf("%s: category/organization mismatch", p.JID)
			}
			web := r["website"].(map[string]any)
			if v, lang, ok := p.Website.Pick("xx"); ok {
				if web[lang] != v {
					t.Errorf("%s: Website.Pick gave %q for %q", p.JID, v, lang)
				}
				if _, hasEn := web["en"]; hasEn && lang != "en" {
					t.Errorf("%s: Pick fell back to %q though en exists", p.JID, lang)
				}
			} else if len(web) != 0 {
				t.Errorf("%s: Website.Pick found nothing in %v", p.JID, web)
			}
		}
	}
}

func TestV1(t *testing.T) {
	file := snapshots(t, "providers-B.v1.*.json")[0]
	l := decodeFile(t, file)
	if l.Format != FormatV1 {
		t.Fatalf("format = %v, want v1", l.Format)
	}
	raw := rawEntries(t, file)
	if len(raw) != len(l.Providers) {
		t.Fatalf("%d providers, raw %d", len(l.Providers), len(raw))
	}
	for i, r := range raw {
		p := l.Providers[i]
		if p.LatestChange.String() != r["lastCheck"] {
			t.Errorf("%s: LatestChange %v, lastCheck %v", p.JID, p.LatestChange, r["lastCheck"])
		}
		if company := r["company"].(bool); company != (p.Organization == OrganizationCompany) {
			t.Errorf("%s: company %v, organization %q", p.JID, company, p.Organization)
		}
		enc, _ := json.Marshal(p)
		var got map[string]any
		json.Unmarshal(enc, &got)
		for k, want := range r {
			if k == "lastCheck" || k == "company" {
				continue
			}
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("%s: %s = %#v, raw %#v", p.JID, k, got[k], want)
			}
		}
	}
}

func TestSimple(t *testing.T) {
	file := snapshots(t, "providers-Ds.*.json")[0]
	l := decodeFile(t, file)
	b, _ := os.ReadFile(file)
	var raw []string
	json.Unmarshal(b, &raw)
	if l.Format != FormatSimple || !reflect.DeepEqual(l.Domains(), raw) {
		t.Fatalf("format %v, domains %v; want simple %v", l.Format, l.Domains(), raw)
	}
	if _, ok := l.Lookup("CONVERSATIONS.IM."); !ok {
		t.Error("Lookup is not case-insensitive or trips on the trailing dot")
	}
}

// fullFromFiltered builds a providers.json (object keyed by domain, values
// wrapped in content/source) from a real filtered list, marking every other
// property as unverified.
func fullFromFiltered(t testing.TB, file string) ([]byte, []map[string]any) {
	raw := rawEntries(t, file)
	var b bytes.Buffer
	b.WriteString("{")
	for i, r := range raw {
		if i > 0 {
			b.WriteString(",")
		}
		jid, _ := json.Marshal(r["jid"])
		b.Write(jid)
		b.WriteString(":{")
		n := 0
		for _, f := range Fields() {
			if f == FieldJID || f == FieldCategory {
				continue
			}
			if n > 0 {
				b.WriteString(",")
			}
			src := ""
			if n%2 == 0 {
				src = "https://" + r["jid"].(string) + "/.well-known/xmpp-provider-v2.json"
			}
			v, _ := json.Marshal(r[string(f)])
			s, _ := json.Marshal(src)
			b.WriteString(`"` + string(f) + `":{"content":` + string(v) + `,"source":` + string(s) + `,"comment":"x"}`)
			n++
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	return b.Bytes(), raw
}

func TestFull(t *testing.T) {
	file := snapshots(t, "providers-B.v2.2026-07-22.json")[0]
	data, raw := fullFromFiltered(t, file)
	l, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if l.Format != FormatFull || len(l.Providers) != len(raw) {
		t.Fatalf("format %v with %d providers", l.Format, len(l.Providers))
	}
	for i, p := range l.Providers {
		enc, _ := json.Marshal(p)
		var got map[string]any
		json.Unmarshal(enc, &got)
		for k, want := range raw[i] {
			if k == "category" {
				continue
			}
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("%s: %s = %#v, want %#v", p.JID, k, got[k], want)
			}
		}
		if v, known := p.Verified(FieldLatestChange); !known || !v {
			t.Errorf("%s: latestChange should be verified (first wrapped field)", p.JID)
		}
		if v, _ := p.Verified(FieldWebsite); v {
			t.Errorf("%s: website should be unverified", p.JID)
		}
		if !p.FromProviderFile(FieldLatestChange) {
			t.Errorf("%s: latestChange source should be the provider file", p.JID)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	valid, err := os.ReadFile(snapshots(t, "providers-B.v2.2026-07-22.json")[0])
	if err != nil {
		t.Fatal(err)
	}
	// Replace the first occurrence of old in the real file.
	mutate := func(old, new string) string {
		if !bytes.Contains(valid, []byte(old)) {
			t.Fatalf("fixture %q not in file", old)
		}
		return strings.Replace(string(valid), old, new, 1)
	}
	cases := []struct {
		name     string
		in       string
		provider string
		field    Field
		is       error
	}{
		{"string for int", mutate(`"maximumHttpFileUploadFileSize": 5368`, `"maximumHttpFileUploadFileSize": "5368"`), "07f.de", FieldUploadFileSize, nil},
		{"fraction", mutate(`"busFactor": 1,`, `"busFactor": 1.5,`), "07f.de", FieldBusFactor, nil},
		{"huge number", mutate(`"maximumHttpFileUploadFileSize": 5368`, `"maximumHttpFileUploadFileSize": 1e400`), "07f.de", FieldUploadFileSize, nil},
		{"below sentinel", mutate(`"maximumHttpFileUploadStorageTime": 30`, `"maximumHttpFileUploadStorageTime": -2`), "07f.de", FieldUploadStorageTime, nil},
		{"bad date", mutate(`"since": "2021-02-24"`, `"since": "24.02.2021"`), "07f.de", FieldSince, nil},
		{"bad category", mutate(`"category": "A"`, `"category": "E"`), "07f.de", FieldCategory, nil},
		{"bool as string", mutate(`"freeOfCharge": true`, `"freeOfCharge": "yes"`), "07f.de", FieldFreeOfCharge, nil},
		{"duplicate key", mutate(`"busFactor": 1,`, `"busFactor": 1, "busFactor": 2,`), "07f.de", FieldBusFactor, nil},
		{"missing key", mutate(`"busFactor": 1,`, ``), "07f.de", FieldBusFactor, nil},
		{"invalid utf8", mutate(`"private person"`, "\"priv\xffate\""), "", "", nil},
		{"null map", mutate(`"groupChatSupport": {}`, `"groupChatSupport": null`), "07f.de", FieldGroupChatSupport, nil},
		{"duplicate provider", strings.Replace(string(valid), `"jid": "404.city"`, `"jid": "07F.de"`, 1), "07F.de", FieldJID, nil},
		{"truncated", string(valid[:len(valid)/2]), "", "", nil},
		{"trailing", string(valid) + "[]", "", "", nil},
		{"not a list", `"hello"`, "", "", ErrFormat},
		{"empty", ``, "", "", ErrFormat},
		{"number in list", `[1]`, "", "", nil},
		{"mixed", `["a.example", {"jid": "b.example"}]`, "", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(c.in))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if c.provider != "" && de.Provider != c.provider {
				t.Errorf("provider = %q, want %q (%v)", de.Provider, c.provider, err)
			}
			if c.field != "" && de.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", de.Field, c.field, err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("err = %v, want errors.Is %v", err, c.is)
			}
			t.Log(err)
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	valid, _ := os.ReadFile(snapshots(t, "providers-B.v2.2026-07-22.json")[0])
	d := Decoder{MaxBytes: int64(len(valid) - 1)}
	if _, err := d.Decode(bytes.NewReader(valid)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	d.MaxBytes = int64(len(valid))
	if _, err := d.Decode(bytes.NewReader(valid)); err != nil {
		t.Fatalf("exactly at the cap: %v", err)
	}
	// An endless stream stops at the default cap.
	if _, err := Decode(&repeatReader{s: []byte(" ")}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless input: %v", err)
	}
	_, err := Decode(&repeatReader{prefix: []byte("["), s: []byte(`"a.example",`)})
	var de *DecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrTooLarge) || de.Index != DefaultMaxBytes/len(`"a.example",`) {
		t.Fatalf("endless list: %v, want the index of the entry the cap cut", err)
	}
}

type repeatReader struct {
	prefix, s []byte
	n         int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.n%len(r.s):])
		r.n += c
		n += c
	}
	return n, nil
}

func TestEmbedded(t *testing.T) {
	a := Embedded()
	if a.Published.String() != "2026-07-22" || a.Len() != 29 || a.Format != FormatFiltered {
		t.Fatalf("embedded: %v, %d providers, %v", a.Published, a.Len(), a.Format)
	}
	a.Providers[0].JID = "changed.example"
	a.Providers[0].Website["en"] = "changed"
	a.Providers[0].ServerLocations[0] = "zz"
	b := Embedded()
	if b.Providers[0].JID == "changed.example" || b.Providers[0].Website["en"] == "changed" || b.Providers[0].ServerLocations[0] == "zz" {
		t.Fatal("Embedded shares memory between callers")
	}
	raw := decodeFile(t, snapshots(t, "providers-B.v2.2026-07-22.json")[0])
	raw.Published = b.Published
	if !reflect.DeepEqual(raw, b) {
		t.Fatal("Embedded differs from the snapshot in testdata")
	}
}

func TestUnmarshalJSONProvider(t *testing.T) {
	l := Embedded()
	for _, p := range l.Providers {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q Provider
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("%s: round trip through Provider JSON differs", p.JID)
		}
	}
}

// TestDecodeRefusesControlCharacters checks that no string of a list may
// carry a control or bidi character: each is a *DecodeError naming the
// provider and field, matched by ErrUnsafeText, whose text is safe to print.
func TestDecodeRefusesControlCharacters(t *testing.T) {
	valid, err := os.ReadFile(snapshots(t, "providers-B.v2.2026-07-22.json")[0])
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(old, new string) string {
		if !bytes.Contains(valid, []byte(old)) {
			t.Fatalf("fixture %q not in file", old)
		}
		return strings.Replace(string(valid), old, new, 1)
	}
	cases := []struct {
		name     string
		in       string
		provider string
		field    Field
	}{
		{"ESC BEL in jid", mutate(`"jid": "07f.de"`, `"jid": "07f.de\u001b]0;pwned\u0007"`), `07f.de\x1b]0;pwned\x07`, FieldJID},
		{"RLO in jid", mutate(`"jid": "07f.de"`, "\"jid\": \"ed.f70\u202e\""), `ed.f70\u202e`, FieldJID},
		{"CR in alternative jid", mutate(`"alternativeJids": []`, `"alternativeJids": ["a\rb.example"]`), "07f.de", FieldAlternativeJIDs},
		{"RLO in website", mutate(`"en": "https://07f.de"`, `"en": "https://07f.de/\u202egpj.exe"`), "07f.de", FieldWebsite},
		{"ESC in language", mutate(`"en": "https://07f.de"`, `"e\u001b": "https://07f.de"`), "07f.de", FieldWebsite},
		{"C1 in password reset", mutate(`"en": "https://07f.de/xmpp.html"`, `"en": "https://07f.de/\u009b2J"`), "07f.de", FieldPasswordReset},
		{"ESC in country", strings.Replace(string(valid), `"de"`, `"\u001b["`, 1), "07f.de", FieldServerLocations},
		{"BEL in e-mail support", mutate(`"xmpp@07f.de"`, `"xmpp@07f.de\u0007"`), "07f.de", FieldEmailSupport},
		{"CSI in software name", mutate(`"serverSoftwareName": "ejabberd"`, `"serverSoftwareName": "ejabberd\u001b[2J"`), "07f.de", FieldServerSoftwareName},
		{"DEL in software version", mutate(`"serverSoftwareVersion": "26.3.0"`, "\"serverSoftwareVersion\": \"26.3.0\x7f\""), "07f.de", FieldServerSoftwareVersion},
		{"isolate in grade", mutate(`"ratingImObservatoryClientToServer": "A"`, `"ratingImObservatoryClientToServer": "A\u2066"`), "07f.de", FieldObservatoryC2S},
		{"simple list", `["a.example", "b\u001b[31m.example"]`, "", FieldJID},
		{"full: domain", `{"a\u001b.example": {}}`, `a\x1b.example`, FieldJID},
		{"full: source", `{"a.example": {"website": {"content": {}, "source": "https://a.example/\u0007"}}}`, "a.example", FieldWebsite},
		{"v1 jid", `[{"jid": "a\u0085.example", "lastCheck": "2022-01-20"}]`, `a\u0085.example`, FieldJID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(c.in))
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrUnsafeText) {
				t.Fatalf("err = %v, want a *DecodeError matching ErrUnsafeText", err)
			}
			if c.provider != "" && de.Provider != c.provider {
				t.Errorf("provider = %q, want %q", de.Provider, c.provider)
			}
			if de.Field != c.field {
				t.Errorf("field = %q, want %q", de.Field, c.field)
			}
			if !sanitize.Clean(de.Provider) || !sanitize.Clean(err.Error()) {
				t.Errorf("error text carries a control character: %q", err.Error())
			}
		})
	}
	// Ordinary Unicode in free text is kept.
	in := mutate(`"serverSoftwareName": "ejabberd"`, `"serverSoftwareName": "ejabberd – Ελληνικά ✓"`)
	l, err := Decode(strings.NewReader(in))
	if err != nil || l.Providers[0].ServerSoftwareName != "ejabberd – Ελληνικά ✓" {
		t.Fatalf("plain Unicode refused: %v", err)
	}
}

// TestDecodeDropsInsecureLinks checks that a link that is not an https link
// netguard accepts is left out of the record (the provider stays), recorded
// in List.Dropped without the link, and that the real snapshots lose none.
func TestDecodeDropsInsecureLinks(t *testing.T) {
	valid, err := os.ReadFile(snapshots(t, "providers-B.v2.2026-07-22.json")[0])
	if err != nil {
		t.Fatal(err)
	}
	in := string(valid)
	for _, r := range [][2]string{
		{`"en": "https://07f.de"`, `"en": "http://07f.de", "de": "https://07f.de/de"`},
		{`"en": "https://07f.de/xmpp.html"`, `"en": "javascript:alert(1)"`},                                    // passwordReset
		{`"en": "https://07f.de/xmpp.html"`, `"en": "https://bank.example@07f.de/"`},                           // legalNotice
		{`"registrationWebPage": {}`, `"registrationWebPage": {"en": "https://127.0.0.1/register", "fr": ""}`}, // the first one
	} {
		if !strings.Contains(in, r[0]) {
			t.Fatalf("fixture %q not in file", r[0])
		}
		in = strings.Replace(in, r[0], r[1], 1)
	}
	l, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 29 {
		t.Fatalf("%d providers, want all 29", l.Len())
	}
	p, _ := l.Lookup("07f.de")
	if len(p.Website) != 1 || p.Website["de"] != "https://07f.de/de" || len(p.PasswordReset) != 0 || len(p.LegalNotice) != 0 || len(p.RegistrationWebPage) != 0 {
		t.Errorf("links kept: website %v, password reset %v, legal notice %v, registration %v", p.Website, p.PasswordReset, p.LegalNotice, p.RegistrationWebPage)
	}
	var fields []Field
	for _, d := range l.Dropped {
		if !errors.Is(d, ErrInsecureLink) || d.Provider != "07f.de" {
			t.Errorf("dropped %v: want ErrInsecureLink for 07f.de", d)
		}
		for _, bad := range []string{"http://07f.de", "javascript", "bank.example", "127.0.0.1"} {
			if strings.Contains(d.Error(), bad) {
				t.Errorf("the record of a dropped link repeats it: %v", d)
			}
		}
		fields = append(fields, d.Field)
	}
	if want := []Field{FieldWebsite, FieldPasswordReset, FieldRegistrationWebPage, FieldRegistrationWebPage, FieldLegalNotice}; !reflect.DeepEqual(fields, want) {
		t.Errorf("dropped fields %v, want %v", fields, want)
	}

	// A source that is not an https link: the property is unverified.
	full := `{"a.example": {"website": {"content": {"en": "http://a.example/"}, "source": "http://a.example/.well-known/xmpp-provider-v2.json"},
		"since": {"content": "2020-01-01", "source": "https://a.example/.well-known/xmpp-provider-v2.json"}}}`
	l, err = Decode(strings.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	fp := l.Providers[0]
	if v, _ := fp.Verified(FieldWebsite); v || fp.FromProviderFile(FieldWebsite) || len(fp.Website) != 0 || len(l.Dropped) != 2 {
		t.Errorf("full: website %v verified %v, %d dropped", fp.Website, v, len(l.Dropped))
	}
	if v, _ := fp.Verified(FieldSince); !v {
		t.Error("full: an https source was dropped")
	}

	// API v1 and Provider.UnmarshalJSON vet links too.
	l, err = Decode(strings.NewReader(`[{"jid": "a.example", "lastCheck": "2022-01-20", "website": {"en": "http://a.example/"}}]`))
	if err != nil || len(l.Providers[0].Website) != 0 || len(l.Dropped) != 1 {
		t.Errorf("v1: err %v, website %v, %d dropped", err, l.Providers[0].Website, len(l.Dropped))
	}
	var q Provider
	if err := json.Unmarshal([]byte(`{"jid": "a.example", "legalNotice": {"en": "ftp://a.example/"}}`), &q); err != nil || len(q.LegalNotice) != 0 {
		t.Errorf("UnmarshalJSON: err %v, legal notice %v", err, q.LegalNotice)
	}

	// Every link of the real snapshots passes.
	for _, file := range snapshots(t, "*.json") {
		if l := decodeFile(t, file); len(l.Dropped) != 0 {
			t.Errorf("%s: %d links dropped: %v", file, len(l.Dropped), l.Dropped)
		}
	}
}
