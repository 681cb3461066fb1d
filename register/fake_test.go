package register_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

const (
	legacyForm = `<query xmlns='jabber:iq:register'><instructions>Choose a username and password.</instructions><username/><password/></query>`
	testPass   = "s3cret-Pa55word!"
)

// accounts is a user database shared by the connections of a fake server.
type accounts struct {
	mu    sync.Mutex
	users map[string]string
}

func (a *accounts) add(user, pass string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.users == nil {
		a.users = map[string]string{}
	}
	a.users[user] = pass
}

func (a *accounts) password(user string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.users[user]
	return p, ok
}

// fakeDialer returns a Dialer for srv that records the debug output.
func fakeDialer(srv *fakeserver.Server, debug *strings.Builder) register.Dialer {
	d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), Timeout: 5 * time.Second}
	if debug != nil {
		var mu sync.Mutex
		d.Debug = func(dir string, xml []byte) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(debug, "%s: %s\n", dir, xml)
		}
	}
	return d
}

// registrationHandler serves GET (form) and SET (register) and then SASL +
// bind, like a real server. It offers SCRAM-SHA-1-PLUS (which always
// fails, like ejabberd 23.01's), SCRAM-SHA-1 and PLAIN.
func registrationHandler(db *accounts, form string) func(*fakeserver.Stream) error {
	return registrationHandlerWith(db, form, "")
}

// channelBindings is the XEP-0440 feature advertising tls-exporter.
const channelBindings = `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/></sasl-channel-binding>`

// registrationHandlerWith is registrationHandler with more features.
func registrationHandlerWith(db *accounts, form, features string) func(*fakeserver.Stream) error {
	return func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN") + features); err != nil {
			return err
		}
		if err := serveRegistration(st, db, form); err != nil {
			return err
		}
		user, err := st.SASL(db.password)
		if err != nil {
			return err
		}
		return st.Bind(user)
	}
}

// serveRegistration answers invitation tokens (any is accepted), form
// requests and submissions on a secured stream until a registration
// succeeds. A conflict is refused and the loop goes on.
func serveRegistration(st *fakeserver.Stream, db *accounts, form string) error {
	for {
		e, err := st.Next()
		if err != nil {
			return err
		}
		switch {
		case e.Name.Local != "iq":
		case e.Child("preauth") != nil:
			st.Reply(e, "")
		case e.Attr("type") == "get":
			st.Reply(e, form)
		case e.Attr("type") == "set":
			user, _ := e.Field("username")
			pass, _ := e.Field("password")
			if _, ok := db.password(user); ok {
				st.ReplyError(e, "cancel", "conflict", "User already exists")
				continue
			}
			db.add(user, pass)
			return st.Reply(e, "")
		}
	}
}

func TestFakeRegisterLogin(t *testing.T) {
	for _, tc := range []struct {
		name     string
		features string
		noPipe   bool
		wantPLUS bool
	}{
		// TLS 1.3 and -PLUS without XEP-0440, like ejabberd 23.01: no
		// -PLUS attempt.
		{name: "no XEP-0440"},
		{name: "no XEP-0440, sequential", noPipe: true},
		// tls-exporter advertised: -PLUS is tried, refused by the fake
		// server, and SCRAM-SHA-1 retried on the same stream.
		{name: "tls-exporter advertised", features: channelBindings, wantPLUS: true},
		{name: "tls-exporter advertised, sequential", features: channelBindings, noPipe: true, wantPLUS: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := &accounts{}
			srv := fakeserver.Start(t, fakeserver.Config{Handler: registrationHandlerWith(db, legacyForm, tc.features)})
			var debug strings.Builder
			d := fakeDialer(srv, &debug)
			d.NoPipelining = tc.noPipe
			c := register.Client{Dialer: d}
			var stages []register.Stage
			c.Progress = func(e register.Event) { stages = append(stages, e.Stage) }
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			acct, err := c.Register(ctx, "localhost", register.Request{Username: "Alice", Password: testPass, Login: true})
			if err != nil {
				t.Fatalf("Register: %v\n%s", err, debug.String())
			}
			defer acct.Session.Close()
			if got := acct.JID.String(); got != "alice@localhost" {
				t.Errorf("JID = %s", got)
			}
			if got := acct.Session.LocalAddr().String(); got != "alice@localhost/fake" {
				t.Errorf("session address = %s", got)
			}
			if p, _ := db.password("alice"); p != testPass {
				t.Errorf("server stored password %q", p)
			}
			want := []register.Stage{register.StageConnecting, register.StageGreeted, register.StageSecured, register.StageForm, register.StageSubmitting, register.StageRegistered, register.StageLoggingIn, register.StageLoggedIn}
			if fmt.Sprint(stages) != fmt.Sprint(want) {
				t.Errorf("stages = %v, want %v", stages, want)
			}
			if strings.Contains(debug.String(), testPass) {
				t.Errorf("debug output contains the password:\n%s", debug.String())
			}
			if !strings.Contains(debug.String(), "[redacted]") {
				t.Errorf("debug output has no redaction:\n%s", debug.String())
			}
			if s := fmt.Sprintf("%v %+v %#v", acct, acct, acct); strings.Contains(s, testPass) {
				t.Errorf("formatted account shows the password: %s", s)
			}
			if n := srv.Accepted(); n != 1 {
				t.Errorf("%d connections, want 1", n)
			}
			tr := srv.Transcripts()[0]
			if got := strings.Contains(tr, "SCRAM-SHA-1-PLUS"); got != tc.wantPLUS {
				t.Errorf("-PLUS attempted: %v, want %v:\n%s", got, tc.wantPLUS, tr)
			}
			if !strings.Contains(tr, "mechanism='SCRAM-SHA-1'") {
				t.Errorf("no SCRAM-SHA-1 login:\n%s", tr)
			}
			if strings.Contains(tr, "PLAIN") {
				t.Errorf("PLAIN was used:\n%s", tr)
			}
		})
	}
}

func TestFakeConflict(t *testing.T) {
	db := &accounts{}
	db.add("bob", "x")
	srv := fakeserver.Start(t, fakeserver.Config{Handler: registrationHandler(db, legacyForm)})
	c := register.Client{Dialer: fakeDialer(srv, nil)}
	_, err := c.Register(context.Background(), "localhost", register.Request{Username: "bob", Password: testPass})
	if !errors.Is(err, register.ErrUsernameTaken) {
		t.Fatalf("err = %v, want ErrUsernameTaken", err)
	}
	if !errors.Is(err, stanza.Error{Condition: stanza.Conflict}) {
		t.Errorf("err = %v does not match the stanza error", err)
	}
	var e *register.Error
	if !errors.As(err, &e) || e.Stanza == nil || e.Stanza.Type != stanza.Cancel {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Errorf("error shows password: %v", err)
	}
}
