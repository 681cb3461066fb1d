package register

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// DefaultTimeout is the default for [Dialer.Timeout].
const DefaultTimeout = 30 * time.Second

// Destinations says which network addresses a [Dialer] may connect to
// (see Dialer.Destinations): [DefaultDestinations] (the zero value, which
// for a Dialer is [AllowAll]), AllowAll or [PublicOnly].
type Destinations = netguard.Policy

// The destination policies of [Dialer.Destinations].
const (
	// DefaultDestinations is the zero value; for a Dialer it means
	// AllowAll.
	DefaultDestinations = netguard.Default
	// AllowAll lets the Dialer connect wherever the domain's SRV records
	// and addresses point, including loopback and private networks.
	AllowAll = netguard.AllowAll
	// PublicOnly lets the Dialer connect only to public unicast IP
	// addresses: loopback, private (RFC 1918, fc00::/7), link-local, CGNAT
	// (100.64/10), unspecified, multicast, broadcast, reserved,
	// documentation and benchmarking addresses (and their IPv4-mapped
	// forms) are refused, as are the names localhost and *.localhost. It
	// is checked on the IP address actually connected to, so DNS
	// rebinding does not get around it.
	PublicOnly = netguard.PublicOnly
)

// ErrForbiddenDestination is matched (errors.Is) by the error of a Dial
// that found only addresses its Dialer.Destinations refuses; the error is
// a [*Error] of [KindConnect].
var ErrForbiddenDestination = netguard.ErrForbiddenDestination

// ContextDialer makes network connections. *net.Dialer implements it, and
// so do the SOCKS5 dialers of golang.org/x/net/proxy (for Tor, for
// example).
type ContextDialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Dialer opens secured, unauthenticated XMPP client streams for
// registration. The zero value looks up the domain's SRV records and uses
// the system's roots of trust.
//
// A Dialer may be used by several goroutines at once; its fields must not
// change while it is in use.
type Dialer struct {
	// TLSConfig is the base TLS configuration (for example RootCAs with an
	// extra CA). It is cloned; ServerName is always set to the XMPP domain
	// and MinVersion is raised to TLS 1.2. A configuration with
	// InsecureSkipVerify is refused: the certificate must be valid for the
	// domain.
	TLSConfig *tls.Config

	// NetDialer makes the TCP connections; nil means a *net.Dialer. A
	// SOCKS5 proxy dialer can be used here (see the package example);
	// then host names are resolved by the proxy, but SRV lookups still use
	// Resolver unless Addr is set.
	NetDialer ContextDialer

	// Resolver is used for the SRV lookups and, when NetDialer is nil or
	// a *net.Dialer, for the addresses of their targets (and of Addr's
	// host); nil means net.DefaultResolver. The addresses of a target are
	// tried in the SRV order with both address families raced (Happy
	// Eyeballs, RFC 8305): an attempt that has not connected within
	// 250 ms gets the next address started beside it, at most two at
	// once.
	Resolver Resolver

	// Destinations says where the Dialer may connect. The zero value
	// allows every address (a self-hosted server on 127.0.0.1 or in a
	// private network keeps working). A service that registers accounts
	// on domains typed by its users (a sign-up page) must set PublicOnly:
	// otherwise a domain whose SRV records point at 127.0.0.1:8080 or at
	// 169.254.169.254 makes it send a stream header to its own internal
	// services. PublicOnly refuses such addresses (the error matches
	// ErrForbiddenDestination and ErrConnect); it is checked on each
	// connection's IP address when NetDialer is nil or a *net.Dialer, and
	// only on IP literals and localhost names for other dialers (a proxy
	// resolves names itself). Addr is the application's choice, not the
	// domain's, and is never refused.
	Destinations Destinations

	// Addr, if not empty, is the "host:port" to connect to instead of
	// looking up SRV records (for local servers and tests). The
	// certificate is still checked against the XMPP domain.
	Addr string

	// DirectTLS makes the connection to Addr use TLS from the start
	// (XEP-0368) instead of STARTTLS. It has no effect without Addr: SRV
	// records say which kind each address is.
	DirectTLS bool

	// Addrs maps domains (lower case, without a trailing dot) to the
	// "host:port" of their STARTTLS port, and DirectTLSAddrs to that of
	// their direct TLS port, instead of their SRV records: several
	// servers of the application's own (Addr is for one, and wins), as
	// in discovery.Prober. A domain in neither is looked up as usual. The
	// certificate is still checked against the domain, and the addresses,
	// chosen by the application, are never refused by Destinations.
	Addrs, DirectTLSAddrs map[string]string

	// Timeout bounds each network step (connecting, one request and its
	// reply) in addition to the context; zero means DefaultTimeout (30 s),
	// a negative value means that only the context bounds the steps.
	Timeout time.Duration

	// MaxStanza is the largest element accepted from the server, in bytes;
	// zero means DefaultMaxStanza (1 MiB).
	MaxStanza int64

	// AllowPLAIN allows SASL PLAIN when the server offers no SCRAM
	// mechanism. PLAIN is only ever used on the TLS-secured stream.
	AllowPLAIN bool

	// NoPipelining makes every request wait for the answer to the previous
	// one. By default requests that do not depend on an answer are sent
	// together (XEP-0305 §3): <starttls/> with the first stream header, the
	// stream header after TLS with the invitation token and the form
	// request ([Client.Register]), SASL <auth/> with the completed form
	// (Register with Login) and the resource binding request with the
	// stream header after SASL. That saves up to four round trips to a
	// logged-in session (see the package documentation, # Round trips).
	// Nothing but the stream header and <starttls/> is ever sent before
	// TLS, and the form is never submitted before the server's form has
	// arrived. Set it for a server that mishandles pipelined requests, or
	// to measure the difference.
	NoPipelining bool

	// SASL2 configures XEP-0388 SASL2 logins (with Bind2 and FAST
	// tokens); the zero value uses them wherever the server offers them.
	SASL2 SASL2Options

	// Debug, if not nil, receives the XML sent ("out") and received ("in")
	// on the stream, one element at a time, with every secret replaced by
	// "[redacted]": passwords (legacy <password/> and <old_password/>,
	// data form fields of type text-private or whose name contains
	// "password"), SASL payloads and invitation tokens. Received elements
	// are shown as parsed and re-serialised, not byte for byte. After
	// [Conn.Login] has bound a resource and handed the stream to mellium,
	// Debug sees nothing more.
	Debug func(dir string, xml []byte)
}

// Resolver looks up DNS records: the same interface as
// discovery.Resolver. *net.Resolver implements it; tests inject fakes.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (cname string, addrs []*net.SRV, err error)
	LookupHost(ctx context.Context, host string) (addrs []string, err error)
}

// candidate is an address to try.
type candidate struct {
	addr      string
	directTLS bool
}

func (d *Dialer) timeout() time.Duration {
	switch {
	case d.Timeout == 0:
		return DefaultTimeout
	case d.Timeout < 0:
		return 0
	}
	return d.Timeout
}

func (d *Dialer) maxStanza() int64 {
	if d.MaxStanza <= 0 {
		return DefaultMaxStanza
	}
	return d.MaxStanza
}

// normalizeDomain checks and normalises an XMPP domain
// (xmppconn.NormalizeDomain).
func normalizeDomain(domain string) (string, error) {
	d, err := xmppconn.NormalizeDomain(domain)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	return d, nil
}

// tlsConfig returns the TLS configuration for domain.
func (d *Dialer) tlsConfig(domain string, direct bool) (*tls.Config, error) {
	if d.TLSConfig != nil && d.TLSConfig.InsecureSkipVerify {
		return nil, &Error{Op: opDial, Kind: KindNoTLS, Err: errors.New("TLSConfig.InsecureSkipVerify is not allowed: the certificate must be checked against the XMPP domain")}
	}
	cfg := xmppconn.ClientTLS(d.TLSConfig, domain, direct)
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg, nil
}

// targets returns the targets to try for domain: Addr, or those of the
// domain's SRV records (xmppconn.Services.Targets: by priority, direct TLS
// first on ties, as XEP-0368 suggests), or the domain on ports 5222 and
// 5223 when there are no records.
func (d *Dialer) targets(ctx context.Context, domain string) ([]xmppconn.Target, error) {
	if d.Addr != "" {
		t, err := addrTarget("Addr", d.Addr, d.DirectTLS)
		if err != nil {
			return nil, err
		}
		return []xmppconn.Target{t}, nil
	}
	if d.overridden(domain) {
		var ts []xmppconn.Target
		for _, m := range []struct {
			name   string
			addrs  map[string]string
			direct bool
		}{{"DirectTLSAddrs", d.DirectTLSAddrs, true}, {"Addrs", d.Addrs, false}} {
			if a, ok := m.addrs[domain]; ok {
				t, err := addrTarget(m.name, a, m.direct)
				if err != nil {
					return nil, err
				}
				ts = append(ts, t)
			}
		}
		return ts, nil
	}
	ts, err := xmppconn.LookupServices(ctx, d.resolver(), domain).Targets(domain)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return ts, nil
}

// overridden reports whether the application gave the address of domain
// (Addrs, DirectTLSAddrs).
func (d *Dialer) overridden(domain string) bool {
	_, a := d.Addrs[domain]
	_, b := d.DirectTLSAddrs[domain]
	return a || b
}

// addrTarget is the target of an address the application gave (field
// names it, for errors).
func addrTarget(field, addr string, direct bool) (xmppconn.Target, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return xmppconn.Target{}, fmt.Errorf("register: Dialer.%s: %w", field, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return xmppconn.Target{}, fmt.Errorf("register: Dialer.%s: port %q: %w", field, port, err)
	}
	return xmppconn.Target{Host: host, Port: uint16(p), DirectTLS: direct}, nil
}

func (d *Dialer) resolver() Resolver {
	if d.Resolver == nil {
		return net.DefaultResolver
	}
	return d.Resolver
}

// candidates returns the targets of domain as addresses.
func (d *Dialer) candidates(ctx context.Context, domain string) ([]candidate, error) {
	ts, err := d.targets(ctx, domain)
	if err != nil {
		return nil, err
	}
	out := make([]candidate, len(ts))
	for i, t := range ts {
		out[i] = candidate{addr: t.Addr(), directTLS: t.DirectTLS}
	}
	return out, nil
}

// endpoints returns the targets of domain with their addresses, resolved
// here unless NetDialer resolves names itself (a proxy).
func (d *Dialer) endpoints(ctx context.Context, domain string) ([]xmppconn.Endpoint, error) {
	ts, err := d.targets(ctx, domain)
	if err != nil {
		return nil, err
	}
	switch d.NetDialer.(type) {
	case nil, *net.Dialer:
		return xmppconn.Resolve(ctx, d.resolver(), ts, 0), nil
	}
	eps := make([]xmppconn.Endpoint, len(ts))
	for i, t := range ts {
		eps[i] = xmppconn.Endpoint{Target: t}
	}
	return eps, nil
}

// Dial connects to the XMPP server of domain and returns a stream that is
// secured with TLS (STARTTLS or direct TLS) and whose stream features have
// been read: ready for [Conn.Features], [Conn.Form], [Conn.Preauth],
// [Conn.Submit] and [Conn.Login]. Nothing but the stream header and the
// STARTTLS request is sent before TLS is established and the certificate
// has been verified for domain; a server that does not offer STARTTLS is
// refused (ErrNoTLS).
//
// Dial tries the addresses from SRV records (or Addr) in order, both
// address families raced (see Dialer.Resolver), until one accepts a TCP
// connection (and, for direct TLS, completes the TLS handshake); errors
// after that are returned without trying other addresses.
func (d *Dialer) Dial(ctx context.Context, domain string) (*Conn, error) {
	return d.dial(ctx, domain, nil, nil)
}

// prefetch asks dial to request the registration form (after sending the
// invitation token, if any) together with the secured stream header.
// noForm leaves the form out; late, if set, returns more elements for
// that write once TLS is up (a FAST authentication, see fast.go).
type prefetch struct {
	token  string
	noForm bool
	late   func(c *Conn) ([]*node, error)
}

func (d *Dialer) dial(ctx context.Context, domain string, progress func(Event), pf *prefetch) (*Conn, error) {
	return d.dialAs(ctx, domain, "", progress, pf)
}

// dialAs is dial announcing user@domain in the secured stream header
// (from=, see sasl2.go) when user is not "".
func (d *Dialer) dialAs(ctx context.Context, domain, user string, progress func(Event), pf *prefetch) (*Conn, error) {
	domain, err := normalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	c := &Conn{
		from:       fromJID(user, domain),
		sasl2:      d.SASL2,
		domain:     domain,
		timeout:    d.timeout(),
		maxStanza:  d.maxStanza(),
		debug:      d.Debug,
		allowPlain: d.AllowPLAIN,
		pipeline:   !d.NoPipelining,
		progress:   progress,
	}
	if _, err := d.tlsConfig(domain, false); err != nil {
		return nil, err
	}
	// The SRV and address lookups are one step bounded by Timeout; so
	// is each connection attempt.
	eps, err := func() ([]xmppconn.Endpoint, error) {
		ctx, cancel := c.withTimeout(ctx)
		defer cancel()
		return d.endpoints(ctx, domain)
	}()
	if err != nil {
		return nil, &Error{Op: opDial, Kind: KindConnect, Err: err}
	}
	xd := xmppconn.Dialer{
		Dialer:         d.NetDialer,
		AttemptTimeout: c.timeout,
		Handshake: func(ctx context.Context, nc net.Conn, t xmppconn.Target) (net.Conn, error) {
			if !t.DirectTLS {
				return nc, nil
			}
			cfg, err := d.tlsConfig(domain, true)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(nc, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				return nil, fmt.Errorf("TLS: %w", err)
			}
			return tc, nil
		},
		Started: func(t xmppconn.Target, addr string) {
			c.event(Event{Stage: StageConnecting, Addr: addr, DirectTLS: t.DirectTLS})
		},
	}
	if d.Addr == "" && !d.overridden(domain) {
		// Addresses the domain chose (SRV targets, its own name) are
		// subject to the policy; Addr and Addrs, chosen by the
		// application, are not.
		xd.Policy = d.Destinations.Or(AllowAll)
	}
	cn, err := xd.Connect(ctx, eps)
	if err != nil {
		k := KindConnect
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) {
			k = KindNoTLS
		}
		return nil, &Error{Op: opDial, Kind: k, Err: err}
	}
	direct := cn.Target.DirectTLS
	cfg, err := d.tlsConfig(domain, direct)
	if err != nil {
		cn.Conn.Close()
		return nil, err
	}
	c.addr = cn.Addr
	if err := c.open(ctx, cn.Conn, direct, cfg, pf); err != nil {
		c.closeNow()
		return nil, err
	}
	feats := c.Features()
	c.event(Event{Stage: StageSecured, Addr: c.addr, DirectTLS: direct, TLS: c.ConnectionState(), Features: &feats})
	return c, nil
}

// open negotiates the stream on a fresh connection: stream header,
// features, STARTTLS and the secured stream's features. With pipelining,
// <starttls/> is sent with the first stream header (nothing else is sent
// before TLS; a server that does not offer STARTTLS is still refused), and
// the requests of pf with the secured stream header.
func (c *Conn) open(ctx context.Context, nc net.Conn, direct bool, cfg *tls.Config, pf *prefetch) error {
	c.t = xmppconn.Transport{
		Domain:     c.domain,
		MaxElement: c.maxStanza,
		Debug:      c.debug,
		Secrets:    func() []string { return c.secrets },
	}
	c.t.Reset(nc)
	return c.do(ctx, opDial, func(ctx context.Context) error {
		var after []*node
		if pf != nil && c.pipeline && !pf.noForm {
			after = c.formRequests(pf.token)
		}
		if direct {
			late, err := pf.lateNodes(c)
			if err != nil {
				return err
			}
			if err := c.startStream(true, append(after, late...)...); err != nil {
				return err
			}
			c.event(Event{Stage: StageGreeted, Addr: c.addr, DirectTLS: true})
			return nil
		}
		starttls := newNode(nsTLS, "starttls")
		var first []*node
		if c.pipeline {
			first = append(first, starttls)
		}
		if err := c.startStream(false, first...); err != nil {
			return err
		}
		c.event(Event{Stage: StageGreeted, Addr: c.addr})
		if !c.plainFeatures.starttls {
			return c.fail(&Error{Op: opDial, Kind: KindNoTLS, Err: errors.New("the server does not offer STARTTLS; refusing to continue without TLS")})
		}
		if !c.pipeline {
			if err := c.write(starttls); err != nil {
				return err
			}
		}
		// <proceed/>, and nothing after it before TLS (STARTTLS command
		// injection).
		if err := c.t.Proceed(); errors.Is(err, xmppconn.ErrTLSRefused) {
			return c.fail(&Error{Op: opDial, Kind: KindNoTLS, Err: err})
		} else if err != nil {
			return c.fail(c.readErr(err))
		}
		if err := c.t.Handshake(ctx, cfg); err != nil {
			k := KindConnect // a handshake that fails for another reason
			var certErr *tls.CertificateVerificationError
			if errors.As(err, &certErr) {
				k = KindNoTLS
			}
			return c.fail(&Error{Op: opDial, Kind: k, Err: fmt.Errorf("TLS: %w", err)})
		}
		late, err := pf.lateNodes(c)
		if err != nil {
			return err
		}
		return c.startStream(true, append(after, late...)...)
	})
}
