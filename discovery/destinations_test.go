package discovery

import (
	"context"
	"errors"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// internalService is a loopback listener standing for a service that
// trusts local connections (an admin API, a metadata endpoint); it counts
// the connections it gets and closes them.
func internalService(t *testing.T) (port string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

// TestPublicOnlyRefusesSRVToLoopback: SRV records pointing at 127.0.0.1
// (by name or as an address) get no connection under PublicOnly, which
// is ProbeAll's default (issue 11, item 3).
func TestPublicOnlyRefusesSRVToLoopback(t *testing.T) {
	port, accepted := internalService(t)
	p16, _ := strconv.Atoi(port)
	res := &fakedns.Resolver{
		SRV: map[string][]*net.SRV{
			"_xmpp-client._tcp.evil.test":  {{Target: "internal.evil.test", Port: uint16(p16)}},
			"_xmpps-client._tcp.evil.test": {{Target: "127.0.0.1", Port: uint16(p16)}},
		},
		Hosts: map[string][]string{"internal.evil.test": {"127.0.0.1", "::ffff:127.0.0.1"}},
	}
	check := func(name string, r Report) {
		t.Helper()
		for _, c := range []Connection{r.StartTLS, r.DirectTLS} {
			if c.Status.State != Unknown || !errors.Is(c.Status.Err, ErrForbiddenDestination) || len(c.Attempts) == 0 {
				t.Errorf("%s: %v (%v), attempts %+v; want refused by policy", name, c.Status, c.Status.Err, c.Attempts)
			}
		}
	}
	ctx := context.Background()
	p := &Prober{Resolver: res, Destinations: PublicOnly, Skip: PartHTTP, Timeout: 5 * time.Second}
	r, err := p.Probe(ctx, "evil.test")
	if err != nil {
		t.Fatal(err)
	}
	check("Probe, PublicOnly", r)
	p = &Prober{Resolver: res, Skip: PartHTTP, Timeout: 5 * time.Second}
	for r := range p.ProbeAll(ctx, []string{"evil.test"}) {
		check("ProbeAll, default", r)
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the internal service got %d connections", n)
	}
	// Probe's default allows all: a server on loopback can be probed.
	if r, _ := p.Probe(ctx, "evil.test"); errors.Is(r.StartTLS.Status.Err, ErrForbiddenDestination) || accepted.Load() == 0 {
		t.Errorf("Probe, default: %v (%v), %d connections", r.StartTLS.Status, r.StartTLS.Status.Err, accepted.Load())
	}
}

// TestPublicOnlyRefusesRedirectToLoopback: a provider file or host-meta
// redirect to https://127.0.0.1:port/admin/api (or localhost, or [::1])
// is not followed under PublicOnly, ProbeAll's default: the internal
// service gets no connection and the report holds nothing it would have
// sent (issue 11, item 3).
func TestPublicOnlyRefusesRedirectToLoopback(t *testing.T) {
	port, accepted := internalService(t)
	targets := map[string]string{
		"/.well-known/xmpp-provider-v2.json": "https://127.0.0.1:" + port + "/admin/api",
		"/.well-known/host-meta":             "https://localhost:" + port + "/admin/api",
		"/.well-known/host-meta.json":        "https://[::ffff:127.0.0.1]:" + port + "/admin/api",
	}
	w := startWeb(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if u, ok := targets[r.URL.Path]; ok {
			http.Redirect(rw, r, u, http.StatusFound)
			return
		}
		http.NotFound(rw, r)
	}), "evil.test")
	check := func(name string, r Report) {
		t.Helper()
		for part, st := range map[string]Status{"provider file": r.ProviderFile.Status, "host-meta": r.HostMeta.XML.Status, "host-meta.json": r.HostMeta.JSON.Status} {
			if st.State != Unknown || !errors.Is(st.Err, ErrForbiddenDestination) {
				t.Errorf("%s: %s: %v (%v); want refused by policy", name, part, st, st.Err)
			}
		}
	}
	p := w.prober()
	p.Destinations = PublicOnly
	r, err := p.Probe(context.Background(), "evil.test")
	if err != nil {
		t.Fatal(err)
	}
	check("Probe, PublicOnly", r)
	p.Destinations = DefaultDestinations
	for r := range p.ProbeAll(context.Background(), []string{"evil.test"}) {
		check("ProbeAll, default", r)
	}
	// An injected client is held to the policy too.
	p.Destinations = PublicOnly
	p.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: p.NetDialer.DialContext, TLSClientConfig: p.TLSConfig}}
	r, _ = p.Probe(context.Background(), "evil.test")
	check("Probe, PublicOnly, own HTTPClient", r)
	if n := accepted.Load(); n != 0 {
		t.Errorf("the internal service got %d connections", n)
	}
}
