package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// TestCheckRegistration probes every server version, open and closed, with
// Prober.CheckRegistration: ejabberd that serves the form but denies every
// registration is closed, an open ejabberd stays open (checked), Prosody
// cannot be told (Check.Result unknown, the kind as without the check), no
// account is created, and without the option nothing is submitted. The
// other queries of the probe still work after the check (ejabberd's
// software version needs an account: the stream error comes after).
func TestCheckRegistration(t *testing.T) {
	type want struct {
		kind   RegistrationKind
		result register.Openness
		check  bool // a check is reported
	}
	cases := map[string][]struct {
		name    string
		prosody testserver.ProsodyConfig
		ej      testserver.EjabberdConfig
		want    want
	}{
		testserver.KindProsody: {
			{name: "open", want: want{RegistrationOpen, register.OpennessUnknown, true}},
			{name: "invite", prosody: testserver.ProsodyConfig{Registration: testserver.RegistrationInvite}, want: want{RegistrationInvite, 0, false}},
			{name: "closed", prosody: testserver.ProsodyConfig{Registration: testserver.RegistrationClosed}, want: want{RegistrationClosed, 0, false}},
		},
		testserver.KindEjabberd: {
			{name: "open", want: want{RegistrationOpen, register.OpennessOpen, true}},
			{name: "deny", ej: testserver.EjabberdConfig{Registration: testserver.RegistrationDeny}, want: want{RegistrationClosed, register.OpennessClosed, true}},
			{name: "none", ej: testserver.EjabberdConfig{Registration: testserver.RegistrationNone}, want: want{RegistrationClosed, 0, false}},
			{name: "captcha", ej: testserver.EjabberdConfig{Captcha: true}, want: want{RegistrationOpen, register.OpennessUnknown, true}},
		},
	}
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			for _, c := range cases[kind] {
				t.Run(c.name, func(t *testing.T) {
					var srv *testserver.Server
					if kind == testserver.KindProsody {
						c.prosody.Version = v
						srv = testserver.StartProsody(t, c.prosody)
					} else {
						c.ej.Version = v
						srv = testserver.StartEjabberd(t, c.ej)
					}
					before := srv.Users(t)
					p := serverProber(srv)
					p.Skip |= PartDirectTLS | PartSRV
					plain := mustProbe(t, p, srv.Domain)
					p.CheckRegistration = true
					r := mustProbe(t, p, srv.Domain)
					reg := r.Registration
					b, _ := json.Marshal(reg)
					t.Logf("%s %s: %s", srv.Name, c.name, b)
					if plain.Registration.Check != nil {
						t.Errorf("without CheckRegistration: check %+v", plain.Registration.Check)
					}
					if reg.Kind != c.want.kind {
						t.Errorf("kind %s, want %s (without the check: %s)", reg.Kind, c.want.kind, plain.Registration.Kind)
					}
					if (reg.Check != nil) != c.want.check {
						t.Fatalf("check %+v, want one: %v", reg.Check, c.want.check)
					}
					if reg.Check != nil {
						if reg.Check.Result != c.want.result || reg.Check.Created {
							t.Errorf("check %+v, want %s", reg.Check, c.want.result)
						}
						if c.name == "captcha" {
							if reg.Check.Username != "" || reg.Check.Status.Observed() {
								t.Errorf("a CAPTCHA form was submitted: %+v", reg.Check)
							}
						} else if !strings.HasPrefix(reg.Check.Username, register.ProbeUsernamePrefix) || !reg.Check.Status.Observed() {
							t.Errorf("check %+v", reg.Check)
						}
					}
					if r.ServerInfo.Status.State != plain.ServerInfo.Status.State || r.Software.Status.State != plain.Software.Status.State {
						t.Errorf("the check changed the other parts: server info %v (was %v), software %v (was %v)",
							r.ServerInfo.Status, plain.ServerInfo.Status, r.Software.Status, plain.Software.Status)
					}
					if after := srv.Users(t); !slices.Equal(before, after) {
						t.Errorf("accounts %v after the check, were %v", after, before)
					}
					// The check survives a JSON round trip.
					var back Registration
					if err := json.Unmarshal(mustJSON(t, reg), &back); err != nil {
						t.Fatal(err)
					}
					if (back.Check == nil) != (reg.Check == nil) ||
						reg.Check != nil && (back.Check.Result != reg.Check.Result || back.Check.Status.Reason != reg.Check.Status.Reason) {
						t.Errorf("JSON round trip: %+v, was %+v", back.Check, reg.Check)
					}
				})
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A live check of registration, for a user who asked whether a server
// really takes new accounts: one submission with an empty password, which
// creates nothing, tells a closed ejabberd from an open one.
func ExampleProber_checkRegistration() {
	p := &Prober{CheckRegistration: true}
	r, err := p.Probe(context.Background(), "example.org")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("registration:", r.Registration.Kind)
	if c := r.Registration.Check; c != nil {
		fmt.Println("live check:", c.Result, c.Status.Reason)
	}
}

// TestCheckCreated: a server that accepts the empty password (none of the
// suite does) is reported: Check.Created, the name, ErrProbeCreated.
func TestCheckCreated(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		for {
			e, err := st.Next()
			if err != nil {
				return err
			}
			switch q := e.Child("query"); {
			case e.Name.Local != "iq":
			case q != nil && q.Name.Space == "jabber:iq:register" && e.Attr("type") == "get":
				st.Reply(e, `<query xmlns='jabber:iq:register'><username/><password/></query>`)
			case q != nil && q.Name.Space == "jabber:iq:register" && e.Attr("type") == "set":
				st.Reply(e, "")
			default:
				st.ReplyError(e, "cancel", "service-unavailable", "")
			}
		}
	}})
	p := &Prober{TLSConfig: srv.TLSConfig(), Addrs: map[string]string{srv.Domain: srv.Addr},
		Skip: PartHTTP | PartDirectTLS | PartSRV, CheckRegistration: true}
	r := mustProbe(t, p, srv.Domain)
	c := r.Registration.Check
	if c == nil || !c.Created || !errors.Is(c.Status.Err, register.ErrProbeCreated) ||
		!strings.Contains(r.Registration.Status.Reason, c.Username) || c.Username == "" {
		t.Fatalf("check %+v, registration %+v", c, r.Registration.Status)
	}
}
