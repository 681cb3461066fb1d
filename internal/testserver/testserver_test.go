package testserver

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// stopAndCheck stops s and verifies that none of its processes is left.
func stopAndCheck(t *testing.T, s *Server) {
	t.Helper()
	s.Stop()
	s.Stop() // idempotent
	if procAlive(s.PID) && procCmdlineContains(s.PID, s.Dir) {
		t.Errorf("%s pid %d still running after Stop", s.Kind, s.PID)
	}
	if pids := instanceProcs(s.Dir); len(pids) > 0 {
		t.Errorf("%s: processes %v still running after Stop", s.Kind, pids)
	}
	t.Logf("%s: start %v, stop %v", s.Kind, s.StartTime.Round(time.Millisecond), s.StopTime().Round(time.Millisecond))
}

func TestCA(t *testing.T) {
	t.Parallel()
	ca := NewCA(t)
	if _, err := os.Stat(ca.CertFile); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := ca.Leaf(t, "localhost", "example.test")
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "example.test", "127.0.0.1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool}); err != nil {
			t.Errorf("verify %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: ca.Pool}); err == nil {
		t.Error("leaf verified for a name it does not have")
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi.Mode(), err)
	}
	if cfg := ca.TLSConfig("localhost"); cfg.RootCAs != ca.Pool || cfg.ServerName != "localhost" {
		t.Errorf("TLSConfig: %+v", cfg)
	}
}

func TestProsody(t *testing.T) {
	t.Parallel()
	ForEach(t, KindProsody, func(t *testing.T, v string) {
		t.Parallel()

		t.Run("open", func(t *testing.T) {
			t.Parallel()
			s := StartProsody(t, ProsodyConfig{Version: v})
			c := dialClient(t, s, s.Domain, false)
			if c.features.has(nsRegister, "register") {
				t.Error("register advertised before TLS although encryption is required")
			}
			st := c.startTLS(s.TLSConfig())
			if len(st.VerifiedChains) == 0 {
				t.Error("TLS chain not verified")
			}
			if !c.features.has(nsRegister, "register") {
				t.Fatalf("no <register/> after STARTTLS in open mode: %v", c.features)
			}
			form := c.iq("get", "", "<query xmlns='jabber:iq:register'/>")
			if !strings.Contains(form.Inner, "<username") {
				t.Errorf("registration form has no username: %v", form)
			}
			if res := c.register("alice", "s3cret-Pass"); res.attr("type") != "result" {
				t.Fatalf("register: %v", res)
			}
			if res := c.register("alice", "other-Pass"); errorCondition(res) != "conflict" {
				t.Errorf("second register: want conflict, got %v", res)
			}
			c2 := dialClient(t, s, s.Domain, false)
			c2.startTLS(s.TLSConfig())
			c2.login("alice", "s3cret-Pass")
			stopAndCheck(t, s)
		})

		t.Run("closed", func(t *testing.T) {
			t.Parallel()
			s := StartProsody(t, ProsodyConfig{Version: v, Registration: RegistrationClosed})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			if c.features.has(nsRegister, "register") {
				t.Errorf("<register/> advertised in closed mode: %v", c.features)
			}
			if !c.features.has(nsSASL, "mechanisms") {
				t.Errorf("no SASL after TLS: %v", c.features)
			}
			if res := c.register("bob", "pw-pw-pw"); errorCondition(res) != "service-unavailable" {
				t.Errorf("register in closed mode: want service-unavailable, got %v", res)
			}
			s.AddUser(t, "bob", "pw-pw-pw")
			c.login("bob", "pw-pw-pw")
			stopAndCheck(t, s)
		})

		t.Run("invite", func(t *testing.T) {
			t.Parallel()
			s := StartProsody(t, ProsodyConfig{Version: v, Registration: RegistrationInvite})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			if !c.features.has(nsRegister, "register") || !c.features.has(nsIBRToken, "register") {
				t.Fatalf("invite mode: want iq-register and ibr-token features, got %v", c.features)
			}
			if res := c.register("carol", "pw-pw-pw"); errorCondition(res) != "not-acceptable" {
				t.Errorf("register without invite: want not-acceptable, got %v", res)
			}
			uri := s.InviteURI(t)
			m := regexp.MustCompile(`^xmpp:localhost\?register;preauth=([A-Za-z0-9_-]+)$`).FindStringSubmatch(uri)
			if m == nil {
				t.Fatalf("InviteURI = %q", uri)
			}
			if res := c.iq("set", "", "<preauth xmlns='urn:xmpp:pars:0' token='bogus'/>"); errorCondition(res) != "forbidden" {
				t.Errorf("bad token: want forbidden, got %v", res)
			}
			if res := c.iq("set", "", fmt.Sprintf("<preauth xmlns='urn:xmpp:pars:0' token='%s'/>", m[1])); res.attr("type") != "result" {
				t.Fatalf("preauth: %v", res)
			}
			if res := c.register("carol", "pw-pw-pw"); res.attr("type") != "result" {
				t.Errorf("register with invite: %v", res)
			}
			stopAndCheck(t, s)
		})

		t.Run("throttle+fields", func(t *testing.T) {
			t.Parallel()
			s := StartProsody(t, ProsodyConfig{Version: v, ThrottleMax: 1, ThrottlePeriod: 60, ExtraFields: []string{"email+"}})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			form := c.iq("get", "", "<query xmlns='jabber:iq:register'/>")
			if !strings.Contains(form.Inner, "<email") {
				t.Errorf("registration form has no email field: %v", form)
			}
			if res := c.register("dave", "pw-pw-pw", "<email>d@example.test</email>"); res.attr("type") != "result" {
				t.Fatalf("first register: %v", res)
			}
			c2 := dialClient(t, s, s.Domain, false)
			c2.startTLS(s.TLSConfig())
			if res := c2.register("erin", "pw-pw-pw", "<email>e@example.test</email>"); errorCondition(res) != "policy-violation" {
				t.Errorf("second register: want policy-violation, got %v", res)
			}
			stopAndCheck(t, s)
		})

		t.Run("directtls+contact+upload+hosts", func(t *testing.T) {
			t.Parallel()
			s := StartProsody(t, ProsodyConfig{
				Version:     v,
				Domain:      "chat.test",
				ExtraHosts:  []string{"second.test", "third.test"},
				DirectTLS:   true,
				ContactInfo: map[string][]string{"abuse": {"mailto:abuse@chat.test"}, "admin-addresses": {"xmpp:admin@chat.test"}},
				HTTPUpload:  1 << 20,
				LogLevel:    "info",
			})
			if s.DirectTLSAddr == "" || s.HTTPAddr == "" {
				t.Fatalf("addresses: %+v", s)
			}
			// Direct TLS: the first features already offer registration.
			d := dialClient(t, s, s.Domain, true)
			if !d.features.has(nsRegister, "register") || d.features.has(nsTLS, "starttls") {
				t.Errorf("direct TLS features: %v", d.features)
			}
			// DialDirectTLS verifies the chain for Domain.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tc, err := s.DialDirectTLS(ctx)
			if err != nil {
				t.Fatalf("DialDirectTLS: %v", err)
			}
			tc.Close()
			// Every extra host works with its own name.
			for _, h := range s.Hosts[1:] {
				c := dialClient(t, s, h, false)
				cfg := s.TLSConfig()
				cfg.ServerName = h
				c.startTLS(cfg)
				if !c.features.has(nsRegister, "register") {
					t.Errorf("%s: no register feature", h)
				}
			}
			// XEP-0157 and XEP-0363 through disco after login.
			s.AddUser(t, "frank", "pw-pw-pw")
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			c.login("frank", "pw-pw-pw")
			info := c.iq("get", s.Domain, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
			for _, want := range []string{"http://jabber.org/network/serverinfo", "mailto:abuse@chat.test", "xmpp:admin@chat.test"} {
				if !strings.Contains(info.Inner, want) {
					t.Errorf("disco#info lacks %q: %v", want, info)
				}
			}
			up := c.iq("get", "upload."+s.Domain, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
			for _, want := range []string{"urn:xmpp:http:upload:0", "1048576"} {
				if !strings.Contains(up.Inner, want) {
					t.Errorf("upload disco#info lacks %q: %v", want, up)
				}
			}
			c.upload(s, "upload."+s.Domain, []byte("hello, upload"))
			c.upload(s, "upload.third.test", []byte("hello, third host"))
			tooBig := c.iq("get", "upload."+s.Domain, "<request xmlns='urn:xmpp:http:upload:0' filename='big.bin' size='2000000'/>")
			if tooBig.attr("type") != "error" {
				t.Errorf("slot for a file above the limit: %v", tooBig)
			}
			stopAndCheck(t, s)
		})
	})
}

func TestEjabberd(t *testing.T) {
	t.Parallel()
	ForEach(t, KindEjabberd, func(t *testing.T, v string) {
		t.Parallel()

		t.Run("open+directtls", func(t *testing.T) {
			t.Parallel()
			s := StartEjabberd(t, EjabberdConfig{Version: v, DirectTLS: true})
			c := dialClient(t, s, s.Domain, false)
			st := c.startTLS(s.TLSConfig())
			if len(st.VerifiedChains) == 0 {
				t.Error("TLS chain not verified")
			}
			if !c.features.has(nsRegister, "register") {
				t.Fatalf("no <register/> after STARTTLS: %v", c.features)
			}
			// registration_timeout infinity: several accounts in a row.
			for _, u := range []string{"alice", "bob"} {
				if res := c.register(u, "s3cret-Pass"); res.attr("type") != "result" {
					t.Fatalf("register %s: %v", u, res)
				}
			}
			d := dialClient(t, s, s.Domain, true)
			if !d.features.has(nsRegister, "register") || d.features.has(nsTLS, "starttls") {
				t.Errorf("direct TLS features: %v", d.features)
			}
			d.login("bob", "s3cret-Pass")
			stopAndCheck(t, s)
		})

		t.Run("none", func(t *testing.T) {
			t.Parallel()
			s := StartEjabberd(t, EjabberdConfig{Version: v, Registration: RegistrationNone})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			if c.features.has(nsRegister, "register") {
				t.Errorf("<register/> advertised with access: none: %v", c.features)
			}
			stopAndCheck(t, s)
		})

		t.Run("deny", func(t *testing.T) {
			t.Parallel()
			s := StartEjabberd(t, EjabberdConfig{Version: v, Registration: RegistrationDeny})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			if !c.features.has(nsRegister, "register") {
				t.Errorf("deny mode should still advertise <register/>: %v", c.features)
			}
			if res := c.register("mallory", "s3cret-Pass"); errorCondition(res) != "forbidden" {
				t.Errorf("register: want forbidden, got %v", res)
			}
			stopAndCheck(t, s)
		})

		t.Run("captcha", func(t *testing.T) {
			t.Parallel()
			s := StartEjabberd(t, EjabberdConfig{Version: v, Captcha: true})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			// ejabberd runs captcha_cmd once at start to check it works.
			n := len(s.CaptchaAnswers())
			form := c.iq("get", "", "<query xmlns='jabber:iq:register'/>")
			if !strings.Contains(form.Inner, "urn:xmpp:bob") || !strings.Contains(form.Inner, "jabber:x:data") {
				t.Fatalf("CAPTCHA form lacks BoB data or x:data: %v", form)
			}
			answers := s.CaptchaAnswers()
			if len(answers) != n+1 {
				t.Fatalf("CaptchaAnswers = %q, want %d", answers, n+1)
			}
			submit := func(answer string) elem {
				return c.iq("set", "", "<query xmlns='jabber:iq:register'>"+captchaSubmit(t, form, "grace", "s3cret-Pass", answer)+"</query>")
			}
			if res := submit("wrong-answer"); res.attr("type") != "error" {
				t.Errorf("wrong CAPTCHA answer accepted: %v", res)
			}
			// A failed challenge is gone; get a new one and answer it.
			form = c.iq("get", "", "<query xmlns='jabber:iq:register'/>")
			answers = s.CaptchaAnswers()
			if len(answers) != n+2 {
				t.Fatalf("CaptchaAnswers = %q", answers)
			}
			if res := submit(answers[len(answers)-1]); res.attr("type") != "result" {
				t.Errorf("right CAPTCHA answer rejected: %v", res)
			}
			stopAndCheck(t, s)
		})

		t.Run("redirect", func(t *testing.T) {
			t.Parallel()
			const url = "https://register.example.invalid/new"
			s := StartEjabberd(t, EjabberdConfig{Version: v, RedirectURL: url})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			form := c.iq("get", "", "<query xmlns='jabber:iq:register'/>")
			if !strings.Contains(form.Inner, "jabber:x:oob") || !strings.Contains(form.Inner, url) {
				t.Errorf("redirect form lacks OOB URL: %v", form)
			}
			stopAndCheck(t, s)
		})

		t.Run("strength+timeout+contact+upload+hosts", func(t *testing.T) {
			t.Parallel()
			s := StartEjabberd(t, EjabberdConfig{
				Version:             v,
				ExtraHosts:          []string{"second.test"},
				PasswordStrength:    32,
				RegistrationTimeout: 600,
				ContactInfo:         map[string][]string{"abuse": {"mailto:abuse@localhost"}, "support-addresses": {"https://support.example.invalid"}},
				HTTPUpload:          1 << 20,
			})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
			if res := c.register("heidi", "abc"); errorCondition(res) != "not-acceptable" {
				t.Errorf("weak password: want not-acceptable, got %v", res)
			}
			if res := c.register("heidi", "Xq7#mP2$vL9!wR4z"); res.attr("type") != "result" {
				t.Fatalf("strong password: %v", res)
			}
			if res := c.register("ivan", "Yr8#nQ3$wM1!xS5a"); errorCondition(res) != "resource-constraint" {
				t.Errorf("registration_timeout: want resource-constraint, got %v", res)
			}
			h := dialClient(t, s, "second.test", false)
			cfg := s.TLSConfig()
			cfg.ServerName = "second.test"
			h.startTLS(cfg)

			s.AddUser(t, "judy", "Zs9#oR4$xN2!yT6b")
			c2 := dialClient(t, s, s.Domain, false)
			c2.startTLS(s.TLSConfig())
			c2.login("judy", "Zs9#oR4$xN2!yT6b")
			info := c2.iq("get", s.Domain, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
			for _, want := range []string{"http://jabber.org/network/serverinfo", "mailto:abuse@localhost", "https://support.example.invalid"} {
				if !strings.Contains(info.Inner, want) {
					t.Errorf("disco#info lacks %q: %v", want, info)
				}
			}
			up := c2.iq("get", "upload."+s.Domain, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
			for _, want := range []string{"urn:xmpp:http:upload:0", "1048576"} {
				if !strings.Contains(up.Inner, want) {
					t.Errorf("upload disco#info lacks %q: %v", want, up)
				}
			}
			c2.upload(s, "upload."+s.Domain, []byte("hello, upload"))
			tooBig := c2.iq("get", "upload."+s.Domain, "<request xmlns='urn:xmpp:http:upload:0' filename='big.bin' size='2000000'/>")
			if tooBig.attr("type") != "error" {
				t.Errorf("slot for a file above the limit: %v", tooBig)
			}
			stopAndCheck(t, s)
		})
	})
}

// captchaSubmit fills the data form in an ejabberd CAPTCHA registration
// form and returns the submit form.
func captchaSubmit(t *testing.T, form elem, user, password, answer string) string {
	t.Helper()
	var x *elem
	for _, q := range form.Kids {
		for i, k := range q.Kids {
			if k.XMLName.Space == "jabber:x:data" {
				x = &q.Kids[i]
			}
		}
	}
	if x == nil {
		t.Fatalf("no data form in %v", form)
	}
	var b strings.Builder
	b.WriteString("<x xmlns='jabber:x:data' type='submit'>")
	for _, f := range x.Kids {
		if f.XMLName.Local != "field" {
			continue
		}
		v := ""
		for _, k := range f.Kids {
			if k.XMLName.Local == "value" {
				v = k.Inner
			}
		}
		switch f.attr("var") {
		case "username":
			v = user
		case "password":
			v = password
		case "ocr":
			v = answer
		}
		fmt.Fprintf(&b, "<field var='%s'><value>%s</value></field>", f.attr("var"), v)
	}
	b.WriteString("</x>")
	return b.String()
}

func TestRunner(t *testing.T) {
	RequireProsody(t)
	t.Parallel()
	r := NewRunner("")
	var s *Server
	if err := r.Try(func() { s = StartProsody(r, ProsodyConfig{}) }); err != nil {
		t.Fatal(err)
	}
	c := dialClient(t, s, s.Domain, false)
	c.startTLS(s.TLSConfig())
	if !c.features.has(nsRegister, "register") {
		t.Errorf("no register feature: %v", c.features)
	}
	err := r.Try(func() { StartProsody(r, ProsodyConfig{Registration: "bogus"}) })
	var f *Failure
	if !errors.As(err, &f) || f.Skip || !strings.Contains(f.Msg, "bogus") {
		t.Errorf("Try(bad config) = %v", err)
	}
	err = r.Try(func() { r.Skipf("not installed") })
	if !errors.Is(err, ErrSkipped) {
		t.Errorf("Try(Skipf) = %v, want ErrSkipped", err)
	}
	dir := s.Dir
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if procAlive(s.PID) && procCmdlineContains(s.PID, dir) {
		t.Errorf("prosody %d still running after Runner.Close", s.PID)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("server dir %s not removed: %v", dir, err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestManyAtOnce starts several servers of both kinds at the same time.
func TestManyAtOnce(t *testing.T) {
	RequireProsody(t)
	RequireEjabberd(t)
	t.Parallel()
	for i := 0; i < 4; i++ {
		t.Run(fmt.Sprint("prosody", i), func(t *testing.T) {
			t.Parallel()
			s := StartProsody(t, ProsodyConfig{LogLevel: "info"})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
		})
	}
	for i := 0; i < 2; i++ {
		t.Run(fmt.Sprint("ejabberd", i), func(t *testing.T) {
			t.Parallel()
			s := StartEjabberd(t, EjabberdConfig{})
			c := dialClient(t, s, s.Domain, false)
			c.startTLS(s.TLSConfig())
		})
	}
}
