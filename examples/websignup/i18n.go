package main

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/xmpp-onboard/onboard/providers"
)

// The pages are in the browser's language: the best match of its
// Accept-Language header (with q-values) among the languages of the
// catalogue (messages.go), by golang.org/x/text/language's matcher;
// English when nothing matches. Every text a page shows comes from the
// catalogue: the templates only name keys.

// languages are the catalogue's languages, in the order of the
// translations of each message; the first is the fallback.
var languages = []language.Tag{language.English, language.German, language.French}

// dictionaries name countries in each of the languages.
var dictionaries = []*display.Dictionary{display.English, display.German, display.French}

// matcher picks one of the languages for an Accept-Language header.
var matcher = language.NewMatcher(languages)

// lang is the language of one page: an index into the catalogue.
type lang struct{ i int }

// pickLang returns the catalogue language that best matches the
// Accept-Language header h (English if none does).
func pickLang(h string) lang {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return lang{}
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return lang{}
	}
	return lang{i}
}

// Code is the BCP 47 code of the language, for <html lang>.
func (l lang) Code() string {
	b, _ := languages[l.i].Base()
	return b.String()
}

// T returns the message key in the language, formatted with args (see
// [text] for how an argument is shown). An unknown key shows as itself
// (TestCatalogue makes sure none is).
func (l lang) T(key string, args ...any) string {
	m, ok := catalogue[key]
	if !ok {
		return key
	}
	s := m[l.i]
	if len(args) == 0 {
		return s
	}
	shown := make([]any, len(args))
	for i, a := range args {
		shown[i] = l.arg(a)
	}
	return fmt.Sprintf(s, shown...)
}

// arg is an argument of a message as shown in the language.
func (l lang) arg(a any) any {
	switch a := a.(type) {
	case text, *text:
		return l.Text(a)
	case countries:
		return l.Countries(a)
	case texts:
		shown := make([]string, len(a))
		for i, t := range a {
			shown[i] = l.Text(t)
		}
		return strings.Join(shown, ", ")
	case providers.Megabytes:
		return l.Size(a)
	case providers.Days:
		return l.Days(a)
	}
	return a
}

// Text returns a message (a text or *text; nil and the zero text are
// "") with its arguments in the language.
func (l lang) Text(t any) string {
	switch t := t.(type) {
	case text:
		if t.Key == "" {
			return ""
		}
		return l.T(t.Key, t.Args...)
	case *text:
		if t == nil {
			return ""
		}
		return l.Text(*t)
	}
	return ""
}

// Size shows an upload limit: "100 MB", "no limit".
func (l lang) Size(m providers.Megabytes) string {
	switch {
	case m.Unlimited():
		return l.T("size.unlimited")
	case !m.Known():
		return l.T("size.unknown")
	}
	return l.T("size.mb", strconv.FormatInt(int64(m), 10))
}

// Days shows a retention time: "30 days", "no limit".
func (l lang) Days(d providers.Days) string {
	switch {
	case d.Unlimited():
		return l.T("days.unlimited")
	case !d.Known():
		return l.T("size.unknown")
	case d == 1:
		return l.T("days.one")
	}
	return l.T("days.n", strconv.Itoa(int(d)))
}

// Countries names the countries of ISO 3166-1 alpha-2 codes, joined by
// commas; a code that is not a region shows as itself in upper case.
func (l lang) Countries(codes []string) string {
	var names []string
	for _, c := range codes {
		name := strings.ToUpper(c)
		if r, err := language.ParseRegion(c); err == nil {
			if n := dictionaries[l.i].Regions().Name(r); n != "" {
				name = n
			}
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}

// countries are ISO 3166-1 alpha-2 codes, an argument of a message
// shown by Countries.
type countries []string

// texts are messages shown joined by commas.
type texts []text

// text is a message key with its arguments, to be shown in the language
// of the page that shows it (a sign-up started in one language may be
// looked at in another). An argument that is a text is shown in the same
// language; providers.Megabytes and providers.Days are shown by Size and
// Days; anything else as with %v.
type text struct {
	Key  string
	Args []any
}

// msg returns the text of key with args.
func msg(key string, args ...any) text { return text{Key: key, Args: args} }

// acceptLanguage returns the language and country the browser prefers
// most (highest q-value, the first of equals) from an Accept-Language
// header ("de-AT,de;q=0.9": "de", "at"), for onboard.Signup's Language
// and Country: the providers' own pages may be in a language that the
// catalogue lacks. "" when the header names none.
func acceptLanguage(h string) (lang, country string) {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return "", ""
	}
	t := tags[0]
	b, conf := t.Base()
	lang = strings.ToLower(b.String())
	if conf == language.No || lang == "und" || lang == "mul" {
		return "", ""
	}
	if len(lang) < 2 || len(lang) > 3 || !letters(lang) {
		return "", ""
	}
	if r, conf := t.Region(); conf == language.Exact {
		country = strings.ToLower(r.String())
		if len(country) != 2 || !letters(country) {
			country = ""
		}
	}
	return lang, country
}

// letters reports whether s is made of the letters a to z only.
func letters(s string) bool {
	for _, c := range []byte(s) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
