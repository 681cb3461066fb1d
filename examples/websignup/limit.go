package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// maxClients caps the clients the rate limiter remembers. Only sign-ups
// (not page views) add one; when the table is full, the client whose
// bucket is fullest (the one that matters least) is forgotten.
const maxClients = 10000

// limiter is a token bucket per client network: burst sign-ups at once,
// refilled at burst per window. A client is an IPv4 address or an IPv6
// /64 (one household or server gets a /64).
type limiter struct {
	burst  float64
	window time.Duration

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(burst int, window time.Duration) *limiter {
	return &limiter{burst: float64(burst), window: window, buckets: map[netip.Prefix]*bucket{}}
}

// refill brings b up to now.
func (l *limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+l.burst*float64(d)/float64(l.window))
		b.last = now
	}
}

// allow takes a token of client's bucket; false when it has none. wait is
// then how long until it has one.
func (l *limiter) allow(client netip.Prefix, now time.Time) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.buckets[client]
	if !found {
		if len(l.buckets) >= maxClients {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[client] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.burst * float64(l.window))
	}
	b.tokens--
	return true, 0
}

// evict forgets the full buckets (the same as forgotten), or else the
// fullest one. l.mu must be held.
func (l *limiter) evict(now time.Time) {
	var fullest netip.Prefix
	most := -1.0
	for c, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, c)
		} else if b.tokens > most {
			fullest, most = c, b.tokens
		}
	}
	if len(l.buckets) >= maxClients {
		delete(l.buckets, fullest)
	}
}

// size is the number of clients remembered.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// proxyFlag collects -trusted-proxy values: addresses or CIDR prefixes.
type proxyFlag []netip.Prefix

// String returns the prefixes, comma-separated (flag.Value).
func (f *proxyFlag) String() string {
	var s []string
	for _, p := range *f {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

// Set adds an address (as a one-address prefix) or a CIDR prefix
// (flag.Value).
func (f *proxyFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if p, err := netip.ParsePrefix(v); err == nil {
		*f = append(*f, p.Masked())
		return nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return fmt.Errorf("want an IP address or CIDR prefix, got %q", v)
	}
	a = a.Unmap()
	*f = append(*f, netip.PrefixFrom(a, a.BitLen()))
	return nil
}

// trusted reports whether a is one of the trusted proxies.
func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address of the client that sent r: the peer of the
// connection, or, when that peer is a trusted proxy, the last address in
// X-Forwarded-For that is not a trusted proxy (the entries before it
// were written by the client, which may lie). The zero Addr when it
// cannot be told.
func clientAddr(r *http.Request, proxies []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap().WithZone("")
	if len(proxies) == 0 || !trusted(proxies, peer) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled entry: the proxy's peer is all we know
		}
		client = a.Unmap().WithZone("")
		if !trusted(proxies, client) {
			break
		}
	}
	return client
}

// clientKey is the network a client is limited as: its IPv4 address, or
// its IPv6 /64.
func clientKey(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}
