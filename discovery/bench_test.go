package discovery

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
)

// oneWay is half the simulated round-trip time of the benchmarks (50 ms).
const oneWay = 25 * time.Millisecond

// benchHosts is the number of virtual hosts of the benchmark server.
const benchHosts = 200

// benchServer starts one Prosody with many virtual hosts behind a 50 ms RTT
// proxy, and a blackholed proxy for dead domains.
func benchServer(b *testing.B) (srv *testserver.Server, live, dead *latency.Proxy) {
	b.Helper()
	var hosts []string
	for i := 0; i < benchHosts; i++ {
		hosts = append(hosts, fmt.Sprintf("vhost%03d.test", i))
	}
	srv = testserver.StartProsody(b, testserver.ProsodyConfig{Domain: "main.test", ExtraHosts: hosts, LogLevel: "error"})
	// Warm up: Prosody sets up each host's TLS context on first use, which
	// takes seconds for the first connection.
	warm := serverProber(srv)
	warm.Concurrency, warm.PerHost = 8, 8
	for range warm.ProbeAll(context.Background(), srv.Hosts) {
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	live, err := latency.Start(ctx, srv.Addr, oneWay)
	if err != nil {
		b.Fatal(err)
	}
	dead = &latency.Proxy{Delay: oneWay, Blackhole: true}
	if err := dead.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { live.Close(); dead.Close() })
	return srv, live, dead
}

// BenchmarkProbe measures one probe through the 50 ms RTT proxy: time per
// probe and the client round trips it costs.
func BenchmarkProbe(b *testing.B) {
	srv, live, _ := benchServer(b)
	p := serverProber(srv)
	p.Addrs[srv.Domain] = live.Addr()
	b.ResetTimer()
	live.Reset()
	for i := 0; i < b.N; i++ {
		r, _ := p.Probe(context.Background(), srv.Domain)
		if r.Registration.Kind != RegistrationOpen {
			b.Fatalf("registration = %v", r.Registration.Status)
		}
	}
	st := live.Stats()
	b.ReportMetric(float64(st.RoundTrips)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(st.ConnectRTTs)/float64(b.N), "connects/op")
	b.ReportMetric(float64(st.BytesUp+st.BytesDown)/float64(b.N), "wirebytes/op")
}

// BenchmarkProbeAll probes every virtual host of the server in one batch
// through the 50 ms RTT proxy, with various limits, and with a share of
// dead domains (blackholed: they accept connections and never answer) that
// cost their full timeout.
func BenchmarkProbeAll(b *testing.B) {
	srv, live, dead := benchServer(b)
	for _, bc := range []struct {
		conc, perHost int
		deadPct       int
	}{
		{conc: 16, perHost: 2},
		{conc: 16, perHost: 16},
		{conc: 64, perHost: 64},
		{conc: 64, perHost: 64, deadPct: 10},
	} {
		name := fmt.Sprintf("conc=%d/perhost=%d/dead=%d%%", bc.conc, bc.perHost, bc.deadPct)
		b.Run(name, func(b *testing.B) {
			p := serverProber(srv)
			p.Concurrency, p.PerHost = bc.conc, bc.perHost
			p.Timeout = 2 * time.Second
			var domains []string
			for _, h := range srv.Hosts {
				p.Addrs[h] = live.Addr()
				domains = append(domains, h)
			}
			nDead := len(domains) * bc.deadPct / 100
			for i := 0; i < nDead; i++ {
				d := fmt.Sprintf("dead%03d.test", i)
				p.Addrs[d] = dead.Addr()
				domains = append(domains, d)
			}
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			var worstLive time.Duration
			// Sample the heap while the batch runs.
			var peak uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}()
			b.ResetTimer()
			t0 := time.Now()
			for i := 0; i < b.N; i++ {
				n, ok := 0, 0
				for r := range p.ProbeAll(context.Background(), domains) {
					n++
					if r.Registration.Kind == RegistrationOpen {
						ok++
						worstLive = max(worstLive, r.Took)
					}
				}
				if n != len(domains) || ok != len(domains)-nDead {
					b.Fatalf("%d reports, %d open, for %d domains (%d dead)", n, ok, len(domains), nDead)
				}
			}
			elapsed := time.Since(t0)
			b.StopTimer()
			close(stop)
			<-sampled
			runtime.ReadMemStats(&ms1)
			total := float64(b.N * len(domains))
			b.ReportMetric(total/elapsed.Seconds(), "domains/s")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/total, "B/domain")
			b.ReportMetric(float64(worstLive.Milliseconds()), "worst-live-ms")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
