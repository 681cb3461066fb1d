package rating

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xmpp-onboard/onboard/providers"
)

// DefaultMaxProviderFileBytes is the size a provider file may have unless a
// Validator says otherwise: 1 MiB, some thousand times a real one.
const DefaultMaxProviderFileBytes = 1 << 20

// Errors of provider file validation; match them with errors.Is.
var (
	// ErrInvalid is matched by every *FileError: the file cannot be used
	// as it is.
	ErrInvalid = errors.New("rating: invalid provider file")
	// ErrTooLarge means the input exceeds the validator's size cap.
	ErrTooLarge = errors.New("rating: provider file too large")
)

// Severity says how bad a Problem is.
type Severity string

// The severities of a Problem.
const (
	// SeverityError: the value is wrong or missing; consumers cannot use it.
	SeverityError Severity = "error"
	// SeverityWarning: the value is usable but probably not what the
	// operator meant, or it keeps the provider out of a good category.
	SeverityWarning Severity = "warning"
)

// Problem is one finding of provider file validation.
type Problem struct {
	// Severity is SeverityError or SeverityWarning.
	Severity Severity `json:"severity"`
	// Field is the key the problem is about; empty for the file as a
	// whole. It may be a key that is not a providers.Field constant (an
	// unknown key).
	Field providers.Field `json:"field,omitempty"`
	// Message says what is wrong and, where it can, how to fix it.
	Message string `json:"message"`
}

// String formats the problem as "error: busFactor: want an integer, got a
// string".
func (p Problem) String() string {
	if p.Field == "" {
		return string(p.Severity) + ": " + p.Message
	}
	return string(p.Severity) + ": " + string(p.Field) + ": " + p.Message
}

// Report lists what validation found, in the order of the file's keys,
// followed by missing keys.
type Report struct {
	Problems []Problem `json:"problems"`
}

// OK reports whether the report has no errors (warnings are allowed).
func (r Report) OK() bool { return len(r.Errors()) == 0 }

// Clean reports whether the report has neither errors nor warnings.
func (r Report) Clean() bool { return len(r.Problems) == 0 }

// Errors returns the problems of SeverityError.
func (r Report) Errors() []Problem { return r.filter(SeverityError) }

// Warnings returns the problems of SeverityWarning.
func (r Report) Warnings() []Problem { return r.filter(SeverityWarning) }

// For returns the problems about key f.
func (r Report) For(f providers.Field) []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Field == f {
			out = append(out, p)
		}
	}
	return out
}

func (r Report) filter(s Severity) []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// FileError is returned when a provider file cannot be used: it is not a
// JSON object, too large, or has errors in its keys. It matches ErrInvalid.
type FileError struct {
	// Problems are the errors found, each naming its key. For input that
	// could not be read as JSON it holds one problem about the whole file.
	Problems []Problem
	// Err is the cause when the input could not be read as a JSON object
	// (it wraps ErrTooLarge for oversized input); nil otherwise.
	Err error
}

// Error implements error.
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("rating: invalid provider file")
	if len(e.Problems) == 0 && e.Err != nil {
		b.WriteString(": " + strings.TrimPrefix(e.Err.Error(), "rating: "))
	}
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if p.Field != "" {
			b.WriteString(string(p.Field) + ": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FileError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

// Validator checks provider files. Its zero value is ready to use.
type Validator struct {
	// MaxBytes caps the input size; 0 means DefaultMaxProviderFileBytes.
	MaxBytes int64
	// At is the date used to reject a "since" in the future; the zero
	// time means the current date.
	At time.Time
	// Domain is the XMPP domain the file belongs to, if known. It becomes
	// the JID of the returned record, and an alternativeJids entry equal
	// to it gives a warning.
	Domain string
}

// ValidateProviderFile checks an operator's provider file with the zero
// Validator; see Validator.Validate.
func ValidateProviderFile(r io.Reader) (providers.Provider, Report, error) {
	var v Validator
	return v.Validate(r)
}

// Validate reads a provider file (/.well-known/xmpp-provider-v2.json,
// API v2) and checks each of its 14 keys: presence, JSON type, unit and
// sentinel, and the form of URLs, language and country codes, domains and
// dates. Each problem in the Report names its key.
//
// Errors: missing keys, duplicate keys, wrong types (null included),
// non-integer numbers, values below -1, unknown organization kinds,
// malformed language or country codes, URLs that are not http(s), invalid
// domains, malformed dates and a "since" after the validator's date. Input
// over MaxBytes, invalid UTF-8, anything but one JSON object, and trailing
// data are errors about the whole file.
//
// Warnings: unknown or misplaced keys (ignored), sizes that look like bytes
// or MiB, times that look like seconds, upper-case codes (lower-cased in the
// record), codes not in ISO 639-1 or ISO 3166-1, URLs without https, an
// empty organization or since, a bus factor of 0, duplicate entries, and
// values that keep the provider out of categories A and B (no legal notice,
// no server locations).
//
// Validate does no I/O but reading r, at most MaxBytes+1 bytes of it; bound
// the time it takes with r (for example with the timeout of the HTTP client
// that fetched the file).
//
// The returned record has the file's values in the provider-file fields
// and is otherwise unknown ([providers.New]); its JID is the validator's Domain. If
// the Report has errors, the error is a *FileError listing them, and the
// record holds only the values that were valid. An error reading r is
// returned as is, wrapped.
func (v Validator) Validate(r io.Reader) (providers.Provider, Report, error) {
	max := v.MaxBytes
	if max <= 0 {
		max = DefaultMaxProviderFileBytes
	}
	at := v.At
	if at.IsZero() {
		at = time.Now()
	}
	c := &fileChecker{p: providers.New(v.Domain), on: providers.DateOf(at), domain: v.Domain}

	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return c.p, c.rep, fmt.Errorf("rating: reading provider file: %w", err)
	}
	if int64(len(data)) > max {
		rep, err := c.fatal(fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max))
		return c.p, rep, err
	}
	if !utf8.Valid(data) {
		rep, err := c.fatal(errors.New("invalid UTF-8"))
		return c.p, rep, err
	}
	top, err := parseEntries(data, true)
	if err != nil {
		rep, err := c.fatal(err)
		return c.p, rep, err
	}
	c.file(top)
	if errs := c.rep.Errors(); len(errs) > 0 {
		return c.p, c.rep, &FileError{Problems: errs}
	}
	return c.p, c.rep, nil
}

type fileChecker struct {
	p      providers.Provider
	rep    Report
	on     providers.Date
	domain string
}

func (c *fileChecker) add(s Severity, f providers.Field, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{Severity: s, Field: f, Message: fmt.Sprintf(format, args...)})
}

func (c *fileChecker) errorf(f providers.Field, format string, args ...any) {
	c.add(SeverityError, f, format, args...)
}

func (c *fileChecker) warnf(f providers.Field, format string, args ...any) {
	c.add(SeverityWarning, f, format, args...)
}

// fatal records an error about the whole file and returns it.
func (c *fileChecker) fatal(err error) (Report, error) {
	c.errorf("", "%s", strings.TrimPrefix(err.Error(), "rating: "))
	return c.rep, &FileError{Problems: c.rep.Errors(), Err: err}
}

// entry is one key and raw value of a JSON object.
type entry struct {
	key string
	raw json.RawMessage
}

// parseEntries parses a JSON object into its entries, in order, duplicate
// keys included. With whole set, data must hold nothing else.
func parseEntries(data []byte, whole bool) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("empty input, want a JSON object")
		}
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("want a JSON object, got %s", jsonKind(data))
	}
	var out []entry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		k, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not JSON (offset %d): %v", dec.InputOffset(), syntax(err))
		}
		out = append(out, entry{key: k, raw: raw})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, fmt.Errorf("not JSON: %v", syntax(err))
	}
	if whole {
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("unexpected data after the object (offset %d)", dec.InputOffset())
		}
	}
	return out, nil
}

func syntax(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// jsonKind names the JSON type of a raw value.
func jsonKind(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
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

func isFileField(f providers.Field) bool {
	for _, g := range providers.ProviderFileFields() {
		if f == g {
			return true
		}
	}
	return false
}

func isListField(f providers.Field) bool {
	for _, g := range providers.Fields() {
		if f == g {
			return true
		}
	}
	return false
}

func (c *fileChecker) file(top []entry) {
	seen := map[providers.Field]bool{}
	for _, e := range top {
		f := providers.Field(e.key)
		switch {
		case seen[f]:
			c.errorf(f, "duplicate key (JSON parsers disagree on which value counts); only the first was checked")
		case isFileField(f):
			seen[f] = true
			c.key(f, e.raw)
		case isListField(f):
			seen[f] = true
			c.warnf(f, "not part of the provider file: XMPP Providers gathers it itself; ignored")
		case v1Successor(e.key) != "":
			seen[f] = true
			c.warnf(f, "API v1 key, ignored; API v2 uses %s", v1Successor(e.key))
		default:
			seen[f] = true
			if g := caseMatch(e.key); g != "" {
				c.warnf(f, "unknown key, ignored; did you mean %q? (keys are case-sensitive)", g)
			} else {
				c.warnf(f, "unknown key, ignored")
			}
		}
	}
	for _, f := range providers.ProviderFileFields() {
		if !seen[f] {
			c.errorf(f, "missing (every one of the 14 keys is required)")
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

// key checks the value of one provider-file key and stores it.
func (c *fileChecker) key(f providers.Field, raw json.RawMessage) {
	switch f {
	case providers.FieldWebsite:
		if m, ok := c.localizedURLs(f, raw); ok {
			if len(m) == 0 {
				c.warnf(f, "empty: no website is known")
			}
			c.p.Website = m
		}
	case providers.FieldPasswordReset:
		if m, ok := c.localizedURLs(f, raw); ok {
			c.p.PasswordReset = m
		}
	case providers.FieldLegalNotice:
		if m, ok := c.localizedURLs(f, raw); ok {
			if len(m) == 0 {
				c.warnf(f, "empty: categories A and B need a legal notice")
			}
			c.p.LegalNotice = m
		}
	case providers.FieldAlternativeJIDs:
		if v, ok := c.domains(f, raw); ok {
			c.p.AlternativeJIDs = v
		}
	case providers.FieldServerLocations:
		if v, ok := c.countries(f, raw); ok {
			if len(v) == 0 {
				c.warnf(f, "empty: the server locations are unknown, and categories A and B need them")
			}
			c.p.ServerLocations = v
		}
	case providers.FieldBusFactor:
		n, ok := c.integer(f, raw, math.MaxInt32)
		if !ok {
			return
		}
		switch {
		case n == 0:
			c.warnf(f, "0 is not a bus factor; use -1 if it is unknown")
		case n > 1000:
			c.warnf(f, "%d people is implausible; the bus factor is the number of people the service could not survive losing", n)
		}
		c.p.BusFactor = providers.BusFactor(n)
	case providers.FieldOrganization:
		s, ok := c.str(f, raw)
		if !ok {
			return
		}
		o := providers.Organization(s)
		switch {
		case s == "":
			c.warnf(f, "empty: the kind of organization is unknown")
		case !o.Known():
			hint := ""
			for _, k := range organizations() {
				if strings.EqualFold(strings.TrimSpace(s), string(k)) {
					hint = fmt.Sprintf("; did you mean %q?", k)
				}
			}
			c.errorf(f, "unknown organization %q (want one of %s)%s", s, orgList(), hint)
			return
		}
		c.p.Organization = o
	case providers.FieldServerTesting:
		if b, ok := c.boolean(f, raw); ok {
			c.p.ServerTesting = b
		}
	case providers.FieldProfessionalHosting:
		if b, ok := c.boolean(f, raw); ok {
			c.p.ProfessionalHosting = b
		}
	case providers.FieldFreeOfCharge:
		if b, ok := c.boolean(f, raw); ok {
			c.p.FreeOfCharge = b
		}
	case providers.FieldUploadTotalSize:
		n, ok := c.integer(f, raw, math.MaxInt64)
		if !ok {
			return
		}
		c.sizeHints(f, n)
		c.p.UploadTotalSize = providers.Megabytes(n)
	case providers.FieldUploadStorageTime, providers.FieldArchiveStorageTime:
		n, ok := c.integer(f, raw, math.MaxInt32)
		if !ok {
			return
		}
		c.daysHints(f, n)
		if f == providers.FieldUploadStorageTime {
			c.p.UploadStorageTime = providers.Days(n)
		} else {
			c.p.ArchiveStorageTime = providers.Days(n)
		}
	case providers.FieldSince:
		s, ok := c.str(f, raw)
		if !ok {
			return
		}
		if s == "" {
			c.warnf(f, "empty: the start of the service is unknown, and XMPP Providers will use the date of listing")
			return
		}
		d, err := providers.ParseDate(s)
		if err != nil || len(s) != len("2006-01-02") {
			c.errorf(f, "invalid date %q (want YYYY-MM-DD)", s)
			return
		}
		if c.on.Before(d) {
			c.errorf(f, "%v is in the future (today is %v)", d, c.on)
			return
		}
		if d.Year < 1999 {
			c.warnf(f, "%v is before XMPP (Jabber) existed", d)
		}
		c.p.Since = d
	}
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

func (c *fileChecker) wrongType(f providers.Field, want string, raw []byte) {
	c.errorf(f, "want %s, got %s", want, jsonKind(raw))
}

func (c *fileChecker) str(f providers.Field, raw []byte) (string, bool) {
	if jsonKind(raw) != "a string" {
		c.wrongType(f, "a string", raw)
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		c.errorf(f, "%v", err)
		return "", false
	}
	return s, true
}

func (c *fileChecker) boolean(f providers.Field, raw []byte) (bool, bool) {
	if jsonKind(raw) != "a boolean" {
		c.wrongType(f, "true or false", raw)
		return false, false
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		c.errorf(f, "%v", err)
		return false, false
	}
	return b, true
}

// integer reads a whole number in [-1, max].
func (c *fileChecker) integer(f providers.Field, raw []byte, max int64) (int64, bool) {
	if jsonKind(raw) != "a number" {
		c.wrongType(f, "an integer", raw)
		return 0, false
	}
	var num json.Number
	if err := json.Unmarshal(raw, &num); err != nil {
		c.errorf(f, "%v", err)
		return 0, false
	}
	n, err := num.Int64()
	if err != nil {
		c.errorf(f, "want an integer, got %s", clip(num.String()))
		return 0, false
	}
	switch {
	case n < -1:
		c.errorf(f, "%d is below -1 (use -1 for \"less than one unit\" and 0 for \"no limit\")", n)
		return 0, false
	case n > max:
		c.errorf(f, "%d is too large", n)
		return 0, false
	}
	return n, true
}

func (c *fileChecker) sizeHints(f providers.Field, n int64) {
	switch {
	case n >= 1_000_000:
		c.warnf(f, "%d MB (%d TB) looks like a byte count; the unit is MB (10^6 bytes): %d bytes is %v",
			n, n/1_000_000, n, providers.MegabytesFromBytes(n))
	case n >= 1024 && n%1024 == 0:
		mb := providers.MegabytesFromBytes(n << 20)
		c.warnf(f, "%d looks like MiB; the unit is MB (10^6 bytes), so %d MiB is %d", n, n, int64(mb))
	}
}

func (c *fileChecker) daysHints(f providers.Field, n int64) {
	switch {
	case n >= 86400 && n%86400 == 0:
		c.warnf(f, "%d days looks like a number of seconds (%d days); the unit is days", n, n/86400)
	case n > 36500:
		c.warnf(f, "%d days is more than 100 years; the unit is days, and 0 means no limit", n)
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// localizedURLs reads an object of language code → URL.
func (c *fileChecker) localizedURLs(f providers.Field, raw []byte) (providers.Localized, bool) {
	if jsonKind(raw) != "an object" {
		c.wrongType(f, "an object of language code → URL", raw)
		return nil, false
	}
	ents, err := parseEntries(raw, false)
	if err != nil {
		c.errorf(f, "%v", err)
		return nil, false
	}
	m := make(providers.Localized, len(ents))
	ok := true
	for _, e := range ents {
		lang, good := c.language(f, e.key)
		if !good {
			ok = false
			continue
		}
		if _, dup := m[lang]; dup {
			c.errorf(f, "language %q appears twice", lang)
			ok = false
			continue
		}
		s, good := c.str(f, e.raw)
		if !good {
			ok = false
			continue
		}
		if !c.url(f, lang, s) {
			ok = false
			continue
		}
		m[lang] = s
	}
	return m, ok
}

// language checks a language code and returns it in lower case.
func (c *fileChecker) language(f providers.Field, k string) (string, bool) {
	lower := strings.ToLower(k)
	if len(lower) != 2 || lower[0] < 'a' || lower[0] > 'z' || lower[1] < 'a' || lower[1] > 'z' {
		c.errorf(f, "invalid language code %q (want a two-letter ISO 639-1 code such as \"en\")", k)
		return "", false
	}
	if lower != k {
		c.warnf(f, "language code %q should be lower-case %q", k, lower)
	}
	if !knownLanguage(lower) {
		c.warnf(f, "language code %q is not in ISO 639-1", lower)
	}
	return lower, true
}

// url checks an address for a web page.
func (c *fileChecker) url(f providers.Field, lang, s string) bool {
	if s == "" {
		c.errorf(f, "language %q: empty URL", lang)
		return false
	}
	if strings.ContainsAny(s, " \t\r\n") {
		c.errorf(f, "language %q: URL %q contains white space", lang, clip(s))
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		c.errorf(f, "language %q: invalid URL %q", lang, clip(s))
		return false
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && u.Host != "":
		c.warnf(f, "language %q: %q is not https; clients may refuse to open it", lang, clip(s))
	default:
		c.errorf(f, "language %q: %q is not an absolute https URL", lang, clip(s))
		return false
	}
	return true
}

// domains reads an array of XMPP domains, lower-cased, without duplicates
// and without the main domain.
func (c *fileChecker) domains(f providers.Field, raw []byte) ([]string, bool) {
	items, ok := c.stringList(f, raw)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, d := range items {
		if err := checkDomain(d); err != nil {
			c.errorf(f, "%v", err)
			ok = false
			continue
		}
		if lower := strings.ToLower(d); lower != d {
			c.warnf(f, "domain %q should be lower-case %q", d, lower)
			d = lower
		}
		if c.domain != "" && strings.EqualFold(d, c.domain) {
			c.warnf(f, "%q is the provider's main domain, not an alternative; ignored", d)
			continue
		}
		if containsFold(out, d) {
			c.warnf(f, "%q appears twice", d)
			continue
		}
		out = append(out, d)
	}
	return out, ok
}

// countries reads an array of ISO 3166-1 alpha-2 codes, lower-cased.
func (c *fileChecker) countries(f providers.Field, raw []byte) ([]string, bool) {
	items, ok := c.stringList(f, raw)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for _, s := range items {
		lower := strings.ToLower(s)
		if len(lower) != 2 || lower[0] < 'a' || lower[0] > 'z' || lower[1] < 'a' || lower[1] > 'z' {
			c.errorf(f, "invalid country code %q (want a two-letter ISO 3166-1 code such as \"de\")", s)
			ok = false
			continue
		}
		if lower != s {
			c.warnf(f, "country code %q should be lower-case %q", s, lower)
		}
		if !knownCountry(lower) {
			if h := countryHint(lower); h != "" {
				c.warnf(f, "country code %q is not in ISO 3166-1; did you mean %q?", lower, h)
			} else {
				c.warnf(f, "country code %q is not in ISO 3166-1", lower)
			}
		}
		if containsFold(out, lower) {
			c.warnf(f, "country %q appears twice", lower)
			continue
		}
		out = append(out, lower)
	}
	return out, ok
}

func (c *fileChecker) stringList(f providers.Field, raw []byte) ([]string, bool) {
	if jsonKind(raw) != "an array" {
		c.wrongType(f, "an array of strings", raw)
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		c.errorf(f, "%v", err)
		return nil, false
	}
	out := make([]string, 0, len(items))
	ok := true
	for i, it := range items {
		if jsonKind(it) != "a string" {
			c.errorf(f, "item %d: want a string, got %s", i, jsonKind(it))
			ok = false
			continue
		}
		var s string
		if err := json.Unmarshal(it, &s); err != nil {
			c.errorf(f, "item %d: %v", i, err)
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

// checkDomain rejects strings that cannot be a domain name.
func checkDomain(s string) error {
	switch {
	case s == "":
		return errors.New("empty domain")
	case len(s) > 253:
		return fmt.Errorf("domain %q is longer than 253 bytes", clip(s))
	case strings.ContainsAny(s, "@/:\\ \t\r\n\"'<>"):
		return fmt.Errorf("invalid domain %q (want a bare domain such as \"chat.example.org\")", clip(s))
	case strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, ".."):
		return fmt.Errorf("invalid domain %q (empty label)", clip(s))
	}
	return nil
}
