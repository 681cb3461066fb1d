package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/examples/internal/clitest"
)

//go:generate env ONBOARD_UPDATE_DOC=1 go test -run ^TestDoc$ .

// TestDoc checks that the package documentation (doc.go, "go doc") is the
// -h text.
func TestDoc(t *testing.T) {
	clitest.CheckDoc(t, command(new(options), new(string)), "doc.go")
}

func TestHelp(t *testing.T) {
	code, out, errs := rate(t, "-h")
	if code != 0 || out != command(new(options), new(string)).Help() || errs != "" {
		t.Errorf("-h: exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"Examples:", "Exit status:", "-user account", "-direct-tls host:port"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestFlagsAfterDomain gives the domain as the argument, flags after it.
func TestFlagsAfterDomain(t *testing.T) {
	code, out, errs := rate(t, "07f.de", "-at", "2026-07-22", "-json")
	if code != 0 || !strings.HasPrefix(out, "{\n  \"format\": 1,") {
		t.Errorf("exit %d, %s\n%s", code, errs, out)
	}
	if code, _, errs := rate(t, "-domain", "07f.de", "yax.im"); code != 2 || !strings.Contains(errs, "either with -domain or as the argument") {
		t.Errorf("two domains: exit %d, %q", code, errs)
	}
}

// TestUnknownDomain: a near miss gets "did you mean", and every unknown
// domain the two ways to rate it anyway.
func TestUnknownDomain(t *testing.T) {
	code, _, errs := rate(t, "07f.dee")
	if code != 1 || !strings.Contains(errs, "did you mean 07f.de?") || !strings.Contains(errs, "-live") || !strings.Contains(errs, "-file") {
		t.Errorf("exit %d, %q", code, errs)
	}
	if _, _, errs := rate(t, "nothing-like-it.example"); strings.Contains(errs, "did you mean") || !strings.Contains(errs, "-live") {
		t.Errorf("%q", errs)
	}
}

// TestInterrupted: a live probe cut short by Ctrl-C exits 130.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	code := run(ctx, []string{"localhost", "-addr", "127.0.0.1:1", "-no-http"}, func(string) string { return "" }, nil, &o, &e)
	if code != exitInterrupted || o.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, o.String(), e.String())
	}
}
