package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/examples/internal/clitest"
)

//go:generate env ONBOARD_UPDATE_DOC=1 go test -run ^TestDoc$ .

// TestDoc checks that the package documentation (doc.go, "go doc") is the
// -h text.
func TestDoc(t *testing.T) {
	clitest.CheckDoc(t, command(new(options)), "doc.go")
}

func TestHelp(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--help"} {
		var out, errb bytes.Buffer
		if code := run([]string{h}, &out, &errb); code != 0 {
			t.Errorf("%s: exit %d", h, code)
		}
		if out.String() != command(new(options)).Help() || errb.Len() != 0 {
			t.Errorf("%s: stdout %q, stderr %q", h, out.String(), errb.String())
		}
		for _, want := range []string{"Examples:", "Exit status:", "-category categories"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: help lacks %q", h, want)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-bogus"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "providers -h") || out.Len() != 0 {
		t.Errorf("-bogus: exit %d, stderr %q", code, errb.String())
	}
}

// TestFlagsAnywhere gives the domain as the argument, with flags before
// and after it.
func TestFlagsAnywhere(t *testing.T) {
	var a, b, errb bytes.Buffer
	if code := run([]string{"-json", "yax.im"}, &a, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if code := run([]string{"yax.im", "-json"}, &b, &errb); code != 0 || a.String() != b.String() {
		t.Fatalf("flag after the domain: exit %d:\n%s", code, b.String())
	}
	var got struct {
		Format    int
		Providers []struct{ JID string }
	}
	if err := json.Unmarshal(a.Bytes(), &got); err != nil || got.Format != 1 || len(got.Providers) != 1 || got.Providers[0].JID != "yax.im" {
		t.Errorf("%v %+v", err, got)
	}
	for _, args := range [][]string{{"yax.im", "jabber.fr"}, {"-domain", "yax.im", "jabber.fr"}} {
		if code := run(args, &a, &errb); code != 2 {
			t.Errorf("%q: exit %d", args, code)
		}
	}
	// After "--" nothing is a flag.
	errb.Reset()
	if code := run([]string{"--", "-json"}, &a, &errb); code != 1 || !strings.Contains(errb.String(), "-json is not in") {
		t.Errorf("-- -json: exit %d, %q", code, errb.String())
	}
}

func TestDidYouMean(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"yax.iim"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "did you mean yax.im?") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"nothing-like-it.example"}, &out, &errb); code != 1 || strings.Contains(errb.String(), "did you mean") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
