package register_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// startModern starts the server of kind at version v with SASL2 where the
// version has it (Prosody 13 with prosody-modules, ejabberd 24.12 with
// mod_auth_fast) and a direct TLS port.
func startModern(t *testing.T, kind, v string) *testserver.Server {
	if kind == testserver.KindProsody {
		return testserver.StartProsody(t, testserver.ProsodyConfig{Version: v, SASL2: v == testserver.Prosody13, DirectTLS: true})
	}
	return testserver.StartEjabberd(t, testserver.EjabberdConfig{Version: v, FAST: v == testserver.Ejabberd2412, DirectTLS: true})
}

// modern reports whether the version offers SASL2.
func modern(v string) bool { return v == testserver.Prosody13 || v == testserver.Ejabberd2412 }

// pingServer checks that the session works.
func pingServer(t *testing.T, ctx context.Context, s *xmpp.Session) {
	t.Helper()
	serve(t, s)
	if err := ping.Send(ctx, s, s.RemoteAddr()); err != nil {
		t.Fatalf("ping over the session: %v", err)
	}
}

// TestSASL2 registers with login on every server version: Prosody 13 and
// ejabberd 24.12 log in with SASL2 and Bind2 (no stream restart, no bind
// request) and hand out a FAST token, with which a second login works
// without the password; 0.12 and 23.01 use RFC 6120 SASL and give no
// token. A wrong token is one failed authentication. Neither the password
// nor the token shows in the debug output.
func TestSASL2(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			srv := startModern(t, kind, v)
			for _, direct := range []bool{false, true} {
				t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
					ctx := testCtx(t)
					d := dialerFor(srv, direct)
					user, pass := newUser("sasl2"), "sasl2-Passw0rd-x"
					log := watch(t, &d, pass)
					acct, err := (&register.Client{Dialer: d}).Register(ctx, srv.Domain, register.Request{Username: user, Password: pass, Login: true})
					if err != nil {
						t.Fatal(err)
					}
					pingServer(t, ctx, acct.Session)
					out := log.String()
					usedSASL2 := strings.Contains(out, "<authenticate xmlns='urn:xmpp:sasl:2'")
					bindReq := strings.Contains(out, "urn:ietf:params:xml:ns:xmpp-bind")
					if usedSASL2 != modern(v) || bindReq == modern(v) {
						t.Fatalf("%s: SASL2 %v, RFC 6120 bind %v", srv.Name, usedSASL2, bindReq)
					}
					if acct.Session.LocalAddr().Resourcepart() == "" {
						t.Errorf("no resource: %v", acct.Session.LocalAddr())
					}
					if !modern(v) {
						if acct.Token != nil {
							t.Errorf("token from %s", srv.Name)
						}
						return
					}
					tok := acct.Token
					if tok == nil || tok.Secret == "" || tok.Expiry.Before(time.Now()) || !strings.HasPrefix(tok.Mechanism, "HT-SHA-256-") {
						t.Fatalf("%s: token %v", srv.Name, tok)
					}
					log.secrets = append(log.secrets, tok.Secret)
					for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%#v %+v %v", tok, acct, *acct)} {
						if strings.Contains(s, tok.Secret) {
							t.Fatalf("token printed: %s", s)
						}
					}
					t.Logf("%s: token %v", srv.Name, tok)

					fd := dialerFor(srv, direct)
					flog := watch(t, &fd, pass, tok.Secret)
					again, err := fd.LoginFAST(ctx, acct.JID, tok)
					if err != nil {
						t.Fatalf("LoginFAST: %v\n%s", err, flog)
					}
					pingServer(t, ctx, again.Session)
					if again.Password != "" || !strings.Contains(flog.String(), "<fast xmlns='urn:xmpp:fast:0'") {
						t.Errorf("FAST login: %+v\n%s", again, flog)
					}

					before, _ := srv.FailedAuths()
					bad := *tok
					bad.Secret = tok.Secret + "x"
					_, err = fd.LoginFAST(ctx, acct.JID, &bad)
					var se *register.SASLError
					if !errors.As(err, &se) || se.Condition != register.SASLNotAuthorized || !errors.Is(err, register.ErrLoginFailed) {
						t.Fatalf("wrong token: %v", err)
					}
					if strings.Contains(err.Error(), bad.Secret) {
						t.Fatalf("error quotes the token: %v", err)
					}
					if _, err := srv.WaitFailedAuths(ctx, before+1); err != nil {
						t.Fatal(err)
					}
					if n, _ := srv.FailedAuths(); n != before+1 {
						t.Errorf("a wrong token: %d failed authentications logged, want 1", n-before)
					}
				})
			}
		})
	}
}

// TestSASL2WrongPassword: a wrong password at Dialer.Login (SASL2 where
// offered) is one failed authentication on every server version, and a
// right one gives a bound session.
func TestSASL2WrongPassword(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			srv := startModern(t, kind, v)
			ctx := testCtx(t)
			srv.AddUser(t, "carol", "carol-Passw0rd-1")
			d := dialerFor(srv, false)
			watch(t, &d, "carol-Passw0rd-1", "carol-Passw0rd-2")
			_, err := d.Login(ctx, srv.Domain, "carol", "carol-Passw0rd-2")
			var se *register.SASLError
			if !errors.As(err, &se) || se.Condition != register.SASLNotAuthorized {
				t.Fatalf("wrong password: %v", err)
			}
			if _, err := srv.WaitFailedAuths(ctx, 1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second) // ejabberd logs late
			if n, _ := srv.FailedAuths(); n != 1 {
				t.Errorf("%d failed authentications, want 1", n)
			}
			acct, err := d.Login(ctx, srv.Domain, "carol", "carol-Passw0rd-1")
			if err != nil {
				t.Fatal(err)
			}
			pingServer(t, ctx, acct.Session)
			if (acct.Token != nil) != modern(v) {
				t.Errorf("%s: token %v", srv.Name, acct.Token)
			}
			if _, err := d.LoginFAST(ctx, jid.MustParse("carol@"+srv.Domain), nil); !errors.Is(err, register.ErrTokenUnusable) {
				t.Errorf("LoginFAST(nil) = %v", err)
			}
		})
	}
}

// TestSASL2TakenName: on the SASL2 servers, a registration with login of
// a taken name is refused (ErrUsernameTaken), the SASL2 <authenticate/>
// pipelined with it is settled, and the same stream registers another
// name and logs in (with RFC 6120 SASL: the header named the first one).
func TestSASL2TakenName(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			srv := startModern(t, kind, v)
			ctx := testCtx(t)
			d := dialerFor(srv, false)
			taken := newUser("taken")
			srv.AddUser(t, taken, "other-Passw0rd-1")
			conn, f, err := d.DialForm(ctx, srv.Domain, register.FormOptions{Username: taken})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if len(conn.Features().SASL2) > 0 != modern(v) {
				t.Fatalf("%s: SASL2 offered: %v", srv.Name, conn.Features().SASL2)
			}
			f.SetUsername(taken)
			f.SetPassword("mine-Passw0rd-2")
			if _, err := conn.Register(ctx, f, true); !errors.Is(err, register.ErrUsernameTaken) {
				t.Fatalf("taken name: %v", err)
			}
			other := newUser("other")
			f.SetUsername(other)
			acct, err := conn.Register(ctx, f, true)
			if err != nil {
				t.Fatalf("second name on the same stream: %v", err)
			}
			pingServer(t, ctx, acct.Session)
			if acct.JID.Localpart() != other {
				t.Errorf("JID %v", acct.JID)
			}
		})
	}
}
