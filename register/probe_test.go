package register_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// probeLegacyForm is the form a server that refuses the form request would have
// sent: a probe can still be submitted with it (Force).
const probeLegacyForm = `<query xmlns='jabber:iq:register'><username/><password/></query>`

// probeCase is one server configuration and what the probe must say.
type probeCase struct {
	name    string
	prosody testserver.ProsodyConfig
	ej      testserver.EjabberdConfig
	want    register.Openness
	open    bool // a real registration is taken (checked after the probe)
}

// TestProbeOpen submits the empty-password probe to every server version,
// open and closed, checks what it says, that no account was created (the
// server's own list of accounts) and, where registration is open, that a
// real registration on the same stream still works (ejabberd's
// registration_timeout was not started by the probe: it is set to 600 s
// here, and the real registration comes right after).
func TestProbeOpen(t *testing.T) {
	cases := map[string][]probeCase{
		testserver.KindProsody: {
			{name: "open", want: register.OpennessUnknown, open: true},
			{name: "invite", prosody: testserver.ProsodyConfig{Registration: testserver.RegistrationInvite}, want: register.OpennessUnknown},
			{name: "closed", prosody: testserver.ProsodyConfig{Registration: testserver.RegistrationClosed}, want: register.OpennessClosed},
			{name: "throttled", prosody: testserver.ProsodyConfig{ThrottleMax: 1, ThrottlePeriod: 600}, want: register.OpennessUnknown, open: true},
		},
		testserver.KindEjabberd: {
			{name: "open", ej: testserver.EjabberdConfig{RegistrationTimeout: 600}, want: register.OpennessOpen, open: true},
			{name: "deny", ej: testserver.EjabberdConfig{Registration: testserver.RegistrationDeny}, want: register.OpennessClosed},
			{name: "none", ej: testserver.EjabberdConfig{Registration: testserver.RegistrationNone}, want: register.OpennessClosed},
			{name: "strength", ej: testserver.EjabberdConfig{PasswordStrength: 32}, want: register.OpennessOpen},
		},
	}
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			for _, pc := range cases[kind] {
				t.Run(pc.name, func(t *testing.T) {
					var srv *testserver.Server
					if kind == testserver.KindProsody {
						pc.prosody.Version = v
						srv = testserver.StartProsody(t, pc.prosody)
					} else {
						pc.ej.Version = v
						srv = testserver.StartEjabberd(t, pc.ej)
					}
					probeOne(t, srv, pc)
				})
			}
		})
	}
}

func probeOne(t *testing.T, srv *testserver.Server, pc probeCase) {
	ctx := testCtx(t)
	d := dialerFor(srv, false)
	watch(t, &d, "probe-secret-Passw0rd")
	before := srv.Users(t)
	conn, f, err := d.DialForm(ctx, srv.Domain, register.FormOptions{Force: true})
	if err != nil {
		// Prosody closed refuses the form request: probe with the form it
		// would have sent, on a new stream.
		if !errors.Is(err, register.ErrRegistrationClosed) {
			t.Fatalf("DialForm: %v", err)
		}
		t.Logf("form request refused: %v", err)
		if f, err = register.ParseForm([]byte(probeLegacyForm)); err != nil {
			t.Fatal(err)
		}
		if conn, err = d.Dial(ctx, srv.Domain); err != nil {
			t.Fatalf("Dial: %v", err)
		}
	}
	defer conn.Close()
	// What the user typed is never sent.
	f.SetUsername("juliet")
	f.SetPassword("probe-secret-Passw0rd")
	keep := f.String()

	res, err := conn.ProbeOpen(ctx, f)
	if err != nil {
		t.Fatalf("ProbeOpen: %v (%+v)", err, res)
	}
	t.Logf("%s %s: advertised %v; probe %s: %s (kind %s, stanza %v)", srv.Name, pc.name,
		conn.Features().Register, res.Openness, res.Reason, res.Kind, res.Stanza)
	if res.Openness != pc.want || !res.Sent || res.Created {
		t.Errorf("probe = %+v, want %s", res, pc.want)
	}
	if !strings.HasPrefix(res.Username, register.ProbeUsernamePrefix) || res.Username == "juliet" {
		t.Errorf("probe username %q", res.Username)
	}
	if f.String() != keep {
		t.Errorf("ProbeOpen changed the form: %s, was %s", f, keep)
	}
	if after := srv.Users(t); !slices.Equal(before, after) {
		t.Fatalf("the probe created an account: users %v, were %v", after, before)
	}
	if slices.Contains(srv.Users(t), res.Username) {
		t.Fatalf("the probe's account %s exists", res.Username)
	}
	if !pc.open {
		return
	}
	// A real registration right after, on the same stream (a fresh form).
	f2, err := conn.Form(ctx)
	if err != nil {
		t.Fatalf("Form after the probe: %v", err)
	}
	user := newUser("after-probe")
	f2.SetUsername(user)
	f2.SetPassword("after-Probe-Passw0rd")
	if err := conn.Submit(ctx, f2); err != nil {
		t.Fatalf("registration after the probe: %v", err)
	}
	if !slices.Contains(srv.Users(t), user) {
		t.Errorf("%s not among the users %v", user, srv.Users(t))
	}
}

// TestProbeSkipped: forms a probe must not be sent with are not, and the
// reason says why.
func TestProbeSkipped(t *testing.T) {
	for name, q := range map[string]string{
		"captcha": `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>
			<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>
			<field var='username'><required/></field><field var='password' type='text-private'><required/></field>
			<field var='ocr' label='Enter the text'><required/></field></x></query>`,
		"web":         `<query xmlns='jabber:iq:register'><instructions>Go to https://example.org/register</instructions></query>`,
		"no password": `<query xmlns='jabber:iq:register'><username/><email/></query>`,
	} {
		f, err := register.ParseForm([]byte(q))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := register.ProbeRequest(f); !errors.Is(err, register.ErrProbeSkipped) {
			t.Errorf("%s: ProbeRequest error %v, want ErrProbeSkipped", name, err)
		}
	}
}

// TestProbeRequest: the submission carries the random username and an empty
// password, nothing the user typed, and the hidden fields as the server
// sent them.
func TestProbeRequest(t *testing.T) {
	f, err := register.ParseForm([]byte(`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>
		<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>
		<field var='username'><required/></field><field var='password' type='text-private'><required/></field>
		<field var='email'/></x></query>`))
	if err != nil {
		t.Fatal(err)
	}
	f.SetUsername("juliet")
	f.SetPassword("typed-Passw0rd")
	f.Set("email", "juliet@example.org")
	q, user, err := register.ProbeRequest(f)
	if err != nil {
		t.Fatal(err)
	}
	s := string(q)
	for _, bad := range []string{"juliet", "typed-Passw0rd"} {
		if strings.Contains(s, bad) {
			t.Errorf("probe submission carries %q: %s", bad, s)
		}
	}
	for _, want := range []string{user, "jabber:iq:register</value>", `type="submit"`} {
		if !strings.Contains(strings.ReplaceAll(s, "'", `"`), want) {
			t.Errorf("probe submission lacks %q: %s", want, s)
		}
	}
	if _, _, err := register.ProbeRequest(f); err != nil || f.Username() != "juliet" {
		t.Errorf("the form was changed: %q, %v", f.Username(), err)
	}
}

// TestProbeAnswer: the measured answers (see TestProbeOpen) and a success.
func TestProbeAnswer(t *testing.T) {
	for _, c := range []struct {
		se   stanza.Error
		want register.Openness
	}{
		{stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable, Text: map[string]string{"": "The password contains unacceptable characters"}}, register.OpennessOpen},
		{stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable, Text: map[string]string{"": "The password is too weak"}}, register.OpennessOpen},
		{stanza.Error{Type: stanza.Auth, Condition: stanza.Forbidden, Text: map[string]string{"": "Access denied by service policy"}}, register.OpennessClosed},
		{stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}, register.OpennessClosed},
		{stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable, Text: map[string]string{"": "Password: Required value missing"}}, register.OpennessUnknown},
		{stanza.Error{Type: stanza.Modify, Condition: stanza.NotAcceptable}, register.OpennessUnknown},
		{stanza.Error{Type: stanza.Wait, Condition: stanza.ResourceConstraint, Text: map[string]string{"": "Users are not allowed to register accounts so quickly"}}, register.OpennessUnknown},
		{stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}, register.OpennessUnknown},
	} {
		se := c.se
		r, err := register.ProbeAnswer("probe-x", &se)
		if err != nil || r.Openness != c.want || r.Created {
			t.Errorf("%v: %+v, %v; want %s", c.se, r, err, c.want)
		}
	}
	r, err := register.ProbeAnswer("probe-x", nil)
	if !errors.Is(err, register.ErrProbeCreated) || !r.Created || !strings.Contains(err.Error(), "probe-x") {
		t.Errorf("success: %+v, %v", r, err)
	}
}

// Tell a server that serves the registration form but refuses every
// registration (ejabberd with access: register denying everyone) from an
// open one, where the user asked for a live check. Nothing is created.
func ExampleConn_ProbeOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := register.Dialer{}
	conn, form, err := d.DialForm(ctx, "example.org", register.FormOptions{})
	if err != nil {
		log.Fatal(err) // closed (errors.Is ErrRegistrationClosed), not advertised, …
	}
	defer conn.Close()
	res, err := conn.ProbeOpen(ctx, form)
	if errors.Is(err, register.ErrProbeCreated) {
		log.Fatalf("the server created %s with an empty password: never probe it again", res.Username)
	}
	if err != nil {
		log.Fatal(err)
	}
	switch res.Openness {
	case register.OpennessClosed:
		fmt.Println("closed:", res.Reason)
	case register.OpennessOpen:
		fmt.Println("open")
	default:
		fmt.Println("cannot tell without registering:", res.Reason)
	}
}

// TestProbeCreated: a server that accepts the empty password (none of the
// suite does) makes ProbeOpen say so: Created, the name, ErrProbeCreated.
// The submission carried the random name and an empty password only.
func TestProbeCreated(t *testing.T) {
	got := make(chan string, 1)
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		get, err := st.Expect("get", "query")
		if err != nil {
			return err
		}
		st.Reply(get, `<query xmlns='jabber:iq:register'><username/><password/></query>`)
		set, err := st.Expect("set", "query")
		if err != nil {
			return err
		}
		u, _ := set.Field("username")
		p, ok := set.Field("password")
		if !ok || p != "" {
			u = "bad password field"
		}
		got <- u
		return st.Reply(set, "")
	}})
	ctx := testCtx(t)
	d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}
	conn, f, err := d.DialForm(ctx, srv.Domain, register.FormOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f.SetPassword("typed-Passw0rd")
	res, err := conn.ProbeOpen(ctx, f)
	if !errors.Is(err, register.ErrProbeCreated) || !res.Created || res.Openness != register.OpennessOpen || !strings.Contains(err.Error(), res.Username) {
		t.Fatalf("ProbeOpen = %+v, %v", res, err)
	}
	if u := <-got; u != res.Username {
		t.Errorf("server got username %q, result says %q", u, res.Username)
	}
}
