package hardening_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// Limits every hostile case must stay within.
const (
	// maxPeak bounds the growth of the live heap while a case runs
	// (client and in-process server together), sampled every millisecond.
	maxPeak = 64 << 20
	// maxAlloc bounds the bytes allocated while a case runs
	// (runtime.MemStats.TotalAlloc growth): garbage included, so a client
	// that reads an endless input into memory, even piecewise, exceeds it.
	maxAlloc = 128 << 20
	// maxRetained bounds the heap still in use after the case and a GC.
	maxRetained = 8 << 20
	// hangGrace is how long after its deadline a call may take before the
	// case fails as hung. It is a hang detector, not a timing assertion.
	hangGrace = 5 * time.Second
	// settle is how long the goroutine count may take to come back.
	settle = 5 * time.Second
)

// closers collects what a case started (fake servers, listeners), to be
// closed before the goroutines are counted.
type closers struct {
	mu  sync.Mutex
	fns []func()
}

func (c *closers) add(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, f)
}

func (c *closers) closeAll() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// usage is what one bounded run cost.
type usage struct {
	took      time.Duration
	peak      int64  // largest HeapAlloc growth seen while running
	allocated uint64 // TotalAlloc growth
	retained  int64  // HeapAlloc growth after GC
}

// bounded runs fn under a context with the given deadline and checks the
// properties every hostile case must have besides its typed error: fn
// returns by the deadline (failing as hung only hangGrace after it),
// without a panic; the live heap grows by less than maxPeak while it runs,
// it allocates less than maxAlloc and retains less than maxRetained; and
// no goroutine is left once everything fn registered in cl is closed.
func bounded(t *testing.T, deadline time.Duration, fn func(ctx context.Context, cl *closers)) usage {
	t.Helper()
	runtime.GC()
	g0 := stableGoroutines()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	cl := &closers{}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	t0 := time.Now()
	done := make(chan any, 1)
	stopSampling, peak := sampleHeap(int64(m0.HeapAlloc))
	go func() {
		defer func() { done <- recover() }()
		fn(ctx, cl)
	}()
	var u usage
	select {
	case p := <-done:
		u.took = time.Since(t0)
		if p != nil {
			cancel()
			cl.closeAll()
			// Do not print p: a panic value might hold a secret.
			t.Fatalf("panic of type %T", p)
		}
	case <-time.After(deadline + hangGrace):
		cancel()
		cl.closeAll()
		t.Fatalf("hung: no return %v after the %v deadline\n%s", hangGrace, deadline, goroutineDump())
	}
	cancel()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	u.allocated = m1.TotalAlloc - m0.TotalAlloc
	cl.closeAll()
	stopSampling()
	u.peak = *peak

	if g, ok := waitGoroutines(g0); !ok {
		t.Errorf("goroutines leaked: %d before, %d after\n%s", g0, g, goroutineDump())
	}
	runtime.GC()
	var m2 runtime.MemStats
	runtime.ReadMemStats(&m2)
	u.retained = int64(m2.HeapAlloc) - int64(m0.HeapAlloc)
	if u.peak > maxPeak {
		t.Errorf("heap grew by %d MiB, limit %d MiB", u.peak>>20, maxPeak>>20)
	}
	if u.allocated > maxAlloc {
		t.Errorf("allocated %d MiB, limit %d MiB", u.allocated>>20, maxAlloc>>20)
	}
	if u.retained > maxRetained {
		t.Errorf("retained %d MiB of heap, limit %d MiB", u.retained>>20, maxRetained>>20)
	}
	t.Logf("took %v, heap peak %+.1f MiB, allocated %.1f MiB, retained %+.1f MiB", u.took.Round(time.Millisecond), float64(u.peak)/(1<<20), float64(u.allocated)/(1<<20), float64(u.retained)/(1<<20))
	return u
}

// sampleHeap samples the live heap (without stopping the world) every
// millisecond until stop is called, and records the largest growth over
// base. stop waits for the sampler to end, so its goroutine is gone before
// goroutines are counted.
func sampleHeap(base int64) (stop func(), peak *int64) {
	peak = new(int64)
	quit := make(chan struct{})
	ended := make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(ended)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := int64(s[0].Value.Uint64()) - base; v > *peak {
				*peak = v
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(quit); <-ended }, peak
}

// stableGoroutines returns the goroutine count once it has stopped
// falling (goroutines of an earlier case may still be exiting).
func stableGoroutines() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return n
		}
		n = m
	}
	return n
}

// waitGoroutines polls until at most n goroutines run, for up to settle.
func waitGoroutines(n int) (int, bool) {
	end := time.Now().Add(settle)
	for {
		g := runtime.NumGoroutine()
		if g <= n {
			return g, true
		}
		if time.Now().After(end) {
			return g, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// matcher describes one acceptable error.
type matcher struct {
	name string
	ok   func(error) bool
}

// is matches errors.Is(err, target).
func is(target error) matcher {
	return matcher{name: fmt.Sprintf("errors.Is %v", target), ok: func(err error) bool { return errors.Is(err, target) }}
}

// as matches errors.As(err, new(T)).
func as[T error]() matcher {
	var zero T
	return matcher{name: fmt.Sprintf("errors.As %T", zero), ok: func(err error) bool {
		var target T
		return errors.As(err, &target)
	}}
}

// wantErr fails t unless err matches at least one of any and has the
// package prefix (when prefix is not empty).
func wantErr(t *testing.T, err error, prefix string, any []matcher) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", names(any))
	}
	found := false
	for _, m := range any {
		found = found || m.ok(err)
	}
	if !found {
		t.Errorf("err = %v; want %s", err, names(any))
	}
	if prefix != "" && !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error %q lacks the package prefix %q", err, prefix)
	}
}

func names(ms []matcher) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.name)
	}
	if len(s) == 1 {
		return s[0]
	}
	return "one of (" + strings.Join(s, ", ") + ")"
}

// secretForms returns the ways a secret could show up in output: as is,
// XML-escaped, and base64-encoded at each of the three alignments it can
// have inside a longer base64 payload (SASL PLAIN "\x00user\x00password",
// for example). The base64 forms are the parts of the encoding that do
// not depend on the surrounding bytes.
func secretForms(secret string) []string {
	forms := []string{secret}
	var esc strings.Builder
	if err := xmlEscape(&esc, secret); err == nil && esc.String() != secret {
		forms = append(forms, esc.String())
	}
	esc.Reset()
	if err := xml.EscapeText(&esc, []byte(secret)); err == nil && esc.String() != secret {
		forms = append(forms, esc.String()) // &#39; and &#34; for quotes
	}
	for pad := 0; pad < 3; pad++ {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			b := enc.EncodeToString(append(make([]byte, pad), secret...))
			// Drop the characters that mix padding bytes with the secret
			// at the start, and the last (partial) group at the end.
			start := (pad*8 + 5) / 6
			end := ((pad + len(secret)) / 3) * 4
			if end-start >= 8 {
				forms = append(forms, b[start:end])
			}
		}
	}
	return forms
}

func xmlEscape(w io.Writer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;")
	_, err := io.WriteString(w, r.Replace(s))
	return err
}

// leaks returns the forms of secret found in s.
func leaks(s, secret string) []string {
	var found []string
	for _, f := range secretForms(secret) {
		if strings.Contains(s, f) {
			found = append(found, f)
		}
	}
	return found
}

// noLeak fails t if any form of secret appears in s. It never prints the
// secret, only where it was found.
func noLeak(t *testing.T, where, s, secret string) {
	t.Helper()
	if p := leakAt(where, s, secret); p != "" {
		t.Error(p)
	}
}

// leakAt describes where secret shows up in s, with an excerpt in which
// every form of the secret is masked, or returns "".
func leakAt(where, s, secret string) string {
	found := leaks(s, secret)
	if len(found) == 0 {
		return ""
	}
	i := strings.Index(s, found[0])
	lo, hi := max(0, i-60), min(len(s), i+len(found[0])+60)
	excerpt := s[lo:hi]
	for _, f := range found {
		excerpt = strings.ReplaceAll(excerpt, f, "«PASSWORD»")
	}
	return fmt.Sprintf("%s contains the password (%d forms): …%s…", where, len(found), excerpt)
}

// errorOutputs returns every way an application might print err: the
// formatting verbs on the error and on every error in its chain.
func errorOutputs(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	seen := map[error]bool{}
	var walk func(e error, depth int)
	walk = func(e error, depth int) {
		if e == nil || depth > 16 {
			return
		}
		if comparableErr(e) {
			if seen[e] {
				return
			}
			seen[e] = true
		}
		out = append(out, e.Error(), fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e), fmt.Sprintf("%s", e), fmt.Sprintf("%q", e))
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, k := range u.Unwrap() {
				walk(k, depth+1)
			}
		}
	}
	walk(err, 0)
	return out
}

func comparableErr(e error) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = map[error]bool{e: true}
	return true
}

// loopbackDialer dials only 127.0.0.1 and counts the connections it made.
type loopbackDialer struct {
	route func(addr string) string // optional: rewrite the address
	mu    sync.Mutex
	dials []string
}

func (d *loopbackDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	to := addr
	if d.route != nil {
		to = d.route(addr)
	}
	d.mu.Lock()
	d.dials = append(d.dials, addr)
	d.mu.Unlock()
	host, _, err := net.SplitHostPort(to)
	if err != nil || host != "127.0.0.1" {
		return nil, fmt.Errorf("test dialer: refusing to dial %q (loopback only)", addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, to)
}
