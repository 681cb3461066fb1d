package rating_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

// full returns a record in which every one of the 31 fields has a value
// that differs from its zero value and from providers.New.
func full() providers.Provider {
	return providers.Provider{
		JID:                   "full.example",
		Category:              providers.CategoryC,
		LatestChange:          providers.Date{Year: 2026, Month: 5, Day: 4},
		Website:               providers.Localized{"en": "https://full.example/"},
		AlternativeJIDs:       []string{"alt.example"},
		BusFactor:             3,
		Organization:          providers.OrganizationNonGovernmental,
		PasswordReset:         providers.Localized{"de": "https://full.example/reset"},
		ServerTesting:         true,
		ServerSoftwareName:    "Prosody",
		ServerSoftwareVersion: "0.12.4",
		GreenWebCheck:         true,
		InBandRegistration:    true,
		EmailRequired:         true,
		CaptchaRequired:       true,
		RegistrationWebPage:   providers.Localized{"fr": "https://full.example/register"},
		ComplianceTester:      97,
		ObservatoryC2S:        "B",
		ObservatoryS2S:        "C",
		UploadFileSize:        33,
		UploadTotalSize:       444,
		UploadStorageTime:     55,
		ArchiveStorageTime:    66,
		ProfessionalHosting:   true,
		FreeOfCharge:          true,
		LegalNotice:           providers.Localized{"en": "https://full.example/legal"},
		ServerLocations:       []string{"fi"},
		EmailSupport:          providers.LocalizedList{"en": {"admin@full.example"}},
		ChatSupport:           providers.LocalizedList{"en": {"admin@full.example"}},
		GroupChatSupport:      providers.LocalizedList{"en": {"support@muc.full.example"}},
		Since:                 providers.Date{Year: 2019, Month: 9, Day: 9},
	}
}

func jsonValue(t *testing.T, p providers.Provider, f providers.Field) string {
	t.Helper()
	b, err := json.Marshal(p.Value(f))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOverlayEveryField checks that every field of the data model can be
// taken over, so that no live observation is silently dropped.
func TestOverlayEveryField(t *testing.T) {
	src := full()
	blank := providers.New("")
	for _, f := range providers.Fields() {
		if jsonValue(t, src, f) == jsonValue(t, blank, f) {
			t.Fatalf("test record: %s equals the blank value", f)
		}
		got, pv := rating.Overlay(blank, nil, src, []providers.Field{f}, rating.SourceLive)
		if a, b := jsonValue(t, got, f), jsonValue(t, src, f); a != b {
			t.Errorf("%s: got %s, want %s", f, a, b)
		}
		if pv.Of(f) != rating.SourceLive {
			t.Errorf("%s: provenance %s", f, pv.Of(f))
		}
		// Nothing else changed.
		for _, g := range providers.Fields() {
			if g != f && jsonValue(t, got, g) != jsonValue(t, blank, g) {
				t.Errorf("copying %s changed %s", f, g)
			}
		}
	}
}

func TestMergeListedAndLive(t *testing.T) {
	listed, ok := providers.Embedded().Lookup("07f.de")
	if !ok {
		t.Fatal("07f.de not in the embedded list")
	}
	before := jsonOf(t, listed)
	if r := rating.Evaluate(listed, ratedAt); r.Category != providers.CategoryA {
		t.Fatalf("07f.de listed: %s", describe(r))
	}
	live := providers.New("07f.de")
	live.InBandRegistration = false
	live.UploadFileSize = 10
	live.ChatSupport = providers.LocalizedList{"en": {"admin@07f.de"}}
	liveFields := []providers.Field{providers.FieldInBandRegistration, providers.FieldUploadFileSize,
		providers.FieldChatSupport, "noSuchField"}
	liveBefore := jsonOf(t, live)

	m, pv := rating.Merge(listed, live, liveFields)

	if m.InBandRegistration || m.UploadFileSize != 10 || !reflect.DeepEqual(m.ChatSupport, live.ChatSupport) {
		t.Errorf("live values not taken: %+v", m)
	}
	if m.UploadTotalSize != listed.UploadTotalSize || !reflect.DeepEqual(m.LegalNotice, listed.LegalNotice) ||
		m.Category != listed.Category {
		t.Errorf("listed values lost")
	}
	for _, f := range providers.Fields() {
		want := rating.SourceList
		if slices.Contains(liveFields, f) {
			want = rating.SourceLive
		}
		if pv.Of(f) != want {
			t.Errorf("%s: provenance %s, want %s", f, pv.Of(f), want)
		}
	}
	if got := pv.Fields(rating.SourceLive); len(got) != 3 {
		t.Errorf("live fields %v", got)
	}
	if _, ok := pv["noSuchField"]; ok {
		t.Errorf("unknown field in provenance")
	}

	// The merged record is rated on the fresh values: registration closed
	// (07f.de has no registration web page), so D.
	r := rating.Evaluate(m, ratedAt)
	if r.Category != providers.CategoryD || r.Published != providers.CategoryA {
		t.Errorf("merged: %s", describe(r))
	}

	// The result shares nothing with the inputs.
	m.ChatSupport["en"][0] = "changed"
	m.LegalNotice["xx"] = "changed"
	m.ServerLocations[0] = "xx"
	if jsonOf(t, listed) != before || jsonOf(t, live) != liveBefore {
		t.Errorf("Merge result aliases its inputs")
	}
}

func TestMergeNotListed(t *testing.T) {
	live := providers.New("new.example")
	live.InBandRegistration = true
	live.UploadFileSize = 100
	m, pv := rating.Merge(providers.Provider{}, live, []providers.Field{
		providers.FieldInBandRegistration, providers.FieldUploadFileSize})
	if m.JID != "new.example" || !m.InBandRegistration || m.UploadFileSize != 100 {
		t.Errorf("merged %+v", m)
	}
	if m.UploadTotalSize != providers.Unknown || m.ArchiveStorageTime != providers.Unknown || m.BusFactor != -1 {
		t.Errorf("unobserved sizes are not unknown: %+v", m)
	}
	if pv.Of(providers.FieldJID) != rating.SourceLive || pv.Of(providers.FieldUploadFileSize) != rating.SourceLive ||
		pv.Of(providers.FieldUploadTotalSize) != rating.SourceDefault || pv.Of(providers.FieldSince) != rating.SourceDefault {
		t.Errorf("provenance %v", pv)
	}
	if got := len(pv.Fields(rating.SourceDefault)); got != len(providers.Fields())-3 {
		t.Errorf("%d default fields", got)
	}
	if r := rating.Evaluate(m, ratedAt); r.Category != providers.CategoryD {
		t.Errorf("only registration known: %s", describe(r))
	}
}

// TestMergeProviderFileSource reads a record from the full providers.json,
// where the sources tell which values the operator's provider file gave.
func TestMergeProviderFileSource(t *testing.T) {
	const db = `{"x.example": {
		"website": {"content": {"en": "https://x.example/"}, "source": "https://x.example/.well-known/xmpp-provider-v2.json"},
		"since": {"content": "2020-01-01", "source": "https://x.example/.well-known/xmpp-provider-v2.json"},
		"maximumHttpFileUploadFileSize": {"content": 50, "source": ""}
	}}`
	l, err := providers.Decode(strings.NewReader(db))
	if err != nil {
		t.Fatal(err)
	}
	listed := l.Providers[0]
	pv := rating.ListProvenance(listed)
	if pv.Of(providers.FieldWebsite) != rating.SourceProviderFile || pv.Of(providers.FieldSince) != rating.SourceProviderFile ||
		pv.Of(providers.FieldUploadFileSize) != rating.SourceList {
		t.Errorf("list provenance %v", pv)
	}
	live := providers.New("x.example")
	live.Website = providers.Localized{"en": "https://x.example/new"}
	m, pv := rating.Merge(listed, live, []providers.Field{providers.FieldWebsite})
	if pv.Of(providers.FieldWebsite) != rating.SourceLive || pv.Of(providers.FieldSince) != rating.SourceProviderFile {
		t.Errorf("merged provenance %v", pv)
	}
	if _, ok := m.Sources[providers.FieldWebsite]; ok {
		t.Errorf("the replaced website keeps the old source %q", m.Sources[providers.FieldWebsite])
	}
	if src := m.Sources[providers.FieldSince]; !strings.HasSuffix(src, "v2.json") {
		t.Errorf("since lost its source: %q", src)
	}
	if listed.Sources[providers.FieldWebsite] == "" {
		t.Errorf("Merge changed the listed record's sources")
	}
}

func TestProvenanceOf(t *testing.T) {
	var pv rating.Provenance
	if pv.Of(providers.FieldSince) != rating.SourceDefault {
		t.Errorf("nil provenance: %s", pv.Of(providers.FieldSince))
	}
	if got := rating.ListProvenance(providers.Provider{}).Fields(rating.SourceDefault); len(got) != len(providers.Fields()) {
		t.Errorf("not listed: %d default fields", len(got))
	}
}

func jsonOf(t *testing.T, p providers.Provider) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
