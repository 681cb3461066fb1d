package rating_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

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

// Check an operator's provider file before publishing it.
func ExampleValidateProviderFile() {
	const file = `{
	  "website": {"en": "https://chat.example.org/"},
	  "alternativeJids": [],
	  "busFactor": 2,
	  "organization": "private person",
	  "passwordReset": {},
	  "serverTesting": false,
	  "maximumHttpFileUploadTotalSize": 1024,
	  "maximumHttpFileUploadStorageTime": 30,
	  "maximumMessageArchiveManagementStorageTime": 0,
	  "professionalHosting": true,
	  "freeOfCharge": "yes",
	  "legalNotice": {"en": "http://chat.example.org/legal"},
	  "serverLocations": ["DE"],
	  "since": "2021-03-01"
	}`
	p, report, err := rating.ValidateProviderFile(strings.NewReader(file))
	for _, pr := range report.Problems {
		fmt.Println(pr)
	}
	if errors.Is(err, rating.ErrInvalid) {
		fmt.Println("invalid; usable values:", p.UploadTotalSize, p.ServerLocations, p.Since)
	}
	// Output:
	// warning: maximumHttpFileUploadTotalSize: 1024 looks like MiB; the unit is MB (10^6 bytes), so 1024 MiB is 1073
	// error: freeOfCharge: want true or false, got a string
	// warning: legalNotice: language "en": "http://chat.example.org/legal" is not https; clients may refuse to open it
	// warning: serverLocations: country code "DE" should be lower-case "de"
	// invalid; usable values: 1024 MB [de] 2021-03-01
}

// Rate a listed provider on what a live probe observed: the observed
// values replace the listed ones.
func ExampleMerge() {
	list := providers.Embedded()
	listed, _ := list.Lookup("07f.de")

	live := providers.New("07f.de") // as built by a probe
	live.UploadFileSize = 10        // XEP-0363 max-file-size, now 10 MB
	observed := []providers.Field{providers.FieldUploadFileSize}

	p, prov := rating.Merge(listed, live, observed)
	r := rating.Evaluate(p, list.Published.Time())
	fmt.Println("listed:", listed.Category, "now:", r.Category)
	fmt.Println(providers.FieldUploadFileSize, "from", prov.Of(providers.FieldUploadFileSize))
	fmt.Println(providers.FieldLegalNotice, "from", prov.Of(providers.FieldLegalNotice))
	// Output:
	// listed: A now: C
	// maximumHttpFileUploadFileSize from live
	// legalNotice from list
}

// Write a provider file from a probe's record and the operator's answers.
func ExampleGenerateProviderFile() {
	live := providers.New("chat.example.org")
	live.UploadTotalSize = 500
	live.UploadStorageTime = 30
	live.ArchiveStorageTime = 0 // no limit

	b, err := rating.GenerateProviderFile(live, rating.ProviderFileAnswers{
		Organization:        providers.OrganizationPrivatePerson,
		BusFactor:           1,
		ProfessionalHosting: true,
		FreeOfCharge:        true,
		Since:               providers.Date{Year: 2021, Month: 3, Day: 1},
		Website:             providers.Localized{"en": "https://chat.example.org/"},
		LegalNotice:         providers.Localized{"en": "https://chat.example.org/legal"},
		ServerLocations:     []string{"de"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(b)
	// Output:
	// {
	//   "website": {
	//     "en": "https://chat.example.org/"
	//   },
	//   "alternativeJids": [],
	//   "busFactor": 1,
	//   "organization": "private person",
	//   "passwordReset": {},
	//   "serverTesting": false,
	//   "maximumHttpFileUploadTotalSize": 500,
	//   "maximumHttpFileUploadStorageTime": 30,
	//   "maximumMessageArchiveManagementStorageTime": 0,
	//   "professionalHosting": true,
	//   "freeOfCharge": true,
	//   "legalNotice": {
	//     "en": "https://chat.example.org/legal"
	//   },
	//   "serverLocations": [
	//     "de"
	//   ],
	//   "since": "2021-03-01"
	// }
}
