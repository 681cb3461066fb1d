package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/examples/internal/clitest"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

//go:generate env ONBOARD_UPDATE_DOC=1 go test -run ^TestDoc$ .

// TestDoc checks that the package documentation (doc.go, "go doc") is the
// -h text.
func TestDoc(t *testing.T) {
	clitest.CheckDoc(t, command(new(options)), "doc.go")
}

func inProcess(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(string) string { return "" }, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	code, out, errs := inProcess(t, "-h")
	if code != 0 || out != command(new(options)).Help() || errs != "" {
		t.Errorf("-h: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"Examples:", "Exit status:", "130 interrupted", "-direct-tls host:port", "-user name", "-file file"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for _, args := range [][]string{
		{"-username", "x"},                         // the old spelling
		{"-pick", "secret"},                        // an argument
		{"-addr", "a:1", "-direct-tls", "b:2"},     // both
		{"-domain", "a.test", "-direct-tls", "-x"}, // not host:port
	} {
		code, out, errs := inProcess(t, args...)
		if code != exitUsage || !strings.Contains(errs, "signup -h") || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if code, out, _ := inProcess(t, "-pick", "-lang", "fr"); code != 0 || out == "" {
		t.Errorf("-pick: exit %d, %q", code, out)
	}
}

// TestGeneratedPassword answers the password prompt with an empty line:
// signup generates one, shows it once, and it logs in. Progress reaches
// stderr with -json too.
func TestGeneratedPassword(t *testing.T) {
	bin := build(t)
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{})
	u := user("gen")
	r := signup(t, bin, strings.NewReader("\n"), []string{"ONBOARD_PASSWORD="}, serverArgs(srv, "-user", u)...)
	wantCode(t, r, exitOK)
	pw := r.res.Password
	if !r.res.PasswordGenerated || len(pw) < 20 || r.res.JID != u+"@"+srv.Domain {
		t.Fatalf("result: ok %v, generated %v, %d characters", r.res.OK, r.res.PasswordGenerated, len(pw))
	}
	if strings.Contains(r.stderr, pw) {
		t.Error("the generated password is on stderr")
	}
	if !strings.Contains(r.stderr, "signup: connecting "+srv.Addr) {
		t.Errorf("no progress on stderr with -json")
	}
	pool, err := cli.CertPool(srv.CA.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	d := register.Dialer{Addr: srv.Addr, TLSConfig: newTLSConfig(pool)}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if ok, err := d.Confirm(ctx, srv.Domain, u, pw); !ok || err != nil {
		t.Errorf("login with the generated password: %v, %v", ok, err)
	}

	// A typed password is never shown.
	const typed = "typed-Passw0rd-42"
	r = signup(t, bin, strings.NewReader(typed+"\n"), []string{"ONBOARD_PASSWORD="}, "-domain", srv.Domain, "-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-user", user("typed"))
	wantCode(t, r, exitOK)
	noSecret(t, r, typed)
	if strings.Contains(r.stdout, "password:") {
		t.Errorf("stdout shows a password line for a typed password")
	}
}

// TestCaptchaFileRemoved runs against ejabberd with a CAPTCHA, the image
// in the default temporary file: it is gone when signup ends, also when it
// ends by Ctrl-C while waiting for the answer.
func TestCaptchaFileRemoved(t *testing.T) {
	bin := build(t)
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{Captcha: true})
	env := []string{"ONBOARD_PASSWORD=cli-Passw0rd-cap"}
	for _, interrupt := range []bool{false, true} {
		tmp := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, serverArgs(srv, "-user", user("capt"))...)
		cmd.Env = append(os.Environ(), append(env, "TMPDIR="+tmp)...)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var img string
		for img == "" {
			m, _ := filepath.Glob(filepath.Join(tmp, "signup-captcha-*"))
			if len(m) > 0 {
				img = m[0]
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("no CAPTCHA image saved\n%s", errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if interrupt {
			// stdin stays open until the command has exited: an end of
			// input racing the signal would end the prompt first.
			cmd.Process.Signal(syscall.SIGINT)
			cmd.Wait()
			stdin.Close()
		} else {
			a := srv.CaptchaAnswers()
			if len(a) == 0 {
				t.Fatal("no CAPTCHA answer recorded")
			}
			stdin.Write([]byte(a[len(a)-1] + "\n"))
			stdin.Close()
			cmd.Wait()
		}
		cancel()
		code := cmd.ProcessState.ExitCode()
		if want := map[bool]int{false: exitOK, true: exitInterrupted}[interrupt]; code != want {
			t.Errorf("interrupt %v: exit %d, want %d\n%s\n%s", interrupt, code, want, out.String(), errb.String())
		}
		if _, err := os.Stat(img); !os.IsNotExist(err) {
			t.Errorf("interrupt %v: %s still there (%v)", interrupt, img, err)
		}
	}
}
