package onboard_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// BenchmarkVerified measures the time from Run to a verified open
// provider (StageChosen: connected, TLS, form received) over a 50 ms
// round-trip link, with six candidates of which none or half (every
// second one) are broken in one way:
//
//   - none-blackholed: all six answer;
//   - half-blackholed: accepts TCP and never answers;
//   - half-refused: the connection is refused (a closed port);
//   - half-reset-after-tls: STARTTLS and the TLS handshake complete, then
//     the server resets the connection (the proxy passes it on as a close);
//   - half-no-stream-header: direct TLS completes, then the server reads
//     the client's stream header and never sends its own;
//   - half-slow-tls: direct TLS whose handshake takes 1 s more (the
//     server's first bytes are held back 1 s), then a working server.
//
// The run is cancelled at that point, so no account is created.
// Candidates are shuffled differently in each iteration (the same
// seeds in every sub-benchmark); Timeout is 2 s and Parallel the default 3.
//
//	go test -run '^$' -bench BenchmarkVerified -benchtime 40x .
//
// Metrics: ms/verified is the mean time to the chosen provider,
// max-ms/verified the slowest iteration, max-conns the most TCP
// connections open at once in any iteration (the bound is 2×Parallel
// verifications, one connection each), chi2 the chi-square of the chosen
// providers against the uniform distribution over the working ones (5 or 2
// degrees of freedom; critical value 20.5 and 13.8 at p = 0.001).
func BenchmarkVerified(b *testing.B) {
	hosts := []string{"ok1.example", "ok2.example", "ok3.example", "ok4.example", "ok5.example", "ok6.example"}
	srv := testserver.StartProsody(b, testserver.ProsodyConfig{Domain: hosts[0], ExtraHosts: hosts[1:], LogLevel: "warn", DirectTLS: true})
	const oneWay = 25 * time.Millisecond
	slow := startProxy(b, srv.Addr, oneWay)
	shapes := []struct {
		name   string
		broken func(b *testing.B, domain string) benchHost // nil: all work
	}{
		{"none-blackholed", nil},
		{"half-blackholed", func(b *testing.B, domain string) benchHost {
			p := &latency.Proxy{Blackhole: true}
			if err := p.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { p.Close() })
			return benchHost{addr: p.Addr()}
		}},
		{"half-refused", func(b *testing.B, domain string) benchHost {
			return benchHost{addr: closedPort(b)}
		}},
		{"half-reset-after-tls", func(b *testing.B, domain string) benchHost {
			fs := fakeserver.Start(b, fakeserver.Config{Domain: domain, Handler: func(st *fakeserver.Stream) error {
				if err := st.Open(fakeserver.FeatureStartTLS); err != nil {
					return err
				}
				if err := st.StartTLS(); err != nil {
					return err
				}
				if tc, ok := st.Conn().(*tls.Conn); ok {
					if c, ok := tc.NetConn().(*net.TCPConn); ok {
						c.SetLinger(0)
					}
				}
				return st.Cut()
			}})
			return benchHost{addr: startProxy(b, fs.Addr, oneWay).Addr(), ca: fs.CA}
		}},
		{"half-no-stream-header", func(b *testing.B, domain string) benchHost {
			fs := fakeserver.Start(b, fakeserver.Config{Domain: domain, DirectTLS: true, Handler: func(st *fakeserver.Stream) error {
				st.Stall(time.Minute)
				return nil
			}})
			return benchHost{addr: startProxy(b, fs.Addr, oneWay).Addr(), ca: fs.CA, direct: true}
		}},
		{"half-slow-tls", func(b *testing.B, domain string) benchHost {
			front := startSlowStart(b, srv.DirectTLSAddr, time.Second)
			return benchHost{addr: startProxy(b, front, oneWay).Addr(), ca: srv.CA.Cert, direct: true}
		}},
	}
	for _, shape := range shapes {
		b.Run(shape.name, func(b *testing.B) {
			net := &benchNet{hosts: map[string]benchHost{}}
			var l providers.List
			working := map[string]bool{}
			for i, h := range hosts {
				if shape.broken != nil && i%2 == 1 {
					net.hosts[h] = shape.broken(b, h)
				} else {
					net.hosts[h] = benchHost{addr: slow.Addr(), ca: srv.CA.Cert}
					working[h] = true
				}
				l.Providers = append(l.Providers, provider(h, "en", "de"))
			}
			var times []time.Duration
			chosen := map[string]int{}
			maxConns := 0
			b.ResetTimer()
			for i := range b.N {
				ctx, cancel := context.WithCancel(context.Background())
				t0 := time.Now()
				var took time.Duration
				net.resetMax()
				s := onboard.Signup{
					Password:  testPass,
					Providers: l,
					Dialer:    net.Dialer(),
					Timeout:   2 * time.Second,
					Rand:      rand.New(rand.NewPCG(uint64(i), 99)),
					Progress: func(e onboard.Event) {
						if e.Stage == onboard.StageChosen {
							took = time.Since(t0)
							chosen[e.Domain]++
							cancel()
						}
					},
				}
				res, err := s.Run(ctx)
				if err == nil {
					res.Close()
					b.Fatal("an account was created")
				}
				cancel()
				if took == 0 {
					b.Fatalf("no provider was verified (run %d): %v", i, err)
				}
				times = append(times, took)
				maxConns = max(maxConns, net.maxOpen())
			}
			b.StopTimer()
			var sum time.Duration
			for _, t := range times {
				sum += t
			}
			exp := float64(len(times)) / float64(len(working))
			chi := 0.0
			for h := range working {
				d := float64(chosen[h]) - exp
				chi += d * d / exp
			}
			for h, n := range chosen {
				if !working[h] && shape.name != "half-slow-tls" {
					b.Errorf("broken %s chosen %d times", h, n)
				}
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(times)), "ms/verified")
			b.ReportMetric(float64(slices.Max(times).Milliseconds()), "max-ms/verified")
			b.ReportMetric(float64(maxConns), "max-conns")
			b.ReportMetric(chi, "chi2")
			b.Logf("%s: %d runs, chosen %v, %s", shape.name, len(times), chosen, fmt.Sprint(times))
		})
	}
}

// benchHost is where a benchmark domain's server is.
type benchHost struct {
	addr   string
	ca     *x509.Certificate // that signed its certificate (nil: none)
	direct bool
}

// benchNet maps domains to servers and counts the TCP connections open at
// once.
type benchNet struct {
	hosts map[string]benchHost // read-only while running

	mu        sync.Mutex
	open, max int
}

// Dialer is the Signup.Dialer of the network: the domains in Addrs and
// DirectTLSAddrs, their CAs trusted, connections counted. The domains are
// all mapped, so nothing is looked up.
func (n *benchNet) Dialer() register.Dialer {
	d := register.Dialer{Addrs: map[string]string{}, DirectTLSAddrs: map[string]string{}, NetDialer: n}
	pool := x509.NewCertPool()
	for domain, h := range n.hosts {
		if h.direct {
			d.DirectTLSAddrs[domain] = h.addr
		} else {
			d.Addrs[domain] = h.addr
		}
		if h.ca != nil {
			pool.AddCert(h.ca)
		}
	}
	d.TLSConfig = &tls.Config{RootCAs: pool}
	return d
}

// DialContext is the counting NetDialer.
func (n *benchNet) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.open++
	n.max = max(n.max, n.open)
	n.mu.Unlock()
	return &countedConn{Conn: c, n: n}, nil
}

func (n *benchNet) resetMax() {
	n.mu.Lock()
	n.max = n.open
	n.mu.Unlock()
}

func (n *benchNet) maxOpen() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.max
}

type countedConn struct {
	net.Conn
	n    *benchNet
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.n.mu.Lock()
		c.n.open--
		c.n.mu.Unlock()
	})
	return c.Conn.Close()
}

func startProxy(b *testing.B, target string, oneWay time.Duration) *latency.Proxy {
	p, err := latency.Start(context.Background(), target, oneWay)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// closedPort returns a loopback address where nothing listens.
func closedPort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startSlowStart starts a forwarder to target that holds back the target's
// first bytes on each connection by delay (for direct TLS: a slow
// handshake).
func startSlowStart(b *testing.B, target string, delay time.Duration) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				t, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer t.Close()
				go func() { io.Copy(t, c); t.Close() }()
				buf := make([]byte, 32<<10)
				n, err := t.Read(buf)
				if err != nil {
					return
				}
				time.Sleep(delay)
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
				io.Copy(c, t)
			}()
		}
	}()
	return ln.Addr().String()
}
