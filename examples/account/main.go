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
	"strings"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/register"
)

// Exit codes (see the package documentation). Those that mean the same as
// signup's have signup's numbers.
const (
	exitOK           = 0
	exitError        = 1
	exitUsage        = cli.ExitUsage
	exitConnect      = 3
	exitLogin        = 4
	exitWeakPassword = 12
	exitRateLimited  = 14
	exitNoTLS        = 24
	exitMismatch     = 30
	exitNotConfirmed = 31
	exitNotAllowed   = 32
	exitFormRequired = 33
	exitNotVerified  = 34
	exitInterrupted  = 130
)

// Actions, the first argument.
const (
	actionPassword = "password"
	actionDelete   = "delete"
)

var kindExit = map[register.Kind]int{
	register.KindConnect:        exitConnect,
	register.KindNoTLS:          exitNoTLS,
	register.KindLoginFailed:    exitLogin,
	register.KindWeakPassword:   exitWeakPassword,
	register.KindRateLimited:    exitRateLimited,
	register.KindNotAllowed:     exitNotAllowed,
	register.KindFormRequired:   exitFormRequired,
	register.KindFormIncomplete: exitFormRequired,
}

// result is the JSON output (-json), one object on standard output.
type result struct {
	OK       bool   `json:"ok"`                 // the action was done
	Action   string `json:"action,omitempty"`   // "password" or "delete"
	JID      string `json:"jid,omitempty"`      // the account, user@domain
	Exit     int    `json:"exit"`               // the exit status
	Verified bool   `json:"verified,omitempty"` // password: the new password logged in
	Kind     string `json:"kind,omitempty"`     // register.Kind of the failure
	Error    string `json:"error,omitempty"`    // message (never a password)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	domain, addr, directTLS, caFile, user string
	asJSON, yes                           bool
	timeout                               time.Duration
}

// command describes the command, its flags bound to o; its help is the
// package documentation (doc.go).
func command(o *options) *cli.Command {
	fs := flag.NewFlagSet("account", flag.ContinueOnError)
	fs.StringVar(&o.user, "user", "", "the `account`: name@domain, or the name with the domain as argument")
	fs.StringVar(&o.domain, "domain", "", "the XMPP `domain` of the account (or give it as the argument, or in -user)")
	fs.StringVar(&o.addr, "addr", "", "connect to this `host:port` with STARTTLS instead of looking up SRV records (the certificate must still be valid for the domain)")
	fs.StringVar(&o.directTLS, "direct-tls", "", "connect to this `host:port` with direct TLS (XEP-0368) instead of looking up SRV records")
	fs.StringVar(&o.caFile, "cafile", "", "trust the CA certificates in this PEM `file` in addition to the system roots")
	fs.BoolVar(&o.asJSON, "json", false, "print the result as JSON on standard output")
	fs.BoolVar(&o.yes, "yes", false, "delete without asking for confirmation (for scripts)")
	fs.DurationVar(&o.timeout, "timeout", time.Minute, "overall time limit")
	return &cli.Command{
		Name: "account",
		Summary: `account changes the password of an XMPP account or deletes the account,
with in-band registration (XEP-0077 §3.2, §3.3), using package register
(go run ./examples/account).`,
		Usage: []string{"account [flags] password [domain]", "account [flags] delete [domain]"},
		Examples: `account -user juliet@example.org password     # change the password
account -user juliet password example.org     # the same
account -user juliet@example.org delete       # delete the account (asks first)
ONBOARD_PASSWORD=... account -user juliet@example.org -yes -json delete
account -user test@localhost -addr 127.0.0.1:5222 -cafile ca.pem password`,
		Text: `"password" logs in with the current password, sends the new one and
then logs in with the new password on a new connection to check that it
works. "delete" logs in and removes the account from the server, with
everything the server stores for it; without -yes it first asks to type
"yes". A server that asks for more in a form (XEP-0077 data forms in
the error) gets its username and password fields filled; anything else
ends with exit 33.

Passwords are never flags or arguments, so they do not show up in process
lists or shell history, and they are never printed. The current password
is read from the environment variable ONBOARD_PASSWORD or, when that is
empty, from standard input (echo off on a terminal). The new password is
always read from standard input, twice; the two must be equal and not
empty, or nothing is sent. A script can pipe them:

	printf '%s\n%s\n' "$new" "$new" | ONBOARD_PASSWORD="$old" account -user juliet@example.org password

With -json the result is one JSON object on standard output, camelCase
keys with "format": 1 first: {"format": 1, "ok": true, "action":
"password", "jid": "juliet@example.org", "exit": 0, "verified": true} on
success, {"format": 1, "ok": false, "action": ..., "jid": ..., "exit": N,
"kind": "login failed", "error": ...} on failure. Prompts go to standard
error.

Error texts from the server are printed through internal/sanitize:
control characters, bidi controls and invalid UTF-8 appear as visible
escapes (\x0d, \u202e).`,
		Exits: `0   done (password: changed, and the new password logs in)
1   other error
2   usage error (bad flags or arguments, invalid address, unreadable -cafile, no password)
3   could not connect (DNS, TCP or TLS handshake failure)
4   login failed: wrong password or no such account
12  the server rejected the new password (too weak)
14  rate limited (try again later)
24  TLS not available or certificate invalid
30  the two new passwords differ or are empty (nothing sent)
31  deletion not confirmed (nothing sent)
32  the server does not allow it (not-allowed, forbidden, ...)
33  the server asks for more in a form than this command can fill
34  the password was changed, but the new one does not log in
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
	if len(pos) == 0 {
		return cmd.UsageError(stderr, "say what to do: password or delete")
	}
	action := pos[0]
	if action != actionPassword && action != actionDelete {
		return cmd.UsageError(stderr, fmt.Sprintf("unknown action %q: password or delete%s", action, cli.DidYouMean(action, []string{actionPassword, actionDelete})))
	}
	if code, ok := cmd.DomainArg(pos[1:], &o.domain, stderr); !ok {
		return code
	}
	if o.addr != "" && o.directTLS != "" {
		return cmd.UsageError(stderr, "give -addr (STARTTLS) or -direct-tls, not both")
	}
	user, domain, err := account(o.user, o.domain)
	if err != nil {
		return cmd.UsageError(stderr, err.Error())
	}
	addr := user + "@" + domain

	interrupted := ctx // done on Ctrl-C; ctx below also ends at -timeout
	out := func(r result) int {
		r.Action, r.JID = action, addr
		if interrupted.Err() != nil && !r.OK {
			r.Exit, r.Kind, r.Error = exitInterrupted, "", "interrupted"
		}
		switch {
		case o.asJSON:
			cli.WriteJSON(stdout, r, true)
		case r.OK && action == actionPassword:
			fmt.Fprintf(stdout, "changed the password of %s; the new password logs in\n", sanitize.Line(addr))
		case r.OK:
			fmt.Fprintf(stdout, "deleted %s\n", sanitize.Line(addr))
		default:
			fmt.Fprintf(stderr, "account: %s\n", sanitize.Line(r.Error))
		}
		return r.Exit
	}
	fail := func(code int, err error) int {
		r := result{Exit: code, Error: err.Error()}
		var e *register.Error
		if errors.As(err, &e) {
			r.Kind = e.Kind.String()
			if c, ok := kindExit[e.Kind]; ok && code == exitError {
				r.Exit = c
			}
		}
		if errors.Is(err, register.ErrInvalidDomain) {
			r.Exit = exitUsage
		}
		return out(r)
	}

	d := register.Dialer{Addr: o.addr}
	if o.directTLS != "" {
		d.Addr, d.DirectTLS = o.directTLS, true
	}
	pool, err := cli.CertPool(o.caFile)
	if err != nil {
		return fail(exitUsage, err)
	}
	if roots != nil {
		pool = roots
	}
	if pool != nil {
		d.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := cli.NewPrompter(stdin, stderr)
	current, err := cli.Password(ctx, getenv, p, "Current password of "+addr+": ", false)
	if err != nil {
		return fail(exitUsage, err)
	}
	var newPassword string
	switch action {
	case actionPassword:
		newPassword, err = askNew(ctx, p)
		if err != nil {
			return fail(exitMismatch, err)
		}
	case actionDelete:
		if !o.yes {
			ans, err := p.Line(ctx, "Delete "+addr+" and everything the server stores for it? Type yes to confirm: ", false)
			if err != nil && !errors.Is(err, io.EOF) || strings.TrimSpace(ans) != "yes" {
				return fail(exitNotConfirmed, errors.New("not confirmed: nothing was deleted"))
			}
		}
	}

	conn, err := d.Dial(ctx, domain)
	if err != nil {
		return fail(exitError, err)
	}
	sess, err := conn.Login(ctx, user, current)
	if err != nil {
		conn.Close()
		return fail(exitError, err)
	}
	served := serve(sess)
	defer served()

	if action == actionDelete {
		if err := register.Remove(ctx, sess, current); err != nil {
			return fail(exitError, err)
		}
		return out(result{OK: true, Exit: exitOK})
	}
	if err := register.ChangePassword(ctx, sess, current, newPassword); err != nil {
		return fail(exitError, err)
	}
	served()
	ok, err := d.Confirm(ctx, domain, user, newPassword)
	switch {
	case err != nil:
		return fail(exitNotVerified, fmt.Errorf("the password was changed, but logging in with the new one failed: %w", err))
	case !ok:
		return fail(exitNotVerified, errors.New("the password was changed, but the server refuses the new one"))
	}
	return out(result{OK: true, Exit: exitOK, Verified: true})
}

// account splits -user into name and domain: "name@domain", or a name with
// the domain from -domain or the argument (not both, unless they agree).
func account(user, domain string) (string, string, error) {
	if user == "" {
		return "", "", errors.New("give the account with -user name@domain")
	}
	if strings.Contains(user, "@") {
		j, err := jid.Parse(user)
		if err != nil || j.Localpart() == "" || j.Resourcepart() != "" {
			return "", "", fmt.Errorf("-user %q is not an address name@domain", user)
		}
		if domain != "" && !strings.EqualFold(strings.TrimSuffix(domain, "."), j.Domainpart()) {
			return "", "", fmt.Errorf("-user %s is not on %s", user, domain)
		}
		return j.Localpart(), j.Domainpart(), nil
	}
	if domain == "" {
		return "", "", errors.New("give the domain: -user name@domain, -domain or the argument")
	}
	j, err := jid.New(user, strings.TrimSuffix(domain, "."), "")
	if err != nil {
		return "", "", fmt.Errorf("%s@%s is not a valid address: %v", user, domain, err)
	}
	return j.Localpart(), j.Domainpart(), nil
}

// askNew reads the new password twice (echo off on a terminal); they must
// be equal and not empty.
func askNew(ctx context.Context, p *cli.Prompter) (string, error) {
	first, err := p.Line(ctx, "New password: ", true)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if first == "" {
		return "", errors.New("no new password given: nothing was changed")
	}
	again, err := p.Line(ctx, "New password again: ", true)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if again != first {
		return "", errors.New("the two new passwords differ: nothing was changed")
	}
	return first, nil
}

// serve runs the session's Serve loop (register.ChangePassword and Remove
// need it) and returns a function that ends the session and waits for the
// loop; it may be called more than once.
func serve(s *xmpp.Session) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(nil)
	}()
	ended := false
	return func() {
		if ended {
			return
		}
		ended = true
		s.Close()
		s.Conn().Close()
		<-done
	}
}
