// Package providerfile reads, checks and writes the provider file that the
// operator of an XMPP service publishes for XMPP Providers (API v2):
//
//	https://<xmpp-domain>/.well-known/xmpp-provider-v2.json
//
// The file is on the XMPP domain, not the website's ([URL], [Path]). It is
// one flat JSON object with exactly 14 keys (providers.ProviderFileFields):
// website, alternativeJids, busFactor, organization, passwordReset,
// serverTesting, maximumHttpFileUploadTotalSize,
// maximumHttpFileUploadStorageTime,
// maximumMessageArchiveManagementStorageTime, professionalHosting,
// freeOfCharge, legalNotice, serverLocations and since. Sizes are in MB
// (10^6 bytes, not MiB) and times in days; 0 means "no limit" and -1 "less
// than one unit". The other properties of a provider (in-band
// registration, the per-file upload limit, support addresses, the
// Compliance Tester score, …) are gathered by XMPP Providers itself.
//
// # Checking a file
//
// [Validator.Validate] reads a file (capped at [DefaultMaxBytes], 1 MiB,
// by default) and [Validator.Parse] checks bytes already read; both check
// every key and return the values they could read as a
// [providers.Provider] and a [Report] of [Problem] values, each with a
// [Severity] and the key it is about. Nothing stops at the first problem:
//
//	v := providerfile.Validator{Domain: "chat.example.org"}
//	p, rep, err := v.Validate(resp.Body)
//	for _, pr := range rep.Problems {
//		fmt.Println(pr) // "warning: serverLocations: country code "DE" should be lower-case "de""
//	}
//	if err != nil {
//		// a *FileError matching ErrInvalid: rep has errors, and p holds
//		// only the values that were valid
//	}
//
// Errors are what no consumer can use: a file that is not one JSON object
// under the rules of the module's strict reader (invalid UTF-8, duplicate
// keys, trailing data, deep nesting), a missing key, a wrong type, a
// number out of range, a malformed code, date or domain, a link that is
// not an http(s) link to a public host, a control or bidi character.
// Warnings are usable values that are probably mistakes (a size that looks
// like bytes or MiB, a time that looks like seconds, an upper-case code,
// an http link) or that keep the provider out of categories A and B (no
// legal notice, no server locations). Parse documents every rule.
//
// # Keys the format does not define
//
// An unknown key is a warning, and its value is ignored: the format grows
// (API v2 added keys to v1), and a consumer that refused a file with a key
// it does not know yet would refuse every operator who updated first. A
// misplaced key (one of the list's own, such as inBandRegistration, or an
// API v1 key such as onlineSince) is a warning too, with a hint. Every
// consumer in the module (package discovery's probe, package rating's
// former validator, the example programs) goes by this rule. A key that
// differs from a known one only in case gets a "did you mean". At most
// eight ignored keys are named; the others are counted.
//
// # Reports about foreign files
//
// A Problem says what is wrong twice. Message is for the operator and
// quotes the offending value (with %q, so control and bidi characters are
// escaped). Err is for a report about a file from a server that may be
// hostile, or that a redirect may have swapped for some internal
// document: it quotes nothing of the file, only the kind of problem
// (errors.Is with [ErrMissingKey], [ErrUnknownKey], [ErrDuplicateKey],
// [ErrWrongType], [ErrInvalidValue], [ErrSuspicious], [ErrNotJSON] or
// [ErrTooLarge]) and what was expected. The names of ignored keys are
// passed through sanitize.Line and clipped to 64 bytes.
//
// # Writing a file
//
// [Generate] writes a file from a record of the service (a live probe's,
// a listed one, or a merge of both) and the operator's [Answers], the
// properties no probe can see. The output validates, and validating it
// gives back exactly the values written. [Write] encodes a record's
// provider-file properties as they are.
//
// See https://providers.xmpp.net/provider-file-generator/ for the format.
package providerfile
