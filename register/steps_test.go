package register_test

import (
	"errors"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// TestRegisterAfterRefusal: a registration refused with the <auth/>
// pipelined leaves the stream usable: another name on the same connection
// is registered and logged in (Conn.Register reads the authentication's
// failure instead of dropping the stream). Against each real server.
func TestRegisterAfterRefusal(t *testing.T) {
	for _, srv := range []*testserver.Server{
		testserver.StartProsody(t, testserver.ProsodyConfig{}),
		testserver.StartEjabberd(t, testserver.EjabberdConfig{}),
	} {
		t.Run(srv.Kind, func(t *testing.T) {
			ctx := testCtx(t)
			d := dialerFor(srv, false)
			taken := newUser("taken")
			if _, err := (&register.Client{Dialer: d}).Register(ctx, srv.Domain, register.Request{Username: taken, Password: "first-Passw0rd-x"}); err != nil {
				t.Fatal(err)
			}
			conn, f, err := d.DialForm(ctx, srv.Domain, register.FormOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			f.SetUsername(taken)
			f.SetPassword("second-Passw0rd-y")
			if acct, err := conn.Register(ctx, f, true); acct != nil || !errors.Is(err, register.ErrUsernameTaken) {
				t.Fatalf("Register(taken) = %v, %v; want ErrUsernameTaken", acct, err)
			}
			f, err = conn.Form(ctx)
			if err != nil {
				t.Fatalf("Form after the refusal: %v", err)
			}
			fresh := newUser("fresh")
			f.SetUsername(fresh)
			f.SetPassword("second-Passw0rd-y")
			acct, err := conn.Register(ctx, f, true)
			if err != nil {
				t.Fatalf("Register(%s) on the same stream: %v", fresh, err)
			}
			if acct.Session == nil || acct.JID.Localpart() != fresh {
				t.Fatalf("account %v, session %v", acct, acct.Session)
			}
			acct.Session.Close()
			acct.Session.Conn().Close()
		})
	}
}
