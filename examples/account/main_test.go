package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
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

var seq atomic.Int64

func user(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

type runResult struct {
	code           int
	stdout, stderr string
	res            result
}

// account runs the command in-process; stdin is standard input, env the
// environment it sees.
func runAccount(t *testing.T, stdin string, env map[string]string, args ...string) runResult {
	t.Helper()
	in := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(in, []byte(stdin), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, func(k string) string { return env[k] }, f, &out, &errb)
	r := runResult{code: code, stdout: out.String(), stderr: errb.String()}
	if slices.Contains(args, "-json") {
		if err := json.Unmarshal(out.Bytes(), &r.res); err != nil {
			t.Fatalf("bad JSON %q: %v", out.String(), err)
		}
		if !bytes.HasPrefix(out.Bytes(), []byte(`{"format":1,`)) {
			t.Errorf("JSON does not start with format 1: %s", out.String())
		}
	}
	return r
}

func TestUsage(t *testing.T) {
	code, out, _ := runHelp(t)
	if code != 0 || out != command(new(options)).Help() {
		t.Errorf("-h: exit %d", code)
	}
	for _, args := range [][]string{
		{},                          // no action
		{"-user", "a@b.test"},       // no action
		{"-user", "a@b.test", "pw"}, // unknown action
		{"password"},                // no account
		{"-user", "a", "password"},  // no domain
		{"-user", "a@b.test", "password", "c.test"},
		{"-user", "a@b.test", "delete", "b.test", "extra"},
		{"-user", "a@b.test", "-addr", "x:1", "-direct-tls", "y:2", "delete"},
		{"-user", "a@b.test", "-password", "secret", "delete"}, // no such flag
		{"-user", "a@b.test", "-cafile", "/nonexistent.pem", "-yes", "delete"},
	} {
		r := runAccount(t, "", map[string]string{cli.PasswordEnv: "x"}, args...)
		if r.code != exitUsage || r.stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := runAccount(t, "", nil, "-user", "a@b.test", "-yes", "delete"); r.code != exitUsage || !strings.Contains(r.stderr, "no password") {
		t.Errorf("no password: exit %d, %q", r.code, r.stderr)
	}
	if r := runAccount(t, "", nil, "-user", "a@b.test", "pasword"); !strings.Contains(r.stderr, "did you mean password") {
		t.Errorf("typo: %q", r.stderr)
	}
}

func runHelp(t *testing.T) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, nil, &out, &errb)
	return code, out.String(), errb.String()
}

// TestAccount changes a password and deletes the account on every server
// version: afterwards the new password logs in and the old does not, and
// after the deletion the login fails and the server lists no such account.
// Mismatched new passwords, a wrong current password and a deletion not
// confirmed change nothing. No password is ever printed.
func TestAccount(t *testing.T) {
	for _, kind := range []string{testserver.KindProsody, testserver.KindEjabberd} {
		testserver.ForEach(t, kind, func(t *testing.T, v string) {
			var srv *testserver.Server
			if kind == testserver.KindProsody {
				srv = testserver.StartProsody(t, testserver.ProsodyConfig{Version: v})
			} else {
				// password_strength: a weak new password is refused (exit 12).
				srv = testserver.StartEjabberd(t, testserver.EjabberdConfig{Version: v, PasswordStrength: 32})
			}
			accountLife(t, srv)
		})
	}
}

func accountLife(t *testing.T, srv *testserver.Server) {
	u := user("acct")
	const oldPW, newPW, wrongPW = "old-Account-Passw0rd", "new-Account-Passw0rd", "wrong-Account-Passw0rd"
	srv.AddUser(t, u, oldPW)
	addr := u + "@" + srv.Domain
	base := []string{"-user", addr, "-addr", srv.Addr, "-cafile", srv.CA.CertFile, "-timeout", "30s"}
	d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logsIn := func(pw string) bool {
		t.Helper()
		ok, err := d.Confirm(ctx, srv.Domain, u, pw)
		if err != nil {
			t.Fatalf("Confirm: %v", err)
		}
		return ok
	}
	noSecrets := func(r runResult) {
		t.Helper()
		for _, pw := range []string{oldPW, newPW, wrongPW} {
			if strings.Contains(r.stdout+r.stderr, pw) {
				t.Errorf("a password is in the output: %q %q", r.stdout, r.stderr)
			}
		}
	}
	args := func(a ...string) []string { return append(slices.Clone(base), a...) }

	// The two new passwords differ: nothing is sent.
	r := runAccount(t, oldPW+"\n"+newPW+"\n"+newPW+"x\n", nil, args("-json", "password")...)
	noSecrets(r)
	if r.code != exitMismatch || r.res.OK || r.res.Exit != exitMismatch {
		t.Errorf("mismatch: exit %d, %+v, stderr %q", r.code, r.res, r.stderr)
	}
	// A wrong current password.
	r = runAccount(t, newPW+"\n"+newPW+"\n", map[string]string{cli.PasswordEnv: wrongPW}, args("password")...)
	noSecrets(r)
	if r.code != exitLogin || !strings.Contains(r.stderr, "login failed") {
		t.Errorf("wrong password: exit %d, stderr %q", r.code, r.stderr)
	}
	if srv.Kind == testserver.KindEjabberd {
		// Refused by the server's password_strength.
		r = runAccount(t, "aaaa\naaaa\n", map[string]string{cli.PasswordEnv: oldPW}, args("-json", "password")...)
		noSecrets(r)
		if r.code != exitWeakPassword || r.res.Kind != "password rejected" {
			t.Errorf("weak password: exit %d, %+v", r.code, r.res)
		}
	}
	if !logsIn(oldPW) || logsIn(newPW) {
		t.Fatal("a failed change changed the password")
	}

	// The change: all three passwords from standard input.
	r = runAccount(t, oldPW+"\n"+newPW+"\n"+newPW+"\n", nil, args("-json", "password")...)
	noSecrets(r)
	if r.code != exitOK || !r.res.OK || !r.res.Verified || r.res.JID != addr || r.res.Action != "password" {
		t.Fatalf("password: exit %d, %+v, stderr %q", r.code, r.res, r.stderr)
	}
	if !strings.Contains(r.stderr, "New password again: ") {
		t.Errorf("no second prompt: %q", r.stderr)
	}
	if !logsIn(newPW) {
		t.Error("the new password does not log in")
	}
	if logsIn(oldPW) {
		t.Error("the old password still logs in")
	}

	// Deletion, answered "no": nothing happens.
	r = runAccount(t, "no\n", map[string]string{cli.PasswordEnv: newPW}, args("delete")...)
	noSecrets(r)
	if r.code != exitNotConfirmed || !slices.Contains(srv.Users(t), u) {
		t.Errorf("not confirmed: exit %d, stderr %q, users %v", r.code, r.stderr, srv.Users(t))
	}
	// Deletion, confirmed by typing yes.
	r = runAccount(t, newPW+"\nyes\n", nil, args("delete")...)
	noSecrets(r)
	if r.code != exitOK || !strings.Contains(r.stdout, "deleted "+addr) {
		t.Fatalf("delete: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if logsIn(newPW) {
		t.Error("the deleted account still logs in")
	}
	if slices.Contains(srv.Users(t), u) {
		t.Errorf("the server still lists %s: %v", u, srv.Users(t))
	}
	// Deleting it again (-yes, for scripts): the login fails.
	r = runAccount(t, "", map[string]string{cli.PasswordEnv: newPW}, args("-yes", "-json", "delete")...)
	noSecrets(r)
	if r.code != exitLogin || r.res.Kind != "login failed" {
		t.Errorf("second delete: exit %d, %+v", r.code, r.res)
	}
}

// TestInterrupted: Ctrl-C while a prompt waits ends with exit 130 and
// nothing sent.
func TestInterrupted(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close() // never written: the prompt waits
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-user", "juliet@localhost", "-addr", "127.0.0.1:1", "-json", "password"}, func(string) string { return "" }, r, &out, &errb)
	}()
	cancel()
	if code := <-done; code != exitInterrupted || !strings.Contains(out.String(), `"exit":130`) {
		t.Errorf("exit %d, %q %q", code, out.String(), errb.String())
	}
}
