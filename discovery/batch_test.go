package discovery

import (
	"context"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"net"
	"net/http"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mapDialer connects made-up addresses (from a fakedns.Resolver) to real
// loopback listeners, and counts the connections open per made-up IP.
type mapDialer struct {
	targets map[string]string // made-up IP → loopback "host:port"

	mu       sync.Mutex
	open     map[string]int
	maxOpen  map[string]int
	total    int
	maxTotal int
}

func newMapDialer(targets map[string]string) *mapDialer {
	return &mapDialer{targets: targets, open: map[string]int{}, maxOpen: map[string]int{}}
}

func (d *mapDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	real, ok := d.targets[host]
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, real)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.open[host]++
	d.total++
	d.maxOpen[host] = max(d.maxOpen[host], d.open[host])
	d.maxTotal = max(d.maxTotal, d.total)
	d.mu.Unlock()
	cc := &countedConn{Conn: c}
	cc.done = func() {
		d.mu.Lock()
		d.open[host]--
		d.total--
		d.mu.Unlock()
	}
	return cc, nil
}

type countedConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.done)
	return c.Conn.Close()
}

// slowNoTLS answers after a moment with features without STARTTLS, which
// ends the probe quickly and without TLS.
func slowNoTLS(c *fakeConn) {
	if !c.header() {
		return
	}
	time.Sleep(30 * time.Millisecond)
	c.send(fakeHeader + "<stream:features/>")
	for c.element() != nil {
	}
}

func TestProbeAllLimits(t *testing.T) {
	srv := startFake(t, slowNoTLS)
	hole, err := net.Listen("tcp", "127.0.0.1:0") // accepts nothing
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()

	res := &fakedns.Resolver{SRV: map[string][]*net.SRV{}, Hosts: map[string][]string{}}
	targets := map[string]string{"192.0.2.99": hole.Addr().String()}
	var domains []string
	for h := 1; h <= 3; h++ {
		ip := fmt.Sprintf("192.0.2.%d", h)
		targets[ip] = srv.addr
		for i := 0; i < 12; i++ {
			d := fmt.Sprintf("d%d.host%d.test", i, h)
			domains = append(domains, d)
			res.SRV["_xmpp-client._tcp."+d] = []*net.SRV{{Target: fmt.Sprintf("xmpp.host%d.test", h), Port: 5222}}
		}
		res.Hosts[fmt.Sprintf("xmpp.host%d.test", h)] = []string{ip}
	}
	for i := 0; i < 3; i++ {
		d := fmt.Sprintf("dead%d.test", i)
		domains = append(domains, d)
		res.SRV["_xmpp-client._tcp."+d] = []*net.SRV{{Target: "blackhole.test", Port: 5222}}
	}
	res.Hosts["blackhole.test"] = []string{"192.0.2.99"}
	domains = append(domains, "D0.HOST1.TEST", "not a domain")

	dialer := newMapDialer(targets)
	p := &Prober{
		Resolver:  res,
		NetDialer: dialer,
		// The made-up addresses are documentation ones (192.0.2.x),
		// which ProbeAll refuses by default.
		Destinations: AllowAll,
		Skip:         PartHTTP,
		Timeout:      500 * time.Millisecond,
		Concurrency:  5,
		PerHost:      2,
	}
	got := map[string]Report{}
	for r := range p.ProbeAll(context.Background(), domains) {
		if _, dup := got[r.Domain]; dup {
			t.Errorf("two reports for %s", r.Domain)
		}
		got[r.Domain] = r
	}
	if len(got) != 3*12+3+1 {
		t.Errorf("%d reports, want %d", len(got), 3*12+3+1)
	}
	for d, r := range got {
		switch {
		case d == "not a domain":
			if !errors.Is(r.Err, ErrInvalidDomain) {
				t.Errorf("%s: Err = %v", d, r.Err)
			}
		case len(d) > 4 && d[:4] == "dead":
			if st := r.StartTLS.Status; st.State != Unknown || !errors.Is(st.Err, context.DeadlineExceeded) {
				t.Errorf("%s: %v", d, st)
			}
		default:
			if st := r.StartTLS.Status; st.State != Absent || !errors.Is(st.Err, ErrNoTLS) || r.SRV.Status.State != Observed {
				t.Errorf("%s: %v", d, st)
			}
		}
	}
	dialer.mu.Lock()
	defer dialer.mu.Unlock()
	for ip, n := range dialer.maxOpen {
		if n > p.PerHost {
			t.Errorf("%s: %d probes at once, limit %d", ip, n, p.PerHost)
		}
	}
	if dialer.maxTotal > p.Concurrency {
		t.Errorf("%d probes at once, limit %d", dialer.maxTotal, p.Concurrency)
	}
	// With three servers and two probes each, more than one server was
	// probed at a time.
	if dialer.maxTotal <= p.PerHost {
		t.Errorf("at most %d probes ran at once: no parallelism across servers", dialer.maxTotal)
	}
}

func TestProbeAllOrder(t *testing.T) {
	srv := startFake(t, slowNoTLS)
	var domains []string
	addrs := map[string]string{}
	for i := 0; i < 12; i++ {
		d := fmt.Sprintf("d%02d.test", i)
		domains = append(domains, d)
		addrs[d] = srv.addr
	}
	p := &Prober{Addrs: addrs, Skip: PartHTTP, Concurrency: 1, NoShuffle: true}
	var order []string
	for r := range p.ProbeAll(context.Background(), domains) {
		order = append(order, r.Domain)
	}
	if fmt.Sprint(order) != fmt.Sprint(domains) {
		t.Errorf("NoShuffle order = %v", order)
	}
	p.NoShuffle = false
	shuffled := false
	for try := 0; try < 3 && !shuffled; try++ {
		order = order[:0]
		for r := range p.ProbeAll(context.Background(), domains) {
			order = append(order, r.Domain)
		}
		shuffled = fmt.Sprint(order) != fmt.Sprint(domains)
	}
	if !shuffled {
		t.Error("three runs in input order: not shuffled")
	}
}

// waitGoroutines waits until at most n goroutines run, and fails the test
// with a dump if that does not happen.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProbeAllCancel(t *testing.T) {
	// Servers that stall forever, and a timeout far away: only the
	// cancellation ends the probes.
	srv := startFake(t, func(c *fakeConn) { _, _ = drain(c) })
	addrs := map[string]string{}
	var domains []string
	for i := 0; i < 40; i++ {
		d := fmt.Sprintf("stall%d.test", i)
		domains = append(domains, d)
		addrs[d] = srv.addr
	}
	w := startWeb(t, nil, domains...) // HTTP parts that stall too
	w.srv.Config.Handler = stallHandler{}

	for _, read := range []bool{true, false} {
		t.Run(fmt.Sprintf("read=%v", read), func(t *testing.T) {
			base := runtime.NumGoroutine()
			p := w.prober()
			p.Skip = 0
			p.Addrs = addrs
			p.Timeout = time.Hour
			p.HTTPTimeout = time.Hour
			p.Concurrency = 8
			p.PerHost = 8
			ctx, cancel := context.WithCancel(context.Background())
			ch := p.ProbeAll(ctx, domains)
			// Let the probes start and block.
			deadline := time.Now().Add(10 * time.Second)
			for runtime.NumGoroutine() < base+8 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if read {
				go func() {
					time.Sleep(100 * time.Millisecond)
					cancel()
				}()
			} else {
				cancel()
			}
			n := 0
			done := make(chan struct{})
			go func() {
				for r := range ch {
					n++
					t.Logf("%s: starttls %v %v, pf %v %v, took %v", r.Domain, r.StartTLS.Status, r.StartTLS.Status.Err, r.ProviderFile.Status, r.ProviderFile.Status.Err, r.Took)
				}
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("channel not closed after cancellation")
			}
			if n != 0 {
				t.Errorf("%d reports from probes that could not finish", n)
			}
			cancel()
			w.srv.CloseClientConnections()
			waitGoroutines(t, base)
		})
	}
}

type stallHandler struct{}

func (stallHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
