package providerfile

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/xmpp-onboard/onboard/providers"
)

// Answers are what only the operator knows for a provider file: no probe
// can see who runs a service, how it is hosted or since when it runs. The
// fields map keys of the file; an empty map, list, string or date and a
// zero bus factor mean "take the live record's value".
type Answers struct {
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

// Record returns the provider-file properties that Generate writes for
// live and a: the answers where given, live's values otherwise, with
// lower-case codes, and without duplicate alternative domains or the main
// domain (live.JID) among them. The other properties are live's.
func (a Answers) Record(live providers.Provider) providers.Provider {
	p := live.Clone()
	p.Website = localized(a.Website, live.Website)
	p.AlternativeJIDs = alternatives(live.JID, pick(a.AlternativeJIDs, live.AlternativeJIDs))
	p.PasswordReset = localized(a.PasswordReset, live.PasswordReset)
	p.ServerTesting = a.ServerTesting
	p.ProfessionalHosting = a.ProfessionalHosting
	p.FreeOfCharge = a.FreeOfCharge
	p.LegalNotice = localized(a.LegalNotice, live.LegalNotice)
	p.ServerLocations = countries(pick(a.ServerLocations, live.ServerLocations))
	if a.BusFactor != 0 {
		p.BusFactor = a.BusFactor
	}
	if a.Organization != "" {
		p.Organization = a.Organization
	}
	if !a.Since.IsZero() {
		p.Since = a.Since
	}
	return p
}

// Generate writes the provider file (/.well-known/xmpp-provider-v2.json)
// for the service described by live, a record built from a live probe or a
// merged one, and the operator's answers: the 14 keys in the generator's
// order (providers.ProviderFileFields), indented by two spaces.
//
// The upload quota and the storage times come from live
// (UploadTotalSize, UploadStorageTime, ArchiveStorageTime; set them on live
// to override what the probe saw). The answers give every other key; where
// an answer is empty, live's value is used (see Answers.Record).
//
// The file is checked with a Validator for live.JID before it is returned;
// if the check finds errors (an unknown organization, a URL that is not a
// public http(s) link, a since in the future, …), Generate returns nil and
// a *FileError naming the keys. Warnings are not errors; Validate the
// output to see them. Validating the output gives back exactly the values
// written.
func Generate(live providers.Provider, answers Answers) ([]byte, error) {
	return Write(answers.Record(live), live.JID)
}

// Write encodes the provider-file properties of p as a provider file, as
// they are, and checks the result like Generate for domain.
func Write(p providers.Provider, domain string) ([]byte, error) {
	var compact bytes.Buffer
	enc := json.NewEncoder(&compact)
	enc.SetEscapeHTML(false)
	compact.WriteByte('{')
	for i, f := range providers.ProviderFileFields() {
		if i > 0 {
			compact.WriteByte(',')
		}
		if err := enc.Encode(string(f)); err != nil {
			return nil, err
		}
		compact.WriteByte(':')
		if err := enc.Encode(p.Value(f)); err != nil {
			return nil, err
		}
	}
	compact.WriteByte('}')
	var b bytes.Buffer
	if err := json.Indent(&b, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	v := Validator{Domain: domain}
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
func localized(answer, live providers.Localized) providers.Localized {
	src := answer
	if len(src) == 0 {
		src = live
	}
	out := make(providers.Localized, len(src))
	for _, k := range lowerFirst(src) {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; !dup {
			out[lk] = src[k]
		}
	}
	return out
}

// lowerFirst returns the keys of m with lower-case ones first, so that "de"
// wins over "DE" when both are present.
func lowerFirst(m providers.Localized) []string {
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
