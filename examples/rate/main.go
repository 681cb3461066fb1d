package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
)

// Exit codes (see the package documentation).
const (
	exitOK          = 0
	exitUnusable    = 1
	exitUsage       = cli.ExitUsage
	exitCertificate = 3
	exitLogin       = 4
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	domain string
	file   string
	asJSON bool
	at     time.Time
	// live probing
	live      bool
	addr      string
	directTLS string
	caFile    string
	user      string
	password  string // of user, from the environment or standard input
	noHTTP    bool
	timeout   time.Duration
}

// command describes the command, its flags bound to o (and at, the -at
// text); its help is the package documentation (doc.go).
func command(o *options, at *string) *cli.Command {
	fs := flag.NewFlagSet("rate", flag.ContinueOnError)
	fs.StringVar(&o.domain, "domain", "", "XMPP `domain` to rate (or give it as the argument)")
	fs.StringVar(&o.file, "file", "", "provider `file` (xmpp-provider-v2.json) to check and rate")
	fs.BoolVar(&o.asJSON, "json", false, "write JSON instead of text")
	fs.StringVar(at, "at", "", "rate as of this `date`, YYYY-MM-DD (default today)")
	fs.BoolVar(&o.live, "live", false, "probe the domain now and rate the live values over the listed ones")
	fs.StringVar(&o.addr, "addr", "", "with -live: connect to this `host:port` with STARTTLS instead of looking up SRV records")
	fs.StringVar(&o.directTLS, "direct-tls", "", "with -live: connect to this `host:port` with direct TLS (XEP-0368)")
	fs.StringVar(&o.caFile, "cafile", "", "with -live: trust the CA certificates in this PEM `file` in addition to the system roots")
	fs.StringVar(&o.user, "user", "", "with -live: log in as this `account` (password from $"+cli.PasswordEnv+" or standard input) to see contacts and upload limits")
	fs.BoolVar(&o.noHTTP, "no-http", false, "with -live: do not fetch the provider file and host-meta")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "with -live: time limit for the probe")
	return &cli.Command{
		Name: "rate",
		Summary: `rate computes the XMPP Providers category of a provider, says why it is
not in a better one, and what to change to get there
(go run ./examples/rate).`,
		Usage: []string{"rate [flags] domain", "rate [flags] -file provider-file.json [domain]"},
		Examples: `rate 07f.de                            # rate a provider of the embedded list
rate -file xmpp-provider-v2.json       # check and rate a provider file
rate example.org -file f.json          # the file's values over the listed ones
rate 07f.de -json                      # machine-readable output
rate -at 2026-07-22 07f.de             # rate as of a date (default: today)
rate -live example.org                 # probe the server now (discovery)
ONBOARD_PASSWORD=... rate -live -user me example.org   # with what needs an account
rate -live localhost -addr 127.0.0.1:5222 -cafile ca.pem -no-http`,
		Text: `Flags may come before or after the domain. With -live (implied by
-addr, -direct-tls, -cafile and -user) the domain is probed: what the
probe observes (registration, upload limit, contacts, software, the
provider file) overrides the listed values; the output says which values
came from where. Contacts and the upload limit often need an account:
-user logs in with it, the password read from the environment variable
ONBOARD_PASSWORD or, when that is empty, from standard input (echo off
on a terminal); it is never a flag.

The embedded list holds the providers of categories A and B as published
by XMPP Providers on the date it shows. A domain that is not in it can be
rated live (-live) or from its provider file (-file); one spelt like a
listed domain gets a suggestion ("did you mean"). A provider file alone
lacks what only a probe or the XMPP Providers bots see (registration,
compliance score, per-file upload limit, support addresses), so it rates
D unless combined with a listed record or a live probe.

JSON output has camelCase keys and "format": 1 as its first key; the
format number changes only when a key changes meaning or goes away.

A provider file and a live server are foreign input: every value, reason
and error they lead to is printed through internal/sanitize (control and
bidi characters appear as visible escapes such as \x1b and \u202e), and
-json escapes DEL, C1 and bidi controls besides what encoding/json
escapes.`,
		Exits: `0   rated
1   the input is unusable (unknown domain, unreadable file, no reachable
    service), or the provider file has errors (the rest is still rated)
2   bad usage (flags, arguments, -at, -cafile, no password for -user)
3   -live: no connection with a certificate valid for the domain
4   -live: the login with -user failed
130 interrupted (Ctrl-C)`,
		Flags: fs,
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin *os.File, stdout, stderr io.Writer) int {
	return runWith(ctx, args, getenv, stdin, stdout, stderr, nil)
}

// runWith is run; roots, if not nil, are the certificate authorities the
// live probe trusts instead of the system's and -cafile's (tests pass a
// fake server's).
func runWith(ctx context.Context, args []string, getenv func(string) string, stdin *os.File, stdout, stderr io.Writer, roots *x509.CertPool) int {
	var o options
	var at string
	cmd := command(&o, &at)
	pos, code, done := cmd.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if code, ok := cmd.DomainArg(pos, &o.domain, stderr); !ok {
		return code
	}
	if o.addr != "" || o.directTLS != "" || o.caFile != "" || o.user != "" || roots != nil {
		o.live = true
	}
	switch {
	case o.domain == "" && o.file == "":
		return cmd.UsageError(stderr, "give a domain, a provider file (-file) or both")
	case o.live && o.domain == "":
		return cmd.UsageError(stderr, "-live needs the domain")
	}
	o.at = time.Now()
	if at != "" {
		d, err := providers.ParseDate(at)
		if err != nil || d.IsZero() {
			return cmd.UsageError(stderr, fmt.Sprintf("-at: invalid date %s (want YYYY-MM-DD)", strconv.Quote(at)))
		}
		o.at = d.Time()
	}
	var pool *x509.CertPool
	if o.live {
		var err error
		if pool, err = cli.CertPool(o.caFile); err != nil {
			return cmd.UsageError(stderr, "-cafile: "+err.Error())
		}
		if roots != nil {
			pool = roots
		}
	}
	if o.user != "" {
		pw, err := cli.Password(ctx, getenv, cli.NewPrompter(stdin, stderr), "Password: ", false)
		if err != nil {
			return cmd.UsageError(stderr, "-user: "+err.Error())
		}
		o.password = pw
	}

	s, err := gather(ctx, o, pool)
	if err != nil {
		fmt.Fprintln(stderr, "rate:", sanitize.Line(err.Error()))
		var le *liveError
		switch {
		case ctx.Err() != nil:
			return exitInterrupted
		case errors.As(err, &le):
			return le.code
		case s.report == nil:
			return exitUnusable
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
		return exitUnusable
	}
	if s.report != nil && !s.report.OK() {
		return exitUnusable
	}
	return exitOK
}

// liveError is a live probe that found no usable service; code is the
// exit status.
type liveError struct {
	code int
	err  error
}

func (e *liveError) Error() string { return e.err.Error() }
func (e *liveError) Unwrap() error { return e.err }

// subject is what gets rated: a record from any source, where each of its
// values came from, and what is known about the sources.
type subject struct {
	provider   providers.Provider
	provenance rating.Provenance
	// listed is the publication date of the list the record came from;
	// zero if it is not listed.
	listed providers.Date
	// report is the provider file check, if a file was given.
	report *providerfile.Report
}

// gather builds the record to rate from the sources given, each laid over
// the previous one: the embedded list, then the operator's provider file.
// With -live, what a probe of the domain observed is the last layer.
//
// A provider file with errors still yields a subject, with the file's
// valid values and its report, together with the error. pool, if not nil,
// holds the certificate authorities the probe trusts (-cafile).
func gather(ctx context.Context, o options, pool *x509.CertPool) (subject, error) {
	var s subject
	s.provider = providers.New(o.domain)
	s.provenance = rating.ListProvenance(providers.Provider{})
	if o.domain != "" {
		list := providers.Embedded()
		if p, ok := list.Lookup(o.domain); ok {
			s.provider, s.provenance, s.listed = p, rating.ListProvenance(p), list.Published
		} else if o.file == "" && !o.live {
			return s, fmt.Errorf("%s is not in the embedded list of %v (categories A and B only)%s; "+
				"rate it live with -live, or give its provider file with -file to rate what it publishes",
				o.domain, list.Published, cli.DidYouMean(o.domain, domains(list)))
		}
	}
	if o.file != "" {
		f, err := os.Open(o.file)
		if err != nil {
			return s, err
		}
		defer f.Close()
		v := providerfile.Validator{At: o.at, Domain: s.provider.JID}
		pf, rep, err := v.Validate(f)
		var fe *providerfile.FileError
		if err != nil && (!errors.As(err, &fe) || fe.Err != nil) {
			return s, fmt.Errorf("%s: %w", o.file, err)
		}
		s.report = &rep
		// Keys with errors keep the values of the layers below.
		var good []providers.Field
		for _, f := range providers.ProviderFileFields() {
			if (providerfile.Report{Problems: rep.For(f)}).OK() {
				good = append(good, f)
			}
		}
		s.provider, s.provenance = rating.Overlay(s.provider, s.provenance, pf, good, rating.SourceProviderFile)
		if err != nil {
			return s, fmt.Errorf("%s: %w", o.file, err)
		}
	}
	if o.live {
		live, observed, err := probe(ctx, o, pool)
		if err != nil {
			return s, err
		}
		s.provider, s.provenance = rating.Overlay(s.provider, s.provenance, live, observed, rating.SourceLive)
	}
	return s, nil
}

// probe asks the live server what it offers now, logged in with -user if
// given. An error is a *liveError, unless ctx ended.
func probe(ctx context.Context, o options, pool *x509.CertPool) (providers.Provider, []providers.Field, error) {
	p := &discovery.Prober{Timeout: o.timeout, UserAgent: "onboard-rate"}
	if o.noHTTP {
		p.Skip |= discovery.PartHTTP
	}
	d := strings.ToLower(strings.TrimSuffix(o.domain, "."))
	if o.addr != "" {
		p.Addrs = map[string]string{d: o.addr}
	}
	if o.directTLS != "" {
		p.DirectTLSAddrs = map[string]string{d: o.directTLS}
	}
	if pool != nil {
		p.TLSConfig = &tls.Config{RootCAs: pool}
	}
	if o.user != "" {
		p.Account = &discovery.Credentials{Username: o.user, Password: o.password}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rep, err := p.Probe(ctx, d)
	if err != nil {
		return providers.Provider{}, nil, &liveError{exitUnusable, fmt.Errorf("probing %s: %w", o.domain, err)}
	}
	// Without a connection whose certificate is valid for the domain, the
	// probe saw nothing an app could use: refuse to rate it.
	secure := func(c discovery.Connection) bool {
		return c.Status.State == discovery.Observed && c.TLS != nil && c.TLS.Certificate.Valid
	}
	if !secure(rep.StartTLS) && !secure(rep.DirectTLS) {
		for _, c := range []discovery.Connection{rep.StartTLS, rep.DirectTLS} {
			if c.Status.Observed() && c.TLS != nil && c.TLS.Certificate.Err != nil {
				return providers.Provider{}, nil, &liveError{exitCertificate,
					fmt.Errorf("probing %s: no TLS connection with a valid certificate: %v", o.domain, c.TLS.Certificate.Err)}
			}
		}
		return providers.Provider{}, nil, &liveError{exitUnusable,
			fmt.Errorf("probing %s: no XMPP service reachable: %v", o.domain, rep.StartTLS.Status.Err)}
	}
	if o.user != "" && !rep.Login.Status.Observed() {
		return providers.Provider{}, nil, &liveError{exitLogin, fmt.Errorf("probing %s: login as %s failed: %v", o.domain, o.user, rep.Login.Status.Err)}
	}
	live, observed := rep.Provider()
	return live, observed, nil
}

// domains returns the main and alternative domains of the list, for
// suggestions.
func domains(l providers.List) []string {
	var out []string
	for _, p := range l.Providers {
		out = append(out, p.JID)
		out = append(out, p.AlternativeJIDs...)
	}
	return out
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
	Result     rating.Result        `json:"result"`
	Next       *next                `json:"next,omitempty"`
	Provenance rating.Provenance    `json:"provenance"`
	Listed     *providers.Date      `json:"listed,omitempty"`
	File       *providerfile.Report `json:"providerFile,omitempty"`
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
	return cli.WriteJSON(w, out, false)
}
