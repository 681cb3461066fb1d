// Command websignup is a small sign-up web page for XMPP accounts, built
// on onboard.Signup, for people who have never heard of XMPP: a newcomer
// lets it choose a provider (or picks one from a list that says what
// matters about each: where its servers are, whether it is free, how
// large files and how long messages are kept, whether it asks for a
// CAPTCHA, password reset, where to get help), fills in a username and a
// password typed twice (or lets it make them up), solves a CAPTCHA if the
// provider asks for one, and gets a working account: its address, an
// xmpp: link and a QR code of it to carry the account into a phone app,
// the recommended apps per platform, and what to know about the
// provider.
//
// Usage:
//
//	websignup [-listen 127.0.0.1:8080] [flags]
//
// The form answers at once: POST /signup redirects (303) to the status
// page of the sign-up, /pending/ID, which shows its stages (checking
// providers, CAPTCHA, creating the account, logging in) and what happens
// now. Without JavaScript that page reloads itself (a meta refresh in
// noscript); with it, status.js (served from the page's origin, as the
// CSP allows; no inline script) fetches the page and updates its
// progress part, an aria-live region. The page says what happened: a
// wrong CAPTCHA answer (with the new image, and the provider's https
// link to the challenge if it sends one), a taken name (the user keeps a
// suggestion or types another: a typed name is never replaced
// silently), a provider that refused or did not answer (try another), a
// typed password that a refusing provider had received (it is sent to no
// other provider: choose a new one). Nothing is retried without the
// user.
//
// The pages are in the browser's language, the best match of its
// Accept-Language (with q-values; golang.org/x/text/language) among
// English, German and French; every text is in the catalogue
// (messages.go).
//
// The registration runs on the server; it is kept in memory, bound to
// the browser's cookie, for at most -ttl from its start, running,
// waiting for the user or finished (a result that comes in the last
// seconds is kept 30 s, at most -ttl), and at most -max-pending of them
// exist at once. The result page can be shown again to the same browser
// until then, with a generated password (and a form with
// autocomplete="username" and "new-password" fields that password
// managers pick up). The CAPTCHA image and the QR codes (PNG, made with
// github.com/yeqown/go-qrcode/v2) are served from memory. Passwords are
// never logged; a password the user typed is never shown again.
//
// With -invite DOMAIN the page is also the landing page of that server's
// invitations (as made by Prosody's mod_invites): /invite/TOKEN shows the
// apps, the xmpp:DOMAIN?register;preauth=TOKEN link and its QR code to
// create the account in an app, and the form to create it here with the
// invitation. The token is never logged.
//
// A page view stores nothing on the server: the cookie holds a random
// browser ID that the server does not keep, and every form carries a
// CSRF token that is an HMAC of that ID and an expiry time (30 min) under
// a key made at start. Only a sign-up costs memory, and each client (an
// IPv4 address or an IPv6 /64) may start -ip-signups of them per
// -ip-window (a token bucket: that many at once, then one every
// window/n); more get "429 Too Many Requests". The client is the peer of
// the connection; only when that peer is a -trusted-proxy is the
// X-Forwarded-For header believed (its last address that is not a
// trusted proxy). Each sign-up creates a real account at a provider:
// keep the limits low.
//
// Foreign text (the request path, events, addresses, errors) is logged
// through internal/sanitize: it cannot forge a log line.
//
// The cookie is Secure, and named __Host-websignup, when the request came
// over TLS or with -behind-https (a reverse proxy serves the page over
// https); otherwise it is websignup.
//
// Links the provider publishes (web site, password reset, legal notice,
// web sign-up) are shown only if they are https, to a public host, without
// user information (internal/netguard.HTTPSLink).
//
// Flags:
//
//	-listen addr        address to serve on (default 127.0.0.1:8080)
//	-file file          offer the providers of this list (any published
//	                    shape) instead of the embedded one
//	-domain d[=h:p]     offer only this provider (repeatable; its record
//	                    comes from the list if it is there), optionally
//	                    reached at host:port; for local servers and tests
//	-addr host:port     connect here for every -domain (and -invite)
//	                    without its own address
//	-cafile file        also trust the CA certificates in this PEM file
//	-ttl d              lifetime of a pending registration (default 3m)
//	-max-pending n      registrations in progress at once, of all
//	                    clients (default 64)
//	-ip-signups n       sign-ups a client may start per -ip-window
//	                    (default 5)
//	-ip-window d        the window of -ip-signups (default 1h)
//	-trusted-proxy p    believe X-Forwarded-For from this address or
//	                    CIDR prefix (repeatable; default none)
//	-behind-https       the page is served over https by a reverse proxy:
//	                    the cookie is Secure (default false)
//	-timeout d          time limit for verifying one provider (default 10s)
//	-invite d[=h:p]     serve invitation pages /invite/TOKEN for the
//	                    server d, optionally reached at host:port
//
// The certificate of each provider must be valid for its domain, also
// with -addr.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	var ue usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
	case errors.As(err, &ue):
		os.Exit(cli.ExitUsage)
	default:
		fmt.Fprintln(os.Stderr, "websignup:", sanitize.Line(err.Error()))
		os.Exit(1)
	}
}

// cmdUsage writes msg with the usage reminder and returns msg.
func cmdUsage(cmd *cli.Command, stderr io.Writer, msg string) string {
	cmd.UsageError(stderr, msg)
	return msg
}

// usageError is a command line that cannot be run (exit 2); its message
// was written already.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// domainFlag collects -domain values: domain or domain=host:port.
type domainFlag struct {
	domains []string
	addrs   map[string]string
}

// String returns the domains, comma-separated (flag.Value).
func (f *domainFlag) String() string { return strings.Join(f.domains, ",") }

// Set adds domain or domain=host:port (flag.Value).
func (f *domainFlag) Set(v string) error {
	d, a, hasAddr := strings.Cut(v, "=")
	d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
	if d == "" || strings.ContainsAny(d, "/@ ") || hasAddr && !strings.Contains(a, ":") {
		return fmt.Errorf("want domain or domain=host:port, got %q", v)
	}
	f.domains = append(f.domains, d)
	if hasAddr {
		if f.addrs == nil {
			f.addrs = map[string]string{}
		}
		f.addrs[d] = a
	}
	return nil
}

// run serves until ctx is done. ready, if set, is called with the address
// once the server listens.
// errHelpShown is returned by run after -h printed the help: exit 0.
var errHelpShown = errors.New("help shown")

// command is websignup's -h text (the shared vocabulary of the tools,
// examples/internal/cli).
func command(fs *flag.FlagSet) *cli.Command {
	return &cli.Command{
		Name: "websignup",
		Summary: `websignup serves a sign-up web page for XMPP accounts, built on
onboard.Signup (go run ./examples/websignup; go doc ./examples/websignup
tells the whole story).`,
		Usage: []string{"websignup [flags]"},
		Examples: `websignup                                    # on http://127.0.0.1:8080/, the embedded list
websignup -listen :8080 -behind-https         # behind an https reverse proxy
websignup -domain example.org                 # one provider only
websignup -domain localhost=127.0.0.1:5222 -cafile ca.pem   # your own server
websignup -invite example.org                 # invitation pages /invite/TOKEN
websignup -file providers-A.json -ip-signups 3 -ip-window 24h`,
		Text: `Flags may come in any order. The page stores nothing per page view,
limits sign-ups per client address (IPv6 per /64) and in all, and never
connects to a provider's SRV target or host name that is not a public
address (-domain and -invite addresses, the operator's own, are exempt).`,
		Exits: `0   shut down cleanly (SIGINT), or -h
1   could not start (listen address, list file, CA file)
2   usage error`,
		Flags: fs,
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("websignup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen     = fs.String("listen", "127.0.0.1:8080", "address to serve on")
		listFile   = fs.String("file", "", "offer the providers of this list `file` (default: the embedded list)")
		addr       = fs.String("addr", "", "connect here for every -domain without its own address")
		caFile     = fs.String("cafile", "", "also trust the CA certificates in this PEM file")
		ttl        = fs.Duration("ttl", 3*time.Minute, "lifetime of a pending registration")
		maxPending = fs.Int("max-pending", 64, "registrations in progress at once, of all clients")
		ipSignups  = fs.Int("ip-signups", 5, "sign-ups a client (IPv4 address, IPv6 /64) may start per -ip-window")
		ipWindow   = fs.Duration("ip-window", time.Hour, "the window of -ip-signups")
		behind     = fs.Bool("behind-https", false, "the page is served over https by a reverse proxy: the cookie is Secure")
		timeout    = fs.Duration("timeout", onboard.DefaultTimeout, "time limit for verifying one provider")
		invite     = fs.String("invite", "", "serve invitation pages /invite/TOKEN for this domain, domain or domain=host:port")
		domains    domainFlag
		proxies    proxyFlag
	)
	fs.Var(&domains, "domain", "offer only this provider, domain or domain=host:port (repeatable)")
	fs.Var(&proxies, "trusted-proxy", "believe X-Forwarded-For from this address or CIDR prefix (repeatable)")
	cmd := command(fs)
	rest, exit, done := cmd.Parse(args, stdout, stderr)
	if done {
		if exit == cli.ExitOK {
			return errHelpShown
		}
		return usageError{errors.New("bad flags")}
	}
	if len(rest) > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", rest)}
	}
	if *addr != "" && len(domains.domains) == 0 && *invite == "" {
		return usageError{errors.New(cmdUsage(cmd, stderr, "-addr needs -domain or -invite"))}
	}
	if *ttl <= 0 || *maxPending <= 0 || *ipSignups <= 0 || *ipWindow <= 0 {
		return usageError{errors.New(cmdUsage(cmd, stderr, "-ttl, -max-pending, -ip-signups and -ip-window must be positive"))}
	}
	cfg := config{
		addrs:       map[string]string{},
		unlisted:    map[string]bool{},
		ttl:         *ttl,
		maxPending:  *maxPending,
		ipSignups:   *ipSignups,
		ipWindow:    *ipWindow,
		proxies:     proxies,
		behindHTTPS: *behind,
		timeout:     *timeout,
		log:         log.New(stderr, "websignup: ", log.LstdFlags),
	}
	cfg.list = providers.Embedded()
	if *listFile != "" {
		f, err := os.Open(*listFile)
		if err != nil {
			return err
		}
		l, err := providers.Decode(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *listFile, err)
		}
		cfg.list = l
	}
	if len(domains.domains) > 0 {
		// Only these providers: their records from the list if it has
		// them, else records that know only the domain.
		var only providers.List
		for _, d := range domains.domains {
			p, ok := cfg.list.Lookup(d)
			if !ok {
				p = providers.New(d)
				p.Category = providers.CategoryA
				p.InBandRegistration = true
				cfg.unlisted[d] = true
			}
			p.JID = d
			only.Providers = append(only.Providers, p)
			if a, ok := domains.addrs[d]; ok {
				cfg.addrs[d] = a
			} else if *addr != "" {
				cfg.addrs[d] = *addr
			}
		}
		cfg.list = only
	}
	if *invite != "" {
		var f domainFlag
		if err := f.Set(*invite); err != nil {
			return fmt.Errorf("-invite: %w", err)
		}
		cfg.invite = f.domains[0]
		if a, ok := f.addrs[cfg.invite]; ok {
			cfg.addrs[cfg.invite] = a
		} else if _, ok := cfg.addrs[cfg.invite]; !ok && *addr != "" {
			cfg.addrs[cfg.invite] = *addr
		}
	}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no PEM certificates", *caFile)
		}
		cfg.dialer.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}

	// A page anyone can use must not be a way into the operator's own
	// network: providers' SRV targets and host names must be public
	// addresses (the addresses of -addr, -domain d=h:p and -invite
	// d=h:p, the operator's choice, are exempt).
	cfg.dialer.Destinations = register.PublicOnly
	cfg.dialer.Addrs = cfg.addrs

	a, err := newApp(cfg)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(sanitizedLog{cfg.log}, "", 0),
	}
	cfg.log.Printf("serving on http://%s/ (%d providers)", ln.Addr(), cfg.list.Len())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.close() // end the pending registrations first: their pages wait on them
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// sanitizedLog writes each message of net/http's error log (which may
// quote what a client sent) as one sanitized line of l.
type sanitizedLog struct{ l *log.Logger }

// Write logs p, one message of net/http's error log, as one line.
func (s sanitizedLog) Write(p []byte) (int, error) {
	s.l.Print(sanitize.Line(strings.TrimSuffix(string(p), "\n")))
	return len(p), nil
}
