package providers

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unsafe"
)

// Field names one property of a provider by its JSON key in API v2. Programs
// use it to say which property a rating criterion, a source or a decode error
// is about.
type Field string

// The 31 keys of an API v2 filtered list entry, in the order the lists use.
const (
	FieldJID                   Field = "jid"
	FieldCategory              Field = "category"
	FieldLatestChange          Field = "latestChange"
	FieldWebsite               Field = "website"
	FieldAlternativeJIDs       Field = "alternativeJids"
	FieldBusFactor             Field = "busFactor"
	FieldOrganization          Field = "organization"
	FieldPasswordReset         Field = "passwordReset"
	FieldServerTesting         Field = "serverTesting"
	FieldServerSoftwareName    Field = "serverSoftwareName"
	FieldServerSoftwareVersion Field = "serverSoftwareVersion"
	FieldGreenWebCheck         Field = "ratingGreenWebCheck"
	FieldInBandRegistration    Field = "inBandRegistration"
	FieldEmailRequired         Field = "inBandRegistrationEmailAddressRequired"
	FieldCaptchaRequired       Field = "inBandRegistrationCaptchaRequired"
	FieldRegistrationWebPage   Field = "registrationWebPage"
	FieldComplianceTester      Field = "ratingXmppComplianceTester"
	FieldObservatoryC2S        Field = "ratingImObservatoryClientToServer"
	FieldObservatoryS2S        Field = "ratingImObservatoryServerToServer"
	FieldUploadFileSize        Field = "maximumHttpFileUploadFileSize"
	FieldUploadTotalSize       Field = "maximumHttpFileUploadTotalSize"
	FieldUploadStorageTime     Field = "maximumHttpFileUploadStorageTime"
	FieldArchiveStorageTime    Field = "maximumMessageArchiveManagementStorageTime"
	FieldProfessionalHosting   Field = "professionalHosting"
	FieldFreeOfCharge          Field = "freeOfCharge"
	FieldLegalNotice           Field = "legalNotice"
	FieldServerLocations       Field = "serverLocations"
	FieldEmailSupport          Field = "emailSupport"
	FieldChatSupport           Field = "chatSupport"
	FieldGroupChatSupport      Field = "groupChatSupport"
	FieldSince                 Field = "since"
)

// Kind is the shape of a property's value, in Go and in JSON.
type Kind int

// The kinds of properties.
const (
	KindString        Kind = iota + 1 // a string (or a named string type: Category, Organization)
	KindBool                          // a boolean
	KindInt                           // an integer (int, BusFactor, Megabytes, Days)
	KindDate                          // a Date, "YYYY-MM-DD" in JSON
	KindStrings                       // a list of strings
	KindLocalized                     // a Localized map, language → one value
	KindLocalizedList                 // a LocalizedList map, language → list
)

// FieldInfo describes one property for programs that treat properties
// generically: its key, a name for people, the shape of its value and
// where it is published. It is what [Describe] returns; every part of the
// package that reads, writes, copies or vets a property goes by the same
// description, so a new key is one entry of one table.
type FieldInfo struct {
	// Field is the key.
	Field Field
	// Label names the property for people, in lower case, as in "file
	// upload limit per file".
	Label string
	// Kind is the shape of the value.
	Kind Kind
	// Min and Max bound a KindInt value (both inclusive); -1 is the
	// "unknown" sentinel where Min is -1.
	Min, Max int64
	// Link reports that the values are web links (the per-language
	// website, password reset, registration page and legal notice) that
	// Decode vets with internal/netguard.
	Link bool
	// ProviderFile reports that operators publish the property in their
	// provider file (/.well-known/xmpp-provider-v2.json).
	ProviderFile bool
}

// goType is the Go type of a Provider field, which says how a row reads,
// writes and copies it.
type goType int

const (
	tString goType = iota + 1
	tCategory
	tOrganization
	tBool
	tInt
	tBusFactor
	tMegabytes
	tDays
	tDate
	tStrings
	tLocalized
	tLocalizedList
)

// fieldDesc is one row of the table: the description, where the value
// lives in a Provider (an offset, so that the accessors are plain loads
// and stores that let no *Provider escape to the heap), its Go type, and
// an extra check of strings.
type fieldDesc struct {
	FieldInfo
	off uintptr
	typ goType
	// check vets a string value, or each item of a list of strings, after
	// the JSON type has been checked, and returns it as it is to be
	// stored.
	check func(string) (string, error)
}

// at returns a pointer to the field of p at off, as a *T.
func at[T any](p *Provider, off uintptr) *T { return (*T)(unsafe.Add(unsafe.Pointer(p), off)) }

// row makes a row; kind follows from the Go type.
func row(f Field, label string, file bool, off uintptr, typ goType) fieldDesc {
	kinds := map[goType]Kind{
		tString: KindString, tCategory: KindString, tOrganization: KindString, tBool: KindBool,
		tInt: KindInt, tBusFactor: KindInt, tMegabytes: KindInt, tDays: KindInt, tDate: KindDate,
		tStrings: KindStrings, tLocalized: KindLocalized, tLocalizedList: KindLocalizedList,
	}
	d := fieldDesc{FieldInfo: FieldInfo{Field: f, Label: label, Kind: kinds[typ], ProviderFile: file}, off: off, typ: typ}
	switch typ {
	case tBusFactor, tDays:
		d.Min, d.Max = -1, math.MaxInt32
	case tMegabytes:
		d.Min, d.Max = -1, math.MaxInt64
	case tLocalized:
		d.Link = true
	}
	return d
}

func (d fieldDesc) checked(check func(string) (string, error)) fieldDesc {
	d.check = check
	return d
}

func (d fieldDesc) bounded(min, max int64) fieldDesc {
	d.Min, d.Max = min, max
	return d
}

// decode sets the field of p from raw, valid JSON.
func (d *fieldDesc) decode(p *Provider, raw []byte) error {
	switch d.typ {
	case tString, tCategory, tOrganization:
		var s string
		if err := strictString(raw, &s); err != nil {
			return err
		}
		if d.check != nil {
			var err error
			if s, err = d.check(s); err != nil {
				return err
			}
		}
		*at[string](p, d.off) = s // Category and Organization are strings
	case tBool:
		return strictBool(raw, at[bool](p, d.off))
	case tInt, tBusFactor, tMegabytes, tDays:
		n, err := strictInt(raw, d.Min, d.Max)
		if err != nil {
			return err
		}
		switch d.typ {
		case tMegabytes:
			*at[Megabytes](p, d.off) = Megabytes(n)
		default: // int, BusFactor and Days are ints
			*at[int](p, d.off) = int(n)
		}
	case tDate:
		return strictDate(raw, at[Date](p, d.off))
	case tStrings:
		v := at[[]string](p, d.off)
		if err := strictStrings(raw, v); err != nil {
			return err
		}
		if d.check != nil {
			for i, s := range *v {
				var err error
				if (*v)[i], err = d.check(s); err != nil {
					return err
				}
			}
		}
	case tLocalized:
		return strictLocalized(raw, at[Localized](p, d.off))
	case tLocalizedList:
		return strictLocalizedList(raw, at[LocalizedList](p, d.off))
	}
	return nil
}

// typed returns the value with the Go type of the field; lists of
// strings are never nil.
func (d *fieldDesc) typed(p *Provider) any {
	switch d.typ {
	case tString:
		return *at[string](p, d.off)
	case tCategory:
		return *at[Category](p, d.off)
	case tOrganization:
		return *at[Organization](p, d.off)
	case tBool:
		return *at[bool](p, d.off)
	case tInt:
		return *at[int](p, d.off)
	case tBusFactor:
		return *at[BusFactor](p, d.off)
	case tMegabytes:
		return *at[Megabytes](p, d.off)
	case tDays:
		return *at[Days](p, d.off)
	case tDate:
		return *at[Date](p, d.off)
	case tStrings:
		if v := *at[[]string](p, d.off); v != nil {
			return v
		}
		return []string{}
	case tLocalized:
		return *at[Localized](p, d.off)
	case tLocalizedList:
		return *at[LocalizedList](p, d.off)
	}
	return nil
}

// value returns the JSON form of the value, with nil maps and lists made
// empty.
func (d *fieldDesc) value(p *Provider) any {
	switch d.typ {
	case tCategory, tOrganization:
		return *at[string](p, d.off)
	case tBusFactor, tDays:
		return *at[int](p, d.off)
	case tMegabytes:
		return int64(*at[Megabytes](p, d.off))
	case tDate:
		return at[Date](p, d.off).String()
	case tLocalized:
		if m := *at[Localized](p, d.off); m != nil {
			return map[string]string(m)
		}
		return map[string]string{}
	case tLocalizedList:
		m := *at[LocalizedList](p, d.off)
		out := make(map[string][]string, len(m))
		for k, v := range m {
			if v == nil {
				v = []string{}
			}
			out[k] = v
		}
		return out
	}
	return d.typed(p)
}

// copy sets the field of dst to a deep copy of src's; dst may be src.
func (d *fieldDesc) copy(dst, src *Provider) {
	switch d.typ {
	case tString, tCategory, tOrganization:
		*at[string](dst, d.off) = *at[string](src, d.off)
	case tBool:
		*at[bool](dst, d.off) = *at[bool](src, d.off)
	case tInt, tBusFactor, tDays:
		*at[int](dst, d.off) = *at[int](src, d.off)
	case tMegabytes:
		*at[Megabytes](dst, d.off) = *at[Megabytes](src, d.off)
	case tDate:
		*at[Date](dst, d.off) = *at[Date](src, d.off)
	case tStrings:
		*at[[]string](dst, d.off) = slices.Clone(*at[[]string](src, d.off))
	case tLocalized:
		*at[Localized](dst, d.off) = cloneMap(*at[Localized](src, d.off))
	case tLocalizedList:
		*at[LocalizedList](dst, d.off) = cloneListMap(*at[LocalizedList](src, d.off))
	}
}

// loc returns the map of a KindLocalized field.
func (d *fieldDesc) loc(p *Provider) *Localized { return at[Localized](p, d.off) }

// The Go types the offsets rely on: Category and Organization are
// strings, BusFactor and Days ints; the compiler checks it here.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(Category(""))-unsafe.Sizeof("")]
	_ = [1]struct{}{}[unsafe.Sizeof(Organization(""))-unsafe.Sizeof("")]
	_ = [1]struct{}{}[unsafe.Sizeof(BusFactor(0))-unsafe.Sizeof(0)]
	_ = [1]struct{}{}[unsafe.Sizeof(Days(0))-unsafe.Sizeof(0)]
)

// fieldTable describes the 31 properties in the published order. It is
// the only place that knows which Go field holds which key; Decode,
// UnmarshalField, MarshalJSON, Value, Typed, CopyField, Clone, the link
// vetting, Fields and ProviderFileFields all go through it. It is never
// written after initialisation.
var fieldTable = [...]fieldDesc{
	row(FieldJID, "domain", false, unsafe.Offsetof(Provider{}.JID), tString).checked(checkDomain),
	row(FieldCategory, "category", false, unsafe.Offsetof(Provider{}.Category), tCategory).checked(checkCategory),
	row(FieldLatestChange, "latest change", false, unsafe.Offsetof(Provider{}.LatestChange), tDate),
	row(FieldWebsite, "website", true, unsafe.Offsetof(Provider{}.Website), tLocalized),
	row(FieldAlternativeJIDs, "alternative domains", true, unsafe.Offsetof(Provider{}.AlternativeJIDs), tStrings).checked(checkDomain),
	row(FieldBusFactor, "bus factor", true, unsafe.Offsetof(Provider{}.BusFactor), tBusFactor),
	row(FieldOrganization, "organization", true, unsafe.Offsetof(Provider{}.Organization), tOrganization).checked(checkOrganization),
	row(FieldPasswordReset, "password reset", true, unsafe.Offsetof(Provider{}.PasswordReset), tLocalized),
	row(FieldServerTesting, "server testing", true, unsafe.Offsetof(Provider{}.ServerTesting), tBool),
	row(FieldServerSoftwareName, "server software", false, unsafe.Offsetof(Provider{}.ServerSoftwareName), tString),
	row(FieldServerSoftwareVersion, "server software version", false, unsafe.Offsetof(Provider{}.ServerSoftwareVersion), tString),
	row(FieldGreenWebCheck, "green hosting", false, unsafe.Offsetof(Provider{}.GreenWebCheck), tBool),
	row(FieldInBandRegistration, "in-band registration (XEP-0077)", false, unsafe.Offsetof(Provider{}.InBandRegistration), tBool),
	row(FieldEmailRequired, "e-mail address at registration", false, unsafe.Offsetof(Provider{}.EmailRequired), tBool),
	row(FieldCaptchaRequired, "CAPTCHA at registration", false, unsafe.Offsetof(Provider{}.CaptchaRequired), tBool),
	row(FieldRegistrationWebPage, "registration web page", false, unsafe.Offsetof(Provider{}.RegistrationWebPage), tLocalized),
	row(FieldComplianceTester, "XMPP Compliance Tester score", false, unsafe.Offsetof(Provider{}.ComplianceTester), tInt).bounded(0, 100),
	row(FieldObservatoryC2S, "IM Observatory grade (client to server)", false, unsafe.Offsetof(Provider{}.ObservatoryC2S), tString),
	row(FieldObservatoryS2S, "IM Observatory grade (server to server)", false, unsafe.Offsetof(Provider{}.ObservatoryS2S), tString),
	row(FieldUploadFileSize, "file upload limit per file", false, unsafe.Offsetof(Provider{}.UploadFileSize), tMegabytes),
	row(FieldUploadTotalSize, "file upload quota per user", true, unsafe.Offsetof(Provider{}.UploadTotalSize), tMegabytes),
	row(FieldUploadStorageTime, "storage time of uploaded files", true, unsafe.Offsetof(Provider{}.UploadStorageTime), tDays),
	row(FieldArchiveStorageTime, "storage time of the message archive", true, unsafe.Offsetof(Provider{}.ArchiveStorageTime), tDays),
	row(FieldProfessionalHosting, "professional hosting", true, unsafe.Offsetof(Provider{}.ProfessionalHosting), tBool),
	row(FieldFreeOfCharge, "free of charge", true, unsafe.Offsetof(Provider{}.FreeOfCharge), tBool),
	row(FieldLegalNotice, "legal notice", true, unsafe.Offsetof(Provider{}.LegalNotice), tLocalized),
	row(FieldServerLocations, "server locations", true, unsafe.Offsetof(Provider{}.ServerLocations), tStrings).checked(checkCountry),
	row(FieldEmailSupport, "e-mail support", false, unsafe.Offsetof(Provider{}.EmailSupport), tLocalizedList),
	row(FieldChatSupport, "chat support", false, unsafe.Offsetof(Provider{}.ChatSupport), tLocalizedList),
	row(FieldGroupChatSupport, "group chat support", false, unsafe.Offsetof(Provider{}.GroupChatSupport), tLocalizedList),
	row(FieldSince, "available since", true, unsafe.Offsetof(Provider{}.Since), tDate),
}

func checkDomain(s string) (string, error) { return s, CheckDomain(s) }

func checkCategory(s string) (string, error) {
	if c := Category(s); c != "" && !c.Valid() { // "" is an unknown category
		return s, fmt.Errorf("invalid category %q (want A, B, C or D)", s)
	}
	return s, nil
}

func checkOrganization(s string) (string, error) {
	if o := Organization(s); o != "" && !o.Known() {
		return s, fmt.Errorf("unknown organization %q", s)
	}
	return s, nil
}

// fieldIndex finds a row by key. It is never written after
// initialisation.
var fieldIndex = func() map[Field]*fieldDesc {
	m := make(map[Field]*fieldDesc, len(fieldTable))
	for i := range fieldTable {
		m[fieldTable[i].Field] = &fieldTable[i]
	}
	return m
}()

func lookup(f Field) *fieldDesc { return fieldIndex[f] }

func knownField(f Field) bool { return fieldIndex[f] != nil }

// checkCountry accepts an ISO 3166-1 alpha-2 code in any case and
// lower-cases it.
func checkCountry(c string) (string, error) {
	if len(c) != 2 || !asciiLetters(c) {
		return c, fmt.Errorf("invalid country code %q (want ISO 3166-1 alpha-2)", c)
	}
	return strings.ToLower(c), nil
}

// Describe returns the description of property f; ok is false for a key
// that is not one of the 31.
func Describe(f Field) (info FieldInfo, ok bool) {
	d := lookup(f)
	if d == nil {
		return FieldInfo{}, false
	}
	return d.FieldInfo, true
}

// Fields returns the 31 keys of a filtered-list entry in published order.
func Fields() []Field {
	out := make([]Field, len(fieldTable))
	for i := range fieldTable {
		out[i] = fieldTable[i].Field
	}
	return out
}

// ProviderFileFields returns the 14 keys an operator publishes in
// /.well-known/xmpp-provider-v2.json, in the generator's order (which is
// also their order in the lists).
func ProviderFileFields() []Field {
	out := make([]Field, 0, 14)
	for i := range fieldTable {
		if fieldTable[i].ProviderFile {
			out = append(out, fieldTable[i].Field)
		}
	}
	return out
}
