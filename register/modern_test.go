package register_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// start starts the server of kind at version v.
func start(t *testing.T, kind, v string, ej testserver.EjabberdConfig) *testserver.Server {
	if kind == testserver.KindProsody {
		return testserver.StartProsody(t, testserver.ProsodyConfig{Version: v})
	}
	ej.Version = v
	return testserver.StartEjabberd(t, ej)
}

// TestWrongPasswordOnce: one wrong password is one failed authentication
// in the server's log, on every server version (Prosody 13 and ejabberd
// 24.12 offer SCRAM-SHA-1-PLUS with tls-exporter, on which the library
// used to retry plain SCRAM after any refusal: two failures per typo).
func TestWrongPasswordOnce(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			srv := start(t, kind, v, testserver.EjabberdConfig{})
			ctx := testCtx(t)
			d := dialerFor(srv, false)
			user := newUser("typo")
			if _, err := (&register.Client{Dialer: d}).Register(ctx, srv.Domain, register.Request{Username: user, Password: "right-Passw0rd-1"}); err != nil {
				t.Fatal(err)
			}
			ok, err := d.Confirm(ctx, srv.Domain, user, "wrong-Passw0rd-2")
			if ok || err != nil {
				t.Fatalf("Confirm(wrong password) = %v, %v; want false, nil", ok, err)
			}
			if _, err := srv.WaitFailedAuths(ctx, 1); err != nil {
				t.Fatal(err)
			}
			// ejabberd writes its log a few seconds late: give a second
			// failure the time to show.
			time.Sleep(3 * time.Second)
			if n, err := srv.FailedAuths(); err != nil || n != 1 {
				t.Errorf("%d failed authentications logged (%v), want 1", n, err)
			}
		})
	}
}

// TestSHA512Only: an ejabberd 24.12 with auth_scram_hash sha512 offers
// PLAIN, SCRAM-SHA-512(-PLUS) and X-OAUTH2: the registration with login
// logs in with SCRAM-SHA-512-PLUS (tls-exporter), and a login with a
// wrong password is refused.
func TestSHA512Only(t *testing.T) {
	testserver.RequireVersion(t, testserver.KindEjabberd, testserver.Ejabberd2412)
	srv := start(t, testserver.KindEjabberd, testserver.Ejabberd2412, testserver.EjabberdConfig{ScramHash: "sha512"})
	ctx := testCtx(t)
	var mech string
	d := dialerFor(srv, false)
	c := register.Client{Dialer: d, Progress: func(e register.Event) {
		if e.Stage == register.StageLoggedIn {
			mech = e.Mechanism
		}
	}}
	user := newUser("sha")
	acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: "a-Passw0rd-x", Login: true})
	if err != nil {
		t.Fatalf("Register with Login: %v", err)
	}
	acct.Session.Close()
	acct.Session.Conn().Close()
	if mech != "SCRAM-SHA-512-PLUS" {
		t.Errorf("logged in with %q, want SCRAM-SHA-512-PLUS", mech)
	}
	if ok, err := d.Confirm(ctx, srv.Domain, user, "a-Passw0rd-y"); ok || err != nil {
		t.Errorf("Confirm(wrong password) = %v, %v", ok, err)
	}
	if ok, err := d.Confirm(ctx, srv.Domain, user, "a-Passw0rd-x"); !ok || err != nil {
		t.Errorf("Confirm = %v, %v", ok, err)
	}
}

// TestBanIsTyped: ejabberd's mod_fail2ban ends the streams of a blocked
// address with policy-violation; the error is ErrRateLimited and keeps the
// server's text.
func TestBanIsTyped(t *testing.T) {
	testserver.ForEach(t, testserver.KindEjabberd, func(t *testing.T, v string) {
		srv := start(t, testserver.KindEjabberd, v, testserver.EjabberdConfig{MaxAuthFailures: 2})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		d := dialerFor(srv, false)
		var err error
		for i := 0; i < 4 && err == nil; i++ {
			_, err = d.Confirm(ctx, srv.Domain, "nobody", "wrong-Passw0rd-2")
		}
		if !errors.Is(err, register.ErrRateLimited) {
			t.Fatalf("after failed logins: %v, want ErrRateLimited", err)
		}
		t.Logf("banned: %v", err)
	})
}
