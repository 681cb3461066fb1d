package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
)

// The path without -domain: onboard.Signup chooses among the providers of
// a list file, here local servers reached with -resolve.

func listProvider(domain, lang, country string) providers.Provider {
	p := providers.New(domain)
	p.Category = providers.CategoryA
	p.InBandRegistration = true
	p.FreeOfCharge = true
	p.Website = providers.Localized{lang: "https://" + domain + "/"}
	p.PasswordReset = providers.Localized{lang: "https://" + domain + "/reset"}
	p.ServerLocations = []string{country}
	return p
}

// writeList writes the providers as a list file and the servers' CAs as
// one PEM file.
func writeList(t *testing.T, ps []providers.Provider, srvs ...*testserver.Server) (listFile, caFile string) {
	t.Helper()
	data, err := providers.List{Providers: ps}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	listFile = filepath.Join(dir, "providers.json")
	if err := os.WriteFile(listFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var pem []byte
	for _, s := range srvs {
		pem = append(pem, s.CA.CertPEM...)
	}
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return listFile, caFile
}

func TestChoose(t *testing.T) {
	bin := build(t)
	closed := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "closed.example", ExtraHosts: []string{"closed2.example"}, Registration: testserver.RegistrationClosed})
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	const pw = "cli-Passw0rd-flow"
	env := []string{"ONBOARD_PASSWORD=" + pw, "LANG=de_DE.UTF-8"}
	resolve := []string{"-resolve", "closed.example=" + closed.Addr, "-resolve", "closed2.example=" + closed.Addr, "-resolve", "open.example=" + open.Addr}

	t.Run("fallback", func(t *testing.T) {
		// closed.example and closed2.example are German and in Germany,
		// so they are tried first (the user's $LANG); they fail and
		// open.example takes over.
		lf, ca := writeList(t, []providers.Provider{
			listProvider("closed.example", "de", "de"), listProvider("closed2.example", "de", "de"),
			listProvider("open.example", "fr", "fr"),
		}, closed, open)
		u := user("flow")
		args := append([]string{"-file", lf, "-cafile", ca, "-user", u, "-json"}, resolve...)
		r := signup(t, bin, nil, env, args...)
		wantCode(t, r, exitOK)
		if !r.res.OK || r.res.JID != u+"@open.example" || !strings.HasPrefix(r.res.Bound, r.res.JID+"/") || r.res.Domain != "open.example" {
			t.Errorf("result %+v", r.res)
		}
		var doms []string
		for _, a := range r.res.Attempts {
			doms = append(doms, a.Domain)
			if a.Step != "verify" || !strings.Contains(a.Error, "not advertised") {
				t.Errorf("attempt %+v", a)
			}
		}
		// Both closed providers come first (German, in Germany); open.example
		// is verified at the same time and waits for them.
		slices.Sort(doms)
		if !slices.Equal(doms, []string{"closed.example", "closed2.example"}) {
			t.Errorf("attempts %v", r.res.Attempts)
		}
		if r.res.Website != "https://open.example/" || r.res.PasswordReset != "https://open.example/reset" {
			t.Errorf("provider info %+v", r.res)
		}
		noSecret(t, r, pw)

		// Without -json: progress on stderr, the result on stdout.
		r = signup(t, bin, nil, env, append([]string{"-file", lf, "-cafile", ca, "-user", user("flow")}, resolve...)...)
		wantCode(t, r, exitOK)
		if !strings.Contains(r.stderr, "fallback: closed.example failed") || !strings.Contains(r.stdout, "forgotten password: https://open.example/reset") {
			t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	})

	t.Run("none works", func(t *testing.T) {
		lf, ca := writeList(t, []providers.Provider{listProvider("closed.example", "de", "de")}, closed)
		r := signup(t, bin, nil, env, append([]string{"-file", lf, "-cafile", ca, "-user", user("flow"), "-json"}, resolve...)...)
		wantCode(t, r, exitNoProvider)
		if r.res.OK || len(r.res.Attempts) != 1 || r.res.Attempts[0].Domain != "closed.example" || !strings.Contains(r.res.Error, "closed.example") {
			t.Errorf("result %+v", r.res)
		}
	})

	t.Run("pick", func(t *testing.T) {
		lf, _ := writeList(t, []providers.Provider{listProvider("open.example", "de", "de")})
		r := signup(t, bin, nil, nil, "-file", lf, "-pick")
		wantCode(t, r, exitOK)
		if strings.TrimSpace(r.stdout) != "open.example" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
}

func TestLanguageCountry(t *testing.T) {
	for _, c := range []struct{ lcAll, lang, flagL, flagC, wantL, wantC string }{
		{"", "de_AT.UTF-8", "", "", "de", "at"},
		{"fr_FR@euro", "de_AT.UTF-8", "", "", "fr", "fr"},
		{"", "C.UTF-8", "", "", "", ""},
		{"", "de_AT.UTF-8", "en", "us", "en", "us"},
		{"", "", "", "", "", ""},
	} {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LANG", c.lang)
		l, co := languageCountry(c.flagL, c.flagC)
		if l != c.wantL || co != c.wantC {
			t.Errorf("%+v: %q %q", c, l, co)
		}
	}
}
