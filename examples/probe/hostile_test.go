package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// hostile is what a server may put in XML character data: CR (as &#13;),
// DEL, C1 controls (U+009B is CSI, U+009D OSC) and bidi controls. XML
// forbids ESC and BEL, so they cannot come from an XMPP server.
const hostile = "&#13;registered admin@bank.example and logged in\x7f\u009b2J\u009d0;pwned\u009c\u202egpj.exe"

// hostileServer answers every query of the probe with hostile text.
func hostileServer(t *testing.T) *fakeserver.Server {
	return fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		for {
			iq, err := st.Next()
			if err != nil {
				return err
			}
			if iq.Name.Local != "iq" || iq.Attr("type") != "get" || len(iq.Children) == 0 {
				continue
			}
			switch q := iq.Children[0]; q.Name.Space + " " + iq.Attr("to") {
			case "jabber:iq:register ", "jabber:iq:register localhost":
				err = st.Reply(iq, `<query xmlns='jabber:iq:register'><instructions>Welcome`+hostile+`</instructions><username/><password/>`+
					`<x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>`+
					`<field var='username' type='text-single' label='User`+hostile+`'><required/></field>`+
					`<field var='password' type='text-private' label='Password'><required/></field></x></query>`)
			case "http://jabber.org/protocol/disco#info localhost", "http://jabber.org/protocol/disco#info ":
				err = st.Reply(iq, `<query xmlns='http://jabber.org/protocol/disco#info'>`+
					`<identity category='server' type='im' name='Prosody`+hostile+`'/>`+
					`<feature var='http://jabber.org/protocol/disco#info'/><feature var='jabber:iq:version'/>`+
					`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>`+
					`<field var='abuse-addresses'><value>mailto:abuse@localhost`+hostile+`</value><value>xmpp:abuse@localhost`+hostile+`</value></field></x></query>`)
			case "jabber:iq:version localhost", "jabber:iq:version ":
				err = st.Reply(iq, `<query xmlns='jabber:iq:version'><name>Prosody`+hostile+`</name><version>13`+hostile+`</version><os>Linux`+hostile+`</os></query>`)
			default:
				err = st.ReplyError(iq, "cancel", "service-unavailable", "gone\r\u009b2J\u202e")
			}
			if err != nil {
				return err
			}
		}
	}})
}

// clean reports whether out holds no character a terminal would obey,
// but newlines.
func clean(t *testing.T, name, out string) {
	t.Helper()
	if sanitize.Text(out) != out {
		t.Errorf("%s carries raw control or bidi characters:\n%q", name, out)
	}
}

// TestHostileServerSummary probes a server whose every answer holds CR,
// DEL, C1 and bidi controls: the summary, the JSON report and the JSON
// lines of -batch show them escaped, and the JSON still holds the data.
func TestHostileServerSummary(t *testing.T) {
	srv := hostileServer(t)
	probe := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runWith(context.Background(), append([]string{"-addr", srv.Addr, "-no-http", "-timeout", "10s", "-expiry-days", "0"}, args...),
			func(string) string { return "" }, nil, &out, &errb, srv.Roots)
		return code, out.String(), errb.String()
	}

	code, out, errs := probe("localhost")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	clean(t, "summary", out)
	clean(t, "stderr", errs)
	for _, want := range []string{`Prosody\x0dregistered admin@bank.example`, `\u202egpj.exe`, `\u009b2J`, `\x7f`} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	code, out, errs = probe("-json", "localhost")
	if code != 0 {
		t.Fatalf("-json: exit %d: %s", code, errs)
	}
	clean(t, "JSON report", out)
	var r struct{ Software struct{ Name, OS string } }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-json: %v\n%s", err, out)
	}
	if want := "Prosody\rregistered admin@bank.example and logged in\x7f\u009b2J\u009d0;pwned\u009c\u202egpj.exe"; r.Software.Name != want {
		t.Errorf("JSON software name = %q, want %q (escaped, not changed)", r.Software.Name, want)
	}

	list := t.TempDir() + "/domains.txt"
	if err := writeFile(list, "localhost\n"); err != nil {
		t.Fatal(err)
	}
	code, out, errs = probe("-batch", list)
	if code != 0 {
		t.Fatalf("-batch: exit %d: %s", code, errs)
	}
	clean(t, "JSON lines", out)
	clean(t, "batch stderr", errs)
}

// TestHostileArguments checks that what the user typed is echoed escaped
// too (a pasted domain may carry an ESC sequence).
func TestHostileArguments(t *testing.T) {
	for _, args := range [][]string{
		{"a\x1b]0;pwned\x07.test"},
		{"-batch", "/nonexistent/\x1b[2J\u202e.txt"},
		{"-cafile", "/nonexistent/\r\u202e.pem", "a.test"},
		{"a.test", "\x1b[2J"},
	} {
		code, out, errs := runProbe(t, nil, args...)
		if code == 0 {
			t.Errorf("%q: exit 0", args)
		}
		clean(t, "stdout", out)
		clean(t, "stderr", errs)
	}
}

func writeFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o600) }
