package rating

import "github.com/xmpp-onboard/onboard/providers"

// Registration says how accounts must be creatable for a category.
type Registration int

// The registration requirements. The zero value requires nothing.
const (
	// RegistrationAny places no requirement on registration.
	RegistrationAny Registration = iota
	// RegistrationPossible requires that accounts can be created at all:
	// in-band from an app (XEP-0077) or on a registration web page.
	RegistrationPossible
	// RegistrationInBand requires in-band registration from apps
	// (XEP-0077), so that an app can sign a newcomer up without a browser.
	RegistrationInBand
)

// String names the requirement.
func (r Registration) String() string {
	switch r {
	case RegistrationAny:
		return "any"
	case RegistrationPossible:
		return "in-band or web page"
	case RegistrationInBand:
		return "in-band"
	}
	return "invalid"
}

// Requirements are the criteria of one category. Every field is one
// criterion; its zero value means "no requirement", so the zero Requirements
// are met by every provider. Sizes and times follow the sentinels of the
// data: a provider value of 0 (no limit) meets every minimum and -1 (unknown
// or less than one unit) meets none.
type Requirements struct {
	// Registration says how accounts must be creatable
	// ("inBandRegistration", "registrationWebPage").
	Registration Registration
	// FreeOfCharge requires that the service is free ("freeOfCharge").
	FreeOfCharge bool
	// MinComplianceTester is the lowest acceptable XMPP Compliance Tester
	// score in percent ("ratingXmppComplianceTester"); 0 means no minimum.
	MinComplianceTester int
	// MinUploadFileSize is the smallest acceptable HTTP File Upload limit
	// per file ("maximumHttpFileUploadFileSize"); 0 means no minimum.
	MinUploadFileSize providers.Megabytes
	// MinUploadTotalSize is the smallest acceptable upload quota per user
	// ("maximumHttpFileUploadTotalSize"); 0 means no minimum.
	MinUploadTotalSize providers.Megabytes
	// MinUploadStorageTime is the shortest acceptable time uploaded files
	// are kept ("maximumHttpFileUploadStorageTime"); 0 means no minimum.
	MinUploadStorageTime providers.Days
	// MinArchiveStorageTime is the shortest acceptable time the message
	// archive is kept ("maximumMessageArchiveManagementStorageTime"); 0
	// means no minimum.
	MinArchiveStorageTime providers.Days
	// ProfessionalHosting requires data-centre-like hosting
	// ("professionalHosting").
	ProfessionalHosting bool
	// LegalNotice requires a legal notice in at least one language
	// ("legalNotice").
	LegalNotice bool
	// ServerLocations requires at least one known server country
	// ("serverLocations").
	ServerLocations bool
	// Support requires at least one support address: e-mail, chat or group
	// chat ("emailSupport", "chatSupport", "groupChatSupport").
	Support bool
	// MinAge is how many days before the rating date the service must have
	// been available ("since"); 0 means no minimum. An unknown start date
	// never meets a minimum.
	MinAge providers.Days

	// The criteria below are not part of the published XMPP Providers
	// categories; they let a client be stricter.

	// ObservatoryGrade, if set, is the grade the legacy IM Observatory must
	// have given both client-to-server and server-to-server connections
	// ("ratingImObservatoryClientToServer",
	// "ratingImObservatoryServerToServer"). See the package documentation
	// for why the default policy leaves it empty.
	ObservatoryGrade string
	// NoCaptcha requires registration without a CAPTCHA
	// ("inBandRegistrationCaptchaRequired" false).
	NoCaptcha bool
	// NoEmail requires registration without an e-mail address
	// ("inBandRegistrationEmailAddressRequired" false).
	NoEmail bool
	// MinBusFactor is the smallest acceptable bus factor ("busFactor"); 0
	// means no minimum, and an unknown bus factor meets no minimum.
	MinBusFactor providers.BusFactor
}

// Policy holds the requirements of categories A, B and C; a provider that
// meets none of them is in category D. A provider is in the best category
// whose requirements it meets in full.
//
// A Policy is plain data: start from [DefaultPolicy] and change fields to
// apply a stricter or looser policy of your own. The zero Policy requires
// nothing, so it puts every provider in category A.
type Policy struct {
	// A holds the criteria of category A: best properties, in-band
	// registration, free of charge.
	A Requirements
	// B holds the criteria of category B: best properties, some way to
	// register.
	B Requirements
	// C holds the criteria of category C: average properties.
	C Requirements
}

// DefaultPolicy returns the criteria of XMPP Providers (API v2) as far as
// they are known; see the package documentation for which thresholds are
// confirmed and which are reconstructed.
//
// Categories A and B share the "best properties": a Compliance Tester score
// of 100 %, uploads of at least 20 MB per file and 100 MB per user, uploaded
// files and the message archive kept at least 7 days (or without limit),
// professional hosting, a legal notice, known server locations, a support
// address, and at least 365 days of service. A also needs in-band
// registration and no fee; B needs registration in-band or on a web page. C
// (reconstructed) needs registration in-band or on a web page and a score of
// at least 90 %.
func DefaultPolicy() Policy {
	best := Requirements{
		MinComplianceTester:   100,
		MinUploadFileSize:     20,
		MinUploadTotalSize:    100,
		MinUploadStorageTime:  7,
		MinArchiveStorageTime: 7,
		ProfessionalHosting:   true,
		LegalNotice:           true,
		ServerLocations:       true,
		Support:               true,
		MinAge:                365,
	}
	a := best
	a.Registration = RegistrationInBand
	a.FreeOfCharge = true
	b := best
	b.Registration = RegistrationPossible
	return Policy{
		A: a,
		B: b,
		C: Requirements{
			Registration:        RegistrationPossible,
			MinComplianceTester: 90,
		},
	}
}

// Requirements returns the requirements of category c. For D, which has
// none, and for an invalid category it returns the zero Requirements and
// false.
func (pol Policy) Requirements(c providers.Category) (Requirements, bool) {
	switch c {
	case providers.CategoryA:
		return pol.A, true
	case providers.CategoryB:
		return pol.B, true
	case providers.CategoryC:
		return pol.C, true
	}
	return Requirements{}, false
}

// rated returns the categories that have requirements, best first.
func rated() [3]providers.Category {
	return [3]providers.Category{providers.CategoryA, providers.CategoryB, providers.CategoryC}
}
