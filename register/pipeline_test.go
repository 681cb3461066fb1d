package register_test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// Tests of request pipelining (Dialer.NoPipelining false) with the fake
// server: what is sent before TLS, that the form is submitted only after
// it has arrived, the authentication pipelined with the submission, and
// the resource binding done before the stream is handed to mellium. The
// round trips on real servers are counted in TestRoundTrips.

// preTLSOnly checks that the plain-text part of a connection's transcript
// is the client's stream header followed, if starttls, by <starttls/>, and
// nothing else.
func preTLSOnly(t *testing.T, transcript string, starttls bool) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(transcript))
	var got []string
	for {
		tok, err := d.Token()
		if err != nil {
			break // the stream element is never closed: an EOF error
		}
		switch tok := tok.(type) {
		case xml.ProcInst:
			got = append(got, "<?"+tok.Target)
		case xml.StartElement:
			got = append(got, "<"+tok.Name.Space+" "+tok.Name.Local)
		case xml.EndElement:
			got = append(got, "</"+tok.Name.Local)
		case xml.CharData:
			got = append(got, "text "+string(tok))
		default:
			got = append(got, fmt.Sprintf("%T", tok))
		}
	}
	want := []string{"<?xml", "<http://etherx.jabber.org/streams stream"}
	if starttls {
		want = append(want, "<urn:ietf:params:xml:ns:xmpp-tls starttls", "</starttls")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent before TLS: %q\nwant %q\ntranscript:\n%s", got, want, transcript)
	}
}

// TestPipelinedStartTLS registers with an invitation token and logs in,
// and checks that only the stream header and <starttls/> went out before
// TLS (the password and the token only after it). That they went out in
// one flight is counted on real servers by TestRoundTrips.
func TestPipelinedStartTLS(t *testing.T) {
	for _, noPipe := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoPipelining=%v", noPipe), func(t *testing.T) {
			db := &accounts{}
			var mu sync.Mutex
			var plain string
			srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := st.Open(fakeserver.FeatureStartTLS); err != nil {
					return err
				}
				if err := st.StartTLS(); err != nil {
					return err
				}
				mu.Lock()
				plain = st.Transcript()
				mu.Unlock()
				if err := st.Open(fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
					return err
				}
				if err := serveRegistration(st, db, legacyForm); err != nil {
					return err
				}
				user, err := st.SASL(db.password)
				if err != nil {
					return err
				}
				return st.Bind(user)
			}})
			d := fakeDialer(srv, nil)
			d.NoPipelining = noPipe
			c := register.Client{Dialer: d}
			acct, err := c.Register(testCtx(t), "localhost", register.Request{Username: "romeo", Password: testPass, Login: true, Invite: "token-abc-123"})
			if err != nil {
				t.Fatalf("Register: %v (server: %v)", err, srv.Errors())
			}
			acct.Session.Close()
			mu.Lock()
			defer mu.Unlock()
			preTLSOnly(t, plain, true)
			for _, secret := range []string{testPass, "token-abc-123"} {
				if strings.Contains(plain, secret) {
					t.Errorf("a secret was sent before TLS:\n%s", plain)
				}
			}
			tr := srv.Transcripts()[0]
			afterTLS := strings.TrimPrefix(tr, plain)
			// The secured stream: header, then (the features having
			// advertised invitations) token and form request, in that
			// order; TestRoundTrips counts the flights on real servers.
			i := strings.Index(afterTLS, "<preauth")
			j := strings.Index(afterTLS, "jabber:iq:register")
			if i < 0 || j < i || !strings.HasPrefix(afterTLS, "<?xml") {
				t.Errorf("after TLS: %s", afterTLS)
			}
		})
	}
}

// nonceForm is a data form whose hidden field carries a value the client
// can only know by reading the form.
func nonceForm(nonce string) string {
	return `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>` +
		`<field var='challenge' type='hidden'><value>` + nonce + `</value></field>` +
		`<field var='username' type='text-single'><required/></field>` +
		`<field var='password' type='text-private'><required/></field>` +
		`</x></query>`
}

// TestPipelinedSubmitWaitsForForm checks that the form request pipelined
// with the stream header does not lead to a submission before the form
// has arrived: the server answers late, with a form holding a fresh hidden
// value, and the one submission must echo it. Without the <register/>
// feature nothing is submitted at all (unless Force).
func TestPipelinedSubmitWaitsForForm(t *testing.T) {
	for _, tc := range []struct {
		name        string
		advertise   bool
		force       bool
		wantSubmits int
	}{
		{name: "advertised", advertise: true, wantSubmits: 1},
		{name: "not advertised", wantSubmits: 0},
		{name: "not advertised, forced", force: true, wantSubmits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nonce := fmt.Sprintf("n%d", time.Now().UnixNano())
			srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				feats := fakeserver.Mechanisms("SCRAM-SHA-1")
				if tc.advertise {
					feats += fakeserver.FeatureRegister
				}
				if err := st.Negotiate(feats); err != nil {
					return err
				}
				get, err := st.Expect("get", "query")
				if err != nil {
					return err
				}
				// Answer late: a client that submitted without waiting
				// would have done so by now.
				time.Sleep(50 * time.Millisecond)
				if err := st.Reply(get, nonceForm(nonce)); err != nil {
					return err
				}
				set, err := st.Expect("set", "query")
				if err != nil {
					return err
				}
				return st.Reply(set, "")
			}})
			c := register.Client{Dialer: fakeDialer(srv, nil)}
			_, err := c.Register(testCtx(t), "localhost", register.Request{Username: "juliet", Password: testPass, Force: tc.force})
			if tc.wantSubmits == 0 {
				wantKind(t, err, register.KindNotAdvertised)
			} else if err != nil {
				t.Fatalf("Register: %v (server: %v)", err, srv.Errors())
			}
			srv.Close()
			tr := srv.Transcripts()[0]
			if n := strings.Count(tr, "type='set'"); n != tc.wantSubmits {
				t.Fatalf("%d submissions, want %d:\n%s", n, tc.wantSubmits, tr)
			}
			if tc.wantSubmits > 0 && !strings.Contains(tr, "<value>"+nonce+"</value>") {
				t.Errorf("the submission does not echo the form's hidden value (sent before the form arrived?):\n%s", tr)
			}
		})
	}
}

// TestPipelinedAuthRefusedRegistration: when the registration pipelined
// with the SASL <auth/> is refused, the registration's error is returned,
// not the authentication's.
func TestPipelinedAuthRefusedRegistration(t *testing.T) {
	db := &accounts{}
	db.add("bob", "another-password")
	srv := fakeserver.Start(t, fakeserver.Config{Handler: registrationHandler(db, legacyForm)})
	c := register.Client{Dialer: fakeDialer(srv, nil)}
	_, err := c.Register(testCtx(t), "localhost", register.Request{Username: "bob", Password: testPass, Login: true})
	wantKind(t, err, register.KindUsernameTaken)
	if errors.Is(err, register.ErrLoginFailed) {
		t.Errorf("err = %v also matches ErrLoginFailed", err)
	}
	if tr := srv.Transcripts()[0]; !strings.Contains(tr, "<auth") {
		t.Errorf("the <auth/> was not pipelined with the submission:\n%s", tr)
	}
}

// TestPipelinedAuthRetried: a server that answers the pipelined <auth/>
// with a failure (as if it checked the credentials before storing the
// account) gets one more, sequential attempt on the same stream.
func TestPipelinedAuthRetried(t *testing.T) {
	db := &accounts{}
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		if err := serveRegistration(st, db, legacyForm); err != nil {
			return err
		}
		auth, err := st.Next()
		if err != nil {
			return err
		}
		if auth.Name.Local != "auth" {
			return fmt.Errorf("expected <auth/>, got %s", auth.Raw)
		}
		if err := st.Send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"); err != nil {
			return err
		}
		user, err := st.SASL(db.password)
		if err != nil {
			return err
		}
		return st.Bind(user)
	}})
	c := register.Client{Dialer: fakeDialer(srv, nil)}
	acct, err := c.Register(testCtx(t), "localhost", register.Request{Username: "carol", Password: testPass, Login: true})
	if err != nil {
		t.Fatalf("Register: %v (server: %v)", err, srv.Errors())
	}
	acct.Session.Close()
	if n := strings.Count(srv.Transcripts()[0], "<auth"); n != 2 {
		t.Errorf("%d <auth/> sent, want 2", n)
	}
}

// TestBoundSessionServes checks the session handed to mellium after this
// package bound the resource: a stanza the server sends in the same write
// as the bind reply is delivered to Serve, and IQs work.
func TestBoundSessionServes(t *testing.T) {
	for _, noPipe := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoPipelining=%v", noPipe), func(t *testing.T) {
			db := &accounts{}
			db.add("dave", testPass)
			srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := negotiated(st); err != nil {
					return err
				}
				user, err := st.SASL(db.password)
				if err != nil {
					return err
				}
				if err := st.Open(`<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>`); err != nil {
					return err
				}
				b, err := st.Expect("set", "bind")
				if err != nil {
					return err
				}
				if err := st.Sendf("<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s@localhost/r1</jid></bind></iq>"+
					"<message from='localhost' to='%[2]s@localhost/r1' id='m1'><body>welcome</body></message>", b.Attr("id"), user); err != nil {
					return err
				}
				for {
					e, err := st.Next()
					if err != nil {
						return err
					}
					if e.Name.Local == "iq" && e.Attr("type") == "get" {
						st.Reply(e, "<query xmlns='jabber:iq:version'><name>fake</name></query>")
					}
				}
			}})
			d := fakeDialer(srv, nil)
			d.NoPipelining = noPipe
			ctx := testCtx(t)
			conn, err := d.Dial(ctx, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			s, err := conn.Login(ctx, "dave", testPass)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if got := s.LocalAddr().String(); got != "dave@localhost/r1" {
				t.Errorf("LocalAddr = %s", got)
			}
			if s.State()&(xmpp.Ready|xmpp.Authn|xmpp.Secure) != xmpp.Ready|xmpp.Authn|xmpp.Secure {
				t.Errorf("state = %v", s.State())
			}
			got := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- s.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
					if start.Name.Local != "message" {
						return nil
					}
					var body strings.Builder
					for {
						tok, err := r.Token()
						if err == io.EOF {
							break
						}
						if err != nil {
							return err
						}
						if cd, ok := tok.(xml.CharData); ok {
							body.Write(cd)
						}
					}
					got <- body.String()
					return nil
				}))
			}()
			select {
			case body := <-got:
				if body != "welcome" {
					t.Errorf("message body %q", body)
				}
			case err := <-done:
				t.Fatalf("Serve: %v", err)
			case <-ctx.Done():
				t.Fatal("no message")
			}
			resp, err := s.SendIQ(ctx, stanza.IQ{Type: stanza.GetIQ, To: s.LocalAddr().Domain()}.Wrap(xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "jabber:iq:version", Local: "query"}})))
			if err != nil {
				t.Fatalf("SendIQ: %v", err)
			}
			b, _ := io.ReadAll(xmlReader{resp})
			resp.Close()
			if !strings.Contains(string(b), "fake") {
				t.Errorf("IQ reply: %s", b)
			}
			s.Close()
			s.Conn().Close()
			<-done
		})
	}
}

// xmlReader renders a token stream as text.
type xmlReader struct{ r xml.TokenReader }

func (x xmlReader) Read(p []byte) (int, error) {
	tok, err := x.r.Token()
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	e := xml.NewEncoder(&b)
	if err := e.EncodeToken(xml.CopyToken(tok)); err != nil {
		return 0, err
	}
	e.Flush()
	return copy(p, b.String()), nil
}

// TestStreamEndedWithForm: a server that ends the stream right after the
// form, in the same write, is noticed before the form is sent (the end is
// already buffered), so the error is the stream's end and not an unknown
// outcome. TestStreamEndsBeforeSubmit covers an end that arrives later.
func TestStreamEndedWithForm(t *testing.T) {
	const streamEnd = "<stream:error><connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		get, err := st.Expect("get", "query")
		if err != nil {
			return err
		}
		if err := st.Send(strings.Replace(formReply(legacyForm), "ID", get.Attr("id"), 1) + streamEnd); err != nil {
			return err
		}
		st.Stall(5 * time.Second)
		return nil
	}})
	ctx := testCtx(t)
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(ctx, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, err := conn.Form(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.SetUsername("eve")
	f.SetPassword(testPass)
	err = conn.Submit(ctx, f)
	if err == nil || errors.Is(err, register.ErrOutcomeUnknown) {
		t.Fatalf("err = %v: want a definite failure", err)
	}
	if !errors.Is(err, stream.ConnectionTimeout) {
		t.Errorf("err = %v, want the stream error", err)
	}
	srv.Close()
	if tr := srv.Transcripts()[0]; strings.Contains(tr, "type='set'") {
		t.Errorf("the form was sent:\n%s", tr)
	}
}
