package providerfile_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
)

func ExampleValidator_Validate() {
	file := `{
	  "website": {"en": "https://chat.example.org/"},
	  "alternativeJids": [],
	  "busFactor": 2,
	  "organization": "non-governmental",
	  "passwordReset": {},
	  "serverTesting": false,
	  "maximumHttpFileUploadTotalSize": 1024,
	  "maximumHttpFileUploadStorageTime": 30,
	  "maximumMessageArchiveManagementStorageTime": 0,
	  "professionalHosting": true,
	  "freeOfCharge": true,
	  "legalNotice": {"en": "https://chat.example.org/legal"},
	  "serverLocations": ["DE"],
	  "since": "2019-05-01",
	  "x-comment": "made by hand"
	}`
	v := providerfile.Validator{Domain: "chat.example.org", At: time.Date(2026, 7, 22, 0, 0, 0, 0, time.UTC)}
	p, rep, err := v.Validate(strings.NewReader(file))
	fmt.Println("usable:", err == nil)
	for _, pr := range rep.Problems {
		fmt.Println(pr)
	}
	fmt.Println(p.JID, p.UploadTotalSize, p.ServerLocations)
	// Output:
	// usable: true
	// warning: maximumHttpFileUploadTotalSize: 1024 looks like MiB; the unit is MB (10^6 bytes), so 1024 MiB is 1073
	// warning: serverLocations: country code "DE" should be lower-case "de"
	// warning: x-comment: unknown key, ignored
	// chat.example.org 1024 MB [de]
}

func ExampleGenerate() {
	// What a probe of the server saw: upload limits and retention.
	live := providers.New("chat.example.org")
	live.UploadTotalSize = 1000
	live.UploadStorageTime = 30
	live.ArchiveStorageTime = 0
	// What only the operator knows.
	answers := providerfile.Answers{
		Organization:        providers.OrganizationNonGovernmental,
		BusFactor:           2,
		ProfessionalHosting: true,
		FreeOfCharge:        true,
		Since:               providers.Date{Year: 2019, Month: 5, Day: 1},
		Website:             providers.Localized{"en": "https://chat.example.org/"},
		LegalNotice:         providers.Localized{"en": "https://chat.example.org/legal"},
		ServerLocations:     []string{"DE"},
	}
	out, err := providerfile.Generate(live, answers)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// {
	//   "website": {
	//     "en": "https://chat.example.org/"
	//   },
	//   "alternativeJids": [],
	//   "busFactor": 2,
	//   "organization": "non-governmental",
	//   "passwordReset": {},
	//   "serverTesting": false,
	//   "maximumHttpFileUploadTotalSize": 1000,
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
	//   "since": "2019-05-01"
	// }
}
