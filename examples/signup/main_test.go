package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
)

// The tests build the command and run it against real servers started by
// internal/testserver (skipped when they are not installed, failed under
// CI=true).

var seq atomic.Int64

func user(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

// build compiles the command once per test binary.
func build(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "signup")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type runResult struct {
	code   int
	stdout string
	stderr string
	res    result
}

// signup runs the command with args; stdin feeds standard input, env is
// added to the environment.
func signup(t *testing.T, bin string, stdin io.Reader, env []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := runResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running signup: %v", err)
	}
	if strings.Contains(strings.Join(args, " "), "-json") && r.stdout != "" {
		if err := json.Unmarshal([]byte(r.stdout), &r.res); err != nil {
			t.Fatalf("bad JSON %q: %v", r.stdout, err)
		}
	}
	return r
}

func serverArgs(srv *testserver.Server, extra ...string) []string {
	return append([]string{"-domain", srv.Domain, "-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-json"}, extra...)
}

func wantCode(t *testing.T, r runResult, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
}

func noSecret(t *testing.T, r runResult, secret string) {
	t.Helper()
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("output shows the password:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestProsody(t *testing.T) {
	bin := build(t)
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{DirectTLS: true})
	const pw = "cli-Passw0rd-123"
	env := []string{"ONBOARD_PASSWORD=" + pw}

	t.Run("ok", func(t *testing.T) {
		u := user("cli")
		r := signup(t, bin, nil, env, serverArgs(srv, "-user", u, "-debug")...)
		wantCode(t, r, exitOK)
		if !r.res.OK || r.res.JID != u+"@"+srv.Domain || !strings.HasPrefix(r.res.Bound, r.res.JID+"/") {
			t.Errorf("result = %+v", r.res)
		}
		if !strings.Contains(r.stderr, "[redacted]") {
			t.Errorf("no debug output:\n%s", r.stderr)
		}
		noSecret(t, r, pw)

		// The same name again.
		r = signup(t, bin, nil, env, serverArgs(srv, "-user", u)...)
		wantCode(t, r, exitTaken)
		if r.res.OK || r.res.Kind != "username taken" || r.res.Exit != exitTaken {
			t.Errorf("result = %+v", r.res)
		}
	})
	t.Run("direct TLS", func(t *testing.T) {
		r := signup(t, bin, nil, env, "-domain", srv.Domain, "-direct-tls", srv.DirectTLSAddr, "-cafile", srv.CA.CertFile, "-user", user("dtls"))
		wantCode(t, r, exitOK)
		if !strings.HasPrefix(r.stdout, "registered ") {
			t.Errorf("stdout = %q", r.stdout)
		}
	})
	t.Run("password from stdin", func(t *testing.T) {
		r := signup(t, bin, strings.NewReader(pw+"\n"), nil, serverArgs(srv, "-user", user("stdin"))...)
		wantCode(t, r, exitOK)
		noSecret(t, r, pw)
	})
	t.Run("username from stdin", func(t *testing.T) {
		u := user("ask")
		r := signup(t, bin, strings.NewReader(u+"\n"), env, serverArgs(srv)...)
		wantCode(t, r, exitOK)
		if r.res.JID != u+"@"+srv.Domain {
			t.Errorf("result = %+v", r.res)
		}
	})
	t.Run("invalid username", func(t *testing.T) {
		r := signup(t, bin, nil, env, serverArgs(srv, "-user", "not@valid")...)
		wantCode(t, r, exitBadUsername)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		r := signup(t, bin, nil, env, "-domain", srv.Domain, "-addr", srv.Addr, "-json", "-user", user("cert"))
		wantCode(t, r, exitNoTLS)
	})
	t.Run("usage", func(t *testing.T) {
		wantCode(t, signup(t, bin, nil, env, "-domain", srv.Domain, "secret-password"), exitUsage)
		wantCode(t, signup(t, bin, nil, env, "-addr", srv.Addr, "-user", "x"), exitUsage)
		wantCode(t, signup(t, bin, nil, env, "-password", "x"), exitUsage)
	})
	t.Run("connection refused", func(t *testing.T) {
		r := signup(t, bin, nil, env, "-domain", srv.Domain, "-addr", "127.0.0.1:1", "-json", "-user", user("refused"))
		wantCode(t, r, exitConnect)
	})
}

func TestProsodyPolicies(t *testing.T) {
	bin := build(t)
	const pw = "cli-Passw0rd-456"
	env := []string{"ONBOARD_PASSWORD=" + pw}
	t.Run("closed", func(t *testing.T) {
		srv := testserver.StartProsody(t, testserver.ProsodyConfig{Registration: testserver.RegistrationClosed})
		wantCode(t, signup(t, bin, nil, env, serverArgs(srv, "-user", user("closed"))...), exitNotAdvertised)
	})
	t.Run("invite", func(t *testing.T) {
		srv := testserver.StartProsody(t, testserver.ProsodyConfig{Registration: testserver.RegistrationInvite})
		wantCode(t, signup(t, bin, nil, env, serverArgs(srv, "-user", user("noinv"))...), exitInviteRequired)
		wantCode(t, signup(t, bin, nil, env, serverArgs(srv, "-user", user("badinv"), "-token", "nonsense")...), exitInviteInvalid)
		uri := srv.InviteURI(t)
		// The invitation names the domain, so -domain may be left out.
		r := signup(t, bin, nil, env, "-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-json", "-user", user("inv"), "-token", uri, "-debug")
		wantCode(t, r, exitOK)
		noSecret(t, r, strings.SplitN(uri, "preauth=", 2)[1])
		// Used up.
		r = signup(t, bin, nil, env, serverArgs(srv, "-user", user("inv"), "-token", uri)...)
		wantCode(t, r, exitInviteInvalid)
	})
	t.Run("extra field", func(t *testing.T) {
		srv := testserver.StartProsody(t, testserver.ProsodyConfig{ExtraFields: []string{"email+"}})
		r := signup(t, bin, strings.NewReader("someone@example.org\n"), env, serverArgs(srv, "-user", user("mail"))...)
		wantCode(t, r, exitOK)
		if !strings.Contains(r.stderr, "Email: ") {
			t.Errorf("no prompt for the e-mail address:\n%s", r.stderr)
		}
		r = signup(t, bin, strings.NewReader(""), env, serverArgs(srv, "-user", user("mail"))...)
		if r.code == exitOK {
			t.Errorf("registered without the required e-mail address")
		}
	})
	t.Run("throttled", func(t *testing.T) {
		srv := testserver.StartProsody(t, testserver.ProsodyConfig{ThrottleMax: 1, ThrottlePeriod: 600})
		wantCode(t, signup(t, bin, nil, env, serverArgs(srv, "-user", user("thr"))...), exitOK)
		wantCode(t, signup(t, bin, nil, env, serverArgs(srv, "-user", user("thr"))...), exitRateLimited)
	})
}

func TestEjabberd(t *testing.T) {
	bin := build(t)
	const pw = "cli-Passw0rd-789"
	env := []string{"ONBOARD_PASSWORD=" + pw}
	t.Run("captcha", func(t *testing.T) {
		srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{Captcha: true})
		img := filepath.Join(t.TempDir(), "captcha.png")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, serverArgs(srv, "-user", user("cap"), "-captcha-out", img)...)
		cmd.Env = append(os.Environ(), env...)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Answer once the image is saved (the answer is what ejabberd's
		// captcha_cmd recorded).
		for {
			if _, err := os.Stat(img); err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("no CAPTCHA image saved\n%s", errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		a := srv.CaptchaAnswers()
		if len(a) == 0 {
			t.Fatal("no CAPTCHA answer recorded")
		}
		fmt.Fprintln(stdin, a[len(a)-1])
		stdin.Close()
		err = cmd.Wait()
		if err != nil {
			t.Fatalf("signup: %v\n%s\n%s", err, out.String(), errb.String())
		}
		if data, _ := os.ReadFile(img); !bytes.HasPrefix(data, []byte("\x89PNG")) {
			t.Errorf("saved image is not a PNG")
		}
		// A wrong answer.
		r := signup(t, bin, strings.NewReader("wrong\n"), env, serverArgs(srv, "-user", user("cap"), "-captcha-out", filepath.Join(t.TempDir(), "c.png"))...)
		wantCode(t, r, exitCaptcha)
	})
	t.Run("web only", func(t *testing.T) {
		const url = "https://example.invalid/register"
		srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{RedirectURL: url})
		r := signup(t, bin, nil, env, "-domain", srv.Domain, "-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-user", user("web"))
		wantCode(t, r, exitWebOnly)
		if !strings.Contains(r.stdout, url) {
			t.Errorf("URL not printed: %q", r.stdout)
		}
		r = signup(t, bin, nil, env, serverArgs(srv, "-user", user("web"))...)
		if r.res.RedirectURL != url {
			t.Errorf("JSON = %+v", r.res)
		}
	})
}

// TestPickProvider checks the provider choice without any network.
func TestPickProvider(t *testing.T) {
	l := providers.Embedded()
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		d, err := pickProvider(l)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := l.Lookup(d)
		if !ok || p.Category != providers.CategoryA || !p.InBandRegistration || !p.FreeOfCharge {
			t.Fatalf("picked %s: %+v", d, p)
		}
		seen[d] = true
	}
	t.Logf("picked %d different providers in 50 draws", len(seen))
	if _, err := pickProvider(providers.List{}); err == nil {
		t.Error("no error for an empty list")
	}
}
