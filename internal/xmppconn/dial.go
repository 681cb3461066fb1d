package xmppconn

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard/internal/netguard"
)

// The one way from an XMPP domain to a connected socket, for register and
// discovery alike: the domain's normalisation, the SRV lookups of both
// client services (RFC 6120 §3.2.1, XEP-0368), the order of their targets,
// the addresses of each target, and the connection attempts, raced
// through both address families (Happy Eyeballs, RFC 8305) under the
// destination policy of internal/netguard. What runs on the socket (TLS,
// the stream) is the caller's; the TLS configuration starts from
// ClientTLS.

// Resolver looks up DNS records. *net.Resolver implements it; tests
// inject fakes and never reach the system's DNS.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (cname string, addrs []*net.SRV, err error)
	LookupHost(ctx context.Context, host string) (addrs []string, err error)
}

// ContextDialer opens network connections; *net.Dialer implements it.
type ContextDialer = netguard.ContextDialer

// The SRV services of XMPP client connections.
const (
	ServiceStartTLS  = "xmpp-client"  // RFC 6120 §3.2.1: STARTTLS, port 5222
	ServiceDirectTLS = "xmpps-client" // XEP-0368: TLS from the first byte, port 5223
)

// Defaults of the connection.
const (
	// DefaultFallbackDelay is the Connection Attempt Delay of RFC 8305
	// §5: how long an attempt may run before the next address is tried
	// beside it.
	DefaultFallbackDelay = 250 * time.Millisecond
	// MaxRacing is how many connection attempts run at once at most.
	MaxRacing = 2
	// DefaultMaxAddrs is how many addresses of one target are tried.
	DefaultMaxAddrs = 4
)

// Errors of the connection.
var (
	// ErrNoService is matched by the error of a domain whose SRV records
	// say that it offers no XMPP client service (a single target ".").
	ErrNoService = errors.New("no XMPP client service (SRV target \".\")")
	// ErrAbandoned is the error of a connection attempt that was stopped
	// because another one connected first.
	ErrAbandoned = errors.New("abandoned: another address connected first")
	// ErrNoAddress is the error of a target whose host has no address.
	ErrNoAddress = errors.New("no address")
)

// NormalizeDomain checks that s is an XMPP domain (a JID with only a
// domainpart) and returns it in the form DNS and certificates are checked
// against: trimmed, without a trailing dot, lower case (RFC 7622). The
// error says why not; callers wrap it in their own kind.
func NormalizeDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.TrimSpace(s), ".")
	if d == "" {
		return "", errors.New("empty")
	}
	if strings.ContainsAny(d, " /@:[]") {
		return "", fmt.Errorf("%q", Clip(d, 100))
	}
	j, err := jid.New("", d, "")
	if err != nil {
		return "", fmt.Errorf("%q: %w", Clip(d, 100), err)
	}
	return strings.ToLower(j.Domainpart()), nil
}

// SRV is what one SRV lookup said.
type SRV struct {
	// Records are the records in the order to try them: by priority and,
	// within a priority, in the resolver's order (*net.Resolver shuffles
	// by weight, RFC 2782). Nil if Disabled.
	Records []*net.SRV
	// NotFound: the name has no such records.
	NotFound bool
	// Disabled: a single record with target ".", the service is decidedly
	// not offered.
	Disabled bool
	// Err is a failed lookup (not NotFound).
	Err error
	// Took is how long the lookup took.
	Took time.Duration
}

// LookupSRV looks up _service._tcp.domain.
func LookupSRV(ctx context.Context, r Resolver, service, domain string) SRV {
	t0 := time.Now()
	_, recs, err := r.LookupSRV(ctx, service, "tcp", domain)
	s := SRV{Took: time.Since(t0)}
	var de *net.DNSError
	switch {
	case err != nil && errors.As(err, &de) && de.IsNotFound:
		s.NotFound = true
	case err != nil:
		s.Err = err
	case len(recs) == 1 && recs[0] != nil && (recs[0].Target == "." || recs[0].Target == ""):
		s.Disabled = true
	default:
		for _, rec := range recs {
			if rec != nil {
				s.Records = append(s.Records, rec)
			}
		}
		s.NotFound = len(s.Records) == 0
		slices.SortStableFunc(s.Records, func(a, b *net.SRV) int { return cmp.Compare(a.Priority, b.Priority) })
	}
	return s
}

// Services is what the lookups of both client services said.
type Services struct {
	StartTLS, DirectTLS SRV
}

// LookupServices looks up both client services of domain at once.
func LookupServices(ctx context.Context, r Resolver, domain string) Services {
	var s Services
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.DirectTLS = LookupSRV(ctx, r, ServiceDirectTLS, domain)
	}()
	s.StartTLS = LookupSRV(ctx, r, ServiceStartTLS, domain)
	wg.Wait()
	return s
}

// Target is a host and port that offers the client service.
type Target struct {
	Host      string // a name (without trailing dot) or an IP address
	Port      uint16
	DirectTLS bool // TLS from the first byte (XEP-0368), else STARTTLS
	// Priority is the SRV priority (0 for a fallback target).
	Priority uint16
}

// Addr is "host:port".
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port))) }

// Targets returns the targets of one service, at most max (0: all): its
// SRV targets in order, or domain on port when it has no records (also
// when the lookup failed: a broken DNS server is no reason not to try),
// none when the service is disabled.
func (s SRV) Targets(domain string, port uint16, direct bool, max int) []Target {
	if s.Disabled {
		return nil
	}
	if len(s.Records) == 0 {
		return []Target{{Host: domain, Port: port, DirectTLS: direct}}
	}
	var ts []Target
	for _, r := range s.Records {
		if max > 0 && len(ts) == max {
			break
		}
		ts = append(ts, Target{Host: strings.TrimSuffix(r.Target, "."), Port: r.Port, DirectTLS: direct, Priority: r.Priority})
	}
	return ts
}

// Targets returns the targets of both services in the order a client tries
// them: SRV targets merged by priority, direct TLS first on ties (as
// XEP-0368 suggests); without records, domain on 5222 (STARTTLS) and 5223
// (direct TLS). It fails when both lookups failed, and with ErrNoService
// when the records say there is no service.
func (s Services) Targets(domain string) ([]Target, error) {
	if s.StartTLS.Err != nil && s.DirectTLS.Err != nil {
		return nil, fmt.Errorf("SRV lookup for %s: %w", domain, errors.Join(s.StartTLS.Err, s.DirectTLS.Err))
	}
	if len(s.StartTLS.Records) == 0 && len(s.DirectTLS.Records) == 0 {
		if s.StartTLS.Disabled || s.DirectTLS.Disabled {
			return nil, fmt.Errorf("%s: %w", domain, ErrNoService)
		}
		return []Target{{Host: domain, Port: 5222}, {Host: domain, Port: 5223, DirectTLS: true}}, nil
	}
	var all []Target
	if len(s.DirectTLS.Records) > 0 {
		all = append(all, s.DirectTLS.Targets(domain, 5223, true, 0)...)
	}
	if len(s.StartTLS.Records) > 0 {
		all = append(all, s.StartTLS.Targets(domain, 5222, false, 0)...)
	}
	slices.SortStableFunc(all, func(a, b Target) int { return cmp.Compare(a.Priority, b.Priority) })
	return all, nil
}

// Endpoint is a target with the addresses to connect to.
type Endpoint struct {
	Target
	// IPs are the addresses, in the order to try them (see Resolve). Nil
	// with a nil Err: not resolved here, the dialer connects to the name
	// (a proxy resolves it).
	IPs []string
	// Err is why the target has no address.
	Err error
}

// Resolve looks up the addresses of the targets, each host once and all
// at once; a host that is an IP address is used as it is. Each target
// gets at most max addresses (0: DefaultMaxAddrs), the two families
// interleaved, starting with the family of the resolver's first answer
// (RFC 8305 §4), so that a target with IPv6 and IPv4 is raced over both.
func Resolve(ctx context.Context, r Resolver, targets []Target, max int) []Endpoint {
	if max <= 0 {
		max = DefaultMaxAddrs
	}
	type result struct {
		ips []string
		err error
	}
	hosts := map[string]*result{}
	var wg sync.WaitGroup
	for _, t := range targets {
		if hosts[t.Host] != nil {
			continue
		}
		res := &result{}
		hosts[t.Host] = res
		if ip, err := netip.ParseAddr(t.Host); err == nil {
			res.ips = []string{ip.String()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ips, err := r.LookupHost(ctx, t.Host)
			switch {
			case err != nil:
				res.err = err
			case len(ips) == 0:
				res.err = &net.DNSError{Err: ErrNoAddress.Error(), Name: t.Host, IsNotFound: true}
			default:
				res.ips = Interleave(ips)
			}
		}()
	}
	wg.Wait()
	out := make([]Endpoint, len(targets))
	for i, t := range targets {
		res := hosts[t.Host]
		out[i] = Endpoint{Target: t, IPs: res.ips, Err: res.err}
		if len(out[i].IPs) > max {
			out[i].IPs = out[i].IPs[:max]
		}
	}
	return out
}

// Interleave orders addresses for Happy Eyeballs: the family of the first
// one, then the other, alternating; within a family the order is kept.
// Strings that are not IP addresses are dropped.
func Interleave(ips []string) []string {
	var first, other []string
	firstV6 := false
	for _, s := range ips {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		v6 := ip.Is6() && !ip.Is4In6()
		if len(first) == 0 {
			firstV6 = v6
		}
		if v6 == firstV6 {
			first = append(first, ip.String())
		} else {
			other = append(other, ip.String())
		}
	}
	out := make([]string, 0, len(first)+len(other))
	for i := 0; i < len(first) || i < len(other); i++ {
		if i < len(first) {
			out = append(out, first[i])
		}
		if i < len(other) {
			out = append(out, other[i])
		}
	}
	return out
}

// Attempt is one connection attempt (or a target that could not be
// attempted: no address, or refused by the destination policy).
type Attempt struct {
	Target Target
	Addr   string // "ip:port", or the target's "host:port"
	Err    error  // nil for the one that connected
	Took   time.Duration
}

// Dialer connects to endpoints. The zero value connects with a
// *net.Dialer, allows every destination and races addresses after
// DefaultFallbackDelay.
type Dialer struct {
	// Dialer makes the TCP connections; nil means a *net.Dialer.
	Dialer ContextDialer
	// Policy says where connections may go (netguard.Default allows
	// all). It is checked on each address before the attempt and, for a
	// *net.Dialer, again on the socket's address when it connects.
	Policy netguard.Policy
	// FallbackDelay is how long an attempt runs before the next address
	// starts beside it (at most MaxRacing at once); zero means
	// DefaultFallbackDelay, a negative value one attempt at a time. A
	// failed attempt starts the next at once.
	FallbackDelay time.Duration
	// AttemptTimeout bounds each attempt, Handshake included; zero means
	// only the context.
	AttemptTimeout time.Duration
	// Handshake, if set, runs on each new connection as part of its
	// attempt (the TLS handshake of direct TLS, say) and returns the
	// connection to use; an error fails the attempt. It must close
	// nothing: the connection is closed for it on error.
	Handshake func(ctx context.Context, c net.Conn, t Target) (net.Conn, error)
	// Started, if set, is called when an attempt starts, on the goroutine
	// that called Connect.
	Started func(t Target, addr string)
}

// Connected is what Connect made: the connection, the target and address
// it goes to, and every attempt in the order they started (the winner
// among them, abandoned ones with ErrAbandoned).
type Connected struct {
	Conn     net.Conn
	Target   Target
	Addr     string
	Attempts []Attempt
}

// step is one address to try.
type step struct {
	target Target
	addr   string
	err    error // known before trying: no address, forbidden
}

// Connect connects to the endpoints' addresses in order, racing them
// (Happy Eyeballs): an attempt that has not connected (and shaken hands)
// within FallbackDelay gets the next address started beside it, a failed
// one the next at once, and the first to succeed wins; the others are
// stopped and closed. It returns the attempts also on failure, with an
// error joining theirs (each "addr: err").
func (d *Dialer) Connect(ctx context.Context, eps []Endpoint) (Connected, error) {
	pol := d.Policy.Or(netguard.AllowAll)
	nd := pol.Dialer(d.Dialer)
	var steps []step
	for _, ep := range eps {
		switch {
		case ep.Err != nil:
			steps = append(steps, step{target: ep.Target, addr: ep.Addr(), err: ep.Err})
		case len(ep.IPs) == 0:
			steps = append(steps, step{target: ep.Target, addr: ep.Addr(), err: pol.Check(ep.Addr())})
		default:
			for _, ip := range ep.IPs {
				addr := net.JoinHostPort(ip, strconv.Itoa(int(ep.Port)))
				steps = append(steps, step{target: ep.Target, addr: addr, err: pol.Check(addr)})
			}
		}
	}
	delay := d.FallbackDelay
	if delay == 0 {
		delay = DefaultFallbackDelay
	}
	type result struct {
		i    int
		conn net.Conn
		err  error
		took time.Duration
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(steps))
	var out Connected
	index := map[int]int{} // step → attempt
	running, next := 0, 0
	var lastStart time.Time
	start := func() {
		for next < len(steps) {
			i := next
			s := steps[i]
			next++
			index[i] = len(out.Attempts)
			out.Attempts = append(out.Attempts, Attempt{Target: s.target, Addr: s.addr, Err: s.err})
			if s.err != nil {
				continue
			}
			if d.Started != nil {
				d.Started(s.target, s.addr)
			}
			running++
			lastStart = time.Now()
			go func() {
				t0 := time.Now()
				actx, acancel := rctx, context.CancelFunc(func() {})
				if d.AttemptTimeout > 0 {
					actx, acancel = context.WithTimeout(rctx, d.AttemptTimeout)
				}
				defer acancel()
				c, err := nd.DialContext(actx, "tcp", s.addr)
				if err == nil && d.Handshake != nil {
					var hc net.Conn
					if hc, err = d.Handshake(actx, c, s.target); err != nil {
						c.Close()
						c = nil
					} else {
						c = hc
					}
				}
				results <- result{i: i, conn: c, err: err, took: time.Since(t0)}
			}()
			return
		}
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	start()
	win := -1
	for running > 0 && win < 0 {
		if delay > 0 && running < MaxRacing && next < len(steps) {
			timer.Reset(time.Until(lastStart.Add(delay)))
		}
		select {
		case <-timer.C:
			start()
		case r := <-results:
			running--
			a := &out.Attempts[index[r.i]]
			a.Took = r.took
			if r.err == nil {
				win = r.i
				out.Conn, out.Target, out.Addr = r.conn, steps[r.i].target, steps[r.i].addr
				break
			}
			a.Err = r.err
			if ctx.Err() == nil {
				start()
			}
		}
		timer.Stop()
	}
	cancel()
	for ; running > 0; running-- {
		r := <-results
		a := &out.Attempts[index[r.i]]
		a.Took = r.took
		if r.conn != nil {
			r.conn.Close()
		}
		a.Err = ErrAbandoned
		if win < 0 {
			a.Err = r.err
		}
	}
	if win >= 0 {
		return out, nil
	}
	if err := ctx.Err(); err != nil && len(out.Attempts) == 0 {
		return out, err
	}
	var errs []error
	for _, a := range out.Attempts {
		errs = append(errs, fmt.Errorf("%s: %w", a.Addr, a.Err))
	}
	switch len(errs) {
	case 0:
		return out, errors.New("nothing to connect to")
	case 1:
		return out, errs[0]
	}
	return out, errors.Join(errs...)
}

// ClientTLS returns the TLS configuration of a client connection to
// domain: a clone of base (nil: an empty one) with ServerName domain,
// MinVersion TLS 1.2 if base leaves it zero, and for direct TLS the ALPN
// protocol "xmpp-client" (XEP-0368) if base names none. Whether the
// certificate is verified is the caller's: register refuses
// InsecureSkipVerify, discovery verifies after the handshake to report.
func ClientTLS(base *tls.Config, domain string, direct bool) *tls.Config {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	cfg.ServerName = domain
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if direct && len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"xmpp-client"}
	}
	return cfg
}
