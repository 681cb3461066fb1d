// Command probe shows what a live XMPP service offers right now: how to
// connect, whether it lets people sign up, who to contact, which services it
// runs and what its operator publishes, using package discovery.
//
// Usage:
//
//	go run ./examples/probe [flags] [domain]
//
// Examples:
//
//	go run ./examples/probe -domain example.org               # readable summary
//	go run ./examples/probe -json example.org                 # the whole report as JSON
//	XMPP_PASSWORD=… go run ./examples/probe -user me@example.org example.org
//	go run ./examples/probe -batch domains.txt -concurrency 32 > reports.jsonl
//	go run ./examples/probe -domain localhost -addr 127.0.0.1:5222 -cafile ca.pem -no-http
//
// With -batch, FILE holds one domain a line (blank lines and lines starting
// with # are skipped) and the reports are written as JSON lines, in the
// order the probes finish. The password for -user is read from the
// environment variable XMPP_PASSWORD, never from a flag. Interrupting the
// command (Ctrl-C) stops a batch cleanly.
//
// Everything the server chose (software name, identities, form
// instructions, addresses, error texts) is shown through
// internal/sanitize: control characters, bidi controls and invalid UTF-8
// appear as visible escapes (\x0d, \u202e), so a server cannot rewrite
// the terminal. The JSON output escapes them too (as \u000d, \u202e;
// encoding/json alone leaves DEL, C1 and bidi controls raw).
//
// Exit status: 0 when the probe ran (whatever it found), 1 when a single
// domain could not be probed or has no reachable XMPP service, 2 on bad
// usage.
package main

import (
	"bufio"
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
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// passwordEnv names the environment variable holding the -user password.
const passwordEnv = "XMPP_PASSWORD"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, getenv, stdout, stderr, nil)
}

// runWith is run; roots, if not nil, are the certificate authorities to
// trust instead of -cafile's (tests pass a fake server's).
func runWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, roots *x509.CertPool) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		domain      = fs.String("domain", "", "the XMPP domain to probe (or give it as the argument)")
		addr        = fs.String("addr", "", "connect to this host:port for STARTTLS instead of using DNS (with -batch: for every domain)")
		directTLS   = fs.String("directtls", "", "connect to this host:port for direct TLS instead of using DNS")
		caFile      = fs.String("cafile", "", "trust only the CA certificates in this PEM file (default: the system roots)")
		asJSON      = fs.Bool("json", false, "print the report as JSON instead of a summary")
		batch       = fs.String("batch", "", "probe the domains listed in this file (one a line) and print JSON lines")
		concurrency = fs.Int("concurrency", discovery.DefaultConcurrency, "with -batch: domains probed at once")
		perHost     = fs.Int("perhost", discovery.DefaultPerHost, "with -batch: domains probed at once on one server")
		timeout     = fs.Duration("timeout", discovery.DefaultTimeout, "time limit per domain")
		user        = fs.String("user", "", "log in as this account (password in $"+passwordEnv+") to see what needs an account")
		noHTTP      = fs.Bool("no-http", false, "do not fetch the provider file and host-meta")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintln(stderr, "probe: "+sanitize.Line(fmt.Sprintf(format, a...)))
		return 2
	}
	switch {
	case fs.NArg() > 1:
		return usage("unexpected arguments %q", fs.Args()[1:])
	case fs.NArg() == 1 && *domain != "":
		return usage("give the domain either with -domain or as the argument")
	case fs.NArg() == 1:
		*domain = fs.Arg(0)
	}
	if (*domain == "") == (*batch == "") {
		return usage("give either a domain or -batch FILE")
	}
	if *batch != "" && *directTLS != "" {
		return usage("-directtls works with a single domain only")
	}
	if *concurrency < 1 || *perHost < 1 || *timeout <= 0 {
		return usage("-concurrency, -perhost and -timeout must be positive")
	}

	p := &discovery.Prober{
		Timeout:     *timeout,
		Concurrency: *concurrency,
		PerHost:     *perHost,
		UserAgent:   "onboard-probe",
	}
	if *noHTTP {
		p.Skip |= discovery.PartHTTP
	}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return usage("%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return usage("no PEM certificates in %s", *caFile)
		}
		p.TLSConfig = &tls.Config{RootCAs: pool}
	}
	if roots != nil {
		p.TLSConfig = &tls.Config{RootCAs: roots}
	}
	if *user != "" {
		pass := getenv(passwordEnv)
		if pass == "" {
			return usage("-user needs the password in $%s", passwordEnv)
		}
		p.Account = &discovery.Account{Username: *user, Password: pass}
	}

	if *batch != "" {
		domains, err := readDomains(*batch)
		if err != nil {
			return usage("%v", err)
		}
		if *addr != "" {
			p.Addrs = make(map[string]string, len(domains))
			for _, d := range domains {
				p.Addrs[strings.ToLower(strings.TrimSuffix(d, "."))] = *addr
			}
		}
		return runBatch(ctx, p, domains, stdout, stderr)
	}

	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(*domain), "."))
	if *addr != "" {
		p.Addrs = map[string]string{d: *addr}
	}
	if *directTLS != "" {
		p.DirectTLSAddrs = map[string]string{d: *directTLS}
	}
	r, err := p.Probe(ctx, d)
	if err != nil {
		fmt.Fprintln(stderr, sanitize.Line(err.Error()))
		return 1
	}
	if *asJSON {
		if err := writeJSON(stdout, r, "  "); err != nil {
			fmt.Fprintln(stderr, "probe:", sanitize.Line(err.Error()))
			return 1
		}
	} else {
		writeSummary(stdout, &r)
	}
	if r.StartTLS.Status.State != discovery.Observed && r.DirectTLS.Status.State != discovery.Observed {
		return 1
	}
	return 0
}

// readDomains reads one domain a line, skipping blank lines and comments.
func readDomains(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no domains in %s", name)
	}
	return out, nil
}

func runBatch(ctx context.Context, p *discovery.Prober, domains []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := bufio.NewWriter(stdout)
	t0 := time.Now()
	n, reachable := 0, 0
	var werr error
	for r := range p.ProbeAll(ctx, domains) {
		n++
		if r.StartTLS.Status.Observed() || r.DirectTLS.Status.Observed() {
			reachable++
		}
		if werr == nil {
			if werr = writeJSON(w, r, ""); werr == nil {
				werr = w.Flush() // one line at a time, for consumers that follow along
			}
			if werr != nil {
				cancel() // nobody reads: stop probing
			}
		}
	}
	if werr != nil {
		fmt.Fprintln(stderr, "probe:", sanitize.Line(werr.Error()))
		return 1
	}
	interrupted := ""
	if ctx.Err() != nil {
		interrupted = " (interrupted)"
	}
	fmt.Fprintf(stderr, "probe: %d of %d domains probed in %v, %d with a reachable XMPP service%s\n",
		n, len(domains), time.Since(t0).Round(time.Millisecond), reachable, interrupted)
	return 0
}

// writeJSON writes v as one JSON value and a newline, indented by indent
// (none if empty), with sanitize.JSON's escapes.
func writeJSON(w io.Writer, v any, indent string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(sanitize.JSON(b.Bytes()))
	return err
}

// writeSummary writes a readable summary of a report. Every line goes
// through sanitize.Line: most of it is what the server chose to say.
func writeSummary(out io.Writer, r *discovery.Report) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	line := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%s\t%s\n", label, sanitize.Line(fmt.Sprintf(format, a...)))
	}
	more := func(format string, a ...any) { line("", format, a...) }
	status := func(st discovery.Status) string {
		s := st.State.String()
		if st.Reason != "" {
			s += " (" + st.Reason + ")"
		}
		if st.Err != nil && st.State != discovery.Observed && !errors.Is(st.Err, discovery.ErrSkipped) {
			msg := strings.TrimPrefix(st.Err.Error(), "discovery: ")
			msg = strings.TrimPrefix(msg, st.Reason+": ")
			s += ": " + msg
		}
		return s
	}

	fmt.Fprintf(w, "%s\tprobed in %v\n", sanitize.Line(r.Domain), r.Took.Round(time.Millisecond))
	for _, s := range []struct {
		label string
		recs  discovery.SRVRecords
	}{{"SRV _xmpp-client", r.SRV}, {"SRV _xmpps-client", r.SRVDirectTLS}} {
		if !s.recs.Status.Observed() {
			line(s.label, "%s", status(s.recs.Status))
			continue
		}
		for i, rec := range s.recs.Records {
			l := ""
			if i == 0 {
				l = s.label
			}
			line(l, "%s:%d (priority %d, weight %d)", rec.Target, rec.Port, rec.Priority, rec.Weight)
		}
	}
	for _, c := range []struct {
		label string
		conn  discovery.Connection
	}{{"STARTTLS", r.StartTLS}, {"Direct TLS", r.DirectTLS}} {
		if !c.conn.Status.Observed() {
			line(c.label, "%s", status(c.conn.Status))
			if f := c.conn.FeaturesBeforeTLS; f != nil {
				more("plain stream offers: %s", featureList(f))
			}
			continue
		}
		t := c.conn.TLS
		line(c.label, "%s, %s, %s%s", c.conn.Addr, t.Version, t.CipherSuite, alpn(t.ALPN))
		cert := t.Certificate
		if cert.Valid {
			more("certificate valid, expires %s (in %d days)", cert.NotAfter.Format(time.DateOnly), int(cert.ExpiresIn(time.Now()).Hours()/24))
		} else {
			more("certificate NOT valid: %v", cert.Err)
		}
		if f := c.conn.FeaturesBeforeTLS; f != nil {
			more("before TLS: %s", featureList(f))
		}
		more("after TLS: %s", featureList(c.conn.Features))
	}

	reg := r.Registration
	switch {
	case !reg.Status.Observed():
		line("Registration", "%s", status(reg.Status))
	default:
		line("Registration", "%s%s", reg.Kind, reasonSuffix(reg.Status.Reason))
		if len(reg.Fields) > 0 {
			more("fields: %s (required: %s)", strings.Join(reg.Fields, ", "), strings.Join(reg.Required, ", "))
		}
		if reg.CAPTCHA {
			more("CAPTCHA: %s", strings.Join(reg.Challenges, ", "))
		}
		if reg.EmailRequired {
			more("e-mail address required")
		}
		if reg.URL != "" {
			more("web page: %s", reg.URL)
		}
	}
	if r.Login.Status.Observed() {
		line("Login", "%s as %s", r.Login.Mechanism, r.Login.JID)
		more("after login: %s", featureList(r.Login.Features))
	} else {
		line("Login", "%s", status(r.Login.Status))
	}

	if r.ServerInfo.Status.Observed() {
		var ids []string
		for _, id := range r.ServerInfo.Identities {
			ids = append(ids, id.Category+"/"+id.Type+" "+id.Name)
		}
		line("Server info", "%s; %d features", strings.Join(ids, ", "), len(r.ServerInfo.Features))
	} else {
		line("Server info", "%s", status(r.ServerInfo.Status))
	}
	if c := r.Contacts; c.Status.Observed() {
		line("Contacts", "%s", reasonOr(c.Status.Reason, "observed"))
		for _, k := range []struct {
			name string
			v    []string
		}{{"abuse", c.Abuse}, {"admin", c.Admin}, {"feedback", c.Feedback}, {"sales", c.Sales},
			{"security", c.Security}, {"support", c.Support}, {"status", c.StatusPages}} {
			if len(k.v) > 0 {
				more("%s: %s", k.name, strings.Join(k.v, ", "))
			}
		}
	} else {
		line("Contacts", "%s", status(c.Status))
	}
	if sw := r.Software; sw.Status.Observed() {
		line("Software", "%s %s %s", sw.Name, sw.Version, sw.OS)
	} else {
		line("Software", "%s", status(sw.Status))
	}
	if u := r.Upload; u.Status.Observed() {
		limit := "no size limit announced"
		if u.MaxFileSize > 0 {
			limit = fmt.Sprintf("max %d bytes per file", u.MaxFileSize)
		}
		line("HTTP upload", "%s, %s", u.JID, limit)
	} else {
		line("HTTP upload", "%s", status(u.Status))
	}
	for _, s := range []struct {
		label string
		list  discovery.ServiceList
	}{{"Group chat", r.MUC}, {"Proxy", r.Proxy}} {
		if s.list.Status.Observed() {
			line(s.label, "%s", strings.Join(s.list.JIDs, ", "))
		} else {
			line(s.label, "%s", status(s.list.Status))
		}
	}

	pf := r.ProviderFile
	switch {
	case pf.Valid():
		line("Provider file", "valid, %d keys (%s)", len(pf.Fields), pf.URL)
	case pf.Status.Observed():
		line("Provider file", "%d problems (%s)", len(pf.Errors), pf.URL)
		for _, e := range pf.Errors {
			more("%v", strings.TrimPrefix(e.Error(), "discovery: provider file: "))
		}
	default:
		line("Provider file", "%s", status(pf.Status))
	}
	hm := r.HostMeta
	if hm.Status.Observed() {
		line("Host-meta", "WebSocket: %s; BOSH: %s", listOrNone(hm.WebSocket), listOrNone(hm.BOSH))
		for _, d := range []discovery.HostMetaDoc{hm.XML, hm.JSON} {
			for _, pr := range d.Problems {
				more("%s", pr)
			}
		}
	} else {
		line("Host-meta", "%s", status(hm.Status))
	}
}

func featureList(f *discovery.Features) string {
	if f == nil {
		return "-"
	}
	var parts []string
	if f.StartTLS {
		s := "STARTTLS"
		if f.StartTLSRequired {
			s += " (required)"
		}
		parts = append(parts, s)
	}
	if len(f.Mechanisms) > 0 {
		parts = append(parts, "SASL "+strings.Join(f.Mechanisms, " "))
	}
	if len(f.SASL2) > 0 {
		parts = append(parts, "SASL2 "+strings.Join(f.SASL2, " "))
	}
	for _, b := range []struct {
		on   bool
		name string
	}{{f.Bind2, "Bind2"}, {f.Register, "registration"}, {f.InviteToken, "invite tokens"},
		{f.StreamManagement, "stream management"}, {f.CSI, "CSI"}, {f.Bind, "bind"}} {
		if b.on {
			parts = append(parts, b.name)
		}
	}
	if len(parts) == 0 {
		return "nothing known"
	}
	return strings.Join(parts, "; ")
}

func alpn(p string) string {
	if p == "" {
		return ""
	}
	return ", ALPN " + p
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

func reasonOr(r, def string) string {
	if r == "" {
		return def
	}
	return r
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
