package hardening_test

import (
	"context"
	"crypto/tls"
	"slices"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// formCorpus are registration form replies, some of which register and
// discovery used to read differently (issue 12): a FORM_TYPE of
// urn:xmpp:captcha with no challenge field (a CAPTCHA to discovery, none
// to register) and a hashcash field (a CAPTCHA to discovery, an unknown
// required field to register, so Signup skipped the provider).
var formCorpus = map[string]string{
	"legacy": legacyForm,
	"captcha FORM_TYPE without a challenge": `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:captcha</value></field>` +
		`<field var='username' type='text-single'><required/></field><field var='password' type='text-private'><required/></field></x></query>`,
	"hashcash": `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:captcha</value></field>` +
		`<field var='challenge' type='hidden'><value>abc</value></field>` +
		`<field var='username'><required/></field><field var='password' type='text-private'><required/></field>` +
		`<field var='SHA-256' label='0000'><required/></field></x></query>`,
	"ocr with fallback": `<query xmlns='jabber:iq:register'><instructions>Fill in</instructions><x xmlns='jabber:x:data' type='form'>` +
		`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:captcha</value></field>` +
		`<field var='captcha-fallback-url' type='text-single'><value>https://example.org/captcha/1</value></field>` +
		`<field var='username'><required/></field><field var='password' type='text-private'><required/></field>` +
		`<field var='ocr' label='Enter the text'><required/></field></x></query>`,
	"e-mail required": `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>` +
		`<field var='username'><required/></field><field var='password' type='text-private'><required/></field>` +
		`<field var='email'><required/></field></x></query>`,
	"web only": `<query xmlns='jabber:iq:register'><instructions>Register at https://example.org/signup</instructions>` +
		`<x xmlns='jabber:x:oob'><url>https://example.org/signup</url></x></query>`,
	"web only over http": `<query xmlns='jabber:iq:register'><instructions>Register on our site</instructions>` +
		`<x xmlns='jabber:x:oob'><url>http://example.org/signup</url></x></query>`,
}

// TestFormsAgree runs every reply of formCorpus through register
// (Dialer.DialForm) and discovery (Prober.Probe) and checks that they read
// the same form: the fields to fill, the required ones, the CAPTCHA, the
// web page.
func TestFormsAgree(t *testing.T) {
	for name, reply := range formCorpus {
		t.Run(name, func(t *testing.T) {
			srv := fakeserver.Start(t, cfg(script{form: raw("<iq type='result' id='ID'>" + reply + "</iq>")}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}
			conn, f, err := d.DialForm(ctx, fakeDomain, register.FormOptions{})
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
			p := &discovery.Prober{
				Addrs: map[string]string{fakeDomain: srv.Addr}, TLSConfig: &tls.Config{RootCAs: srv.Roots},
				Skip: discovery.PartHTTP, Timeout: 5 * time.Second, NetDialer: &loopbackDialer{},
			}
			rep, err := p.Probe(ctx, fakeDomain)
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Registration
			var fields, required []string
			for _, fl := range f.Fields {
				if fl.Type == register.Hidden || fl.Type == register.Fixed || f.Captcha != nil && (fl.Var == f.Captcha.Field || fl.Var == "captcha-fallback-url") {
					continue
				}
				fields = append(fields, fl.Var)
				if fl.Required || fl.Legacy {
					required = append(required, fl.Var)
				}
			}
			if (f.Captcha != nil) != r.CAPTCHA {
				t.Errorf("CAPTCHA: register %v, discovery %v", f.Captcha != nil, r.CAPTCHA)
			}
			if !slices.Equal(fields, r.Fields) || !slices.Equal(required, r.Required) {
				t.Errorf("fields: register %v (required %v), discovery %v (required %v)", fields, required, r.Fields, r.Required)
			}
			if f.RedirectURL != r.URL || f.WebOnly() != (r.Kind == discovery.RegistrationWeb) {
				t.Errorf("web: register %q (web only %v), discovery %q (%v)", f.RedirectURL, f.WebOnly(), r.URL, r.Kind)
			}
		})
	}
}
