// Package providers reads and queries the XMPP Providers list: which public
// XMPP services exist, how good they are, and whether a newcomer can sign up
// there from an app.
//
// The list is published by the XMPP Providers project at
// https://data.xmpp.net/providers/v2/ under CC0. This package ships a
// snapshot of it (see [Embedded]), so a program works offline and on first
// start, and can refresh it over HTTPS with an [Updater].
//
// # Records
//
// A [Provider] is one service, with one Go field per key of the API v2 data.
// The types carry the units and sentinels so that callers need not remember
// them: upload sizes are [Megabytes] (10^6 bytes) and retention times are
// [Days], where 0 means "no limit" and -1 "unknown or below one unit";
// ask with Unlimited, Known and AtLeast instead of comparing numbers.
// Per-language values are [Localized] maps with a Pick method that takes the
// user's language, then English, then any. Dates are [Date] values and
// categories, organizations and property names are named types ([Category],
// [Organization], [Field]).
//
// Programs that treat properties generically (a report, a rating, a
// merge of sources) go by [Field]: [Describe] says what a property is (a
// label for people, its [Kind], whether it is a link or published in the
// operator's provider file), [Provider.Value] and [Provider.Typed] read it
// in its JSON form or with its Go type, [Provider.UnmarshalField] sets it
// from JSON and [Provider.CopyField] copies it. All of them, and Decode and
// MarshalJSON, go by one table of the 31 properties, so a new key of the
// format is one new entry there.
//
// # Reading lists
//
// [Decode] reads every published shape and reports which one it saw in
// [List.Format]: the filtered lists (providers-A.json … providers-D.json,
// arrays of flat records; the lists are cumulative, so providers-B.json holds
// A and B), the full providers.json (an object keyed by domain whose values
// carry the source of each property, kept in [Provider.Sources]), the simple
// lists of domains (providers-As.json …) and the old API v1 lists. Input is
// capped in size, read by the module's strict JSON reader
// (internal/jsonstrict: duplicate keys, invalid UTF-8, trailing data and
// deep nesting are errors), and every error names the provider and field
// it is about:
//
//	l, err := providers.Decode(resp.Body)
//	var de *providers.DecodeError
//	if errors.As(err, &de) {
//		log.Printf("bad entry %q, field %s: %v", de.Provider, de.Field, de.Err)
//	}
//
// A list comes from the network, so Decode treats it as hostile: no string
// may carry a control or bidi character ([ErrUnsafeText]; ESC, CR or U+202E
// in a domain, a URL or a software name would rewrite what a terminal or a
// log shows), whatever the field. Ordinary Unicode stays. Links (website,
// password reset, registration page, legal notice, property sources) must
// be https links that internal/netguard's HTTPSLink accepts; one that is not
// is left out of the record, the provider stays, and [List.Dropped] says
// what was left out.
//
// # Choosing a provider
//
// [List.Filter] keeps the providers that meet a [Query]: categories,
// in-band registration, no CAPTCHA, no e-mail, free of charge, languages,
// countries, minimum upload size or archive time, or any predicate.
// [List.Pick] chooses one at random among the best category that matches,
// favouring the user's language and country when enough providers offer
// them. The choice is uniform on purpose: a client that always suggests the
// first provider of the list overloads it and defeats the point of a
// federated network.
//
//	l := providers.Embedded()
//	p, err := l.Pick(nil, providers.Query{
//		Categories:         []providers.Category{providers.CategoryA},
//		InBandRegistration: true,
//		Prefer:             providers.Preference{Language: "de", Country: "de"},
//	})
//
// # Keeping the list fresh
//
// An [Updater] downloads providers-B.json, keeps a copy in a cache directory,
// revalidates it with ETag and If-Modified-Since, and falls back to the cache
// and then to the embedded snapshot when the network fails. Its result says
// which of the three was used. It fetches over https only, refuses redirects
// to anything else ([ErrNotHTTPS]), and trusts a cache only in a directory
// that no other user can write to ([ErrUntrustedCache]).
package providers
