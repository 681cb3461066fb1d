package providers

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// List is a set of providers as read from one published file.
type List struct {
	// Format is the shape the list was read from.
	Format Format
	// Published is the list's publication date when known (the embedded
	// snapshot has one; Decode cannot know it).
	Published Date
	// Providers in the order of the input.
	Providers []Provider
	// Dropped lists the links Decode left out because they are not https
	// links an app may open (see Decoder.Decode): one *DecodeError per
	// link, naming the provider and field and matching ErrInsecureLink.
	// The links themselves are not kept.
	Dropped []*DecodeError
}

// Len returns the number of providers.
func (l List) Len() int { return len(l.Providers) }

// Clone returns a deep copy, so that changes to it are not seen by others.
func (l List) Clone() List {
	c := l
	c.Dropped = slices.Clone(l.Dropped)
	c.Providers = slices.Clone(l.Providers)
	for i := range c.Providers {
		c.Providers[i].deepen()
	}
	return c
}

// Domains returns the main domain of every provider, in list order.
func (l List) Domains() []string {
	out := make([]string, len(l.Providers))
	for i, p := range l.Providers {
		out[i] = p.JID
	}
	return out
}

// Lookup finds a provider by its main or an alternative domain, ignoring case
// and a trailing dot. It returns a copy.
func (l List) Lookup(domain string) (Provider, bool) {
	domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if domain == "" {
		return Provider{}, false
	}
	for _, p := range l.Providers {
		if strings.ToLower(p.JID) == domain {
			return p.Clone(), true
		}
	}
	for _, p := range l.Providers {
		for _, a := range p.AlternativeJIDs {
			if strings.ToLower(a) == domain {
				return p.Clone(), true
			}
		}
	}
	return Provider{}, false
}

// Query selects providers. Every set field is a requirement that a provider
// must meet; the zero Query matches every provider.
type Query struct {
	// Categories keeps providers in one of these categories.
	Categories []Category
	// InBandRegistration keeps providers where apps can register (XEP-0077).
	InBandRegistration bool
	// NoCaptcha keeps providers whose registration needs no CAPTCHA.
	NoCaptcha bool
	// NoEmail keeps providers whose registration needs no e-mail address.
	NoEmail bool
	// FreeOfCharge keeps providers that are free to use.
	FreeOfCharge bool
	// Languages keeps providers that publish a website, legal notice or
	// support address in at least one of these languages (see
	// Provider.HasLanguage).
	Languages []string
	// Countries keeps providers with a server in at least one of these
	// countries (ISO 3166-1 alpha-2).
	Countries []string
	// MinUploadFileSize keeps providers whose per-file upload limit is at
	// least this many MB; unlimited passes, unknown fails.
	MinUploadFileSize Megabytes
	// MinArchiveTime keeps providers that keep the message archive at least
	// this many days; unlimited passes, unknown fails.
	MinArchiveTime Days
	// Exclude drops these domains (for example providers that already
	// failed).
	Exclude []string
	// Match, if set, must also return true.
	Match func(*Provider) bool

	// Prefer does not filter; Pick uses it to favour providers that suit the
	// user.
	Prefer Preference
}

// Preference tells Pick which providers suit the user best.
type Preference struct {
	// Language is the user's language (ISO 639-1, or a tag such as "de-AT").
	Language string
	// Country is the user's country (ISO 3166-1 alpha-2).
	Country string
	// Min is how many providers must match a preference for Pick to restrict
	// itself to them; fewer and Pick falls back to a wider set. Zero means 2,
	// so that the choice never narrows to a single provider by preference.
	Min int
}

// Matches reports whether p meets every requirement of q.
func (q *Query) Matches(p *Provider) bool {
	if len(q.Categories) > 0 && !slices.Contains(q.Categories, p.Category) {
		return false
	}
	if q.InBandRegistration && !p.InBandRegistration {
		return false
	}
	if q.NoCaptcha && p.CaptchaRequired {
		return false
	}
	if q.NoEmail && p.EmailRequired {
		return false
	}
	if q.FreeOfCharge && !p.FreeOfCharge {
		return false
	}
	if len(q.Languages) > 0 && !slices.ContainsFunc(q.Languages, p.HasLanguage) {
		return false
	}
	if len(q.Countries) > 0 && !slices.ContainsFunc(q.Countries, p.InCountry) {
		return false
	}
	if !p.UploadFileSize.AtLeast(q.MinUploadFileSize) {
		return false
	}
	if !p.ArchiveStorageTime.AtLeast(q.MinArchiveTime) {
		return false
	}
	for _, d := range q.Exclude {
		if strings.EqualFold(strings.TrimSuffix(d, "."), p.JID) {
			return false
		}
	}
	if q.Match != nil && !q.Match(p) {
		return false
	}
	return true
}

// Filter returns the providers that match q, in list order, as a new List
// that shares nothing with l.
func (l List) Filter(q Query) List {
	out := List{Format: l.Format, Published: l.Published}
	for i := range l.Providers {
		if q.Matches(&l.Providers[i]) {
			out.Providers = append(out.Providers, l.Providers[i])
			out.Providers[len(out.Providers)-1].deepen()
		}
	}
	return out
}

// ErrNoMatch is matched by the error Pick returns when no provider fits.
var ErrNoMatch = errors.New("providers: no provider matches")

// NoMatchError is returned by Pick when no provider meets the query.
type NoMatchError struct {
	// Considered is the number of providers in the list.
	Considered int
}

// Error implements error.
func (e *NoMatchError) Error() string {
	return fmt.Sprintf("providers: none of %d providers matches the query", e.Considered)
}

// Is makes errors.Is(err, ErrNoMatch) true.
func (e *NoMatchError) Is(target error) bool { return target == ErrNoMatch }

// Pick chooses a provider at random, fairly, so that newcomers spread over
// many providers instead of crowding the first one of the list.
//
// It takes the providers matching q, keeps those of the best category among
// them (A before B before C before D; a provider with an unknown category
// comes last), then narrows to those that suit q.Prefer: language and country
// together, else the language (so the user can read the provider's pages),
// else the country — each only if at least
// Prefer.Min providers match it. Every remaining provider is equally likely.
// r supplies the randomness; nil uses a randomly seeded generator. It returns
// a copy, or a *NoMatchError when nothing matches.
func (l List) Pick(r *rand.Rand, q Query) (Provider, error) {
	cands := l.Candidates(q)
	if len(cands) == 0 {
		return Provider{}, &NoMatchError{Considered: len(l.Providers)}
	}
	var i int
	if r == nil {
		i = rand.IntN(len(cands))
	} else {
		i = r.IntN(len(cands))
	}
	return cands[i].Clone(), nil
}

// Candidates returns the providers Pick chooses among, in list order: the
// matches of q in their best category, narrowed by q.Prefer as Pick
// describes. The result aliases l's records; clone before changing them.
func (l List) Candidates(q Query) []Provider {
	var best []Provider
	bestCat := Category("?")
	for i := range l.Providers {
		p := &l.Providers[i]
		if !q.Matches(p) {
			continue
		}
		switch {
		case len(best) == 0 || p.Category.Better(bestCat):
			best = append(best[:0], *p)
			bestCat = p.Category
		case p.Category == bestCat:
			best = append(best, *p)
		}
	}
	min := q.Prefer.Min
	if min <= 0 {
		min = 2
	}
	lang, country := q.Prefer.Language, q.Prefer.Country
	try := func(f func(*Provider) bool) []Provider {
		var out []Provider
		for i := range best {
			if f(&best[i]) {
				out = append(out, best[i])
			}
		}
		if len(out) >= min {
			return out
		}
		return nil
	}
	if lang != "" && country != "" {
		if c := try(func(p *Provider) bool { return p.HasLanguage(lang) && p.InCountry(country) }); c != nil {
			return c
		}
	}
	if lang != "" {
		if c := try(func(p *Provider) bool { return p.HasLanguage(lang) }); c != nil {
			return c
		}
	}
	if country != "" {
		if c := try(func(p *Provider) bool { return p.InCountry(country) }); c != nil {
			return c
		}
	}
	return best
}
