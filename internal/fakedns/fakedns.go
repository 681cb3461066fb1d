// Package fakedns is the tests' one DNS resolver: it answers from maps and
// never touches the network, so that no test falls through to the
// system's DNS. It implements register.Resolver (and so discovery's and
// internal/xmppconn's).
package fakedns

import (
	"context"
	"net"
	"strings"
	"sync"
)

// Resolver answers SRV and host lookups from its maps; anything else is
// "no such host". The zero value knows no name. It is safe for concurrent
// use once its maps are set.
type Resolver struct {
	// SRV maps "_service._proto.name" to its records.
	SRV map[string][]*net.SRV
	// Hosts maps host names to their addresses.
	Hosts map[string][]string
	// Errs maps SRV names or host names to the error of their lookup.
	Errs map[string]error

	mu      sync.Mutex
	lookups []string
}

// LookupSRV looks up "_service._proto.name".
func (r *Resolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := "_" + service + "._" + proto + "." + name
	r.record(q)
	if err := r.Errs[q]; err != nil {
		return "", nil, err
	}
	if recs, ok := r.SRV[q]; ok {
		return q, recs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host (fakedns)", Name: q, IsNotFound: true}
}

// LookupHost looks up host.
func (r *Resolver) LookupHost(_ context.Context, host string) ([]string, error) {
	r.record(host)
	if err := r.Errs[host]; err != nil {
		return nil, err
	}
	if ips, ok := r.Hosts[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host (fakedns)", Name: host, IsNotFound: true}
}

func (r *Resolver) record(q string) {
	r.mu.Lock()
	r.lookups = append(r.lookups, q)
	r.mu.Unlock()
}

// Lookups returns the names looked up so far, in order ("_xmpp-client._tcp.example.org" for SRV).
func (r *Resolver) Lookups() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lookups...)
}

// Domains returns the domains whose _xmpp-client._tcp records were looked
// up: one per connection attempt to a domain.
func (r *Resolver) Domains() []string {
	var out []string
	for _, q := range r.Lookups() {
		if d, ok := strings.CutPrefix(q, "_xmpp-client._tcp."); ok {
			out = append(out, d)
		}
	}
	return out
}
