package register

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/internal/latency"
)

// Tests of Dial's connection attempts (internal/xmppconn's dialer) with an
// injected Resolver: no system DNS, loopback only, no timing asserted.

// mapResolver answers SRV and host lookups from maps; other names do not
// exist.
type mapResolver struct {
	srv   map[string][]*net.SRV // "_service._tcp.name"
	hosts map[string][]string
}

func (m mapResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := "_" + service + "._" + proto + "." + name
	if r, ok := m.srv[q]; ok {
		return q, r, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
}

func (m mapResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if ips, ok := m.hosts[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func port(t *testing.T, addr string) uint16 {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}

// events collects a Dial's progress (called on the dialing goroutine).
type events struct {
	mu sync.Mutex
	ev []Event
}

func (e *events) add(ev Event) { e.mu.Lock(); e.ev = append(e.ev, ev); e.mu.Unlock() }

// TestDialRacesPastDeadTarget: the first SRV target (direct TLS) accepts
// TCP and never answers; the second target is started beside it after the
// fallback delay and wins, long before the first's Timeout (30 s; the
// context ends after 20 s).
func TestDialRacesPastDeadTarget(t *testing.T) {
	const domain = "race.test"
	srv := fakeserver.Start(t, fakeserver.Config{Domain: domain, DirectTLS: true, Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister); err != nil {
			return err
		}
		st.Stall(time.Minute)
		return nil
	}})
	dead := &latency.Proxy{Blackhole: true}
	if err := dead.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	res := mapResolver{
		srv: map[string][]*net.SRV{"_xmpps-client._tcp." + domain: {
			{Target: "dead.race.test.", Port: port(t, dead.Addr()), Priority: 10},
			{Target: "live.race.test.", Port: port(t, srv.Addr), Priority: 20},
		}},
		hosts: map[string][]string{"dead.race.test": {"127.0.0.1"}, "live.race.test": {"127.0.0.1"}},
	}
	var ev events
	d := Dialer{Resolver: res, TLSConfig: srv.TLSConfig()}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := d.dial(ctx, domain, ev.add, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if c.addr != srv.Addr {
		t.Errorf("connected to %s, want %s", c.addr, srv.Addr)
	}
	var connecting []string
	for _, e := range ev.ev {
		if e.Stage == StageConnecting {
			connecting = append(connecting, e.Addr)
			if !e.DirectTLS {
				t.Errorf("event %+v: not direct TLS", e)
			}
		}
	}
	if len(connecting) != 2 || connecting[0] != dead.Addr() || connecting[1] != srv.Addr {
		t.Errorf("connecting to %v, want %s then %s", connecting, dead.Addr(), srv.Addr)
	}
}

// TestDialBothFamilies: a target with an IPv6 and an IPv4 address where
// only the IPv4 one has a server; the refused (or unreachable) IPv6
// attempt hands over at once, and the stream is opened over IPv4.
func TestDialBothFamilies(t *testing.T) {
	const domain = "dual.test"
	srv := fakeserver.Start(t, fakeserver.Config{Domain: domain, Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister); err != nil {
			return err
		}
		st.Stall(time.Minute)
		return nil
	}})
	res := mapResolver{
		srv:   map[string][]*net.SRV{"_xmpp-client._tcp." + domain: {{Target: "xmpp.dual.test.", Port: port(t, srv.Addr)}}},
		hosts: map[string][]string{"xmpp.dual.test": {"::1", "127.0.0.1"}},
	}
	var ev events
	d := Dialer{Resolver: res, TLSConfig: srv.TLSConfig()}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := d.dial(ctx, domain, ev.add, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if c.addr != srv.Addr {
		t.Errorf("connected to %s, want %s", c.addr, srv.Addr)
	}
	if len(ev.ev) < 2 || ev.ev[0].Stage != StageConnecting || ev.ev[0].Addr != net.JoinHostPort("::1", strconv.Itoa(int(port(t, srv.Addr)))) {
		t.Errorf("events %+v: want the IPv6 address first", ev.ev)
	}
}
