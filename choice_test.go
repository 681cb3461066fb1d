package onboard_test

// Issue 14 through onboard.Signup: a typed username is the user's choice
// (not silently renamed), CAPTCHA feedback after a wrong answer, several
// challenges, and invitation links as people receive them.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// choiceServer is a scripted provider: a conflict for names in db, a
// CAPTCHA form when captcha is set (each form with a new challenge id and
// image cid), and refusals of the first wrongAnswers answers.
type choiceServer struct {
	db           accounts
	features     string
	form         func(n int) string // the n-th form (from 0)
	wrongAnswers int                // refuse that many submissions with cancel/not-acceptable
	newFormInErr bool               // send the next form with the refusal

	mu          sync.Mutex
	forms, subs int
	tokens      []string
	submitted   []*fakeserver.Element
}

func (c *choiceServer) start(t *testing.T, net *network, domain string) *fakeserver.Server {
	srv := fakeserver.Start(t, fakeserver.Config{Domain: domain, Handler: func(st *fakeserver.Stream) error {
		feats := c.features
		if feats == "" {
			feats = fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")
		}
		if err := st.Negotiate(feats); err != nil {
			return err
		}
		for {
			e, err := st.Next()
			if err != nil {
				return err
			}
			if e.Name.Local == "auth" {
				// The authentication pipelined with a refused
				// registration.
				st.Send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>")
				continue
			}
			if e.Name.Local != "iq" {
				continue
			}
			c.mu.Lock()
			switch {
			case e.Child("preauth") != nil:
				c.tokens = append(c.tokens, e.Child("preauth").Attr("token"))
				c.mu.Unlock()
				st.Reply(e, "")
				continue
			case e.Attr("type") == "get":
				n := c.forms
				c.forms++
				c.mu.Unlock()
				st.Reply(e, c.form(n))
				continue
			}
			c.submitted = append(c.submitted, e)
			n := c.subs
			c.subs++
			forms := c.forms
			c.mu.Unlock()
			user, _ := e.Field("username")
			pass, _ := e.Field("password")
			if _, ok := c.db.password(user); ok {
				st.ReplyError(e, "cancel", "conflict", "")
				continue
			}
			if n < c.wrongAnswers {
				payload := ""
				if c.newFormInErr {
					c.mu.Lock()
					c.forms++
					c.mu.Unlock()
					payload = c.form(forms)
				}
				// XEP-0158 §3.1.3: a wrong answer is cancel/not-acceptable.
				st.ReplyError(e, "cancel", "not-acceptable", "", payload)
				continue
			}
			c.db.add(user, pass)
			st.Reply(e, "")
			u, err := st.SASL(c.db.password)
			if err != nil {
				return err
			}
			return st.Bind(u)
		}
	}})
	net.add(domain, srv.Addr, srv.CA)
	return srv
}

func (c *choiceServer) submissions() []*fakeserver.Element {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*fakeserver.Element(nil), c.submitted...)
}

// captchaFormN is a CAPTCHA registration form whose challenge and image
// differ with n; extra goes before the username field.
func captchaFormN(n int, extra string) string {
	img := []string{"iVBORw0KGgo=", "R0lGODlhAQABAAAAACw=", "/9j/4AAQSkZJRg=="}[n%3]
	return fmt.Sprintf(`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>`+
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>`+
		`<field type='hidden' var='challenge'><value>ch%d</value></field>`+
		`<field var='ocr' label='Enter the text you see'><required/><media xmlns='urn:xmpp:media-element' height='80' width='290'>`+
		`<uri type='image/png'>cid:img%d@bob.xmpp.org</uri></media></field>%s`+
		`<field var='username'><required/></field><field type='text-private' var='password'><required/></field>`+
		`</x><data xmlns='urn:xmpp:bob' cid='img%d@bob.xmpp.org' type='image/png'>%s</data></query>`, n, n, extra, n, img)
}

// Item 14: a name the user typed is not replaced behind their back, also
// with a fixed Domain; RenameTyped opts in; a generated name is replaced.
func TestTypedNameNotRenamed(t *testing.T) {
	net := newNetwork()
	cs := &choiceServer{form: func(int) string { return legacyForm }}
	cs.db.add("juliet", "other-Passw0rd")
	cs.start(t, net, "taken.example")

	for _, tc := range []struct {
		name   string
		domain bool
	}{{"fixed domain", true}, {"from the list", false}} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(cs.submissions())
			s := onboard.Signup{Username: "Juliet", Password: testPass, Dialer: net.Dialer()}
			if tc.domain {
				s.Domain = "taken.example"
			} else {
				s.Providers = list(provider("taken.example", "en", "de"))
			}
			res, err := s.Run(testCtx(t, 20*time.Second))
			var te *onboard.UsernameTakenError
			if res != nil || !errors.As(err, &te) || !errors.Is(err, register.ErrUsernameTaken) {
				t.Fatalf("Run = %v, %v; want a *UsernameTakenError", res, err)
			}
			if te.Username != "juliet" || te.Domain != "taken.example" || len(te.Suggestions) != 3 {
				t.Fatalf("error %+v", te)
			}
			for _, sg := range te.Suggestions {
				if !strings.HasPrefix(sg, "juliet") || len(sg) < len("juliet")+2 {
					t.Errorf("suggestion %q", sg)
				}
			}
			if n := len(cs.submissions()) - before; n != 1 {
				t.Errorf("%d submissions, want 1 (no other name tried)", n)
			}
			var re *register.Error
			if !errors.As(err, &re) || re.Kind != register.KindUsernameTaken {
				t.Errorf("the server's refusal is not kept: %v", err)
			}
		})
	}
	t.Run("RenameTyped", func(t *testing.T) {
		s := onboard.Signup{Username: "juliet", Password: testPass, Domain: "taken.example", Dialer: net.Dialer(), RenameTyped: true}
		res, err := s.Run(testCtx(t, 20*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		if u := res.JID.Localpart(); u == "juliet" || !strings.HasPrefix(u, "juliet") {
			t.Errorf("account %v", res.JID)
		}
	})
	t.Run("generated", func(t *testing.T) {
		taken := ""
		s := onboard.Signup{Password: testPass, Domain: "taken.example", Dialer: net.Dialer(),
			Progress: func(e onboard.Event) {
				if e.Stage == onboard.StageSubmitting && taken == "" {
					// Take the generated name just before it is submitted.
					taken = e.Username
					cs.db.add(taken, "x")
				}
			}}
		res, err := s.Run(testCtx(t, 20*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		if res.JID.Localpart() == taken {
			t.Errorf("generated name %q not replaced", taken)
		}
	})
}

// Item 14 on the real servers: a taken typed name ends with suggestions on
// every server version.
func TestTypedNameNotRenamedReal(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			var srv *testserver.Server
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example", Version: v})
			} else {
				srv = testserver.StartEjabberd(t, testserver.EjabberdConfig{Domain: "open.example", Version: v})
			}
			net := newNetwork()
			net.server("open.example", srv)
			taken := newUser("typed")
			srv.AddUser(t, taken, "whatever-Passw0rd-1")
			s := onboard.Signup{Username: taken, Password: testPass, Domain: "open.example", Dialer: net.Dialer()}
			_, err := s.Run(testCtx(t, 30*time.Second))
			var te *onboard.UsernameTakenError
			if !errors.As(err, &te) || !errors.Is(err, register.ErrUsernameTaken) || len(te.Suggestions) == 0 {
				t.Fatalf("Run: %v", err)
			}
			// With RenameTyped the name gets digits.
			s.RenameTyped = true
			res, err := s.Run(testCtx(t, 30*time.Second))
			if err != nil {
				t.Fatalf("Run with RenameTyped: %v", err)
			}
			closeResult(t, res)
			if u := res.JID.Localpart(); u == taken || !strings.HasPrefix(u, taken) {
				t.Errorf("account %v", res.JID)
			}
		})
	}
}

// Item 13: after a wrong answer the solver is called again knowing why,
// with the new challenge; the new form is taken from the refusal when the
// server sends one there, else fetched.
func TestCaptchaFeedback(t *testing.T) {
	for _, inErr := range []bool{false, true} {
		t.Run(fmt.Sprintf("new form in error %v", inErr), func(t *testing.T) {
			net := newNetwork()
			cs := &choiceServer{wrongAnswers: 1, newFormInErr: inErr, form: func(n int) string {
				return captchaFormN(n, `<field var='captcha-fallback-url' type='text-single'><value>https://captcha.example/solve?id=`+fmt.Sprint(n)+`</value></field>`)
			}}
			cs.start(t, net, "captcha.example")
			var seen []register.Captcha
			s := onboard.Signup{Username: "romeo", Password: testPass, Domain: "captcha.example", Dialer: net.Dialer(),
				SolveCaptcha: func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
					seen = append(seen, *c)
					return "answer", nil
				}}
			res, err := s.Run(testCtx(t, 20*time.Second))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			closeResult(t, res)
			if len(seen) != 2 {
				t.Fatalf("%d CAPTCHAs shown", len(seen))
			}
			first, second := seen[0], seen[1]
			if first.Retry != 0 || first.PreviousError != nil {
				t.Errorf("first: retry %d, previous %v", first.Retry, first.PreviousError)
			}
			if second.Retry != 1 || !errors.Is(second.PreviousError, register.ErrCaptchaFailed) {
				t.Errorf("second: retry %d, previous %v", second.Retry, second.PreviousError)
			}
			if second.Challenge == first.Challenge || string(second.Image) == string(first.Image) || second.CID == first.CID {
				t.Errorf("the same challenge again: %q %q", first.Challenge, second.Challenge)
			}
			if first.FallbackURL != "https://captcha.example/solve?id=0" || second.FallbackURL == first.FallbackURL {
				t.Errorf("fallback %q, %q", first.FallbackURL, second.FallbackURL)
			}
			cs.mu.Lock()
			forms := cs.forms
			cs.mu.Unlock()
			if want := 2; forms != want {
				t.Errorf("%d forms served, want %d", forms, want)
			}
		})
	}
	// A fallback link over plain http is not offered.
	f, err := register.ParseForm([]byte(captchaFormN(0, `<field var='captcha-fallback-url'><value>http://captcha.example/solve</value></field>`)))
	if err != nil || f.Captcha == nil || f.Captcha.FallbackURL != "" {
		t.Fatalf("form %v, %v", f, err)
	}
}

// Item 13 on ejabberd (23.01 and 24.12): a wrong answer, then the right
// one; the solver learns of the refusal and gets a new challenge.
func TestCaptchaFeedbackEjabberd(t *testing.T) {
	testserver.ForEach(t, testserver.KindEjabberd, func(t *testing.T, v string) {
		srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{Domain: "captcha.example", Version: v, Captcha: true})
		net := newNetwork()
		net.server("captcha.example", srv)
		var seen []register.Captcha
		s := onboard.Signup{Username: newUser("fb"), Password: testPass, Domain: "captcha.example", Dialer: net.Dialer(),
			SolveCaptcha: func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
				seen = append(seen, *c)
				if len(seen) == 1 {
					return "wrong", nil
				}
				a := srv.CaptchaAnswers()
				return a[len(a)-1], nil
			}}
		res, err := s.Run(testCtx(t, 60*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		if len(seen) != 2 {
			t.Fatalf("%d CAPTCHAs", len(seen))
		}
		if seen[1].Retry != 1 || !errors.Is(seen[1].PreviousError, register.ErrCaptchaFailed) {
			t.Errorf("second: retry %d, previous %v", seen[1].Retry, seen[1].PreviousError)
		}
		if seen[1].Challenge == seen[0].Challenge || len(seen[1].Image) == 0 {
			t.Errorf("no new challenge: %q %q, %d bytes", seen[0].Challenge, seen[1].Challenge, len(seen[1].Image))
		}
		// The test server's fallback page is http on loopback: not offered.
		if seen[0].FallbackURL != "" {
			t.Errorf("fallback %q offered", seen[0].FallbackURL)
		}
	})
}

// Item 4 through Signup: a form with a required question besides the
// image gets both answered (XEP-0158 §3.2), each by SolveCaptcha.
func TestSeveralChallenges(t *testing.T) {
	net := newNetwork()
	cs := &choiceServer{form: func(n int) string {
		return captchaFormN(n, `<field type='hidden' var='answers'><value>2</value></field><field var='qa' label='Type the color of a stop light'><required/></field>`)
	}}
	cs.start(t, net, "captcha.example")
	var types []string
	s := onboard.Signup{Username: "romeo", Password: testPass, Domain: "captcha.example", Dialer: net.Dialer(),
		SolveCaptcha: func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
			types = append(types, c.Type)
			return "red", nil
		}}
	res, err := s.Run(testCtx(t, 20*time.Second))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	closeResult(t, res)
	if strings.Join(types, " ") != "ocr qa" {
		t.Errorf("challenges shown %v", types)
	}
	sub := cs.submissions()
	for _, v := range []string{"ocr", "qa"} {
		if val, _ := sub[len(sub)-1].Field(v); val != "red" {
			t.Errorf("%s = %q", v, val)
		}
	}
}

// invitePage serves an invitation page like Prosody's mod_invites_page
// (the URI in <link rel="alternate">) over https on loopback.
func invitePage(t *testing.T, uri string) (*httptest.Server, *int) {
	var mu sync.Mutex
	hits := new(int)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*hits++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Invite</title>`+
			`<link rel="stylesheet" href="/share/bootstrap4/css/bootstrap.min.css"><link rel="alternate" href="%s"></head>`+
			`<body><a href="%s">Join</a></body></html>`, uri, uri)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// Item 11: invitation links as people receive them.
func TestInviteLinks(t *testing.T) {
	net := newNetwork()
	cs := &choiceServer{features: fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1"),
		form: func(int) string { return legacyForm }}
	cs.start(t, net, "invite.example")
	page, hits := invitePage(t, "xmpp:invite.example?register;preauth=TOKEN-page-1")
	link := page.URL + "/invite?TOKEN-page-1"

	t.Run("landing page fragment", func(t *testing.T) {
		s := onboard.Signup{Username: newUser("frag"), Password: testPass, Dialer: net.Dialer(),
			Invite: "https://xmpp.link/#invite.example?register;preauth=TOKEN-frag-1"}
		res, err := s.Run(testCtx(t, 20*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		cs.mu.Lock()
		tok := cs.tokens[len(cs.tokens)-1]
		cs.mu.Unlock()
		if res.JID.Domainpart() != "invite.example" || tok != "TOKEN-frag-1" {
			t.Errorf("account %v, token %q", res.JID, tok)
		}
	})
	t.Run("page not allowed", func(t *testing.T) {
		s := onboard.Signup{Username: newUser("pg"), Password: testPass, Dialer: net.Dialer(), Invite: link}
		_, err := s.Run(testCtx(t, 20*time.Second))
		if !errors.Is(err, onboard.ErrMalformedInvite) || !errors.Is(err, register.ErrInvitePage) || *hits != 0 {
			t.Fatalf("Run: %v (%d fetches)", err, *hits)
		}
		noSecret(t, "error", err.Error(), "TOKEN-page-1")
	})
	t.Run("page public only", func(t *testing.T) {
		// The default destination policy refuses the loopback page.
		s := onboard.Signup{Username: newUser("pg"), Password: testPass, Dialer: net.Dialer(), Invite: link,
			InvitePages: &register.InviteFetcher{}}
		_, err := s.Run(testCtx(t, 20*time.Second))
		if !errors.Is(err, register.ErrForbiddenDestination) || *hits != 0 {
			t.Fatalf("Run: %v (%d fetches)", err, *hits)
		}
	})
	t.Run("page fetched", func(t *testing.T) {
		s := onboard.Signup{Username: newUser("pg"), Password: testPass, Dialer: net.Dialer(), Invite: link,
			InvitePages: &register.InviteFetcher{Client: page.Client(), Destinations: register.AllowAll}}
		res, err := s.Run(testCtx(t, 20*time.Second))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		closeResult(t, res)
		cs.mu.Lock()
		tok := cs.tokens[len(cs.tokens)-1]
		cs.mu.Unlock()
		if res.JID.Domainpart() != "invite.example" || tok != "TOKEN-page-1" || *hits != 1 {
			t.Errorf("account %v, token %q, %d fetches", res.JID, tok, *hits)
		}
	})
}

// Item 11 on Prosody (0.12 and 13, invite-only): the real invitation URI
// behind an invitation page and behind a landing page fragment.
func TestInviteLinksProsody(t *testing.T) {
	testserver.ForEach(t, testserver.KindProsody, func(t *testing.T, v string) {
		srv := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "invite.example", Version: v, Registration: testserver.RegistrationInvite})
		net := newNetwork()
		net.server("invite.example", srv)

		uri := srv.InviteURI(t)
		page, hits := invitePage(t, uri)
		token := uri[strings.Index(uri, "preauth=")+len("preauth="):]
		s := onboard.Signup{Username: newUser("page"), Password: testPass, Dialer: net.Dialer(),
			Invite:      page.URL + "/invite?" + token,
			InvitePages: &register.InviteFetcher{Client: page.Client(), Destinations: register.AllowAll}}
		res, err := s.Run(testCtx(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Run with the page: %v", err)
		}
		closeResult(t, res)
		if res.JID.Domainpart() != "invite.example" || *hits != 1 {
			t.Errorf("account %v, %d fetches", res.JID, *hits)
		}

		uri = srv.InviteURI(t)
		s = onboard.Signup{Username: newUser("frag"), Password: testPass, Dialer: net.Dialer(),
			Invite: "https://xmpp.link/#" + strings.TrimPrefix(uri, "xmpp:")}
		res, err = s.Run(testCtx(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Run with the landing page link: %v", err)
		}
		closeResult(t, res)
		// Without an invitation the server is closed.
		s = onboard.Signup{Username: newUser("none"), Password: testPass, Dialer: net.Dialer(), Domain: "invite.example"}
		if _, err := s.Run(testCtx(t, 30*time.Second)); err == nil {
			t.Fatal("registered without an invitation")
		}
	})
}
