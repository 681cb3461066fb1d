package onboard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
)

// BenchmarkVerified measures the time from Run to a verified open
// provider (StageChosen: connected, TLS, form received) over a 50 ms
// round-trip link, with six candidates of which none or half never answer
// (a blackhole that accepts TCP). The run is cancelled at that point, so
// no account is created. Candidates are shuffled differently in each
// iteration; Timeout is 2 s and Parallel the default 3.
//
//	go test -run '^$' -bench BenchmarkVerified -benchtime 30x .
//
// Metrics: ms/verified is the mean time to the chosen provider,
// max-ms/verified the slowest iteration.
func BenchmarkVerified(b *testing.B) {
	hosts := []string{"ok1.example", "ok2.example", "ok3.example", "ok4.example", "ok5.example", "ok6.example"}
	srv := testserver.StartProsody(b, testserver.ProsodyConfig{Domain: hosts[0], ExtraHosts: hosts[1:], LogLevel: "warn"})
	slow, err := latency.Start(context.Background(), srv.Addr, 25*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { slow.Close() })
	for _, half := range []bool{false, true} {
		name := map[bool]string{false: "none-blackholed", true: "half-blackholed"}[half]
		b.Run(name, func(b *testing.B) {
			net := newNetwork()
			var l providers.List
			for i, h := range hosts {
				if half && i%2 == 1 {
					net.blackhole(b, h)
				} else {
					net.add(h, slow.Addr(), srv.TLSConfig())
				}
				l.Providers = append(l.Providers, provider(h, "en", "de"))
			}
			var times []time.Duration
			b.ResetTimer()
			for i := range b.N {
				ctx, cancel := context.WithCancel(context.Background())
				t0 := time.Now()
				var took time.Duration
				s := onboard.Signup{
					Password:  testPass,
					Providers: l,
					Dial:      net.Dial,
					Timeout:   2 * time.Second,
					Rand:      rand.New(rand.NewPCG(uint64(i), 99)),
					Progress: func(e onboard.Event) {
						if e.Stage == onboard.StageChosen {
							took = time.Since(t0)
							cancel()
						}
					},
				}
				if res, err := s.Run(ctx); err == nil {
					res.Close()
					b.Fatal("an account was created")
				}
				cancel()
				if took == 0 {
					b.Fatal("no provider was verified")
				}
				times = append(times, took)
			}
			b.StopTimer()
			var sum time.Duration
			for _, t := range times {
				sum += t
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(times)), "ms/verified")
			b.ReportMetric(float64(slices.Max(times).Milliseconds()), "max-ms/verified")
			b.Logf("%s: %d runs, %s", name, len(times), fmt.Sprint(times))
		})
	}
}
