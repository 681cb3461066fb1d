package hardening_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// markupSecret is a password with the characters XML escapes: a server
// that echoes it sends "s3cret&amp;pass&lt;9&gt;".
const markupSecret = "s3cret&pass<9>"

// TestRedactionGaps covers the redaction holes of issue 11 (item 9): the
// Debug XML showed the XML-escaped form of a password with & < >; register
// did not scrub a base64 echo of the PLAIN payload; a register.Request or
// register.Invite printed with %+v showed the password and the token.
func TestRedactionGaps(t *testing.T) {
	t.Run("escaped echo in Debug and errors", func(t *testing.T) {
		srv := fakeserver.Start(t, cfg(script{submit: func(st *fakeserver.Stream, iq *fakeserver.Element) error {
			return st.ReplyError(iq, "cancel", "conflict", "the password "+markupSecret+" is taken")
		}}))
		out := &outputs{}
		bounded(t, deadline, func(ctx context.Context, cl *closers) {
			cl.add(srv.Close)
			client := register.Client{Dialer: dialerFor(srv, false, out), Progress: out.event}
			_, err := client.Register(ctx, fakeDomain, register.Request{Username: user, Password: markupSecret})
			out.errs(err)
		})
		out.mu.Lock()
		saw := strings.Join(out.m["debug in"], "")
		out.mu.Unlock()
		if !strings.Contains(saw, "is taken") {
			t.Fatal("the Debug hook did not see the echo")
		}
		out.checkFor(t, markupSecret)
	})

	t.Run("PLAIN payload echoed in base64", func(t *testing.T) {
		srv := fakeserver.Start(t, cfg(script{
			features: fakeserver.FeatureRegister + fakeserver.Mechanisms("PLAIN"),
			auth: func(st *fakeserver.Stream, auth *fakeserver.Element) error {
				// The server quotes what it received: base64 of
				// "\x00user\x00password".
				return st.Sendf("<failure xmlns='%s'><not-authorized/><text>bad credentials %s</text></failure>",
					fakeserver.NSSASL, strings.TrimSpace(auth.Text))
			},
		}))
		out := &outputs{}
		bounded(t, deadline, func(ctx context.Context, cl *closers) {
			cl.add(srv.Close)
			d := dialerFor(srv, false, out)
			d.AllowPLAIN = true
			client := register.Client{Dialer: d, Progress: out.event}
			_, err := client.Register(ctx, fakeDomain, register.Request{Username: user, Password: markupSecret, Login: true})
			out.errs(err)
		})
		// The echo is there (so the test can fail) but hidden.
		plain := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + markupSecret))
		out.mu.Lock()
		all := fmt.Sprint(out.m)
		out.mu.Unlock()
		if strings.Contains(all, plain) {
			t.Error("the PLAIN payload shows up in the output")
		}
		out.checkFor(t, markupSecret)
	})

	t.Run("formatted values", func(t *testing.T) {
		out := &outputs{}
		req := register.Request{Username: user, Password: markupSecret, Invite: "xmpp:" + fakeDomain + "?register;preauth=" + secret}
		out.add("request", fmt.Sprintf("%v|%+v|%#v|%s|%q", req, req, req, req, req))
		out.add("request", fmt.Sprintf("%v|%+v|%#v|%s", &req, &req, &req, &req))
		inv, err := register.ParseInvite(req.Invite)
		if err != nil {
			t.Fatal(err)
		}
		out.add("invite", fmt.Sprintf("%v|%+v|%#v|%s|%q", inv, inv, inv, inv, inv))
		out.checkFor(t, markupSecret)
		out.checkFor(t, secret)
	})
}
