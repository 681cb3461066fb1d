package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// Exit codes (see the package documentation).
const (
	exitOK             = 0
	exitError          = 1
	exitUsage          = cli.ExitUsage
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
	exitRegistered     = 26
	exitInterrupted    = 130
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
	register.KindAlreadyRegistered:  exitRegistered,
}

// result is the JSON output (-json), one object on standard output.
type result struct {
	OK          bool   `json:"ok"`                    // account exists and login worked
	JID         string `json:"jid,omitempty"`         // the new account, user@domain
	Bound       string `json:"bound,omitempty"`       // full JID of the login
	Domain      string `json:"domain,omitempty"`      // the server used
	Exit        int    `json:"exit"`                  // the exit status
	Kind        string `json:"kind,omitempty"`        // register.Kind of the failure
	Error       string `json:"error,omitempty"`       // message (never the password)
	RedirectURL string `json:"redirectUrl,omitempty"` // web registration page
	RetryAfter  string `json:"retryAfter,omitempty"`  // rate limit wait, if known
	// Suggestions are other names to try when a typed username is taken.
	Suggestions []string `json:"suggestions,omitempty"`
	Note        string   `json:"note,omitempty"` // remarks

	// Password is set only when it was generated (an empty answer to the
	// prompt): the user has no other way to learn it.
	Password          string `json:"password,omitempty"`
	PasswordGenerated bool   `json:"passwordGenerated,omitempty"`

	// Without -domain:
	Attempts      []attempt `json:"attempts,omitempty"`      // providers that failed
	Website       string    `json:"website,omitempty"`       // the provider's web site
	PasswordReset string    `json:"passwordReset,omitempty"` // where to reset the password
}

// attempt is one provider that failed (onboard.AttemptError).
type attempt struct {
	Domain string `json:"domain"`
	Step   string `json:"step"`
	Error  string `json:"error"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	domain, addr, directTLS, caFile, user, token, captchaOut string
	lang, country, listFile                                  string
	// inviteDest is where invitation pages may be fetched from (tests:
	// AllowAll for a page on loopback); the zero value is public only.
	inviteDest          register.Destinations
	pick, asJSON, debug bool
	resolve             resolveFlag
	timeout             time.Duration
}

// command describes the command, its flags bound to o; its help is the
// package documentation (doc.go).
func command(o *options) *cli.Command {
	fs := flag.NewFlagSet("signup", flag.ContinueOnError)
	o.resolve = resolveFlag{}
	fs.StringVar(&o.domain, "domain", "", "XMPP `domain` to register on (default: choose a provider)")
	fs.StringVar(&o.addr, "addr", "", "connect to this `host:port` with STARTTLS instead of looking up SRV records (the certificate must still be valid for the domain)")
	fs.StringVar(&o.directTLS, "direct-tls", "", "connect to this `host:port` with direct TLS (XEP-0368) instead of looking up SRV records")
	fs.StringVar(&o.caFile, "cafile", "", "trust the CA certificates in this PEM `file` in addition to the system roots")
	fs.StringVar(&o.user, "user", "", "the account `name` to create (asked for when missing; an empty answer: generated)")
	fs.StringVar(&o.token, "token", "", "invitation `token`, URI (xmpp:host?register;preauth=...) or invitation link (https://...)")
	fs.StringVar(&o.captchaOut, "captcha-out", "", "save a CAPTCHA image to this `file` and keep it (default: a temporary file, removed at exit)")
	fs.StringVar(&o.lang, "lang", "", "the user's `language` (default: from $LANG)")
	fs.StringVar(&o.country, "country", "", "the user's `country` (default: from $LANG)")
	fs.StringVar(&o.listFile, "file", "", "choose among the providers of this list `file` (any published shape) instead of the embedded one")
	fs.BoolVar(&o.pick, "pick", false, "print the provider a fair offline pick suggests, and exit (no network)")
	fs.Var(o.resolve, "resolve", "connect to host:port for domain (`domain=host:port`, repeatable; to test the choice against local servers)")
	fs.BoolVar(&o.asJSON, "json", false, "print the result as JSON on standard output (progress stays on standard error)")
	fs.BoolVar(&o.debug, "debug", false, "print the XML stream (passwords redacted) to standard error")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "overall time limit")
	return &cli.Command{
		Name: "signup",
		Summary: `signup creates an XMPP account with in-band registration and logs in
with it, using packages onboard and register (go run ./examples/signup).`,
		Usage: []string{"signup [flags]"},
		Examples: `signup                                   # choose a provider, ask for name and password
signup -lang fr -country fr -json        # for a French user, the result as JSON
signup -domain example.org -user juliet  # on a given server
signup -token 'xmpp:example.org?register;preauth=...'   # with an invitation
ONBOARD_PASSWORD=... signup -domain localhost -addr 127.0.0.1:5222 -cafile ca.pem -user test
signup -pick                             # only say which provider would be tried first`,
		Text: `Without -domain the account is created with onboard.Signup: providers
of category A with in-band registration, free of charge, are taken from
the embedded XMPP Providers list (or -file), those in the user's
language and country (-lang, -country, by default from $LANG) first,
in a fair random order; three at a time are verified live (TLS and the
registration form), the account is created on the first that works and
the next one is tried when one fails. A generated username that is taken
is replaced by another; a typed one is not: signup exits with status 10
and suggests other names ("suggestions" with -json). Progress goes to
standard error (with -json too); the output names each provider that
failed and why.

The password is read from the environment variable ONBOARD_PASSWORD or,
if that is empty, from standard input (with echo disabled when it is a
terminal); it is never a flag or an argument, so it does not show up in
process lists or shell history. An empty answer makes signup generate a
strong password, a new one for each provider tried; it is printed once
with the result (with -json under "password", with "passwordGenerated":
true), since there is no other way to learn it. An empty username answer
likewise gets a generated name.

A CAPTCHA image is saved to a temporary file, removed when the command
ends (also on Ctrl-C), or to -captcha-out, which is kept; the answer is
read from standard input, as are other fields the server asks for. After
a wrong answer signup says so and shows the new challenge; a web page
where the CAPTCHA can be solved instead is printed when the server names
one (https only).

-token takes an invitation as people receive it: an xmpp: URI, a bare
token (with -domain), a landing page link with the URI after "#"
(https://xmpp.link/#example.org?register;preauth=..., read without
fetching anything), or a link to an invitation page
(https://example.org/invite?TOKEN, Prosody's mod_invites_page), which
is fetched to read its xmpp: link: https only, public addresses only, at
most 256 KiB within 10 s.

With -json the result is one JSON object on standard output, camelCase
keys with "format": 1 first: {"format": 1, "ok": true, "jid":
"user@domain", "bound": "user@domain/resource", "domain": ..., "exit":
0} on success, {"format": 1, "ok": false, "exit": N, "kind": "username
taken", "error": ..., "redirectUrl": ..., "retryAfter": ...} on failure.
Without -domain the object also holds "attempts" (one {"domain", "step",
"error"} per provider that failed), and on success "website" and
"passwordReset" of the provider.

What the server and the provider list chose (error texts, form
instructions, field labels and descriptions, CAPTCHA labels, links, the
bound address, the -debug stream) is printed through internal/sanitize:
control characters, bidi controls and invalid UTF-8 appear as visible
escapes (\x0d, \u202e), so a server cannot make the terminal say
"registered" when the exit status says otherwise. Instructions keep their
line breaks, each line shown after "domain: "; everything else is one
line. -json escapes DEL, C1 and bidi controls besides what encoding/json
escapes.`,
		Exits: `0   the account exists and the login with it worked
1   other error
2   usage error (bad flags, an argument, invalid domain, unreadable -cafile)
3   could not connect (DNS, TCP or TLS handshake failure)
10  username already taken
11  invalid username
12  password rejected (too weak)
13  CAPTCHA failed
14  rate limited (try again later)
15  registration closed
16  invitation required
17  invitation invalid
18  registration only on the web (the URL is printed)
19  in-band registration not advertised
20  form incomplete (a required field could not be filled)
21  outcome unknown (connection lost after submitting; not confirmed)
22  not created (connection lost after submitting; confirmed by login)
23  registered, but the login failed
24  TLS not available or certificate invalid
25  no provider could create the account (without -domain; the attempts
    say why each one failed)
26  already registered (the server says so; nothing was submitted)
130 interrupted (Ctrl-C)`,
		Flags: fs,
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin *os.File, stdout, stderr io.Writer) int {
	return runWith(ctx, args, getenv, stdin, stdout, stderr, nil)
}

// runWith is run; roots, if not nil, are the only certificate authorities
// trusted, instead of the system's and -cafile's (tests pass a fake
// server's).
func runWith(ctx context.Context, args []string, getenv func(string) string, stdin *os.File, stdout, stderr io.Writer, roots *x509.CertPool) int {
	var o options
	cmd := command(&o)
	pos, code, done := cmd.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return cmd.UsageError(stderr, fmt.Sprintf("unexpected arguments %q (the password is never an argument; use %s or standard input)", pos, cli.PasswordEnv))
	}
	if o.addr != "" && o.directTLS != "" {
		return cmd.UsageError(stderr, "give -addr (STARTTLS) or -direct-tls, not both")
	}
	for _, a := range []string{o.addr, o.directTLS} {
		if a != "" && !strings.Contains(a, ":") {
			return cmd.UsageError(stderr, fmt.Sprintf("want host:port, got %q", a))
		}
	}
	tmp := &cli.TempFiles{}
	defer tmp.Remove()
	interrupted := ctx // done on Ctrl-C; ctx below also ends at -timeout
	out := func(r result) int {
		if interrupted.Err() != nil && !r.OK {
			r.Exit, r.Error = exitInterrupted, "interrupted"
		}
		if o.asJSON {
			cli.WriteJSON(stdout, r, true)
		} else if r.OK {
			fmt.Fprintf(stdout, "registered %s and logged in as %s\n", sanitize.Line(r.JID), sanitize.Line(r.Bound))
			if r.PasswordGenerated {
				fmt.Fprintf(stdout, "password: %s (generated; keep it now, it is not shown again)\n", sanitize.Line(r.Password))
			}
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
		return out(result{Exit: code, Error: err.Error(), Domain: o.domain})
	}

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := cli.NewPrompter(stdin, stderr)

	d := register.Dialer{Addr: o.addr}
	if o.directTLS != "" {
		d.Addr, d.DirectTLS = o.directTLS, true
	}
	pool, err := cli.CertPool(o.caFile)
	if err != nil {
		return fail(exitUsage, err)
	}
	if pool != nil {
		d.TLSConfig = newTLSConfig(pool)
	}
	if roots != nil {
		d.TLSConfig = newTLSConfig(roots)
	}
	if o.debug {
		// One line per record, so that each keeps its direction.
		d.Debug = func(dir string, xml []byte) { fmt.Fprintf(stderr, "%s: %s\n", dir, sanitize.Line(string(xml))) }
	}
	if o.token != "" {
		// An invitation page is fetched here, once; what goes on is
		// the token (the domain and account it names are checked here).
		inv, err := register.ParseInvite(o.token)
		if errors.Is(err, register.ErrInvitePage) {
			pages := register.InviteFetcher{TLSConfig: d.TLSConfig, Destinations: o.inviteDest}
			inv, err = pages.Resolve(ctx, o.token)
		}
		if err != nil {
			return out(result{Exit: exitInviteInvalid, Kind: register.KindInviteInvalid.String(), Error: err.Error(), Domain: o.domain})
		}
		switch {
		case inv.Domain != "" && o.domain != "" && !strings.EqualFold(strings.TrimSuffix(o.domain, "."), inv.Domain):
			return out(result{Exit: exitInviteInvalid, Kind: register.KindInviteInvalid.String(), Domain: o.domain,
				Error: fmt.Sprintf("the invitation is for %s, not %s", inv.Domain, o.domain)})
		case inv.Domain != "" && o.domain == "":
			o.domain = inv.Domain
		}
		if o.user == "" {
			o.user = inv.Username
		}
		o.token = inv.Token
	}
	list := providers.Embedded()
	if o.listFile != "" {
		l, err := readList(o.listFile)
		if err != nil {
			return fail(exitUsage, err)
		}
		list = l
	}
	if o.pick {
		d, err := pickProvider(list)
		if err != nil {
			return fail(exitError, err)
		}
		fmt.Fprintln(stdout, sanitize.Line(d))
		return exitOK
	}
	if o.domain == "" && d.Addr != "" {
		return fail(exitUsage, errors.New("-addr and -direct-tls need -domain"))
	}
	if o.user == "" {
		u, err := p.Line(ctx, "Username (empty: generate one): ", false)
		if err != nil && !errors.Is(err, io.EOF) {
			return fail(exitUsage, err)
		}
		o.user = u
	}
	if o.user == "" && o.domain != "" {
		o.user = onboard.RandomUsername()
	}
	password, err := cli.Password(ctx, getenv, p, "Password (empty: generate one): ", true)
	if err != nil {
		return fail(exitUsage, err)
	}
	progress := func(format string, a ...any) {
		fmt.Fprintln(stderr, "signup:", sanitize.Line(fmt.Sprintf(format, a...)))
	}
	if o.domain == "" {
		l, c := languageCountry(o.lang, o.country)
		return out(choose(ctx, &d, o.resolve, list, p, tmp, o.captchaOut, l, c, o.user, password, progress))
	}

	generated := password == ""
	if generated {
		password = onboard.RandomPassword()
	}
	c := register.Client{Dialer: d}
	c.Progress = func(e register.Event) { progress("%s %s", e.Stage, e.Addr) }
	acct, err := c.Register(ctx, o.domain, register.Request{
		Username: o.user,
		Password: password,
		Invite:   o.token,
		Login:    true,
		Solve: func(ctx context.Context, f *register.Form) error {
			return solve(ctx, p, tmp, f, o.domain, o.captchaOut)
		},
	})
	ok := func(r result) int {
		if generated {
			r.Password, r.PasswordGenerated = password, true
		}
		return out(r)
	}
	if acct != nil && acct.Session != nil {
		bound := acct.Session.LocalAddr().String()
		acct.Session.Close()
		acct.Session.Conn().Close()
		return ok(result{OK: true, JID: acct.JID.String(), Bound: bound, Domain: o.domain})
	}
	var e *register.Error
	if errors.As(err, &e) && e.Kind == register.KindOutcomeUnknown {
		// Find out whether the account exists by logging in.
		created, cerr := c.Dialer.Confirm(ctx, o.domain, e.Username, e.Password)
		switch {
		case cerr == nil && created:
			return ok(result{OK: true, JID: e.Username + "@" + o.domain, Domain: o.domain, Note: "the connection was lost after submitting; the login on a new connection confirmed the account"})
		case cerr == nil:
			return fail(exitNotCreated, fmt.Errorf("%v; the account was not created", err))
		}
	}
	r := result{Exit: exitError, Domain: o.domain}
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
	if errors.Is(err, register.ErrNoMechanism) {
		// Nothing was submitted: not "registered, but the login failed".
		r.Exit = exitError
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
func solve(ctx context.Context, p *cli.Prompter, tmp *cli.TempFiles, f *register.Form, domain, captchaOut string) error {
	instructions(p.Out, domain, f.Instructions)
	if c := f.Captcha; c != nil {
		ans, err := askCaptcha(ctx, p, tmp, c, captchaOut)
		if err != nil {
			return err
		}
		if err := f.Set(c.Field, ans); err != nil {
			return err
		}
	}
	return fillMissing(ctx, p, f)
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
func askCaptcha(ctx context.Context, p *cli.Prompter, tmp *cli.TempFiles, c *register.Captcha, captchaOut string) (string, error) {
	if len(c.Image) > 0 {
		path, err := saveImage(tmp, c, captchaOut)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(p.Out, "CAPTCHA (%s): the image is in %s\n", sanitize.Line(c.Type), sanitize.Line(path))
	}
	for _, u := range c.URLs {
		fmt.Fprintf(p.Out, "CAPTCHA also at %s\n", sanitize.Line(u))
	}
	if c.Retry > 0 {
		fmt.Fprintf(p.Out, "The server did not accept the answer (%d wrong); a new challenge:\n", c.Retry)
	}
	if c.FallbackURL != "" {
		fmt.Fprintf(p.Out, "CAPTCHA can also be solved at %s\n", sanitize.Line(c.FallbackURL))
	}
	if c.PlainHTTP && len(c.Image) == 0 {
		fmt.Fprintf(p.Out, "CAPTCHA (%s): the server offers its media over plain http only (not shown)\n", sanitize.Line(c.Type))
	}
	label := c.Label
	if label == "" {
		label = "Answer"
	}
	return p.Line(ctx, label+": ", false)
}

// fillMissing asks for the required fields that are still empty.
func fillMissing(ctx context.Context, p *cli.Prompter, f *register.Form) error {
	for _, fl := range f.Missing() {
		label := fl.Label
		if label == "" {
			label = fl.Var
		}
		if fl.Desc != "" {
			fmt.Fprintf(p.Out, "%s\n", sanitize.Line(fl.Desc))
		}
		for _, o := range fl.Options {
			fmt.Fprintf(p.Out, "  %s: %s\n", sanitize.Line(o.Value), sanitize.Line(o.Label))
		}
		if fl.Type == register.Boolean {
			label += " [y/n]"
		}
		v, err := p.Line(ctx, label+": ", fl.Type == register.TextPrivate)
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

// saveImage writes the CAPTCHA image to path or, if path is empty, to a
// new temporary file that tmp removes at exit, and returns its path.
func saveImage(tmp *cli.TempFiles, c *register.Captcha, path string) (string, error) {
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
		f, err := tmp.Create("signup-captcha-*" + ext)
		if err != nil {
			return "", err
		}
		defer f.Close()
		_, err = f.Write(c.Image)
		return f.Name(), err
	}
	return path, os.WriteFile(path, c.Image, 0o600)
}
