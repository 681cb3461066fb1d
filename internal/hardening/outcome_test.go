package hardening_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// cutProxy is a TCP proxy in front of a real server that cuts the
// connection around the registration request. It cannot read the TLS
// stream, so the client tells it, through the Dialer's Debug hook, that
// the registration request is the next thing it writes; the proxy then
// reads that TLS record, forwards it (mode "after") or drops it ("before"),
// and closes both connections.
type cutProxy struct {
	ln     net.Listener
	target string
	mode   string // "after" or "before"

	mu       sync.Mutex
	armed    bool
	cut      bool
	conns    []net.Conn
	wg       sync.WaitGroup
	fwdBytes int // bytes of the registration request forwarded
}

func startCutProxy(t *testing.T, target, mode string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, mode: mode}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

// submitOut matches the Debug output of the registration request.
var submitOut = regexp.MustCompile(`^<iq[^>]*type=['"]set['"][^>]*>\s*<query xmlns=['"]jabber:iq:register['"]`)

// debug is the Dialer's Debug hook: it arms the proxy just before the
// registration request is written.
func (p *cutProxy) debug(dir string, xml []byte) {
	if dir == "out" && submitOut.Match(xml) {
		p.mu.Lock()
		p.armed = true
		p.mu.Unlock()
	}
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		var d net.Dialer
		s, err := d.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(c, s)
			c.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.upstream(c, s)
			c.Close()
			s.Close()
		}()
	}
}

// upstream copies client data to the server until the proxy is armed;
// the next TLS record is the registration request.
func (p *cutProxy) upstream(c, s net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.mu.Lock()
			armed := p.armed
			p.mu.Unlock()
			if armed {
				p.cutAround(c, s, buf[:n])
				return
			}
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cutAround completes the TLS record that begins with first, forwards it
// or not, and ends both connections.
func (p *cutProxy) cutAround(c, s net.Conn, first []byte) {
	rec := append([]byte(nil), first...)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(rec) < 5 || len(rec) < 5+int(binary.BigEndian.Uint16(rec[3:5])) {
		more := make([]byte, 4096)
		n, err := c.Read(more)
		rec = append(rec, more[:n]...)
		if err != nil {
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The client's side is closed first, so that no answer of the server
	// (a fast one comes back within microseconds on loopback) reaches
	// the client through the other direction's copy.
	c.Close()
	if p.mode == "after" {
		if n, err := s.Write(rec); err == nil {
			p.fwdBytes = n
		}
	}
	p.cut = true
	// Closing the server side right after the write still delivers the
	// data: TCP sends it before the FIN.
	s.Close()
}

func (p *cutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestOutcomeUnknownReal registers on every real server version (Prosody
// 0.12 and 13, ejabberd 23.01 and 24.12) through a proxy that cuts the
// connection right after the registration request has been forwarded (the
// account is created, the answer never arrives) or right before (the
// request never arrives). Both must end in ErrOutcomeUnknown holding the
// credentials, and Dialer.Confirm must tell the two apart.
func TestOutcomeUnknownReal(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			var srv *testserver.Server
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(t, testserver.ProsodyConfig{Version: v, LogLevel: "info"})
			} else {
				srv = testserver.StartEjabberd(t, testserver.EjabberdConfig{Version: v})
			}
			outcomeUnknown(t, srv)
		})
	}
}

func outcomeUnknown(t *testing.T, srv *testserver.Server) {
	for _, tc := range []struct {
		mode    string
		login   bool
		created bool
	}{
		{mode: "after", created: true},
		{mode: "before", created: false},
		{mode: "after", login: true, created: true},
	} {
		name := fmt.Sprintf("cut %s the submission/login=%v", tc.mode, tc.login)
		t.Run(name, func(t *testing.T) {
			proxy := startCutProxy(t, srv.Addr, tc.mode)
			username := fmt.Sprintf("cut-%s-%v-%d", tc.mode, tc.login, time.Now().UnixNano()%1e9)
			out := &outputs{}
			var err error
			bounded(t, 30*time.Second, func(ctx context.Context, cl *closers) {
				cl.add(proxy.close)
				d := register.Dialer{Addr: proxy.addr(), TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}
				d.Debug = func(dir string, xml []byte) {
					out.debug(dir, xml)
					proxy.debug(dir, xml)
				}
				c := register.Client{Dialer: d, Progress: out.event}
				_, err = c.Register(ctx, srv.Domain, register.Request{Username: username, Password: secret, Login: tc.login})
			})
			proxy.mu.Lock()
			cut, fwd := proxy.cut, proxy.fwdBytes
			proxy.mu.Unlock()
			if !cut {
				t.Fatalf("the proxy never saw the registration request; err = %v", err)
			}
			if tc.mode == "after" && fwd == 0 {
				t.Fatal("the registration request was not forwarded")
			}
			var e *register.Error
			if !errors.As(err, &e) || !errors.Is(err, register.ErrOutcomeUnknown) {
				t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
			}
			if e.Username != username || e.Password != secret {
				t.Fatalf("the error holds %q and a password of %d bytes, want the submitted credentials", e.Username, len(e.Password))
			}
			out.errs(err)
			out.add("error value", fmt.Sprintf("%v|%+v|%#v|%s", *e, *e, *e, *e))
			out.check(t)

			// Confirm logs in directly (not through the proxy).
			d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, cerr := d.Confirm(ctx, srv.Domain, e.Username, e.Password)
			for i := 0; cerr == nil && got != tc.created && tc.created && i < 5; i++ {
				// Prosody may still be writing the account when the
				// confirmation's login arrives: ask again, briefly.
				time.Sleep(100 * time.Millisecond)
				got, cerr = d.Confirm(ctx, srv.Domain, e.Username, e.Password)
			}
			if cerr != nil {
				t.Fatalf("Confirm: %v", cerr)
			}
			if got != tc.created {
				t.Fatalf("Confirm = %v, want %v", got, tc.created)
			}
			if tc.created {
				// The account is usable, and registering it again is
				// refused as taken: nothing was lost or doubled.
				c := register.Client{Dialer: d}
				_, err := c.Register(ctx, srv.Domain, register.Request{Username: username, Password: "other-" + secret})
				if !errors.Is(err, register.ErrUsernameTaken) {
					t.Errorf("registering %s again: %v, want ErrUsernameTaken", username, err)
				}
			}
		})
	}
}
