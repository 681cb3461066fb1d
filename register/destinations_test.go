package register

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// rebindDNS is a loopback DNS server for one hostile domain: SRV records
// of evil.test point at xmpp.evil.test (or at localhost) on port, and
// xmpp.evil.test has the A record 127.0.0.1, the way a domain aims a
// registration service at the machine it runs on.
func rebindDNS(t *testing.T, port uint16, target string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			name := strings.ToLower(q.Name.String())
			rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true}
			known := name == "_xmpp-client._tcp.evil.test." || name == "_xmpps-client._tcp.evil.test." || name == "xmpp.evil.test."
			if !known {
				rh.RCode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, rh)
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
			switch {
			case name == "_xmpp-client._tcp.evil.test." && q.Type == dnsmessage.TypeSRV:
				b.SRVResource(rr, dnsmessage.SRVResource{Port: port, Weight: 1, Target: dnsmessage.MustNewName(target)})
			case name == "xmpp.evil.test." && q.Type == dnsmessage.TypeA:
				b.AResource(rr, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
			}
			if out, err := b.Finish(); err == nil {
				pc.WriteTo(out, addr)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// internalService is a loopback listener standing for a service that
// trusts local connections; it counts the connections it gets.
func internalService(t *testing.T) (net.Listener, uint16, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port), &n
}

// TestPublicOnlyRefusesSRVToLoopback: with Destinations PublicOnly, SRV
// records (or the domain itself) pointing at loopback get no connection
// at all, whether the target is a name resolving to 127.0.0.1 (checked on
// the resolved address, when connecting) or localhost (issue 11, item 3).
func TestPublicOnlyRefusesSRVToLoopback(t *testing.T) {
	ln, port, accepted := internalService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, target := range []string{"xmpp.evil.test.", "localhost."} {
		res := rebindDNS(t, port, target)
		// The Dialer's default net.Dialer, and the application's own,
		// both resolving with the fake DNS only.
		for _, nd := range []ContextDialer{nil, &net.Dialer{Resolver: res}} {
			d := &Dialer{Resolver: res, NetDialer: nd, Destinations: PublicOnly, Timeout: 5 * time.Second}
			c, err := d.Dial(ctx, "evil.test")
			if err == nil {
				c.Close()
				t.Fatalf("%s: connected", target)
			}
			var e *Error
			if !errors.Is(err, ErrForbiddenDestination) || !errors.Is(err, ErrConnect) || !errors.As(err, &e) || e.Kind != KindConnect {
				t.Errorf("%s: %v; want KindConnect matching ErrForbiddenDestination", target, err)
			}
		}
	}
	for _, domain := range []string{"localhost", "127.0.0.1"} {
		d := &Dialer{Resolver: rebindDNS(t, port, "localhost."), Destinations: PublicOnly, Timeout: 5 * time.Second}
		if _, err := d.Dial(ctx, domain); !errors.Is(err, ErrForbiddenDestination) {
			t.Errorf("domain %s: %v; want ErrForbiddenDestination", domain, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the internal service got %d connections", n)
	}

	// The zero value allows all (self-hosted servers on loopback), and an
	// explicit Addr is the application's choice even under PublicOnly.
	for _, d := range []*Dialer{
		{Resolver: rebindDNS(t, port, "xmpp.evil.test."), Timeout: 5 * time.Second},
		{Addr: ln.Addr().String(), Destinations: PublicOnly, Timeout: 5 * time.Second},
	} {
		if _, err := d.Dial(ctx, "evil.test"); errors.Is(err, ErrForbiddenDestination) {
			t.Errorf("Destinations %v, Addr %q: %v", d.Destinations, d.Addr, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for accepted.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("allowed dials: the service got %d connections, want 2", n)
	}
}
