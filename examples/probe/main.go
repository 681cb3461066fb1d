package main

import (
	"bufio"
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
	"text/tabwriter"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// Exit codes (see the package documentation).
const (
	exitOK          = 0
	exitUnreachable = 1
	exitUsage       = cli.ExitUsage
	exitCertificate = 3
	exitLogin       = 4
	exitExpiring    = 5
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	domain, addr, directTLS, caFile, batch, user string
	asJSON, noHTTP, checkReg                     bool
	concurrency, perHost, expiryDays             int
	timeout                                      time.Duration
}

// command describes the command, its flags bound to o; its help is the
// package documentation (doc.go).
func command(o *options) *cli.Command {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.StringVar(&o.domain, "domain", "", "the XMPP `domain` to probe (or give it as the argument)")
	fs.StringVar(&o.addr, "addr", "", "connect to this `host:port` with STARTTLS instead of looking up SRV records (with -batch: for every domain)")
	fs.StringVar(&o.directTLS, "direct-tls", "", "connect to this `host:port` with direct TLS (XEP-0368) instead of looking up SRV records")
	fs.StringVar(&o.caFile, "cafile", "", "trust the CA certificates in this PEM `file` in addition to the system roots")
	fs.BoolVar(&o.asJSON, "json", false, "print the report as JSON instead of a summary (-batch always writes JSON lines)")
	fs.StringVar(&o.batch, "batch", "", "probe the domains listed in this `file` (one a line) and print JSON lines")
	fs.IntVar(&o.concurrency, "concurrency", discovery.DefaultConcurrency, "with -batch: `domains` probed at once")
	fs.IntVar(&o.perHost, "per-host", discovery.DefaultPerHost, "with -batch: `domains` probed at once on one server")
	fs.DurationVar(&o.timeout, "timeout", discovery.DefaultTimeout, "time limit per domain")
	fs.StringVar(&o.user, "user", "", "log in as this `account` (name or name@domain; password from $"+cli.PasswordEnv+" or standard input) to see what needs an account")
	fs.BoolVar(&o.noHTTP, "no-http", false, "do not fetch the provider file and host-meta")
	fs.BoolVar(&o.checkReg, "check-registration", false, "check live whether registration is really open: submit the form once with a random name and an empty password (creates nothing)")
	fs.IntVar(&o.expiryDays, "expiry-days", 14, "exit 5 when a certificate expires within this many `days`")
	return &cli.Command{
		Name: "probe",
		Summary: `probe shows what a live XMPP service offers right now: how to connect,
whether it lets people sign up, who to contact, which services it runs
and what its operator publishes, using package discovery
(go run ./examples/probe).`,
		Usage: []string{"probe [flags] domain", "probe [flags] -batch file"},
		Examples: `probe example.org                             # readable summary
probe example.org -json                       # the whole report as JSON
probe example.org -check-registration         # is registration really open?
ONBOARD_PASSWORD=... probe -user me example.org  # also what needs an account
probe -batch domains.txt -concurrency 32 > reports.jsonl
probe localhost -addr 127.0.0.1:5222 -cafile ca.pem -no-http`,
		Text: `Flags may come before or after the domain. With -batch, the file holds
one domain a line (blank lines and lines starting with # are skipped,
repeated domains probed once) and the reports are written as JSON lines,
in the order the probes finish, while standard error shows the progress:
a bar with the counts and the time left on a terminal, one line per
domain otherwise. Interrupting the command (Ctrl-C) stops a batch cleanly
and exits 130.

-check-registration submits the registration form once, with a random
unused name ("probe-" and 12 hex digits) and an empty password, and
reads the refusal (discovery.Prober.CheckRegistration): an ejabberd that
serves the form but denies every registration answers "forbidden" and
is reported closed, an open one refuses only the empty password. No
account is created (no server of the test suite accepts an empty
password; a report would say so); the server may log the attempt.
Prosody checks the fields first and answers alike open or closed: the
check says "unknown" there. Forms with a CAPTCHA are not submitted.

The password for -user is read from the environment variable
ONBOARD_PASSWORD or, when that is empty, from standard input (echo off
on a terminal); it is never a flag. With -batch the account is used only
for its own domain (give it as name@domain).

JSON output has camelCase keys and "format": 1 as its first key, then
"exit", the exit status for the domain, and "problem", why it is not 0;
the format number changes only when a key changes meaning or goes away.

Everything the server chose (software name, identities, form
instructions, addresses, error texts) is shown through internal/sanitize:
control characters, bidi controls and invalid UTF-8 appear as visible
escapes (\x0d, \u202e), so a server cannot rewrite the terminal. The
JSON output escapes them too (as \u000d, \u202e; encoding/json alone
leaves DEL, C1 and bidi controls raw).`,
		Exits: `0   reachable over TLS with valid certificates (and with -user the login worked)
1   the domain could not be probed, or no XMPP service is reachable
2   bad usage (flags, arguments, -cafile, no password for -user)
3   a certificate is not valid for the domain (expired, untrusted, wrong name)
4   the login with -user failed (wrong password, unknown account)
5   a certificate expires within -expiry-days
130 interrupted (Ctrl-C)
With -batch the exit status is 130 if interrupted, else the smallest
non-zero code of any domain, or 0.`,
		Flags: fs,
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin *os.File, stdout, stderr io.Writer) int {
	return runWith(ctx, args, getenv, stdin, stdout, stderr, nil)
}

// runWith is run; roots, if not nil, are the certificate authorities to
// trust instead of the system's and -cafile's (tests pass a fake server's).
func runWith(ctx context.Context, args []string, getenv func(string) string, stdin *os.File, stdout, stderr io.Writer, roots *x509.CertPool) int {
	var o options
	cmd := command(&o)
	pos, code, done := cmd.Parse(args, stdout, stderr)
	if done {
		return code
	}
	usage := func(format string, a ...any) int {
		return cmd.UsageError(stderr, fmt.Sprintf(format, a...))
	}
	if code, ok := cmd.DomainArg(pos, &o.domain, stderr); !ok {
		return code
	}
	if (o.domain == "") == (o.batch == "") {
		return usage("give either a domain or -batch FILE")
	}
	if o.batch != "" && o.directTLS != "" {
		return usage("-direct-tls works with a single domain only")
	}
	if o.concurrency < 1 || o.perHost < 1 || o.timeout <= 0 || o.expiryDays < 0 {
		return usage("-concurrency, -per-host and -timeout must be positive, -expiry-days not negative")
	}

	p := &discovery.Prober{
		Timeout:           o.timeout,
		Concurrency:       o.concurrency,
		PerHost:           o.perHost,
		UserAgent:         "onboard-probe",
		CheckRegistration: o.checkReg,
	}
	if o.noHTTP {
		p.Skip |= discovery.PartHTTP
	}
	pool, err := cli.CertPool(o.caFile)
	if err != nil {
		return usage("-cafile: %v", err)
	}
	if pool != nil {
		p.TLSConfig = &tls.Config{RootCAs: pool}
	}
	if roots != nil {
		p.TLSConfig = &tls.Config{RootCAs: roots}
	}
	if o.user != "" {
		pass, err := cli.Password(ctx, getenv, cli.NewPrompter(stdin, stderr), "Password: ", false)
		if err != nil {
			return usage("-user: %v", err)
		}
		p.Account = &discovery.Credentials{Username: o.user, Password: pass}
	}
	v := verdicts{user: o.user, expiry: time.Duration(o.expiryDays) * 24 * time.Hour, now: time.Now}

	if o.batch != "" {
		domains, err := readDomains(o.batch)
		if err != nil {
			return usage("%v", err)
		}
		if o.addr != "" {
			p.Addrs = make(map[string]string, len(domains))
			for _, d := range domains {
				p.Addrs[d] = o.addr
			}
		}
		return runBatch(ctx, p, domains, v, stdout, stderr)
	}

	d := normalize(o.domain)
	if o.addr != "" {
		p.Addrs = map[string]string{d: o.addr}
	}
	if o.directTLS != "" {
		p.DirectTLSAddrs = map[string]string{d: o.directTLS}
	}
	r, err := p.Probe(ctx, d)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "probe: interrupted")
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintln(stderr, "probe:", sanitize.Line(err.Error()))
		return exitUnreachable
	}
	code, why := v.of(&r, true)
	if o.asJSON {
		if err := cli.WriteJSON(stdout, r, false, verdictFields(code, why)...); err != nil {
			fmt.Fprintln(stderr, "probe:", sanitize.Line(err.Error()))
			return exitUnreachable
		}
	} else {
		writeSummary(stdout, &r, v)
	}
	if code != exitOK {
		fmt.Fprintln(stderr, "probe:", sanitize.Line(r.Domain+": "+why))
	}
	return code
}

// verdictFields are the JSON keys added to a report: "exit", the exit
// status the domain alone would give, and "problem", why, unless it is 0.
func verdictFields(code int, why string) []cli.Field {
	f := []cli.Field{{Key: "exit", Value: code}}
	if code != exitOK {
		f = append(f, cli.Field{Key: "problem", Value: why})
	}
	return f
}

func normalize(d string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
}

// verdicts turns a report into an exit code.
type verdicts struct {
	user   string        // -user
	expiry time.Duration // -expiry-days
	now    func() time.Time
}

// of returns the exit code for r and why, in words; single is false in a
// batch, where the account is used for its own domain only.
func (v verdicts) of(r *discovery.Report, single bool) (int, string) {
	if r.Err != nil {
		return exitUnreachable, strings.TrimPrefix(r.Err.Error(), "discovery: ")
	}
	conns := []discovery.Connection{r.StartTLS, r.DirectTLS}
	reached := false
	for _, c := range conns {
		reached = reached || c.Status.Observed()
	}
	if !reached {
		why := "no XMPP service reachable"
		if err := r.StartTLS.Status.Err; err != nil && !errors.Is(err, discovery.ErrSkipped) {
			why += ": " + strings.TrimPrefix(err.Error(), "discovery: ")
		}
		return exitUnreachable, why
	}
	for _, c := range conns {
		if c.Status.Observed() && c.TLS != nil && !c.TLS.Certificate.Valid {
			return exitCertificate, fmt.Sprintf("certificate of %s not valid: %v", c.Addr, c.TLS.Certificate.Err)
		}
	}
	if v.user != "" && (single || accountDomain(v.user) == r.Domain) && !r.Login.Status.Observed() {
		why := "login failed"
		if err := r.Login.Status.Err; err != nil {
			why += ": " + strings.TrimPrefix(err.Error(), "discovery: ")
		}
		return exitLogin, why
	}
	for _, c := range conns {
		if c.Status.Observed() && c.TLS != nil {
			if left := c.TLS.Certificate.ExpiresIn(v.now()); left < v.expiry {
				return exitExpiring, fmt.Sprintf("certificate of %s expires %s", c.Addr, inDays(left))
			}
		}
	}
	return exitOK, "reachable"
}

// accountDomain returns the domain of name@domain, or "".
func accountDomain(user string) string {
	_, d, _ := strings.Cut(user, "@")
	return normalize(d)
}

// inDays says when something d from now happens: "in 3 days", "in 1 day",
// "within a day", "3 days ago".
func inDays(d time.Duration) string {
	days := int(d.Hours() / 24)
	switch {
	case d < 0 && days <= -1:
		return plural(-days, "day") + " ago"
	case d < 0:
		return "today (already expired)"
	case days == 0:
		return "within a day"
	}
	return "in " + plural(days, "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// readDomains reads one domain a line, skipping blank lines, comments and
// repeats (compared lower case, without a trailing dot).
func readDomains(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if d := normalize(line); !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no domains in %s", name)
	}
	return out, nil
}

func runBatch(ctx context.Context, p *discovery.Prober, domains []string, v verdicts, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := bufio.NewWriter(stdout)
	t0 := time.Now()
	n, reachable, worst := 0, 0, exitOK
	bar := cli.NewProgress(stderr, "probe", len(domains), nil, nil)
	var werr error
	for r := range p.ProbeAll(ctx, domains) {
		n++
		if r.StartTLS.Status.Observed() || r.DirectTLS.Status.Observed() {
			reachable++
		}
		code, why := v.of(&r, false)
		if code != exitOK && (worst == exitOK || code < worst) {
			worst = code
		}
		bar.Done(r.Domain, code == exitOK, why)
		if werr == nil {
			if werr = cli.WriteJSON(w, r, true, verdictFields(code, why)...); werr == nil {
				werr = w.Flush() // one line at a time, for consumers that follow along
			}
			if werr != nil {
				cancel() // nobody reads: stop probing
			}
		}
	}
	bar.Finish()
	if werr != nil {
		fmt.Fprintln(stderr, "probe:", sanitize.Line(werr.Error()))
		return exitUnreachable
	}
	interrupted := ""
	if ctx.Err() != nil {
		interrupted = " (interrupted)"
		worst = exitInterrupted
	}
	fmt.Fprintf(stderr, "probe: %d of %d domains probed in %v, %d with a reachable XMPP service%s\n",
		n, len(domains), time.Since(t0).Round(time.Millisecond), reachable, interrupted)
	return worst
}

// writeSummary writes a readable summary of a report. Every line goes
// through sanitize.Line: most of it is what the server chose to say. An
// error is shown once: the parts that failed because of it (no connection:
// registration, server info, ...) show only their state and reason.
func writeSummary(out io.Writer, r *discovery.Report, v verdicts) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	line := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%s\t%s\n", label, sanitize.Line(fmt.Sprintf(format, a...)))
	}
	more := func(format string, a ...any) { line("", format, a...) }
	shown := map[string]bool{}
	status := func(st discovery.Status) string {
		s := st.State.String()
		if st.Reason != "" {
			s += " (" + st.Reason + ")"
		}
		if st.Err != nil && st.State != discovery.Observed && !errors.Is(st.Err, discovery.ErrSkipped) {
			msg := strings.TrimPrefix(st.Err.Error(), "discovery: ")
			msg = strings.TrimPrefix(msg, st.Reason+": ")
			if !shown[msg] {
				shown[msg] = true
				s += ": " + msg
			}
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
		if left := cert.ExpiresIn(v.now()); cert.Valid && left < v.expiry {
			more("certificate valid, but expires %s %s: WARNING, renew it", cert.NotAfter.Format(time.DateOnly), inDays(left))
		} else if cert.Valid {
			more("certificate valid, expires %s (%s)", cert.NotAfter.Format(time.DateOnly), inDays(left))
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
	case reg.Status.State == discovery.Absent && reg.Kind == discovery.RegistrationClosed:
		line("Registration", "closed%s", reasonSuffix(reg.Status.Reason))
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
	if c := reg.Check; c != nil {
		more("%s", checkLine(c))
	}
	if r.Login.Status.Observed() {
		line("Login", "%s as %s", r.Login.Mechanism, r.Login.JID)
		if r.Login.DowngradeProtected {
			more("downgrade protection (XEP-0474): the server's mechanism list verified")
		}
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

// checkLine describes the live registration check (-check-registration).
func checkLine(c *discovery.RegistrationCheck) string {
	if !c.Status.Observed() {
		return "live check: not made (" + c.Status.Reason + ")"
	}
	s := "live check: " + c.Result.String() + " (" + c.Status.Reason
	if c.Condition != "" {
		s += "; the server answered " + c.Condition
		if c.Text != "" {
			s += " " + strconv.Quote(c.Text)
		}
	}
	s += ")"
	if c.Created {
		s += "; WARNING: it created the account " + c.Username + " with an empty password"
	}
	return s
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
	if len(f.FAST) > 0 {
		parts = append(parts, "FAST "+strings.Join(f.FAST, " "))
	}
	if len(f.ChannelBindings) > 0 {
		parts = append(parts, "channel binding "+strings.Join(f.ChannelBindings, " "))
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
