// Command signup creates an XMPP account with in-band registration and logs
// in with it, using package register.
//
// Usage:
//
//	signup [-domain example.org] [-username name] [flags]
//
// Without -domain the account is created with onboard.Signup: providers
// of category A with in-band registration, free of charge, are taken from
// the embedded XMPP Providers list (or -providers), those in the user's
// language and country (-lang, -country, by default from $LANG) first,
// in a fair random order; three at a time are verified live (TLS and the
// registration form), the account is created on the first that works and
// the next one is tried when one fails. A taken username gets digits
// appended. The output names each provider that failed and why.
//
// The password is read from the environment variable ONBOARD_PASSWORD or,
// if that is empty, from standard input (with echo disabled when it is a
// terminal); it is never a flag, so it does not show up in process lists or
// shell history. A CAPTCHA image is saved to a file (-captcha-out) and the
// answer is read from standard input, as are other fields the server asks
// for.
//
// Flags:
//
//	-domain d        XMPP domain to register on (default: choose one)
//	-addr host:port  connect here instead of looking up SRV records (the
//	                 certificate must still be valid for the domain)
//	-lang code       the user's language (default: from $LANG)
//	-country code    the user's country (default: from $LANG)
//	-providers file  choose among the providers of this list (any
//	                 published shape) instead of the embedded one
//	-resolve d=h:p   connect to host:port for domain d (repeatable; for
//	                 tests of the choice against local servers)
//	-pick            print the provider a fair offline pick suggests, and
//	                 exit (no network)
//	-direct-tls      -addr speaks TLS from the start (XEP-0368)
//	-cafile file     also trust the CA certificates in this PEM file
//	-username name   account name (asked for when missing)
//	-token t         invitation token or URI (xmpp:host?register;preauth=…)
//	-captcha-out f   where to save a CAPTCHA image (default: a new file in
//	                 the temporary directory)
//	-json            print the result as JSON on standard output
//	-debug           print the XML stream (passwords redacted) to stderr
//	-timeout d       overall time limit (default 3m)
//
// With -json the result is one JSON object on standard output: {"ok":
// true, "jid": "user@domain", "bound": "user@domain/resource", "domain":
// …, "exit": 0} on success, {"ok": false, "exit": N, "kind": "username
// taken", "error": …, "redirect_url": …, "retry_after": …} on failure.
//
// Exit status: 0 only when the account exists and the login with it worked.
// Otherwise one code per kind of failure:
//
//	1   other error
//	2   usage error (bad flags, invalid domain, no password)
//	3   could not connect (DNS, TCP or TLS handshake failure)
//	10  username already taken
//	11  invalid username
//	12  password rejected (too weak)
//	13  CAPTCHA failed
//	14  rate limited (try again later)
//	15  registration closed
//	16  invitation required
//	17  invitation invalid
//	18  registration only on the web (the URL is printed)
//	19  in-band registration not advertised
//	20  form incomplete (a required field could not be filled)
//	21  outcome unknown (connection lost after submitting; not confirmed)
//	22  not created (connection lost after submitting; confirmed by login)
//	23  registered, but the login failed
//	24  TLS not available or certificate invalid
//	25  no provider could create the account (without -domain; the
//	    attempts say why each one failed)
//
// With -json and without -domain, the object also holds "attempts" (one
// {"domain", "step", "error"} per provider that failed), and on success
// "website" and "password_reset" of the provider.
//
// What the server and the provider list chose (error texts, form
// instructions, field labels and descriptions, CAPTCHA labels, links, the
// bound address, the -debug stream) is printed through internal/sanitize:
// control characters, bidi controls and invalid UTF-8 appear as visible
// escapes (\x0d, \u202e), so a server cannot make the terminal say
// "registered" when the exit status says otherwise. Instructions keep their
// line breaks, each line shown after "domain: "; everything else is one
// line. -json escapes DEL, C1 and bidi
// controls besides what encoding/json escapes.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// Exit codes (see the package documentation).
const (
	exitOK             = 0
	exitError          = 1
	exitUsage          = 2
	exitConnect        = 3
	exitTaken          = 10
	exitBadUsername    = 11
	exitWeakPassword   = 12
	exitCaptcha        = 13
	exitRateLimited    = 14
	exitClosed         = 15
	exitInviteRequired = 16
	exitInviteInvalid  = 17
	exitWebOnly        = 18
	exitNotAdvertised  = 19
	exitIncomplete     = 20
	exitUnknown        = 21
	exitNotCreated     = 22
	exitLoginFailed    = 23
	exitNoTLS          = 24
	exitNoProvider     = 25
)

var kindExit = map[register.Kind]int{
	register.KindUsernameTaken:      exitTaken,
	register.KindInvalidUsername:    exitBadUsername,
	register.KindWeakPassword:       exitWeakPassword,
	register.KindCaptchaFailed:      exitCaptcha,
	register.KindRateLimited:        exitRateLimited,
	register.KindRegistrationClosed: exitClosed,
	register.KindInviteRequired:     exitInviteRequired,
	register.KindInviteInvalid:      exitInviteInvalid,
	register.KindWebOnly:            exitWebOnly,
	register.KindNotAdvertised:      exitNotAdvertised,
	register.KindFormIncomplete:     exitIncomplete,
	register.KindOutcomeUnknown:     exitUnknown,
	register.KindLoginFailed:        exitLoginFailed,
	register.KindNoTLS:              exitNoTLS,
	register.KindConnect:            exitConnect,
}

// result is the JSON output (-json), one object on standard output.
type result struct {
	OK          bool   `json:"ok"`                     // account exists and login worked
	JID         string `json:"jid,omitempty"`          // the new account, user@domain
	Bound       string `json:"bound,omitempty"`        // full JID of the login
	Domain      string `json:"domain,omitempty"`       // the server used
	Exit        int    `json:"exit"`                   // the exit status
	Kind        string `json:"kind,omitempty"`         // register.Kind of the failure
	Error       string `json:"error,omitempty"`        // message (never the password)
	RedirectURL string `json:"redirect_url,omitempty"` // web registration page
	RetryAfter  string `json:"retry_after,omitempty"`  // rate limit wait, if known
	Note        string `json:"note,omitempty"`         // remarks

	// Without -domain:
	Attempts      []attempt `json:"attempts,omitempty"`       // providers that failed
	Website       string    `json:"website,omitempty"`        // the provider's web site
	PasswordReset string    `json:"password_reset,omitempty"` // where to reset the password
}

// attempt is one provider that failed (onboard.AttemptError).
type attempt struct {
	Domain string `json:"domain"`
	Step   string `json:"step"`
	Error  string `json:"error"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// prompter reads answers from standard input.
type prompter struct {
	in     *bufio.Reader
	file   *os.File // for stty, when in is a terminal
	stderr io.Writer
}

// isTerminal reports whether f is a character device.
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// line prints a prompt and reads one line; secret disables the echo on a
// terminal (with stty). The prompt goes through sanitize.Line (it may hold
// a label the server chose).
func (p *prompter) line(prompt string, secret bool) (string, error) {
	fmt.Fprint(p.stderr, sanitize.Line(prompt))
	if secret && isTerminal(p.file) {
		if err := stty(p.file, "-echo"); err == nil {
			defer func() {
				stty(p.file, "echo")
				fmt.Fprintln(p.stderr)
			}()
		}
	}
	s, err := p.in.ReadString('\n')
	if err != nil && (err != io.EOF || s == "") {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// stty runs stty on the terminal f.
func stty(f *os.File, arg string) error {
	cmd := exec.Command("stty", arg)
	cmd.Stdin = f
	return cmd.Run()
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	return runWith(args, stdin, stdout, stderr, nil)
}

// runWith is run; roots, if not nil, are the only certificate authorities
// trusted, instead of the system's and -cafile's (tests pass a fake
// server's).
func runWith(args []string, stdin *os.File, stdout, stderr io.Writer, roots *x509.CertPool) int {
	fs := flag.NewFlagSet("signup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		domain     = fs.String("domain", "", "XMPP domain to register on (default: pick a provider)")
		addr       = fs.String("addr", "", "connect to host:port instead of looking up SRV records")
		directTLS  = fs.Bool("direct-tls", false, "-addr speaks TLS from the start (XEP-0368)")
		caFile     = fs.String("cafile", "", "also trust the CA certificates in this PEM file")
		username   = fs.String("username", "", "account name")
		token      = fs.String("token", "", "invitation token or URI")
		captchaOut = fs.String("captcha-out", "", "file for a CAPTCHA image")
		lang       = fs.String("lang", "", "the user's language (default: from $LANG)")
		country    = fs.String("country", "", "the user's country (default: from $LANG)")
		listFile   = fs.String("providers", "", "choose among the providers of this list file")
		pick       = fs.Bool("pick", false, "print the provider a fair offline pick suggests, and exit")
		resolve    = resolveFlag{}
		asJSON     = fs.Bool("json", false, "print the result as JSON")
		debug      = fs.Bool("debug", false, "print the XML stream (passwords redacted) to stderr")
		timeout    = fs.Duration("timeout", 3*time.Minute, "overall time limit")
	)
	fs.Var(resolve, "resolve", "connect to host:port for domain (domain=host:port, repeatable)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "signup: unexpected arguments %s (the password is never an argument; use ONBOARD_PASSWORD or standard input)\n", sanitize.Line(fmt.Sprintf("%q", fs.Args())))
		return exitUsage
	}
	out := func(r result) int {
		if *asJSON {
			writeJSON(stdout, r)
		} else if r.OK {
			fmt.Fprintf(stdout, "registered %s and logged in as %s\n", sanitize.Line(r.JID), sanitize.Line(r.Bound))
			if r.Note != "" {
				fmt.Fprintln(stdout, sanitize.Line(r.Note))
			}
			if r.Website != "" {
				fmt.Fprintf(stdout, "provider: %s\n", sanitize.Line(r.Website))
			}
			if r.PasswordReset != "" {
				fmt.Fprintf(stdout, "forgotten password: %s\n", sanitize.Line(r.PasswordReset))
			}
		} else {
			fmt.Fprintf(stderr, "signup: %s\n", sanitize.Line(r.Error))
			if r.RedirectURL != "" {
				fmt.Fprintf(stdout, "register on the web: %s\n", sanitize.Line(r.RedirectURL))
			}
		}
		return r.Exit
	}
	fail := func(code int, err error) int {
		return out(result{Exit: code, Error: err.Error(), Domain: *domain})
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	p := &prompter{in: bufio.NewReader(stdin), file: stdin, stderr: stderr}

	d := register.Dialer{Addr: *addr, DirectTLS: *directTLS}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return fail(exitUsage, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fail(exitUsage, fmt.Errorf("%s: no PEM certificates", *caFile))
		}
		d.TLSConfig = newTLSConfig(pool)
	}
	if roots != nil {
		d.TLSConfig = newTLSConfig(roots)
	}
	if *debug {
		// One line per record, so that each keeps its direction.
		d.Debug = func(dir string, xml []byte) { fmt.Fprintf(stderr, "%s: %s\n", dir, sanitize.Line(string(xml))) }
	}
	if *domain == "" && *token != "" {
		if inv, err := register.ParseInvite(*token); err == nil {
			*domain = inv.Domain
			if *username == "" {
				*username = inv.Username
			}
		}
	}
	list := providers.Embedded()
	if *listFile != "" {
		l, err := readList(*listFile)
		if err != nil {
			return fail(exitUsage, err)
		}
		list = l
	}
	if *pick {
		d, err := pickProvider(list)
		if err != nil {
			return fail(exitError, err)
		}
		fmt.Fprintln(stdout, sanitize.Line(d))
		return exitOK
	}
	if *domain == "" && *addr != "" {
		return fail(exitUsage, errors.New("-addr needs -domain"))
	}
	if *username == "" {
		u, err := p.line("Username: ", false)
		if err != nil {
			return fail(exitUsage, err)
		}
		*username = u
	}
	password := os.Getenv("ONBOARD_PASSWORD")
	if password == "" {
		pw, err := p.line("Password: ", true)
		if err != nil {
			return fail(exitUsage, err)
		}
		password = pw
	}
	if password == "" {
		return fail(exitUsage, errors.New("empty password"))
	}
	if *domain == "" {
		l, c := languageCountry(*lang, *country)
		return out(choose(ctx, &d, resolve, list, p, *captchaOut, l, c, *username, password, !*asJSON, stderr))
	}

	c := register.Client{Dialer: d}
	if !*asJSON {
		c.Progress = func(e register.Event) {
			fmt.Fprintln(stderr, "signup:", sanitize.Line(fmt.Sprintf("%s %s", e.Stage, e.Addr)))
		}
	}
	acct, err := c.Register(ctx, *domain, register.Request{
		Username: *username,
		Password: password,
		Invite:   *token,
		Login:    true,
		Solve:    func(ctx context.Context, f *register.Form) error { return solve(p, f, *domain, *captchaOut) },
	})
	if acct != nil && acct.Session != nil {
		bound := acct.Session.LocalAddr().String()
		acct.Session.Close()
		acct.Session.Conn().Close()
		return out(result{OK: true, JID: acct.JID.String(), Bound: bound, Domain: *domain})
	}
	var e *register.Error
	if errors.As(err, &e) && e.Kind == register.KindOutcomeUnknown {
		// Find out whether the account exists by logging in.
		created, cerr := c.Dialer.Confirm(ctx, *domain, e.Username, e.Password)
		switch {
		case cerr == nil && created:
			return out(result{OK: true, JID: e.Username + "@" + *domain, Domain: *domain, Note: "the connection was lost after submitting; the login on a new connection confirmed the account"})
		case cerr == nil:
			return fail(exitNotCreated, fmt.Errorf("%v; the account was not created", err))
		}
	}
	r := result{Exit: exitError, Domain: *domain}
	if err != nil {
		r.Error = err.Error()
	}
	if errors.Is(err, register.ErrInvalidDomain) {
		r.Exit = exitUsage
	}
	if errors.As(err, &e) {
		r.Kind = e.Kind.String()
		if code, ok := kindExit[e.Kind]; ok {
			r.Exit = code
		}
		r.RedirectURL = e.RedirectURL
		if e.RetryAfter > 0 {
			r.RetryAfter = e.RetryAfter.String()
		}
	}
	return out(r)
}

// query selects the providers to choose from: category A, in-band
// registration, free of charge.
func query() providers.Query {
	return providers.Query{
		Categories:         []providers.Category{providers.CategoryA},
		InBandRegistration: true,
		FreeOfCharge:       true,
	}
}

// pickProvider chooses a provider at random among those of query, offline
// (-pick).
func pickProvider(l providers.List) (string, error) {
	prov, err := l.Pick(nil, query())
	if err != nil {
		return "", err
	}
	return prov.JID, nil
}

// solve fills the fields the server asks for beyond username and password.
func solve(p *prompter, f *register.Form, domain, captchaOut string) error {
	instructions(p.stderr, domain, f.Instructions)
	if c := f.Captcha; c != nil {
		ans, err := askCaptcha(p, c, captchaOut)
		if err != nil {
			return err
		}
		if err := f.Set(c.Field, ans); err != nil {
			return err
		}
	}
	return fillMissing(p, f)
}

// instructions shows a form's instructions through sanitize.Text, each line
// after "domain: ", so that no line of them can pass for the command's own
// ("registered …").
func instructions(w io.Writer, domain, text string) {
	if text == "" {
		return
	}
	prefix := sanitize.Line(domain) + ": "
	for _, l := range strings.Split(sanitize.Text(text), "\n") {
		fmt.Fprintln(w, prefix+l)
	}
}

// askCaptcha saves the CAPTCHA image and reads the answer.
func askCaptcha(p *prompter, c *register.Captcha, captchaOut string) (string, error) {
	if len(c.Image) > 0 {
		path, err := saveImage(c, captchaOut)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(p.stderr, "CAPTCHA (%s): the image is in %s\n", sanitize.Line(c.Type), sanitize.Line(path))
	}
	for _, u := range c.URLs {
		fmt.Fprintf(p.stderr, "CAPTCHA also at %s\n", sanitize.Line(u))
	}
	label := c.Label
	if label == "" {
		label = "Answer"
	}
	return p.line(label+": ", false)
}

// fillMissing asks for the required fields that are still empty.
func fillMissing(p *prompter, f *register.Form) error {
	for _, fl := range f.Missing() {
		label := fl.Label
		if label == "" {
			label = fl.Var
		}
		if fl.Desc != "" {
			fmt.Fprintf(p.stderr, "%s\n", sanitize.Line(fl.Desc))
		}
		for _, o := range fl.Options {
			fmt.Fprintf(p.stderr, "  %s: %s\n", sanitize.Line(o.Value), sanitize.Line(o.Label))
		}
		if fl.Type == register.Boolean {
			label += " [y/n]"
		}
		v, err := p.line(label+": ", fl.Type == register.TextPrivate)
		if err != nil {
			return err
		}
		if fl.Type == register.Boolean {
			if strings.HasPrefix(strings.ToLower(v), "y") {
				v = "1"
			} else {
				v = "0"
			}
		}
		if err := f.Set(fl.Var, v); err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes v as one line of JSON with sanitize.JSON's escapes.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	_, err := w.Write(sanitize.JSON(b.Bytes()))
	return err
}

// saveImage writes the CAPTCHA image and returns its path.
func saveImage(c *register.Captcha, path string) (string, error) {
	ext := ".img"
	switch c.MIME {
	case "image/png":
		ext = ".png"
	case "image/jpeg":
		ext = ".jpg"
	case "image/gif":
		ext = ".gif"
	case "image/webp":
		ext = ".webp"
	}
	if path == "" {
		f, err := os.CreateTemp("", "signup-captcha-*"+ext)
		if err != nil {
			return "", err
		}
		defer f.Close()
		_, err = f.Write(c.Image)
		return f.Name(), err
	}
	return path, os.WriteFile(path, c.Image, 0o600)
}
