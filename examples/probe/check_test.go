package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/testserver"
)

// TestCheckRegistration: an ejabberd that serves the form but denies every
// registration is "open" without -check-registration and "closed" with it,
// in the summary and the JSON, on every ejabberd version; an open one stays
// open (checked); no account is created.
func TestCheckRegistration(t *testing.T) {
	testserver.ForEach(t, testserver.KindEjabberd, func(t *testing.T, v string) {
		for _, c := range []struct {
			reg, without, with, check string
		}{
			{testserver.RegistrationDeny, "open", "closed", "live check: closed"},
			{testserver.RegistrationOpen, "open", "open", "live check: open"},
		} {
			t.Run(c.reg, func(t *testing.T) {
				srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{Version: v, Registration: c.reg})
				before := srv.Users(t)
				base := []string{"-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-no-http", "-timeout", "20s", "-expiry-days", "1", srv.Domain}
				code, out, stderr := runProbe(t, nil, base...)
				if code != 0 || !regexp.MustCompile(`(?m)^Registration +`+c.without+`\b`).MatchString(out) || strings.Contains(out, "live check") {
					t.Errorf("without -check-registration (exit %d, %s):\n%s", code, stderr, out)
				}
				code, out, stderr = runProbe(t, nil, append(base, "-check-registration")...)
				t.Logf("with -check-registration:\n%s", out)
				if code != 0 || !regexp.MustCompile(`(?m)^Registration +`+c.with+`\b`).MatchString(out) || !strings.Contains(out, c.check) {
					t.Errorf("with -check-registration (exit %d, %s):\n%s", code, stderr, out)
				}
				code, out, stderr = runProbe(t, nil, append(base, "-check-registration", "-json")...)
				var r struct {
					Registration struct {
						Kind  string
						Check struct{ Result, Username, Condition string }
					}
				}
				if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
					t.Fatalf("exit %d, %v: %s %s", code, err, out, stderr)
				}
				if r.Registration.Kind != c.with || r.Registration.Check.Result != c.with || !strings.HasPrefix(r.Registration.Check.Username, "probe-") {
					t.Errorf("JSON registration %+v", r.Registration)
				}
				if after := srv.Users(t); !slices.Equal(before, after) {
					t.Errorf("accounts %v, were %v", after, before)
				}
			})
		}
	})
}
