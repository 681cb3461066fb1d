package netguard

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// listen returns a loopback listener that counts the connections it
// accepts.
func listen(t *testing.T) (net.Listener, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return ln, &n
}

func TestPublicOnlyDialerRefusesLoopback(t *testing.T) {
	ln, accepted := listen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var hooked bool
	own := &net.Dialer{Control: func(string, string, syscall.RawConn) error { hooked = true; return nil }}
	for name, d := range map[string]ContextDialer{
		"nil":            PublicOnly.Dialer(nil),
		"net.Dialer":     PublicOnly.Dialer(&net.Dialer{}),
		"own Control":    PublicOnly.Dialer(own),
		"other dialer":   PublicOnly.Dialer(plainDialer{}),
		"unknown policy": Policy(9).Dialer(nil),
	} {
		for _, addr := range []string{ln.Addr().String(), "[::ffff:127.0.0.1]:1", "localhost:1", "[::1]:1"} {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				c.Close()
				t.Errorf("%s: %s: connected", name, addr)
				continue
			}
			if !errors.Is(err, ErrForbiddenDestination) {
				t.Errorf("%s: %s: %v, want ErrForbiddenDestination", name, addr, err)
			}
		}
	}
	if hooked {
		t.Error("the dialer's own Control ran for a refused address")
	}
	for _, p := range []Policy{Default, AllowAll} {
		c, err := p.Dialer(nil).DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		c.Close()
	}
	// The refused dials never reached the listener; the two allowed ones
	// did (counted once accepted).
	deadline := time.Now().Add(5 * time.Second)
	for accepted.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("listener accepted %d connections, want 2", n)
	}
}

func TestPublicOnlyControlChecksResolvedAddress(t *testing.T) {
	// Control sees the address after name resolution: whatever name led
	// there, these are refused.
	for _, a := range []string{"127.0.0.1:5222", "10.0.0.5:80", "[fe80::1%eth0]:443", "[::ffff:169.254.169.254]:80", "100.64.1.1:5222", "garbage"} {
		if err := PublicOnly.control("tcp4", a, nil); !errors.Is(err, ErrForbiddenDestination) {
			t.Errorf("control(%s) = %v", a, err)
		}
	}
	if err := PublicOnly.control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("control(8.8.8.8) = %v", err)
	}
}

func TestPolicyCheck(t *testing.T) {
	for _, a := range []string{"127.0.0.1:1", "localhost", "a.localhost:5222", "[::1]:5222", "", "192.168.0.1", "127.1:80"} {
		if err := PublicOnly.Check(a); !errors.Is(err, ErrForbiddenDestination) {
			t.Errorf("PublicOnly.Check(%q) = %v", a, err)
		}
		if err := AllowAll.Check(a); err != nil {
			t.Errorf("AllowAll.Check(%q) = %v", a, err)
		}
	}
	for _, a := range []string{"xmpp.example.org:5222", "8.8.8.8:443", "[2a01:4f8::1]:5223", "example.org"} {
		if err := PublicOnly.Check(a); err != nil {
			t.Errorf("PublicOnly.Check(%q) = %v", a, err)
		}
	}
	if Default.Or(PublicOnly) != PublicOnly || AllowAll.Or(PublicOnly) != AllowAll || PublicOnly.String() != "public only" {
		t.Error("Or/String")
	}
}

type plainDialer struct{}

func (plainDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
