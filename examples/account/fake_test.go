package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/fakeserver"
)

// What real servers of the suite do not answer, from a scripted server: a
// password change the server does not allow (exit 32) and one for which it
// asks for more in a form than the command can fill (exit 33).
func TestRefusals(t *testing.T) {
	const pw, newPW = "fake-Current-Passw0rd", "fake-New-Passw0rd"
	for _, c := range []struct {
		name    string
		reply   func(st *fakeserver.Stream, iq *fakeserver.Element) error
		code    int
		kind    string
		payload string
	}{
		{"not allowed", func(st *fakeserver.Stream, iq *fakeserver.Element) error {
			return st.ReplyError(iq, "cancel", "not-allowed", "Password changes are disabled")
		}, exitNotAllowed, "not allowed", ""},
		{"form", func(st *fakeserver.Stream, iq *fakeserver.Element) error {
			return st.ReplyError(iq, "modify", "not-allowed", "", `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>`+
				`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register:changepassword</value></field>`+
				`<field type='text-single' var='username'><required/></field>`+
				`<field type='text-private' var='old_password'><required/></field>`+
				`<field type='text-private' var='password'><required/></field>`+
				`<field type='text-single' var='otp' label='One-time code'><required/></field></x></query>`)
		}, exitFormRequired, "form required", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := st.Negotiate(fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
					return err
				}
				user, err := st.SASL(func(u string) (string, bool) { return pw, u == "juliet" })
				if err != nil {
					return err
				}
				if err := st.Bind(user); err != nil {
					return err
				}
				for {
					e, err := st.Next()
					if err != nil {
						return err
					}
					if e.Name.Local == "iq" && e.Attr("type") == "set" && e.Find("query", "password") != nil ||
						e.Name.Local == "iq" && e.Find("query", "x") != nil {
						return c.reply(st, e)
					}
					if e.Name.Local == "iq" && (e.Attr("type") == "get" || e.Attr("type") == "set") {
						st.ReplyError(e, "cancel", "service-unavailable", "")
					}
				}
			}})
			in := filepath.Join(t.TempDir(), "stdin")
			os.WriteFile(in, []byte(newPW+"\n"+newPW+"\n"), 0o600)
			f, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			env := map[string]string{cli.PasswordEnv: pw}
			code := runWith(ctx, []string{"-user", "juliet@" + srv.Domain, "-addr", srv.Addr, "-json", "password"},
				func(k string) string { return env[k] }, f, &out, &errb, srv.Roots)
			var r result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("%v: %q", err, out.String())
			}
			if code != c.code || r.Exit != c.code || r.Kind != c.kind || r.OK {
				t.Errorf("exit %d, %+v; want %d %q (stderr %q)", code, r, c.code, c.kind, errb.String())
			}
			if strings.Contains(out.String()+errb.String(), pw) || strings.Contains(out.String()+errb.String(), newPW) {
				t.Error("a password is in the output")
			}
		})
	}
}
