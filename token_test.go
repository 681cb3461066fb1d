package onboard_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// TestResultToken: a sign-up on a server with SASL2 and FAST (Prosody 13,
// ejabberd 24.12) logs in with SASL2 and puts the FAST token in the
// Result, which LoginFAST takes instead of the password; printing the
// Result never shows it. Older servers give none.
func TestResultToken(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			var srv *testserver.Server
			modern := v == testserver.Prosody13 || v == testserver.Ejabberd2412
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(t, testserver.ProsodyConfig{Version: v, SASL2: modern})
			} else {
				srv = testserver.StartEjabberd(t, testserver.EjabberdConfig{Version: v, FAST: modern})
			}
			d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}
			s := onboard.Signup{Domain: srv.Domain, Username: newUser("fast"), Dialer: d}
			ctx := testCtx(t, 30*time.Second)
			res, err := s.Run(ctx)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			closeResult(t, res)
			if (res.Token != nil) != modern {
				t.Fatalf("%s: token %v", srv.Name, res.Token)
			}
			if !modern {
				return
			}
			for _, p := range []string{fmt.Sprint(res), fmt.Sprintf("%#v", res), fmt.Sprintf("%+v", *res), res.Token.String()} {
				if strings.Contains(p, res.Token.Secret) {
					t.Fatalf("token printed: %s", p)
				}
			}
			acct, err := d.LoginFAST(ctx, res.JID, res.Token)
			if err != nil {
				t.Fatalf("LoginFAST: %v", err)
			}
			acct.Session.Close()
			acct.Session.Conn().Close()
		})
	}
}
