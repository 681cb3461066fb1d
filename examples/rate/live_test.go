package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/providers"

	"github.com/xmpp-onboard/onboard/internal/testserver"
)

// TestRateLive rates a real local Prosody from a live probe: it is not in
// the list, so everything rated comes from the probe, and open in-band
// registration must be seen live.
func TestRateLive(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{Registration: testserver.RegistrationOpen})
	code, out, errs := rate(t, "-domain", srv.Domain, "-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-no-http")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errs, out)
	}
	contains(t, out, srv.Domain+": category D", "from the live probe")
	if containsLine(out, "in-band registration (XEP-0077) is not offered") {
		t.Errorf("open registration was not seen live:\n%s", out)
	}

	// Closed registration is seen live too.
	closed := testserver.StartProsody(t, testserver.ProsodyConfig{Registration: testserver.RegistrationClosed})
	code, out, errs = rate(t, "-domain", closed.Domain, "-addr", closed.Addr, "-cafile", closed.CA.CertFile, "-no-http")
	if code != 0 {
		t.Fatalf("closed: exit %d, stderr %q", code, errs)
	}
	if !containsLine(out, "in-band registration") {
		t.Errorf("closed registration not reported:\n%s", out)
	}

	// An untrusted certificate is an error, not a rating.
	if code, _, errs := rate(t, "-domain", srv.Domain, "-addr", srv.Addr, "-no-http", "-timeout", "5s"); code != exitCertificate || errs == "" {
		t.Errorf("untrusted certificate: exit %d, stderr %q", code, errs)
	}
}

// TestRateLiveUser logs in with -user: the contacts and the upload limit,
// which Prosody shows only to accounts, are rated from the live probe.
func TestRateLiveUser(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{
		ContactInfo: map[string][]string{"support": {"mailto:support@localhost", "xmpp:support@localhost"}},
		HTTPUpload:  10 << 20,
	})
	const password = "rate-live-secret"
	srv.AddUser(t, "carol", password)
	live := func(env map[string]string, args ...string) (int, string, string) {
		var o, e bytes.Buffer
		code := run(context.Background(), append([]string{srv.Domain, "-json", "-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-no-http"}, args...),
			func(k string) string { return env[k] }, nil, &o, &e)
		if strings.Contains(o.String()+e.String(), password) {
			t.Fatal("the password appears in the output")
		}
		return code, o.String(), e.String()
	}
	field := func(out string, f providers.Field) string {
		var v struct {
			Provenance map[providers.Field]string `json:"provenance"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return v.Provenance[f]
	}
	code, out, errs := live(nil)
	if code != exitOK || field(out, providers.FieldUploadFileSize) == "live" {
		t.Errorf("without -user: exit %d, %s; upload size from %q", code, errs, field(out, providers.FieldUploadFileSize))
	}
	env := map[string]string{cli.PasswordEnv: password}
	code, out, errs = live(env, "-user", "carol")
	if code != exitOK || field(out, providers.FieldUploadFileSize) != "live" || field(out, providers.FieldEmailSupport) != "live" {
		t.Errorf("with -user: exit %d, %s\n%s", code, errs, out)
	}
	// -user alone implies -live; a wrong password is exit 4, none exit 2.
	if code, _, errs := live(map[string]string{cli.PasswordEnv: "wrong"}, "-user", "carol"); code != exitLogin || !strings.Contains(errs, "login as carol failed") {
		t.Errorf("wrong password: exit %d, %q", code, errs)
	}
	if code, _, errs := live(nil, "-user", "carol"); code != exitUsage || !strings.Contains(errs, cli.PasswordEnv) {
		t.Errorf("no password: exit %d, %q", code, errs)
	}
}

func containsLine(out, s string) bool {
	return strings.Contains(out, s)
}
