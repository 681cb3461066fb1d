package hardening_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// insecureServers are servers on which no credential may ever be sent:
// the stream is not encrypted, or not with a certificate valid for the
// domain.
func insecureServers() []hostile {
	var out []hostile
	for _, c := range hostileCases() {
		switch c.name {
		case "PLAIN only over plain text", "STARTTLS stripped", "STARTTLS refused",
			"plain text injected after proceed", "garbage instead of a TLS handshake",
			"certificate for another domain", "certificate for another domain, direct TLS",
			"certificate from an unknown authority":
			out = append(out, c)
		}
	}
	return out
}

// TestCredentialsNeverBeforeTLS logs in, registers and probes with an
// account on servers that strip or break TLS or present a certificate
// that is not valid for the domain, and checks every connection's
// transcript: nothing but the stream header and <starttls/> may have been
// sent, and in particular no password in any form, no <auth/> and no
// registration query.
func TestCredentialsNeverBeforeTLS(t *testing.T) {
	servers := insecureServers()
	if len(servers) != 8 {
		t.Fatalf("%d insecure servers, want 8", len(servers))
	}
	flows := map[string]func(ctx context.Context, d register.Dialer, srv *fakeserver.Server) error{
		"Register": func(ctx context.Context, d register.Dialer, _ *fakeserver.Server) error {
			c := register.Client{Dialer: d}
			_, err := c.Register(ctx, fakeDomain, register.Request{Username: user, Password: secret, Login: true, Force: true})
			return err
		},
		"Confirm": func(ctx context.Context, d register.Dialer, _ *fakeserver.Server) error {
			ok, err := d.Confirm(ctx, fakeDomain, user, secret)
			if ok {
				return errors.New("Confirm reported success")
			}
			return err
		},
		"Probe": func(ctx context.Context, d register.Dialer, srv *fakeserver.Server) error {
			p := &discovery.Prober{
				TLSConfig: d.TLSConfig,
				Skip:      discovery.PartHTTP,
				Timeout:   5 * time.Second,
				NetDialer: &loopbackDialer{},
				Account:   &discovery.Credentials{Username: user, Password: secret, AllowPlain: true},
			}
			if d.DirectTLS {
				p.DirectTLSAddrs = map[string]string{fakeDomain: srv.Addr}
			} else {
				p.Addrs = map[string]string{fakeDomain: srv.Addr}
			}
			r, err := p.Probe(ctx, fakeDomain)
			if err != nil {
				return err
			}
			if r.Login.Status.State == discovery.Observed {
				return errors.New("probe logged in")
			}
			return r.Login.Status.Err
		},
	}
	for _, c := range servers {
		for _, name := range []string{"Register", "Confirm", "Probe"} {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				srv := fakeserver.Start(t, c.server)
				out := &outputs{}
				var err error
				bounded(t, deadline, func(ctx context.Context, cl *closers) {
					cl.add(srv.Close)
					d := dialerFor(srv, c.server.DirectTLS, out)
					d.AllowPLAIN = true
					if c.dialer != nil {
						c.dialer(&d)
					}
					if name == "Probe" && c.prober != nil {
						// The prober's own trust settings for this case.
						p := &discovery.Prober{TLSConfig: d.TLSConfig}
						c.prober(p)
						d.TLSConfig = p.TLSConfig
					}
					err = flows[name](ctx, d, srv)
				})
				if err == nil {
					t.Fatal("no error")
				}
				out.errs(err)
				out.check(t)
				trs := srv.Transcripts()
				if len(trs) == 0 {
					t.Fatal("no connection reached the server")
				}
				// Nothing of the account may be sent. The prober still asks
				// its unauthenticated questions over TLS with an invalid
				// certificate, to report what the server shows (see the
				// discovery docs); register sends nothing at all.
				forbidden := []string{"<auth", "<password", "<username", user}
				if name != "Probe" {
					forbidden = append(forbidden, "<iq", "jabber:iq:register")
				}
				for i, tr := range trs {
					noLeak(t, fmt.Sprintf("connection %d", i), tr, secret)
					for _, bad := range forbidden {
						if strings.Contains(tr, bad) {
							t.Errorf("connection %d: %q sent before TLS with a valid certificate:\n%s", i, bad, tr)
						}
					}
				}
			})
		}
	}
}

// echo is a hostile server that plays along until the client has sent the
// password over TLS, and then sends it back in some place an application
// might print.
type echo struct {
	name    string
	s       script
	handler func(*fakeserver.Stream) error // instead of s
	// login: run Client.Register with Login; probe: also probe with an
	// account (for echoes during SASL).
	login, probe bool
	// invite: the secret is the invitation token, not the password.
	invite bool
	// short: the client can only give up at its deadline.
	short bool
	want  matcher
}

func echoes() []echo {
	stanzaNS := "urn:ietf:params:xml:ns:xmpp-stanzas"
	saslFail := func(inner string) func(*fakeserver.Stream, *fakeserver.Element) error {
		return raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + inner + "</failure>")
	}
	echoQuery := func(st *fakeserver.Stream, iq *fakeserver.Element) error {
		// ejabberd sends the submitted query back with its errors.
		q := iq.Child("query")
		return st.ReplyError(iq, "cancel", "conflict", "", q.Raw)
	}
	return []echo{
		{name: "stanza error text", want: is(register.ErrUsernameTaken),
			s: script{submit: func(st *fakeserver.Stream, iq *fakeserver.Element) error {
				return st.ReplyError(iq, "cancel", "conflict", "the password "+secret+" is taken by "+user)
			}}},
		{name: "stanza error condition", want: as[*register.Error](),
			s: script{submit: raw("<iq type='error' id='ID'><error type='cancel'><" + secret + " xmlns='" + stanzaNS + "'/></error></iq>")}},
		{name: "stanza error by attribute", want: is(register.ErrUsernameTaken),
			s: script{submit: raw("<iq type='error' id='ID'><error type='cancel' by='" + secret + "'><conflict xmlns='" + stanzaNS + "'/></error></iq>")}},
		{name: "application condition", want: is(register.ErrUsernameTaken),
			s: script{submit: raw("<iq type='error' id='ID'><error type='cancel'><conflict xmlns='" + stanzaNS + "'/><" + secret + " xmlns='urn:example:" + secret + "'/></error></iq>")}},
		{name: "echoed query", want: is(register.ErrUsernameTaken),
			s: script{submit: echoQuery}},
		{name: "form in the error", want: as[*register.Error](),
			s: script{submit: func(st *fakeserver.Stream, iq *fakeserver.Element) error {
				return st.ReplyError(iq, "modify", "not-acceptable", "try again",
					"<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'><field var='username'><value>"+user+"</value></field><field var='password' type='text-private'><value>"+secret+"</value></field><field var='pw_hint' type='text-single'><value>"+secret+"</value></field></x></query>")
			}}},
		{name: "stream error after the submission", want: as[*register.Error](),
			s: script{submit: raw("<stream:error><" + secret + " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + secret + "</text></stream:error></stream:stream>")}},
		{name: "unexpected element after the submission", short: true, want: anyOf(is(context.DeadlineExceeded), is(register.ErrProtocol)),
			s: script{submit: raw("<" + secret + " xmlns='" + secret + "'/>")}},
		{name: "SASL failure text", login: true, probe: true, want: is(register.ErrLoginFailed),
			s: script{auth: saslFail("<not-authorized/><text>wrong password " + secret + "</text>")}},
		{name: "SASL failure condition", login: true, probe: true, want: is(register.ErrLoginFailed),
			s: script{auth: saslFail("<" + secret + "/>")}},
		{name: "unexpected element during SASL", login: true, probe: true, short: true, want: is(register.ErrLoginFailed),
			s: script{auth: raw("<" + secret + " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")}},
		{name: "SASL challenge echoing the password", login: true, probe: true, want: anyOf(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			s: script{auth: raw("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + secret + "</challenge>")}},
		{name: "cut after the submission", want: is(register.ErrOutcomeUnknown),
			s: script{submit: cut}},
		{name: "success and login", login: true, want: noError, handler: goodServer},
		{name: "invitation token", login: true, invite: true, want: noError, handler: goodServer},
	}
}

// anyOf matches what one of ms matches.
func anyOf(ms ...matcher) matcher {
	return matcher{name: names(ms), ok: func(err error) bool {
		for _, m := range ms {
			if m.ok(err) {
				return true
			}
		}
		return false
	}}
}

var noError = matcher{name: "no error", ok: func(err error) bool { return err == nil }}

// TestSecretsNeverPrinted makes servers echo the password wherever a
// server can put it and checks every output an application might print or
// log: the error (every formatting verb, every error of its chain), the
// account, forms, progress events and the Debug hook's XML. Probes with an
// account are checked the same way (the report, its JSON and its errors).
func TestSecretsNeverPrinted(t *testing.T) {
	for _, c := range echoes() {
		t.Run(c.name, func(t *testing.T) {
			h := c.handler
			if h == nil {
				h = c.s.handler
			}
			srv := fakeserver.Start(t, fakeserver.Config{Handler: h})
			out := &outputs{}
			var err error
			dl := deadline
			if c.short {
				dl = shortDeadline
			}
			bounded(t, dl, func(ctx context.Context, cl *closers) {
				cl.add(srv.Close)
				d := dialerFor(srv, false, out)
				client := register.Client{Dialer: d, Progress: out.event}
				req := register.Request{Username: user, Password: secret, Login: c.login}
				if c.invite {
					req.Password = "an0ther-Passw0rd"
					req.Invite = "xmpp:" + fakeDomain + "?register;preauth=" + secret
				}
				var acct *register.Account
				acct, err = client.Register(ctx, fakeDomain, req)
				if acct != nil {
					out.add("account", fmt.Sprintf("%v|%+v|%#v|%s|%q", acct, acct, acct, acct, acct))
					out.add("account", fmt.Sprintf("%v|%+v|%#v|%s", *acct, *acct, *acct, *acct))
					if acct.Session != nil {
						acct.Session.Close()
						acct.Session.Conn().Close()
					}
				}
			})
			out.errs(err)
			var e *register.Error
			if errors.As(err, &e) {
				if e.Form != nil {
					out.add("error form", fmt.Sprintf("%v|%+v|%#v|%s", e.Form, e.Form, e.Form, e.Form))
					out.add("error form", fmt.Sprintf("%v|%+v|%#v|%s", *e.Form, *e.Form, *e.Form, *e.Form))
				}
				out.add("error value", fmt.Sprintf("%v|%+v|%#v|%s", *e, *e, *e, *e))
			}
			if c.invite {
				// The token must have reached the server.
				if tr := srv.Transcripts(); len(tr) == 0 || !strings.Contains(tr[0], secret) {
					t.Error("the invitation token was not sent")
				}
			}
			out.mu.Lock()
			sawDebug := len(out.m["debug in"]) > 0
			out.mu.Unlock()
			if !sawDebug {
				t.Error("the Debug hook saw nothing")
			}
			if !c.want.ok(err) {
				t.Errorf("err = %v, want %s", err, c.want.name)
			}
			if c.probe {
				t.Run("Probe", func(t *testing.T) { probeEcho(t, c) })
			}
			out.check(t)
		})
	}
}

// probeEcho probes the echoing server with an account.
func probeEcho(t *testing.T, c echo) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: c.s.handler})
	var r discovery.Report
	out := &outputs{}
	dl := deadline
	if c.short {
		dl = shortDeadline
	}
	bounded(t, dl, func(ctx context.Context, cl *closers) {
		cl.add(srv.Close)
		p := &discovery.Prober{
			Addrs:     map[string]string{fakeDomain: srv.Addr},
			TLSConfig: &tls.Config{RootCAs: srv.Roots},
			Skip:      discovery.PartHTTP,
			Timeout:   dl,
			NetDialer: &loopbackDialer{},
			Account:   &discovery.Credentials{Username: user, Password: secret},
		}
		r, _ = p.Probe(ctx, fakeDomain)
		out.add("account", fmt.Sprintf("%v|%+v|%#v|%s", p.Account, p.Account, p.Account, p.Account))
		out.add("account", fmt.Sprintf("%v|%+v|%#v|%s", *p.Account, *p.Account, *p.Account, *p.Account))
	})
	if r.Login.Status.State == discovery.Observed {
		t.Errorf("probe logged in: %v", r.Login.Status)
	}
	if r.Login.Status.Err == nil {
		t.Error("no login error in the report")
	}
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	out.add("report JSON", string(b))
	out.add("report", fmt.Sprintf("%v|%+v", r, r))
	out.add("login reason", r.Login.Status.Reason)
	out.errs(r.Login.Status.Err)
	out.check(t)
}
