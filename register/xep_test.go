package register_test

// Test vectors from the examples of XEP-0077 (In-Band Registration),
// XEP-0158 (CAPTCHA Forms), XEP-0086 (legacy error codes), XEP-0004 (Data
// Forms), XEP-0221 (Media Element), XEP-0445 and XEP-0401 (invitations),
// written from the facts of those examples (conditions, types, codes,
// fields), replayed against register through a scripted server.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// png1 is a tiny inline Bits of Binary payload ("PNG" bytes, base64).
const png1 = "iVBORw0KGgo="

// script is a scripted registration server: it advertises features
// (default: registration and SCRAM-SHA-1), answers the form request with
// form, and each submission with reply (nil: success). Everything the
// client sent is kept.
type script struct {
	features string
	form     string
	// reply answers the n-th submission (from 0); nil or "" is success.
	reply func(n int, e *fakeserver.Element) string
	// preauth answers a <preauth/> (default: success).
	preauth func(e *fakeserver.Element) string

	mu       sync.Mutex
	received []*fakeserver.Element
}

func (sc *script) start(t *testing.T) *fakeserver.Server {
	t.Helper()
	return fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		feats := sc.features
		if feats == "" {
			feats = fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")
		}
		if err := st.Negotiate(feats); err != nil {
			return err
		}
		n := 0
		for {
			e, err := st.Next()
			if err != nil {
				return nil
			}
			sc.mu.Lock()
			sc.received = append(sc.received, e)
			sc.mu.Unlock()
			id := e.Attr("id")
			switch {
			case e.Name.Local != "iq":
			case e.Child("preauth") != nil:
				r := ""
				if sc.preauth != nil {
					r = sc.preauth(e)
				}
				if r == "" {
					st.Reply(e, "")
				} else {
					st.Sendf("<iq type='error' id='%s'>%s</iq>", id, r)
				}
			case e.Attr("type") == "get" && e.Child("query") != nil:
				st.Reply(e, sc.form)
			case e.Attr("type") == "get" && e.Child("data") != nil:
				st.Reply(e, fmt.Sprintf("<data xmlns='urn:xmpp:bob' cid='%s' type='image/png'>%s</data>", e.Child("data").Attr("cid"), png1))
			case e.Attr("type") == "set":
				r := ""
				if sc.reply != nil {
					r = sc.reply(n, e)
				}
				n++
				if r == "" {
					st.Reply(e, "")
				} else {
					st.Sendf("<iq type='error' id='%s'>%s</iq>", id, r)
				}
			}
		}
	}})
}

// submissions returns the IQ sets with a registration query.
func (sc *script) submissions() []*fakeserver.Element {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var out []*fakeserver.Element
	for _, e := range sc.received {
		if e.Attr("type") == "set" && e.Child("query") != nil {
			out = append(out, e)
		}
	}
	return out
}

func (sc *script) sent(local string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, e := range sc.received {
		if e.Child(local) != nil {
			return true
		}
	}
	return false
}

func xepClient(srv *fakeserver.Server) register.Client {
	return register.Client{Dialer: fakeDialer(srv, nil)}
}

func xepCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// xepCaptchaForm is the registration form of XEP-0158 §4 with one OCR
// challenge (inline image) and the extra fields given.
func xepCaptchaForm(extra string) string {
	return `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field type='hidden' var='challenge'><value>F3A6292C</value></field>` +
		`<field type='hidden' var='sid'><value>reg1</value></field>` +
		`<field var='ocr' label='Enter the text you see'><media xmlns='urn:xmpp:media-element' height='80' width='290'>` +
		`<uri type='image/png'>cid:sha1+ocr@bob.xmpp.org</uri></media></field>` + extra +
		`<field type='text-single' var='username'><required/></field>` +
		`<field type='text-private' var='password'><required/></field>` +
		`</x><data xmlns='urn:xmpp:bob' cid='sha1+ocr@bob.xmpp.org' type='image/png'>` + png1 + `</data></query>`
}

func answerOCR(ctx context.Context, f *register.Form) error {
	if f.Captcha == nil {
		return errors.New("no CAPTCHA")
	}
	return f.Set(f.Captcha.Field, "7nHL3")
}

// Item 1: XEP-0158 §3.1.3 — a wrong answer (cancel/not-acceptable, Example
// 7) and an unknown, used or expired challenge (service-unavailable,
// Example 5) are a failed CAPTCHA, not "unknown" and not "registration
// closed".
func TestXEP0158Refusals(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		captcha     bool
		want        register.Kind
	}{
		{"wrong answer", `<error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`, true, register.KindCaptchaFailed},
		{"challenge not found", `<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`, true, register.KindCaptchaFailed},
		// Without a CAPTCHA in the submission service-unavailable is
		// still a closed server (XEP-0077 §3.1).
		{"no captcha, service unavailable", `<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`, false, register.KindRegistrationClosed},
		// XEP-0158 Example 3's modify/not-acceptable is the sender's
		// refusal; from a server it is XEP-0077's missing information.
		{"modify not-acceptable", `<error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`, true, register.KindFormIncomplete},
		// XEP-0077 §3.1.1: too many registrations from one entity.
		{"too many", `<error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Too many registrations</text></error>`, false, register.KindRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := legacyForm
			if tc.captcha {
				form = xepCaptchaForm("")
			}
			sc := &script{form: form, reply: func(int, *fakeserver.Element) string { return tc.reply }}
			c := xepClient(sc.start(t))
			_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass, Solve: answerOCR})
			e := wantKind(t, err, tc.want)
			if e.Stanza == nil || e.Stanza.Type != stanza.Cancel && e.Stanza.Type != stanza.Modify {
				t.Errorf("stanza error %+v", e.Stanza)
			}
			if len(sc.submissions()) != 1 {
				t.Errorf("%d submissions", len(sc.submissions()))
			}
		})
	}
}

// Item 2: XEP-0077 §3.1 Example 7 — modify/not-acceptable with no text
// means that required information was not provided.
func TestXEP0077MissingInformation(t *testing.T) {
	sc := &script{form: `<query xmlns='jabber:iq:register'><instructions>Choose a username and password for use with this service. Please also provide your email address.</instructions><username/><password/><email/></query>`,
		reply: func(_ int, e *fakeserver.Element) string {
			return `<query xmlns='jabber:iq:register'><username>bill</username><password>Calliope</password></query>` +
				`<error code='406' type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`
		}}
	c := xepClient(sc.start(t))
	_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: "Calliope",
		Solve: func(ctx context.Context, f *register.Form) error { return f.Set("email", "bard@shakespeare.lit") }})
	e := wantKind(t, err, register.KindFormIncomplete)
	if e.Stanza == nil || e.Stanza.Condition != stanza.NotAcceptable {
		t.Errorf("stanza %+v", e.Stanza)
	}
}

// Item 3: errors of old servers with only a code (XEP-0086 §3; XEP-0077
// asks clients to understand both styles) are classified like the
// conditions the codes stand for.
func TestLegacyErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		code string
		cond stanza.Condition
		typ  stanza.ErrorType
		want register.Kind
	}{
		{"409", stanza.Conflict, stanza.Cancel, register.KindUsernameTaken},
		{"406", stanza.NotAcceptable, stanza.Modify, register.KindFormIncomplete},
		{"503", stanza.ServiceUnavailable, stanza.Cancel, register.KindRegistrationClosed},
		{"405", stanza.NotAllowed, stanza.Cancel, register.KindRegistrationClosed},
		{"403", stanza.Forbidden, stanza.Auth, register.KindRegistrationClosed},
		{"401", stanza.NotAuthorized, stanza.Auth, register.KindRegistrationClosed},
		{"407", stanza.RegistrationRequired, stanza.Auth, register.KindRegistrationClosed},
		{"501", stanza.FeatureNotImplemented, stanza.Cancel, register.KindRegistrationClosed},
		{"302", stanza.Redirect, stanza.Modify, register.KindWebOnly},
		{"500", stanza.InternalServerError, stanza.Wait, register.KindUnknown},
		{"400", stanza.BadRequest, stanza.Modify, register.KindUnknown},
	} {
		t.Run(tc.code, func(t *testing.T) {
			sc := &script{form: legacyForm, reply: func(int, *fakeserver.Element) string {
				return `<error code='` + tc.code + `'>Old server says no</error>`
			}}
			c := xepClient(sc.start(t))
			_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass})
			var e *register.Error
			if !errors.As(err, &e) || e.Kind != tc.want || e.Stanza == nil {
				t.Fatalf("err = %v, want kind %v", err, tc.want)
			}
			if e.Stanza.Condition != tc.cond || e.Stanza.Type != tc.typ || !strings.Contains(err.Error(), "Old server says no") {
				t.Errorf("stanza %+v (%v)", e.Stanza, err)
			}
			if !errors.Is(err, stanza.Error{Condition: tc.cond}) {
				t.Errorf("does not match the condition %s", tc.cond)
			}
		})
	}
	// The code of a modern error with a condition does not override it.
	sc := &script{form: legacyForm, reply: func(int, *fakeserver.Element) string {
		return `<error code='409' type='modify'><jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`
	}}
	c := xepClient(sc.start(t))
	_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass})
	wantKind(t, err, register.KindInvalidUsername)
	// The form request too (XEP-0077 §3.1: a host without IBR answers
	// service-unavailable, code 503).
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		e, err := st.Next()
		if err != nil {
			return err
		}
		return st.Sendf("<iq type='error' id='%s'><error code='503'/></iq>", e.Attr("id"))
	}})
	cl := xepClient(srv)
	_, err = cl.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass})
	wantKind(t, err, register.KindRegistrationClosed)
}

// Item 4: several challenges (XEP-0158 §3.2 Example 8 in a registration
// form; §4 Example 11 with answers=3): every challenge is modelled, the
// required one comes first, and the form is incomplete until as many are
// answered as it asks for.
func TestXEP0158MultipleChallenges(t *testing.T) {
	multi := `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field type='hidden' var='challenge'><value>73DE28A2</value></field>` +
		`<field type='hidden' var='sid'><value>spam2</value></field>` +
		`<field type='hidden' var='answers'><value>2</value></field>` +
		`<field var='ocr' label='Enter the text you see'><media xmlns='urn:xmpp:media-element' height='80' width='290'>` +
		`<uri type='image/jpeg'>https://www.victim.example/challenges/ocr.jpeg?F3A6292C</uri>` +
		`<uri type='image/png'>cid:sha1+ocr@bob.xmpp.org</uri></media></field>` +
		`<field var='audio_recog' label='Describe the sound you hear'><media xmlns='urn:xmpp:media-element'>` +
		`<uri type='audio/x-wav'>https://www.victim.example/challenges/audio.wav?F3A6292C</uri></media></field>` +
		`<field label='Type the color of a stop light' type='text-single' var='qa'><required/></field>` +
		`<field label='e03d7' type='text-single' var='SHA-256'/>` +
		`<field type='text-single' var='username'><required/></field>` +
		`<field type='text-private' var='password'><required/></field>` +
		`</x><data xmlns='urn:xmpp:bob' cid='sha1+ocr@bob.xmpp.org' type='image/png'>` + png1 + `</data></query>`
	f, err := register.ParseForm([]byte(multi))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Captchas) != 4 || f.Captcha == nil || f.Captcha.Type != "qa" || !f.Captcha.Required || f.Captcha.Label != "Type the color of a stop light" {
		t.Fatalf("captchas %+v, first %+v", f.Captchas, f.Captcha)
	}
	types := []string{}
	for _, c := range f.Captchas {
		types = append(types, c.Type)
		if c.Answers != 2 || c.Challenge != "73DE28A2" {
			t.Errorf("%s: answers %d, challenge %q", c.Type, c.Answers, c.Challenge)
		}
	}
	if strings.Join(types, " ") != "ocr audio_recog qa SHA-256" {
		t.Errorf("types %v", types)
	}
	ocr := f.Captchas[0]
	if len(ocr.Image) == 0 || ocr.Width != 290 || ocr.Height != 80 || len(ocr.URLs) != 1 {
		t.Errorf("ocr %+v", ocr)
	}
	if f.Captchas[1].URLs[0] != "https://www.victim.example/challenges/audio.wav?F3A6292C" {
		t.Errorf("audio %+v", f.Captchas[1])
	}
	f.SetUsername("bill")
	f.SetPassword(testPass)
	if c := f.NextCaptcha(); c == nil || c.Type != "qa" {
		t.Fatalf("first to answer: %+v", c)
	}
	f.Set("qa", "red")
	// One more: an image or a link is offered before hashcash.
	if c := f.NextCaptcha(); c == nil || c.Type != "ocr" {
		t.Fatalf("second to answer: %+v", c)
	}
	if m := missingVars(f); m != "ocr audio_recog SHA-256" {
		t.Errorf("missing %q after one answer of two", m)
	}
	f.Set("SHA-256", "innocent@victim.example2450F06C173B05E3")
	if c := f.NextCaptcha(); c != nil || len(f.Missing()) != 0 {
		t.Errorf("still to answer %+v, missing %v", c, f.Missing())
	}

	// Through a server: answering only the challenge shown leaves the form
	// incomplete; nothing is submitted (Example 11: answers=3 and two
	// challenges: both).
	sc := &script{form: xepCaptchaForm(`<field type='hidden' var='answers'><value>3</value></field><field label='93C7A' type='text-single' var='SHA-256'/>`)}
	c := xepClient(sc.start(t))
	_, err = c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass, Solve: answerOCR})
	e := wantKind(t, err, register.KindFormIncomplete)
	if strings.Join(e.Fields, " ") != "SHA-256" || len(sc.submissions()) != 0 {
		t.Fatalf("fields %v, %d submissions", e.Fields, len(sc.submissions()))
	}
	_, err = c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass,
		Solve: func(ctx context.Context, f *register.Form) error {
			for c := f.NextCaptcha(); c != nil; c = f.NextCaptcha() {
				if err := f.Set(c.Field, "answer-"+c.Type); err != nil {
					return err
				}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	sub := sc.submissions()
	if len(sub) != 1 {
		t.Fatalf("%d submissions", len(sub))
	}
	for _, v := range []string{"ocr", "SHA-256", "answers", "challenge"} {
		if _, ok := sub[0].Field(v); !ok {
			t.Errorf("field %s not submitted: %s", v, sub[0].Raw)
		}
	}
}

func missingVars(f *register.Form) string {
	var out []string
	for _, fl := range f.Missing() {
		out = append(out, fl.Var)
	}
	return strings.Join(out, " ")
}

// Item 5: a data form of a FORM_TYPE this package does not know, next to
// legacy fields, takes precedence (XEP-0077 §7): its required fields are
// asked for and the data form alone is submitted.
func TestDataFormPrecedence(t *testing.T) {
	form := `<query xmlns='jabber:iq:register'><instructions>Use the enclosed form to register.</instructions><username/><password/>` +
		`<x xmlns='jabber:x:data' type='form'><field type='hidden' var='FORM_TYPE'><value>urn:example:service:register</value></field>` +
		`<field type='text-single' var='username'><required/></field><field type='text-private' var='password'><required/></field>` +
		`<field type='text-single' label='Public key' var='pubkey'><required/></field></x></query>`
	sc := &script{form: form}
	c := xepClient(sc.start(t))
	_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass})
	e := wantKind(t, err, register.KindFormIncomplete)
	if strings.Join(e.Fields, " ") != "pubkey" || e.Form == nil || !e.Form.IsDataForm {
		t.Fatalf("fields %v, form %v", e.Fields, e.Form)
	}
	_, err = c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass,
		Solve: func(ctx context.Context, f *register.Form) error { return f.Set("pubkey", "ssh-ed25519 AAAA") }})
	if err != nil {
		t.Fatal(err)
	}
	sub := sc.submissions()
	if len(sub) != 1 {
		t.Fatalf("%d submissions", len(sub))
	}
	q := sub[0].Child("query")
	if q.Child("x") == nil || q.Child("username") != nil || q.Child("password") != nil {
		t.Errorf("submission %s: want the data form only", sub[0].Raw)
	}
	if v, _ := sub[0].Field("pubkey"); v != "ssh-ed25519 AAAA" {
		t.Errorf("pubkey %q", v)
	}
}

// Item 6: the invitation token goes only to a server that advertises
// invitations (XEP-0445 urn:xmpp:ibr-token:0, XEP-0401 urn:xmpp:invite);
// elsewhere, and where the server does not know the preauth request after
// all (service-unavailable), plain registration is tried.
func TestInviteOnlyWhereAdvertised(t *testing.T) {
	invite := "xmpp:localhost?register;preauth=T0KEN-abc"
	for _, tc := range []struct {
		name, features string
		preauth        string
		wantSent       bool
		want           register.Kind // KindUnknown: success
	}{
		{"not advertised", fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1"), "", false, register.KindUnknown},
		{"XEP-0445", fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1"), "", true, register.KindUnknown},
		{"XEP-0401", fakeserver.FeatureRegister + `<register xmlns='urn:xmpp:invite'/>` + fakeserver.Mechanisms("SCRAM-SHA-1"), "", true, register.KindUnknown},
		{"advertised, service-unavailable", fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1"),
			`<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`, true, register.KindUnknown},
		{"advertised, refused", fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1"),
			`<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`, true, register.KindInviteInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &script{features: tc.features, form: legacyForm, preauth: func(*fakeserver.Element) string { return tc.preauth }}
			c := xepClient(sc.start(t))
			_, err := c.Register(xepCtx(t), "", register.Request{Username: "bill", Password: testPass, Invite: invite})
			if tc.want == register.KindUnknown && err != nil {
				t.Fatalf("Register: %v", err)
			}
			if tc.want != register.KindUnknown {
				wantKind(t, err, tc.want)
			}
			if sc.sent("preauth") != tc.wantSent {
				t.Errorf("token sent: %v, want %v", sc.sent("preauth"), tc.wantSent)
			}
		})
	}
}

// Item 7: RFC 5122 URIs are percent-encoded; "+" is a plus sign.
func TestParseInvitePlus(t *testing.T) {
	inv, err := register.ParseInvite("xmpp:example.org?register;preauth=a+b%2Bc")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Token != "a+b+c" {
		t.Fatalf("token %q", inv.Token)
	}
}

// Item 8: <registered/> (XEP-0077 §3.1 Example 3) is not a form to fill: a
// submission would change the registration on file.
func TestAlreadyRegistered(t *testing.T) {
	sc := &script{form: `<query xmlns='jabber:iq:register'><registered/><username>juliet</username><password>R0m30</password><email>juliet@capulet.example</email></query>`}
	c := xepClient(sc.start(t))
	_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass,
		Solve: func(ctx context.Context, f *register.Form) error { return f.Set("email", "bill@example.org") }})
	e := wantKind(t, err, register.KindAlreadyRegistered)
	if e.Form == nil || !e.Form.Registered || len(sc.submissions()) != 0 {
		t.Fatalf("form %v, %d submissions", e.Form, len(sc.submissions()))
	}
}

// Item 8: a removal with the home server carries no to address (XEP-0077
// §3.2); a password change is addressed to the domain (§3.3).
func TestRemoveWithoutTo(t *testing.T) {
	const pass = "old-Passw0rd-1"
	got := make(chan *fakeserver.Element, 2)
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		user, err := st.SASL(func(string) (string, bool) { return pass, true })
		if err != nil {
			return err
		}
		if err := st.Bind(user); err != nil {
			return err
		}
		for i := 0; i < 2; i++ {
			e, err := st.Next()
			if err != nil {
				return err
			}
			got <- e
			st.Reply(e, "")
		}
		return st.End()
	}})
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(xepCtx(t), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn.Login(xepCtx(t), "bill", pass)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	if err := register.ChangePassword(xepCtx(t), s, pass, "new-Passw0rd-2"); err != nil {
		t.Fatal(err)
	}
	if err := register.Remove(xepCtx(t), s, pass); err != nil {
		t.Fatal(err)
	}
	cp, rm := <-got, <-got
	if cp.Attr("to") != "localhost" {
		t.Errorf("password change to %q: %s", cp.Attr("to"), cp.Raw)
	}
	if rm.Find("query", "remove") == nil || rm.Attr("to") != "" || rm.Attr("from") != "" {
		t.Errorf("removal: %s", rm.Raw)
	}
}

// Item 9: XEP-0004 §3.3 field types.
func TestXEP0004Values(t *testing.T) {
	form := `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field type='text-single' var='username'><required/></field><field type='text-private' var='password'><required/></field>` +
		`<field type='text-multi' var='about'/>` +
		`<field type='boolean' var='tos'><required/></field>` +
		`<field type='list-single' var='x-gender'><option label='Female'><value>F</value></option><option label='Male'><value>M</value></option></field>` +
		`<field type='list-multi' var='langs'><option><value>en</value></option><option><value>de</value></option></field>` +
		`<field type='jid-single' var='buddy'/><field type='jid-multi' var='friends'/>` +
		`<field var='pic' type='text-single'><media xmlns='urn:xmpp:media-element' height='150' width='120'><uri type='image/png'>https://example.org/a.png</uri></media></field>` +
		`</x></query>`
	f, err := register.ParseForm([]byte(form))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("about", "line one\nline two\r\nline three"); err != nil {
		t.Fatal(err)
	}
	if v := f.Field("about").Values; len(v) != 3 || v[1] != "line two" {
		t.Errorf("text-multi values %q", v)
	}
	bad := []struct {
		name   string
		values []string
	}{
		{"username", []string{"a", "b"}},
		{"tos", []string{"yes"}},
		{"tos", []string{"1", "0"}},
		{"x-gender", []string{"X"}},
		{"langs", []string{"en", "fr"}},
		{"buddy", []string{"not a jid@@"}},
		{"friends", []string{"romeo@example.net", "@bad"}},
	}
	for _, b := range bad {
		if err := f.SetValues(b.name, b.values...); !errors.Is(err, register.ErrFormIncomplete) {
			t.Errorf("SetValues(%s, %q) = %v, want refused", b.name, b.values, err)
		}
	}
	for _, ok := range []struct {
		name   string
		values []string
	}{
		{"tos", []string{"true"}}, {"tos", []string{"1"}}, {"x-gender", []string{"F"}}, {"langs", []string{"en", "de"}},
		{"buddy", []string{"juliet@example.org"}}, {"friends", []string{"romeo@example.net", "example.org"}},
	} {
		if err := f.SetValues(ok.name, ok.values...); err != nil {
			t.Errorf("SetValues(%s, %q): %v", ok.name, ok.values, err)
		}
	}
	if m := f.Field("pic").Media; len(m) != 1 || m[0].Width != 120 || m[0].Height != 150 {
		t.Errorf("media %+v", m)
	}
	// Several values put in a single-valued field by hand are refused at
	// submission, before anything is sent.
	sc := &script{form: form}
	c := xepClient(sc.start(t))
	_, err = c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass,
		Solve: func(ctx context.Context, f *register.Form) error {
			f.Set("tos", "1")
			f.Field("x-gender").Values = []string{"F", "M"}
			return nil
		}})
	e := wantKind(t, err, register.KindFormIncomplete)
	if len(e.Fields) != 1 || e.Fields[0] != "x-gender" || len(sc.submissions()) != 0 {
		t.Errorf("fields %v, %d submissions", e.Fields, len(sc.submissions()))
	}

	// A form of type result (the registration on file) is not filled in.
	res := `<query xmlns='jabber:iq:register'><username/><password/><x xmlns='jabber:x:data' type='result'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field><field var='email'><value>juliet@capulet.example</value></field></x></query>`
	f, err = register.ParseForm([]byte(res))
	if err != nil {
		t.Fatal(err)
	}
	if f.IsDataForm || f.Field("email") != nil || f.Field("username") == nil {
		t.Errorf("result form taken as the form: %v", f)
	}
}

// Item 10: XEP-0077 §5 Example 13 redirects to a plain http page: still not
// offered, but the error says that the server registers on the web, over
// plain http.
func TestPlainHTTPRedirect(t *testing.T) {
	sc := &script{form: `<query xmlns='jabber:iq:register'><instructions>To register, visit http://www.shakespeare.example/contests.php</instructions>` +
		`<x xmlns='jabber:x:oob'><url>http://www.shakespeare.example/contests.php</url></x></query>`}
	c := xepClient(sc.start(t))
	_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass})
	e := wantKind(t, err, register.KindWebOnly)
	if !e.PlainHTTP || e.RedirectURL != "" || e.Form == nil || !e.Form.RedirectPlainHTTP || !e.Form.RedirectRefused {
		t.Fatalf("error %+v", e)
	}
	if !strings.Contains(err.Error(), "web registration only, over plain http (not offered)") {
		t.Errorf("message %q", err)
	}
	// An https link is offered as before, and is not "plain http".
	f, _ := register.ParseForm([]byte(`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:oob'><url>https://www.shakespeare.example/r</url></x></query>`))
	if f.RedirectURL == "" || f.RedirectPlainHTTP {
		t.Errorf("https link: %+v", f)
	}
	// CAPTCHA media over plain http only (the XEP-0158 examples).
	f, err = register.ParseForm([]byte(`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field var='ocr' label='Enter the text you see'><media xmlns='urn:xmpp:media-element' height='80' width='290'>` +
		`<uri type='image/jpeg'>http://www.victim.example/challenges/ocr.jpeg?F3A6292C</uri></media><required/></field></x></query>`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Captcha == nil || !f.Captcha.PlainHTTP || len(f.Captcha.URLs) != 0 || f.Captcha.Width != 290 {
		t.Errorf("captcha %+v", f.Captcha)
	}
	sc = &script{form: `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field var='ocr' label='Enter the text you see'><media xmlns='urn:xmpp:media-element'>` +
		`<uri type='image/jpeg'>http://www.victim.example/challenges/ocr.jpeg?F3A6292C</uri></media><required/></field>` +
		`<field var='username'><required/></field><field type='text-private' var='password'><required/></field></x></query>`}
	c = xepClient(sc.start(t))
	_, err = c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass})
	wantKind(t, err, register.KindFormIncomplete)
	if !strings.Contains(err.Error(), "over plain http only (not offered)") {
		t.Errorf("message %q", err)
	}
}

// Item 12 (the part in register): a server that does not advertise
// registration is closed.
func TestNotAdvertisedIsClosed(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		return st.Negotiate(fakeserver.Mechanisms("SCRAM-SHA-1"))
	}})
	c := xepClient(srv)
	_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass})
	wantKind(t, err, register.KindNotAdvertised)
	if !errors.Is(err, register.ErrRegistrationClosed) {
		t.Errorf("%v does not match ErrRegistrationClosed", err)
	}
}

// Item 11: invitation links as people receive them. A landing page link
// carries the URI after "#" (easy-xmpp-invitation) and is read without
// fetching; a page link (Prosody's mod_invites_page) is only fetched by an
// InviteFetcher, over https, within its limits.
func TestInviteLinkForms(t *testing.T) {
	for _, tc := range []struct {
		in                     string
		domain, token, inviter string
		action                 string
	}{
		{"https://xmpp.link/#romeo@montague.example?roster;preauth=T0k;ibr=y", "montague.example", "T0k", "romeo@montague.example", "roster"},
		{"https://invite.example/i/#xmpp:example.org?register;preauth=abc+1", "example.org", "abc+1", "", "register"},
		{"https://invite.example/#xmpp%3Aexample.org%3Fregister%3Bpreauth%3Dxyz", "example.org", "xyz", "", "register"},
	} {
		inv, err := register.ParseInvite(tc.in)
		if err != nil {
			t.Errorf("ParseInvite(%q): %v", tc.in, err)
			continue
		}
		if inv.Domain != tc.domain || inv.Token != tc.token || inv.Inviter != tc.inviter || inv.Action != tc.action {
			t.Errorf("ParseInvite(%q) = %+v", tc.in, inv)
		}
	}
	for _, bad := range []string{"http://example.org/invite?SECRET-1", "https://example.org/invite?SECRET-1", "https://xmpp.link/#romeo@montague.example?roster;preauth=SECRET-1"} {
		_, err := register.ParseInvite(bad)
		if !errors.Is(err, register.ErrMalformedInvite) || strings.Contains(err.Error(), "SECRET-1") {
			t.Errorf("ParseInvite(%q) = %v", bad, err)
		}
		if page := strings.HasPrefix(bad, "https://example.org/"); errors.Is(err, register.ErrInvitePage) != page {
			t.Errorf("ParseInvite(%q): ErrInvitePage %v", bad, !page)
		}
	}
}

// Item 11: the fetch of an invitation page and its limits.
func TestInviteFetcher(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	mux := http.NewServeMux()
	page := func(link string) string {
		return `<!DOCTYPE html><html><head><title>Invite</title><link rel="stylesheet" href="/s.css">` +
			`<LINK REL="Alternate" HREF="` + link + `"></head><body>Join!</body></html>`
	}
	mux.HandleFunc("/invite", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page("xmpp:example.org?register;preauth="+r.URL.RawQuery))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, strings.Repeat("<p>x</p>", 1000)+page("xmpp:example.org?register;preauth=BIG"))
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, page("xmpp:example.org?register;preauth=J"))
	})
	mux.HandleFunc("/nolink", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page("https://example.org/"))
	})
	mux.HandleFunc("/tohttp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://example.org/invite?X", http.StatusFound)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	f := &register.InviteFetcher{Client: srv.Client(), Destinations: register.AllowAll, MaxSize: 4096}
	ctx := xepCtx(t)

	inv, err := f.Resolve(ctx, srv.URL+"/invite?TOKEN-42")
	if err != nil || inv.Domain != "example.org" || inv.Token != "TOKEN-42" {
		t.Fatalf("Resolve = %+v, %v", inv, err)
	}
	// Plain URIs and landing page links need no fetch.
	mu.Lock()
	before := hits
	mu.Unlock()
	if inv, err := f.Resolve(ctx, "https://xmpp.link/#example.org?register;preauth=F1"); err != nil || inv.Token != "F1" {
		t.Errorf("fragment: %+v, %v", inv, err)
	}
	if _, err := f.Resolve(ctx, srv.URL+"/big?x"); !errors.Is(err, register.ErrTooLarge) || !errors.Is(err, register.ErrMalformedInvite) {
		t.Errorf("big page: %v", err)
	}
	for _, p := range []string{"/json?x", "/nolink?x", "/tohttp?x"} {
		if _, err := f.Resolve(ctx, srv.URL+p); !errors.Is(err, register.ErrMalformedInvite) {
			t.Errorf("%s: %v", p, err)
		}
	}
	// The zero value fetches public addresses only: the loopback server is
	// not even connected to.
	if _, err := (&register.InviteFetcher{}).Resolve(ctx, srv.URL+"/invite?T2"); !errors.Is(err, register.ErrForbiddenDestination) {
		t.Errorf("public only: %v", err)
	}
	f2 := &register.InviteFetcher{Client: srv.Client()}
	if _, err := f2.Resolve(ctx, srv.URL+"/invite?T3"); !errors.Is(err, register.ErrForbiddenDestination) {
		t.Errorf("public only with a Client: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != before {
		t.Errorf("%d fetches of a refused page", hits-before)
	}
}

// Item 4: the image of a challenge other than the first (here the first is
// a required question) is fetched by cid when it was not sent with the
// form (XEP-0231 §3).
func TestSecondChallengeImage(t *testing.T) {
	form := `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field type='hidden' var='answers'><value>2</value></field>` +
		`<field label='Type the color of a stop light' var='qa'><required/></field>` +
		`<field var='ocr' label='Enter the text you see'><media xmlns='urn:xmpp:media-element'><uri type='image/png'>cid:sha1+late@bob.xmpp.org</uri></media></field>` +
		`<field var='username'><required/></field><field type='text-private' var='password'><required/></field></x></query>`
	sc := &script{form: form}
	c := xepClient(sc.start(t))
	var ocr *register.Captcha
	_, err := c.Register(xepCtx(t), "localhost", register.Request{Username: "bill", Password: testPass,
		Solve: func(ctx context.Context, f *register.Form) error {
			if f.Captcha.Type != "qa" || len(f.Captchas) != 2 {
				return fmt.Errorf("captchas %+v", f.Captchas)
			}
			ocr = f.Captchas[1]
			f.Set("qa", "red")
			return f.Set("ocr", "7nHL3")
		}})
	if err != nil {
		t.Fatal(err)
	}
	if ocr == nil || len(ocr.Image) == 0 || ocr.MIME != "image/png" || !sc.sent("data") {
		t.Errorf("ocr image not fetched: %+v", ocr)
	}
}
