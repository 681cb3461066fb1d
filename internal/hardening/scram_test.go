package hardening_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// TestSCRAMSuccessProvesNothing is issue 11's first hole as the reviewer
// saw it: a server that answers <auth/> at once with a <success/> whose
// data looks like a server-first-message made Conn.Login return a session
// and Dialer.Confirm report a wrong password as right; with a huge
// iteration count or a malformed payload the client spun past its
// context. Each call must now fail with a typed error by its deadline.
func TestSCRAMSuccessProvesNothing(t *testing.T) {
	for _, first := range []string{
		"r=%ssrv,s=c2FsdHNhbHRzYWx0,i=4096",
		"r=%ssrv,s=c2FsdHNhbHRzYWx0,i=2147483647",
		"r=%ssrv,s=c2FsdHNhbHRzYWx0,i=4096,x=",
	} {
		srv := fakeserver.Start(t, cfg(script{auth: scramSuccess(first)}))
		d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		start := time.Now()
		ok, err := d.Confirm(ctx, fakeDomain, "juliet", "wrong password")
		if ok || err == nil {
			t.Errorf("%s: Confirm = %v, %v; want false and an error", first, ok, err)
		}
		if !errors.Is(err, register.ErrProtocol) && !errors.Is(err, register.ErrLoginFailed) {
			t.Errorf("%s: Confirm error %v matches neither ErrProtocol nor ErrLoginFailed", first, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: Confirm returned after %v, past its 3 s context", first, d)
		}
		cancel()

		ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
		c, err := d.Dial(ctx, fakeDomain)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Login(ctx, "juliet", "wrong password")
		if s != nil || !errors.Is(err, register.ErrLoginFailed) {
			t.Errorf("%s: Login = %v, %v; want no session and ErrLoginFailed", first, s, err)
		}
		if s != nil {
			s.Close()
		}
		c.Close()
		cancel()
		srv.Close()
	}
}
