package discovery

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/xmpp-onboard/onboard/internal/netguard"
)

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

// srvTargets returns the targets to try for a service: the SRV targets, or
// the domain on the conventional port when there are no records.
func srvTargets(s SRVRecords, domain, port string) ([]target, Status) {
	if s.Disabled {
		return nil, absent("SRV record says the service is not available", nil, 0)
	}
	if len(s.Records) == 0 {
		return []target{{host: domain, port: port}}, Status{}
	}
	var ts []target
	for _, rec := range s.Records {
		if len(ts) == maxTargets {
			break
		}
		ts = append(ts, target{host: rec.Target, port: strconv.Itoa(int(rec.Port))})
	}
	return ts, Status{}
}

// lookupSRV looks up _service._tcp.domain.
func (p *Prober) lookupSRV(ctx context.Context, service, domain string) SRVRecords {
	t0 := time.Now()
	_, addrs, err := p.resolver().LookupSRV(ctx, service, "tcp", domain)
	took := time.Since(t0)
	var s SRVRecords
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			s.Status = absent("no SRV records", nil, took)
			return s
		}
		s.Status = unknown("SRV lookup failed", err, took)
		return s
	}
	if len(addrs) == 1 && (addrs[0].Target == "." || addrs[0].Target == "") {
		s.Disabled = true
		s.Status = absent("SRV target \".\": service not available", nil, took)
		return s
	}
	for _, a := range addrs {
		if a == nil || len(s.Records) >= maxListItems {
			continue
		}
		s.Records = append(s.Records, SRVRecord{Target: trimDot(clipString(a.Target)), Port: a.Port, Priority: a.Priority, Weight: a.Weight})
	}
	if len(s.Records) == 0 {
		s.Status = absent("no SRV records", nil, took)
		return s
	}
	// The order a client tries them in; RFC 2782 picks among equal
	// priorities at random by weight, the prober deterministically by
	// weight so that reports are reproducible.
	slices.SortStableFunc(s.Records, func(a, b SRVRecord) int {
		if a.Priority != b.Priority {
			return int(a.Priority) - int(b.Priority)
		}
		return int(b.Weight) - int(a.Weight)
	})
	s.Status = observed(took)
	return s
}

func trimDot(s string) string {
	if len(s) > 1 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// resolveTargets fills in the addresses of every target, looking each host
// up once.
func (p *Prober) resolveTargets(ctx context.Context, lists ...[]target) {
	type result struct {
		ips []string
		err error
	}
	hosts := map[string]*result{}
	var order []string
	for _, ts := range lists {
		for _, t := range ts {
			if t.err == nil && hosts[t.host] == nil {
				hosts[t.host] = &result{}
				order = append(order, t.host)
			}
		}
	}
	var wg sync.WaitGroup
	for _, h := range order {
		res := hosts[h]
		if ip := net.ParseIP(h); ip != nil {
			res.ips = []string{ip.String()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ips, err := p.resolver().LookupHost(ctx, h)
			if err != nil {
				res.err = err
				return
			}
			if len(ips) == 0 {
				res.err = &net.DNSError{Err: "no addresses", Name: h, IsNotFound: true}
				return
			}
			if len(ips) > maxIPs {
				ips = ips[:maxIPs]
			}
			res.ips = ips
		}()
	}
	wg.Wait()
	for _, ts := range lists {
		for i := range ts {
			if res := hosts[ts[i].host]; res != nil && ts[i].err == nil {
				ts[i].ips, ts[i].err = res.ips, res.err
			}
		}
	}
}
