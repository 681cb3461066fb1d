package register

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestSocketPending checks the look at the socket that lets Submit skip
// waiting for a stream end that is not there.
func TestSocketPending(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	pending, ok := socketPending(client)
	if !ok {
		switch runtime.GOOS {
		case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
			t.Fatalf("socketPending cannot tell on %s", runtime.GOOS)
		}
		t.Skipf("socketPending cannot tell on %s", runtime.GOOS)
	}
	if pending {
		t.Fatal("pending before anything was sent")
	}
	// waitPending polls until the data has crossed loopback.
	waitPending := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if p, ok := socketPending(client); ok && p {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("not pending after %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	server.Write([]byte("<x/>"))
	waitPending("data")
	buf := make([]byte, 16)
	if n, err := client.Read(buf); err != nil || n != 4 {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if pending, _ := socketPending(client); pending {
		t.Fatal("pending after the data was read")
	}
	server.Close()
	waitPending("the peer closed")

	if _, ok := socketPending(pipeConn(t)); ok {
		t.Error("socketPending claims to know about a net.Pipe")
	}
}

func pipeConn(t *testing.T) net.Conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a
}
