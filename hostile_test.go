package onboard_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// Tests with the in-process fake server, for what real servers will not
// do on cue: answer late at a chosen moment, stall forever after a chosen
// step, or drop the connection right after a submission.

const legacyForm = `<query xmlns='jabber:iq:register'><instructions>Choose a username and password.</instructions><username/><password/></query>`

// accounts is the user database of one fake server.
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

// fakeProvider starts a fake server for domain that registers accounts
// and logs them in. beforeForm, if set, runs before the form is sent
// (return false to stall instead); afterSet, if set, decides what happens
// to a submission (return false to cut the connection).
type fakeOpts struct {
	beforeForm func(st *fakeserver.Stream) bool
	afterSet   func(st *fakeserver.Stream, user, pass string) bool
}

func fakeProvider(t *testing.T, net *network, domain string, db *accounts, o fakeOpts) *fakeserver.Server {
	srv := fakeserver.Start(t, fakeserver.Config{Domain: domain, Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		for {
			e, err := st.Next()
			if err != nil {
				return err
			}
			switch {
			case e.Name.Local == "iq" && e.Attr("type") == "get":
				if o.beforeForm != nil && !o.beforeForm(st) {
					st.Stall(time.Minute)
					return nil
				}
				if err := st.Reply(e, legacyForm); err != nil {
					return err
				}
			case e.Name.Local == "iq" && e.Attr("type") == "set":
				u, _ := e.Field("username")
				p, _ := e.Field("password")
				if o.afterSet != nil && !o.afterSet(st, u, p) {
					return st.Cut()
				}
				db.add(u, p)
				if err := st.Reply(e, ""); err != nil {
					return err
				}
			case e.Name.Local == "auth":
				return errors.New("fake: unexpected auth")
			}
			if e.Name.Local == "iq" && e.Attr("type") == "set" {
				user, err := st.SASL(db.password)
				if err != nil {
					return err
				}
				return st.Bind(user)
			}
		}
	}})
	net.add(domain, srv.Addr, srv.CA)
	return srv
}

// loginOnly serves logins (the confirmation after a cut).
func loginOnly(st *fakeserver.Stream, db *accounts) error {
	if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
		return err
	}
	user, err := st.SASL(db.password)
	if err != nil {
		return err
	}
	return st.Bind(user)
}

// TestPreferEarlier: the first candidate answers a moment after the
// second; the first is still taken, because the order is the user's
// preference and the fair shuffle.
func TestPreferEarlier(t *testing.T) {
	net := newNetwork()
	secondSent := make(chan struct{})
	var once sync.Once
	fakeProvider(t, net, "first.example", &accounts{}, fakeOpts{beforeForm: func(st *fakeserver.Stream) bool {
		select {
		case <-secondSent:
		case <-time.After(10 * time.Second):
		}
		return true
	}})
	fakeProvider(t, net, "second.example", &accounts{}, fakeOpts{beforeForm: func(st *fakeserver.Stream) bool {
		defer once.Do(func() { time.AfterFunc(20*time.Millisecond, func() { close(secondSent) }) })
		return true
	}})
	check := noLeak(t)
	rec := &recorder{t: t}
	s := onboard.Signup{Username: "romeo", Password: testPass, Language: "de", Country: "de", Query: ordered(),
		Providers: list(provider("first.example", "de", "de"), provider("second.example", "en", "us")),
		Dialer:    net.Dialer(), Progress: rec.progress}
	res, err := s.Run(testCtx(t, 20*time.Second))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	closeResult(t, res)
	if res.JID.String() != "romeo@first.example" || len(res.Attempts) != 0 {
		t.Errorf("account %v, attempts %v", res.JID, res.Attempts)
	}
	if rec.count(onboard.StageForm, "second.example") != 1 {
		t.Errorf("second.example was not verified: %v", rec.events)
	}
	check()
}

// TestPreferBounded: the first candidate stalls after TLS; the second is
// taken after a short wait, long before the first's Timeout.
func TestPreferBounded(t *testing.T) {
	net := newNetwork()
	fakeProvider(t, net, "first.example", &accounts{}, fakeOpts{beforeForm: func(*fakeserver.Stream) bool { return false }})
	fakeProvider(t, net, "second.example", &accounts{}, fakeOpts{})
	check := noLeak(t)
	s := onboard.Signup{Username: "romeo", Password: testPass, Language: "de", Country: "de", Query: ordered(),
		Providers: list(provider("first.example", "de", "de"), provider("second.example", "en", "us")),
		Dialer:    net.Dialer(), Timeout: time.Minute}
	// Were the first awaited until its Timeout, ctx would end first.
	res, err := s.Run(testCtx(t, 20*time.Second))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	closeResult(t, res)
	if res.JID.String() != "romeo@second.example" || len(res.Attempts) != 0 {
		t.Errorf("account %v, attempts %v", res.JID, res.Attempts)
	}
	check()
}

// TestOutcomeUnknown: the connection breaks right after the submission.
// A login on a new connection tells whether the account exists: if so it
// is the result; if not, the next provider is tried.
func TestOutcomeUnknown(t *testing.T) {
	for _, created := range []bool{true, false} {
		name := map[bool]string{true: "created", false: "not created"}[created]
		t.Run(name, func(t *testing.T) {
			for _, reuse := range []bool{false, true} {
				if created && !reuse {
					continue
				}
				net := newNetwork()
				db := &accounts{}
				srv := fakeserver.Start(t, fakeserver.Config{Domain: "cut.example", Handler: func(st *fakeserver.Stream) error {
					if st.N > 0 {
						return loginOnly(st, db)
					}
					if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
						return err
					}
					get, err := st.Expect("get", "query")
					if err != nil {
						return err
					}
					st.Reply(get, legacyForm)
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
				}})
				net.add("cut.example", srv.Addr, srv.CA)
				fakeProvider(t, net, "open.example", &accounts{}, fakeOpts{})
				check := noLeak(t)
				rec := &recorder{t: t}
				s := onboard.Signup{Username: "juliet", Password: testPass, Language: "de", Country: "de", Query: ordered(),
					Providers: list(provider("cut.example", "de", "de"), provider("open.example", "en", "us")),
					Dialer:    net.Dialer(), Parallel: 1, Progress: rec.progress, ReusePassword: reuse}
				res, err := s.Run(testCtx(t, 20*time.Second))
				if !created && !reuse {
					// The password may have reached cut.example: by default
					// it goes to no other provider.
					if res != nil || !errors.Is(err, onboard.ErrPasswordSent) || !errors.Is(err, register.ErrOutcomeUnknown) {
						t.Fatalf("Run without ReusePassword: %v, want ErrPasswordSent", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				closeResult(t, res)
				if created {
					if res.JID.String() != "juliet@cut.example" || len(res.Attempts) != 0 || srv.Accepted() != 2 {
						t.Errorf("account %v, attempts %v, %d connections", res.JID, res.Attempts, srv.Accepted())
					}
				} else {
					if res.JID.String() != "juliet@open.example" || len(res.Attempts) != 1 {
						t.Fatalf("account %v, attempts %v", res.JID, res.Attempts)
					}
					a := res.Attempts[0]
					if a.Domain != "cut.example" || a.Step != onboard.StepConfirm || !errors.Is(a, register.ErrOutcomeUnknown) {
						t.Errorf("attempt %v", a)
					}
					noSecret(t, "attempt error", a.Error(), testPass)
				}
				check()
			}
		})
	}
}

// TestCancel: cancelling the context stops every verification at once;
// nothing is left running.
func TestCancel(t *testing.T) {
	net := newNetwork()
	for _, d := range []string{"a.example", "b.example", "c.example"} {
		fakeProvider(t, net, d, &accounts{}, fakeOpts{beforeForm: func(*fakeserver.Stream) bool { return false }})
	}
	check := noLeak(t)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{t: t}
	s := onboard.Signup{Password: testPass, Dialer: net.Dialer(), Timeout: time.Minute,
		Providers: list(provider("a.example", "en", "de"), provider("b.example", "en", "de"), provider("c.example", "en", "de")),
		Progress: func(e onboard.Event) {
			rec.progress(e)
			if rec.count(onboard.StageSecured, "") == 3 {
				cancel()
			}
		}}
	_, err := s.Run(ctx)
	var npe *onboard.NoProviderError
	if !errors.As(err, &npe) || !errors.Is(err, context.Canceled) || npe.Candidates != 3 {
		t.Fatalf("Run: %v", err)
	}
	check()
}
