package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
)

// TestBrowser drives the pages end to end in headless Chromium: a
// newcomer signs up on a local Prosody (open registration) and on a local
// ejabberd that asks for a CAPTCHA, whose answer the test reads from the
// server (testserver's CaptchaAnswers).
func TestBrowser(t *testing.T) {
	br := startBrowser(t)
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	captcha := testserver.StartEjabberd(t, testserver.EjabberdConfig{Domain: "captcha.example", Captcha: true})
	base, logs := startServer(t, "-domain", "open.example="+open.Addr, "-domain", "captcha.example="+captcha.Addr,
		"-cafile", caFile(t, open, captcha))
	const pw = "browser-Passw0rd-secret"

	t.Run("open provider", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		br.navigate(base + "/")
		br.waitState(ctx, "index")
		u := newUser("chrome")
		br.do(`document.querySelector('input[name=provider][value="open.example"]').checked = true`)
		br.do(`document.querySelector("#username").value = ` + js(u))
		br.do(`document.querySelector("#password").value = ` + js(pw))
		br.do(`document.querySelector("#password2").value = ` + js(pw))
		br.submit(ctx, "#submit", "done")
		if got := br.evalString(`document.querySelector("#jid").textContent`); got != u+"@open.example" {
			t.Errorf("address on the page: %q", got)
		}
		if html := br.evalString(`document.documentElement.outerHTML`); strings.Contains(html, pw) {
			t.Error("the page shows the password")
		}
	})

	t.Run("CAPTCHA", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		br.navigate(base + "/")
		br.waitState(ctx, "index")
		br.do(`document.querySelector('input[name=provider][value="captcha.example"]').checked = true`)
		br.submit(ctx, "#submit", "captcha") // generated username and password
		// The image is served from memory and the browser decoded it.
		for br.evalString(`String(document.querySelector("#captcha").complete && document.querySelector("#captcha").naturalWidth > 0)`) != "true" {
			if ctx.Err() != nil {
				t.Fatal("the CAPTCHA image did not load")
			}
			time.Sleep(50 * time.Millisecond)
		}
		shot(t, br, "captcha.png")
		// A wrong answer first: a new CAPTCHA.
		br.do(`document.querySelector("#answer").value = "wrong"`)
		br.submit(ctx, "#send", "captcha")
		a := captcha.CaptchaAnswers()
		br.do(`document.querySelector("#answer").value = ` + js(a[len(a)-1]))
		br.submit(ctx, "#send", "done")
		jid := br.evalString(`document.querySelector("#jid").textContent`)
		gen := br.evalString(`document.querySelector("#password").textContent`)
		if !strings.HasSuffix(jid, "@captcha.example") || len(gen) < 20 {
			t.Errorf("account %q, generated password of %d characters", jid, len(gen))
		}
		shot(t, br, "done.png")
		if strings.Contains(logs.String(), gen) {
			t.Error("the log shows the generated password")
		}
		// Shown again on a reload.
		br.do(`window.onboardOldPage = true; location.reload()`)
		br.waitState(ctx, "done")
	})

	if strings.Contains(logs.String(), pw) {
		t.Error("the log shows the password")
	}
}

// shot takes a screenshot, saves it in the test's directory and checks
// that it is a real picture of a page: a PNG of a plausible size with
// more than a handful of colours.
func shot(t *testing.T, br *browser, name string) {
	t.Helper()
	data := br.screenshot()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b := img.Bounds()
	colours := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	if b.Dx() < 300 || b.Dy() < 300 || len(colours) < 16 {
		t.Errorf("%s: %dx%d with %d colours", name, b.Dx(), b.Dy(), len(colours))
	}
	t.Logf("%s: %dx%d, %d colours, %d bytes (%s)", name, b.Dx(), b.Dy(), len(colours), len(data), path)
}
