package register_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// proxied starts a latency proxy in front of addr.
func proxied(tb testing.TB, addr string, oneWay time.Duration) *latency.Proxy {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p, err := latency.Start(ctx, addr, oneWay)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close(); cancel() })
	return p
}

// rttDelay is the one-way delay of the proxy in round-trip tests: small,
// but large enough that a TLS session ticket cannot arrive between the
// client's Finished and the data it writes right after (which the proxy
// would count as a turn although the client did not wait).
const rttDelay = 5 * time.Millisecond

// roundTrips is the number of round trips the proxy saw: simulated TCP
// handshakes plus client turns.
func roundTrips(st latency.Stats) int64 { return st.ConnectRTTs + st.RoundTrips }

// TestRoundTrips counts the round trips of each step on real servers
// (through internal/latency) and checks the numbers the package documents
// (doc.go # Round trips), with and without pipelining.
func TestRoundTrips(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		t.Run(kind, func(t *testing.T) {
			var srv *testserver.Server
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(t, testserver.ProsodyConfig{DirectTLS: true, LogLevel: "warn"})
			} else {
				srv = testserver.StartEjabberd(t, testserver.EjabberdConfig{DirectTLS: true})
			}
			// A new proxy for each count: a connection closed at the end of
			// the previous one could still be counted after a Reset.
			for _, noPipe := range []bool{false, true} {
				mode := "pipelined"
				if noPipe {
					mode = "sequential"
				}
				t.Run("steps/"+mode, func(t *testing.T) {
					p := proxied(t, srv.Addr, rttDelay)
					d := register.Dialer{Addr: p.Addr(), TLSConfig: srv.TLSConfig(), NoPipelining: noPipe}
					ctx := testCtx(t)
					last := int64(0)
					step := func(name string) int64 {
						n := roundTrips(p.Stats())
						n, last = n-last, n
						t.Logf("%-34s %2d round trips", name, n)
						return n
					}
					conn, err := d.Dial(ctx, srv.Domain)
					if err != nil {
						t.Fatal(err)
					}
					if v := conn.ConnectionState().Version; v != tls.VersionTLS13 {
						t.Fatalf("TLS version %x, the counts are for TLS 1.3", v)
					}
					dial := step("dial (TCP, STARTTLS, TLS 1.3)")
					f, err := conn.Form(ctx)
					if err != nil {
						t.Fatal(err)
					}
					form := step("form")
					user := newUser("rtt")
					f.SetUsername(user)
					f.SetPassword("rtt-Passw0rd-123")
					if err := conn.Submit(ctx, f); err != nil {
						t.Fatal(err)
					}
					submit := step("submit")
					s, err := conn.Login(ctx, user, "rtt-Passw0rd-123")
					if err != nil {
						t.Fatal(err)
					}
					serve(t, s)
					login := step("login (SASL, restart, bind)")
					// TCP 1, stream+<starttls/> 1, TLS 1, stream 1;
					// sequentially <starttls/> is one more. Login: SCRAM 2
					// and stream+bind 1; sequentially the restart is one
					// more. No refused -PLUS attempt on ejabberd.
					wantDial, wantLogin := int64(4), int64(3)
					if noPipe {
						wantDial, wantLogin = 5, 4
					}
					if dial != wantDial || form != 1 || submit != 1 || login != wantLogin {
						t.Errorf("round trips: dial %d form %d submit %d login %d; want %d 1 1 %d", dial, form, submit, login, wantDial, wantLogin)
					}
				})
				for _, direct := range []bool{false, true} {
					for _, withLogin := range []bool{false, true} {
						name := fmt.Sprintf("Register/%s/direct=%v/login=%v", mode, direct, withLogin)
						t.Run(name, func(t *testing.T) {
							addr := srv.Addr
							if direct {
								addr = srv.DirectTLSAddr
							}
							px := proxied(t, addr, rttDelay)
							d := register.Dialer{Addr: px.Addr(), TLSConfig: srv.TLSConfig(), DirectTLS: direct, NoPipelining: noPipe}
							c := register.Client{Dialer: d}
							var registered latency.Stats
							c.Progress = func(e register.Event) {
								if e.Stage == register.StageRegistered {
									registered = px.Stats()
								}
							}
							acct, err := c.Register(testCtx(t), srv.Domain, register.Request{Username: newUser("rttr"), Password: "rtt-Passw0rd-123", Login: withLogin})
							if err != nil {
								t.Fatal(err)
							}
							total := px.Stats()
							if acct.Session != nil {
								serve(t, acct.Session)
							}
							want := registerRTTs(direct, withLogin, noPipe)
							got := roundTrips(registered)
							if withLogin {
								got = roundTrips(total)
							}
							t.Logf("%d round trips (%d to the account), %d connection(s)", got, roundTrips(registered), total.Connections)
							if got != want || total.Connections != 1 {
								t.Errorf("%d round trips on %d connection(s), want %d on 1", got, total.Connections, want)
							}
						})
					}
				}
			}
		})
	}
}

// registerRTTs is the documented number of round trips of Client.Register
// (doc.go # Round trips): to the created account, or with login to the
// bound session.
func registerRTTs(direct, login, noPipe bool) int64 {
	n := int64(5) // TCP, stream+<starttls/>, TLS, stream+form, submit
	switch {
	case direct && noPipe:
		n = 5 // TCP, TLS, stream, form, submit
	case direct:
		n = 4 // TCP, TLS, stream+form, submit
	case noPipe:
		n = 7 // TCP, stream, <starttls/>, TLS, stream, form, submit
	}
	if login {
		if noPipe {
			n += 4 // SCRAM 2, restart, bind
		} else {
			n += 2 // SCRAM 1 (the first message went with the submission), restart+bind
		}
	}
	return n
}

// BenchmarkRegisterLogin registers an account and logs in with it on a
// real Prosody, through internal/latency with the one-way delay from
// $ONBOARD_BENCH_DELAY (default 0, e.g. "25ms"). Sub-benchmarks:
//
//	same-stream: Client.Register with Login (one connection)
//	separate:    Client.Register, then a new connection to log in
//	register-only: Client.Register without Login
//
// Reported: round-trips/op and connections/op besides ns/op.
func BenchmarkRegisterLogin(b *testing.B) {
	delay := time.Duration(0)
	if s := os.Getenv("ONBOARD_BENCH_DELAY"); s != "" {
		var err error
		if delay, err = time.ParseDuration(s); err != nil {
			b.Fatal(err)
		}
	}
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		b.Run(kind, func(b *testing.B) {
			var srv *testserver.Server
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(b, testserver.ProsodyConfig{LogLevel: "warn"})
			} else {
				srv = testserver.StartEjabberd(b, testserver.EjabberdConfig{})
			}
			p := proxied(b, srv.Addr, delay)
			d := register.Dialer{Addr: p.Addr(), TLSConfig: srv.TLSConfig()}
			for _, mode := range []string{"same-stream", "separate", "register-only"} {
				b.Run(mode, func(b *testing.B) {
					c := register.Client{Dialer: d}
					ctx := context.Background()
					p.Reset()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						user := fmt.Sprintf("bench%d%s", userSeq.Add(1), mode[:2])
						acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: "bench-Passw0rd", Login: mode == "same-stream"})
						if err != nil {
							b.Fatal(err)
						}
						if mode == "separate" {
							conn, err := d.Dial(ctx, srv.Domain)
							if err != nil {
								b.Fatal(err)
							}
							acct.Session, err = conn.Login(ctx, user, "bench-Passw0rd")
							if err != nil {
								b.Fatal(err)
							}
						}
						if acct.Session != nil {
							acct.Session.Close()
							acct.Session.Conn().Close()
						}
					}
					b.StopTimer()
					st := p.Stats()
					b.ReportMetric(float64(st.RoundTrips)/float64(b.N), "round-trips/op")
					b.ReportMetric(float64(st.Connections)/float64(b.N), "connections/op")
				})
			}
		})
	}
}
