package register_test

import (
	"errors"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
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

// TestNoRegistrationWithoutLogin: a server whose SASL mechanisms this
// package cannot use (PLAIN, not allowed by default, and token mechanisms;
// SCRAM-SHA-512, which ejabberd with auth_scram_hash: sha512 offers, is
// supported since issue 13) gets no registration when a login was asked
// for: the name would be taken and the user left with nothing.
func TestNoRegistrationWithoutLogin(t *testing.T) {
	submitted := make(chan bool, 1)
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("PLAIN", "X-OAUTH2", "OAUTHBEARER", "SCRAM-SHA3-512")); err != nil {
			return err
		}
		for {
			e, err := st.Next()
			if err != nil {
				return nil
			}
			if q := e.Child("query"); q != nil && e.Attr("type") == "get" {
				st.Reply(e, "<query xmlns='jabber:iq:register'><username/><password/></query>")
			} else if q != nil && e.Attr("type") == "set" {
				submitted <- true
				st.Reply(e, "")
			}
		}
	}})
	ctx := testCtx(t)
	c := register.Client{Dialer: register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}}
	acct, err := c.Register(ctx, "localhost", register.Request{Username: "juliet", Password: "a-Passw0rd-x", Login: true})
	if acct != nil || !errors.Is(err, register.ErrNoMechanism) || !errors.Is(err, register.ErrLoginFailed) {
		t.Fatalf("Register = %v, %v; want ErrNoMechanism", acct, err)
	}
	select {
	case <-submitted:
		t.Fatal("the registration was submitted")
	default:
	}
}

// TestOneWrongPasswordOneFailure: a wrong password costs one failed
// authentication, also where -PLUS is offered and used (Prosody 13 and
// ejabberd 24.12 advertise tls-exporter): the library used to retry plain
// SCRAM after any refusal of -PLUS, and two typos got a client banned by
// ejabberd's mod_fail2ban (issue 13).
func TestOneWrongPasswordOneFailure(t *testing.T) {
	auths := make(chan string, 8)
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(channelBindings + fakeserver.Mechanisms("SCRAM-SHA-1-PLUS", "SCRAM-SHA-1")); err != nil {
			return err
		}
		for {
			e, err := st.Next()
			if err != nil {
				return nil
			}
			if e.Name.Local == "auth" {
				auths <- e.Attr("mechanism")
				st.Send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>Invalid username or password</text></failure>")
			}
		}
	}})
	d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}
	ok, err := d.Confirm(testCtx(t), "localhost", "juliet", "a-wrong-Passw0rd")
	if ok || err != nil {
		t.Fatalf("Confirm = %v, %v; want false, nil", ok, err)
	}
	srv.Close()
	var mechs []string
	for len(auths) > 0 {
		mechs = append(mechs, <-auths)
	}
	if len(mechs) != 1 || mechs[0] != "SCRAM-SHA-1-PLUS" {
		t.Errorf("authentications sent: %v, want one with SCRAM-SHA-1-PLUS", mechs)
	}
}
