package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/providers"
)

// xepServer answers the form request with form (or with getErr, a raw
// error) and every submission with setErr (a raw <error/>; "" accepts and
// then the login). It records whether a <preauth/> arrived.
type xepServer struct {
	features       string
	form           string
	getErr, setErr string
	// taken names are refused with a conflict.
	taken string

	mu      sync.Mutex
	preauth []string
}

func (x *xepServer) start(t *testing.T) *fakeserver.Server {
	return fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		feats := x.features
		if feats == "" {
			feats = fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")
		}
		if err := st.Negotiate(feats); err != nil {
			return err
		}
		pass := ""
		for {
			e, err := st.Next()
			if err != nil {
				return err
			}
			if e.Name.Local == "auth" {
				st.Send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>")
				continue
			}
			if e.Name.Local != "iq" {
				continue
			}
			id := e.Attr("id")
			switch {
			case e.Child("preauth") != nil:
				x.mu.Lock()
				x.preauth = append(x.preauth, e.Child("preauth").Attr("token"))
				x.mu.Unlock()
				st.Reply(e, "")
			case e.Attr("type") == "get" && x.getErr != "":
				st.Sendf("<iq type='error' id='%s'>%s</iq>", id, x.getErr)
			case e.Attr("type") == "get":
				st.Reply(e, x.form)
			case e.Attr("type") == "set":
				u, _ := e.Field("username")
				switch {
				case x.taken != "" && u == x.taken:
					st.ReplyError(e, "cancel", "conflict", "")
					continue
				case x.setErr != "":
					st.Sendf("<iq type='error' id='%s'>%s</iq>", id, x.setErr)
					continue
				}
				pass, _ = e.Field("password")
				st.Reply(e, "")
				user, err := st.SASL(func(string) (string, bool) { return pass, true })
				if err != nil {
					return err
				}
				return st.Bind(user)
			}
		}
	}})
}

const (
	xepLegacy  = `<query xmlns='jabber:iq:register'><username/><password/></query>`
	xepCaptcha = `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field type='hidden' var='challenge'><value>F3A6292C</value></field>` +
		`<field var='ocr' label='Enter the text you see'><required/><media xmlns='urn:xmpp:media-element' height='80' width='290'>` +
		`<uri type='image/png'>cid:sha1+ocr@bob.xmpp.org</uri></media></field>%s` +
		`<field var='username'><required/></field><field type='text-private' var='password'><required/></field>` +
		`</x><data xmlns='urn:xmpp:bob' cid='sha1+ocr@bob.xmpp.org' type='image/png'>iVBORw0KGgo=</data></query>`
	stanzaNS = "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'"
)

// TestExitCodes: the XEPs' replies end with the exit status the
// documentation gives their meaning, never 1 ("other error").
func TestExitCodes(t *testing.T) {
	captcha := strings.Replace(xepCaptcha, "%s", "", 1)
	for _, tc := range []struct {
		name  string
		srv   *xepServer
		stdin string
		args  []string
		want  int
		text  string // in the error
	}{
		{"XEP-0158 wrong answer", &xepServer{form: captcha, setErr: "<error type='cancel'><not-acceptable " + stanzaNS + "/></error>"}, "7nHL3\n", nil, exitCaptcha, "CAPTCHA failed"},
		{"XEP-0158 challenge unknown", &xepServer{form: captcha, setErr: "<error type='cancel'><service-unavailable " + stanzaNS + "/></error>"}, "7nHL3\n", nil, exitCaptcha, "CAPTCHA failed"},
		{"XEP-0077 information missing", &xepServer{form: xepLegacy, setErr: "<error code='406' type='modify'><not-acceptable " + stanzaNS + "/></error>"}, "", nil, exitIncomplete, "form incomplete"},
		{"XEP-0077 conflict", &xepServer{form: xepLegacy, setErr: "<error code='409' type='cancel'><conflict " + stanzaNS + "/></error>"}, "", nil, exitTaken, "username taken"},
		{"legacy code 409", &xepServer{form: xepLegacy, setErr: "<error code='409'>Username Not Available</error>"}, "", nil, exitTaken, "Username Not Available"},
		{"legacy code 406", &xepServer{form: xepLegacy, setErr: "<error code='406'/>"}, "", nil, exitIncomplete, "form incomplete"},
		{"legacy code 503 to the form", &xepServer{getErr: "<error code='503'/>"}, "", nil, exitClosed, "registration closed"},
		{"service-unavailable to the form", &xepServer{getErr: "<error type='cancel'><service-unavailable " + stanzaNS + "/></error>"}, "", nil, exitClosed, "registration closed"},
		{"not advertised", &xepServer{features: fakeserver.Mechanisms("SCRAM-SHA-1"), form: xepLegacy}, "", nil, exitNotAdvertised, "not advertised"},
		{"already registered", &xepServer{form: `<query xmlns='jabber:iq:register'><registered/><username>juliet</username><password/></query>`}, "", nil, exitRegistered, "already registered"},
		{"web registration over plain http", &xepServer{form: `<query xmlns='jabber:iq:register'><instructions>To register, visit http://www.shakespeare.example/contests.php</instructions>` +
			`<x xmlns='jabber:x:oob'><url>http://www.shakespeare.example/contests.php</url></x></query>`}, "", nil, exitWebOnly, "over plain http (not offered)"},
		{"redirect condition", &xepServer{form: xepLegacy, setErr: "<error code='302' type='modify'><redirect " + stanzaNS + "/></error>"}, "", nil, exitWebOnly, "web registration only"},
		{"invitation page not fetched from loopback", &xepServer{form: xepLegacy}, "", []string{"-token", "https://127.0.0.1:1/invite?SECRET-tok"}, exitInviteInvalid, "malformed invitation"},
		{"several challenges", &xepServer{form: strings.Replace(xepCaptcha, "%s", `<field type='hidden' var='answers'><value>2</value></field><field var='qa' label='Type the color of a stop light'><required/></field>`, 1)},
			"red\n7nHL3\n", nil, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.srv.start(t)
			code, out, errs := runSignup(t, srv, tc.stdin, append(tc.args, "-json")...)
			var r result
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("JSON %q: %v\n%s", out, err, errs)
			}
			if code != tc.want || r.Exit != tc.want {
				t.Fatalf("exit %d (JSON %d), want %d: %s\n%s", code, r.Exit, tc.want, r.Error, errs)
			}
			if !strings.Contains(r.Error, tc.text) {
				t.Errorf("error %q does not say %q", r.Error, tc.text)
			}
			if strings.Contains(out+errs, "SECRET-tok") {
				t.Errorf("the token is shown:\n%s\n%s", out, errs)
			}
		})
	}
}

// TestInvitationLinks: -token takes a landing page link with the URI
// after "#" (nothing fetched); the token goes to a server that advertises
// invitations.
func TestInvitationLinks(t *testing.T) {
	x := &xepServer{features: fakeserver.FeatureRegister + fakeserver.FeatureIBRToken + fakeserver.Mechanisms("SCRAM-SHA-1"), form: xepLegacy}
	srv := x.start(t)
	code, out, errs := runSignup(t, srv, "", "-json", "-token", "https://xmpp.link/#localhost?register;preauth=TOK-frag-1")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, out, errs)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.preauth) != 1 || x.preauth[0] != "TOK-frag-1" {
		t.Errorf("tokens sent %q", x.preauth)
	}
	// An invitation for another server is refused before anything is sent.
	code, _, _ = runSignup(t, srv, "", "-token", "https://xmpp.link/#other.example?register;preauth=TOK-frag-2")
	if code != exitInviteInvalid {
		t.Errorf("invitation for another domain: exit %d", code)
	}
}

// TestTypedNameTaken: without -domain (onboard.Signup), a typed name that
// is taken is not renamed: exit 10 with suggestions.
func TestTypedNameTaken(t *testing.T) {
	x := &xepServer{form: xepLegacy, taken: "alice"}
	srv := x.start(t)
	lf, _ := writeList(t, []providers.Provider{listProvider("localhost", "en", "de")})
	t.Setenv("ONBOARD_PASSWORD", "exit-test-Passw0rd-1")
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb bytes.Buffer
	code := runWith(context.Background(), []string{"-file", lf, "-resolve", "localhost=" + srv.Addr, "-user", "alice", "-timeout", "20s", "-json",
		"-captcha-out", filepath.Join(t.TempDir(), "c.png")}, os.Getenv, f, &out, &errb, srv.Roots)
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("JSON %q: %v", out.String(), err)
	}
	if code != exitTaken || r.Kind != "username taken" || len(r.Suggestions) == 0 || !strings.HasPrefix(r.Suggestions[0], "alice") {
		t.Fatalf("exit %d, %+v\n%s", code, r, errb.String())
	}
}
