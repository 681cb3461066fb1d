package latency

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// echoServer echoes every connection until EOF, then closes its write side.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	t.Cleanup(e.close)
	return e
}

func (e *echoServer) addr() string { return e.ln.Addr().String() }

func (e *echoServer) close() {
	e.ln.Close()
	e.wg.Wait()
}

func startProxy(t *testing.T, target string, d time.Duration) *Proxy {
	t.Helper()
	p, err := Start(context.Background(), target, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

// pingPong writes msg and reads the echo.
func pingPong(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo mismatch")
	}
}

func TestDelay(t *testing.T) {
	t.Parallel()
	const d = 40 * time.Millisecond
	e := startEcho(t)
	p := startProxy(t, e.addr(), d)

	t0 := time.Now()
	c := dial(t, p.Addr())
	pingPong(t, c, []byte("ping"))
	first := time.Since(t0)
	// Handshake (2d) plus one round trip (2d).
	if first < 4*d {
		t.Errorf("first exchange took %v, want >= %v", first, 4*d)
	}
	for i := 0; i < 3; i++ {
		t1 := time.Now()
		pingPong(t, c, []byte("again"))
		if rt := time.Since(t1); rt < 2*d {
			t.Errorf("round trip %d took %v, want >= %v", i, rt, 2*d)
		}
	}
	t.Logf("first exchange %v (>= %v)", first, 4*d)

	p.SetDelay(2 * d)
	t2 := time.Now()
	pingPong(t, c, []byte("slower"))
	if rt := time.Since(t2); rt < 4*d {
		t.Errorf("after SetDelay: round trip %v, want >= %v", rt, 4*d)
	}
}

func TestCountsExact(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, 3 * time.Millisecond} {
		e := startEcho(t)
		p := startProxy(t, e.addr(), d)
		const turns = 25
		c := dial(t, p.Addr())
		var total int64
		for i := 0; i < turns; i++ {
			msg := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i*997%70000)
			pingPong(t, c, msg)
			total += int64(len(msg))
		}
		st := p.Stats()
		want := Stats{Connections: 1, ConnectRTTs: 1, BytesUp: total, BytesDown: total, RoundTrips: turns}
		if st != want {
			t.Errorf("delay %v: stats %+v, want %+v", d, st, want)
		}

		// A second connection adds its own turns and handshake.
		c2 := dial(t, p.Addr())
		pingPong(t, c2, []byte("x"))
		pingPong(t, c2, []byte("yz"))
		st = p.Stats()
		want = Stats{Connections: 2, ConnectRTTs: 2, BytesUp: total + 3, BytesDown: total + 3, RoundTrips: turns + 2}
		if st != want {
			t.Errorf("delay %v: stats %+v, want %+v", d, st, want)
		}

		p.Reset()
		if st := p.Stats(); st != (Stats{}) {
			t.Errorf("after Reset: %+v", st)
		}
		pingPong(t, c, []byte("after reset"))
		if st := p.Stats(); st.RoundTrips != 1 || st.BytesUp != 11 || st.BytesDown != 11 || st.Connections != 0 {
			t.Errorf("after Reset and one turn: %+v", st)
		}
	}
}

// TestSeveralWritesOneTurn: writes without data from the target in between
// are one turn. The target answers only after it has the whole request.
func TestSeveralWritesOneTurn(t *testing.T) {
	t.Parallel()
	const parts, part = 5, "part "
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, parts*len(part))
		if _, err := io.ReadFull(c, buf); err == nil {
			c.Write([]byte("ok"))
		}
	}()
	defer func() { ln.Close(); <-done }()
	p := startProxy(t, ln.Addr().String(), 2*time.Millisecond)
	c := dial(t, p.Addr())
	for i := 0; i < parts; i++ {
		if _, err := c.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // separate chunks at the proxy
	}
	if _, err := io.ReadFull(c, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.RoundTrips != 1 || st.BytesUp != int64(parts*len(part)) || st.BytesDown != 2 {
		t.Errorf("stats %+v, want 1 round trip", st)
	}
}

func TestStreamOrderAndHalfClose(t *testing.T) {
	t.Parallel()
	e := startEcho(t)
	p := startProxy(t, e.addr(), 10*time.Millisecond)
	c := dial(t, p.Addr())
	data := make([]byte, 4<<20)
	rand.Read(data)
	t0 := time.Now()
	errc := make(chan error, 1)
	go func() {
		// Many small writes, so many chunks are in flight at once.
		for off := 0; off < len(data); off += 8 << 10 {
			if _, err := c.Write(data[off : off+8<<10]); err != nil {
				errc <- err
				return
			}
		}
		errc <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c) // until the echo server's FIN comes through
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("stream corrupted or reordered: got %d bytes", len(got))
	}
	st := p.Stats()
	if st.BytesUp != int64(len(data)) || st.BytesDown != int64(len(data)) {
		t.Errorf("stats %+v", st)
	}
	t.Logf("4 MiB echoed through a 10ms+10ms proxy in %v (%d KiB chunks)", time.Since(t0), 8)
}

func TestBlackhole(t *testing.T) {
	t.Parallel()
	p := &Proxy{Blackhole: true}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := dial(t, p.Addr())
	if _, err := c.Write([]byte("hello?")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("read from blackhole: %v, want timeout", err)
	}
	if st := p.Stats(); st != (Stats{Connections: 1}) {
		t.Errorf("stats %+v", st)
	}
	p.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after Close")
	}
}

func TestTargetDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startProxy(t, addr, time.Millisecond)
	c := dial(t, p.Addr())
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("read succeeded although the target is down")
	}
	if st := p.Stats(); st.Connections != 1 || st.ConnectRTTs != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	e := startEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, e.addr(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	pingPong(t, c, []byte("hi"))
	cancel()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection survived context cancellation")
	}
	if err := p.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("proxy still accepting after cancellation")
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	if _, err := Start(context.Background(), "", 0); err == nil {
		t.Error("Start without target succeeded")
	}
	if _, err := Start(context.Background(), "127.0.0.1:1", -time.Second); err == nil {
		t.Error("Start with negative delay succeeded")
	}
	p := startProxy(t, "127.0.0.1:1", 0)
	if err := p.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
}

// TestCloseNoGoroutineLeak must not run in parallel with other tests (it
// counts goroutines).
func TestCloseNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		e := startEchoNoCleanup(t)
		defer e.close()
		p, err := Start(context.Background(), e.addr(), 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		bh := &Proxy{Blackhole: true}
		if err := bh.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for i := 0; i < 5; i++ {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			c.SetDeadline(time.Now().Add(10 * time.Second))
		}
		// One finished exchange, one with data in flight, one client that
		// never reads a large echo, and idle ones.
		pingPong(t, conns[0], []byte("done"))
		conns[1].Write([]byte("in flight"))
		conns[2].Write(make([]byte, 8<<20))
		hc, err := net.Dial("tcp", bh.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, hc)
		hc.Write([]byte("void"))
		time.Sleep(60 * time.Millisecond)
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := bh.Close(); err != nil {
			t.Errorf("Close blackhole: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		os.Stderr.Write(buf)
		t.Errorf("goroutines: %d before, %d after Close", before, n)
	}
}

func startEchoNoCleanup(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		var mu sync.Mutex
		var conns []net.Conn
		defer func() {
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return e
}
