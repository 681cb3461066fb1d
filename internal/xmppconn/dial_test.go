package xmppconn

import (
	"context"
	"errors"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/netguard"
)

// Tests of the dialer with an injected resolver and dialer: no DNS, no
// network, no timing asserted.

func TestSRVTargetOrder(t *testing.T) {
	dns := &fakedns.Resolver{SRV: map[string][]*net.SRV{
		"_xmpp-client._tcp.example.test": {
			{Target: "backup.example.test.", Port: 5222, Priority: 20},
			{Target: "a.example.test.", Port: 5222, Priority: 10, Weight: 5},
		},
		"_xmpps-client._tcp.example.test": {
			{Target: "tls.example.test.", Port: 443, Priority: 10},
			{Target: "late.example.test.", Port: 5223, Priority: 30},
		},
		"_xmpp-client._tcp.off.test":  {{Target: ".", Port: 0}},
		"_xmpps-client._tcp.off.test": {{Target: ".", Port: 0}},
	}, Errs: map[string]error{
		"_xmpp-client._tcp.broken.test":  &net.DNSError{Err: "server misbehaving", IsTemporary: true},
		"_xmpps-client._tcp.broken.test": &net.DNSError{Err: "server misbehaving", IsTemporary: true},
		"_xmpps-client._tcp.half.test":   &net.DNSError{Err: "server misbehaving", IsTemporary: true},
	}}
	ctx := context.Background()
	ts, err := LookupServices(ctx, dns, "example.test").Targets("example.test")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range ts {
		got = append(got, tg.Addr()+map[bool]string{true: " tls", false: ""}[tg.DirectTLS])
	}
	// By priority, direct TLS first on ties.
	want := []string{"tls.example.test:443 tls", "a.example.test:5222", "backup.example.test:5222", "late.example.test:5223 tls"}
	if !slices.Equal(got, want) {
		t.Errorf("targets %v, want %v", got, want)
	}
	// No records: the domain on the conventional ports; one failed
	// lookup beside a missing one is no reason not to try.
	for _, d := range []string{"plain.test", "half.test"} {
		ts, err = LookupServices(ctx, dns, d).Targets(d)
		if err != nil || len(ts) != 2 || ts[0].Addr() != d+":5222" || ts[0].DirectTLS || ts[1].Addr() != d+":5223" || !ts[1].DirectTLS {
			t.Errorf("%s: %v, %v", d, ts, err)
		}
	}
	if _, err := LookupServices(ctx, dns, "off.test").Targets("off.test"); !errors.Is(err, ErrNoService) {
		t.Errorf("off.test: %v, want ErrNoService", err)
	}
	if _, err := LookupServices(ctx, dns, "broken.test").Targets("broken.test"); err == nil {
		t.Error("broken.test: no error")
	}
}

func TestResolveInterleaves(t *testing.T) {
	dns := &fakedns.Resolver{Hosts: map[string][]string{
		"dual.test": {"2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"},
		"v4.test":   {"192.0.2.9"},
	}}
	eps := Resolve(context.Background(), dns, []Target{
		{Host: "dual.test", Port: 5222}, {Host: "dual.test", Port: 5223, DirectTLS: true},
		{Host: "v4.test", Port: 5222}, {Host: "198.51.100.7", Port: 5222}, {Host: "none.test", Port: 5222},
	}, 3)
	if want := []string{"2001:db8::1", "192.0.2.1", "2001:db8::2"}; !slices.Equal(eps[0].IPs, want) || !slices.Equal(eps[1].IPs, want) {
		t.Errorf("dual: %v %v, want %v", eps[0].IPs, eps[1].IPs, want)
	}
	if !slices.Equal(eps[2].IPs, []string{"192.0.2.9"}) || !slices.Equal(eps[3].IPs, []string{"198.51.100.7"}) {
		t.Errorf("v4 %v, literal %v", eps[2].IPs, eps[3].IPs)
	}
	var de *net.DNSError
	if !errors.As(eps[4].Err, &de) || !de.IsNotFound {
		t.Errorf("none.test: %v", eps[4].Err)
	}
	// Each host once; the IP literal not at all.
	if n := len(dns.Lookups()); n != 3 {
		t.Errorf("lookups %v", dns.Lookups())
	}
}

// fakeDialer connects per address as told: "ok" returns one end of a
// pipe, "refused" fails at once, "hang" blocks until the context ends.
type fakeDialer struct {
	what map[string]string

	mu           sync.Mutex
	dialed       []string
	running, max int
}

func (f *fakeDialer) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	f.mu.Lock()
	f.dialed = append(f.dialed, addr)
	f.running++
	f.max = max(f.max, f.running)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	switch f.what[addr] {
	case "ok":
		c, s := net.Pipe()
		go func() { <-ctx.Done(); s.Close() }()
		return c, nil
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConnectRacesAfterFallbackDelay(t *testing.T) {
	// The first address never connects: the second starts beside it
	// after the fallback delay and wins; the first is abandoned.
	fd := &fakeDialer{what: map[string]string{"[2001:db8::1]:5222": "hang", "192.0.2.1:5222": "ok"}}
	var started []string
	d := Dialer{Dialer: fd, FallbackDelay: time.Millisecond, Started: func(_ Target, a string) { started = append(started, a) }}
	ep := Endpoint{Target: Target{Host: "x.test", Port: 5222}, IPs: []string{"2001:db8::1", "192.0.2.1"}}
	c, err := d.Connect(testCtx(t), []Endpoint{ep})
	if err != nil {
		t.Fatal(err)
	}
	c.Conn.Close()
	if c.Addr != "192.0.2.1:5222" || len(c.Attempts) != 2 || !errors.Is(c.Attempts[0].Err, ErrAbandoned) || c.Attempts[1].Err != nil {
		t.Errorf("connected to %s, attempts %+v", c.Addr, c.Attempts)
	}
	if !slices.Equal(started, []string{"[2001:db8::1]:5222", "192.0.2.1:5222"}) {
		t.Errorf("started %v", started)
	}
}

func TestConnectFailureStartsNextAtOnce(t *testing.T) {
	// A refused connection starts the next address without waiting for
	// the fallback delay (an hour here: the test would time out).
	fd := &fakeDialer{what: map[string]string{"192.0.2.1:5222": "refused", "192.0.2.2:5223": "ok"}}
	d := Dialer{Dialer: fd, FallbackDelay: time.Hour}
	eps := []Endpoint{
		{Target: Target{Host: "a.test", Port: 5222}, IPs: []string{"192.0.2.1"}},
		{Target: Target{Host: "gone.test", Port: 5222}, Err: &net.DNSError{Err: "no such host", IsNotFound: true}},
		{Target: Target{Host: "b.test", Port: 5223, DirectTLS: true}, IPs: []string{"192.0.2.2"}},
	}
	c, err := d.Connect(testCtx(t), eps)
	if err != nil {
		t.Fatal(err)
	}
	c.Conn.Close()
	if c.Addr != "192.0.2.2:5223" || !c.Target.DirectTLS || len(c.Attempts) != 3 {
		t.Errorf("connected to %s (%+v), attempts %+v", c.Addr, c.Target, c.Attempts)
	}
	if !errors.Is(c.Attempts[0].Err, syscall.ECONNREFUSED) || c.Attempts[1].Addr != "gone.test:5222" || c.Attempts[1].Err == nil {
		t.Errorf("attempts %+v", c.Attempts)
	}
}

func TestConnectBoundAndFailure(t *testing.T) {
	// Nothing connects: at most MaxRacing attempts at once, every one
	// reported, the error joins theirs.
	fd := &fakeDialer{what: map[string]string{}}
	var ips []string
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"} {
		fd.what[ip+":5222"] = "hang"
		ips = append(ips, ip)
	}
	fd.what["192.0.2.5:5222"] = "refused"
	d := Dialer{Dialer: fd, FallbackDelay: time.Millisecond, AttemptTimeout: 50 * time.Millisecond}
	c, err := d.Connect(testCtx(t), []Endpoint{{Target: Target{Host: "x.test", Port: 5222}, IPs: ips}})
	if err == nil {
		c.Conn.Close()
		t.Fatal("connected")
	}
	if len(c.Attempts) != 5 || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("attempts %+v, err %v", c.Attempts, err)
	}
	if fd.max > MaxRacing {
		t.Errorf("%d attempts at once, bound %d", fd.max, MaxRacing)
	}
}

func TestConnectPolicy(t *testing.T) {
	// PublicOnly: loopback and private addresses get no attempt at all.
	fd := &fakeDialer{what: map[string]string{"127.0.0.1:5222": "ok", "10.0.0.1:5222": "ok", "[::1]:5222": "ok"}}
	d := Dialer{Dialer: fd, Policy: netguard.PublicOnly}
	c, err := d.Connect(testCtx(t), []Endpoint{
		{Target: Target{Host: "evil.test", Port: 5222}, IPs: []string{"127.0.0.1", "::1"}},
		{Target: Target{Host: "localhost", Port: 5222}},
		{Target: Target{Host: "intra.test", Port: 5222}, IPs: []string{"10.0.0.1"}},
	})
	if err == nil {
		c.Conn.Close()
		t.Fatal("connected")
	}
	if !errors.Is(err, netguard.ErrForbiddenDestination) || len(fd.dialed) != 0 || len(c.Attempts) != 4 {
		t.Errorf("err %v, dialed %v, attempts %+v", err, fd.dialed, c.Attempts)
	}
}

func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{" Example.ORG. ": "example.org", "xmpp.example": "xmpp.example"} {
		if got, err := NormalizeDomain(in); err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", ".", "user@example.org", "example.org/res", "example.org:5222", "[::1]", "a b"} {
		if got, err := NormalizeDomain(in); err == nil {
			t.Errorf("NormalizeDomain(%q) = %q", in, got)
		}
	}
}
