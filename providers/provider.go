package providers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Category is the XMPP Providers category of a provider: A is best, D worst.
//
// A: best properties, in-band registration and free of charge, so an app may
// register a newcomer there without asking anything. B: best properties, but
// registration may need a web page or payment. C: average properties. D:
// registration impossible or bad properties; useful for auto-completion only.
type Category string

// The four published categories. The zero Category means "unknown".
const (
	CategoryA Category = "A"
	CategoryB Category = "B"
	CategoryC Category = "C"
	CategoryD Category = "D"
)

// Categories lists the known categories, best first.
func Categories() []Category { return []Category{CategoryA, CategoryB, CategoryC, CategoryD} }

// Valid reports whether c is one of A, B, C or D.
func (c Category) Valid() bool { return c.Rank() > 0 }

// Rank orders categories: A is 1, B 2, C 3, D 4 and anything else 0.
func (c Category) Rank() int {
	switch c {
	case CategoryA:
		return 1
	case CategoryB:
		return 2
	case CategoryC:
		return 3
	case CategoryD:
		return 4
	}
	return 0
}

// Better reports whether c is a strictly better category than d. A valid
// category is better than an unknown one.
func (c Category) Better(d Category) bool {
	if !c.Valid() {
		return false
	}
	if !d.Valid() {
		return true
	}
	return c.Rank() < d.Rank()
}

// String returns the letter, or "unknown".
func (c Category) String() string {
	if c == "" {
		return "unknown"
	}
	return string(c)
}

// ParseCategory parses "A".."D" (case-insensitive).
func ParseCategory(s string) (Category, error) {
	c := Category(strings.ToUpper(strings.TrimSpace(s)))
	if !c.Valid() {
		return "", fmt.Errorf("providers: invalid category %q (want A, B, C or D)", s)
	}
	return c, nil
}

// Organization is the kind of entity that runs a provider.
type Organization string

// The organization kinds used by XMPP Providers. The zero value means unknown.
const (
	OrganizationUnknown          Organization = ""
	OrganizationCompany          Organization = "company"
	OrganizationCommercialPerson Organization = "commercial person"
	OrganizationPrivatePerson    Organization = "private person"
	OrganizationGovernmental     Organization = "governmental"
	OrganizationNonGovernmental  Organization = "non-governmental"
)

// Known reports whether o is one of the documented organization kinds.
func (o Organization) Known() bool {
	switch o {
	case OrganizationCompany, OrganizationCommercialPerson, OrganizationPrivatePerson,
		OrganizationGovernmental, OrganizationNonGovernmental:
		return true
	}
	return false
}

// String returns the organization kind, or "unknown".
func (o Organization) String() string {
	if o == "" {
		return "unknown"
	}
	return string(o)
}

// Megabytes is a size in MB (10^6 bytes, not MiB) as published by XMPP
// Providers, with two sentinels: 0 means "no limit" and -1 means "unknown or
// less than 1 MB". Use the methods rather than comparing with the sentinels.
type Megabytes int64

// Sentinel values of Megabytes and Days.
const (
	Unlimited = 0
	Unknown   = -1
)

// Unlimited reports whether the value means "no limit".
func (m Megabytes) Unlimited() bool { return m == Unlimited }

// Known reports whether the value is a known limit or unlimited (not -1 or
// another negative value).
func (m Megabytes) Known() bool { return m >= 0 }

// Bytes returns the limit in bytes. ok is false when the value is unlimited or
// unknown.
func (m Megabytes) Bytes() (n int64, ok bool) {
	if m <= 0 {
		return 0, false
	}
	return int64(m) * 1_000_000, true
}

// AtLeast reports whether the value satisfies a minimum of min MB: unlimited
// always does, unknown never does. A min of 0 or less is always satisfied.
func (m Megabytes) AtLeast(min Megabytes) bool {
	if min <= 0 {
		return true
	}
	if m.Unlimited() {
		return true
	}
	return m >= min
}

// MegabytesFromBytes converts a byte count to whole MB as the XMPP Providers
// data does (rounded down; 100 MiB is 104 MB). Less than 1 MB gives -1 and a
// negative count gives -1 too; use 0 yourself for "no limit".
func MegabytesFromBytes(n int64) Megabytes {
	if n < 1_000_000 {
		return Unknown
	}
	return Megabytes(n / 1_000_000)
}

// String formats the value for people: "100 MB", "unlimited" or "unknown".
func (m Megabytes) String() string {
	switch {
	case m.Unlimited():
		return "unlimited"
	case !m.Known():
		return "unknown"
	}
	return strconv.FormatInt(int64(m), 10) + " MB"
}

// Days is a retention time in days, with the same sentinels as Megabytes: 0
// means "no limit" and -1 "unknown or less than a day".
type Days int

// Unlimited reports whether the value means "kept forever".
func (d Days) Unlimited() bool { return d == Unlimited }

// Known reports whether the value is a known time or unlimited.
func (d Days) Known() bool { return d >= 0 }

// Duration returns the retention as a time.Duration; ok is false when the
// value is unlimited or unknown.
func (d Days) Duration() (t time.Duration, ok bool) {
	if d <= 0 {
		return 0, false
	}
	return time.Duration(d) * 24 * time.Hour, true
}

// AtLeast reports whether the value satisfies a minimum of min days:
// unlimited always does, unknown never does. A min of 0 or less is always
// satisfied.
func (d Days) AtLeast(min Days) bool {
	if min <= 0 {
		return true
	}
	if d.Unlimited() {
		return true
	}
	return d >= min
}

// String formats the value for people: "7 days", "unlimited" or "unknown".
func (d Days) String() string {
	switch {
	case d.Unlimited():
		return "unlimited"
	case !d.Known():
		return "unknown"
	case d == 1:
		return "1 day"
	}
	return strconv.Itoa(int(d)) + " days"
}

// BusFactor is the number of people a service could not survive losing; -1
// means unknown.
type BusFactor int

// Known reports whether the bus factor is known (positive).
func (b BusFactor) Known() bool { return b > 0 }

// String formats the bus factor, or "unknown".
func (b BusFactor) String() string {
	if !b.Known() {
		return "unknown"
	}
	return strconv.Itoa(int(b))
}

// Localized maps lower-case ISO 639-1 language codes to one value (a URL in
// the published data). An empty map means the value is absent or unknown.
type Localized map[string]string

// Pick returns the value for the first language in langs that has one, else
// English, else the entry with the smallest language code (so the choice is
// stable). It reports the language used; ok is false when the map is empty.
// Language tags such as "de-AT" or "pt_BR" match their base language too.
func (l Localized) Pick(langs ...string) (value, lang string, ok bool) {
	lang, ok = pickLang(l, langs)
	return l[lang], lang, ok
}

// Languages returns the languages that have a value, sorted.
func (l Localized) Languages() []string { return sortedKeys(l) }

// LocalizedList maps language codes to lists of addresses, as the support
// fields do. An empty map means none.
type LocalizedList map[string][]string

// Pick returns the addresses for the first language in langs, else English,
// else the smallest language code; see Localized.Pick.
func (l LocalizedList) Pick(langs ...string) (values []string, lang string, ok bool) {
	lang, ok = pickLang(l, langs)
	return slices.Clone(l[lang]), lang, ok
}

// All returns every address of every language once, in language order.
func (l LocalizedList) All() []string {
	var out []string
	for _, k := range sortedKeys(l) {
		for _, v := range l[k] {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// Languages returns the languages that have addresses, sorted.
func (l LocalizedList) Languages() []string { return sortedKeys(l) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// baseLang turns "de-AT", "pt_BR.UTF-8" or "DE" into "de".
func baseLang(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_.@"); i >= 0 {
		s = s[:i]
	}
	return s
}

func pickLang[V any](m map[string]V, langs []string) (string, bool) {
	if len(m) == 0 {
		return "", false
	}
	for _, want := range langs {
		if _, ok := m[want]; ok && want != "" {
			return want, true
		}
		if b := baseLang(want); b != "" {
			if _, ok := m[b]; ok {
				return b, true
			}
		}
	}
	if _, ok := m["en"]; ok {
		return "en", true
	}
	return sortedKeys(m)[0], true
}

// Date is a calendar date without time zone, as in "2026-07-22".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date in YYYY-MM-DD form. The empty string gives the zero
// Date and no error.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q (want YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC at the start of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// DaysUntil returns the number of days from d to e (negative if e is before
// d). It is exact for any two dates, however far apart.
func (d Date) DaysUntil(e Date) int { return int(e.unixDays() - d.unixDays()) }

func (d Date) unixDays() int64 {
	// Unix seconds are exact for any year; days are whole at midnight UTC.
	return d.Time().Unix() / 86400
}

// AddDays returns the date n days after d (before, if n is negative).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// String formats the date as YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Provider is one XMPP provider as described by the XMPP Providers project
// (API v2). Every field maps one key of the published data; the key is named
// in the field's comment, and the Field constants name them for programs.
type Provider struct {
	// JID is the provider's main XMPP domain ("jid").
	JID string
	// Category is the published category ("category"). Unknown in a simple
	// list and in the full providers.json, which carry no category.
	Category Category
	// LatestChange is when any property last changed ("latestChange"; v1
	// "lastCheck").
	LatestChange Date
	// Website is the provider's website per language ("website").
	Website Localized
	// AlternativeJIDs are other domains offered for registration
	// ("alternativeJids"), possibly .onion.
	AlternativeJIDs []string
	// BusFactor ("busFactor").
	BusFactor BusFactor
	// Organization ("organization"; v1 had a boolean "company").
	Organization Organization
	// PasswordReset is a page for resetting a password or instructions
	// ("passwordReset").
	PasswordReset Localized
	// ServerTesting reports that the operator allows tests against the
	// server ("serverTesting").
	ServerTesting bool
	// ServerSoftwareName and ServerSoftwareVersion as seen by XEP-0092
	// ("serverSoftwareName", "serverSoftwareVersion"); empty if unknown.
	ServerSoftwareName    string
	ServerSoftwareVersion string
	// GreenWebCheck is the Green Web Foundation result ("ratingGreenWebCheck").
	GreenWebCheck bool
	// InBandRegistration reports that XEP-0077 registration from apps works
	// ("inBandRegistration").
	InBandRegistration bool
	// EmailRequired reports that the registration form asks for an e-mail
	// address ("inBandRegistrationEmailAddressRequired").
	EmailRequired bool
	// CaptchaRequired reports that registration needs a CAPTCHA
	// ("inBandRegistrationCaptchaRequired").
	CaptchaRequired bool
	// RegistrationWebPage is the web sign-up page per language
	// ("registrationWebPage").
	RegistrationWebPage Localized
	// ComplianceTester is the XMPP Compliance Tester score in percent, 0–100
	// ("ratingXmppComplianceTester").
	ComplianceTester int
	// ObservatoryC2S and ObservatoryS2S are the legacy IM Observatory grades
	// ("ratingImObservatoryClientToServer", "ratingImObservatoryServerToServer").
	ObservatoryC2S string
	ObservatoryS2S string
	// UploadFileSize is the XEP-0363 limit per file
	// ("maximumHttpFileUploadFileSize").
	UploadFileSize Megabytes
	// UploadTotalSize is the upload quota per user
	// ("maximumHttpFileUploadTotalSize").
	UploadTotalSize Megabytes
	// UploadStorageTime is how long uploaded files are kept
	// ("maximumHttpFileUploadStorageTime").
	UploadStorageTime Days
	// ArchiveStorageTime is how long the message archive (XEP-0313) is kept
	// ("maximumMessageArchiveManagementStorageTime").
	ArchiveStorageTime Days
	// ProfessionalHosting ("professionalHosting").
	ProfessionalHosting bool
	// FreeOfCharge ("freeOfCharge").
	FreeOfCharge bool
	// LegalNotice per language ("legalNotice").
	LegalNotice Localized
	// ServerLocations are lower-case ISO 3166-1 alpha-2 country codes
	// ("serverLocations").
	ServerLocations []string
	// EmailSupport, ChatSupport and GroupChatSupport are support addresses
	// per language ("emailSupport", "chatSupport", "groupChatSupport").
	EmailSupport     LocalizedList
	ChatSupport      LocalizedList
	GroupChatSupport LocalizedList
	// Since is when the service became available, or when it was listed if
	// that is unknown ("since"; early v1 "onlineSince").
	Since Date

	// Sources holds, for a record read from the full providers.json, the
	// source of each property by its Field: a URL where the value was
	// verified, or "" when it is unverified. Nil for other formats. Use
	// Verified to query it.
	Sources map[Field]string
}

// New returns a record for domain jid whose properties are all unknown: the
// bus factor, sizes and times are -1 (not 0, which would mean "unlimited"),
// and everything else is empty or false. Decoders start from it, and so
// should programs that build a record from live observations.
func New(jid string) Provider {
	return Provider{
		JID:                jid,
		BusFactor:          Unknown,
		UploadFileSize:     Unknown,
		UploadTotalSize:    Unknown,
		UploadStorageTime:  Unknown,
		ArchiveStorageTime: Unknown,
	}
}

// Verified reports whether the value of f was backed by a source in the full
// providers.json. Records from other formats carry no sources, so it reports
// false and known=false.
func (p *Provider) Verified(f Field) (verified, known bool) {
	if p.Sources == nil {
		return false, false
	}
	src, ok := p.Sources[f]
	return ok && src != "", true
}

// FromProviderFile reports whether the full providers.json says the value of f
// came from the operator's provider file (/.well-known/xmpp-provider-v2.json).
func (p *Provider) FromProviderFile(f Field) bool {
	return strings.HasSuffix(p.Sources[f], "v2.json")
}

// Domains returns the main domain followed by the alternative ones.
func (p *Provider) Domains() []string {
	return append([]string{p.JID}, p.AlternativeJIDs...)
}

// HasLanguage reports whether the provider publishes a website, legal notice
// or support address in the language (a base language code such as "de";
// tags such as "de-AT" are reduced to it).
func (p *Provider) HasLanguage(lang string) bool {
	lang = baseLang(lang)
	if lang == "" {
		return false
	}
	_, w := p.Website[lang]
	_, l := p.LegalNotice[lang]
	_, e := p.EmailSupport[lang]
	_, c := p.ChatSupport[lang]
	_, g := p.GroupChatSupport[lang]
	return w || l || e || c || g
}

// InCountry reports whether one of the provider's servers is located in the
// country (ISO 3166-1 alpha-2, any case).
func (p *Provider) InCountry(country string) bool {
	country = strings.ToLower(strings.TrimSpace(country))
	return country != "" && slices.Contains(p.ServerLocations, country)
}

// CanRegister reports whether an account can be created at all: in-band from
// an app or on a web page.
func (p *Provider) CanRegister() bool {
	return p.InBandRegistration || len(p.RegistrationWebPage) > 0
}

// Clone returns a deep copy of p.
func (p Provider) Clone() Provider {
	p.deepen()
	return p
}

// deepen replaces the maps and slices of p by copies, so that p shares
// nothing with the record it was copied from. It works in place, so that
// a slice of records is cloned without a heap copy of each.
func (p *Provider) deepen() {
	for i := range fieldTable {
		fieldTable[i].copy(p, p)
	}
	if p.Sources != nil {
		src := p.Sources
		p.Sources = make(map[Field]string, len(src))
		for k, v := range src {
			p.Sources[k] = v
		}
	}
}

func cloneMap(m Localized) Localized {
	if m == nil {
		return nil
	}
	c := make(Localized, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneListMap(m LocalizedList) LocalizedList {
	if m == nil {
		return nil
	}
	c := make(LocalizedList, len(m))
	for k, v := range m {
		c[k] = slices.Clone(v)
	}
	return c
}

// CopyField sets field f of p to a deep copy of the value in src. It
// reports false, changing nothing, for a field it does not know. Sources are
// left alone.
func (p *Provider) CopyField(f Field, src *Provider) bool {
	d := lookup(f)
	if d == nil {
		return false
	}
	d.copy(p, src)
	return true
}
