package hardening_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

const (
	// deadline bounds a hostile case that should end by a limit or a
	// protocol error; it is generous so that a loaded machine does not
	// turn the expected error into a timeout.
	deadline = 15 * time.Second
	// shortDeadline bounds a case that can only end by its deadline (a
	// stalling or trickling server).
	shortDeadline = time.Second
	fakeDomain    = "localhost"
)

// hostile is one hostile server and what each public API must make of
// it. A nil expectation skips that API.
type hostile struct {
	name   string
	server fakeserver.Config
	// dialer adjusts the register.Dialer, prober the discovery.Prober,
	// before the run.
	dialer func(d *register.Dialer)
	// short: the case ends at its deadline (shortDeadline, or wait if
	// set). Such cases run Client.Register and Prober.Probe only: Dial and
	// Form read the same way, and each run costs the whole deadline.
	short bool
	wait  time.Duration
	// creds: the client legitimately sends the password (the submission
	// happens over TLS with a valid certificate).
	creds bool

	// reg: Client.Register (Login true) must fail with one of these.
	reg      []matcher
	regCheck func(t *testing.T, err error)
	// form: Dialer.Dial followed by Conn.Form must fail with one of these;
	// formOK instead expects Form to succeed and checks the form.
	form   []matcher
	formOK func(t *testing.T, f *register.Form)
	// part selects the part of the probe report that must be Unknown or
	// Absent with an error matching one of probe; probeOK instead checks
	// the report.
	part    func(r *discovery.Report) discovery.Status
	probe   []matcher
	probeOK func(t *testing.T, r *discovery.Report)
	prober  func(p *discovery.Prober)
	// bug and probeBug describe known bugs, reported to the lead, that make
	// register or discovery return an error none of the matchers matches:
	// the case is then skipped with the description (after all its other
	// checks), and runs again once the bug is fixed.
	bug, probeBug string
}

// matches reports whether err matches one of ms.
func matches(err error, ms []matcher) bool {
	for _, m := range ms {
		if m.ok(err) {
			return true
		}
	}
	return false
}

func one(m ...matcher) []matcher { return m }

func (c hostile) deadline() time.Duration {
	switch {
	case c.wait > 0:
		return c.wait
	case c.short:
		return shortDeadline
	}
	return deadline
}

func cfg(s script) fakeserver.Config { return fakeserver.Config{Handler: s.handler} }

func startTLSPart(r *discovery.Report) discovery.Status     { return r.StartTLS.Status }
func registrationPart(r *discovery.Report) discovery.Status { return r.Registration.Status }
func loginPart(r *discovery.Report) discovery.Status        { return r.Login.Status }

var (
	deadlineExceeded = one(is(context.DeadlineExceeded))
	regTooLarge      = one(is(register.ErrTooLarge))
	regProtocol      = one(is(register.ErrProtocol))
	regNoTLS         = one(is(register.ErrNoTLS))
	discTooLarge     = one(is(discovery.ErrTooLarge), is(discovery.ErrProtocol))
	discProtocol     = one(is(discovery.ErrProtocol))
	discClosed       = one(is(discovery.ErrStreamClosed), is(io.ErrUnexpectedEOF), is(io.EOF))
)

// noRedirect checks that a form offers no web page that is not an https
// URL with a host.
func noRedirect(t *testing.T, u string) {
	t.Helper()
	if u == "" {
		return
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil {
		t.Errorf("unsafe redirect URL offered: %q", u)
	}
}

func webOnlyWithout(t *testing.T, err error) {
	t.Helper()
	var e *register.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v is not a *register.Error", err)
	}
	noRedirect(t, e.RedirectURL)
	if e.RedirectURL != "" {
		t.Errorf("RedirectURL = %q, want none", e.RedirectURL)
	}
}

func hostileCases() []hostile {
	const cid = "sha1+0123456789abcdef0123456789abcdef01234567@bob.xmpp.org"
	png := []byte("\x89PNG\r\n\x1a\nfake image data")
	tooBig := make([]byte, register.MaxBoBSize+1)
	iqQuery := "<iq type='result' id='ID'><query xmlns='jabber:iq:register'>"
	dataForm := iqQuery + "<x xmlns='jabber:x:data' type='form'>"
	bigStanza := func(d *register.Dialer) { d.MaxStanza = 64 << 20 }
	bigStream := func(p *discovery.Prober) { p.MaxStreamBytes = 64 << 20 }

	return []hostile{
		// Size and shape of the XML.
		{
			name:   "deeply nested XML",
			server: cfg(script{form: endless(iqQuery, "<a>")}),
			reg:    regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "huge element",
			server: cfg(script{form: endless(iqQuery+"<instructions>", "x")}),
			reg:    regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "endless start tag",
			server: cfg(script{form: numbered("<iq type='result' id='ID'", " a%d='x'", ">", 10_000_000)}),
			reg:    regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "endless whitespace",
			server: cfg(script{form: endless("", " ")}),
			reg:    regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "endless unrelated stanzas",
			server: cfg(script{form: endless("", "<message from='spam.example'><body>buy</body></message>")}),
			reg:    one(is(register.ErrProtocol), is(register.ErrTooLarge)), form: one(is(register.ErrProtocol), is(register.ErrTooLarge)),
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "stanza that never ends",
			short:  true,
			server: cfg(script{form: then(raw(iqQuery+"<username/>"), stall)}),
			reg:    deadlineExceeded, form: deadlineExceeded,
			part: registrationPart, probe: deadlineExceeded,
		},
		{
			name: "billion laughs before the stream header",
			server: fakeserver.Config{Handler: rawPrelude(func(st *fakeserver.Stream) error {
				return st.Send("<?xml version='1.0'?>" + laughs + streamHeader + "<stream:features>&lol9;</stream:features>")
			})},
			reg: regProtocol, form: regProtocol,
			part: startTLSPart, probe: discProtocol,
		},
		{
			name:   "billion laughs in a reply",
			server: cfg(script{form: raw(laughs + iqQuery + "<instructions>&lol9;</instructions></query></iq>")}),
			reg:    regProtocol, form: regProtocol,
			part: registrationPart, probe: discProtocol,
		},
		{
			name:   "undeclared entity",
			server: cfg(script{form: raw(iqQuery + "<instructions>&lol9;</instructions></query></iq>")}),
			reg:    regProtocol, form: regProtocol,
			part: registrationPart, probe: discProtocol,
		},
		{
			name:   "external entity",
			server: cfg(script{form: raw(`<!DOCTYPE q [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + iqQuery + "<instructions>&xxe;</instructions></query></iq>")}),
			reg:    regProtocol, form: regProtocol,
			part: registrationPart, probe: discProtocol,
		},
		{
			name:   "invalid UTF-8",
			server: cfg(script{form: raw(iqQuery + "<instructions>\xff\xfe\xfd</instructions><username/><password/></query></iq>")}),
			reg:    regProtocol, form: regProtocol,
			part: registrationPart, probe: discProtocol,
		},
		{
			name:   "NUL byte",
			server: cfg(script{form: raw(iqQuery + "<instructions>a\x00b</instructions><username/><password/></query></iq>")}),
			reg:    regProtocol, form: regProtocol,
			part: registrationPart, probe: discProtocol,
		},
		// Endless forms.
		{
			name:   "form with 10^5 fields",
			server: cfg(script{form: numbered(dataForm, "<field var='f%d'/>", "</x></query></iq>", 100_000)}),
			reg:    regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "form with 10^5 fields under a 64 MiB stanza limit",
			server: cfg(script{form: numbered(dataForm, "<field var='f%d'/>", "</x></query></iq>", 100_000)}),
			dialer: bigStanza, prober: bigStream,
			reg: regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "10^5 legacy fields under a 64 MiB stanza limit",
			server: cfg(script{form: numbered(iqQuery, "<f%d/>", "</query></iq>", 100_000)}),
			dialer: bigStanza, prober: bigStream,
			reg: regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "field with 10^5 options under a 64 MiB stanza limit",
			server: cfg(script{form: numbered(dataForm+"<field var='username'/><field var='password' type='text-private'/><field var='pick' type='list-single'><required/>", "<option><value>%d</value></option>", "</field></x></query></iq>", 100_000)}),
			dialer: bigStanza, prober: bigStream,
			reg: regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "field with 10^4 values",
			server: cfg(script{form: numbered(dataForm+"<field var='username'/><field var='password' type='text-private'/><field var='many' type='text-multi'><required/>", "<value>%d</value>", "</field></x></query></iq>", 10_000)}),
			// More elements than one stanza may hold (xmppconn.MaxElements):
			// register and the prober read it with the same limits.
			reg: regTooLarge, form: regTooLarge,
			part: registrationPart, probe: discTooLarge,
		},
		// Bits of Binary.
		{
			name:   "oversized BoB image",
			server: cfg(script{form: reply(captchaForm(cid, bob(cid, tooBig)))}),
			reg:    regTooLarge, form: regTooLarge,
		},
		{
			name:   "invalid BoB data",
			server: cfg(script{form: reply(captchaForm(cid, `<data xmlns='urn:xmpp:bob' cid='`+cid+`' type='image/png'>!!!not base64!!!</data>`))}),
			reg:    regProtocol, form: regProtocol,
		},
		{
			name:   "oversized BoB image fetched by cid",
			server: cfg(script{form: reply(captchaForm(cid, "")), bob: reply(bob(cid, tooBig))}),
			reg:    regTooLarge, form: regTooLarge,
		},
		{
			name:   "BoB fetched by cid returns another image",
			server: cfg(script{form: reply(captchaForm(cid, "")), bob: reply(bob("sha1+ffff@bob.xmpp.org", png))}),
			reg:    one(is(register.ErrProtocol), is(register.ErrFormIncomplete)),
			form:   one(is(register.ErrProtocol)),
		},
		{
			name:   "BoB request never answered",
			short:  true,
			server: cfg(script{form: reply(captchaForm(cid, "")), bob: stall}),
			reg:    deadlineExceeded, form: deadlineExceeded,
		},
		// Web registration links.
		{
			name: "redirect to a javascript: URL",
			server: cfg(script{form: reply(`<query xmlns='jabber:iq:register'><instructions>Register at javascript:alert(1)</instructions>` +
				`<x xmlns='jabber:x:oob'><url>javascript:alert(document.cookie)</url></x></query>`)}),
			reg:      one(is(register.ErrWebOnly)),
			regCheck: webOnlyWithout,
			formOK: func(t *testing.T, f *register.Form) {
				if !f.WebOnly() || f.RedirectURL != "" {
					t.Errorf("WebOnly %v, RedirectURL %q", f.WebOnly(), f.RedirectURL)
				}
			},
			probeOK: func(t *testing.T, r *discovery.Report) {
				if r.Registration.URL != "" || r.Registration.Kind != discovery.RegistrationWeb {
					t.Errorf("registration = %+v", r.Registration)
				}
			},
		},
		{
			name: "redirect to an http: URL",
			server: cfg(script{form: reply(`<query xmlns='jabber:iq:register'><instructions>Sign up at http://evil.example/signup</instructions>` +
				`<x xmlns='jabber:x:oob'><url>http://evil.example/register</url></x></query>`)}),
			reg:      one(is(register.ErrWebOnly)),
			regCheck: webOnlyWithout,
			formOK: func(t *testing.T, f *register.Form) {
				if !f.WebOnly() || f.RedirectURL != "" {
					t.Errorf("WebOnly %v, RedirectURL %q", f.WebOnly(), f.RedirectURL)
				}
			},
			probeOK: func(t *testing.T, r *discovery.Report) {
				if r.Registration.URL != "" || r.Registration.Kind != discovery.RegistrationWeb {
					t.Errorf("registration = %+v", r.Registration)
				}
			},
		},
		{
			name: "redirect to https look-alikes",
			server: cfg(script{form: reply(`<query xmlns='jabber:iq:register'><instructions>Go to https:javascript:alert(1) or https:///nohost or data:text/html,hi</instructions>` +
				`<x xmlns='jabber:x:oob'><url>https:javascript:alert(1)</url></x></query>`)}),
			reg:      one(is(register.ErrWebOnly)),
			regCheck: webOnlyWithout,
			formOK: func(t *testing.T, f *register.Form) {
				if f.RedirectURL != "" {
					t.Errorf("RedirectURL %q", f.RedirectURL)
				}
			},
			probeOK: func(t *testing.T, r *discovery.Report) {
				if r.Registration.URL != "" {
					t.Errorf("registration URL %q", r.Registration.URL)
				}
			},
		},
		{
			name: "redirect to an https URL with user info",
			server: cfg(script{form: reply(`<query xmlns='jabber:iq:register'><instructions>Register</instructions>` +
				`<x xmlns='jabber:x:oob'><url>https://bank.example@evil.example/</url></x></query>`)}),
			reg:      one(is(register.ErrWebOnly)),
			regCheck: webOnlyWithout,
			formOK: func(t *testing.T, f *register.Form) {
				noRedirect(t, f.RedirectURL)
			},
			probeOK: func(t *testing.T, r *discovery.Report) {
				noRedirect(t, r.Registration.URL)
			},
		},
		{
			name: "CAPTCHA media over http",
			server: cfg(script{form: reply(`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
				`<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>` +
				`<field var='ocr'><required/><media xmlns='urn:xmpp:media-element'><uri type='image/png'>http://evil.example/i.png</uri><uri type='image/png'>javascript:alert(1)</uri></media></field>` +
				`<field var='username'><required/></field><field var='password' type='text-private'><required/></field></x></query>`)}),
			reg: one(is(register.ErrFormIncomplete)),
			formOK: func(t *testing.T, f *register.Form) {
				if f.Captcha == nil {
					t.Fatal("no CAPTCHA")
				}
				for _, u := range f.Captcha.URLs {
					noRedirect(t, u)
				}
			},
		},
		// Downgrades and certificates.
		{
			name:   "PLAIN only over plain text",
			server: fakeserver.Config{Handler: plainStream},
			dialer: func(d *register.Dialer) { d.AllowPLAIN = true },
			reg:    regNoTLS, form: regNoTLS,
			part: startTLSPart, probe: one(is(discovery.ErrNoTLS)),
		},
		{
			name: "STARTTLS stripped",
			server: fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := st.Open(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1", "DIGEST-MD5")); err != nil {
					return err
				}
				return stall(st, nil)
			}},
			reg: regNoTLS, form: regNoTLS,
			part: startTLSPart, probe: one(is(discovery.ErrNoTLS)),
		},
		{
			name: "STARTTLS refused",
			server: fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := st.Open(fakeserver.FeatureStartTLS + fakeserver.FeatureRegister); err != nil {
					return err
				}
				if _, err := st.Next(); err != nil {
					return err
				}
				return st.Send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
			}},
			reg: regNoTLS, form: regNoTLS,
			part: startTLSPart, probe: one(is(discovery.ErrNoTLS), is(discovery.ErrStreamClosed), is(discovery.ErrProtocol)),
		},
		{
			name: "plain text injected after proceed",
			server: fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := st.Open(fakeserver.FeatureStartTLS); err != nil {
					return err
				}
				if _, err := st.Next(); err != nil {
					return err
				}
				return st.Send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><stream:features><register xmlns='http://jabber.org/features/iq-register'/></stream:features>")
			}},
			reg: regProtocol, form: regProtocol,
			// The prober starts TLS on the raw connection, so the injected
			// text is never read; it sees the connection end.
			part: startTLSPart, probe: one(is(discovery.ErrProtocol), is(discovery.ErrStreamClosed), is(io.EOF), is(io.ErrUnexpectedEOF)),
		},
		{
			name: "garbage instead of a TLS handshake",
			server: fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
				if err := st.Open(fakeserver.FeatureStartTLS); err != nil {
					return err
				}
				if _, err := st.Next(); err != nil {
					return err
				}
				st.Send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
				time.Sleep(50 * time.Millisecond)
				return flood(st, "HTTP/1.1 200 OK\r\n\r\n", "garbage ")
			}},
			reg: one(is(register.ErrConnect)), form: one(is(register.ErrConnect)),
			part: startTLSPart, probe: one(is(discovery.ErrProtocol), is(discovery.ErrStreamClosed), as[tls.RecordHeaderError]()),
		},
		{
			name:   "certificate for another domain",
			server: fakeserver.Config{CertNames: []string{"other.example"}, Handler: script{}.handler},
			dialer: func(d *register.Dialer) { d.TLSConfig.ServerName = "other.example" },
			reg:    regNoTLS, form: regNoTLS,
			regCheck: func(t *testing.T, err error) {
				var he x509.HostnameError
				if !errors.As(err, &he) {
					t.Errorf("err %v does not hold an x509.HostnameError", err)
				}
			},
			part: loginPart, probe: one(is(discovery.ErrCertificate)),
		},
		{
			name:   "certificate for another domain, direct TLS",
			server: fakeserver.Config{CertNames: []string{"other.example"}, DirectTLS: true, Handler: script{}.handler},
			reg:    regNoTLS, form: regNoTLS,
			part: loginPart, probe: one(is(discovery.ErrCertificate)),
		},
		{
			name:   "certificate from an unknown authority",
			server: fakeserver.Config{Handler: script{}.handler},
			dialer: func(d *register.Dialer) { d.TLSConfig = &tls.Config{} },
			prober: func(p *discovery.Prober) { p.TLSConfig = &tls.Config{RootCAs: x509.NewCertPool()} },
			reg:    regNoTLS, form: regNoTLS,
			regCheck: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				if !errors.As(err, &ua) {
					t.Errorf("err %v does not hold an x509.UnknownAuthorityError", err)
				}
			},
			part: loginPart, probe: one(is(discovery.ErrCertificate)),
		},
		// Slow servers.
		{
			name:  "slow loris stream header",
			short: true,
			server: fakeserver.Config{Handler: rawPrelude(func(st *fakeserver.Stream) error {
				return drip(st, "<?xml version='1.0'?>"+streamHeader+"<stream:features>"+fakeserver.FeatureStartTLS+"</stream:features>", time.Second)
			})},
			reg: deadlineExceeded, form: deadlineExceeded,
			part: startTLSPart, probe: deadlineExceeded,
		},
		{
			name:   "slow loris form",
			short:  true,
			server: cfg(script{form: trickle(queryReply("<username/><password/>"), time.Second)}),
			reg:    deadlineExceeded, form: deadlineExceeded,
			part: registrationPart, probe: deadlineExceeded,
		},
		{
			name:   "slow loris form under Dialer.Timeout",
			server: cfg(script{form: trickle(queryReply("<username/><password/>"), time.Second)}),
			dialer: func(d *register.Dialer) { d.Timeout = time.Second },
			reg:    deadlineExceeded, form: deadlineExceeded,
		},
		{
			name:   "whitespace keepalives instead of a reply",
			short:  true,
			server: cfg(script{form: trickle(strings.Repeat(" ", 10_000), 100*time.Millisecond)}),
			reg:    deadlineExceeded, form: deadlineExceeded,
			part: registrationPart, probe: deadlineExceeded,
		},
		{
			name:  "stream header but no features",
			short: true,
			server: fakeserver.Config{Handler: rawPrelude(func(st *fakeserver.Stream) error {
				st.Send("<?xml version='1.0'?>" + streamHeader)
				return stall(st, nil)
			})},
			reg: deadlineExceeded, form: deadlineExceeded,
			part: startTLSPart, probe: deadlineExceeded,
		},
		{
			name: "unsupported XML version",
			server: fakeserver.Config{Handler: rawPrelude(func(st *fakeserver.Stream) error {
				st.Send("<?xml version='1~0'?>" + streamHeader + "<stream:features>" + fakeserver.FeatureStartTLS + "</stream:features>")
				return stall(st, nil)
			})},
			reg: regProtocol, form: regProtocol,
			part: startTLSPart, probe: discProtocol,
		},
		{
			name: "unsupported encoding declared",
			server: fakeserver.Config{Handler: rawPrelude(func(st *fakeserver.Stream) error {
				st.Send("<?xml version='1.0' encoding='ebcdic'?>" + streamHeader + "<stream:features>" + fakeserver.FeatureStartTLS + "</stream:features>")
				return stall(st, nil)
			})},
			reg: regProtocol, form: regProtocol,
			part: startTLSPart, probe: discProtocol,
		},
		// Cut streams.
		{
			name:   "stream end during the form request",
			server: cfg(script{form: then(raw("</stream:stream>"), stall)}),
			reg:    one(is(io.ErrUnexpectedEOF), is(io.EOF), is(register.ErrProtocol)), form: one(is(io.ErrUnexpectedEOF), is(io.EOF), is(register.ErrProtocol)),
			part: registrationPart, probe: discClosed,
		},
		{
			name:   "stream cut during the form request",
			server: cfg(script{form: cut}),
			reg:    one(is(io.ErrUnexpectedEOF)), form: one(is(io.ErrUnexpectedEOF)),
			part: registrationPart, probe: discClosed,
		},
		{
			name:   "stream cut after the registration is submitted",
			server: cfg(script{submit: cut}),
			creds:  true,
			reg:    one(is(register.ErrOutcomeUnknown)),
			regCheck: func(t *testing.T, err error) {
				var e *register.Error
				if !errors.As(err, &e) || e.Username != user || e.Password != secret {
					t.Errorf("the outcome-unknown error does not hold the credentials: %v", err)
				}
			},
		},
		{
			name:   "stream error after the registration is submitted",
			server: cfg(script{submit: raw("<stream:error><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")}),
			creds:  true,
			reg:    one(is(register.ErrOutcomeUnknown)),
		},
		{
			name:   "stream end after the registration is submitted",
			server: cfg(script{submit: then(raw("</stream:stream>"), stall)}),
			creds:  true,
			reg:    one(is(register.ErrOutcomeUnknown)),
		},
		// Mismatched replies.
		{
			name:   "mismatched IQ id, then silence",
			short:  true,
			server: cfg(script{form: then(raw("<iq type='result' id='x-ID'>"+legacyForm+"</iq><iq type='error' id='ID-y'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"), stall)}),
			reg:    deadlineExceeded, form: deadlineExceeded,
			part: registrationPart, probe: deadlineExceeded,
		},
		{
			name:   "mismatched IQ ids without end",
			server: cfg(script{form: endless("", "<iq type='result' id='not-yours'><query xmlns='jabber:iq:register'><username/><password/></query></iq>")}),
			reg:    one(is(register.ErrProtocol), is(register.ErrTooLarge)), form: one(is(register.ErrProtocol), is(register.ErrTooLarge)),
			part: registrationPart, probe: discTooLarge,
		},
		{
			name:   "mismatched IQ id on the submission, then cut",
			server: cfg(script{submit: then(raw("<iq type='result' id='x-ID'/>"), cut)}),
			creds:  true,
			reg:    one(is(register.ErrOutcomeUnknown)),
		},
		{
			name:   "mismatched IQ id on the submission, then silence",
			short:  true,
			wait:   3 * time.Second, // the submission must have been sent
			server: cfg(script{submit: then(raw("<iq type='result' id='x-ID'/>"), stall)}),
			creds:  true,
			reg:    deadlineExceeded,
			regCheck: func(t *testing.T, err error) {
				if !errors.Is(err, register.ErrOutcomeUnknown) {
					t.Errorf("err = %v, want ErrOutcomeUnknown too", err)
				}
			},
		},
		// SASL.
		{
			name:   "endless SASL challenge",
			server: cfg(script{auth: endless("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>", "QUFB")}),
			creds:  true,
			reg:    one(is(register.ErrTooLarge)),
		},
		{
			name:   "SASL never answered",
			short:  true,
			server: cfg(script{auth: stall}),
			creds:  true,
			reg:    deadlineExceeded,
		},
		{
			name:   "SASL success without the server's proof",
			server: cfg(script{auth: raw("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed)),
		},
		{
			name:   "SCRAM iteration count of 2^31-1",
			wait:   5 * time.Second,
			server: cfg(script{auth: scramFirst("r=%ssrv,s=c2FsdHNhbHRzYWx0,i=2147483647")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			part:   loginPart, probe: one(is(discovery.ErrAuth), is(discovery.ErrProtocol)),
		},
		{
			name:   "SCRAM server-first-message with a malformed last attribute",
			server: cfg(script{auth: scramFirst("r=%ssrv,s=c2FsdHNhbHRzYWx0,i=4096,x")}),
			creds:  true,
			wait:   5 * time.Second,
			reg:    one(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			part:   loginPart, probe: one(is(discovery.ErrAuth), is(discovery.ErrProtocol)),
		},
		{
			name:   "SCRAM server-first-message ending in an empty attribute",
			wait:   5 * time.Second,
			server: cfg(script{auth: scramFirst("r=%ssrv,s=c2FsdHNhbHRzYWx0,i=4096,x=")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			part:   loginPart, probe: one(is(discovery.ErrAuth), is(discovery.ErrProtocol)),
		},
		// A <success/> at once, its data shaped like a server-first-message:
		// mellium.im/sasl takes it for one, so the login was accepted
		// without any proof, or spun forever (issue 11).
		{
			name:   "SCRAM success before any challenge",
			wait:   5 * time.Second,
			server: cfg(script{auth: scramSuccess("r=%ssrv,s=c2FsdHNhbHRzYWx0,i=4096")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			part:   loginPart, probe: one(is(discovery.ErrAuth)),
		},
		{
			name:   "SCRAM success before any challenge, iteration count of 2^31-1",
			wait:   5 * time.Second,
			server: cfg(script{auth: scramSuccess("r=%ssrv,s=c2FsdHNhbHRzYWx0,i=2147483647")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			part:   loginPart, probe: one(is(discovery.ErrAuth)),
		},
		{
			name:   "SCRAM success before any challenge, ending in an empty attribute",
			wait:   5 * time.Second,
			server: cfg(script{auth: scramSuccess("r=%ssrv,s=c2FsdHNhbHRzYWx0,i=4096,x=")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			part:   loginPart, probe: one(is(discovery.ErrAuth)),
		},
		{
			name:   "SCRAM success whose data is a second server-first-message",
			wait:   5 * time.Second,
			server: cfg(script{auth: scramThenSuccess("r=%ssrv,s=c2FsdHNhbHRzYWx0,i=4096")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed), is(register.ErrProtocol)),
			part:   loginPart, probe: one(is(discovery.ErrAuth)),
		},
		{
			name:   "invalid base64 in a SASL challenge",
			server: cfg(script{auth: raw("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>!!not base64!!</challenge>")}),
			creds:  true,
			reg:    one(is(register.ErrLoginFailed)),
		},
		// Not XMPP at all.
		{
			name: "HTTP instead of XMPP",
			server: fakeserver.Config{Handler: rawPrelude(func(st *fakeserver.Stream) error {
				return st.Send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			})},
			reg: regProtocol, form: regProtocol,
			part: startTLSPart, probe: one(is(discovery.ErrProtocol), is(discovery.ErrStreamClosed)),
		},
		{
			name: "server-to-server stream namespace",
			server: fakeserver.Config{Handler: rawPrelude(func(st *fakeserver.Stream) error {
				st.Send("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:features>" + fakeserver.FeatureStartTLS + "</stream:features>")
				return stall(st, nil)
			})},
			// The prober does not check the stream namespace.
			reg: regProtocol, form: regProtocol,
		},
	}
}

// runRegister runs Client.Register with Login against the case's server.
func runRegister(t *testing.T, c hostile) {
	srv := fakeserver.Start(t, c.server)
	out := &outputs{}
	var err error
	dl := c.deadline()
	bounded(t, dl, func(ctx context.Context, cl *closers) {
		cl.add(srv.Close)
		d := dialerFor(srv, c.server.DirectTLS, out)
		if c.dialer != nil {
			c.dialer(&d)
		}
		client := register.Client{Dialer: d, Progress: out.event}
		var acct *register.Account
		acct, err = client.Register(ctx, fakeDomain, register.Request{Username: user, Password: secret, Login: true})
		if acct != nil {
			out.add("account", fmt.Sprintf("%v|%+v|%#v|%s", acct, acct, acct, acct))
			out.add("account", fmt.Sprintf("%v|%+v|%#v|%s", *acct, *acct, *acct, *acct))
			if acct.Session != nil {
				acct.Session.Close()
				acct.Session.Conn().Close()
			}
		}
	})
	out.errs(err)
	out.check(t)
	checkWire(t, srv, c.creds)
	if c.regCheck != nil && err != nil {
		c.regCheck(t, err)
	}
	if c.bug != "" && err != nil && !matches(err, c.reg) {
		t.Skipf("known bug: %s (err = %v)", c.bug, err)
	}
	wantErr(t, err, "register: ", c.reg)
}

// runForm runs Dialer.Dial and Conn.Form against the case's server.
func runForm(t *testing.T, c hostile) {
	srv := fakeserver.Start(t, c.server)
	out := &outputs{}
	var err error
	var form *register.Form
	dl := c.deadline()
	bounded(t, dl, func(ctx context.Context, cl *closers) {
		cl.add(srv.Close)
		d := dialerFor(srv, c.server.DirectTLS, out)
		if c.dialer != nil {
			c.dialer(&d)
		}
		var conn *register.Conn
		conn, err = d.Dial(ctx, fakeDomain)
		if err != nil {
			return
		}
		defer conn.Close()
		form, err = conn.Form(ctx)
	})
	if form != nil {
		out.add("form", fmt.Sprintf("%v|%+v|%#v|%s", form, form, form, form))
	}
	out.errs(err)
	out.check(t)
	checkWire(t, srv, false)
	if c.formOK != nil {
		if err != nil {
			t.Fatalf("Form: %v", err)
		}
		c.formOK(t, form)
		return
	}
	if c.bug != "" && err != nil && !matches(err, c.form) {
		t.Skipf("known bug: %s (err = %v)", c.bug, err)
	}
	wantErr(t, err, "register: ", c.form)
}

// runProbe runs Prober.Probe (with an account, to see that its password
// stays put) against the case's server.
func runProbe(t *testing.T, c hostile) {
	srv := fakeserver.Start(t, c.server)
	var r discovery.Report
	var err error
	dl := c.deadline()
	bounded(t, dl, func(ctx context.Context, cl *closers) {
		cl.add(srv.Close)
		p := &discovery.Prober{
			TLSConfig: &tls.Config{RootCAs: srv.Roots},
			Skip:      discovery.PartHTTP,
			Timeout:   dl,
			NetDialer: &loopbackDialer{},
			Account:   &discovery.Credentials{Username: user, Password: secret, AllowPlain: true},
		}
		if c.server.DirectTLS {
			p.DirectTLSAddrs = map[string]string{fakeDomain: srv.Addr}
		} else {
			p.Addrs = map[string]string{fakeDomain: srv.Addr}
		}
		if c.prober != nil {
			c.prober(p)
		}
		r, err = p.Probe(ctx, fakeDomain)
	})
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	b, jerr := json.Marshal(r)
	if jerr != nil {
		t.Fatalf("report does not marshal: %v", jerr)
	}
	out := &outputs{}
	out.add("report JSON", string(b))
	out.add("report", fmt.Sprintf("%v|%+v", r, r))
	for _, st := range []discovery.Status{r.StartTLS.Status, r.DirectTLS.Status, r.Registration.Status, r.Login.Status, r.ServerInfo.Status} {
		out.errs(st.Err)
	}
	out.check(t)
	checkWire(t, srv, false)
	if c.probeOK != nil {
		c.probeOK(t, &r)
	}
	if c.part != nil {
		st := c.part(&r)
		if st.State == discovery.Observed {
			t.Errorf("part observed: %v", st)
		}
		if c.probeBug != "" && st.Err != nil && !matches(st.Err, c.probe) {
			t.Skipf("known bug: %s (err = %v)", c.probeBug, st.Err)
		}
		wantErr(t, st.Err, "", c.probe)
	}
}

// checkWire checks what the client sent on every connection: never the
// password in any form, and no PLAIN authentication, unless the case lets
// the client submit the password (over TLS with a valid certificate).
// TestCredentialsNeverBeforeTLS checks the pre-TLS transcripts more
// strictly.
func checkWire(t *testing.T, srv *fakeserver.Server, credsAllowed bool) {
	t.Helper()
	for i, tr := range srv.Transcripts() {
		if credsAllowed {
			continue
		}
		noLeak(t, fmt.Sprintf("connection %d transcript", i), tr, secret)
		if strings.Contains(tr, "PLAIN") {
			t.Errorf("connection %d: PLAIN authentication attempted", i)
		}
	}
}

// outputs collects everything the application could print during a run.
type outputs struct {
	mu sync.Mutex
	m  map[string][]string
}

func (o *outputs) add(where, s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string][]string{}
	}
	o.m[where] = append(o.m[where], s)
}

func (o *outputs) debug(dir string, xml []byte) { o.add("debug "+dir, string(xml)) }

func (o *outputs) event(e register.Event) {
	o.add("progress event", fmt.Sprintf("%v|%+v|%#v", e, e, e))
	if e.Form != nil {
		o.add("progress form", fmt.Sprintf("%v|%+v|%#v|%s", e.Form, e.Form, e.Form, e.Form))
	}
}

func (o *outputs) errs(err error) {
	for _, s := range errorOutputs(err) {
		o.add("error", s)
	}
}

// check fails t if the secret shows up anywhere.
func (o *outputs) check(t *testing.T) {
	t.Helper()
	o.checkFor(t, secret)
}

// checkFor fails t if the given secret shows up anywhere.
func (o *outputs) checkFor(t *testing.T, secret string) {
	t.Helper()
	for _, p := range o.leaks(secret) {
		t.Error(p)
	}
}

// leaks describes where secret shows up, without showing it.
func (o *outputs) leaks(secret string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for where, list := range o.m {
		for _, s := range list {
			if p := leakAt(where, s, secret); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// dialerFor returns a Dialer for the fake server whose Debug output goes
// to out.
func dialerFor(srv *fakeserver.Server, direct bool, out *outputs) register.Dialer {
	d := register.Dialer{Addr: srv.Addr, DirectTLS: direct, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}
	if out != nil {
		d.Debug = out.debug
	}
	return d
}

// TestHostileRegister runs every hostile server against Client.Register
// and against Dialer.Dial with Conn.Form.
func TestHostileRegister(t *testing.T) {
	for _, c := range hostileCases() {
		if c.reg == nil && c.form == nil && c.formOK == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			if c.reg != nil {
				t.Run("Register", func(t *testing.T) { runRegister(t, c) })
			}
			if (c.form != nil || c.formOK != nil) && !c.short {
				t.Run("DialForm", func(t *testing.T) { runForm(t, c) })
			}
		})
	}
}

// TestHostileDiscovery runs the hostile servers whose input the prober
// parses against Prober.Probe.
func TestHostileDiscovery(t *testing.T) {
	for _, c := range hostileCases() {
		if c.part == nil && c.probeOK == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) { runProbe(t, c) })
	}
}
