package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
)

// hostile retitles the terminal (OSC), clears it (CSI), rings the bell,
// rewrites the line (CR), uses the 8-bit CSI and reverses the text (U+202E).
const hostile = "\x1b]0;pwned\x07\x1b[2J\rregistered admin@bank.example\u009b31m\u202egpj.exe\x7f"

// clean fails the test if out holds a character a terminal would obey,
// but newlines.
func clean(t *testing.T, name, out string) {
	t.Helper()
	if sanitize.Text(out) != out {
		t.Errorf("%s carries raw control or bidi characters:\n%q", name, out)
	}
}

// hostileProvider has the hostile text in every string a table, the
// details or the JSON show.
func hostileProvider() providers.Provider {
	p := providers.New("evil.example" + hostile)
	p.Category = providers.CategoryA
	p.InBandRegistration = true
	p.Website = providers.Localized{"en": "https://evil.example/" + hostile}
	p.PasswordReset = providers.Localized{"en": "https://evil.example/reset" + hostile}
	p.LegalNotice = providers.Localized{"en": hostile}
	p.RegistrationWebPage = providers.Localized{"en": hostile}
	p.EmailSupport = providers.LocalizedList{"en": {"a@evil.example" + hostile}}
	p.ChatSupport = providers.LocalizedList{"en": {hostile}}
	p.GroupChatSupport = providers.LocalizedList{"en": {hostile}}
	p.ServerLocations = []string{hostile}
	p.AlternativeJIDs = []string{hostile}
	p.ServerSoftwareName = hostile
	return p
}

// TestHostileListFile feeds lists whose strings carry ESC, BEL, CR, C1 and
// U+202E: the decoder refuses them and the error printed is escaped.
func TestHostileListFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"jid.json":                `[{"jid": "evil.example\u001b]0;pwned\u0007\r\u202e"}]`,
		"simple.json":             `["a.example", "evil\u001b[2J.example"]`,
		"website.json":            `{"evil.example": {"website": {"content": {"en": "https://evil.example/\u202egpj.exe"}, "source": ""}}}`,
		"raw-rlo.json":            "[\"evil.example\u202e\"]",
		"raw-c1.json":             "[\"evil.example\u009b2J\"]",
		"syntax.json":             "[\"a.example\", \u202e\x1b[2J]",
		"\x1b]0;x\x07\u202e.json": `["a.example"]`, // a hostile file name that does not exist below
	} {
		path := filepath.Join(dir, name)
		if !strings.HasPrefix(name, "\x1b") {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var out, errb bytes.Buffer
		if code := run([]string{"-file", path}, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", name, code)
		}
		clean(t, strconv.Quote(name)+": stderr", errb.String())
		clean(t, strconv.Quote(name)+": stdout", out.String())
	}
	// A lookup echoes the domain typed.
	var out, errb bytes.Buffer
	if code := run([]string{"-domain", "yax.im" + hostile}, &out, &errb); code != 1 {
		t.Errorf("hostile -domain: exit %d", code)
	}
	clean(t, "-domain: stderr", errb.String())
	errb.Reset()
	run([]string{"-category", hostile}, &out, &errb)
	clean(t, "-category: stderr", errb.String())
}

// TestHostileRecordPrinted checks the print paths on their own, with a
// record no decoded list can hold: every cell and row is escaped, and the
// JSON escapes DEL, C1 and bidi controls while keeping the data.
func TestHostileRecordPrinted(t *testing.T) {
	p := hostileProvider()
	var b bytes.Buffer
	table(&b, []providers.Provider{p}, "en")
	clean(t, "table", b.String())
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], `evil.example\x1b]0;pwned\x07\x1b[2J\x0dregistered`) {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	details(&b, p, "en")
	clean(t, "details", b.String())
	if !strings.Contains(b.String(), `\u202egpj.exe`) {
		t.Errorf("details:\n%s", b.String())
	}
	b.Reset()
	if err := writeJSON(&b, []providers.Provider{p}); err != nil {
		t.Fatal(err)
	}
	clean(t, "JSON", b.String())
	var wrapped struct {
		Providers []struct {
			JID                string `json:"jid"`
			ServerSoftwareName string `json:"serverSoftwareName"`
		} `json:"providers"`
	}
	err := json.Unmarshal(b.Bytes(), &wrapped)
	got := wrapped.Providers
	if err != nil || len(got) != 1 || got[0].JID != p.JID || got[0].ServerSoftwareName != hostile {
		t.Errorf("JSON does not hold the same data: %v %+v", err, got)
	}
}
