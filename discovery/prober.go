package discovery

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"github.com/xmpp-onboard/onboard/register"
)

// Resolver looks up DNS records (register.Resolver: one interface for
// both packages). *net.Resolver implements it; tests inject fakes.
type Resolver = register.Resolver

// ContextDialer opens network connections (register.ContextDialer).
// *net.Dialer implements it, and so do SOCKS5 dialers.
type ContextDialer = register.ContextDialer

// Part names parts of a report, for Prober.Skip.
type Part uint16

// The parts a Prober can skip.
const (
	PartSRV          Part = 1 << iota // SRV lookups (the default ports are tried instead)
	PartStartTLS                      // the STARTTLS port
	PartDirectTLS                     // the direct TLS port
	PartRegistration                  // the registration form
	PartServerInfo                    // disco#info of the domain and its contacts
	PartSoftware                      // XEP-0092 software version
	PartServices                      // disco#items and the services' disco#info
	PartProviderFile                  // the provider file
	PartHostMeta                      // XEP-0156 host-meta
)

// Groups of parts.
const (
	// PartHTTP are the parts fetched over HTTPS.
	PartHTTP = PartProviderFile | PartHostMeta
	// PartXMPP are the parts learned from DNS and XMPP.
	PartXMPP = PartSRV | PartStartTLS | PartDirectTLS | PartRegistration | PartServerInfo | PartSoftware | PartServices
)

// Defaults of the Prober's limits.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultHTTPTimeout    = 10 * time.Second
	DefaultMaxStreamBytes = 2 << 20
	DefaultConcurrency    = 16
	DefaultPerHost        = 2
)

// Credentials are those of an XMPP account to probe with, for what
// servers show only to logged-in users (register.Account is an account
// that was created). They are used only on a TLS stream whose certificate
// is valid for the domain.
type Credentials struct {
	// Username is the localpart ("alice") or the bare JID
	// ("alice@example.org") of the account on the probed domain.
	Username string
	// Password is never written to errors, logs or reports.
	Password string
	// AllowPlain permits SASL PLAIN when the server offers no SCRAM
	// mechanism. SCRAM is always preferred.
	AllowPlain bool
}

// String returns the username; the password is never formatted.
func (a Credentials) String() string {
	return "discovery.Credentials{Username: " + a.Username + ", Password: <redacted>}"
}

// GoString is like String, for the %#v verb.
func (a Credentials) GoString() string { return a.String() }

// Prober probes XMPP servers. Its zero value is ready to use: real DNS,
// real connections, system roots, default limits. A Prober is safe for
// concurrent use if its fields are not changed.
type Prober struct {
	// Resolver looks up SRV records and host addresses; nil means
	// net.DefaultResolver.
	Resolver Resolver
	// NetDialer opens TCP connections for XMPP (and for HTTP when HTTPClient
	// is nil); nil means a net.Dialer. Connections go to the addresses
	// Resolver returned.
	NetDialer ContextDialer
	// HTTPClient fetches the provider file and host-meta. nil means a new
	// client per probe that follows at most five redirects, to https URLs
	// only. Whatever the client, only https URLs are requested and the
	// result of a redirect away from https is refused.
	HTTPClient *http.Client
	// TLSConfig supplies RootCAs (nil: the system roots), MinVersion
	// (default TLS 1.2; set it lower to see servers that offer nothing
	// newer), MaxVersion and the like. The prober sets ServerName to the
	// probed domain and verifies the certificate itself (its own
	// verification hooks and InsecureSkipVerify are ignored), so that an
	// invalid certificate is reported rather than hiding everything behind
	// it.
	TLSConfig *tls.Config
	// Addrs maps domains (lower case, without a trailing dot) to the
	// "host:port" of their STARTTLS port, bypassing DNS (for example to
	// probe a server on loopback). Domains in Addrs or DirectTLSAddrs get
	// no SRV lookup, and only the ports listed are probed.
	Addrs map[string]string
	// DirectTLSAddrs maps domains to the "host:port" of their direct TLS
	// port.
	DirectTLSAddrs map[string]string
	// Account, if set, is used to log in and ask what the server does not
	// answer on an unauthenticated stream. Credentials are sent only to
	// the account's own domain (a username given as user@domain must
	// match the probed domain) over TLS with a certificate valid for it.
	// ProbeAll uses the account only when it is given as user@domain, and
	// only for that domain.
	Account *Credentials
	// Skip lists parts not to probe; they are reported as Unknown with
	// ErrSkipped.
	Skip Part
	// Timeout bounds the probe of one domain; 0 means DefaultTimeout, a
	// negative value that only the context bounds it (the module's
	// convention, as register.Dialer.Timeout and onboard.Signup.Timeout).
	Timeout time.Duration
	// ConnectTimeout bounds each TCP connection attempt; 0 means
	// DefaultConnectTimeout, negative none but the context.
	ConnectTimeout time.Duration
	// HTTPTimeout bounds each HTTP fetch; 0 means DefaultHTTPTimeout,
	// negative none but the context.
	HTTPTimeout time.Duration
	// MaxStreamBytes caps what is read from one XMPP connection; 0 means
	// DefaultMaxStreamBytes.
	MaxStreamBytes int64
	// Concurrency is how many domains ProbeAll probes at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// PerHost is how many domains ProbeAll probes at once on one server
	// (by the IP address of its XMPP port); 0 means DefaultPerHost.
	PerHost int
	// NoShuffle makes ProbeAll probe the domains in the given order
	// instead of a random one (which spreads the load of lists sorted by
	// name across servers).
	NoShuffle bool
	// UserAgent is sent with HTTP requests, if set.
	UserAgent string
	// Destinations says where the prober may connect: SRV targets, the
	// addresses of host names, and HTTP requests and redirects. The zero
	// value, DefaultDestinations, means AllowAll for Probe (a server on
	// 127.0.0.1 or in a private network can be probed) and PublicOnly for
	// ProbeAll (a list of domains is exactly what an attacker can feed a
	// directory or crawler). A service that probes domains typed by users
	// must set PublicOnly: otherwise a domain whose SRV records point at
	// 127.0.0.1:8080, or whose provider file redirects to
	// https://127.0.0.1/admin, makes the prober talk to the services of
	// its own network. A refused address gets no connection; its Attempt
	// or fetch error matches ErrForbiddenDestination. Addrs and
	// DirectTLSAddrs are the application's choice and are never refused.
	// With an HTTPClient whose Transport is not an *http.Transport, only
	// the host names and IP addresses in URLs and redirects are checked,
	// not the addresses connected to.
	Destinations Destinations
	// CheckRegistration, if true, checks live whether an open-looking
	// registration form is really open: the form is submitted once, with a
	// random unused username ("probe-" and 12 hex digits) and an empty
	// password ([register.Conn.ProbeOpen]), and the refusal is read into
	// Report.Registration.Check. ejabberd that serves the form but denies
	// every registration by its access rule is then RegistrationClosed;
	// Prosody answers the same open or closed (Check.Result "unknown").
	// It never creates an account: every server of the test suite refuses
	// the empty password (Prosody 0.12 and 13, ejabberd 23.01 and 24.12);
	// should one accept it, Check.Created says so. Off by default: a
	// probe submits nothing unless asked to, since the server may log the
	// attempt. Forms with a CAPTCHA are not submitted. It costs one round
	// trip (the form must arrive before the submission).
	CheckRegistration bool
}

// Destinations says which network addresses a [Prober] may connect to
// (see Prober.Destinations): [DefaultDestinations], [AllowAll] or
// [PublicOnly].
type Destinations = netguard.Policy

// The destination policies of [Prober.Destinations].
const (
	// DefaultDestinations is the zero value: AllowAll for Probe,
	// PublicOnly for ProbeAll.
	DefaultDestinations = netguard.Default
	// AllowAll lets the prober connect wherever DNS, SRV records and
	// redirects point, including loopback and private networks.
	AllowAll = netguard.AllowAll
	// PublicOnly lets the prober connect only to public unicast IP
	// addresses: loopback, private (RFC 1918, fc00::/7), link-local, CGNAT
	// (100.64/10), unspecified, multicast, broadcast, reserved,
	// documentation and benchmarking addresses (and their IPv4-mapped
	// forms) are refused, as are the names localhost and *.localhost, for
	// SRV targets, host names and every HTTP redirect. It is checked on
	// the IP address actually connected to, so DNS rebinding does not get
	// around it.
	PublicOnly = netguard.PublicOnly
)

// policy is the destination policy in effect, for ProbeAll if batch.
func (p *Prober) policy(batch bool) netguard.Policy {
	if batch {
		return p.Destinations.Or(PublicOnly)
	}
	return p.Destinations.Or(AllowAll)
}

func (p *Prober) timeout() time.Duration { return xmppconn.Timeout(p.Timeout, DefaultTimeout) }
func (p *Prober) connectTimeout() time.Duration {
	return xmppconn.Timeout(p.ConnectTimeout, DefaultConnectTimeout)
}
func (p *Prober) httpTimeout() time.Duration {
	return xmppconn.Timeout(p.HTTPTimeout, DefaultHTTPTimeout)
}
func (p *Prober) maxStreamBytes() int64 { return orDefault(p.MaxStreamBytes, DefaultMaxStreamBytes) }
func (p *Prober) concurrency() int      { return orDefault(p.Concurrency, DefaultConcurrency) }
func (p *Prober) perHost() int          { return orDefault(p.PerHost, DefaultPerHost) }
func (p *Prober) skip(part Part) bool   { return p.Skip&part != 0 }

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (p *Prober) resolver() Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

func (p *Prober) dialer() ContextDialer {
	if p.NetDialer != nil {
		return p.NetDialer
	}
	return &net.Dialer{}
}

// Probe probes domain with the zero Prober; see Prober.Probe.
func Probe(ctx context.Context, domain string) (Report, error) {
	var p Prober
	return p.Probe(ctx, domain)
}

// Probe finds out what the XMPP service at domain offers, within
// p.Timeout. The error is non-nil only if the probe could not start (an
// invalid domain, or ctx already done); it is then also in Report.Err.
// Everything that goes wrong while probing is reported in the parts of the
// report instead.
func (p *Prober) Probe(ctx context.Context, domain string) (Report, error) {
	d, err := normalizeDomain(domain)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		r := failedReport(d, err)
		return r, err
	}
	ctx, cancel := xmppconn.WithTimeout(ctx, p.timeout())
	defer cancel()
	r := Report{Domain: d, Started: time.Now()}
	res := p.resolve(ctx, d, p.policy(false))
	p.run(ctx, d, res, &r, false)
	r.Took = time.Since(r.Started)
	return r, nil
}

// normalizeDomain checks that s is an XMPP domain (a JID with only a
// domainpart) and returns it lower-cased, without a trailing dot
// (xmppconn.NormalizeDomain, as register does).
func normalizeDomain(s string) (string, error) {
	d, err := xmppconn.NormalizeDomain(s)
	if err != nil {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
		if d == "" {
			return "", fmt.Errorf("%w: empty", ErrInvalidDomain)
		}
		return d, fmt.Errorf("%w: %q", ErrInvalidDomain, s)
	}
	return d, nil
}

// failedReport is the report of a probe that could not run.
func failedReport(domain string, err error) Report {
	r := Report{Domain: domain, Started: time.Now(), Err: err}
	st := unknown("not probed", err, 0)
	r.SRV.Status, r.SRVDirectTLS.Status = st, st
	r.StartTLS.Status, r.DirectTLS.Status = st, st
	r.Registration.Status, r.Login.Status = st, st
	r.ServerInfo.Status, r.Contacts.Status, r.Software.Status = st, st, st
	r.Services.Status, r.Upload.Status, r.MUC.Status, r.Proxy.Status = st, st, st, st
	r.ProviderFile.Status, r.HostMeta.Status = st, st
	r.HostMeta.XML.Status, r.HostMeta.JSON.Status = st, st
	return r
}

// run probes a resolved domain: HTTP documents and XMPP at the same time.
// batch is true for ProbeAll, where the account is only used for its own
// domain.
func (p *Prober) run(ctx context.Context, domain string, res resolution, r *Report, batch bool) {
	r.SRV, r.SRVDirectTLS = res.srv, res.srvs
	var wg sync.WaitGroup
	if p.skip(PartProviderFile) {
		r.ProviderFile.Status = skipped()
	}
	if p.skip(PartHostMeta) {
		r.HostMeta.Status, r.HostMeta.XML.Status, r.HostMeta.JSON.Status = skipped(), skipped(), skipped()
	}
	if p.Skip&PartHTTP != PartHTTP {
		c, done := p.httpClient(p.policy(batch))
		defer done()
		if !p.skip(PartProviderFile) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.ProviderFile = p.probeProviderFile(ctx, c, domain)
			}()
		}
		if !p.skip(PartHostMeta) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.HostMeta = p.probeHostMeta(ctx, c, domain)
			}()
		}
	}
	p.xmpp(ctx, domain, res, r, batch)
	wg.Wait()
}
