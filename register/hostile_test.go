package register_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// Tests with the in-process fake server for what real servers will not do.

// negotiated is a handler prefix: secure the stream with the usual
// features.
func negotiated(st *fakeserver.Stream) error {
	return st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1"))
}

// formThen answers the form request with form and then runs then.
func formThen(form string, then func(st *fakeserver.Stream) error) func(*fakeserver.Stream) error {
	return func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		get, err := st.Expect("get", "query")
		if err != nil {
			return err
		}
		if err := st.Send(strings.Replace(form, "ID", get.Attr("id"), 1)); err != nil {
			return err
		}
		return then(st)
	}
}

func formReply(query string) string {
	return "<iq type='result' id='ID'>" + query + "</iq>"
}

func noPassword(t *testing.T, srv *fakeserver.Server, pass string) {
	t.Helper()
	for i, tr := range srv.Transcripts() {
		if strings.Contains(tr, pass) {
			t.Errorf("connection %d: the client sent the password:\n%s", i, tr)
		}
	}
}

func TestCutAfterSubmit(t *testing.T) {
	for _, created := range []bool{true, false} {
		t.Run(fmt.Sprintf("created=%v", created), func(t *testing.T) {
			db := &accounts{}
			srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if st.N == 0 {
					return formThen(formReply(legacyForm), func(st *fakeserver.Stream) error {
						set, err := st.Expect("set", "query")
						if err != nil {
							return err
						}
						if created {
							u, _ := set.Field("username")
							p, _ := set.Field("password")
							db.add(u, p)
						}
						return st.Cut()
					})(st)
				}
				// Confirm: log in.
				if err := negotiated(st); err != nil {
					return err
				}
				_, err := st.SASL(db.password)
				return err
			}})
			c := register.Client{Dialer: fakeDialer(srv, nil)}
			_, err := c.Register(context.Background(), "localhost", register.Request{Username: "carol", Password: testPass, Login: true})
			e := wantKind(t, err, register.KindOutcomeUnknown)
			if e.Username != "carol" || e.Password != testPass {
				t.Errorf("credentials in error = %q, %q", e.Username, e.Password)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, err)} {
				if strings.Contains(s, testPass) {
					t.Errorf("error text shows the password: %s", s)
				}
			}
			got, err := c.Dialer.Confirm(context.Background(), "localhost", e.Username, e.Password)
			if err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			if got != created {
				t.Errorf("Confirm = %v, want %v", got, created)
			}
		})
	}
}

func TestStall(t *testing.T) {
	stallAfter := map[string]func(st *fakeserver.Stream) error{
		"header": func(st *fakeserver.Stream) error {
			st.Stall(20 * time.Second)
			return nil
		},
		"starttls": func(st *fakeserver.Stream) error {
			if err := st.Open(fakeserver.FeatureStartTLS); err != nil {
				return err
			}
			st.Stall(20 * time.Second)
			return nil
		},
		"form": func(st *fakeserver.Stream) error {
			if err := negotiated(st); err != nil {
				return err
			}
			st.Stall(20 * time.Second)
			return nil
		},
		"submit": formThen(formReply(legacyForm), func(st *fakeserver.Stream) error {
			st.Stall(20 * time.Second)
			return nil
		}),
	}
	for name, h := range stallAfter {
		for _, via := range []string{"context", "timeout"} {
			t.Run(name+"/"+via, func(t *testing.T) {
				t.Parallel()
				srv := fakeserver.Start(t, fakeserver.Config{Handler: h})
				d := fakeDialer(srv, nil)
				ctx := context.Background()
				// Generous limits: the steps before the stall must finish
				// in time even on a loaded machine with -race.
				if via == "context" {
					d.Timeout = -1
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 1500*time.Millisecond)
					defer cancel()
				} else {
					d.Timeout = 700 * time.Millisecond
				}
				c := register.Client{Dialer: d}
				_, err := c.Register(ctx, "localhost", register.Request{Username: "dave", Password: testPass})
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want context.DeadlineExceeded", err)
				}
				if name == "submit" {
					wantKind(t, err, register.KindOutcomeUnknown)
				} else if errors.Is(err, register.ErrOutcomeUnknown) {
					t.Errorf("outcome unknown before submitting: %v", err)
				}
			})
		}
	}
}

func TestCloseAborts(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		st.Stall(20 * time.Second)
		return nil
	}})
	d := fakeDialer(srv, nil)
	d.Timeout = -1
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Form(context.Background())
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Form returned no error after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not abort the blocked Form")
	}
	if _, err := conn.Form(context.Background()); err == nil {
		t.Fatal("Form on a closed Conn returned no error")
	}
}

func TestWrongCertificate(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			srv := fakeserver.Start(t, fakeserver.Config{
				CertNames: []string{"other.example"},
				DirectTLS: direct,
				Handler:   registrationHandler(&accounts{}, legacyForm),
			})
			d := fakeDialer(srv, nil)
			d.DirectTLS = direct
			// Even a TLSConfig naming the other host must not matter: the
			// certificate is checked against the XMPP domain.
			d.TLSConfig.ServerName = "other.example"
			c := register.Client{Dialer: d}
			_, err := c.Register(context.Background(), "localhost", register.Request{Username: "eve", Password: testPass})
			wantKind(t, err, register.KindNoTLS)
			noPassword(t, srv, testPass)
			for _, tr := range srv.Transcripts() {
				if strings.Contains(tr, "<iq") || strings.Contains(tr, "eve") {
					t.Errorf("the client sent data:\n%s", tr)
				}
			}
		})
	}
}

func TestNoStartTLS(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		// Plain-text stream offering registration but no STARTTLS.
		if err := st.Open(fakeserver.FeatureRegister + fakeserver.Mechanisms("PLAIN")); err != nil {
			return err
		}
		for {
			e, err := st.Next()
			if err != nil {
				return err
			}
			if e.Name.Local == "iq" {
				st.Reply(e, legacyForm)
			}
		}
	}})
	for i, noPipe := range []bool{false, true} {
		d := fakeDialer(srv, nil)
		d.AllowPLAIN = true
		d.NoPipelining = noPipe
		c := register.Client{Dialer: d}
		_, err := c.Register(context.Background(), "localhost", register.Request{Username: "frank", Password: testPass, Login: true, Force: true, Invite: "secret-token-123"})
		wantKind(t, err, register.KindNoTLS)
		// Pipelined: the header and <starttls/> (which the server does
		// not offer; it is refused all the same); else the header only.
		preTLSOnly(t, srv.Transcripts()[i], !noPipe)
	}
	noPassword(t, srv, testPass)
	noPassword(t, srv, "secret-token-123")
}

func TestStartTLSRefused(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Open(fakeserver.FeatureStartTLS); err != nil {
			return err
		}
		if _, err := st.Next(); err != nil {
			return err
		}
		return st.Send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
	}})
	d := fakeDialer(srv, nil)
	_, err := d.Dial(context.Background(), "localhost")
	wantKind(t, err, register.KindNoTLS)
}

func TestStartTLSInjection(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Open(fakeserver.FeatureStartTLS); err != nil {
			return err
		}
		if _, err := st.Next(); err != nil {
			return err
		}
		// Plain-text data after <proceed/>, before TLS.
		return st.Send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><stream:features/>")
	}})
	d := fakeDialer(srv, nil)
	_, err := d.Dial(context.Background(), "localhost")
	if !errors.Is(err, register.ErrProtocol) {
		t.Fatalf("err = %v, want ErrProtocol", err)
	}
}

func TestStreamEndsBeforeSubmit(t *testing.T) {
	sent := make(chan struct{})
	srv := fakeserver.Start(t, fakeserver.Config{Handler: formThen(formReply(legacyForm), func(st *fakeserver.Stream) error {
		st.Send("<stream:error><connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
		close(sent)
		time.Sleep(100 * time.Millisecond)
		return st.Cut()
	})})
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := conn.Form(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-sent
	time.Sleep(20 * time.Millisecond)
	f.SetUsername("gina")
	f.SetPassword(testPass)
	err = conn.Submit(context.Background(), f)
	if err == nil || errors.Is(err, register.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want a definite failure", err)
	}
	if !errors.Is(err, stream.ConnectionTimeout) {
		t.Errorf("err = %v, want the stream error", err)
	}
	noPassword(t, srv, testPass)
}

// pngBytes is a tiny fake image payload.
var pngBytes = []byte("\x89PNG\r\n\x1a\nfake image data")

func captchaForm(formType, cid string, inline string) string {
	return `<query xmlns='jabber:iq:register'>
<instructions>You need a client that supports x:data and CAPTCHA to register</instructions>
<x xmlns='jabber:x:data' type='form'>
<instructions>Choose a username and password to register with this server</instructions>
<field var='FORM_TYPE' type='hidden'><value>` + formType + `</value></field>
<field type='fixed'><value>If you don't see the CAPTCHA image here, visit the web page.</value></field>
<field var='captcha-fallback-url' type='text-single' label='CAPTCHA web page'><value>https://example.invalid/captcha/123/image</value></field>
<field var='from' type='hidden'><value>localhost</value></field>
<field var='challenge' type='hidden'><value>4711</value></field>
<field var='sid' type='hidden'><value>abc</value></field>
<field var='ocr' label='Enter the text you see'><required/><media xmlns='urn:xmpp:media-element' width='120' height='80'><uri type='image/png'>cid:` + cid + `</uri></media></field>
<field var='username' type='text-single' label='User'><required/></field>
<field var='password' type='text-private' label='Password'><required/></field>
</x>` + inline + `</query>`
}

func bobData(cid string, data []byte) string {
	return `<data xmlns='urn:xmpp:bob' cid='` + cid + `' type='image/png' max-age='0'>` + base64.StdEncoding.EncodeToString(data) + `</data>`
}

// captchaServer serves a CAPTCHA form; it accepts the answer "xyz" and
// checks the echoed hidden fields.
func captchaServer(t *testing.T, form string, bob func(st *fakeserver.Stream, e *fakeserver.Element) error) *fakeserver.Server {
	return fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		for {
			e, err := st.Next()
			if err != nil {
				return err
			}
			switch {
			case e.Find("data") != nil && bob != nil:
				if err := bob(st, e); err != nil {
					return err
				}
			case e.Attr("type") == "get":
				st.Reply(e, form)
			case e.Attr("type") == "set":
				ocr, _ := e.Field("ocr")
				ch, _ := e.Field("challenge")
				sid, _ := e.Field("sid")
				ft, _ := e.Field("FORM_TYPE")
				switch {
				case ocr != "xyz":
					st.ReplyError(e, "cancel", "not-allowed", "The CAPTCHA verification has failed")
				case ch != "4711" || sid != "abc" || ft == "":
					st.ReplyError(e, "modify", "bad-request", "hidden fields not echoed")
				default:
					st.Reply(e, "")
				}
			}
		}
	}})
}

func solveXYZ(t *testing.T) func(ctx context.Context, f *register.Form) error {
	return func(ctx context.Context, f *register.Form) error {
		if f.Captcha == nil {
			return errors.New("no captcha")
		}
		if string(f.Captcha.Image) != string(pngBytes) || f.Captcha.MIME != "image/png" {
			t.Errorf("captcha image = %q (%s)", f.Captcha.Image, f.Captcha.MIME)
		}
		return f.Set(f.Captcha.Field, "xyz")
	}
}

func TestCaptchaInline(t *testing.T) {
	cid := "sha1+0123456789abcdef@bob.xmpp.org"
	srv := captchaServer(t, captchaForm("jabber:iq:register", cid, bobData(cid, pngBytes)), nil)
	c := register.Client{Dialer: fakeDialer(srv, nil)}
	if _, err := c.Register(context.Background(), "localhost", register.Request{Username: "hank", Password: testPass, Solve: solveXYZ(t)}); err != nil {
		t.Fatal(err)
	}
}

// TestToleranceCaptchaFormType: older ejabberd sends FORM_TYPE
// urn:xmpp:captcha on registration forms; the form is still recognised
// and the FORM_TYPE echoed unchanged (see doc.go # Tolerances).
func TestToleranceCaptchaFormType(t *testing.T) {
	cid := "sha1+0123456789abcdef@bob.xmpp.org"
	srv := captchaServer(t, captchaForm(register.FormTypeCaptchaLegacy, cid, bobData(cid, pngBytes)), nil)
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := conn.Form(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !f.IsDataForm || f.FormType != register.FormTypeCaptchaLegacy || f.Captcha == nil {
		t.Fatalf("form = %v", f)
	}
	solveXYZ(t)(context.Background(), f)
	f.SetUsername("ida")
	f.SetPassword(testPass)
	if err := conn.Submit(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if tr := srv.Transcripts()[0]; !strings.Contains(tr, "<value>urn:xmpp:captcha</value>") {
		t.Errorf("FORM_TYPE not echoed:\n%s", tr)
	}
}

func TestCaptchaFetchedByCID(t *testing.T) {
	cid := "sha1+fedcba9876543210@bob.xmpp.org"
	var fetched atomic.Bool
	srv := captchaServer(t, captchaForm("jabber:iq:register", cid, ""), func(st *fakeserver.Stream, e *fakeserver.Element) error {
		if e.Find("data").Attr("cid") != cid {
			return st.ReplyError(e, "cancel", "item-not-found", "")
		}
		fetched.Store(true)
		return st.Reply(e, bobData(cid, pngBytes))
	})
	c := register.Client{Dialer: fakeDialer(srv, nil)}
	if _, err := c.Register(context.Background(), "localhost", register.Request{Username: "jack", Password: testPass, Solve: solveXYZ(t)}); err != nil {
		t.Fatal(err)
	}
	if !fetched.Load() {
		t.Error("image was not fetched by cid")
	}
}

func TestCaptchaWrongAnswerNewForm(t *testing.T) {
	cid := "sha1+0123456789abcdef@bob.xmpp.org"
	srv := captchaServer(t, captchaForm("jabber:iq:register", cid, bobData(cid, pngBytes)), nil)
	c := register.Client{Dialer: fakeDialer(srv, nil)}
	_, err := c.Register(context.Background(), "localhost", register.Request{Username: "kim", Password: testPass,
		Solve: func(ctx context.Context, f *register.Form) error { return f.Set("ocr", "nope") }})
	wantKind(t, err, register.KindCaptchaFailed)
}

func TestOversized(t *testing.T) {
	cid := "sha1+0123456789abcdef@bob.xmpp.org"
	big := make([]byte, register.MaxBoBSize+1)
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	var manyFields strings.Builder
	for i := 0; i <= register.MaxFields; i++ {
		fmt.Fprintf(&manyFields, "<field var='f%d'/>", i)
	}
	cases := map[string]struct {
		reply string
		max   int64
	}{
		"bob":     {reply: formReply(captchaForm("jabber:iq:register", cid, bobData(cid, big)))},
		"stanza":  {reply: formReply(`<query xmlns='jabber:iq:register'><instructions>` + strings.Repeat("x", 2000) + `</instructions></query>`), max: 1000},
		"default": {reply: formReply(`<query xmlns='jabber:iq:register'><instructions>` + strings.Repeat("x", register.DefaultMaxStanza) + `</instructions></query>`)},
		"depth":   {reply: formReply(`<query xmlns='jabber:iq:register'>` + deep + `</query>`)},
		"fields":  {reply: formReply(`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` + manyFields.String() + `</x></query>`)},
		"spaces":  {reply: strings.Repeat(" ", 3000), max: 1000},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := fakeserver.Start(t, fakeserver.Config{Handler: formThen(tc.reply, func(st *fakeserver.Stream) error {
				st.Stall(5 * time.Second)
				return nil
			})})
			d := fakeDialer(srv, nil)
			d.MaxStanza = tc.max
			conn, err := d.Dial(context.Background(), "localhost")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, err = conn.Form(context.Background())
			if !errors.Is(err, register.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	cases := map[string]string{
		"not well-formed": "<iq type='result' id='ID'><query xmlns='jabber:iq:register'><username></query></iq>",
		"no query":        "<iq type='result' id='ID'/>",
		"wrong payload":   "<iq type='result' id='ID'><query xmlns='jabber:iq:roster'/></iq>",
		"comment":         "<iq type='result' id='ID'><!-- hi --><query xmlns='jabber:iq:register'/></iq>",
		"doctype":         "<!DOCTYPE x [<!ENTITY a 'b'>]><iq type='result' id='ID'/>",
		"text":            "hello<iq/>",
		"bad base64":      formReply(captchaForm("jabber:iq:register", "c@bob.xmpp.org", `<data xmlns='urn:xmpp:bob' cid='c@bob.xmpp.org' type='image/png'>!!!notbase64</data>`)),
	}
	for name, reply := range cases {
		t.Run(name, func(t *testing.T) {
			srv := fakeserver.Start(t, fakeserver.Config{Handler: formThen(reply, func(st *fakeserver.Stream) error {
				st.Stall(5 * time.Second)
				return nil
			})})
			d := fakeDialer(srv, nil)
			conn, err := d.Dial(context.Background(), "localhost")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, err = conn.Form(context.Background())
			if !errors.Is(err, register.ErrProtocol) {
				t.Fatalf("err = %v, want ErrProtocol", err)
			}
		})
	}
}

// TestTolerant checks forms that are odd but usable.
func TestTolerant(t *testing.T) {
	cases := map[string]struct {
		query string
		check func(t *testing.T, f *register.Form)
	}{
		"reported and item": {
			query: `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'><reported><field var='a'/></reported><item><field var='a'><value>1</value></field></item><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field><field var='username'><required/></field><field var='password' type='text-private'/><field var='username'><value>dup</value></field></x></query>`,
			check: func(t *testing.T, f *register.Form) {
				if len(f.Fields) != 3 || f.Field("username").Type != register.TextSingle {
					t.Errorf("fields = %+v", f.Fields)
				}
			},
		},
		"unknown form type takes precedence over legacy fields": {
			// XEP-0077 §7: x:data first, whatever its FORM_TYPE.
			query: `<query xmlns='jabber:iq:register'><username/><password/><x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>urn:example:other</value></field><field var='z'/></x></query>`,
			check: func(t *testing.T, f *register.Form) {
				if !f.IsDataForm || len(f.Fields) != 2 || len(f.LegacyFields) != 2 || f.FormType != "urn:example:other" {
					t.Errorf("form = %v", f)
				}
			},
		},
		"http redirect ignored, https in instructions": {
			query: `<query xmlns='jabber:iq:register'><instructions>Sign up at https://example.invalid/join.</instructions><x xmlns='jabber:x:oob'><url>http://example.invalid/insecure</url></x></query>`,
			check: func(t *testing.T, f *register.Form) {
				if f.RedirectURL != "https://example.invalid/join" || !f.WebOnly() {
					t.Errorf("form = %v", f)
				}
			},
		},
		"legacy key echoed": {
			query: `<query xmlns='jabber:iq:register'><key>k123</key><username/><password/><email/></query>`,
			check: func(t *testing.T, f *register.Form) {
				if k := f.Field("key"); k == nil || k.Value() != "k123" || k.Type != register.Hidden {
					t.Errorf("key = %+v", k)
				}
				if m := f.Missing(); len(m) != 3 {
					t.Errorf("missing = %v", m)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := fakeserver.Start(t, fakeserver.Config{Handler: formThen(formReply(tc.query), func(st *fakeserver.Stream) error {
				st.Stall(5 * time.Second)
				return nil
			})})
			d := fakeDialer(srv, nil)
			conn, err := d.Dial(context.Background(), "localhost")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			f, err := conn.Form(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, f)
		})
	}
}

func TestSpoofedReply(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		get, err := st.Expect("get", "query")
		if err != nil {
			return err
		}
		// A reply with the wrong id, one from another address, a stanza
		// the client ignores, then the real reply.
		st.Sendf("<iq type='result' id='x%s'>%s</iq>", get.Attr("id"), `<query xmlns='jabber:iq:register'><username/></query>`)
		st.Sendf("<iq type='result' from='evil.example' id='%s'><query xmlns='jabber:iq:register'><username/></query></iq>", get.Attr("id"))
		st.Send("<message><body>hi</body></message>")
		st.Reply(get, legacyForm)
		st.Stall(5 * time.Second)
		return nil
	}})
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := conn.Form(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Fields) != 2 {
		t.Errorf("took the wrong reply: %v", f)
	}
}

func TestBadServerSignature(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		auth, err := st.Next()
		if err != nil {
			return err
		}
		first, _ := base64.StdEncoding.DecodeString(auth.Text)
		nonce := string(first[strings.Index(string(first), "r=")+2:])
		st.Sendf("<challenge xmlns='%s'>%s</challenge>", fakeserver.NSSASL, base64.StdEncoding.EncodeToString([]byte("r="+nonce+"srv,s=c2FsdA==,i=4096")))
		if _, err := st.Next(); err != nil {
			return err
		}
		return st.Sendf("<success xmlns='%s'>%s</success>", fakeserver.NSSASL, base64.StdEncoding.EncodeToString([]byte("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")))
	}})
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Login(context.Background(), "leo", testPass)
	if !errors.Is(err, register.ErrLoginFailed) || !errors.Is(err, register.ErrProtocol) {
		t.Fatalf("err = %v, want a failed login for the invalid server signature", err)
	}
}

func TestPlainOnlyWhenAllowed(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.Mechanisms("PLAIN")); err != nil {
			return err
		}
		e, err := st.Next()
		if err != nil {
			return err
		}
		if e.Attr("mechanism") != "PLAIN" {
			return fmt.Errorf("unexpected %s", e.Raw)
		}
		st.Sendf("<success xmlns='%s'/>", fakeserver.NSSASL)
		return st.Bind("mia")
	}})
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Login(context.Background(), "mia", testPass)
	wantKind(t, err, register.KindLoginFailed)
	conn.Close()
	if tr := srv.Transcripts()[0]; strings.Contains(tr, "<auth") {
		t.Fatalf("the client authenticated without being allowed to use PLAIN:\n%s", tr)
	}

	d.AllowPLAIN = true
	conn, err = d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn.Login(context.Background(), "mia", testPass)
	if err != nil {
		t.Fatalf("Login with PLAIN allowed: %v", err)
	}
	s.Close()
	s.Conn().Close()
}

func TestLocalValidation(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: registrationHandler(&accounts{}, legacyForm)})
	c := register.Client{Dialer: fakeDialer(srv, nil)}
	ctx := context.Background()
	_, err := c.Register(ctx, "localhost", register.Request{Username: "a@b", Password: testPass})
	wantKind(t, err, register.KindInvalidUsername)
	_, err = c.Register(ctx, "localhost", register.Request{Username: "nina", Password: testPass, Invite: "xmpp:other.example?register;preauth=abc"})
	wantKind(t, err, register.KindInviteInvalid)
	_, err = c.Register(ctx, "localhost", register.Request{Username: "nina", Password: testPass, Invite: "xmpp:olga@localhost?register;preauth=abc"})
	wantKind(t, err, register.KindInvalidUsername)
	_, err = c.Register(ctx, "localhost", register.Request{Username: "nina", Password: testPass, Invite: "https://example.invalid/invite?abc"})
	wantKind(t, err, register.KindInviteInvalid)
	d := c.Dialer
	d.TLSConfig = d.TLSConfig.Clone()
	d.TLSConfig.InsecureSkipVerify = true
	_, err = d.Dial(ctx, "localhost")
	wantKind(t, err, register.KindNoTLS)
	if n := srv.Accepted(); n != 0 {
		t.Errorf("%d connections for invalid input", n)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Register(canceled, "localhost", register.Request{Username: "nina", Password: testPass}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

// TestInviteUsername: an invitation naming the account pre-fills the
// username and sends the token before the form request.
func TestInviteUsername(t *testing.T) {
	var got struct {
		sync.Mutex
		token, user string
	}
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		pre, err := st.Expect("set", "preauth")
		if err != nil {
			return err
		}
		got.Lock()
		got.token = pre.Find("preauth").Attr("token")
		got.Unlock()
		st.Reply(pre, "")
		get, err := st.Expect("get", "query")
		if err != nil {
			return err
		}
		st.Reply(get, legacyForm)
		set, err := st.Expect("set", "query")
		if err != nil {
			return err
		}
		got.Lock()
		got.user, _ = set.Field("username")
		got.Unlock()
		return st.Reply(set, "")
	}})
	d := fakeDialer(srv, nil)
	log := watch(t, &d, "T0k3n%;x", testPass)
	c := register.Client{Dialer: d}
	acct, err := c.Register(context.Background(), "", register.Request{Password: testPass, Invite: "xmpp:Olga@localhost?register;preauth=T0k3n%25%3Bx"})
	if err != nil {
		t.Fatal(err)
	}
	got.Lock()
	defer got.Unlock()
	if got.token != "T0k3n%;x" || got.user != "olga" || acct.JID.String() != "olga@localhost" {
		t.Errorf("token %q, user %q, JID %v", got.token, got.user, acct.JID)
	}
	if !strings.Contains(log.String(), "token='[redacted]'") {
		t.Errorf("token not redacted in debug output:\n%s", log)
	}
}

// TestAccountForms: a server that asks for the changepassword and cancel
// forms (XEP-0077 §3.2, §3.3) gets them filled in.
func TestAccountForms(t *testing.T) {
	const old, nw = "old-Passw0rd-1", "new-Passw0rd-2"
	errs := make(chan error, 4)
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		user, err := st.SASL(func(u string) (string, bool) { return old, u == "pat" })
		if err != nil {
			return err
		}
		if err := st.Bind(user); err != nil {
			return err
		}
		check := func(e *fakeserver.Element, want map[string]string) {
			for k, v := range want {
				if got, _ := e.Field(k); got != v {
					errs <- fmt.Errorf("field %s = %q, want %q in %s", k, got, v, e.Raw)
				}
			}
		}
		form := func(ft string, fields ...string) string {
			s := `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>` + ft + `</value></field>`
			for _, f := range fields {
				s += `<field var='` + f + `' type='text-single'><required/></field>`
			}
			return s + `</x></query>`
		}
		// Password change: refuse the plain request with a form.
		e, err := st.Expect("set", "query")
		if err != nil {
			return err
		}
		check(e, map[string]string{"username": "pat", "password": nw})
		st.ReplyError(e, "modify", "not-authorized", "", form(register.FormTypeChangePassword, "username", "old_password", "password"))
		e, err = st.Expect("set", "query")
		if err != nil {
			return err
		}
		check(e, map[string]string{"username": "pat", "old_password": old, "password": nw, "FORM_TYPE": register.FormTypeChangePassword})
		st.Reply(e, "")
		// Removal: ask for the cancel form.
		e, err = st.Expect("set", "query")
		if err != nil {
			return err
		}
		if e.Find("query", "remove") == nil {
			errs <- fmt.Errorf("not a removal: %s", e.Raw)
		}
		st.ReplyError(e, "modify", "not-authorized", "", form(register.FormTypeCancel, "username", "password"))
		e, err = st.Expect("set", "query")
		if err != nil {
			return err
		}
		check(e, map[string]string{"username": "pat", "password": old, "FORM_TYPE": register.FormTypeCancel})
		st.Reply(e, "")
		close(errs)
		return st.End()
	}})
	d := fakeDialer(srv, nil)
	log := watch(t, &d, old, nw)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn.Login(context.Background(), "pat", old)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := register.ChangePassword(ctx, s, old, nw); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if err := register.Remove(ctx, s, old); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for err := range errs {
		t.Error(err)
	}
	_ = log
	for _, e := range srv.Errors() {
		t.Error(e)
	}

	// Without the old password the form comes back to the caller.
	srv2 := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		user, err := st.SASL(func(string) (string, bool) { return old, true })
		if err != nil {
			return err
		}
		if err := st.Bind(user); err != nil {
			return err
		}
		e, err := st.Expect("set", "query")
		if err != nil {
			return err
		}
		st.ReplyError(e, "modify", "not-authorized", "", `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>`+register.FormTypeChangePassword+`</value></field><field var='username'/><field var='old_password' type='text-private'><required/></field><field var='password' type='text-private'><required/></field></x></query>`)
		st.Stall(5 * time.Second)
		return nil
	}})
	d2 := fakeDialer(srv2, nil)
	conn, err = d2.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := conn.Login(context.Background(), "quinn", old)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s2)
	err = register.ChangePassword(ctx, s2, "", nw)
	e := wantKind(t, err, register.KindFormRequired)
	if e.Form == nil || e.Form.FormType != register.FormTypeChangePassword || e.Form.Field("old_password") == nil {
		t.Errorf("form = %v", e.Form)
	}
	if strings.Contains(fmt.Sprint(err), nw) {
		t.Errorf("error shows the new password")
	}
}

// TestKeepaliveBeforeSubmit: whitespace keepalives that arrive while the
// user fills the form do not disturb the submission.
func TestKeepaliveBeforeSubmit(t *testing.T) {
	sent := make(chan struct{})
	srv := fakeserver.Start(t, fakeserver.Config{Handler: formThen(formReply(legacyForm), func(st *fakeserver.Stream) error {
		st.Send(" \n ")
		close(sent)
		set, err := st.Expect("set", "query")
		if err != nil {
			return err
		}
		return st.Reply(set, "")
	})})
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := conn.Form(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-sent
	time.Sleep(20 * time.Millisecond)
	f.SetUsername("ray")
	f.SetPassword(testPass)
	if err := conn.Submit(context.Background(), f); err != nil {
		t.Fatalf("Submit: %v", err)
	}
}
