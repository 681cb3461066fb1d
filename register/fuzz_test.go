package register

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Native fuzz targets for every parser of server data. Seeds come from
// testdata/ (real Prosody and ejabberd replies, captured with the Debug
// hook, and hand-written edge cases).

func tlsState13() tls.ConnectionState { return tls.ConnectionState{Version: tls.VersionTLS13} }

// addFiles adds every file matching pattern under testdata as a seed.
func addFiles(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

const fuzzSecret = "hunter2-secret"

// FuzzReply parses a reply to a registration form request or submission,
// the way Conn does: a form, or a stanza error that is classified.
func FuzzReply(f *testing.F) {
	addFiles(f, "replies/*.xml")
	addFiles(f, "errors/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseNode(data, DefaultMaxStanza)
		if err != nil {
			return
		}
		if n.Get("type") == "error" {
			for _, op := range []string{opPreauth, opForm, opSubmit, opChangePW, opRemove} {
				e := stanzaErr(op, parseStanzaError(n), nil, fuzzSecret)
				if strings.Contains(e.Error(), fuzzSecret) {
					t.Fatalf("error text shows the secret: %v", e)
				}
			}
		}
		q := n.Child(NS, "query")
		if q == nil {
			return
		}
		form, err := parseQuery(q)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		checkForm(t, form)
	})
}

// checkForm verifies the invariants of a parsed form.
func checkForm(t *testing.T, form *Form) {
	t.Helper()
	if len(form.Fields)+len(form.LegacyFields) > 2*MaxFields {
		t.Fatalf("%d fields", len(form.Fields))
	}
	if form.RedirectURL != "" && !strings.HasPrefix(strings.ToLower(form.RedirectURL), "https://") {
		t.Fatalf("non-https redirect %q", form.RedirectURL)
	}
	if c := form.Captcha; c != nil {
		if len(c.Image) > MaxBoBSize {
			t.Fatalf("image of %d bytes", len(c.Image))
		}
		for _, u := range c.URLs {
			if !strings.HasPrefix(strings.ToLower(u), "https://") {
				t.Fatalf("non-https media URL %q", u)
			}
		}
	}
	// Fill every fillable field with the secret and check the submission
	// and its redacted debug copy.
	for _, fl := range form.Fields {
		if fl.fillable() {
			// A value the field's type accepts (XEP-0004 §3.3).
			v := "v"
			switch {
			case fl.Type == Boolean:
				v = "1"
			case (fl.Type == ListSingle || fl.Type == ListMulti) && len(fl.Options) > 0:
				v = fl.Options[0].Value
			}
			if err := form.Set(fl.Var, v); err != nil && (v != "" || !errors.Is(err, ErrFormIncomplete)) {
				t.Fatalf("Set(%q): %v", fl.Var, err)
			}
		}
	}
	if form.Field("password") != nil {
		form.SetPassword(fuzzSecret)
	}
	sub := form.submission()
	raw := sub.Marshal()
	back, err := parseNode(raw, 0)
	if err != nil {
		t.Fatalf("submission does not parse: %v\n%s", err, raw)
	}
	if _, err := parseQuery(back); err != nil && !errors.Is(err, ErrTooLarge) {
		t.Fatalf("submission does not parse as a query: %v\n%s", err, raw)
	}
	if red := sub.Redacted(nil); strings.Contains(string(red), fuzzSecret) {
		t.Fatalf("redacted submission shows the password:\n%s", red)
	}
	_ = form.String()
	form.Clone()
}

// FuzzStanzaError classifies arbitrary <error/> content.
func FuzzStanzaError(f *testing.F) {
	addFiles(f, "errors/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseNode(data, DefaultMaxStanza)
		if err != nil {
			return
		}
		se := parseStanzaError(n)
		for _, op := range []string{opPreauth, opForm, opSubmit, opChangePW, opRemove} {
			e := stanzaErr(op, se, &Form{Captcha: &Captcha{}}, fuzzSecret)
			if e.Kind < KindUnknown || e.Kind > KindConnect {
				t.Fatalf("kind %d", e.Kind)
			}
			if e.RetryAfter < 0 {
				t.Fatalf("negative RetryAfter")
			}
			if strings.Contains(e.Error(), fuzzSecret) {
				t.Fatalf("error shows the secret: %v", e)
			}
		}
	})
}

// FuzzBoB decodes Bits of Binary payloads.
func FuzzBoB(f *testing.F) {
	f.Add("iVBORw0KGgoAAAANSUhEUgAAACAAAAAQCAAAAABSayKF")
	f.Add(" aGVs\nbG8= ")
	f.Add("!!")
	f.Add(strings.Repeat("A", 4*MaxBoBSize/3+8))
	f.Fuzz(func(t *testing.T, s string) {
		b, err := decodeBoB(s)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(b) == 0 || len(b) > MaxBoBSize {
			t.Fatalf("%d bytes", len(b))
		}
		if base64.StdEncoding.EncodeToString(b) != strings.Join(strings.Fields(s), "") {
			// Padding variants decode to the same bytes; only check the
			// length bound above.
			_ = b
		}
	})
}

// FuzzParseInvite parses invitation URIs and tokens.
func FuzzParseInvite(f *testing.F) {
	file, err := os.Open(filepath.Join("testdata", "invites.txt"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			f.Add(l)
		}
	}
	file.Close()
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInvite(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedInvite) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if checkToken(inv.Token) != nil {
			t.Fatalf("invalid token accepted: %q", inv.Token)
		}
		if inv.Domain != "" {
			if _, err := normalizeDomain(inv.Domain); err != nil {
				t.Fatalf("invalid domain accepted: %q", inv.Domain)
			}
		}
		if inv.Username != "" {
			if _, err := NormalizeUsername(inv.Username); err != nil {
				t.Fatalf("invalid username accepted: %q", inv.Username)
			}
		}
	})
}

// FuzzRedact checks that the debug copy of any element hides every secret
// the redaction rules name, and that it is well-formed.
func FuzzRedact(f *testing.F) {
	addFiles(f, "errors/*.xml")
	addFiles(f, "replies/*.xml")
	f.Add([]byte(`<iq><query xmlns='jabber:iq:register'><password>x</password></query></iq>`))
	f.Add([]byte(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>`))
	f.Add([]byte(`<iq><preauth xmlns='urn:xmpp:pars:0' token='x'/></iq>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseNode(data, DefaultMaxStanza)
		if err != nil {
			return
		}
		red := n.Redacted(nil)
		back, err := parseNode(red, 0)
		if err != nil {
			t.Fatalf("redacted output does not parse: %v\n%s", err, red)
		}
		var walk func(n *node, secret bool)
		walk = func(n *node, secret bool) {
			secret = secret || n.SecretText()
			if secret && n.Text != "" && n.Text != redactedStr {
				t.Fatalf("secret text %q left in <%s>", n.Text, n.Name.Local)
			}
			for _, a := range n.Attr {
				if n.SecretAttr(a) && a.Value != redactedStr {
					t.Fatalf("secret attribute left: %q", a.Value)
				}
			}
			for _, k := range n.Children {
				walk(k, secret)
			}
		}
		walk(back, false)
	})
}

// FuzzFeatures parses stream features.
func FuzzFeatures(f *testing.F) {
	f.Add([]byte(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms><register xmlns='http://jabber.org/features/iq-register'/><register xmlns='urn:xmpp:ibr-token:0'/><register xmlns='urn:xmpp:invite'/></stream:features>`))
	f.Add([]byte(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms><sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-server-end-point'/><channel-binding type='tls-exporter'/></sasl-channel-binding></stream:features>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseNode(data, DefaultMaxStanza)
		if err != nil {
			return
		}
		feats := parseFeatures(n)
		if len(feats.Mechanisms) > 64 || len(feats.Other) > 64 {
			t.Fatalf("unbounded features")
		}
		chooseMechanism(feats, tlsState13(), true)
		if len(feats.ChannelBindings) > 16 {
			t.Fatalf("unbounded channel bindings")
		}
	})
}

// FuzzInvitePage feeds any invitation landing page (a remote HTML page
// InviteFetcher has fetched) to the link finder: it returns nothing or an
// xmpp: URI that was in the page, and what it returns is read by
// ParseInvite with a typed error or a valid invitation.
func FuzzInvitePage(f *testing.F) {
	f.Add(`<html><head><link rel="alternate" href="xmpp:example.org?register;preauth=abcdefgh12345678"></head></html>`)
	f.Add(`<link rel="Alternate Stylesheet" href=" XMPP:juliet@example.org?register;preauth=TOKENTOKEN ">`)
	f.Add(`<link rel=alternate href=xmpp:>`)
	f.Add(`<LINK REL="alternate" HREF="https://example.org/">`)
	f.Add(`<link rel="alternate" href="xmpp:a.example?register;preauth=` + strings.Repeat("x", 5000) + `">`)
	f.Fuzz(func(t *testing.T, page string) {
		uri := alternateXMPP(page)
		if uri == "" {
			return
		}
		if !strings.EqualFold(uri[:5], "xmpp:") {
			t.Fatalf("not an xmpp: URI: %q", uri)
		}
		inv, err := ParseInvite(uri)
		if err != nil {
			if !errors.Is(err, ErrMalformedInvite) && !errors.Is(err, ErrInvitePage) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if inv.Domain == "" || inv.Token == "" {
			t.Fatalf("invitation without domain or token: %+v", inv)
		}
	})
}
