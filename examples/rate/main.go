// Command rate computes the XMPP Providers category of a provider, says why
// it is not in a better one, and what to change to get there.
//
// Usage:
//
//	rate -domain 07f.de                  # rate a provider of the embedded list
//	rate -file xmpp-provider-v2.json     # check and rate a provider file
//	rate -domain example.org -file f.json  # the file's values over the listed ones
//	rate -json -domain 07f.de            # machine-readable output
//	rate -at 2026-07-22 -domain 07f.de   # rate as of a date (default: today)
//	rate -live -domain example.org       # probe the server now (discovery)
//	rate -live -domain localhost -addr 127.0.0.1:5222 -cafile ca.pem -no-http
//
// With -live (implied by -addr) the domain is probed: what the probe
// observes (registration, upload limit, contacts, software, the provider
// file) overrides the listed values; the output says which values came from
// where.
//
// The embedded list holds the providers of categories A and B as published
// by XMPP Providers on the date it shows. A provider file alone lacks what
// only a probe or the XMPP Providers bots see (registration, compliance
// score, per-file upload limit, support addresses), so it rates D unless
// combined with a listed record.
//
// A provider file and a live server are foreign input: every value, reason
// and error they lead to is printed through internal/sanitize (control and
// bidi characters appear as visible escapes such as \x1b and \u202e), and
// -json escapes DEL, C1 and bidi controls besides what encoding/json
// escapes.
//
// Exit status: 0 when rated, 1 when the input is unusable or a provider file
// has errors, 2 for wrong usage.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	domain string
	file   string
	asJSON bool
	at     time.Time
	// live probing
	live    bool
	addr    string
	caFile  string
	noHTTP  bool
	timeout time.Duration
}

func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, stdout, stderr, nil)
}

// runWith is run; roots, if not nil, are the certificate authorities the
// live probe trusts instead of -cafile's (tests pass a fake server's).
func runWith(args []string, stdout, stderr io.Writer, roots *x509.CertPool) int {
	fs := flag.NewFlagSet("rate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var at string
	fs.StringVar(&o.domain, "domain", "", "XMPP domain to rate (looked up in the embedded list)")
	fs.StringVar(&o.file, "file", "", "provider file (xmpp-provider-v2.json) to check and rate")
	fs.BoolVar(&o.asJSON, "json", false, "write JSON instead of text")
	fs.StringVar(&at, "at", "", "rate as of this date, YYYY-MM-DD (default today)")
	fs.BoolVar(&o.live, "live", false, "probe the domain now and rate the live values over the listed ones")
	fs.StringVar(&o.addr, "addr", "", "with -live: connect to this host:port (STARTTLS) instead of using DNS")
	fs.StringVar(&o.caFile, "cafile", "", "with -live: trust only the CA certificates in this PEM file")
	fs.BoolVar(&o.noHTTP, "no-http", false, "with -live: do not fetch the provider file and host-meta")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "with -live: time limit for the probe")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: rate [-json] [-at YYYY-MM-DD] -domain DOMAIN | -file FILE | -domain DOMAIN -file FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.addr != "" || o.caFile != "" || roots != nil {
		o.live = true
	}
	if fs.NArg() > 0 || (o.domain == "" && o.file == "") || (o.live && o.domain == "") {
		fs.Usage()
		return 2
	}
	o.at = time.Now()
	if at != "" {
		d, err := providers.ParseDate(at)
		if err != nil || d.IsZero() {
			fmt.Fprintf(stderr, "rate: -at: invalid date %s (want YYYY-MM-DD)\n", sanitize.Line(strconv.Quote(at)))
			return 2
		}
		o.at = d.Time()
	}

	s, err := gather(o, roots)
	if err != nil {
		fmt.Fprintln(stderr, "rate:", sanitize.Line(err.Error()))
		if s.report == nil {
			return 1
		}
	}
	res := rating.Evaluate(s.provider, o.at)
	if o.asJSON {
		err = writeJSON(stdout, s, res)
	} else {
		err = writeText(stdout, s, res)
	}
	if err != nil {
		fmt.Fprintln(stderr, "rate:", sanitize.Line(err.Error()))
		return 1
	}
	if s.report != nil && !s.report.OK() {
		return 1
	}
	return 0
}

// subject is what gets rated: a record from any source, where each of its
// values came from, and what is known about the sources.
type subject struct {
	provider   providers.Provider
	provenance rating.Provenance
	// listed is the publication date of the list the record came from;
	// zero if it is not listed.
	listed providers.Date
	// report is the provider file check, if a file was given.
	report *rating.Report
}

// gather builds the record to rate from the sources given, each laid over
// the previous one: the embedded list, then the operator's provider file.
// With -live, what a probe of the domain observed is the last layer.
//
// A provider file with errors still yields a subject, with the file's
// valid values and its report, together with the error. roots, if not nil,
// replace -cafile's certificate authorities for the probe (tests pass a
// fake server's).
func gather(o options, roots *x509.CertPool) (subject, error) {
	var s subject
	s.provider = providers.New(o.domain)
	s.provenance = rating.ListProvenance(providers.Provider{})
	if o.domain != "" {
		list := providers.Embedded()
		if p, ok := list.Lookup(o.domain); ok {
			s.provider, s.provenance, s.listed = p, rating.ListProvenance(p), list.Published
		} else if o.file == "" && !o.live {
			return s, fmt.Errorf("%s is not in the embedded list of %v (categories A and B only); "+
				"give its provider file with -file to rate what it publishes", o.domain, list.Published)
		}
	}
	if o.file != "" {
		f, err := os.Open(o.file)
		if err != nil {
			return s, err
		}
		defer f.Close()
		v := rating.Validator{At: o.at, Domain: s.provider.JID}
		pf, rep, err := v.Validate(f)
		var fe *rating.FileError
		if err != nil && (!errors.As(err, &fe) || fe.Err != nil) {
			return s, fmt.Errorf("%s: %w", o.file, err)
		}
		s.report = &rep
		// Keys with errors keep the values of the layers below.
		var good []providers.Field
		for _, f := range providers.ProviderFileFields() {
			if (rating.Report{Problems: rep.For(f)}).OK() {
				good = append(good, f)
			}
		}
		s.provider, s.provenance = rating.Overlay(s.provider, s.provenance, pf, good, rating.SourceProviderFile)
		if err != nil {
			return s, fmt.Errorf("%s: %w", o.file, err)
		}
	}
	if o.live {
		live, observed, err := probe(o, roots)
		if err != nil {
			return s, err
		}
		s.provider, s.provenance = rating.Overlay(s.provider, s.provenance, live, observed, rating.SourceLive)
	}
	return s, nil
}

// probe asks the live server what it offers now.
func probe(o options, roots *x509.CertPool) (providers.Provider, []providers.Field, error) {
	p := &discovery.Prober{Timeout: o.timeout, UserAgent: "onboard-rate"}
	if o.noHTTP {
		p.Skip |= discovery.PartHTTP
	}
	if o.addr != "" {
		p.Addrs = map[string]string{o.domain: o.addr}
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return providers.Provider{}, nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return providers.Provider{}, nil, fmt.Errorf("no PEM certificates in %s", o.caFile)
		}
		p.TLSConfig = &tls.Config{RootCAs: pool}
	}
	if roots != nil {
		p.TLSConfig = &tls.Config{RootCAs: roots}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	rep, err := p.Probe(ctx, o.domain)
	if err != nil {
		return providers.Provider{}, nil, fmt.Errorf("probing %s: %w", o.domain, err)
	}
	// Without a connection whose certificate is valid for the domain, the
	// probe saw nothing an app could use: refuse to rate it.
	secure := func(c discovery.Connection) bool {
		return c.Status.State == discovery.Observed && c.TLS != nil && c.TLS.Certificate.Valid
	}
	if !secure(rep.StartTLS) && !secure(rep.DirectTLS) {
		why := rep.StartTLS.Status.Err
		if rep.StartTLS.TLS != nil && rep.StartTLS.TLS.Certificate.Err != nil {
			why = rep.StartTLS.TLS.Certificate.Err
		}
		return providers.Provider{}, nil, fmt.Errorf("probing %s: no TLS connection with a valid certificate: %v", o.domain, why)
	}
	live, observed := rep.Provider()
	return live, observed, nil
}

func name(p providers.Provider) string {
	if p.JID == "" {
		return "provider file"
	}
	return p.JID
}

// writeText writes the rating for people. What the provider file, the list
// or the live server said (problems, reasons, fixes, the domain) goes
// through sanitize.Line.
func writeText(w io.Writer, s subject, r rating.Result) error {
	var b strings.Builder
	if s.report != nil && len(s.report.Problems) > 0 {
		b.WriteString("Provider file:\n")
		for _, p := range s.report.Problems {
			fmt.Fprintf(&b, "  - %s\n", sanitize.Line(p.String()))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s: category %s (rated on %v)\n", sanitize.Line(name(s.provider)), r.Category, r.Date)
	if r.Published.Valid() {
		fmt.Fprintf(&b, "  published: category %s in the list of %v\n", r.Published, s.listed)
		if !r.Agrees() {
			b.WriteString("  (the difference comes from the rating date or from newer values)\n")
		}
	}
	b.WriteString("  values: " + sources(s.provenance) + "\n")

	for _, v := range r.Verdicts {
		if !v.Category.Better(r.Category) {
			break
		}
		fmt.Fprintf(&b, "\nWhy not %s:\n", v.Category)
		for _, u := range v.Unmet {
			fmt.Fprintf(&b, "  - %s\n", sanitize.Line(u.Reason))
		}
	}
	next, missing := r.Next()
	if next == "" {
		fmt.Fprintf(&b, "\nEvery criterion of category A is met.\n")
	} else {
		fmt.Fprintf(&b, "\nTo reach %s:\n", next)
		for _, u := range missing {
			fmt.Fprintf(&b, "  - %s\n", sanitize.Line(u.Fix))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sources summarizes a provenance, as in "17 from the list, 14 from the
// provider file".
func sources(pv rating.Provenance) string {
	var parts []string
	for _, src := range []rating.Source{rating.SourceList, rating.SourceProviderFile, rating.SourceLive, rating.SourceDefault} {
		n := len(pv.Fields(src))
		if n == 0 {
			continue
		}
		what := "from the " + string(src)
		switch src {
		case rating.SourceDefault:
			what = "unknown"
		case rating.SourceLive:
			what = "from the live probe"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, what))
	}
	return strings.Join(parts, ", ")
}

// output is the JSON form of a rating.
type output struct {
	Result     rating.Result     `json:"result"`
	Next       *next             `json:"next,omitempty"`
	Provenance rating.Provenance `json:"provenance"`
	Listed     *providers.Date   `json:"listed,omitempty"`
	File       *rating.Report    `json:"providerFile,omitempty"`
}

type next struct {
	Category providers.Category `json:"category"`
	Unmet    []rating.Shortfall `json:"unmet"`
}

func writeJSON(w io.Writer, s subject, r rating.Result) error {
	out := output{Result: r, Provenance: s.provenance, File: s.report}
	if c, missing := r.Next(); c != "" {
		out.Next = &next{Category: c, Unmet: missing}
	}
	if !s.listed.IsZero() {
		out.Listed = &s.listed
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := w.Write(sanitize.JSON(b.Bytes()))
	return err
}
