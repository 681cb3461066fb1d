package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
)

// hostile is what a server may put in XML character data to rewrite a
// terminal: CR (as &#13;), DEL, C1 controls (U+009B is CSI, U+009D OSC)
// and bidi controls. XML forbids ESC and BEL.
const hostile = "&#13;registered admin@bank.example and logged in\x7f\u009b2K\u009d0;pwned\u009c\u202egpj.exe"

// hostileRegistrar serves a registration form whose instructions, labels,
// descriptions and CAPTCHA label are hostile, and refuses the submission
// with condition and a hostile text.
func hostileRegistrar(t *testing.T, form, condition string) *fakeserver.Server {
	return fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		for {
			iq, err := st.Next()
			if err != nil {
				return err
			}
			if iq.Name.Local != "iq" || len(iq.Children) == 0 {
				continue
			}
			switch {
			case iq.Children[0].Name.Space == "jabber:iq:register" && iq.Attr("type") == "get":
				err = st.Reply(iq, form)
			case iq.Children[0].Name.Space == "jabber:iq:register":
				err = st.ReplyError(iq, "cancel", condition, "\rregistered admin@bank.example and logged in\u009b2K\u202e")
			default:
				err = st.ReplyError(iq, "cancel", "service-unavailable", "")
			}
			if err != nil {
				return err
			}
		}
	}})
}

// runSignup runs the command against srv with answers on standard input.
func runSignup(t *testing.T, srv *fakeserver.Server, answers string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("ONBOARD_PASSWORD", "hostile-test-Passw0rd")
	in := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(in, []byte(answers), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb bytes.Buffer
	code = runWith(context.Background(), append([]string{"-domain", srv.Domain, "-addr", srv.Addr, "-user", "alice", "-timeout", "20s",
		"-captcha-out", filepath.Join(t.TempDir(), "captcha.png")}, args...), os.Getenv, f, &out, &errb, srv.Roots)
	return code, out.String(), errb.String()
}

// clean fails the test if out holds a character a terminal would obey,
// but newlines, or a line that claims success.
func clean(t *testing.T, name, out string) {
	t.Helper()
	if sanitize.Text(out) != out {
		t.Errorf("%s carries raw control or bidi characters:\n%q", name, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "registered") {
			t.Errorf("%s has a line claiming success: %q", name, l)
		}
	}
}

// TestHostileErrorText is the attack of issue 11: a server refuses the
// registration (exit 15) with a text that, printed raw, rewrote the line
// into "registered admin@bank.example and logged in".
func TestHostileErrorText(t *testing.T) {
	srv := hostileRegistrar(t, `<query xmlns='jabber:iq:register'><instructions>Welcome`+hostile+`</instructions><username/><password/></query>`, "not-allowed")
	for _, args := range [][]string{nil, {"-debug"}, {"-json"}} {
		code, out, errs := runSignup(t, srv, "", args...)
		if code != exitClosed {
			t.Errorf("%q: exit %d, want %d\n%s\n%s", args, code, exitClosed, out, errs)
		}
		clean(t, "stdout", out)
		clean(t, "stderr", errs)
		if len(args) == 0 && !strings.Contains(errs, `\rregistered admin@bank.example`) && !strings.Contains(errs, `\x0dregistered admin@bank.example`) {
			t.Errorf("the error text is not shown escaped:\n%s", errs)
		}
		if len(args) > 0 && args[0] == "-json" {
			var r result
			if err := json.Unmarshal([]byte(out), &r); err != nil || r.Exit != exitClosed || !strings.Contains(r.Error, "registered admin@bank.example") {
				t.Errorf("-json: %v, %+v", err, r)
			}
		}
	}
}

// TestHostilePrompts checks the prompts: form instructions, field labels,
// descriptions and options, and the CAPTCHA label, all chosen by the
// server.
func TestHostilePrompts(t *testing.T) {
	form := `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<instructions>Line one` + hostile + "\n" + `registered admin@bank.example and logged in</instructions>` +
		`<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>` +
		`<field var='username' type='text-single' label='User'><required/></field>` +
		`<field var='password' type='text-private' label='Password'><required/></field>` +
		`<field var='email' type='text-single' label='E-mail` + hostile + `'><desc>Your address` + hostile + `</desc><required/></field>` +
		`<field var='color' type='list-single' label='Colour` + hostile + `'><required/>` +
		`<option label='Red` + hostile + `'><value>red` + hostile + `</value></option><option label='Blue'><value>blue</value></option></field>` +
		`<field var='challenge' type='hidden'><value>42</value></field>` +
		`<field var='ocr' type='text-single' label='Enter the text` + hostile + `'>` +
		`<media xmlns='urn:xmpp:media-element'><uri type='image/png'>https://captcha.example/c.png</uri></media><required/></field>` +
		`</x></query>`
	srv := hostileRegistrar(t, form, "conflict")
	code, out, errs := runSignup(t, srv, "ABCD\nme@example.org\nblue\n")
	if code != exitTaken {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitTaken, out, errs)
	}
	clean(t, "stdout", out)
	clean(t, "stderr", errs)
	for _, want := range []string{`Enter the text\x0dregistered`, `E-mail\x0dregistered`, `Your address\x0dregistered`, `Line one\x0dregistered`, "\nlocalhost: registered admin@bank.example and logged in\n", `\u202egpj.exe`} {
		if !strings.Contains(errs, want) {
			t.Errorf("prompts lack %q:\n%s", want, errs)
		}
	}
}

// TestHostileChoose runs the path without -domain (onboard.Signup on a
// provider of a list): its progress lines, the provider's instructions and
// the attempts are escaped too.
func TestHostileChoose(t *testing.T) {
	form := `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<instructions>Line one` + hostile + `</instructions>` +
		`<field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>` +
		`<field var='username' type='text-single' label='User'><required/></field>` +
		`<field var='password' type='text-private' label='Password'><required/></field>` +
		`<field var='email' type='text-single' label='E-mail` + hostile + `'><desc>Your address` + hostile + `</desc><required/></field>` +
		`</x></query>`
	srv := hostileRegistrar(t, form, "not-allowed")
	lf, _ := writeList(t, []providers.Provider{listProvider("localhost", "en", "de")})
	t.Setenv("ONBOARD_PASSWORD", "hostile-test-Passw0rd")
	for _, args := range [][]string{nil, {"-json"}} {
		in := filepath.Join(t.TempDir(), "stdin")
		if err := os.WriteFile(in, []byte("me@example.org\nme@example.org\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := runWith(context.Background(), append([]string{"-file", lf, "-resolve", "localhost=" + srv.Addr, "-user", "alice", "-timeout", "20s"}, args...),
			os.Getenv, f, &out, &errb, srv.Roots)
		f.Close()
		if code == exitOK {
			t.Errorf("%q: exit 0", args)
		}
		clean(t, "stdout", out.String())
		clean(t, "stderr", errb.String())
	}
}
