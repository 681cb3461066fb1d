package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/testserver"
)

func runProbe(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-domain", "a.test", "b.test"},
		{"a.test", "b.test"},
		{"-batch", "x.txt", "a.test"},
		{"-batch", "x.txt", "-direct-tls", "127.0.0.1:1"},
		{"-directtls", "127.0.0.1:1", "a.test"}, // the old spelling
		{"-concurrency", "0", "a.test"},
		{"-user", "alice", "a.test"}, // no password in the environment
		{"-cafile", "/nonexistent/ca.pem", "a.test"},
		{"-batch", "/nonexistent/domains.txt"},
		{"-bogus"},
	} {
		if code, _, stderr := runProbe(t, nil, args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
	if code, _, stderr := runProbe(t, nil, "not a domain"); code != 1 || !strings.Contains(stderr, "invalid domain") {
		t.Errorf("invalid domain: exit %d, %q", code, stderr)
	}
}

func TestProsodySummaryAndJSON(t *testing.T) {
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{
		DirectTLS:    true,
		ContactInfo:  map[string][]string{"abuse": {"mailto:abuse@localhost"}},
		HTTPUpload:   1 << 20,
		ExtraFields:  []string{"email+"},
		ExtraModules: []string{"version"},
		LogLevel:     "info",
	})
	const password = "probe-cli-secret"
	srv.AddUser(t, "alice", password)
	base := []string{"-addr", srv.Addr, "-direct-tls", srv.DirectTLSAddr, "-cafile", srv.CA.CertFile, "-no-http", "-timeout", "20s", "-expiry-days", "1"} // test certificates live a week

	code, out, stderr := runProbe(t, nil, append(base, srv.Domain)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"STARTTLS", srv.Addr + ", TLS 1.3", "certificate valid", "before TLS: STARTTLS (required)",
		"Direct TLS", srv.DirectTLSAddr, "Registration", "open",
		"fields: username, password, email (required: username, password, email)", "e-mail address required",
		"Server info", "unknown (needs an account)", "Login", "no account given", "Provider file", "not probed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	env := map[string]string{cli.PasswordEnv: password}
	code, out, stderr = runProbe(t, env, append(base, "-json", "-user", "alice@localhost", "-domain", srv.Domain)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(out+stderr, password) {
		t.Fatal("the password appears in the output")
	}
	var r struct {
		Format       int
		Domain       string
		Registration struct{ Kind string }
		Login        struct {
			Status struct{ State string }
			JID    string
		}
		Contacts struct{ Abuse []string }
		Software struct{ Name string }
		Upload   struct{ MaxFileSize int64 }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if r.Format != 1 || r.Domain != srv.Domain || r.Registration.Kind != "open" || r.Login.Status.State != "observed" ||
		!strings.HasPrefix(r.Login.JID, "alice@localhost/") || fmt.Sprint(r.Contacts.Abuse) != "[mailto:abuse@localhost]" ||
		r.Software.Name != "Prosody" || r.Upload.MaxFileSize != 1<<20 {
		t.Errorf("report = %+v", r)
	}

	// The summary with the account shows what needed it.
	code, out, _ = runProbe(t, env, append(base, "-user", "alice", srv.Domain)...)
	if code != 0 || !strings.Contains(out, "abuse: mailto:abuse@localhost") || !strings.Contains(out, "upload.localhost, max 1048576 bytes per file") ||
		!strings.Contains(out, "observed with an account") {
		t.Errorf("summary with account (exit %d):\n%s", code, out)
	}
}

func TestBatch(t *testing.T) {
	hosts := []string{"one.test", "two.test", "three.test"}
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "main.test", ExtraHosts: hosts, LogLevel: "warn"})
	list := filepath.Join(t.TempDir(), "domains.txt")
	content := "# virtual hosts\nmain.test\n\none.test\ntwo.test\nTHREE.test\nnot a domain\none.test\n"
	if err := os.WriteFile(list, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runProbe(t, nil, "-batch", list, "-addr", srv.Addr, "-cafile", srv.CA.CertFile,
		"-no-http", "-concurrency", "3", "-per-host", "2", "-timeout", "20s", "-expiry-days", "1")
	if code != exitUnreachable { // "not a domain"
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Format       int
			Exit         int
			Problem      string
			Domain       string
			Error        string
			Registration struct{ Kind string }
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if r.Format != 1 {
			t.Errorf("line %q: no format 1", sc.Text())
		}
		got[r.Domain] = fmt.Sprintf("%s%s %d %s", r.Registration.Kind, r.Error, r.Exit, r.Problem)
	}
	want := map[string]string{
		"main.test": "open 0 ", "one.test": "open 0 ", "two.test": "open 0 ", "three.test": "open 0 ",
		"not a domain": `unknowndiscovery: invalid domain: "not a domain" 1 invalid domain: "not a domain"`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reports:\n got %v\nwant %v", got, want)
	}
	// Progress: one line per domain (stderr is not a terminal), then the
	// summary.
	if !strings.Contains(stderr, "probe: [5/5] ") || !strings.Contains(stderr, "main.test: reachable") ||
		!strings.Contains(stderr, "not a domain: invalid domain") ||
		!strings.Contains(stderr, "5 of 5 domains probed") || !strings.Contains(stderr, "4 with a reachable XMPP service") {
		t.Errorf("stderr = %q", stderr)
	}
}
