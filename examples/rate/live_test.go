package main

import (
	"strings"
	"testing"

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
	if code, _, errs := rate(t, "-domain", srv.Domain, "-addr", srv.Addr, "-no-http", "-timeout", "5s"); code != 1 || errs == "" {
		t.Errorf("untrusted certificate: exit %d, stderr %q", code, errs)
	}
}

func containsLine(out, s string) bool {
	return strings.Contains(out, s)
}
