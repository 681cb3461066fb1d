package providers

import (
	"fmt"
	"math"
	"slices"
	"strings"
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

// fieldDesc is one row of the table: the description and the accessors.
type fieldDesc struct {
	FieldInfo
	decode func(p *Provider, raw []byte) error // raw is valid JSON
	value  func(p *Provider) any               // the JSON form, nil maps and lists made empty
	typed  func(p *Provider) any               // the Go type of the Provider field
	copy   func(dst, src *Provider)            // a deep copy
	loc    func(p *Provider) *Localized        // for KindLocalized
}

// The constructors of table rows, one per Go type.

func stringRow(f Field, label string, get func(*Provider) *string) fieldDesc {
	return fieldDesc{
		FieldInfo: FieldInfo{Field: f, Label: label, Kind: KindString},
		decode:    func(p *Provider, raw []byte) error { return strictString(raw, get(p)) },
		value:     func(p *Provider) any { return *get(p) },
		typed:     func(p *Provider) any { return *get(p) },
		copy:      func(d, s *Provider) { *get(d) = *get(s) },
	}
}

func boolRow(f Field, label string, file bool, get func(*Provider) *bool) fieldDesc {
	return fieldDesc{
		FieldInfo: FieldInfo{Field: f, Label: label, Kind: KindBool, ProviderFile: file},
		decode:    func(p *Provider, raw []byte) error { return strictBool(raw, get(p)) },
		value:     func(p *Provider) any { return *get(p) },
		typed:     func(p *Provider) any { return *get(p) },
		copy:      func(d, s *Provider) { *get(d) = *get(s) },
	}
}

// intRow is a row for an integer type T, encoded as J (int or int64).
func intRow[T ~int | ~int64, J int | int64](f Field, label string, file bool, min, max int64, get func(*Provider) *T) fieldDesc {
	return fieldDesc{
		FieldInfo: FieldInfo{Field: f, Label: label, Kind: KindInt, Min: min, Max: max, ProviderFile: file},
		decode: func(p *Provider, raw []byte) error {
			n, err := strictInt(raw, min, max)
			*get(p) = T(n)
			return err
		},
		value: func(p *Provider) any { return J(*get(p)) },
		typed: func(p *Provider) any { return *get(p) },
		copy:  func(d, s *Provider) { *get(d) = *get(s) },
	}
}

func dateRow(f Field, label string, file bool, get func(*Provider) *Date) fieldDesc {
	return fieldDesc{
		FieldInfo: FieldInfo{Field: f, Label: label, Kind: KindDate, ProviderFile: file},
		decode:    func(p *Provider, raw []byte) error { return strictDate(raw, get(p)) },
		value:     func(p *Provider) any { return get(p).String() },
		typed:     func(p *Provider) any { return *get(p) },
		copy:      func(d, s *Provider) { *get(d) = *get(s) },
	}
}

// stringsRow is a row for a list of strings; check vets and may rewrite
// each item.
func stringsRow(f Field, label string, file bool, check func(*string) error, get func(*Provider) *[]string) fieldDesc {
	value := func(p *Provider) any {
		if *get(p) == nil {
			return []string{}
		}
		return *get(p)
	}
	return fieldDesc{
		FieldInfo: FieldInfo{Field: f, Label: label, Kind: KindStrings, ProviderFile: file},
		decode: func(p *Provider, raw []byte) error {
			v := get(p)
			if err := strictStrings(raw, v); err != nil {
				return err
			}
			for i := range *v {
				if err := check(&(*v)[i]); err != nil {
					return err
				}
			}
			return nil
		},
		value: value,
		typed: value,
		copy:  func(d, s *Provider) { *get(d) = slices.Clone(*get(s)) },
	}
}

func localizedRow(f Field, label string, file bool, get func(*Provider) *Localized) fieldDesc {
	return fieldDesc{
		FieldInfo: FieldInfo{Field: f, Label: label, Kind: KindLocalized, Link: true, ProviderFile: file},
		decode:    func(p *Provider, raw []byte) error { return strictLocalized(raw, get(p)) },
		value: func(p *Provider) any {
			if *get(p) == nil {
				return map[string]string{}
			}
			return map[string]string(*get(p))
		},
		typed: func(p *Provider) any { return *get(p) },
		copy:  func(d, s *Provider) { *get(d) = cloneMap(*get(s)) },
		loc:   get,
	}
}

func localizedListRow(f Field, label string, get func(*Provider) *LocalizedList) fieldDesc {
	return fieldDesc{
		FieldInfo: FieldInfo{Field: f, Label: label, Kind: KindLocalizedList},
		decode:    func(p *Provider, raw []byte) error { return strictLocalizedList(raw, get(p)) },
		value: func(p *Provider) any {
			m := *get(p)
			out := make(map[string][]string, len(m))
			for k, v := range m {
				if v == nil {
					v = []string{}
				}
				out[k] = v
			}
			return out
		},
		typed: func(p *Provider) any { return *get(p) },
		copy:  func(d, s *Provider) { *get(d) = cloneListMap(*get(s)) },
	}
}

// fieldTable describes the 31 properties in the published order. It is
// the only place that knows which Go field holds which key; Decode,
// UnmarshalField, MarshalJSON, Value, Typed, CopyField, Clone, the link
// vetting, Fields and ProviderFileFields all go through it. It is never
// written after initialisation.
var fieldTable = [...]fieldDesc{
	func() fieldDesc {
		r := stringRow(FieldJID, "domain", func(p *Provider) *string { return &p.JID })
		r.decode = func(p *Provider, raw []byte) error {
			var s string
			if err := strictString(raw, &s); err != nil {
				return err
			}
			if err := CheckDomain(s); err != nil {
				return err
			}
			p.JID = s
			return nil
		}
		return r
	}(),
	{
		FieldInfo: FieldInfo{Field: FieldCategory, Label: "category", Kind: KindString},
		decode: func(p *Provider, raw []byte) error {
			var s string
			if err := strictString(raw, &s); err != nil {
				return err
			}
			c := Category(s)
			if c != "" && !c.Valid() { // "" is an unknown category
				return fmt.Errorf("invalid category %q (want A, B, C or D)", s)
			}
			p.Category = c
			return nil
		},
		value: func(p *Provider) any { return string(p.Category) },
		typed: func(p *Provider) any { return p.Category },
		copy:  func(d, s *Provider) { d.Category = s.Category },
	},
	dateRow(FieldLatestChange, "latest change", false, func(p *Provider) *Date { return &p.LatestChange }),
	localizedRow(FieldWebsite, "website", true, func(p *Provider) *Localized { return &p.Website }),
	stringsRow(FieldAlternativeJIDs, "alternative domains", true, func(s *string) error { return CheckDomain(*s) },
		func(p *Provider) *[]string { return &p.AlternativeJIDs }),
	intRow[BusFactor, int](FieldBusFactor, "bus factor", true, -1, math.MaxInt32, func(p *Provider) *BusFactor { return &p.BusFactor }),
	{
		FieldInfo: FieldInfo{Field: FieldOrganization, Label: "organization", Kind: KindString, ProviderFile: true},
		decode: func(p *Provider, raw []byte) error {
			var s string
			if err := strictString(raw, &s); err != nil {
				return err
			}
			p.Organization = Organization(s)
			if s != "" && !p.Organization.Known() {
				return fmt.Errorf("unknown organization %q", s)
			}
			return nil
		},
		value: func(p *Provider) any { return string(p.Organization) },
		typed: func(p *Provider) any { return p.Organization },
		copy:  func(d, s *Provider) { d.Organization = s.Organization },
	},
	localizedRow(FieldPasswordReset, "password reset", true, func(p *Provider) *Localized { return &p.PasswordReset }),
	boolRow(FieldServerTesting, "server testing", true, func(p *Provider) *bool { return &p.ServerTesting }),
	stringRow(FieldServerSoftwareName, "server software", func(p *Provider) *string { return &p.ServerSoftwareName }),
	stringRow(FieldServerSoftwareVersion, "server software version", func(p *Provider) *string { return &p.ServerSoftwareVersion }),
	boolRow(FieldGreenWebCheck, "green hosting", false, func(p *Provider) *bool { return &p.GreenWebCheck }),
	boolRow(FieldInBandRegistration, "in-band registration (XEP-0077)", false, func(p *Provider) *bool { return &p.InBandRegistration }),
	boolRow(FieldEmailRequired, "e-mail address at registration", false, func(p *Provider) *bool { return &p.EmailRequired }),
	boolRow(FieldCaptchaRequired, "CAPTCHA at registration", false, func(p *Provider) *bool { return &p.CaptchaRequired }),
	localizedRow(FieldRegistrationWebPage, "registration web page", false, func(p *Provider) *Localized { return &p.RegistrationWebPage }),
	intRow[int, int](FieldComplianceTester, "XMPP Compliance Tester score", false, 0, 100, func(p *Provider) *int { return &p.ComplianceTester }),
	stringRow(FieldObservatoryC2S, "IM Observatory grade (client to server)", func(p *Provider) *string { return &p.ObservatoryC2S }),
	stringRow(FieldObservatoryS2S, "IM Observatory grade (server to server)", func(p *Provider) *string { return &p.ObservatoryS2S }),
	intRow[Megabytes, int64](FieldUploadFileSize, "file upload limit per file", false, -1, math.MaxInt64, func(p *Provider) *Megabytes { return &p.UploadFileSize }),
	intRow[Megabytes, int64](FieldUploadTotalSize, "file upload quota per user", true, -1, math.MaxInt64, func(p *Provider) *Megabytes { return &p.UploadTotalSize }),
	intRow[Days, int](FieldUploadStorageTime, "storage time of uploaded files", true, -1, math.MaxInt32, func(p *Provider) *Days { return &p.UploadStorageTime }),
	intRow[Days, int](FieldArchiveStorageTime, "storage time of the message archive", true, -1, math.MaxInt32, func(p *Provider) *Days { return &p.ArchiveStorageTime }),
	boolRow(FieldProfessionalHosting, "professional hosting", true, func(p *Provider) *bool { return &p.ProfessionalHosting }),
	boolRow(FieldFreeOfCharge, "free of charge", true, func(p *Provider) *bool { return &p.FreeOfCharge }),
	localizedRow(FieldLegalNotice, "legal notice", true, func(p *Provider) *Localized { return &p.LegalNotice }),
	stringsRow(FieldServerLocations, "server locations", true, checkCountry, func(p *Provider) *[]string { return &p.ServerLocations }),
	localizedListRow(FieldEmailSupport, "e-mail support", func(p *Provider) *LocalizedList { return &p.EmailSupport }),
	localizedListRow(FieldChatSupport, "chat support", func(p *Provider) *LocalizedList { return &p.ChatSupport }),
	localizedListRow(FieldGroupChatSupport, "group chat support", func(p *Provider) *LocalizedList { return &p.GroupChatSupport }),
	dateRow(FieldSince, "available since", true, func(p *Provider) *Date { return &p.Since }),
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
func checkCountry(c *string) error {
	if len(*c) != 2 || !asciiLetters(*c) {
		return fmt.Errorf("invalid country code %q (want ISO 3166-1 alpha-2)", *c)
	}
	*c = strings.ToLower(*c)
	return nil
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
