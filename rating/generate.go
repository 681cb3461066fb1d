package rating

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/xmpp-onboard/onboard/providers"
)

// ProviderFileAnswers are what only the operator knows for a provider file:
// no probe can see who runs a service, how it is hosted or since when it
// runs. The fields map keys of the file; an empty map, list, string or date
// and a zero bus factor mean "take the live record's value".
type ProviderFileAnswers struct {
	// Organization is the kind of entity running the service
	// ("organization").
	Organization providers.Organization
	// BusFactor is the number of people the service could not survive
	// losing ("busFactor"); 0 takes the live record's (usually -1,
	// unknown).
	BusFactor providers.BusFactor
	// ServerTesting allows tests against the server ("serverTesting").
	ServerTesting bool
	// ProfessionalHosting: data-centre-like hosting with a fast
	// connection, uninterruptible power, access control and backups
	// ("professionalHosting").
	ProfessionalHosting bool
	// FreeOfCharge: the service can be used for free ("freeOfCharge").
	FreeOfCharge bool
	// Since is the date the service became available ("since").
	Since providers.Date
	// LegalNotice is the legal notice per language ("legalNotice").
	LegalNotice providers.Localized
	// Website is the website per language ("website").
	Website providers.Localized
	// PasswordReset is the page for resetting a password, or for
	// instructions, per language ("passwordReset").
	PasswordReset providers.Localized
	// ServerLocations are the countries of the servers, ISO 3166-1
	// alpha-2 ("serverLocations").
	ServerLocations []string
	// AlternativeJIDs are further domains offered for registration
	// ("alternativeJids").
	AlternativeJIDs []string
}

// wireFile is the provider file on the wire: the 14 keys in the order of
// the XMPP Providers generator (providers.ProviderFileFields).
type wireFile struct {
	Website             map[string]string `json:"website"`
	AlternativeJIDs     []string          `json:"alternativeJids"`
	BusFactor           int               `json:"busFactor"`
	Organization        string            `json:"organization"`
	PasswordReset       map[string]string `json:"passwordReset"`
	ServerTesting       bool              `json:"serverTesting"`
	UploadTotalSize     int64             `json:"maximumHttpFileUploadTotalSize"`
	UploadStorageTime   int               `json:"maximumHttpFileUploadStorageTime"`
	ArchiveStorageTime  int               `json:"maximumMessageArchiveManagementStorageTime"`
	ProfessionalHosting bool              `json:"professionalHosting"`
	FreeOfCharge        bool              `json:"freeOfCharge"`
	LegalNotice         map[string]string `json:"legalNotice"`
	ServerLocations     []string          `json:"serverLocations"`
	Since               string            `json:"since"`
}

// GenerateProviderFile writes the provider file
// (/.well-known/xmpp-provider-v2.json) for the service described by live,
// a record built from a live probe or a merged one, and the operator's
// answers.
//
// The upload quota and the storage times come from live
// (UploadTotalSize, UploadStorageTime, ArchiveStorageTime; set them on live
// to override what the probe saw). The answers give every other key; where
// an answer is empty, live's value is used. Codes are lower-cased, and
// duplicate alternative domains and the main domain (live.JID) are dropped
// from alternativeJids.
//
// The file is checked with a Validator for live.JID before it is returned;
// if the check finds errors (an unknown organization, a URL that is not
// http(s), a since in the future, …), GenerateProviderFile returns nil and a
// *FileError naming the keys. Warnings are not errors; run
// ValidateProviderFile on the output to see them. Validating the output
// gives back exactly the values written.
func GenerateProviderFile(live providers.Provider, answers ProviderFileAnswers) ([]byte, error) {
	w := wireFile{
		Website:             localized(answers.Website, live.Website),
		AlternativeJIDs:     alternatives(live.JID, pick(answers.AlternativeJIDs, live.AlternativeJIDs)),
		BusFactor:           int(live.BusFactor),
		Organization:        string(live.Organization),
		PasswordReset:       localized(answers.PasswordReset, live.PasswordReset),
		ServerTesting:       answers.ServerTesting,
		UploadTotalSize:     int64(live.UploadTotalSize),
		UploadStorageTime:   int(live.UploadStorageTime),
		ArchiveStorageTime:  int(live.ArchiveStorageTime),
		ProfessionalHosting: answers.ProfessionalHosting,
		FreeOfCharge:        answers.FreeOfCharge,
		LegalNotice:         localized(answers.LegalNotice, live.LegalNotice),
		ServerLocations:     countries(pick(answers.ServerLocations, live.ServerLocations)),
		Since:               live.Since.String(),
	}
	if answers.BusFactor != 0 {
		w.BusFactor = int(answers.BusFactor)
	}
	if answers.Organization != "" {
		w.Organization = string(answers.Organization)
	}
	if !answers.Since.IsZero() {
		w.Since = answers.Since.String()
	}

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	v := Validator{Domain: live.JID}
	if _, rep, err := v.Validate(bytes.NewReader(b.Bytes())); err != nil {
		return nil, &FileError{Problems: rep.Errors()}
	}
	return b.Bytes(), nil
}

func pick(answer, live []string) []string {
	if len(answer) > 0 {
		return answer
	}
	return live
}

// localized returns the answer, else live's value, with lower-case language
// codes and never nil.
func localized(answer, live providers.Localized) map[string]string {
	src := answer
	if len(src) == 0 {
		src = live
	}
	out := make(map[string]string, len(src))
	for _, k := range sortedKeys(src) {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; !dup {
			out[lk] = src[k]
		}
	}
	return out
}

// sortedKeys returns the keys of m with lower-case ones first, so that "de"
// wins over "DE" when both are present.
func sortedKeys(m providers.Localized) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		al, bl := strings.ToLower(a) == a, strings.ToLower(b) == b
		switch {
		case al && !bl:
			return -1
		case bl && !al:
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

func alternatives(main string, in []string) []string {
	out := []string{}
	for _, d := range in {
		d = strings.ToLower(d)
		if strings.EqualFold(d, main) || containsFold(out, d) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func countries(in []string) []string {
	out := []string{}
	for _, c := range in {
		c = strings.ToLower(c)
		if !containsFold(out, c) {
			out = append(out, c)
		}
	}
	return out
}
