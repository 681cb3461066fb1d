package providers_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/xmpp-onboard/onboard/providers"
)

// Pick a provider for a newcomer who speaks German and lives in Germany: a
// category A provider with in-band registration and no CAPTCHA, chosen at
// random among those that suit the user.
func ExampleList_Pick() {
	l := providers.Embedded()
	p, err := l.Pick(nil, providers.Query{
		Categories:         []providers.Category{providers.CategoryA},
		InBandRegistration: true,
		NoCaptcha:          true,
		Prefer:             providers.Preference{Language: "de", Country: "de"},
	})
	if err != nil {
		fmt.Println("no provider:", err)
		return
	}
	site, _, _ := p.Website.Pick("de")
	fmt.Println(p.Category, p.InBandRegistration, p.CaptchaRequired, strings.HasPrefix(site, "http"))
	// Output: A true false true
}

// A fixed seed makes the pick reproducible, for tests.
func ExampleList_Pick_seeded() {
	l := providers.Embedded()
	r := rand.New(rand.NewPCG(1, 1))
	a, _ := l.Pick(r, providers.Query{InBandRegistration: true})
	r = rand.New(rand.NewPCG(1, 1))
	b, _ := l.Pick(r, providers.Query{InBandRegistration: true})
	fmt.Println(a.JID == b.JID)
	// Output: true
}

// Filter keeps the providers that meet every requirement of the query.
func ExampleList_Filter() {
	l := providers.Embedded()
	big := l.Filter(providers.Query{
		Categories:        []providers.Category{providers.CategoryA},
		MinUploadFileSize: 100, // MB; "unlimited" qualifies, "unknown" does not
		MinArchiveTime:    30,  // days
	})
	for _, p := range big.Providers {
		if !p.UploadFileSize.AtLeast(100) || !p.ArchiveStorageTime.AtLeast(30) {
			fmt.Println("unexpected", p.JID)
		}
	}
	fmt.Println(big.Len() > 0, big.Len() < l.Len())
	// Output: true true
}

// Sizes and times carry their sentinels: ask, don't compare with -1 or 0.
func ExampleMegabytes() {
	for _, m := range []providers.Megabytes{0, -1, 104} {
		b, ok := m.Bytes()
		fmt.Println(m, m.Unlimited(), m.Known(), b, ok)
	}
	// Output:
	// unlimited true true 0 false
	// unknown false false 0 false
	// 104 MB false true 104000000 true
}

// Lookup finds a provider by its main domain or one of its alternative
// domains, ignoring case.
func ExampleList_Lookup() {
	l := providers.Embedded()
	p, ok := l.Lookup("Xabber.de")
	if ok {
		fmt.Println(p.JID, p.Category, p.InBandRegistration)
		fmt.Println(p.RegistrationWebPage.Pick("en"))
	}
	// Output:
	// draugr.de B false
	// https://www.draugr.de/registrierung/ en true
}
