package rating_test

import (
	"fmt"

	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

// Rate a provider from the embedded list on the list's publication date and
// show what keeps it out of the next better category.
func ExampleEvaluate() {
	list := providers.Embedded()
	p, ok := list.Lookup("404.city")
	if !ok {
		fmt.Println("not listed")
		return
	}
	r := rating.Evaluate(p, list.Published.Time())
	fmt.Printf("%s: category %s (published %s)\n", r.JID, r.Category, r.Published)
	next, missing := r.Next()
	for _, s := range missing {
		fmt.Printf("not %s: %s\n", next, s.Reason)
		fmt.Printf("  data: %s = %v, rule %s\n", s.Field, s.Value, s.Rule)
		fmt.Printf("  fix:  %s\n", s.Fix)
	}
	// Output:
	// 404.city: category B (published B)
	// not A: apps cannot create accounts: in-band registration (XEP-0077) is not offered or not verified
	//   data: inBandRegistration = false, rule true
	//   fix:  allow in-band registration (XEP-0077) so that apps can sign newcomers up
}

// A client that cannot show CAPTCHAs applies a stricter policy: category A
// additionally requires registration without a CAPTCHA.
func ExamplePolicy() {
	list := providers.Embedded()
	at := list.Published.Time()

	strict := rating.DefaultPolicy()
	strict.A.NoCaptcha = true

	var std, noCaptcha int
	for _, p := range list.Providers {
		if rating.Evaluate(p, at).Category == providers.CategoryA {
			std++
		}
		if strict.Evaluate(p, at).Category == providers.CategoryA {
			noCaptcha++
		}
	}
	fmt.Printf("category A: %d providers by default, %d without CAPTCHA\n", std, noCaptcha)
	// Output:
	// category A: 13 providers by default, 5 without CAPTCHA
}

// The criteria of a category are data that a program can list.
func ExampleRequirements_Criteria() {
	for _, c := range rating.DefaultPolicy().B.Criteria() {
		fmt.Println(c)
	}
	// Output:
	// one of in-band registration (XEP-0077), registration web page: required
	// XMPP Compliance Tester score: at least 100 %
	// file upload limit per file: at least 20 MB or no limit
	// file upload quota per user: at least 100 MB or no limit
	// storage time of uploaded files: at least 7 days or no limit
	// storage time of the message archive: at least 7 days or no limit
	// professional hosting: required
	// legal notice: required
	// server locations: required
	// one of e-mail support, chat support, group chat support: required
	// time in service: at least 365 days
}
