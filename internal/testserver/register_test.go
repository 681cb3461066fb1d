package testserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// TestRegisterEveryVersion proves the harness with the library: on every
// server version it registers an account in-band over STARTTLS with
// register.Client, logs in with it, counts one failed login with
// FailedAuths and, on Prosody, registers with an invitation from
// InviteURI.
func TestRegisterEveryVersion(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			t.Parallel()
			var srv *testserver.Server
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(t, testserver.ProsodyConfig{Version: v})
			} else {
				srv = testserver.StartEjabberd(t, testserver.EjabberdConfig{Version: v})
			}
			t.Logf("%s: version %s, start %v", srv.Name, srv.Version, srv.StartTime.Round(time.Millisecond))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}
			c := register.Client{Dialer: d}
			const user, pass = "alice", "Xq7#mP2$vL9!wR4z"
			acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: pass, Login: true})
			if err != nil {
				t.Fatalf("%s: Register: %v", srv.Name, err)
			}
			if acct.Session == nil || acct.JID.Localpart() != user {
				t.Errorf("%s: account %v, session %v", srv.Name, acct, acct.Session)
			}
			acct.Session.Close()
			acct.Session.Conn().Close()

			// A separate login with the new account.
			conn, err := d.Dial(ctx, srv.Domain)
			if err != nil {
				t.Fatalf("%s: Dial: %v", srv.Name, err)
			}
			s, err := conn.Login(ctx, user, pass)
			if err != nil {
				t.Fatalf("%s: Login: %v", srv.Name, err)
			}
			s.Close()
			s.Conn().Close()

			// One failed login, counted once.
			if n, err := srv.FailedAuths(); err != nil || n != 0 {
				t.Errorf("%s: FailedAuths before = %d, %v", srv.Name, n, err)
			}
			conn, err = d.Dial(ctx, srv.Domain)
			if err != nil {
				t.Fatalf("%s: Dial: %v", srv.Name, err)
			}
			if s, err := conn.Login(ctx, user, "wrong-Passw0rd"); err == nil {
				s.Close()
				t.Errorf("%s: login with a wrong password succeeded", srv.Name)
			}
			conn.Close()
			if n, err := srv.WaitFailedAuths(ctx, 1); err != nil || n != 1 {
				t.Errorf("%s: FailedAuths = %d, %v; want 1", srv.Name, n, err)
			}

			if kind != testserver.KindProsody {
				return
			}
			inv := testserver.StartProsody(t, testserver.ProsodyConfig{Version: v, Registration: testserver.RegistrationInvite})
			uri := inv.InviteURI(t)
			if !strings.HasPrefix(uri, "xmpp:"+inv.Domain+"?register;preauth=") {
				t.Fatalf("%s: InviteURI = %q", inv.Name, uri)
			}
			ic := register.Client{Dialer: register.Dialer{Addr: inv.Addr, TLSConfig: inv.TLSConfig()}}
			if _, err := ic.Register(ctx, inv.Domain, register.Request{Username: "carol", Password: pass}); err == nil {
				t.Errorf("%s: registered without an invitation", inv.Name)
			}
			acct, err = ic.Register(ctx, "", register.Request{Username: "carol", Password: pass, Invite: uri, Login: true})
			if err != nil {
				t.Fatalf("%s: Register with invitation: %v", inv.Name, err)
			}
			acct.Session.Close()
			acct.Session.Conn().Close()
		})
	}
}
