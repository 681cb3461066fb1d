package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providers"
)

// tr is the catalogue's text of key in the language code ("en", "de",
// "fr"), for the tests' expectations.
func tr(code, key string, args ...any) string {
	for i, t := range languages {
		if b, _ := t.Base(); b.String() == code {
			return lang{i}.T(key, args...)
		}
	}
	panic("no language " + code)
}

// TestPickLang: the page language is the best match of Accept-Language
// with its q-values, English if nothing matches.
func TestPickLang(t *testing.T) {
	for h, want := range map[string]string{
		"":                                 "en",
		"de":                               "de",
		"de-AT,de;q=0.9,en;q=0.8":          "de",
		"fr-CA":                            "fr",
		"en;q=0.5,fr;q=0.9":                "fr",
		"es,de;q=0.7,fr;q=0.6":             "de",
		"ja":                               "en",
		"*":                                "en",
		"gsw-CH":                           "de", // Swiss German is understood as German
		"nonsense;;q=x":                    "en",
		"pt-BR,pt;q=0.9,fr;q=0.2,de;q=0.1": "fr",
	} {
		if got := pickLang(h).Code(); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", h, got, want)
		}
	}
}

// verbsRE finds the fmt verbs of a message.
var verbsRE = regexp.MustCompile(`%(\[\d\])?[sdv]`)

// TestCatalogue: every message has all its translations, with the same
// arguments; every key the templates and the Go code name is in the
// catalogue, and every entry is used.
func TestCatalogue(t *testing.T) {
	countVerbs := func(s string) []string {
		var out []string
		n := 0
		for _, m := range verbsRE.FindAllStringSubmatch(s, -1) {
			n++
			idx := m[1]
			if idx == "" {
				idx = fmt.Sprintf("[%d]", n)
			}
			out = append(out, idx+m[0][len(m[0])-1:])
		}
		slices.Sort(out)
		return out
	}
	for k, m := range catalogue {
		for i, s := range m {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s text", k, languages[i])
			}
			if got, want := countVerbs(s), countVerbs(m[0]); !slices.Equal(got, want) {
				t.Errorf("%s: %s has arguments %v, English %v", k, languages[i], got, want)
			}
		}
	}
	used := map[string]bool{}
	keyRE := regexp.MustCompile(`"([a-z0-9]+\.[a-zA-Z0-9.]+)"`)
	for _, f := range []string{"page.html", "app.go", "pending.go", "apps.go", "i18n.go"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(data), -1) {
			k := m[1]
			if strings.HasSuffix(k, ".go") || strings.HasSuffix(k, ".html") || strings.HasSuffix(k, ".css") || strings.HasSuffix(k, ".js") || strings.Contains(k, "example") {
				continue
			}
			used[k] = true
			if _, ok := catalogue[k]; !ok {
				t.Errorf("%s names %q, which the catalogue lacks", f, k)
			}
		}
	}
	for k := range catalogue {
		if !used[k] {
			t.Errorf("catalogue entry %q is not used", k)
		}
	}
}

// TestTemplatesHaveNoText: page.html writes no text of its own: with
// the template actions and the tags taken out, only spaces and
// punctuation are left, and no attribute a user reads (alt, title,
// placeholder, aria-label) holds a literal.
func TestTemplatesHaveNoText(t *testing.T) {
	data, err := os.ReadFile("page.html")
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?s)\{\{.*?\}\}`).ReplaceAllString(string(data), "")
	for _, m := range regexp.MustCompile(`(?i)\s(alt|title|placeholder|aria-label)="([^"]*)"`).FindAllStringSubmatch(s, -1) {
		if strings.TrimSpace(m[2]) != "" {
			t.Errorf("attribute %s=%q is text in the template", m[1], m[2])
		}
	}
	s = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(s, " ")
	if rest := regexp.MustCompile(`[\s·:()@,.]+`).ReplaceAllString(s, ""); rest != "" {
		t.Errorf("text in the template: %q", rest)
	}
}

// TestLocalizedFacts: sizes, times and countries in each language.
func TestLocalizedFacts(t *testing.T) {
	de, fr := lang{1}, lang{2}
	if got := de.Countries([]string{"de", "at"}); got != "Deutschland, Österreich" {
		t.Errorf("German countries: %q", got)
	}
	if got := fr.Countries([]string{"de", "xx!"}); got != "Allemagne, XX!" {
		t.Errorf("French countries: %q", got)
	}
	if got := fr.Size(providers.Megabytes(100)); got != "100 Mo" {
		t.Errorf("French size: %q", got)
	}
	if got := de.Days(providers.Days(0)); got != "unbegrenzt" {
		t.Errorf("German unlimited: %q", got)
	}
	if got := de.T("fact.upload.kept", providers.Megabytes(50), providers.Days(7)); got != "Dateien bis 50 MB, gespeichert 7 Tage" {
		t.Errorf("German upload: %q", got)
	}
	if got := (lang{}).T("fact.support", texts{msg("fact.support.email"), msg("fact.support.chat")}); got != "Help: by e-mail, by chat" {
		t.Errorf("support: %q", got)
	}
}

// TestRecommendedApps: every app link is https (netguard.HTTPSLink).
func TestRecommendedApps(t *testing.T) {
	n := 0
	for _, p := range recommendedApps() {
		if _, ok := catalogue[p.Platform]; !ok {
			t.Errorf("platform %q not in the catalogue", p.Platform)
		}
		for _, a := range p.Apps {
			n++
			if httpsLink(a.URL) != a.URL {
				t.Errorf("%s: %q is not an https link", a.Name, a.URL)
			}
		}
	}
	if n < 6 {
		t.Errorf("%d apps", n)
	}
}
