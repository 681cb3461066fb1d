package discovery

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// The SRV lookups, the order of their targets, the addresses and the
// connection attempts are internal/xmppconn's (the same as register's);
// this file keeps what the report says about them.

// Limits of the resolution, against domains with absurd DNS.
const (
	maxTargets = 4 // SRV targets tried per service
	maxIPs     = 2 // addresses tried per target
)

// target is one host:port to try, with its resolved addresses.
type target struct {
	host string
	port string
	ips  []string
	err  error // resolution error
	// policy is the destination policy for this target: the Prober's,
	// or AllowAll for an address override (the application's choice).
	policy netguard.Policy
}

func (t target) addr() string { return net.JoinHostPort(t.host, t.port) }

// resolution is what DNS (or the address overrides) said about a domain.
type resolution struct {
	srv, srvs SRVRecords
	startTLS  []target
	directTLS []target
	// Statuses for a connection with no targets.
	noStartTLS, noDirectTLS Status
	// key identifies the server for politeness: the first IP address.
	key string
}

// resolve looks up the SRV records of domain and the addresses of their
// targets, or uses the address overrides. The targets get the destination
// policy pol, except address overrides, which the application chose.
func (p *Prober) resolve(ctx context.Context, domain string, pol netguard.Policy) resolution {
	var r resolution
	ov, hasOv := p.Addrs[domain]
	dov, hasDov := p.DirectTLSAddrs[domain]
	if hasOv || hasDov {
		pol = netguard.AllowAll
	}
	switch {
	case hasOv || hasDov:
		st := unknown("not looked up: address override", ErrSkipped, 0)
		r.srv.Status, r.srvs.Status = st, st
		r.startTLS, r.noStartTLS = overrideTarget(ov, hasOv)
		r.directTLS, r.noDirectTLS = overrideTarget(dov, hasDov)
	case p.skip(PartSRV):
		r.srv.Status, r.srvs.Status = skipped(), skipped()
		r.startTLS = []target{{host: domain, port: "5222"}}
		r.directTLS = []target{{host: domain, port: "5223"}}
	default:
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); r.srv = p.lookupSRV(ctx, "xmpp-client", domain) }()
		go func() { defer wg.Done(); r.srvs = p.lookupSRV(ctx, "xmpps-client", domain) }()
		wg.Wait()
		r.startTLS, r.noStartTLS = srvTargets(r.srv, domain, "5222")
		r.directTLS, r.noDirectTLS = srvTargets(r.srvs, domain, "5223")
	}
	if p.skip(PartStartTLS) {
		r.startTLS, r.noStartTLS = nil, skipped()
	}
	if p.skip(PartDirectTLS) {
		r.directTLS, r.noDirectTLS = nil, skipped()
	}
	for _, ts := range [][]target{r.startTLS, r.directTLS} {
		for i := range ts {
			ts[i].policy = pol
		}
	}
	p.resolveTargets(ctx, r.startTLS, r.directTLS)
	for _, ts := range [][]target{r.startTLS, r.directTLS} {
		for _, t := range ts {
			if len(t.ips) > 0 && r.key == "" {
				r.key = t.ips[0]
			}
		}
	}
	if r.key == "" {
		r.key = domain
	}
	return r
}

func overrideTarget(addr string, ok bool) ([]target, Status) {
	if !ok {
		return nil, unknown("not probed: no address override for this port", ErrSkipped, 0)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []target{{host: addr, err: err}}, Status{}
	}
	return []target{{host: host, port: port}}, Status{}
}

// srvTargets returns the targets to try for a service, as
// xmppconn.SRV.Targets orders them: the SRV targets (in the report's
// order), or the domain on the conventional port when there are no
// records.
func srvTargets(s SRVRecords, domain, port string) ([]target, Status) {
	if s.Disabled {
		return nil, absent("SRV record says the service is not available", nil, 0)
	}
	srv := xmppconn.SRV{Disabled: s.Disabled}
	for _, rec := range s.Records {
		srv.Records = append(srv.Records, &net.SRV{Target: rec.Target, Port: rec.Port, Priority: rec.Priority, Weight: rec.Weight})
	}
	p, _ := strconv.ParseUint(port, 10, 16)
	var ts []target
	for _, t := range srv.Targets(domain, uint16(p), false, maxTargets) {
		ts = append(ts, target{host: t.Host, port: strconv.Itoa(int(t.Port))})
	}
	return ts, Status{}
}

// lookupSRV looks up _service._tcp.domain (xmppconn.LookupSRV) and says
// what it found.
func (p *Prober) lookupSRV(ctx context.Context, service, domain string) SRVRecords {
	r := xmppconn.LookupSRV(ctx, p.resolver(), service, domain)
	var s SRVRecords
	switch {
	case r.Err != nil:
		s.Status = unknown("SRV lookup failed", r.Err, r.Took)
		return s
	case r.Disabled:
		s.Disabled = true
		s.Status = absent("SRV target \".\": service not available", nil, r.Took)
		return s
	}
	for _, a := range r.Records {
		if len(s.Records) >= maxListItems {
			break
		}
		s.Records = append(s.Records, SRVRecord{Target: trimDot(clipString(a.Target)), Port: a.Port, Priority: a.Priority, Weight: a.Weight})
	}
	if len(s.Records) == 0 {
		s.Status = absent("no SRV records", nil, r.Took)
		return s
	}
	// The order a client tries them in; RFC 2782 picks among equal
	// priorities at random by weight (as register does), the prober
	// deterministically by weight so that reports are reproducible.
	slices.SortStableFunc(s.Records, func(a, b SRVRecord) int {
		if a.Priority != b.Priority {
			return int(a.Priority) - int(b.Priority)
		}
		return int(b.Weight) - int(a.Weight)
	})
	s.Status = observed(r.Took)
	return s
}

func trimDot(s string) string {
	if len(s) > 1 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// resolveTargets fills in the addresses of every target, looking each host
// up once (xmppconn.Resolve: at most maxIPs, the address families
// interleaved).
func (p *Prober) resolveTargets(ctx context.Context, lists ...[]target) {
	var flat []xmppconn.Target
	for _, ts := range lists {
		for _, t := range ts {
			if t.err == nil {
				port, _ := strconv.ParseUint(t.port, 10, 16)
				flat = append(flat, xmppconn.Target{Host: t.host, Port: uint16(port)})
			}
		}
	}
	eps := xmppconn.Resolve(ctx, p.resolver(), flat, maxIPs)
	i := 0
	for _, ts := range lists {
		for j := range ts {
			if ts[j].err == nil {
				ts[j].ips, ts[j].err = eps[i].IPs, eps[i].Err
				i++
			}
		}
	}
}
