package providers

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// rawMatch evaluates a filter on the raw JSON of the snapshot, independently
// of the typed view, so that Filter is checked against the data itself.
func TestFilterAgainstRaw(t *testing.T) {
	for _, file := range snapshots(t, "providers-B.v2.*.json") {
		l := decodeFile(t, file)
		raw := rawEntries(t, file)
		hasKey := func(m any, k string) bool { _, ok := m.(map[string]any)[k]; return ok }
		cases := []struct {
			name string
			q    Query
			raw  func(r map[string]any) bool
		}{
			{"A", Query{Categories: []Category{CategoryA}}, func(r map[string]any) bool { return r["category"] == "A" }},
			{"ibr", Query{InBandRegistration: true}, func(r map[string]any) bool { return r["inBandRegistration"] == true }},
			{"no captcha no email", Query{InBandRegistration: true, NoCaptcha: true, NoEmail: true}, func(r map[string]any) bool {
				return r["inBandRegistration"] == true && r["inBandRegistrationCaptchaRequired"] == false && r["inBandRegistrationEmailAddressRequired"] == false
			}},
			{"free", Query{FreeOfCharge: true}, func(r map[string]any) bool { return r["freeOfCharge"] == true }},
			{"country de", Query{Countries: []string{"DE"}}, func(r map[string]any) bool {
				return slices.Contains(r["serverLocations"].([]any), any("de"))
			}},
			{"language fr", Query{Languages: []string{"fr-CA"}}, func(r map[string]any) bool {
				for _, k := range []string{"website", "legalNotice", "emailSupport", "chatSupport", "groupChatSupport"} {
					if hasKey(r[k], "fr") {
						return true
					}
				}
				return false
			}},
			{"upload >= 100", Query{MinUploadFileSize: 100}, func(r map[string]any) bool {
				v := r["maximumHttpFileUploadFileSize"].(float64)
				return v == 0 || v >= 100
			}},
			{"archive >= 30", Query{MinArchiveTime: 30}, func(r map[string]any) bool {
				v := r["maximumMessageArchiveManagementStorageTime"].(float64)
				return v == 0 || v >= 30
			}},
			{"predicate", Query{Match: func(p *Provider) bool { return p.BusFactor.Known() }}, func(r map[string]any) bool {
				return r["busFactor"].(float64) > 0
			}},
			{"exclude", Query{Exclude: []string{"07F.de."}}, func(r map[string]any) bool { return r["jid"] != "07f.de" }},
		}
		for _, c := range cases {
			got := l.Filter(c.q).Domains()
			var want []string
			for _, r := range raw {
				if c.raw(r) {
					want = append(want, r["jid"].(string))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: Filter = %v, raw data says %v", file, c.name, got, want)
			}
			if len(want) == 0 || len(want) == len(raw) {
				t.Logf("%s %s: filter selects %d of %d (weak case)", file, c.name, len(want), len(raw))
			}
		}
	}
}

func TestFilterDoesNotAlias(t *testing.T) {
	l := Embedded()
	f := l.Filter(Query{})
	f.Providers[0].Website["en"] = "x"
	if l.Providers[0].Website["en"] == "x" {
		t.Fatal("Filter result shares maps with the list")
	}
}

func TestPickFair(t *testing.T) {
	l := Embedded()
	q := Query{Categories: []Category{CategoryA}, InBandRegistration: true, FreeOfCharge: true}
	want := l.Filter(q).Domains()
	if len(want) < 3 {
		t.Fatalf("only %d A providers with IBR in the snapshot", len(want))
	}
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	const n = 20000
	for range n {
		p, err := l.Pick(r, q)
		if err != nil {
			t.Fatal(err)
		}
		counts[p.JID]++
	}
	if len(counts) != len(want) {
		t.Fatalf("picked %d distinct providers, want all %d: %v", len(counts), len(want), counts)
	}
	// Chi-square against the uniform distribution; with a fixed seed the
	// result is deterministic, and 3x the critical value at p=0.001 only
	// catches a real bias (such as "always the first").
	exp := float64(n) / float64(len(want))
	chi := 0.0
	for _, d := range want {
		diff := float64(counts[d]) - exp
		chi += diff * diff / exp
	}
	if chi > 3*45.0 {
		t.Fatalf("pick is not uniform: chi² = %.1f over %d providers: %v", chi, len(want), counts)
	}
}

func TestPickBestCategory(t *testing.T) {
	l := Embedded()
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		p, err := l.Pick(r, Query{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Category != CategoryA {
			t.Fatalf("picked %s (%s) though A providers match", p.JID, p.Category)
		}
	}
	// Without IBR only B providers remain.
	p, err := l.Pick(r, Query{Match: func(p *Provider) bool { return !p.InBandRegistration }})
	if err != nil || p.Category != CategoryB {
		t.Fatalf("got %v %v, want a B provider", p.JID, err)
	}
}

func TestPickPreference(t *testing.T) {
	l := Embedded()
	base := Query{Categories: []Category{CategoryA}, InBandRegistration: true}
	all := l.Filter(base)
	// Count A providers per country, from the data.
	byCountry := map[string]int{}
	for _, p := range all.Providers {
		for _, c := range p.ServerLocations {
			byCountry[c]++
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for country, n := range byCountry {
		q := base
		q.Prefer = Preference{Country: country}
		cands := l.Candidates(q)
		if n >= 2 {
			for _, p := range cands {
				if !p.InCountry(country) {
					t.Errorf("country %s (%d providers): candidate %s is elsewhere", country, n, p.JID)
				}
			}
			if len(cands) != n {
				t.Errorf("country %s: %d candidates, want %d", country, len(cands), n)
			}
		} else if len(cands) != all.Len() {
			t.Errorf("country %s has %d provider(s): want the fallback to all %d, got %d", country, n, all.Len(), len(cands))
		}
		p, err := l.Pick(r, q)
		if err != nil || !slices.ContainsFunc(cands, func(c Provider) bool { return c.JID == p.JID }) {
			t.Errorf("Pick chose %s outside the candidates (%v)", p.JID, err)
		}
	}
	// A language nobody offers falls back to all.
	q := base
	q.Prefer = Preference{Language: "tlh", Country: "aq"}
	if got := len(l.Candidates(q)); got != all.Len() {
		t.Errorf("unmatched preference: %d candidates, want %d", got, all.Len())
	}
}

func TestPickNoMatch(t *testing.T) {
	l := Embedded()
	_, err := l.Pick(nil, Query{Countries: []string{"aq"}})
	var nm *NoMatchError
	if !errors.Is(err, ErrNoMatch) || !errors.As(err, &nm) || nm.Considered != l.Len() {
		t.Fatalf("err = %v, want a NoMatchError over %d providers", err, l.Len())
	}
	if _, err := (List{}).Pick(nil, Query{}); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("empty list: %v", err)
	}
}

func TestSentinels(t *testing.T) {
	cases := []struct {
		m                Megabytes
		unl, known, at20 bool
		str              string
	}{
		{0, true, true, true, "unlimited"},
		{-1, false, false, false, "unknown"},
		{19, false, true, false, "19 MB"},
		{20, false, true, true, "20 MB"},
	}
	for _, c := range cases {
		if c.m.Unlimited() != c.unl || c.m.Known() != c.known || c.m.AtLeast(20) != c.at20 || c.m.String() != c.str {
			t.Errorf("%d: got %v %v %v %q", c.m, c.m.Unlimited(), c.m.Known(), c.m.AtLeast(20), c.m.String())
		}
	}
	if MegabytesFromBytes(100<<20) != 104 || MegabytesFromBytes(999_999) != Unknown || MegabytesFromBytes(5<<30) != 5368 {
		t.Error("MegabytesFromBytes does not match the published rounding")
	}
	if d := Days(7); !d.AtLeast(7) || d.AtLeast(8) || !Days(0).AtLeast(365) || Days(-1).AtLeast(1) {
		t.Error("Days.AtLeast")
	}
	if dur, ok := Days(2).Duration(); !ok || dur.Hours() != 48 {
		t.Error("Days.Duration")
	}
}

func TestLocalizedPick(t *testing.T) {
	l := Localized{"de": "d", "fr": "f", "en": "e"}
	for _, c := range []struct {
		langs []string
		want  string
	}{
		{[]string{"de-AT"}, "d"}, {[]string{"pt_BR.UTF-8", "fr"}, "f"}, {[]string{"it"}, "e"}, {nil, "e"},
	} {
		if v, _, _ := l.Pick(c.langs...); v != c.want {
			t.Errorf("Pick(%v) = %q, want %q", c.langs, v, c.want)
		}
	}
	if v, lang, _ := (Localized{"nl": "n", "bg": "b"}).Pick("it"); v != "b" || lang != "bg" {
		t.Errorf("no en: got %q %q, want the smallest code", v, lang)
	}
	if _, _, ok := (Localized{}).Pick("en"); ok {
		t.Error("empty map picked something")
	}
}

func TestDateArithmetic(t *testing.T) {
	a, _ := ParseDate("0001-01-01")
	b, _ := ParseDate("2026-07-22")
	if n := a.DaysUntil(b); n != 739818 {
		t.Errorf("DaysUntil over 2000 years = %d, want 739818", n)
	}
	if got := b.AddDays(-365).String(); got != "2025-07-22" {
		t.Errorf("AddDays(-365) = %s", got)
	}
	leap, _ := ParseDate("2024-02-28")
	if got := leap.AddDays(1).String(); got != "2024-02-29" || leap.DaysUntil(leap.AddDays(366)) != 366 {
		t.Errorf("leap year: %s", got)
	}
}

func TestCopyFieldCoversEveryField(t *testing.T) {
	src := Embedded().Providers[0]
	src.Category = CategoryC
	for _, f := range Fields() {
		dst := New("")
		if !dst.CopyField(f, &src) {
			t.Errorf("CopyField does not know %s", f)
			continue
		}
		if !reflectEqual(dst.Value(f), src.Value(f)) {
			t.Errorf("%s: copied %v, source %v", f, dst.Value(f), src.Value(f))
		}
	}
	if (&Provider{}).CopyField("nope", &src) {
		t.Error("CopyField accepted an unknown field")
	}
}

func reflectEqual(a, b any) bool { return reflect.DeepEqual(a, b) }
