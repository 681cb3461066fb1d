// Package rating computes the XMPP Providers category of a provider and
// explains it.
//
// Everything here is a pure function of a [providers.Provider]: the package
// uses neither the network nor the clock, and reads no files. Records come
// from a published list ([providers.Embedded], [providers.Decode]), from an
// operator's provider file (package providerfile), from a live probe, or
// from a mix of them ([Merge]).
//
// # Categories
//
// XMPP Providers sorts providers into four categories. A: best properties,
// in-band registration (XEP-0077) and free of charge, so an app may sign a
// newcomer up without asking anything. B: best properties, but
// registration may need a web page or payment. C: average properties. D:
// registration impossible or bad properties. A provider is in the best
// category whose criteria it meets in full; properties that cannot be
// verified count as not met.
//
// [Evaluate] returns a [Result]: the category, and for each of A, B and C
// the criteria the provider does not meet, as [Shortfall] values that carry
// the property ([providers.Field]), the provider's value, the rule and the
// threshold as data, and a Reason and a Fix in words:
//
//	r := rating.Evaluate(p, time.Now())
//	fmt.Println(r.JID, "is in category", r.Category)
//	if next, missing := r.Next(); next != "" {
//		for _, s := range missing {
//			fmt.Printf("for %s: %s (%s)\n", next, s.Reason, s.Fix)
//		}
//	}
//
// This mirrors the results/<jid>.json files of XMPP Providers, which list
// for each category the properties that failed it. The rating date matters
// because of the age criterion; rate a published list on its publication
// date to reproduce its categories.
//
// # Policies
//
// The criteria are data: a [Policy] holds [Requirements] for A, B and C,
// and each field of Requirements is one criterion whose zero value means
// "no requirement". [DefaultPolicy] returns the XMPP Providers criteria; a
// client may change any field and call [Policy.Evaluate]:
//
//	strict := rating.DefaultPolicy()
//	strict.A.NoCaptcha = true // our app cannot show CAPTCHAs
//	r := strict.Evaluate(p, time.Now())
//
// Sizes and times follow the data's sentinels: a provider value of 0 (no
// limit) meets every minimum, and -1 (unknown, or less than 1 MB or 1 day)
// meets none. [Requirements.Criteria] lists a category's criteria without a
// provider, for a user interface that explains the categories.
//
// # Where the thresholds come from
//
// The upstream definition (the README and filter.py of the XMPP Providers
// repository) was not reachable; the thresholds are reconstructed, each as
// strongly as the evidence allows:
//
//   - Confirmed by the project's documentation: what A, B, C and D mean;
//     that A needs in-band registration and no fee; that B needs in-band
//     registration or a registration web page; which properties are
//     criteria of A (the keys of results/<jid>.json).
//   - Fitted to data, with no mismatch on 483 entries of 18 published
//     lists (2024–2026), and reproduced by the tests of this package on
//     every API v2 snapshot in providers/testdata: at least 20 MB per
//     file, 100 MB per user, 7 days for uploaded files and for the message
//     archive (inclusive: a provider listed as A sits exactly on all four),
//     professional hosting, a legal notice, known server locations and a
//     support address. The data bounds each size and time threshold from
//     above (one step stricter and listed providers drop out); that none is
//     lower is plausible but cannot be shown with lists that hold only A
//     and B providers.
//   - A Compliance Tester score of 100 % for A and B: every listed A and B
//     provider has 100 %, so the data cannot tell 100 from a lower
//     threshold. API v1 allowed 95 % for B (set B.MinComplianceTester to 95
//     for that policy).
//   - The age: a provider must have been available for some time before
//     it is listed as A or B. The youngest A or B provider ever seen was
//     367 days old, and a provider that started on 2025-01-01 first
//     appeared in a list of 2026-01-31. [DefaultPolicy] uses 365 days;
//     the exact rule (365 days, a calendar year, or months) is unknown.
//     The snapshots here only show that it is at most 395 days.
//   - C is not documented and no C data was reachable. [DefaultPolicy]
//     uses a plausible reconstruction: registration possible (in-band or
//     web page) and a Compliance Tester score of at least 90 %, the score
//     the XMPP Providers website colours as average. D is everything else.
//     Treat a computed C or D as advisory, and trust a published category
//     over a computed one for the same date.
//   - The legacy IM Observatory grades are criteria keys upstream, but the
//     service is gone and every listed provider carries "A", which no
//     probe can confirm; [DefaultPolicy] does not check them
//     (Requirements.ObservatoryGrade is empty).
//
// Bus factor, organization, password reset, server testing, CAPTCHA and
// e-mail at registration are not criteria: A providers exist with every
// "bad" value of them. Requirements has NoCaptcha, NoEmail and
// MinBusFactor for clients that want them anyway.
//
// # Live data
//
// A published list may be days or months old. A live probe observes some
// properties of the running service (registration, upload limits, support
// addresses, …); [Merge] lays those over the listed record, and the
// returned [Provenance] tells for every property whether its value came
// from the list, the operator's provider file, the live probe, or nothing
// (the "unknown" default of [providers.New]). [Overlay] does the same for any
// other layer, such as a provider file on top of a listed record.
//
// # Provider files
//
// Checking and writing the provider file that operators publish
// (/.well-known/xmpp-provider-v2.json) is the business of package
// providerfile; this package only rates.
//
// See https://providers.xmpp.net/ for the project.
package rating
