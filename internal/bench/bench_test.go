package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
)

// logWriter sends the command's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestQuick runs the command as CI does (go run ./internal/bench -quick:
// one run per case) and checks that it produces the table and that our
// round trips are at most the documented numbers. Wall times are printed,
// never asserted.
func TestQuick(t *testing.T) {
	testserver.RequireProsody(t)
	testserver.RequireEjabberd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep, err := run(ctx, config{Quick: true, Python: "/usr/bin/python3", Out: &out, Log: logWriter{t}})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Logf("report:\n%s", out.String())
	for _, p := range rep.Problems() {
		t.Error(p)
	}
	text := out.String()
	for _, want := range []string{
		"| server | TLS | flow | client | RTTs | limit | wall (median) | min–max | ours/slixmpp |",
		"### Where the round trips go",
		"### Machine",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	clients := []string{clientOurs, clientSignup, clientSequential}
	if rep.slixOK {
		clients = append(clients, clientSlixmpp)
	} else {
		t.Logf("slixmpp left out: %s", rep.Slixmpp)
	}
	type server struct {
		name   string
		modern bool
	}
	var servers []server
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		for _, v := range testserver.Versions(t, kind) {
			servers = append(servers, server{testserver.ServerName(kind, v), sasl2Version(v)})
		}
	}
	for _, sv := range servers {
		server := sv.name
		for _, direct := range []bool{false, true} {
			for _, flow := range []int{0, 1, 2} {
				login := flow > 0
				k := caseKey{Server: server, Direct: direct, Login: login, SASL2: sv.modern, FAST: flow == 2}
				if k.FAST && !sv.modern {
					continue
				}
				for _, client := range clients {
					if k.FAST && (client == clientSignup || client == clientSlixmpp) {
						continue
					}
					rw := rep.find(k, client)
					if rw != nil && rw.Err != nil && client == clientSlixmpp && login {
						// slixmpp 1.8 cannot log in to Prosody 13 and
						// ejabberd 24.12; the table says so.
						t.Logf("%s %s %s %s: %v", server, k.tlsName(), k.flowName(), client, rw.Err)
						continue
					}
					if rw == nil || len(rw.Samples) != 1 {
						t.Errorf("%s %s %s %s: no result", server, k.tlsName(), k.flowName(), client)
						continue
					}
					s := rw.Samples[0]
					t.Logf("%s %s %s %s: %d round trips, %v", server, k.tlsName(), k.flowName(), client, s.RTTs, s.Wall)
					switch client {
					case clientSlixmpp:
						// Not ours to assert; it needs the limit.
						if s.RTTs < limit(k)-1 || s.RTTs > limit(k)+1 {
							t.Logf("slixmpp needed %d round trips; the limit is %d", s.RTTs, limit(k))
						}
					default:
						if want := documented(k, client == clientSequential); s.RTTs > want {
							t.Errorf("%s %s %s %s: %d round trips, documented %d", server, k.tlsName(), k.flowName(), client, s.RTTs, want)
						}
						if client == clientOurs && s.RTTs >= limit(k) {
							t.Errorf("%s %s %s: %d round trips, not below the limit %d", server, k.tlsName(), k.flowName(), s.RTTs, limit(k))
						}
						if !strings.Contains(text, "| "+server+" | "+k.tlsName()+" | "+k.flowName()+" | "+client+" | ") {
							t.Errorf("no table row for %s %s %s %s", server, k.tlsName(), k.flowName(), client)
						}
					}
				}
			}
		}
	}
}

// TestMedian checks the statistics the table is built from.
func TestMedian(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{ms(5), 5 * time.Millisecond},
		{ms(9, 1, 5), 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond},
		{nil, 0},
	} {
		if got := medianDur(tc.in); got != tc.want {
			t.Errorf("medianDur(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	rw := &row{Samples: []sample{{RTTs: 5}, {RTTs: 6}, {RTTs: 5}}}
	if got := rw.rttRange(); got != "5–6" {
		t.Errorf("rttRange = %q", got)
	}
	if limit(caseKey{Direct: true}) != 5 || limit(caseKey{}) != 7 || limit(caseKey{Login: true}) != 11 || limit(caseKey{Direct: true, Login: true}) != 9 {
		t.Errorf("limits differ from the issue's")
	}
	// Issue 13: with SASL2 and Bind2 a registration with login takes 6
	// round trips (STARTTLS) and 5 (direct TLS), a FAST re-login 4 and 3.
	if documented(caseKey{Login: true, SASL2: true}, false) != 6 || documented(caseKey{Direct: true, Login: true, SASL2: true}, false) != 5 ||
		documented(caseKey{Login: true, SASL2: true, FAST: true}, false) != 4 || documented(caseKey{Direct: true, Login: true, SASL2: true, FAST: true}, false) != 3 {
		t.Errorf("documented round trips differ from the issue's")
	}
}
