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
)

// clean fails the test if out holds a character a terminal would obey,
// but newlines.
func clean(t *testing.T, name, out string) {
	t.Helper()
	if sanitize.Text(out) != out {
		t.Errorf("%s carries raw control or bidi characters:\n%q", name, out)
	}
}

// hostileFile is a provider file whose strings retitle the terminal (OSC),
// clear it (CSI), rewrite the line (CR), use the 8-bit CSI and reverse the
// text (U+202E), raw and as JSON escapes.
const hostileFile = `{
  "website": {"en": "http://chatrix.one/` + "\u202e" + `gpj.exe", "d\u001b]0;pwned\u0007": "https://chatrix.one/"},
  "alternativeJids": ["evil` + "\u009b" + `2J.example", "a\rb.example"],
  "busFactor": 2,
  "organization": "hobby\u001b[2J\rregistered admin@bank.example` + "\u202e" + `",
  "passwordReset": {"en": "javascript:alert(1)` + "\x7f" + `"},
  "serverTesting": true,
  "maximumHttpFileUploadTotalSize": 50,
  "maximumHttpFileUploadStorageTime": 28,
  "maximumMessageArchiveManagementStorageTime": 28,
  "professionalHosting": true,
  "freeOfCharge": true,
  "legalNotice": {"en": "https://chatrix.one/legal\u0007"},
  "serverLocations": ["c\u001b", "` + "\u202e" + `b"],
  "since": "2018-10-30\u001b[2J",
  "x\u001b]0;pwned\u0007": 1
}`

// TestHostileProviderFile rates a provider file full of control and bidi
// characters: the text, the JSON and the errors show them escaped.
func TestHostileProviderFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "provider-file.json")
	if err := os.WriteFile(file, []byte(hostileFile), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-file", file, "-at", "2026-07-22"},
		{"-domain", "chatrix.one", "-file", file, "-at", "2026-07-22"},
		{"-json", "-domain", "chatrix.one", "-file", file, "-at", "2026-07-22"},
	} {
		code, out, errs := rate(t, args...)
		if code != 1 || !strings.Contains(out, "Provider file") && !strings.Contains(out, "providerFile") {
			t.Errorf("%q: exit %d (want 1: the file has errors)\n%s", args, code, out)
		}
		clean(t, "stdout", out)
		clean(t, "stderr", errs)
		if args[0] == "-json" {
			var v map[string]any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Errorf("-json: %v", err)
			}
		}
	}
	// What the user typed is escaped too.
	for _, args := range [][]string{
		{"-domain", "evil\x1b]0;pwned\x07.example"},
		{"-at", "\x1b[2J\u202e", "-domain", "07f.de"},
		{"-file", "/nonexistent/\x1b[2J\u202e.json"},
	} {
		_, out, errs := rate(t, args...)
		clean(t, "stdout", out)
		clean(t, "stderr", errs)
	}
}

// TestHostileLiveServer rates a live server whose answers carry CR, DEL,
// C1 and bidi controls (XML allows those, not ESC or BEL). Today none of
// what the server says is printed (only which values came from the probe);
// the test keeps it that way, or escaped.
func TestHostileLiveServer(t *testing.T) {
	const hostile = "&#13;registered admin@bank.example\x7f\u009b2J\u202egpj.exe"
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
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
			switch iq.Children[0].Name.Space {
			case "jabber:iq:register":
				err = st.Reply(iq, `<query xmlns='jabber:iq:register'><instructions>`+hostile+`</instructions><username/><password/></query>`)
			case "http://jabber.org/protocol/disco#info":
				err = st.Reply(iq, `<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='`+hostile+`'/>`+
					`<feature var='jabber:iq:version'/><x xmlns='jabber:x:data' type='result'>`+
					`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>`+
					`<field var='support-addresses'><value>mailto:support@localhost`+hostile+`</value><value>xmpp:support@localhost`+hostile+`</value></field></x></query>`)
			case "jabber:iq:version":
				err = st.Reply(iq, `<query xmlns='jabber:iq:version'><name>Prosody`+hostile+`</name><version>13`+hostile+`</version></query>`)
			default:
				err = st.ReplyError(iq, "cancel", "service-unavailable", "gone\r\u009b2J\u202e")
			}
			if err != nil {
				return err
			}
		}
	}})
	for _, args := range [][]string{
		{"-domain", "localhost", "-addr", srv.Addr, "-no-http", "-timeout", "10s"},
		{"-json", "-domain", "localhost", "-addr", srv.Addr, "-no-http", "-timeout", "10s"},
	} {
		var o, e bytes.Buffer
		code := runWith(context.Background(), args, func(string) string { return "" }, nil, &o, &e, srv.Roots)
		if code != 0 {
			t.Errorf("%q: exit %d\n%s", args, code, e.String())
		}
		clean(t, "stdout", o.String())
		clean(t, "stderr", e.String())
	}
}
