package fakedns

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
)

func TestResolver(t *testing.T) {
	boom := errors.New("boom")
	r := &Resolver{
		SRV:   map[string][]*net.SRV{"_xmpp-client._tcp.a.example": {{Target: "xmpp.a.example.", Port: 5222}}},
		Hosts: map[string][]string{"xmpp.a.example": {"127.0.0.1"}},
		Errs:  map[string]error{"b.example": boom},
	}
	ctx := context.Background()
	if _, recs, err := r.LookupSRV(ctx, "xmpp-client", "tcp", "a.example"); err != nil || len(recs) != 1 {
		t.Errorf("SRV: %v, %v", recs, err)
	}
	var de *net.DNSError
	if _, _, err := r.LookupSRV(ctx, "xmpps-client", "tcp", "a.example"); !errors.As(err, &de) || !de.IsNotFound {
		t.Errorf("unknown SRV: %v", err)
	}
	if ips, err := r.LookupHost(ctx, "xmpp.a.example"); err != nil || !slices.Equal(ips, []string{"127.0.0.1"}) {
		t.Errorf("host: %v, %v", ips, err)
	}
	if _, err := r.LookupHost(ctx, "b.example"); !errors.Is(err, boom) {
		t.Errorf("Errs: %v", err)
	}
	if d := r.Domains(); !slices.Equal(d, []string{"a.example"}) {
		t.Errorf("Domains = %v", d)
	}
	if n := len(r.Lookups()); n != 4 {
		t.Errorf("%d lookups, want 4", n)
	}
}
