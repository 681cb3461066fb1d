package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/examples/internal/clitest"
	"github.com/xmpp-onboard/onboard/internal/testserver"
)

//go:generate env ONBOARD_UPDATE_DOC=1 go test -run ^TestDoc$ .

// TestDoc checks that the package documentation (doc.go, "go doc") is the
// -h text.
func TestDoc(t *testing.T) {
	clitest.CheckDoc(t, command(new(options)), "doc.go")
}

func TestHelp(t *testing.T) {
	code, out, errs := runProbe(t, nil, "-h")
	if code != 0 || out != command(new(options)).Help() || errs != "" {
		t.Errorf("-h: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"Examples:", "Exit status:", "130 interrupted", "-direct-tls host:port", "-user account"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if code, _, errs := runProbe(t, nil, "a.test", "-bogus"); code != 2 || !strings.Contains(errs, "probe -h") {
		t.Errorf("-bogus: exit %d, %q", code, errs)
	}
}

// TestRefusedOnce probes a closed port: the refusal is shown once, not on
// every part that needed the connection.
func TestRefusedOnce(t *testing.T) {
	code, out, errs := runProbe(t, nil, "localhost", "-addr", "127.0.0.1:1", "-no-http", "-timeout", "5s")
	if code != exitUnreachable {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "refused") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d lines say refused:\n%s", n, out)
	}
	if !strings.Contains(errs, "no XMPP service reachable") {
		t.Errorf("stderr %q", errs)
	}
}

// TestExitCodes checks the codes a monitoring script relies on, against a
// local Prosody: flags after the domain, an untrusted certificate, a wrong
// password, a certificate close to expiry and an interrupted batch.
func TestExitCodes(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{LogLevel: "warn"})
	const password = "probe-exit-secret"
	srv.AddUser(t, "bob", password)
	env := map[string]string{cli.PasswordEnv: password}
	wrong := map[string]string{cli.PasswordEnv: "not-" + password}
	base := []string{"-addr", srv.Addr, "-no-http", "-timeout", "20s", "-expiry-days", "1"} // test certificates live a week
	trusted := append([]string{"-cafile", srv.CA.CertFile}, base...)

	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		err  string
	}{
		{"flags after the domain", env, append([]string{srv.Domain, "-user", "bob"}, trusted...), exitOK, ""},
		{"untrusted certificate", nil, append([]string{srv.Domain}, base...), exitCertificate, "certificate of " + srv.Addr + " not valid"},
		{"wrong password", wrong, append([]string{srv.Domain, "-user", "bob"}, trusted...), exitLogin, "login failed"},
		{"expiring", nil, append(trusted, srv.Domain, "-expiry-days", "100000"), exitExpiring, "expires in"},
	} {
		code, out, errs := runProbe(t, c.env, c.args...)
		if code != c.code || !strings.Contains(errs, c.err) {
			t.Errorf("%s: exit %d, want %d; stderr %q\n%s", c.name, code, c.code, errs, out)
		}
		if strings.Contains(out+errs, password) {
			t.Errorf("%s: the password appears in the output", c.name)
		}
		if c.code == exitExpiring && !strings.Contains(out, "WARNING, renew it") {
			t.Errorf("no warning in the summary:\n%s", out)
		}
	}

	// A batch with a problem exits with its code; an interrupted one 130.
	list := filepath.Join(t.TempDir(), "domains.txt")
	if err := os.WriteFile(list, []byte(srv.Domain+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runProbe(t, nil, append([]string{"-batch", list}, base...)...); code != exitCertificate {
		t.Errorf("batch with an untrusted certificate: exit %d, %q", code, errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C came at once
	var out, errb strings.Builder
	code := run(ctx, append([]string{"-batch", list}, trusted...), func(string) string { return "" }, nil, &out, &errb)
	if code != exitInterrupted || !strings.Contains(errb.String(), "(interrupted)") {
		t.Errorf("interrupted batch: exit %d, stderr %q", code, errb.String())
	}
}
