package hardening_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// signups returns the number of signups of TestLoadProsody: the
// environment variable HARDENING_SIGNUPS, default 200.
func signups(t *testing.T) int {
	s := os.Getenv("HARDENING_SIGNUPS")
	if s == "" {
		return 200
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 {
		t.Fatalf("HARDENING_SIGNUPS=%q: want a number ≥ 10", s)
	}
	return n
}

// attempt is one signup of the load test.
type attempt struct {
	user  string
	login bool
	group int // > 0: one of several attempts racing for the same name

	took time.Duration
	acct *register.Account
	err  error
}

// TestLoadProsody runs many concurrent signups against one local Prosody:
// unique usernames, with and without Login, and about 10% of attempts
// racing in groups of four for the same username. Every account must be
// created exactly once or refused with a typed error (in a race: one
// success, the others ErrUsernameTaken); every created account must log
// in afterwards (Dialer.Confirm) and Prosody must have stored exactly the
// accounts that were reported created; no goroutine and no file
// descriptor may be left behind. The figures are logged for BENCHMARKS.md.
func TestLoadProsody(t *testing.T) {
	n := signups(t)
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{LogLevel: "warn"})

	// The plan: groups of four attempts for one name, ~10% of all.
	const groupSize = 4
	groups := max(1, n/10/groupSize)
	var plan []*attempt
	run := fmt.Sprintf("%x", time.Now().UnixNano()%0xfffffff)
	for g := 1; g <= groups; g++ {
		for k := 0; k < groupSize; k++ {
			plan = append(plan, &attempt{user: fmt.Sprintf("race%s-%d", run, g), group: g, login: k%2 == 0})
		}
	}
	for i := len(plan); i < n; i++ {
		plan = append(plan, &attempt{user: fmt.Sprintf("load%s-%d", run, i), login: i%2 == 0})
	}

	g0 := stableGoroutines()
	fd0 := openFDs(t)
	resetPeakRSS()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	client := register.Client{Dialer: register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, a := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			a.acct, a.err = client.Register(ctx, srv.Domain, register.Request{Username: a.user, Password: "pw-" + a.user + "-Secret1", Login: a.login})
			a.took = time.Since(t0)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	total := time.Since(t0)
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	peakRSS := peakRSSKiB()
	prosodyRSS := processRSSKiB(srv.PID)

	// End the sessions of the attempts that logged in.
	for _, a := range plan {
		if a.acct != nil && a.acct.Session != nil {
			a.acct.Session.Close()
			a.acct.Session.Conn().Close()
		}
	}

	// Outcomes: created, or refused with a typed error.
	created := map[string]int{}
	kinds := map[string]int{}
	for _, a := range plan {
		var e *register.Error
		switch {
		case a.err == nil:
			created[a.user]++
			kinds["created"]++
			if a.acct == nil || a.acct.JID.Localpart() != a.user {
				t.Errorf("%s: account %v", a.user, a.acct)
			}
			if a.login && a.acct.Session == nil {
				t.Errorf("%s: no session although Login was set", a.user)
			}
		case errors.As(a.err, &e):
			kinds[e.Kind.String()]++
		default:
			kinds["untyped"]++
			t.Errorf("%s: untyped error %v", a.user, a.err)
		}
	}
	for _, a := range plan {
		switch {
		case a.group > 0 && a.err != nil && !errors.Is(a.err, register.ErrUsernameTaken):
			t.Errorf("%s (race %d): %v, want success or ErrUsernameTaken", a.user, a.group, a.err)
		case a.group == 0 && a.err != nil:
			t.Errorf("%s: %v", a.user, a.err)
		}
	}
	for g := 1; g <= groups; g++ {
		name := fmt.Sprintf("race%s-%d", run, g)
		if created[name] != 1 {
			t.Errorf("%s created %d times by %d racing attempts, want exactly once", name, created[name], groupSize)
		}
	}

	// Nothing lost: every reported account logs in, every other name does
	// not exist, and Prosody stored exactly the reported accounts.
	confirmAll(t, ctx, srv, plan, created)
	if stored, err := storedAccounts(srv); err != nil {
		t.Logf("cannot count Prosody's account files: %v", err)
	} else if stored != len(created) {
		t.Errorf("Prosody stored %d accounts, %d were reported created", stored, len(created))
	}

	// Nothing left behind.
	if g, ok := waitGoroutines(g0); !ok {
		t.Errorf("goroutines: %d before, %d after\n%s", g0, g, goroutineDump())
	}
	if fd, ok := waitFDs(t, fd0); !ok {
		t.Errorf("file descriptors: %d before, %d after", fd0, fd)
	}

	// Figures.
	var d []time.Duration
	for _, a := range plan {
		d = append(d, a.took)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	var ks []string
	for k, v := range kinds {
		ks = append(ks, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(ks)
	t.Logf("load: %d signups (%d racing in %d groups of %d; half with Login) against Prosody 0.12 on loopback, GOMAXPROCS %d: total %v, per signup p50 %v p95 %v max %v; outcomes %s; test process peak RSS %d MiB (heap allocated %d MiB); Prosody RSS %d MiB",
		n, groups*groupSize, groups, groupSize, runtime.GOMAXPROCS(0), total.Round(time.Millisecond),
		d[len(d)/2].Round(time.Millisecond), d[len(d)*95/100].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond),
		strings.Join(ks, " "), peakRSS>>10, (m1.TotalAlloc-m0.TotalAlloc)>>20, prosodyRSS>>10)
}

// confirmAll checks every name of the plan with Dialer.Confirm, a few at a
// time: the created ones must log in, the others must not exist.
func confirmAll(t *testing.T, ctx context.Context, srv *testserver.Server, plan []*attempt, created map[string]int) {
	t.Helper()
	d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}
	// One check per name, with the password of a successful attempt.
	pass := map[string]string{}
	for _, a := range plan {
		if _, ok := pass[a.user]; !ok || a.err == nil {
			pass[a.user] = "pw-" + a.user + "-Secret1"
		}
	}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for name, pw := range pass {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ok, err := d.Confirm(ctx, srv.Domain, name, pw)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("Confirm(%s): %v", name, err)
			case ok != (created[name] > 0):
				t.Errorf("Confirm(%s) = %v, but the account was reported created %d times", name, ok, created[name])
			}
		}()
	}
	wg.Wait()
}

// storedAccounts counts the accounts in Prosody's storage
// (data/<host>/accounts/*.dat of the internal storage).
func storedAccounts(srv *testserver.Server) (int, error) {
	files, err := filepath.Glob(filepath.Join(srv.Dir, "data", "*", "accounts", "*.dat"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, errors.New("no account files found")
	}
	return len(files), nil
}

func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(es)
}

func waitFDs(t *testing.T, n int) (int, bool) {
	end := time.Now().Add(settle)
	for {
		fd := openFDs(t)
		if fd <= n {
			return fd, true
		}
		if time.Now().After(end) {
			return fd, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// resetPeakRSS resets the kernel's peak RSS of this process (Linux), so
// that VmHWM afterwards is the peak of the load alone.
func resetPeakRSS() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSSKiB returns VmHWM of this process, in KiB.
func peakRSSKiB() int64 { return statusKiB("/proc/self/status", "VmHWM:") }

// processRSSKiB returns VmHWM of process pid, in KiB.
func processRSSKiB(pid int) int64 {
	return statusKiB(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:")
}

func statusKiB(file, key string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}
