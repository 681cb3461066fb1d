package providerfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/jsonstrict"
	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
)

// DefaultMaxBytes is the size a provider file may have unless a Validator
// says otherwise: 1 MiB, some thousand times a real one.
const DefaultMaxBytes = 1 << 20

// Path is where an operator publishes the provider file, on the XMPP
// domain (not the website's): https://<domain>/.well-known/xmpp-provider-v2.json.
const Path = "/.well-known/xmpp-provider-v2.json"

// URL returns the address of the provider file of an XMPP domain.
func URL(domain string) string { return "https://" + domain + Path }

// Limits of a report, so that a hostile file of a megabyte cannot make
// one of a hundred thousand problems.
const (
	// maxIgnoredKeys is how many keys that are not among the 14 are
	// named; the others are counted in one problem.
	maxIgnoredKeys = 8
	// maxKeyLen clips the name of an ignored key.
	maxKeyLen = 64
	// maxPerKey is how many problems one key may have; the others are
	// counted in one problem.
	maxPerKey = 8
)

// Validator checks provider files. Its zero value is ready to use.
type Validator struct {
	// MaxBytes caps the input size; 0 means DefaultMaxBytes.
	MaxBytes int64
	// At is the date used to reject a "since" in the future; the zero
	// time means the current date.
	At time.Time
	// Domain is the XMPP domain the file belongs to, if known. It becomes
	// the JID of the returned record, and an alternativeJids entry equal
	// to it gives a warning.
	Domain string
}

// Validate checks an operator's provider file with the zero Validator; see
// Validator.Validate.
func Validate(r io.Reader) (providers.Provider, Report, error) {
	var v Validator
	return v.Validate(r)
}

// File is a provider file as Parse read it.
type File struct {
	// Provider holds the values of the keys in Fields; every other
	// property is unknown (providers.New), and its JID is the
	// validator's Domain.
	Provider providers.Provider
	// Fields are the keys whose value was read, in the format's order
	// (providers.ProviderFileFields): every key present without an error,
	// and a duplicated key, whose first value is read.
	Fields []providers.Field
	// Report lists the problems.
	Report Report
}

// Validate reads a provider file (API v2) from r, at most MaxBytes of it,
// and checks it as Parse does. If the Report has errors, the error is a
// *FileError listing them (matching ErrInvalid; ErrTooLarge too for input
// over MaxBytes), and the record holds only the values that were valid.
// An error reading r is returned as is, wrapped.
//
// Validate does no I/O but reading r, at most MaxBytes+1 bytes of it; bound
// the time it takes with r (for example with the timeout of the HTTP client
// that fetched the file).
func (v Validator) Validate(r io.Reader) (providers.Provider, Report, error) {
	max := v.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	data, err := jsonstrict.ReadAll(r, max)
	if err != nil {
		if !errors.Is(err, jsonstrict.ErrTooLarge) {
			return providers.New(v.Domain), Report{}, fmt.Errorf("providerfile: reading provider file: %w", err)
		}
		c := v.checker()
		rep, err := c.fatal(fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max), "")
		return c.p, rep, err
	}
	f := v.Parse(data)
	if errs := f.Report.Errors(); len(errs) > 0 {
		var cause error
		if len(errs) == 1 && errs[0].Field == "" {
			cause = errs[0].Err
		}
		return f.Provider, f.Report, &FileError{Problems: errs, Err: cause}
	}
	return f.Provider, f.Report, nil
}

// Parse checks data, a provider file (/.well-known/xmpp-provider-v2.json,
// API v2), key by key, and returns the values it could read and a report
// of the problems, each naming its key. It never stops at the first
// problem. The rules:
//
// Errors: data that is not one JSON object under the rules of
// internal/jsonstrict (invalid UTF-8, nesting, trailing data), missing
// keys, duplicate keys, wrong types (null included), non-integer numbers,
// values below -1, unknown organization kinds, malformed language or
// country codes, links that are not http(s) links to a public host (no
// user information, no control or bidi characters; see
// internal/netguard), invalid domains, malformed dates, a "since" after
// the validator's date, and control or bidi characters in any string.
//
// Warnings: keys that are not among the 14 (unknown keys, API v1 keys,
// list keys that XMPP Providers gathers itself; they are ignored), sizes
// that look like bytes or MiB, times that look like seconds, upper-case
// codes (lower-cased in the record), codes not in ISO 639-1 or ISO 3166-1,
// http links, an empty organization or since, a bus factor of 0,
// duplicate entries, and values that keep the provider out of categories
// A and B (no legal notice, no server locations).
//
// At most 8 ignored keys are named (the rest are counted in one warning)
// and at most 8 problems reported per key, so a report stays small
// whatever the file.
func (v Validator) Parse(data []byte) File {
	c := v.checker()
	members, err := jsonstrict.Members(data)
	if err != nil {
		c.fatal(fmt.Errorf("%w: %w", ErrNotJSON, err), describeSyntax(err))
		return File{Provider: c.p, Report: c.rep}
	}
	c.file(members)
	var fields []providers.Field
	for _, f := range providers.ProviderFileFields() {
		if c.read[f] {
			fields = append(fields, f)
		}
	}
	return File{Provider: c.p, Fields: fields, Report: c.rep}
}

// describeSyntax says what is wrong with a file that jsonstrict refused,
// as in "not JSON (offset 12): want ':' after a key".
func describeSyntax(err error) string {
	var e *jsonstrict.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	if e.Kind == jsonstrict.ErrWrongKind {
		return e.Detail
	}
	msg := fmt.Sprintf("not JSON (offset %d): %v", e.Offset, e.Kind)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (v Validator) checker() *checker {
	at := v.At
	if at.IsZero() {
		at = time.Now()
	}
	return &checker{p: providers.New(v.Domain), on: providers.DateOf(at), domain: v.Domain,
		read: map[providers.Field]bool{}, perKey: map[providers.Field]int{}}
}

type checker struct {
	p      providers.Provider
	rep    Report
	on     providers.Date
	domain string
	read   map[providers.Field]bool // keys whose value was stored
	perKey map[providers.Field]int  // problems per key
	// dropped counts the problems per key beyond maxPerKey, and whether
	// one of them was an error.
	dropped    map[providers.Field]int
	droppedErr map[providers.Field]bool
}

// add records a problem: kind and safe make Err (safe quotes nothing of
// the file), format and args make Message.
func (c *checker) add(s Severity, kind error, f providers.Field, safe, format string, args ...any) {
	if f != "" {
		c.perKey[f]++
		if c.perKey[f] > maxPerKey {
			if c.dropped == nil {
				c.dropped, c.droppedErr = map[providers.Field]int{}, map[providers.Field]bool{}
			}
			c.dropped[f]++
			c.droppedErr[f] = c.droppedErr[f] || s == SeverityError
			return
		}
	}
	c.rep.Problems = append(c.rep.Problems, Problem{Severity: s, Field: f, Message: fmt.Sprintf(format, args...),
		Err: &problemError{kind: kind, detail: safe}})
}

// bad records an error about the value of f.
func (c *checker) bad(f providers.Field, safe, format string, args ...any) {
	c.add(SeverityError, ErrInvalidValue, f, safe, format, args...)
}

// warn records a warning about the value of f.
func (c *checker) warn(f providers.Field, safe, format string, args ...any) {
	c.add(SeverityWarning, ErrSuspicious, f, safe, format, args...)
}

// flush reports the problems of f that were over the cap.
func (c *checker) flush(f providers.Field) {
	n := c.dropped[f]
	if n == 0 {
		return
	}
	s := SeverityWarning
	if c.droppedErr[f] {
		s = SeverityError
	}
	c.rep.Problems = append(c.rep.Problems, Problem{Severity: s, Field: f,
		Message: fmt.Sprintf("and %d more problems with this key", n),
		Err:     &problemError{kind: ErrInvalidValue, detail: fmt.Sprintf("%d more problems", n)}})
}

// fatal records an error about the whole file and returns it.
func (c *checker) fatal(err error, msg string) (Report, error) {
	if msg == "" {
		msg = strings.TrimPrefix(err.Error(), "providerfile: ")
	}
	c.rep.Problems = append(c.rep.Problems, Problem{Severity: SeverityError, Message: msg, Err: err})
	return c.rep, &FileError{Problems: c.rep.Errors(), Err: err}
}

// v1Successor names the API v2 key that replaced an API v1 key, or "".
func v1Successor(k string) string {
	switch k {
	case "company":
		return string(providers.FieldOrganization)
	case "onlineSince":
		return string(providers.FieldSince)
	case "lastCheck":
		return string(providers.FieldLatestChange) + " (set by XMPP Providers, not in the provider file)"
	}
	return ""
}

// safeKey returns a key of the file for a report: at most maxKeyLen
// bytes, with control and bidi characters escaped.
func safeKey(s string) providers.Field {
	if len(s) > maxKeyLen {
		s = strings.ToValidUTF8(s[:maxKeyLen], "") + "…"
	}
	return providers.Field(sanitize.Line(s))
}

func (c *checker) file(members []jsonstrict.Member) {
	seen := map[string]bool{}
	ignored := 0
	for _, m := range members {
		f := providers.Field(m.Key)
		info, known := providers.Describe(f)
		switch {
		case seen[m.Key] && known && info.ProviderFile:
			c.add(SeverityError, ErrDuplicateKey, f, "", "duplicate key (JSON parsers disagree on which value counts); only the first was checked")
			continue
		case seen[m.Key]:
			continue
		}
		seen[m.Key] = true
		if known && info.ProviderFile {
			if c.key(f, m.Value) {
				c.read[f] = true
			}
			c.flush(f)
			continue
		}
		// A key the file does not define is ignored, and only named:
		// the format grows, and a consumer must read a newer file.
		ignored++
		if ignored > maxIgnoredKeys {
			continue
		}
		k := safeKey(m.Key)
		switch {
		case known:
			c.add(SeverityWarning, ErrUnknownKey, k, "set by XMPP Providers, not in the provider file",
				"not part of the provider file: XMPP Providers gathers it itself; ignored")
		case v1Successor(m.Key) != "":
			c.add(SeverityWarning, ErrUnknownKey, k, "an API v1 key", "API v1 key, ignored; API v2 uses %s", v1Successor(m.Key))
		default:
			if g := caseMatch(m.Key); g != "" {
				c.add(SeverityWarning, ErrUnknownKey, k, "", "unknown key, ignored; did you mean %q? (keys are case-sensitive)", g)
			} else {
				c.add(SeverityWarning, ErrUnknownKey, k, "", "unknown key, ignored")
			}
		}
	}
	if n := ignored - maxIgnoredKeys; n > 0 {
		c.rep.Problems = append(c.rep.Problems, Problem{Severity: SeverityWarning,
			Message: fmt.Sprintf("%d more keys that are not part of the provider file, ignored", n),
			Err:     fmt.Errorf("%w: %d more unknown keys", ErrUnknownKey, n)})
	}
	for _, f := range providers.ProviderFileFields() {
		if !seen[string(f)] {
			c.add(SeverityError, ErrMissingKey, f, "", "missing (every one of the 14 keys is required)")
		}
	}
}

func caseMatch(k string) providers.Field {
	for _, f := range providers.ProviderFileFields() {
		if strings.EqualFold(string(f), k) {
			return f
		}
	}
	return ""
}

// key checks the value of one provider-file key and stores it; it
// reports whether it did.
func (c *checker) key(f providers.Field, raw []byte) bool {
	info, _ := providers.Describe(f)
	switch info.Kind {
	case providers.KindLocalized:
		m, ok := c.localizedURLs(f, raw)
		if !ok {
			return false
		}
		if len(m) == 0 {
			switch f {
			case providers.FieldWebsite:
				c.warn(f, "empty", "empty: no website is known")
			case providers.FieldLegalNotice:
				c.warn(f, "empty", "empty: categories A and B need a legal notice")
			}
		}
		return c.store(f, m)
	case providers.KindStrings:
		var v []string
		var ok bool
		if f == providers.FieldAlternativeJIDs {
			v, ok = c.domains(f, raw)
		} else {
			v, ok = c.countries(f, raw)
			if ok && len(v) == 0 {
				c.warn(f, "empty", "empty: the server locations are unknown, and categories A and B need them")
			}
		}
		return ok && c.store(f, v)
	case providers.KindBool:
		b, ok := c.boolean(f, raw)
		return ok && c.store(f, b)
	case providers.KindInt:
		n, ok := c.integer(f, raw, info.Max)
		if !ok {
			return false
		}
		switch f {
		case providers.FieldBusFactor:
			switch {
			case n == 0:
				c.warn(f, "0 is not a bus factor", "0 is not a bus factor; use -1 if it is unknown")
			case n > 1000:
				c.warn(f, "implausibly large", "%d people is implausible; the bus factor is the number of people the service could not survive losing", n)
			}
		case providers.FieldUploadTotalSize:
			c.sizeHints(f, n)
		default:
			c.daysHints(f, n)
		}
		return c.store(f, n)
	case providers.KindDate:
		return c.since(f, raw)
	}
	// The organization, the one string key.
	s, ok := c.str(f, raw)
	if !ok {
		return false
	}
	o := providers.Organization(s)
	switch {
	case s == "":
		c.warn(f, "empty", "empty: the kind of organization is unknown")
	case !o.Known():
		hint := ""
		for _, k := range organizations() {
			if strings.EqualFold(strings.TrimSpace(s), string(k)) {
				hint = fmt.Sprintf("; did you mean %q?", k)
			}
		}
		c.bad(f, "unknown organization kind", "unknown organization %q (want one of %s)%s", s, orgList(), hint)
		return false
	}
	return c.store(f, s)
}

// store sets f of the record from a checked value, through the JSON form
// and providers' own decoder, so that the record holds exactly what
// providers.Decode would make of the value.
func (c *checker) store(f providers.Field, v any) bool {
	raw, err := json.Marshal(v)
	if err == nil {
		err = c.p.UnmarshalField(f, raw)
	}
	if err != nil {
		// The checks above are stricter than providers'; this is a bug.
		c.bad(f, "not accepted by package providers", "not accepted by package providers: %v", err)
		return false
	}
	return true
}

func (c *checker) since(f providers.Field, raw []byte) bool {
	s, ok := c.str(f, raw)
	if !ok {
		return false
	}
	if s == "" {
		c.warn(f, "empty", "empty: the start of the service is unknown, and XMPP Providers will use the date of listing")
		return true
	}
	d, err := providers.ParseDate(s)
	if err != nil || len(s) != len("2006-01-02") {
		c.bad(f, "not a date in YYYY-MM-DD form", "invalid date %q (want YYYY-MM-DD)", s)
		return false
	}
	if c.on.Before(d) {
		c.bad(f, "a date in the future", "%v is in the future (today is %v)", d, c.on)
		return false
	}
	if d.Year < 1999 {
		c.warn(f, "a date before XMPP existed", "%v is before XMPP (Jabber) existed", d)
	}
	return c.store(f, s)
}

func organizations() []providers.Organization {
	return []providers.Organization{
		providers.OrganizationCompany, providers.OrganizationCommercialPerson,
		providers.OrganizationPrivatePerson, providers.OrganizationGovernmental,
		providers.OrganizationNonGovernmental,
	}
}

func orgList() string {
	var b strings.Builder
	for i, o := range organizations() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", string(o))
	}
	b.WriteString(` or ""`)
	return b.String()
}

func (c *checker) wrongType(f providers.Field, want string, raw []byte) {
	msg := fmt.Sprintf("want %s, got %s", want, jsonstrict.KindOf(raw))
	c.add(SeverityError, ErrWrongType, f, msg, "%s", msg)
}

// text decodes a string of the file and refuses control and bidi
// characters. what names the string in messages ("item 2: ").
func (c *checker) text(f providers.Field, what string, raw []byte) (string, bool) {
	s, err := jsonstrict.String(raw)
	if err != nil {
		c.bad(f, what+"not a valid string", "%s%v", what, err)
		return "", false
	}
	if !sanitize.Clean(s) {
		c.bad(f, what+"a control or bidi character in "+jsonstrict.Describe(raw),
			"%s%q holds a control or bidi character", what, clip(s))
		return "", false
	}
	return s, true
}

func (c *checker) str(f providers.Field, raw []byte) (string, bool) {
	if jsonstrict.KindOf(raw) != jsonstrict.KindString {
		c.wrongType(f, "a string", raw)
		return "", false
	}
	return c.text(f, "", raw)
}

func (c *checker) boolean(f providers.Field, raw []byte) (bool, bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	c.wrongType(f, "true or false", raw)
	return false, false
}

// integer reads a whole number in [-1, max].
func (c *checker) integer(f providers.Field, raw []byte, max int64) (int64, bool) {
	if jsonstrict.KindOf(raw) != jsonstrict.KindNumber {
		c.wrongType(f, "an integer", raw)
		return 0, false
	}
	n, err := parseInt(raw)
	if err != nil {
		c.add(SeverityError, ErrWrongType, f, "want an integer, got a fraction, an exponent or a number out of range",
			"want an integer, got %s", clip(string(raw)))
		return 0, false
	}
	switch {
	case n < -1:
		c.bad(f, "below -1", "%d is below -1 (use -1 for \"less than one unit\" and 0 for \"no limit\")", n)
		return 0, false
	case n > max:
		c.bad(f, "too large", "%d is too large", n)
		return 0, false
	}
	return n, true
}

func (c *checker) sizeHints(f providers.Field, n int64) {
	switch {
	case n >= 1_000_000:
		c.warn(f, "looks like a byte count", "%d MB (%d TB) looks like a byte count; the unit is MB (10^6 bytes): %d bytes is %v",
			n, n/1_000_000, n, providers.MegabytesFromBytes(n))
	case n >= 1024 && n%1024 == 0:
		mb := providers.MegabytesFromBytes(n << 20)
		c.warn(f, "looks like MiB", "%d looks like MiB; the unit is MB (10^6 bytes), so %d MiB is %d", n, n, int64(mb))
	}
}

func (c *checker) daysHints(f providers.Field, n int64) {
	switch {
	case n >= 86400 && n%86400 == 0:
		c.warn(f, "looks like seconds", "%d days looks like a number of seconds (%d days); the unit is days", n, n/86400)
	case n > 36500:
		c.warn(f, "more than 100 years", "%d days is more than 100 years; the unit is days, and 0 means no limit", n)
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

// localizedURLs reads an object of language code → URL.
func (c *checker) localizedURLs(f providers.Field, raw []byte) (map[string]string, bool) {
	if jsonstrict.KindOf(raw) != jsonstrict.KindObject {
		c.wrongType(f, "an object of language code → URL", raw)
		return nil, false
	}
	ents, err := jsonstrict.Members(raw)
	if err != nil { // the file parsed, so its values do
		c.bad(f, "not a JSON object", "%v", err)
		return nil, false
	}
	m := make(map[string]string, len(ents))
	ok := true
	for _, e := range ents {
		lang, good := c.language(f, e.Key)
		if !good {
			ok = false
			continue
		}
		if _, dup := m[lang]; dup {
			c.bad(f, "a language appears twice", "language %q appears twice", lang)
			ok = false
			continue
		}
		if jsonstrict.KindOf(e.Value) != jsonstrict.KindString {
			c.wrongType(f, "a string", e.Value)
			ok = false
			continue
		}
		s, good := c.text(f, "", e.Value)
		if !good || !c.url(f, lang, s, e.Value) {
			ok = false
			continue
		}
		m[lang] = s
	}
	return m, ok
}

// language checks a language code and returns it in lower case.
func (c *checker) language(f providers.Field, k string) (string, bool) {
	lower := strings.ToLower(k)
	if len(lower) != 2 || lower[0] < 'a' || lower[0] > 'z' || lower[1] < 'a' || lower[1] > 'z' {
		c.bad(f, "invalid language code (want two letters of ISO 639-1)",
			"invalid language code %q (want a two-letter ISO 639-1 code such as \"en\")", k)
		return "", false
	}
	if lower != k {
		c.warn(f, "upper-case language code", "language code %q should be lower-case %q", k, lower)
	}
	if !knownLanguage(lower) {
		c.warn(f, "language code not in ISO 639-1", "language code %q is not in ISO 639-1", lower)
	}
	return lower, true
}

// url checks an address for a web page: an absolute https (or, with a
// warning, http) URL that netguard.Link accepts.
func (c *checker) url(f providers.Field, lang, s string, raw []byte) bool {
	// lang has been checked: two letters.
	where := "language " + lang + ": "
	if s == "" {
		c.bad(f, where+"empty URL", "language %q: empty URL", lang)
		return false
	}
	if strings.ContainsAny(s, " \t\r\n") {
		c.bad(f, where+"a URL with white space", "language %q: URL %q contains white space", lang, clip(s))
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		c.bad(f, where+"not a URL", "language %q: invalid URL %q", lang, clip(s))
		return false
	}
	https := u.Scheme == "https" && u.Host != ""
	if !https && !(u.Scheme == "http" && u.Host != "") {
		c.bad(f, where+"not an absolute https URL", "language %q: %q is not an absolute https URL", lang, clip(s))
		return false
	}
	if _, ok := netguard.Link(s, u.Scheme); !ok {
		c.bad(f, where+"not a link to a public host (loopback, private, user information, or too long)",
			"language %q: %q is not a link apps may open (a loopback or private host, user information, or too long)", lang, clip(s))
		return false
	}
	if !https {
		c.warn(f, where+"not https", "language %q: %q is not https; clients may refuse to open it", lang, clip(s))
	}
	return true
}

// domains reads an array of XMPP domains, lower-cased, without duplicates
// and without the main domain.
func (c *checker) domains(f providers.Field, raw []byte) ([]string, bool) {
	items, ok := c.stringList(f, raw)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, d := range items {
		if err := providers.CheckDomain(d); err != nil {
			c.bad(f, fmt.Sprintf("item %d: not a domain", i), "%v", err)
			ok = false
			continue
		}
		if lower := strings.ToLower(d); lower != d {
			c.warn(f, fmt.Sprintf("item %d: upper-case domain", i), "domain %q should be lower-case %q", d, lower)
			d = lower
		}
		if c.domain != "" && strings.EqualFold(d, c.domain) {
			c.warn(f, fmt.Sprintf("item %d: the main domain", i), "%q is the provider's main domain, not an alternative; ignored", d)
			continue
		}
		if containsFold(out, d) {
			c.warn(f, fmt.Sprintf("item %d: a domain listed twice", i), "%q appears twice", d)
			continue
		}
		out = append(out, d)
	}
	return out, ok
}

// countries reads an array of ISO 3166-1 alpha-2 codes, lower-cased.
func (c *checker) countries(f providers.Field, raw []byte) ([]string, bool) {
	items, ok := c.stringList(f, raw)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, s := range items {
		lower := strings.ToLower(s)
		if len(lower) != 2 || lower[0] < 'a' || lower[0] > 'z' || lower[1] < 'a' || lower[1] > 'z' {
			c.bad(f, fmt.Sprintf("item %d: invalid country code (want two letters of ISO 3166-1)", i),
				"invalid country code %q (want a two-letter ISO 3166-1 code such as \"de\")", s)
			ok = false
			continue
		}
		if lower != s {
			c.warn(f, fmt.Sprintf("item %d: upper-case country code", i), "country code %q should be lower-case %q", s, lower)
		}
		if !knownCountry(lower) {
			if h := countryHint(lower); h != "" {
				c.warn(f, fmt.Sprintf("item %d: not in ISO 3166-1", i), "country code %q is not in ISO 3166-1; did you mean %q?", lower, h)
			} else {
				c.warn(f, fmt.Sprintf("item %d: not in ISO 3166-1", i), "country code %q is not in ISO 3166-1", lower)
			}
		}
		if containsFold(out, lower) {
			c.warn(f, fmt.Sprintf("item %d: a country listed twice", i), "country %q appears twice", lower)
			continue
		}
		out = append(out, lower)
	}
	return out, ok
}

func (c *checker) stringList(f providers.Field, raw []byte) ([]string, bool) {
	if jsonstrict.KindOf(raw) != jsonstrict.KindArray {
		c.wrongType(f, "an array of strings", raw)
		return nil, false
	}
	items, err := jsonstrict.Elements(raw)
	if err != nil { // the file parsed, so its values do
		c.bad(f, "not a JSON array", "%v", err)
		return nil, false
	}
	out := make([]string, 0, len(items))
	ok := true
	for i, it := range items {
		what := fmt.Sprintf("item %d: ", i)
		if jsonstrict.KindOf(it) != jsonstrict.KindString {
			msg := fmt.Sprintf("item %d: want a string, got %s", i, jsonstrict.KindOf(it))
			c.add(SeverityError, ErrWrongType, f, msg, "%s", msg)
			ok = false
			continue
		}
		s, good := c.text(f, what, it)
		if !good {
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// parseInt reads a JSON number that is a whole int64, written without a
// fraction or an exponent.
func parseInt(raw []byte) (int64, error) { return strconv.ParseInt(string(raw), 10, 64) }
