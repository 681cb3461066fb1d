package register_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// echoPass is a password a server can echo as an element name.
const echoPass = "echoed-Pa55word"

// printed returns every way an application might print err: the error
// with each verb, each error of its chain, and the form of an *Error.
func printed(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		out = append(out, fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, err))
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	var e *register.Error
	if errors.As(err, &e) {
		out = append(out, fmt.Sprintf("%v|%+v|%#v|%s", *e, *e, *e, *e))
		if e.Form != nil {
			out = append(out, fmt.Sprintf("%v|%+v|%#v|%s", e.Form, e.Form, e.Form, e.Form))
			out = append(out, fmt.Sprintf("%v|%+v|%#v|%s", *e.Form, *e.Form, *e.Form, *e.Form))
		}
	}
	return out
}

func noEcho(t *testing.T, err error) {
	t.Helper()
	for _, s := range printed(err) {
		if strings.Contains(s, echoPass) {
			t.Errorf("the password is printed: %s", s)
		}
	}
}

// TestSubmitEchoesPassword makes the server echo the submitted password
// where a server can put it in its answer to the submission: the name of
// the stanza error's condition, a form sent with the error, and a stream
// error's condition and text.
func TestSubmitEchoesPassword(t *testing.T) {
	const stanzaNS = "urn:ietf:params:xml:ns:xmpp-stanzas"
	cases := []struct {
		name  string
		reply func(st *fakeserver.Stream, set *fakeserver.Element) error
		check func(t *testing.T, err error)
	}{
		{"stanza error condition",
			func(st *fakeserver.Stream, set *fakeserver.Element) error {
				return st.Sendf("<iq type='error' id='%s'><error type='cancel'><%s xmlns='%s'/><text xmlns='%s'>%s</text></error></iq>",
					set.Attr("id"), echoPass, stanzaNS, stanzaNS, echoPass)
			},
			func(t *testing.T, err error) {
				var e *register.Error
				if !errors.As(err, &e) || e.Stanza == nil || e.Stanza.Condition != stanza.UndefinedCondition {
					t.Errorf("err = %v, want a stanza error with undefined-condition", err)
				}
			}},
		{"form in the error",
			func(st *fakeserver.Stream, set *fakeserver.Element) error {
				return st.ReplyError(set, "modify", "not-acceptable", "try again",
					"<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'><field var='username'><value>bob</value></field><field var='password' type='text-private'><value>"+
						echoPass+"</value></field><field var='pw_hint' type='text-single' label='was "+echoPass+"'><value>"+echoPass+"</value></field></x></query>")
			},
			func(t *testing.T, err error) {
				var e *register.Error
				if !errors.As(err, &e) || e.Form == nil {
					t.Fatalf("err = %v, want an *Error with the server's form", err)
				}
				if fl := e.Form.Field("pw_hint"); fl == nil || fl.Value() != "[redacted]" || fl.Label != "was [redacted]" {
					t.Errorf("field pw_hint = %+v, want the password redacted", fl)
				}
				if fl := e.Form.Field("username"); fl == nil || fl.Value() != "bob" {
					t.Errorf("field username = %+v, want its value kept", fl)
				}
			}},
		{"stream error",
			func(st *fakeserver.Stream, set *fakeserver.Element) error {
				const ns = "urn:ietf:params:xml:ns:xmpp-streams"
				return st.Sendf("<stream:error><%s xmlns='%s'>%s</%s><text xmlns='%s'>%s</text></stream:error></stream:stream>",
					echoPass, ns, echoPass, echoPass, ns, echoPass)
			},
			func(t *testing.T, err error) {
				var se stream.Error
				if !errors.As(err, &se) || se.Err != "undefined-condition" {
					t.Errorf("err = %v, want a stream error with undefined-condition", err)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeserver.Start(t, fakeserver.Config{Handler: formThen(formReply(legacyForm), func(st *fakeserver.Stream) error {
				set, err := st.Expect("set", "query")
				if err != nil {
					return err
				}
				return c.reply(st, set)
			})})
			cl := register.Client{Dialer: fakeDialer(srv, nil)}
			_, err := cl.Register(context.Background(), "localhost", register.Request{Username: "bob", Password: echoPass})
			if err == nil {
				t.Fatal("no error")
			}
			c.check(t, err)
			noEcho(t, err)
		})
	}
}

// TestSASLFailureEchoesPassword makes the server name the condition of
// its SASL <failure/> after the password.
func TestSASLFailureEchoesPassword(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := negotiated(st); err != nil {
			return err
		}
		if _, err := st.Next(); err != nil {
			return err
		}
		return st.Sendf("<failure xmlns='%s'><%s/><text>%s</text></failure>", fakeserver.NSSASL, echoPass, echoPass)
	}})
	d := fakeDialer(srv, nil)
	conn, err := d.Dial(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Login(context.Background(), "leo", echoPass)
	var f *register.SASLError
	if !errors.Is(err, register.ErrLoginFailed) || !errors.As(err, &f) || f.Condition != "undefined-condition" {
		t.Fatalf("err = %v, want a SASL failure with undefined-condition", err)
	}
	noEcho(t, err)
}

// TestSCRAMServerFirstRefused sends server-first-messages that make
// mellium.im/sasl v0.3.2 loop forever (a malformed last attribute) or
// compute for hours (a huge iteration count): the login must fail as a
// protocol error instead.
func TestSCRAMServerFirstRefused(t *testing.T) {
	cases := map[string]func(nonce string) string{
		"no attribute":       func(string) string { return "abc" },
		"binary":             func(string) string { return "\x00\xff\x10garbage\x01" },
		"malformed last":     func(n string) string { return "r=" + n + "srv,s=c2FsdA==,i=4096,xyz" },
		"huge iterations":    func(n string) string { return "r=" + n + "srv,s=c2FsdA==,i=2147483647" },
		"password echoed":    func(string) string { return echoPass },
		"missing iterations": func(n string) string { return "r=" + n + "srv,s=c2FsdA==" },
	}
	for name, first := range cases {
		t.Run(name, func(t *testing.T) {
			srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := negotiated(st); err != nil {
					return err
				}
				auth, err := st.Next()
				if err != nil {
					return err
				}
				cf, _ := base64.StdEncoding.DecodeString(auth.Text)
				nonce := string(cf[strings.Index(string(cf), "r=")+2:])
				if err := st.Sendf("<challenge xmlns='%s'>%s</challenge>", fakeserver.NSSASL, base64.StdEncoding.EncodeToString([]byte(first(nonce)))); err != nil {
					return err
				}
				_, err = st.Next()
				return err
			}})
			d := fakeDialer(srv, nil)
			conn, err := d.Dial(context.Background(), "localhost")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			done := make(chan error, 1)
			go func() {
				_, err := conn.Login(context.Background(), "leo", echoPass)
				done <- err
			}()
			// A watchdog, not a timing assertion: without the check the
			// call never returns.
			select {
			case err = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatal("Login hangs on the server-first-message")
			}
			if !errors.Is(err, register.ErrLoginFailed) || !errors.Is(err, register.ErrProtocol) {
				t.Fatalf("err = %v, want a failed login for a protocol error", err)
			}
			noEcho(t, err)
		})
	}
}
