package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// The tests of this file (issue 11: the adversarial review) serve the app
// with httptest on loopback and replace onboard.Signup.Run by a fake
// runner (config.run), and the clock by a fake one (config.now), so that
// they need no XMPP server and never wait for a TTL to pass. Clients
// bind to other loopback addresses (127.0.0.2, …) to be other clients.

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is an app served on loopback with a fake runner.
type rig struct {
	t     *testing.T
	a     *app
	srv   *httptest.Server
	base  string
	logs  *syncBuffer
	clock *fakeClock
}

// runner is a fake onboard.Signup.Run.
type runner func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error)

// testProvider is the one provider the rig offers.
func testProvider() providers.Provider {
	p := providers.New("open.example")
	p.Category, p.InBandRegistration = providers.CategoryA, true
	p.Website = providers.Localized{"en": "https://open.example/"}
	return p
}

// created is the runner's result for a created account.
func created(s *onboard.Signup) *onboard.Result {
	u := s.Username
	if u == "" {
		u = "generated"
	}
	p := testProvider()
	return &onboard.Result{JID: jid.MustParse(u + "@open.example"), Password: s.Password, Provider: p, Info: onboard.Describe(p, "en")}
}

// succeed creates every account at once.
func succeed(_ context.Context, s *onboard.Signup) (*onboard.Result, error) { return created(s), nil }

// abandon shows a CAPTCHA that nobody answers: the sign-up holds its slot
// until it is stopped.
func abandon(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
	_, err := s.SolveCaptcha(ctx, "open.example", &register.Captcha{Label: "2+2?"})
	if err == nil {
		err = errors.New("fake: unexpected answer")
	}
	return nil, err
}

func newRig(t *testing.T, run runner, tlsServer bool, mod func(*config)) *rig {
	t.Helper()
	r := &rig{t: t, logs: &syncBuffer{}, clock: &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	cfg := config{
		list:       providers.List{Providers: []providers.Provider{testProvider()}},
		ttl:        time.Minute,
		maxPending: 64,
		ipSignups:  100,
		ipWindow:   time.Hour,
		timeout:    time.Second,
		log:        log.New(r.logs, "websignup: ", log.LstdFlags),
		run:        run,
		now:        r.clock.now,
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.a = a
	if tlsServer {
		r.srv = httptest.NewTLSServer(a)
	} else {
		r.srv = httptest.NewServer(a)
	}
	r.base = r.srv.URL
	t.Cleanup(func() {
		a.close()
		r.srv.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", r.logs.String())
		}
	})
	return r
}

// transport dials from the loopback address ip ("" for the default).
func (r *rig) transport(ip string) *http.Transport {
	tr := r.srv.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 10 * time.Second}
	if ip != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
	}
	tr.DialContext = d.DialContext
	tr.MaxIdleConnsPerHost = 64
	return tr
}

// browser is a client (with a cookie jar) on the loopback address ip.
func (r *rig) browser(ip string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: r.t, base: r.base, http: &http.Client{Jar: jar, Transport: r.transport(ip), Timeout: 60 * time.Second}}
}

// noFollow makes c stop at redirects, as a script that never looks at
// the pending page; location returns the last redirect's target path.
func noFollow(c *client) (_ *client, location func() string) {
	var mu sync.Mutex
	var last string
	c.http.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		mu.Lock()
		last = req.URL.Path
		mu.Unlock()
		return http.ErrUseLastResponse
	}
	return c, func() string {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// signup loads the start page and submits the form.
func signup(c *client, username string) {
	c.t.Helper()
	c.get("/")
	if c.code != 200 {
		c.t.Fatalf("start page: %d", c.code)
	}
	c.post("/signup", url.Values{"provider": {"open.example"}, "username": {username}, "password": {"fake-Passw0rd"}, "password2": {"fake-Passw0rd"}})
}

// TestPageViewsStoreNothing: cookie-less page views keep no state on the
// server, so 10,001 of them (the old session table held 10,000, for 30
// minutes) lock nobody out: each gets the page, and a newcomer's sign-up
// works after them.
func TestPageViewsStoreNothing(t *testing.T) {
	r := newRig(t, succeed, false, nil)
	hc := &http.Client{Transport: r.transport("")}
	var next atomic.Int64
	var bad atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= 10001 {
				resp, err := hc.Get(r.base + "/")
				if err != nil {
					t.Errorf("GET: %v", err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Errorf("%d page views were refused", n)
	}
	r.a.mu.Lock()
	pending := len(r.a.pending)
	r.a.mu.Unlock()
	if pending != 0 || r.a.limit.size() != 0 {
		t.Errorf("after page views only: %d pending, %d clients in the limiter", pending, r.a.limit.size())
	}
	c := r.browser("")
	signup(c, "newcomer")
	if c.code != 200 || c.state() != "done" || c.text("jid") != "newcomer@open.example" {
		t.Fatalf("newcomer after the flood: %d\n%s", c.code, c.page)
	}
}

// TestStatelessCSRF: the stateless token still protects the forms: it is
// bound to the browser's cookie, cannot be forged, and expires.
func TestStatelessCSRF(t *testing.T) {
	r := newRig(t, succeed, false, nil)
	c, other := r.browser(""), r.browser("")
	c.get("/")
	other.get("/")
	for name, tok := range map[string]string{
		"forged":          "9999999999.0123456789abcdef",
		"empty":           "",
		"another browser": other.field("csrf"),
	} {
		c.post("/signup", url.Values{"csrf": {tok}, "provider": {"open.example"}})
		if c.code != http.StatusForbidden {
			t.Errorf("%s token: %d", name, c.code)
		}
	}
	// No cookie at all, with a token that was good for another browser.
	fresh := r.browser("")
	fresh.post("/signup", url.Values{"csrf": {other.field("csrf")}, "provider": {"open.example"}})
	if fresh.code != http.StatusForbidden {
		t.Errorf("no cookie: %d", fresh.code)
	}
	// Expired.
	c.get("/")
	tok := c.field("csrf")
	r.clock.advance(sessionTTL + time.Second)
	c.post("/signup", url.Values{"csrf": {tok}, "provider": {"open.example"}})
	if c.code != http.StatusForbidden {
		t.Errorf("expired token: %d", c.code)
	}
	// And a good one works.
	signup(c, "csrfok")
	if c.state() != "done" {
		t.Errorf("good token: %d\n%s", c.code, c.page)
	}
}

// TestRateLimitPerClient: a client (IP address) may start -ip-signups
// sign-ups, then one more per window/n; another client is not affected;
// new cookies do not help.
func TestRateLimitPerClient(t *testing.T) {
	var runs atomic.Int64
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		runs.Add(1)
		return succeed(ctx, s)
	}, false, func(c *config) { c.ipSignups, c.ipWindow = 2, time.Hour })
	for i := range 2 {
		c := r.browser("127.0.0.5")
		signup(c, fmt.Sprintf("first%d", i))
		if c.state() != "done" {
			t.Fatalf("sign-up %d: %d\n%s", i+1, c.code, c.page)
		}
	}
	c := r.browser("127.0.0.5") // a new cookie
	signup(c, "third")
	if c.code != http.StatusTooManyRequests || !strings.Contains(c.page, tr("de", "err.rate")) {
		t.Errorf("third sign-up: %d\n%s", c.code, c.page)
	}
	o := r.browser("127.0.0.6")
	signup(o, "neighbour")
	if o.state() != "done" {
		t.Errorf("another client: %d\n%s", o.code, o.page)
	}
	r.clock.advance(30 * time.Minute) // one token back
	signup(c, "later")
	if c.state() != "done" {
		t.Errorf("half a window later: %d\n%s", c.code, c.page)
	}
	signup(c, "again")
	if c.code != http.StatusTooManyRequests {
		t.Errorf("and once more: %d", c.code)
	}
	if n := runs.Load(); n != 4 {
		t.Errorf("%d sign-ups ran, want 4", n)
	}
}

// TestTrustedProxy: X-Forwarded-For is ignored unless the peer is a
// -trusted-proxy; then its last untrusted address is the client.
func TestTrustedProxy(t *testing.T) {
	mustPrefixes := func(s ...string) []netip.Prefix {
		var f proxyFlag
		for _, v := range s {
			if err := f.Set(v); err != nil {
				t.Fatal(err)
			}
		}
		return f
	}
	for _, tc := range []struct {
		remote, xff string
		proxies     []netip.Prefix
		want        string
	}{
		{"127.0.0.1:1234", "", nil, "127.0.0.1"},
		{"127.0.0.1:1234", "192.0.2.1", nil, "127.0.0.1"}, // off by default
		{"127.0.0.1:1234", "192.0.2.1", mustPrefixes("127.0.0.1"), "192.0.2.1"},
		{"127.0.0.1:1234", "198.51.100.7, 192.0.2.1", mustPrefixes("127.0.0.0/8"), "192.0.2.1"},                       // the client wrote the first
		{"127.0.0.1:1234", "198.51.100.7, 192.0.2.1, 10.0.0.2", mustPrefixes("127.0.0.1", "10.0.0.0/8"), "192.0.2.1"}, // two proxies
		{"127.0.0.2:1234", "192.0.2.1", mustPrefixes("127.0.0.1"), "127.0.0.2"},                                       // not a trusted peer
		{"127.0.0.1:1234", "garbage", mustPrefixes("127.0.0.1"), "127.0.0.1"},
		{"[::ffff:127.0.0.1]:1234", "", nil, "127.0.0.1"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = tc.remote
		if tc.xff != "" {
			req.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientAddr(req, tc.proxies); got.String() != tc.want {
			t.Errorf("%s, X-Forwarded-For %q, proxies %v: %s, want %s", tc.remote, tc.xff, tc.proxies, got, tc.want)
		}
	}
	a6 := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	b6 := netip.MustParseAddr("2001:db8:1:2:ffff::1")
	if clientKey(a6) != clientKey(b6) || clientKey(a6).Bits() != 64 {
		t.Errorf("an IPv6 /64 is one client: %s %s", clientKey(a6), clientKey(b6))
	}
	var f proxyFlag
	if f.Set("not-an-address") == nil {
		t.Error("-trusted-proxy not-an-address: no error")
	}

	// End to end: behind a proxy on 127.0.0.1, each forwarded client has
	// its own bucket; without the flag, X-Forwarded-For is not believed.
	for _, trust := range []bool{true, false} {
		r := newRig(t, succeed, false, func(c *config) {
			c.ipSignups = 1
			if trust {
				c.proxies = mustPrefixes("127.0.0.1")
			}
		})
		codes := map[string]int{}
		for _, xff := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.1"} {
			c, _ := noFollow(r.browser("127.0.0.1"))
			c.get("/")
			form := url.Values{"csrf": {c.field("csrf")}, "provider": {"open.example"}, "password": {"fake-Passw0rd"}, "password2": {"fake-Passw0rd"}}
			req, _ := http.NewRequest("POST", r.base+"/signup", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", xff)
			c.do(req)
			codes[xff] = max(codes[xff], c.code) // the last of 192.0.2.1 matters
		}
		want := map[string]int{"192.0.2.1": 429, "192.0.2.2": 303}
		if !trust {
			want["192.0.2.2"] = 429 // all one client, 127.0.0.1
		}
		if codes["192.0.2.1"] != want["192.0.2.1"] || codes["192.0.2.2"] != want["192.0.2.2"] {
			t.Errorf("trusted %v: %v, want %v", trust, codes, want)
		}
	}
}

// TestSlotsFreedAtTTL: a sign-up holds its slot of -max-pending for -ttl
// from its start, whether it finished and was never looked at, or
// waits for a CAPTCHA answer that never comes.
func TestSlotsFreedAtTTL(t *testing.T) {
	for name, run := range map[string]runner{"finished, never shown": succeed, "abandoned at the CAPTCHA": abandon} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
				if s.Username == "late" {
					return succeed(ctx, s)
				}
				return run(ctx, s)
			}, false, func(c *config) { c.maxPending, c.ttl = 1, 2*time.Minute })
			first, location := noFollow(r.browser("127.0.0.7"))
			signup(first, "first")
			if first.code != http.StatusSeeOther {
				t.Fatalf("first sign-up: %d\n%s", first.code, first.page)
			}
			c := r.browser("127.0.0.8")
			signup(c, "late")
			if c.code != http.StatusServiceUnavailable {
				t.Fatalf("with the slot taken: %d\n%s", c.code, c.page)
			}
			r.clock.advance(2*time.Minute + time.Second)
			signup(c, "late")
			if c.code != 200 || c.state() != "done" || c.text("jid") != "late@open.example" {
				t.Fatalf("after -ttl: %d\n%s", c.code, c.page)
			}
			first.get(location())
			if first.code != http.StatusNotFound {
				t.Errorf("the expired sign-up's page: %d", first.code)
			}
		})
	}
}

// TestGlobalCap: -max-pending sign-ups at once, of all clients.
func TestGlobalCap(t *testing.T) {
	r := newRig(t, abandon, false, func(c *config) { c.maxPending = 2 })
	var codes []int
	for _, ip := range []string{"127.0.0.11", "127.0.0.12", "127.0.0.13"} {
		c := r.browser(ip)
		signup(c, "capped")
		codes = append(codes, c.code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusServiceUnavailable {
		t.Errorf("three clients, -max-pending 2: %v", codes)
	}
}

// TestFlood is the load test: thousands of cookie-less page views from
// one client and many sign-ups (abandoned at the CAPTCHA, holding their
// slots) from two others, at once, do not lock out a real user: the
// page, the sign-up and the result still work for them.
func TestFlood(t *testing.T) {
	var realRuns atomic.Int64
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		if s.Username == "alice" {
			realRuns.Add(1)
			return succeed(ctx, s)
		}
		return abandon(ctx, s)
	}, false, func(c *config) { c.maxPending, c.ipSignups = 16, 3 })

	const views = 5000
	var next, viewsOK, viewsBad atomic.Int64
	var viewers sync.WaitGroup
	hc := &http.Client{Transport: r.transport("127.0.0.2")}
	for range 32 {
		viewers.Add(1)
		go func() {
			defer viewers.Done()
			for next.Add(1) <= views {
				resp, err := hc.Get(r.base + "/")
				if err != nil {
					t.Errorf("flood GET: %v", err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					viewsOK.Add(1)
				} else {
					viewsBad.Add(1)
				}
			}
		}()
	}

	var mu sync.Mutex
	spam := map[int]int{} // status: count
	var spammers sync.WaitGroup
	for _, ip := range []string{"127.0.0.3", "127.0.0.4"} {
		for i := range 25 {
			spammers.Add(1)
			go func() {
				defer spammers.Done()
				jar, _ := cookiejar.New(nil)
				hc := &http.Client{Jar: jar, Transport: r.transport(ip), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := hc.Get(r.base + "/")
				if err != nil {
					t.Errorf("spam GET: %v", err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := inputRE.FindStringSubmatch(string(body))
				if m == nil {
					t.Errorf("spam GET: no token")
					return
				}
				form := url.Values{"csrf": {m[2]}, "username": {fmt.Sprintf("spam%d", i)}, "password": {"fake-Passw0rd"}, "password2": {"fake-Passw0rd"}}
				req, _ := http.NewRequest("POST", r.base+"/signup", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err = hc.Do(req)
				if err != nil {
					t.Errorf("spam POST: %v", err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				spam[resp.StatusCode]++
				mu.Unlock()
			}()
		}
	}
	spammers.Wait()

	// The real user, while the page views may still pour in.
	alice := r.browser("127.0.0.9")
	signup(alice, "alice")
	if alice.code != 200 || alice.state() != "done" || alice.text("jid") != "alice@open.example" {
		t.Errorf("the real user: %d\n%s", alice.code, alice.page)
	}
	viewers.Wait()

	if realRuns.Load() != 1 {
		t.Errorf("the real user's sign-up ran %d times", realRuns.Load())
	}
	if spam[http.StatusSeeOther] != 6 || spam[http.StatusTooManyRequests] != 44 {
		t.Errorf("50 sign-ups from 2 clients, 3 each allowed: %v", spam)
	}
	if viewsOK.Load() != views || viewsBad.Load() != 0 {
		t.Errorf("page views: %d served, %d refused", viewsOK.Load(), viewsBad.Load())
	}
	r.a.mu.Lock()
	pending := len(r.a.pending)
	r.a.mu.Unlock()
	if pending != 7 || r.a.limit.size() != 3 {
		t.Errorf("state after the flood: %d pending (want the 6 abandoned and the real user's result, kept to be shown again), %d clients (want 3)", pending, r.a.limit.size())
	}
}

// logLineRE is how every line of the log starts: the prefix and the date
// of log.LstdFlags. A forged line (after a raw newline) does not.
var logLineRE = regexp.MustCompile(`^websignup: \d{4}/\d\d/\d\d \d\d:\d\d:\d\d `)

// TestLogInjection: the request path, events and errors are foreign, and
// are logged through sanitize.Line: none of them can start a line, hide
// text with bidi controls or write invalid UTF-8.
func TestLogInjection(t *testing.T) {
	const forged = "websignup: sign-up x: account admin@bank created"
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		s.Progress(onboard.Event{Stage: onboard.StageConnecting, Domain: "evil.example\n" + forged})
		s.Progress(onboard.Event{Stage: onboard.StageFallback, Domain: "evil.example", Err: errors.New("closed\r\n" + forged)})
		return nil, fmt.Errorf("fake: \x1b[2J\n%s", forged)
	}, false, nil)
	c := r.browser("")
	c.get("/" + url.PathEscape("\n"+forged))
	if c.code != http.StatusNotFound {
		t.Errorf("forged path: %d", c.code)
	}
	c.get("/%E2%80%AEgpj.exe%FF")
	signup(c, "victim")
	if c.state() != "failed" {
		t.Errorf("sign-up: %d\n%s", c.code, c.page)
	}
	logs := r.logs.String()
	for _, line := range strings.Split(strings.TrimSuffix(logs, "\n"), "\n") {
		if !logLineRE.MatchString(line) {
			t.Errorf("forged log line %q", line)
		}
	}
	if strings.ContainsAny(logs, "\r\x1b\u202e") || strings.Contains(logs, "\xff") {
		t.Errorf("raw control, bidi or invalid bytes in the log:\n%q", logs)
	}
	for _, want := range []string{`GET /\x0awebsignup: sign-up x`, `evil.example\x0awebsignup`, `\u202egpj.exe`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "fake-Passw0rd") {
		t.Error("the log shows the password")
	}
}

// TestSecureCookie: the cookie is Secure and __Host- prefixed when the
// request came over TLS or with -behind-https, and a sign-up works over
// https with it.
func TestSecureCookie(t *testing.T) {
	cookie := func(r *rig) *http.Cookie {
		t.Helper()
		resp, err := r.srv.Client().Get(r.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cs := resp.Cookies()
		if len(cs) != 1 {
			t.Fatalf("cookies %v", cs)
		}
		return cs[0]
	}
	plain := cookie(newRig(t, succeed, false, nil))
	if plain.Name != cookieName || plain.Secure || !plain.HttpOnly || plain.SameSite != http.SameSiteStrictMode {
		t.Errorf("over http: %+v", plain)
	}
	for name, r := range map[string]*rig{
		"TLS":           newRig(t, succeed, true, nil),
		"-behind-https": newRig(t, succeed, false, func(c *config) { c.behindHTTPS = true }),
	} {
		ck := cookie(r)
		if ck.Name != secureCookieName || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" || ck.SameSite != http.SameSiteStrictMode {
			t.Errorf("%s: %+v", name, ck)
		}
	}
	r := newRig(t, succeed, true, nil)
	c := r.browser("")
	signup(c, "tls")
	if c.state() != "done" || c.text("jid") != "tls@open.example" {
		t.Errorf("sign-up over https: %d\n%s", c.code, c.page)
	}
	// The plain cookie name does not count over https.
	req, _ := http.NewRequest("POST", r.base+"/signup", strings.NewReader(url.Values{"csrf": {r.a.csrfToken(strings.Repeat("ab", 16))}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: cookieName, Value: strings.Repeat("ab", 16)})
	fresh := r.browser("")
	fresh.do(req)
	if fresh.code != http.StatusForbidden {
		t.Errorf("non-__Host- cookie over https: %d", fresh.code)
	}
}

// TestHTTPSLinksOnly: a provider's link is offered only if it is https
// (netguard.HTTPSLink): no http, userinfo, javascript: or local links on
// the result page, and no web sign-up on an http page.
func TestHTTPSLinksOnly(t *testing.T) {
	var mu sync.Mutex
	accepted := map[string]bool{}
	r := newRig(t, func(ctx context.Context, s *onboard.Signup) (*onboard.Result, error) {
		for _, u := range []string{"http://web.example/signup", "https://user@web.example/", "https://127.0.0.1/", "https://web.example/signup"} {
			ok := s.AcceptRedirect(ctx, "web.example", u)
			mu.Lock()
			accepted[u] = ok
			mu.Unlock()
		}
		res := created(s)
		switch s.Username {
		case "redirect":
			return &onboard.Result{Provider: res.Provider, RedirectURL: "http://web.example/signup"}, nil
		case "links":
			res.Info.Website = "http://open.example/"
			res.Info.PasswordReset = "https://open.example/reset"
			res.Info.LegalNotice = "https://admin@open.example/legal"
		}
		return res, nil
	}, false, nil)
	c := r.browser("")
	signup(c, "links")
	if c.state() != "done" {
		t.Fatalf("%d\n%s", c.code, c.page)
	}
	if !strings.Contains(c.page, `href="https://open.example/reset"`) {
		t.Errorf("the https link is missing:\n%s", c.page)
	}
	for _, bad := range []string{"http://open.example/", "admin@open.example"} {
		if strings.Contains(c.page, bad) {
			t.Errorf("the page offers %s:\n%s", bad, c.page)
		}
	}
	mu.Lock()
	for u, ok := range accepted {
		if want := u == "https://web.example/signup"; ok != want {
			t.Errorf("AcceptRedirect(%s) = %v", u, ok)
		}
	}
	mu.Unlock()
	signup(c, "redirect")
	if c.state() != "failed" || strings.Contains(c.page, "web.example") {
		t.Errorf("an http web sign-up: %d\n%s", c.code, c.page)
	}
	for s, want := range map[string]string{
		"https://open.example/x":    "https://open.example/x",
		"http://open.example/x":     "",
		"javascript:alert(1)":       "",
		"https:///nohost":           "",
		"https://u:p@open.example/": "",
		"":                          "",
	} {
		if got := httpsLink(s); got != want {
			t.Errorf("httpsLink(%q) = %q, want %q", s, got, want)
		}
	}
}
