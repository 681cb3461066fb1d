package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
)

// The tests run the server in-process with run (so the flags are those a
// user would give) against real Prosody and ejabberd servers on loopback.

var userSeq atomic.Int64

func newUser(prefix string) string { return fmt.Sprintf("%s%d", prefix, userSeq.Add(1)) }

// syncBuffer collects the server's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer runs websignup with args (plus -listen) until the test
// ends, and returns its base URL and log.
func startServer(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), io.Discard, logs, func(a string) { addrc <- a })
	}()
	select {
	case a := <-addrc:
		t.Cleanup(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("run: %v", err)
			}
			if t.Failed() {
				t.Logf("server log:\n%s", logs.String())
			}
		})
		return "http://" + a, logs
	case err := <-errc:
		cancel()
		t.Fatalf("run: %v", err)
	}
	return "", nil
}

// caFile writes the servers' CA certificates into one PEM file.
func caFile(t *testing.T, srvs ...*testserver.Server) string {
	var pem []byte
	for _, s := range srvs {
		pem = append(pem, s.CA.CertPEM...)
	}
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// client is a browser without JavaScript: a cookie jar, and the page last
// loaded.
type client struct {
	t    *testing.T
	http *http.Client
	base string
	page string
	code int
	url  string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 60 * time.Second}}
}

func (c *client) do(req *http.Request) {
	c.t.Helper()
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.page, c.code, c.url = string(b), resp.StatusCode, resp.Request.URL.String()
}

func (c *client) get(path string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	c.do(req)
}

// post submits a form; the CSRF token of the current page is added
// unless the form has one.
func (c *client) post(path string, form url.Values) {
	c.t.Helper()
	if !form.Has("csrf") {
		form.Set("csrf", c.field("csrf"))
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	c.do(req)
}

var inputRE = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// field returns the value of a hidden field of the current page.
func (c *client) field(name string) string {
	for _, m := range inputRE.FindAllStringSubmatch(c.page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

// state is the page's data-state.
func (c *client) state() string {
	m := regexp.MustCompile(`<body data-state="([a-z]+)">`).FindStringSubmatch(c.page)
	if m == nil {
		return ""
	}
	return m[1]
}

// settle follows the self-refreshing working page.
func (c *client) settle() {
	c.t.Helper()
	for i := 0; c.state() == "working" && i < 600; i++ {
		c.get(strings.TrimPrefix(c.url, c.base))
	}
}

func (c *client) text(id string) string {
	m := regexp.MustCompile(`id="` + id + `"[^>]*>([^<]*)<`).FindStringSubmatch(c.page)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestHTTP(t *testing.T) {
	open := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "open.example"})
	closed := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "closed.example", Registration: testserver.RegistrationClosed})
	black, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { black.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := black.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	// A list file describes open.example; the other two are only domains.
	rec := providers.New("open.example")
	rec.Category, rec.InBandRegistration = providers.CategoryA, true
	rec.Website = providers.Localized{"en": "https://open.example/", "de": "https://open.example/de/"}
	rec.PasswordReset = providers.Localized{"en": "https://open.example/reset"}
	rec.UploadFileSize = 100
	data, err := providers.List{Providers: []providers.Provider{rec}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	listFile := filepath.Join(t.TempDir(), "providers.json")
	if err := os.WriteFile(listFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs := startServer(t, "-file", listFile, "-domain", "open.example="+open.Addr, "-domain", "closed.example="+closed.Addr,
		"-domain", "black.example="+black.Addr().String(), "-cafile", caFile(t, open, closed), "-timeout", "1s")
	const pw = "web-Passw0rd-secret"

	t.Run("chosen provider, own password", func(t *testing.T) {
		c := newClient(t, base)
		c.get("/")
		if c.code != 200 || c.state() != "index" || c.field("csrf") == "" {
			t.Fatalf("start page %d:\n%s", c.code, c.page)
		}
		for _, d := range []string{"open.example", "closed.example", "black.example"} {
			if !strings.Contains(c.page, `<input type="radio" name="provider" id="provider-`) || !strings.Contains(c.page, `value="`+d+`"`) {
				t.Errorf("%s not offered", d)
			}
		}
		u := newUser("web")
		c.post("/signup", url.Values{"provider": {"open.example"}, "username": {u}, "password": {pw}, "password2": {pw}})
		c.settle()
		if c.state() != "done" || c.text("jid") != u+"@open.example" {
			t.Fatalf("result page %d:\n%s", c.code, c.page)
		}
		if strings.Contains(c.page, pw) || strings.Contains(c.page, `id="password"`) {
			t.Error("the page shows the user's own password")
		}
		// What to know about the provider, in the browser's language.
		for _, want := range []string{`href="https://open.example/de/"`, `href="https://open.example/reset"`, "100 MB"} {
			if !strings.Contains(c.page, want) {
				t.Errorf("result page lacks %s:\n%s", want, c.page)
			}
		}
		// Shown again, to the same browser only.
		page := c.url
		c.get(strings.TrimPrefix(page, base))
		if c.code != 200 || c.state() != "done" || c.text("jid") != u+"@open.example" {
			t.Errorf("second view: %d\n%s", c.code, c.page)
		}
		other := newClient(t, base)
		other.get("/")
		other.get(strings.TrimPrefix(page, base))
		if other.code != 404 {
			t.Errorf("another browser: %d", other.code)
		}
	})

	t.Run("choose for me, generated", func(t *testing.T) {
		c := newClient(t, base)
		c.get("/")
		c.post("/signup", url.Values{"provider": {""}, "username": {""}, "password": {""}})
		c.settle()
		if c.state() != "done" || !strings.HasSuffix(c.text("jid"), "@open.example") {
			t.Fatalf("result page %d:\n%s", c.code, c.page)
		}
		gen := c.text("password")
		if len(gen) < 20 {
			t.Errorf("generated password %d characters", len(gen))
		}
		// The others failed first or were abandoned; closed.example is named
		// if it was tried.
		if strings.Contains(c.page, "closed.example") && !strings.Contains(c.page, "closed.example: "+tr("de", "reason.closed")) {
			t.Errorf("attempts:\n%s", c.page)
		}
		if strings.Contains(logs.String(), gen) {
			t.Error("the log shows the generated password")
		}
	})

	t.Run("all fail", func(t *testing.T) {
		c := newClient(t, base)
		c.get("/")
		c.post("/signup", url.Values{"provider": {"closed.example"}, "password": {pw}, "password2": {pw}})
		c.settle()
		if c.state() != "failed" || !strings.Contains(c.page, tr("de", "err.providerRefused", "closed.example", tr("de", "reason.closed"))) {
			t.Fatalf("page %d:\n%s", c.code, c.page)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		c := newClient(t, base)
		c.get("/")
		for _, f := range []url.Values{
			{"provider": {"evil.example"}},
			{"username": {"no spaces"}},
			{"password": {"short"}, "password2": {"short"}},
			{"password": {"long-enough-1"}, "password2": {"long-enough-2"}},
			{"password2": {"long-enough-2"}},
		} {
			c.post("/signup", f)
			if c.code != http.StatusUnprocessableEntity || c.state() != "index" || c.text("error") == "" {
				t.Errorf("%v: %d\n%s", f, c.code, c.page)
			}
			if strings.Contains(c.page, "short\"") {
				t.Error("the page echoes the password")
			}
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		c := newClient(t, base)
		c.get("/")
		c.post("/signup", url.Values{"csrf": {"forged"}, "provider": {"open.example"}})
		if c.code != http.StatusForbidden {
			t.Errorf("forged token: %d", c.code)
		}
		// A token from another browser's session.
		other := newClient(t, base)
		other.get("/")
		c.post("/signup", url.Values{"csrf": {other.field("csrf")}, "provider": {"open.example"}})
		if c.code != http.StatusForbidden {
			t.Errorf("another session's token: %d", c.code)
		}
		// No session at all.
		fresh := newClient(t, base)
		fresh.page = c.page
		fresh.post("/signup", url.Values{"provider": {"open.example"}})
		if fresh.code != http.StatusForbidden {
			t.Errorf("no session: %d", fresh.code)
		}
		// Another site.
		c.get("/")
		req, _ := http.NewRequest("POST", base+"/signup", strings.NewReader(url.Values{"csrf": {c.field("csrf")}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		c.do(req)
		if c.code != http.StatusForbidden {
			t.Errorf("cross-site post: %d", c.code)
		}
	})

	t.Run("headers", func(t *testing.T) {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers %v", h)
		}
		var ck *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == cookieName {
				ck = c
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %+v", ck)
		}
		resp, err = http.Get(base + "/pending/0123456789abcdef")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("unknown registration: %d", resp.StatusCode)
		}
	})

	if strings.Contains(logs.String(), pw) {
		t.Errorf("the log shows a password")
	}
}

// TestLimits: a pending registration lives at most -ttl, and at most
// -max-pending exist at once.
func TestLimits(t *testing.T) {
	black, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { black.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := black.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	base, _ := startServer(t, "-domain", "black.example="+black.Addr().String(), "-timeout", "1m", "-ttl", "2s", "-max-pending", "1")
	a, b := newClient(t, base), newClient(t, base)
	a.get("/")
	b.get("/")
	a.post("/signup", url.Values{"password": {"whatever-123"}, "password2": {"whatever-123"}})
	// The registration waits for the blackhole until the TTL ends it.
	a.settle()
	if a.state() != "failed" || !strings.Contains(a.page, tr("de", "err.timeout")) {
		t.Errorf("after the TTL: %d\n%s", a.code, a.page)
	}

	// Table full: of two browsers starting at once, one is turned away.
	a.get("/")
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, c := range []*client{a, b} {
		form := url.Values{"password": {"whatever-123"}, "password2": {"whatever-123"}, "csrf": {c.field("csrf")}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", base+"/signup", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.http.Do(req)
			if err != nil {
				t.Errorf("POST: %v", err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 503 || codes[0] == 503 && codes[1] == 200) {
		t.Errorf("two sign-ups with -max-pending 1: %v", codes)
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string][2]string{
		"de-AT,de;q=0.9,en;q=0.8": {"de", "at"},
		"fr":                      {"fr", ""},
		"pt_BR":                   {"pt", "br"},
		"*":                       {"", ""},
		"":                        {"", ""},
		"en-US-x-private":         {"en", "us"},
	} {
		l, c := acceptLanguage(h)
		if l != want[0] || c != want[1] {
			t.Errorf("%q: %q %q", h, l, c)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "127.0.0.1:5222"},     // -addr needs -domain
		{"-domain", "a.example=nohost"}, // no port
		{"-cafile", "/nonexistent.pem"}, // unreadable
		{"-ttl", "0"},                   // must be positive
		{"-ip-signups", "0"},            // must be positive
		{"-ip-window", "-1h"},           // must be positive
		{"-trusted-proxy", "nonsense"},  // not an address
		{"extra"},                       // no arguments
		{"-file", "/nonexistent"},       // unreadable
		{"-listen", "256.0.0.1:99999"},  // cannot listen
	} {
		err := run(context.Background(), args, io.Discard, io.Discard, nil)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestHelp: -h exits 0 (run returns errHelpShown) and shows the examples
// and exit codes, like the other tools; a bad flag is a usage error.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &out, io.Discard, nil); !errors.Is(err, errHelpShown) {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"Usage:", "Examples:", "Exit status:", "-file", "-behind-https"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h lacks %q", want)
		}
	}
	var ue usageError
	if err := run(context.Background(), []string{"-nonsense"}, io.Discard, io.Discard, nil); !errors.As(err, &ue) {
		t.Errorf("bad flag: %v, want a usage error", err)
	}
}
