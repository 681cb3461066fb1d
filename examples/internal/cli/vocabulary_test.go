package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVocabulary reads the help of the commands (their doc.go, which
// their own tests keep equal to -h) and checks that the flags they share
// are spelt and take their value alike, that old spellings are gone, and
// that each documents -h's exit codes.
func TestVocabulary(t *testing.T) {
	shared := map[string]string{ // flag: value name ("" for a bool)
		"json": "", "domain": "domain", "addr": "host:port", "direct-tls": "host:port",
		"cafile": "file", "timeout": "duration", "no-http": "", "file": "file",
	}
	flagLine := regexp.MustCompile(`(?m)^//\t-([a-z-]+)(?: ([^ ]+))?  `)
	seen := map[string]int{}
	for _, cmd := range []string{"providers", "probe", "rate", "signup", "account"} {
		b, err := os.ReadFile(filepath.Join("..", "..", cmd, "doc.go"))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		for _, m := range flagLine.FindAllStringSubmatch(doc, -1) {
			name, value := m[1], m[2]
			if want, ok := shared[name]; ok {
				seen[name]++
				if value != want {
					t.Errorf("%s: -%s takes %q, want %q", cmd, name, value, want)
				}
			}
			if name == "user" && value != "account" && value != "name" {
				t.Errorf("%s: -user takes %q", cmd, value)
			}
		}
		for _, old := range []string{"-directtls", "-username", "-perhost", "XMPP_PASSWORD", "-providers ", "redirect_url", "password_reset"} {
			if strings.Contains(doc, old) {
				t.Errorf("%s: the old spelling %s", cmd, old)
			}
		}
		words := strings.Join(strings.Fields(strings.ReplaceAll(doc, "//", "")), " ")
		if strings.Contains(doc, "-cafile") && !strings.Contains(words, "in addition to the system roots") {
			t.Errorf("%s: -cafile does not say it adds to the system roots", cmd)
		}
		for _, want := range []string{"\n//\t0   ", "\n//\t2   ", "Examples:", `"format": 1`} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s: the help lacks %q", cmd, want)
			}
		}
	}
	for _, f := range []string{"json", "addr", "direct-tls", "cafile", "domain"} {
		if seen[f] < 2 {
			t.Errorf("-%s is in %d commands only", f, seen[f])
		}
	}
}
