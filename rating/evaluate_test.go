package rating_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

var ratedAt = time.Date(2026, 7, 22, 12, 0, 0, 0, time.UTC)

// edgeA returns a provider that meets every criterion of category A on
// ratedAt exactly at its threshold: 20 MB per file, 100 MB per user, 7 days
// for files and archive, 100 %, and 365 days of service.
func edgeA() providers.Provider {
	return providers.Provider{
		JID:                 "edge.example",
		BusFactor:           -1,
		InBandRegistration:  true,
		FreeOfCharge:        true,
		ComplianceTester:    100,
		UploadFileSize:      20,
		UploadTotalSize:     100,
		UploadStorageTime:   7,
		ArchiveStorageTime:  7,
		ProfessionalHosting: true,
		LegalNotice:         providers.Localized{"en": "https://edge.example/legal"},
		ServerLocations:     []string{"de"},
		ChatSupport:         providers.LocalizedList{"en": {"support@edge.example"}},
		Since:               providers.DateOf(ratedAt.AddDate(0, 0, -365)),
	}
}

func fields(ss []rating.Shortfall) []providers.Field {
	out := []providers.Field{}
	for _, s := range ss {
		out = append(out, s.Field)
	}
	return out
}

func TestEvaluateBoundaries(t *testing.T) {
	tests := []struct {
		name   string
		change func(*providers.Provider)
		want   providers.Category
		// unmet are the fields reported for A (and for B unless unmetB is
		// set).
		unmet []providers.Field
	}{
		{"every threshold exactly", func(p *providers.Provider) {}, providers.CategoryA, nil},

		{"file size 20 MB", func(p *providers.Provider) { p.UploadFileSize = 20 }, providers.CategoryA, nil},
		{"file size 19 MB", func(p *providers.Provider) { p.UploadFileSize = 19 }, providers.CategoryC,
			[]providers.Field{providers.FieldUploadFileSize}},
		{"file size unlimited", func(p *providers.Provider) { p.UploadFileSize = 0 }, providers.CategoryA, nil},
		{"file size unknown", func(p *providers.Provider) { p.UploadFileSize = -1 }, providers.CategoryC,
			[]providers.Field{providers.FieldUploadFileSize}},

		{"total size 100 MB", func(p *providers.Provider) { p.UploadTotalSize = 100 }, providers.CategoryA, nil},
		{"total size 99 MB", func(p *providers.Provider) { p.UploadTotalSize = 99 }, providers.CategoryC,
			[]providers.Field{providers.FieldUploadTotalSize}},
		{"total size unlimited", func(p *providers.Provider) { p.UploadTotalSize = 0 }, providers.CategoryA, nil},
		{"total size unknown", func(p *providers.Provider) { p.UploadTotalSize = -1 }, providers.CategoryC,
			[]providers.Field{providers.FieldUploadTotalSize}},

		{"file storage 7 days", func(p *providers.Provider) { p.UploadStorageTime = 7 }, providers.CategoryA, nil},
		{"file storage 6 days", func(p *providers.Provider) { p.UploadStorageTime = 6 }, providers.CategoryC,
			[]providers.Field{providers.FieldUploadStorageTime}},
		{"file storage unlimited", func(p *providers.Provider) { p.UploadStorageTime = 0 }, providers.CategoryA, nil},
		{"file storage unknown", func(p *providers.Provider) { p.UploadStorageTime = -1 }, providers.CategoryC,
			[]providers.Field{providers.FieldUploadStorageTime}},

		{"archive 7 days", func(p *providers.Provider) { p.ArchiveStorageTime = 7 }, providers.CategoryA, nil},
		{"archive 6 days", func(p *providers.Provider) { p.ArchiveStorageTime = 6 }, providers.CategoryC,
			[]providers.Field{providers.FieldArchiveStorageTime}},
		{"archive unlimited", func(p *providers.Provider) { p.ArchiveStorageTime = 0 }, providers.CategoryA, nil},
		{"archive unknown", func(p *providers.Provider) { p.ArchiveStorageTime = -1 }, providers.CategoryC,
			[]providers.Field{providers.FieldArchiveStorageTime}},

		{"since 365 days", func(p *providers.Provider) {}, providers.CategoryA, nil},
		{"since 364 days", func(p *providers.Provider) { p.Since = providers.DateOf(ratedAt.AddDate(0, 0, -364)) },
			providers.CategoryC, []providers.Field{providers.FieldSince}},
		{"since unknown", func(p *providers.Provider) { p.Since = providers.Date{} },
			providers.CategoryC, []providers.Field{providers.FieldSince}},
		{"since in the future", func(p *providers.Provider) { p.Since = providers.DateOf(ratedAt.AddDate(0, 0, 1)) },
			providers.CategoryC, []providers.Field{providers.FieldSince}},

		{"compliance 99", func(p *providers.Provider) { p.ComplianceTester = 99 }, providers.CategoryC,
			[]providers.Field{providers.FieldComplianceTester}},
		{"compliance 90", func(p *providers.Provider) { p.ComplianceTester = 90 }, providers.CategoryC,
			[]providers.Field{providers.FieldComplianceTester}},
		{"compliance 89", func(p *providers.Provider) { p.ComplianceTester = 89 }, providers.CategoryD,
			[]providers.Field{providers.FieldComplianceTester}},

		{"not professional", func(p *providers.Provider) { p.ProfessionalHosting = false }, providers.CategoryC,
			[]providers.Field{providers.FieldProfessionalHosting}},
		{"no legal notice", func(p *providers.Provider) { p.LegalNotice = providers.Localized{} }, providers.CategoryC,
			[]providers.Field{providers.FieldLegalNotice}},
		{"no server locations", func(p *providers.Provider) { p.ServerLocations = nil }, providers.CategoryC,
			[]providers.Field{providers.FieldServerLocations}},
		{"no support", func(p *providers.Provider) { p.ChatSupport = nil }, providers.CategoryC,
			[]providers.Field{providers.FieldEmailSupport}},
		{"group chat support only", func(p *providers.Provider) {
			p.ChatSupport = nil
			p.GroupChatSupport = providers.LocalizedList{"en": {"support@muc.edge.example"}}
		}, providers.CategoryA, nil},
		{"e-mail support only", func(p *providers.Provider) {
			p.ChatSupport = nil
			p.EmailSupport = providers.LocalizedList{"en": {"admin@edge.example"}}
		}, providers.CategoryA, nil},

		// Criteria shown not to matter for A: A providers exist with these.
		{"captcha, e-mail, unknown bus factor", func(p *providers.Provider) {
			p.CaptchaRequired, p.EmailRequired, p.BusFactor = true, true, -1
			p.Organization, p.PasswordReset, p.ServerTesting = "", nil, false
		}, providers.CategoryA, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := edgeA()
			tc.change(&p)
			r := rating.Evaluate(p, ratedAt)
			if r.Category != tc.want {
				t.Errorf("category %s, want %s\n%s", r.Category, tc.want, describe(r))
			}
			if got := fields(r.Unmet(providers.CategoryA)); !slices.Equal(got, append([]providers.Field{}, tc.unmet...)) {
				t.Errorf("unmet for A: %v, want %v", got, tc.unmet)
			}
			if got := fields(r.Unmet(providers.CategoryB)); !slices.Equal(got, append([]providers.Field{}, tc.unmet...)) {
				t.Errorf("unmet for B: %v, want %v", got, tc.unmet)
			}
		})
	}
}

func TestEvaluateRegistration(t *testing.T) {
	tests := []struct {
		name         string
		ibr, free    bool
		web          providers.Localized
		want         providers.Category
		unmetA, unmB []providers.Field
	}{
		{"in-band and free", true, true, nil, providers.CategoryA, nil, nil},
		{"in-band, not free", true, false, nil, providers.CategoryB,
			[]providers.Field{providers.FieldFreeOfCharge}, nil},
		{"web page only", false, true, providers.Localized{"en": "https://edge.example/register"}, providers.CategoryB,
			[]providers.Field{providers.FieldInBandRegistration}, nil},
		{"web page, not free", false, false, providers.Localized{"en": "https://edge.example/register"}, providers.CategoryB,
			[]providers.Field{providers.FieldInBandRegistration, providers.FieldFreeOfCharge}, nil},
		{"closed", false, true, nil, providers.CategoryD,
			[]providers.Field{providers.FieldInBandRegistration}, []providers.Field{providers.FieldInBandRegistration}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := edgeA()
			p.InBandRegistration, p.FreeOfCharge, p.RegistrationWebPage = tc.ibr, tc.free, tc.web
			r := rating.Evaluate(p, ratedAt)
			if r.Category != tc.want {
				t.Errorf("category %s, want %s\n%s", r.Category, tc.want, describe(r))
			}
			if got := fields(r.Unmet(providers.CategoryA)); !slices.Equal(got, append([]providers.Field{}, tc.unmetA...)) {
				t.Errorf("unmet for A: %v, want %v", got, tc.unmetA)
			}
			if got := fields(r.Unmet(providers.CategoryB)); !slices.Equal(got, append([]providers.Field{}, tc.unmB...)) {
				t.Errorf("unmet for B: %v, want %v", got, tc.unmB)
			}
		})
	}
}

// TestEvaluateClosedRegistrationNamesBoth checks that "registration
// impossible" names both ways to register, as results/<jid>.json does.
func TestEvaluateClosedRegistrationNamesBoth(t *testing.T) {
	p := edgeA()
	p.InBandRegistration = false
	r := rating.Evaluate(p, ratedAt)
	b := r.Unmet(providers.CategoryB)
	if len(b) != 1 {
		t.Fatalf("unmet for B: %v", b)
	}
	s := b[0]
	if s.Rule != rating.RuleAnyOf || !slices.Equal(s.Fields(),
		[]providers.Field{providers.FieldInBandRegistration, providers.FieldRegistrationWebPage}) {
		t.Errorf("criterion %+v, want anyOf inBandRegistration, registrationWebPage", s.Criterion)
	}
	v, ok := s.Value.(map[providers.Field]any)
	if !ok || v[providers.FieldInBandRegistration] != false {
		t.Errorf("value %#v, want a map with inBandRegistration false", s.Value)
	}
	if !strings.Contains(s.Reason, "cannot be created") {
		t.Errorf("reason %q", s.Reason)
	}
}

func TestShortfallData(t *testing.T) {
	p := edgeA()
	p.UploadFileSize = 10
	p.UploadStorageTime = -1
	p.ComplianceTester = 95
	p.Since = providers.Date{Year: 2026, Month: 1, Day: 1}
	r := rating.Evaluate(p, ratedAt)
	byField := map[providers.Field]rating.Shortfall{}
	for _, s := range r.Unmet(providers.CategoryA) {
		byField[s.Field] = s
	}
	tests := []struct {
		field      providers.Field
		rule       rating.Rule
		value, thr any
		words      []string
	}{
		{providers.FieldUploadFileSize, rating.RuleAtLeast, providers.Megabytes(10), providers.Megabytes(20),
			[]string{"10 MB", "20 MB"}},
		{providers.FieldUploadStorageTime, rating.RuleAtLeast, providers.Days(-1), providers.Days(7),
			[]string{"unknown", "7 days"}},
		{providers.FieldComplianceTester, rating.RuleAtLeast, 95, 100, []string{"95 %", "100 %"}},
		{providers.FieldSince, rating.RuleMinAge, providers.Date{Year: 2026, Month: 1, Day: 1}, providers.Days(365),
			[]string{"2026-01-01", "202 days", "2027-01-01"}},
	}
	for _, tc := range tests {
		s, ok := byField[tc.field]
		if !ok {
			t.Errorf("%s: not reported", tc.field)
			continue
		}
		if s.Rule != tc.rule || s.Value != tc.value || s.Threshold != tc.thr {
			t.Errorf("%s: rule %s value %#v threshold %#v; want %s %#v %#v", tc.field, s.Rule, s.Value, s.Threshold,
				tc.rule, tc.value, tc.thr)
		}
		text := s.Reason + " " + s.Fix
		for _, w := range tc.words {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q lacks %q", tc.field, text, w)
			}
		}
		if s.String() != s.Reason || s.Fix == "" {
			t.Errorf("%s: String %q, Fix %q", tc.field, s.String(), s.Fix)
		}
	}
	if len(byField) != len(tests) {
		t.Errorf("reported %v, want %d shortfalls", fields(r.Unmet(providers.CategoryA)), len(tests))
	}
}

func TestResultJSON(t *testing.T) {
	p := edgeA()
	p.UploadFileSize = 19
	p.Category = providers.CategoryA
	r := rating.Evaluate(p, ratedAt)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		JID       string `json:"jid"`
		Date      string `json:"date"`
		Category  string `json:"category"`
		Published string `json:"published"`
		Verdicts  []struct {
			Category string `json:"category"`
			Met      bool   `json:"met"`
			Unmet    []struct {
				Field     string `json:"field"`
				Rule      string `json:"rule"`
				Value     any    `json:"value"`
				Threshold any    `json:"threshold"`
				Reason    string `json:"reason"`
				Fix       string `json:"fix"`
			} `json:"unmet"`
		} `json:"verdicts"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.JID != "edge.example" || got.Date != "2026-07-22" || got.Category != "C" || got.Published != "A" {
		t.Errorf("header %+v", got)
	}
	if len(got.Verdicts) != 3 || got.Verdicts[0].Category != "A" || got.Verdicts[2].Category != "C" || !got.Verdicts[2].Met {
		t.Fatalf("verdicts %+v", got.Verdicts)
	}
	u := got.Verdicts[0].Unmet
	if len(u) != 1 || u[0].Field != "maximumHttpFileUploadFileSize" || u[0].Rule != "atLeast" ||
		u[0].Value != 19.0 || u[0].Threshold != 20.0 || u[0].Reason == "" {
		t.Errorf("unmet %+v", u)
	}
	if r.Agrees() {
		t.Errorf("Agrees() true for computed C, published A")
	}
}

func TestResultNext(t *testing.T) {
	p := edgeA()
	r := rating.Evaluate(p, ratedAt)
	if c, s := r.Next(); c != "" || s != nil {
		t.Errorf("A: Next() = %s, %v", c, s)
	}
	p.FreeOfCharge = false
	r = rating.Evaluate(p, ratedAt)
	if c, s := r.Next(); c != providers.CategoryA || !slices.Equal(fields(s), []providers.Field{providers.FieldFreeOfCharge}) {
		t.Errorf("B: Next() = %s, %v", c, fields(s))
	}
	p.LegalNotice = nil
	r = rating.Evaluate(p, ratedAt)
	if c, s := r.Next(); c != providers.CategoryB || !slices.Equal(fields(s), []providers.Field{providers.FieldLegalNotice}) {
		t.Errorf("C: Next() = %s, %v", c, fields(s))
	}
	p.ComplianceTester = 0
	r = rating.Evaluate(p, ratedAt)
	if c, s := r.Next(); c != providers.CategoryC || !slices.Equal(fields(s), []providers.Field{providers.FieldComplianceTester}) {
		t.Errorf("D: Next() = %s, %v", c, fields(s))
	}
}

// TestEvaluateDateInLocation checks that the rating date is the calendar
// date in the location of the time given.
func TestEvaluateDateInLocation(t *testing.T) {
	p := edgeA()
	p.Since = providers.Date{Year: 2025, Month: 7, Day: 23} // 365 days before 2026-07-23
	late := time.Date(2026, 7, 22, 23, 30, 0, 0, time.UTC)
	if r := rating.Evaluate(p, late); r.Date.String() != "2026-07-22" || r.Category != providers.CategoryC {
		t.Errorf("UTC: date %v, category %s", r.Date, r.Category)
	}
	east := late.In(time.FixedZone("UTC+2", 2*3600))
	if r := rating.Evaluate(p, east); r.Date.String() != "2026-07-23" || r.Category != providers.CategoryA {
		t.Errorf("UTC+2: date %v, category %s", r.Date, r.Category)
	}
}

// TestEvaluateAgeLeapYear checks the age boundary across 29 February.
func TestEvaluateAgeLeapYear(t *testing.T) {
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	p := edgeA()
	p.Since = providers.Date{Year: 2023, Month: 3, Day: 2} // 365 days: 2024 is a leap year
	if r := rating.Evaluate(p, at); r.Category != providers.CategoryA {
		t.Errorf("365 days over a leap day: %s", describe(r))
	}
	p.Since = providers.Date{Year: 2023, Month: 3, Day: 3}
	if r := rating.Evaluate(p, at); r.Category != providers.CategoryC {
		t.Errorf("364 days over a leap day: %s", describe(r))
	}
}

func TestPolicyCustom(t *testing.T) {
	p := edgeA()
	p.CaptchaRequired = true
	p.ObservatoryC2S, p.ObservatoryS2S = "A", ""

	pol := rating.DefaultPolicy()
	pol.A.NoCaptcha = true
	if r := pol.Evaluate(p, ratedAt); r.Category != providers.CategoryB ||
		!slices.Equal(fields(r.Unmet(providers.CategoryA)), []providers.Field{providers.FieldCaptchaRequired}) {
		t.Errorf("NoCaptcha: %s", describe(r))
	}

	pol = rating.DefaultPolicy()
	pol.A.NoEmail = true
	p.EmailRequired = true
	if r := pol.Evaluate(p, ratedAt); r.Category != providers.CategoryB {
		t.Errorf("NoEmail: %s", describe(r))
	}

	pol = rating.DefaultPolicy()
	pol.A.ObservatoryGrade = "A"
	if r := pol.Evaluate(p, ratedAt); r.Category != providers.CategoryB ||
		!slices.Equal(fields(r.Unmet(providers.CategoryA)), []providers.Field{providers.FieldObservatoryS2S}) {
		t.Errorf("ObservatoryGrade: %s", describe(r))
	}

	pol = rating.DefaultPolicy()
	pol.A.MinBusFactor = 2
	for bf, want := range map[providers.BusFactor]providers.Category{-1: providers.CategoryB, 1: providers.CategoryB,
		2: providers.CategoryA, 3: providers.CategoryA} {
		p.BusFactor = bf
		if r := pol.Evaluate(p, ratedAt); r.Category != want {
			t.Errorf("MinBusFactor 2, bus factor %d: %s", bf, describe(r))
		}
	}

	// A looser policy: a short-lived provider is still A.
	p = edgeA()
	p.Since = providers.DateOf(ratedAt.AddDate(0, 0, -30))
	pol = rating.DefaultPolicy()
	pol.A.MinAge, pol.B.MinAge = 30, 30
	if r := pol.Evaluate(p, ratedAt); r.Category != providers.CategoryA {
		t.Errorf("MinAge 30: %s", describe(r))
	}
}

func TestPolicyZero(t *testing.T) {
	var pol rating.Policy
	r := pol.Evaluate(providers.New("nothing.example"), ratedAt)
	if r.Category != providers.CategoryA {
		t.Errorf("zero policy: %s", describe(r))
	}
	if c := (rating.Requirements{}).Criteria(); len(c) != 0 {
		t.Errorf("zero requirements have criteria %v", c)
	}
}

// TestBlankIsD checks that a record about which nothing is known lands in
// D, not in A: its sizes are unknown, not unlimited.
func TestBlankIsD(t *testing.T) {
	r := rating.Evaluate(providers.New("nothing.example"), ratedAt)
	if r.Category != providers.CategoryD {
		t.Fatalf("blank record: %s", describe(r))
	}
	want := []providers.Field{
		providers.FieldInBandRegistration, providers.FieldFreeOfCharge, providers.FieldComplianceTester,
		providers.FieldUploadFileSize, providers.FieldUploadTotalSize, providers.FieldUploadStorageTime,
		providers.FieldArchiveStorageTime, providers.FieldProfessionalHosting, providers.FieldLegalNotice,
		providers.FieldServerLocations, providers.FieldEmailSupport, providers.FieldSince,
	}
	if got := fields(r.Unmet(providers.CategoryA)); !slices.Equal(got, want) {
		t.Errorf("unmet for A:\n got %v\nwant %v", got, want)
	}
}

func TestCriteria(t *testing.T) {
	pol := rating.DefaultPolicy()
	a := pol.A.Criteria()
	b := pol.B.Criteria()
	c := pol.C.Criteria()
	if len(a) != 12 || len(b) != 11 || len(c) != 2 {
		t.Fatalf("criteria: A %d, B %d, C %d; want 12, 11, 2", len(a), len(b), len(c))
	}
	// Every criterion of a listing is exactly what Unmet reports for a
	// blank record.
	blank := pol.A.Unmet(providers.New("x.example"), ratedAt)
	for i := range a {
		if !reflect.DeepEqual(a[i], blank[i].Criterion) {
			t.Errorf("criterion %d: %+v vs %+v", i, a[i], blank[i].Criterion)
		}
		if a[i].String() == "" {
			t.Errorf("criterion %d has no description", i)
		}
	}
	if s := a[3].String(); s != "file upload limit per file: at least 20 MB or no limit" {
		t.Errorf("description %q", s)
	}
	if req, ok := pol.Requirements(providers.CategoryD); ok || len(req.Criteria()) != 0 {
		t.Errorf("D has requirements")
	}
	if req, ok := pol.Requirements(providers.CategoryB); !ok || !reflect.DeepEqual(req, pol.B) {
		t.Errorf("Requirements(B) = %+v, %v", req, ok)
	}
}
