package register

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"
)

// readReply parses a testdata file holding one <iq/>.
func readReply(t testing.TB, name string) *node {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	n, err := parseNode(data, DefaultMaxStanza)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

func formOf(t *testing.T, name string) *Form {
	t.Helper()
	n := readReply(t, name)
	f, err := parseQuery(n.Child(NS, "query"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

func vars(fs []Field) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Var)
	}
	return strings.Join(out, ",")
}

func TestParseReplies(t *testing.T) {
	t.Run("prosody", func(t *testing.T) {
		f := formOf(t, "replies/prosody-extra-fields.xml")
		if !f.IsDataForm || f.FormType != NS || f.Title != "Creating a new account" {
			t.Errorf("form = %v", f)
		}
		if got := vars(f.Fields); got != "FORM_TYPE,username,password,email,name" {
			t.Errorf("fields = %s", got)
		}
		if got := vars(f.LegacyFields); got != "username,password,email,name" {
			t.Errorf("legacy fields = %s", got)
		}
		if got := vars(f.Missing()); got != "username,password,email" {
			t.Errorf("missing = %s", got)
		}
		if f.Instructions != "Choose a username and password for use with this service." {
			t.Errorf("instructions = %q (duplicates must be merged)", f.Instructions)
		}
	})
	t.Run("ejabberd legacy", func(t *testing.T) {
		f := formOf(t, "replies/ejabberd-legacy.xml")
		if f.IsDataForm || vars(f.Fields) != "username,password" || f.Fields[1].Type != TextPrivate || f.Fields[0].Label != "Username" {
			t.Errorf("form = %v", f)
		}
		sub := string(f.submission().Marshal())
		if sub != "<query xmlns='jabber:iq:register'><username/><password/></query>" {
			t.Errorf("submission = %s", sub)
		}
	})
	t.Run("ejabberd captcha", func(t *testing.T) {
		f := formOf(t, "replies/ejabberd-captcha.xml")
		c := f.Captcha
		if c == nil || c.Type != "ocr" || c.MIME != "image/png" || !bytes.HasPrefix(c.Image, []byte("\x89PNG")) || c.Challenge != "3109479076241379284" || len(c.URLs) != 0 {
			t.Fatalf("captcha = %+v", c)
		}
		if got := vars(f.Missing()); got != "username,password,ocr" {
			t.Errorf("missing = %s", got)
		}
		f.SetUsername("u")
		f.SetPassword("hunter2-secret")
		f.Set("ocr", "123")
		sub := string(f.submission().Marshal())
		for _, want := range []string{"type='submit'", "<field var='challenge'><value>3109479076241379284</value>", "<field var='sid'><value>333743b8c4d95047</value>", "<field var='ocr'><value>123</value>"} {
			if !strings.Contains(sub, want) {
				t.Errorf("submission lacks %s:\n%s", want, sub)
			}
		}
		if strings.Contains(sub, "label=") || strings.Contains(sub, "<media") || strings.Contains(sub, "captcha-fallback-text") {
			t.Errorf("submission echoes labels, media or fixed fields:\n%s", sub)
		}
		red := string(f.submission().Redacted(nil))
		if strings.Contains(red, "hunter2") || !strings.Contains(red, "[redacted]") {
			t.Errorf("redacted submission: %s", red)
		}
	})
	t.Run("ejabberd redirect", func(t *testing.T) {
		f := formOf(t, "replies/ejabberd-redirect.xml")
		if !f.WebOnly() || f.RedirectURL != "https://example.invalid/register" {
			t.Errorf("form = %v", f)
		}
	})
	t.Run("captcha legacy form type", func(t *testing.T) {
		f := formOf(t, "replies/captcha-legacy-formtype.xml")
		if !f.IsDataForm || f.FormType != FormTypeCaptchaLegacy || f.Captcha == nil || f.Captcha.Type != "qa" || f.Captcha.Label != "What is two plus three?" || f.Captcha.Answers != 1 {
			t.Errorf("form = %v, captcha %+v", f, f.Captcha)
		}
	})
	t.Run("captcha by cid", func(t *testing.T) {
		f := formOf(t, "replies/captcha-bob-by-cid.xml")
		c := f.Captcha
		if c == nil || c.Image != nil || c.CID != "sha1+5a4c38d44fc64805cbb2d92d8b208be13ff40c0f@bob.xmpp.org" || c.MIME != "image/jpeg" || len(c.URLs) != 1 || f.bobWant != c.CID {
			t.Errorf("captcha = %+v", c)
		}
	})
	t.Run("legacy full", func(t *testing.T) {
		f := formOf(t, "replies/legacy-full.xml")
		if got := vars(f.Missing()); got != "username,password,email,name,first,last,nick" {
			t.Errorf("missing = %s", got)
		}
		if k := f.Field("key"); k == nil || k.Value() != "8c0a6b1e" {
			t.Errorf("key = %+v", k)
		}
	})
	t.Run("registered", func(t *testing.T) {
		f := formOf(t, "replies/registered.xml")
		if !f.Registered || f.Username() != "juliet" || f.Password() != "" {
			t.Errorf("form = %v", f)
		}
	})
	t.Run("web in instructions", func(t *testing.T) {
		f := formOf(t, "replies/web-in-instructions.xml")
		if f.RedirectURL != "https://example.org/signup?from=xmpp" || !f.WebOnly() {
			t.Errorf("RedirectURL = %q", f.RedirectURL)
		}
	})
	t.Run("odd form", func(t *testing.T) {
		f := formOf(t, "replies/odd-form.xml")
		if got := vars(f.Fields); got != "username,password,tos,lang" {
			t.Errorf("fields = %s", got)
		}
		if l := f.Field("lang"); len(l.Options) != 2 || l.Options[1].Label != "Deutsch" || l.Value() != "en" {
			t.Errorf("lang = %+v", l)
		}
		if f.FormType != "" || !f.IsDataForm {
			t.Errorf("form = %v", f)
		}
	})
	t.Run("changepassword", func(t *testing.T) {
		f := formOf(t, "replies/changepassword-form.xml")
		if f.FormType != FormTypeChangePassword || f.Field("old_password").Type != TextPrivate {
			t.Errorf("form = %v", f)
		}
	})
}

func TestClassify(t *testing.T) {
	cases := []struct {
		file, op string
		kind     Kind
		retry    time.Duration
	}{
		{"prosody-conflict", opSubmit, KindUsernameTaken, 0},
		{"prosody-invalid-username", opSubmit, KindInvalidUsername, 0},
		{"prosody-invite-only", opSubmit, KindInviteRequired, 0},
		{"prosody-throttled", opSubmit, KindRateLimited, 0},
		{"prosody-bad-token", opPreauth, KindInviteInvalid, 0},
		{"prosody-missing-password", opSubmit, KindFormIncomplete, 0},
		{"prosody-closed", opForm, KindRegistrationClosed, 0},
		{"ejabberd-malformed-username", opSubmit, KindInvalidUsername, 0},
		{"ejabberd-denied", opSubmit, KindRegistrationClosed, 0},
		{"ejabberd-too-quickly", opSubmit, KindRateLimited, 0},
		{"ejabberd-bad-chars", opSubmit, KindWeakPassword, 0},
		{"ejabberd-weak-password", opSubmit, KindWeakPassword, 0},
		{"ejabberd-captcha-failed", opSubmit, KindCaptchaFailed, 0},
		{"ejabberd-conflict-echo", opSubmit, KindUsernameTaken, 0},
		{"retry-after", opSubmit, KindRateLimited, 90 * time.Second},
		{"secret-in-text", opChangePW, KindNotAllowed, 0},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			n := readReply(t, "errors/"+tc.file+".xml")
			se := parseStanzaError(n)
			e := stanzaErr(tc.op, se, nil, "hunter2-secret")
			if e.Kind != tc.kind || e.RetryAfter != tc.retry {
				t.Errorf("kind %v retry %v, want %v %v (%v)", e.Kind, e.RetryAfter, tc.kind, tc.retry, e)
			}
			if !errors.Is(e, tc.kind.Sentinel()) || !errors.Is(e, stanza.Error{Condition: se.Condition}) {
				t.Errorf("errors.Is fails for %v", e)
			}
			if strings.Contains(e.Error(), "hunter2") {
				t.Errorf("error text shows the secret: %v", e)
			}
			for _, txt := range e.Stanza.Text {
				if strings.Contains(txt, "hunter2") {
					t.Errorf("stanza text keeps the secret: %q", txt)
				}
			}
			if red := string(redactedWith(n, []string{"hunter2-secret"})); strings.Contains(red, "hunter2") {
				t.Errorf("redacted reply shows the secret: %s", red)
			}
		})
	}
}

func TestErrorFormatting(t *testing.T) {
	e := &Error{Op: opSubmit, Kind: KindOutcomeUnknown, Username: "u", Password: "pw-Secret-1", Err: errors.New("EOF after pw-Secret-1")}
	for _, s := range []string{e.Error(), e.GoString()} {
		if strings.Contains(s, "pw-Secret-1") {
			t.Errorf("shows the password: %s", s)
		}
	}
	if !errors.Is(e, ErrOutcomeUnknown) || errors.Is(e, ErrUsernameTaken) {
		t.Errorf("Is is wrong")
	}
	if KindUsernameTaken.String() != "username taken" || Kind(99).String() != "Kind(99)" || KindUnknown.Sentinel() != nil {
		t.Errorf("Kind strings")
	}
}

func TestRedaction(t *testing.T) {
	cases := []string{
		`<iq type='set'><query xmlns='jabber:iq:register'><username>u</username><password>S3CRET</password></query></iq>`,
		`<iq type='set'><query xmlns='jabber:iq:register'><username>u</username><old_password>S3CRET</old_password><password>S3CRET</password></query></iq>`,
		`<iq type='set'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='new_password'><value>S3CRET</value></field><field var='pin' type='text-private'><value>S3CRET</value></field></x></query></iq>`,
		`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>S3CRET</auth>`,
		`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>S3CRET</response>`,
		`<iq type='set'><preauth xmlns='urn:xmpp:pars:0' token='S3CRET'/></iq>`,
	}
	for _, c := range cases {
		n, err := parseNode([]byte(c), 0)
		if err != nil {
			t.Fatal(err)
		}
		red := string(n.Redacted(nil))
		if strings.Contains(red, "S3CRET") || !strings.Contains(red, redactedStr) {
			t.Errorf("%s\n-> %s", c, red)
		}
		if _, err := parseNode([]byte(red), 0); err != nil {
			t.Errorf("redacted output does not parse: %v\n%s", err, red)
		}
		if plain := string(n.Marshal()); !strings.Contains(plain, "S3CRET") {
			t.Errorf("marshal lost data: %s", plain)
		}
	}
}

func TestBoB(t *testing.T) {
	ok := base64.StdEncoding.EncodeToString(make([]byte, MaxBoBSize))
	if b, err := decodeBoB(ok[:100] + "\n " + ok[100:]); err != nil || len(b) != MaxBoBSize {
		t.Errorf("decodeBoB(max) = %d, %v", len(b), err)
	}
	big := base64.StdEncoding.EncodeToString(make([]byte, MaxBoBSize+1))
	if _, err := decodeBoB(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("decodeBoB(max+1) = %v", err)
	}
	for _, bad := range []string{"", "!!", "YQ"} {
		if _, err := decodeBoB(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("decodeBoB(%q) = %v", bad, err)
		}
	}
}

func TestFindHTTPS(t *testing.T) {
	cases := map[string]string{
		"visit https://example.org/x.":               "https://example.org/x",
		"(https://example.org/a?b=c)":                "https://example.org/a?b=c",
		"http://example.org and HTTPS://Example.org": "https://Example.org",
		"https://user:pw@example.org/":               "",
		"https:// nothing":                           "",
		"none":                                       "",
	}
	for in, want := range cases {
		if got := findHTTPS(in); got != want {
			t.Errorf("findHTTPS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChooseMechanism(t *testing.T) {
	tls13 := tlsState13()
	tls12 := tls.ConnectionState{Version: tls.VersionTLS12, TLSUnique: []byte("0123456789ab")}
	exporter := []string{"tls-server-end-point", "tls-exporter"}
	withCert := tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{{Raw: []byte("cert")}}}
	cases := []struct {
		offered []string
		cb      []string // XEP-0440 types
		cs      tls.ConnectionState
		plain   bool
		want    string
	}{
		{[]string{"PLAIN", "SCRAM-SHA-1"}, nil, tls13, false, "SCRAM-SHA-1"},
		// TLS 1.3 without XEP-0440 (ejabberd 23.01): no -PLUS.
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256"}, nil, tls13, false, "SCRAM-SHA-256"},
		{[]string{"PLAIN", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"}, nil, tls13, false, "SCRAM-SHA-1"},
		// tls-exporter advertised: -PLUS.
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256"}, exporter, tls13, false, "SCRAM-SHA-1-PLUS"},
		{[]string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}, []string{"TLS-Exporter"}, tls13, false, "SCRAM-SHA-256-PLUS"},
		// Only tls-server-end-point listed (XEP-0440): -PLUS with it
		// when there is a certificate to hash, else none.
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, []string{"tls-server-end-point"}, tls13, false, "SCRAM-SHA-1"},
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, []string{"tls-server-end-point"}, withCert, false, "SCRAM-SHA-1-PLUS"},
		// SCRAM-SHA-512 (ejabberd's auth_scram_hash: sha512) first.
		{[]string{"PLAIN", "SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "X-OAUTH2"}, exporter, tls13, false, "SCRAM-SHA-512-PLUS"},
		{[]string{"PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256", "X-OAUTH2"}, nil, tls13, false, "SCRAM-SHA-512"},
		// TLS 1.2: tls-unique is the default without XEP-0440.
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, nil, tls12, false, "SCRAM-SHA-1-PLUS"},
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, exporter, tls12, false, "SCRAM-SHA-1"},
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, nil, tls.ConnectionState{Version: tls.VersionTLS12}, false, "SCRAM-SHA-1"},
		// Only -PLUS offered: tried anyway (before PLAIN), but not
		// without a binding to compute.
		{[]string{"SCRAM-SHA-256-PLUS", "PLAIN"}, nil, tls13, true, "SCRAM-SHA-256-PLUS"},
		{[]string{"SCRAM-SHA-256-PLUS"}, nil, tls.ConnectionState{Version: tls.VersionTLS12}, false, ""},
		{[]string{"PLAIN"}, nil, tls13, false, ""},
		{[]string{"PLAIN"}, nil, tls13, true, "PLAIN"},
		{[]string{"DIGEST-MD5", "X-OAUTH2"}, nil, tls13, true, ""},
	}
	for _, tc := range cases {
		m, ok := chooseMechanism(Features{Mechanisms: tc.offered, ChannelBindings: tc.cb}, tc.cs, tc.plain)
		if (tc.want == "") == ok || m.Name != tc.want {
			t.Errorf("chooseMechanism(%v, cb %v, TLS %x, plain=%v) = %q, %v; want %q", tc.offered, tc.cb, tc.cs.Version, tc.plain, m.Name, ok, tc.want)
		}
	}
}
