package discovery

import (
	"reflect"
	"slices"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/testserver"
)

// TestModernAuth probes every server version without and with an account:
// Prosody 13 (mod_sasl2, _bind2, _fast, _sm) and ejabberd 24.12
// (mod_auth_fast) are reported with SASL2, Bind2, FAST and tls-exporter,
// which they offer only because the prober names an account in the
// stream header after TLS; 0.12 and 23.01 with none of them. The login
// with the account reports whether the server's SCRAM message carried a
// matching XEP-0474 hash.
func TestModernAuth(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			modern := v == testserver.Prosody13 || v == testserver.Ejabberd2412
			var srv *testserver.Server
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(t, testserver.ProsodyConfig{Version: v, SASL2: modern, DirectTLS: true})
			} else {
				srv = testserver.StartEjabberd(t, testserver.EjabberdConfig{Version: v, FAST: modern, DirectTLS: true})
			}
			srv.AddUser(t, "dora", "dora-Passw0rd-1")
			p := serverProber(srv)
			for _, account := range []bool{false, true} {
				if account {
					setAccount(p, "dora", "dora-Passw0rd-1")
				}
				r := mustProbe(t, p, srv.Domain)
				for name, c := range map[string]Connection{"starttls": r.StartTLS, "direct": r.DirectTLS} {
					f := c.Features
					if f == nil {
						t.Fatalf("%s %s: no features (%v)", srv.Name, name, c.Status)
					}
					t.Logf("%s %s account=%v: SASL2 %v, Bind2 %v, FAST %v, SM inline %v, bindings %v",
						srv.Name, name, account, f.SASL2, f.Bind2, f.FAST, f.SMInline(), f.ChannelBindings)
					if got := len(f.SASL2) > 0 && f.Bind2 && len(f.FAST) > 0 && slices.Contains(f.ChannelBindings, "tls-exporter"); got != modern {
						t.Errorf("%s %s: SASL2 %v Bind2 %v FAST %v bindings %v", srv.Name, name, f.SASL2, f.Bind2, f.FAST, f.ChannelBindings)
					}
				}
				if !account {
					continue
				}
				l := r.Login
				if l.Status.State != Observed {
					t.Fatalf("%s login: %+v", srv.Name, l)
				}
				t.Logf("%s login: %s, XEP-0474 hash checked: %v", srv.Name, l.Mechanism, l.DowngradeProtected)
				if v == testserver.Ejabberd2412 && !l.DowngradeProtected {
					t.Errorf("%s: no XEP-0474 hash checked", srv.Name)
				}
			}
		})
	}
}

// setAccount sets p.Account to the credentials, whatever the name of its
// type (Account is being renamed Credentials in a concurrent change).
func setAccount(p *Prober, user, pass string) {
	v := reflect.New(reflect.TypeOf(p.Account).Elem())
	v.Elem().FieldByName("Username").SetString(user)
	v.Elem().FieldByName("Password").SetString(pass)
	reflect.ValueOf(&p.Account).Elem().Set(v)
}
