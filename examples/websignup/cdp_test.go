package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// A minimal Chrome DevTools Protocol client over golang.org/x/net/websocket,
// enough to drive a headless Chromium through the pages: navigate,
// evaluate JavaScript in the page (to fill in and submit forms like a
// user), and take screenshots.

// browser is a headless Chromium started for one test, with one page.
type browser struct {
	t    *testing.T
	cmd  *exec.Cmd
	ws   *websocket.Conn
	next atomic.Int64

	mu      sync.Mutex
	waiting map[int64]chan cdpMessage
	done    chan struct{}
}

type cdpMessage struct {
	ID     int64           `json:"id"`
	Method string          `json:"method,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// startBrowser starts Chromium, or skips the test when it is not
// installed (fails under CI=true).
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (CI=true)")
		}
		t.Skip("chromium is not installed")
	}
	cmd := exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--remote-allow-origins=*",
		"--window-size=900,1000", "about:blank")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	b := &browser{t: t, cmd: cmd, waiting: map[int64]chan cdpMessage{}, done: make(chan struct{})}
	t.Cleanup(b.stop)
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	var browserURL string
	select {
	case browserURL = <-urlc:
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not start its DevTools endpoint")
	}
	// The page target's endpoint, from /json/list.
	host := strings.TrimPrefix(browserURL, "ws://")
	host = host[:strings.Index(host, "/")]
	var targets []struct{ Type, WebSocketDebuggerURL string }
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + host + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		if err == nil && len(targets) > 0 {
			break
		}
		if i > 50 {
			t.Fatalf("no page target: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	page := ""
	for _, tg := range targets {
		if tg.Type == "page" {
			page = tg.WebSocketDebuggerURL
		}
	}
	if page == "" {
		t.Fatalf("no page among %v", targets)
	}
	ws, err := websocket.Dial(page, "", "http://127.0.0.1/")
	if err != nil {
		t.Fatalf("connecting to the page: %v", err)
	}
	b.ws = ws
	go b.read()
	return b
}

// read dispatches the replies; events are ignored.
func (b *browser) read() {
	defer close(b.done)
	for {
		var m cdpMessage
		if err := websocket.JSON.Receive(b.ws, &m); err != nil {
			return
		}
		if m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// stop ends Chromium: SIGTERM to the process this test started, then
// SIGKILL if it has not exited after 5 s.
func (b *browser) stop() {
	if b.ws != nil {
		b.ws.Close()
		<-b.done
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan struct{})
	go func() {
		b.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-exited
	}
}

// call sends a command and decodes its result into out (if not nil).
func (b *browser) call(method string, params, out any) error {
	id := b.next.Add(1)
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if params == nil {
		msg["params"] = map[string]any{}
	}
	if err := websocket.JSON.Send(b.ws, msg); err != nil {
		return err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.done:
		return errors.New("connection to chromium closed")
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: no reply", method)
	}
}

// eval evaluates a JavaScript expression in the page and returns its
// value as JSON.
func (b *browser) eval(expr string) (json.RawMessage, error) { return b.evaluate(expr, false) }

// evalAwait evaluates an expression whose value is a promise and returns
// what it resolves to, as JSON.
func (b *browser) evalAwait(expr string) (json.RawMessage, error) { return b.evaluate(expr, true) }

func (b *browser) evaluate(expr string, await bool) (json.RawMessage, error) {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": await}, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, fmt.Errorf("javascript: %s", r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// evalString evaluates expr and returns the string value ("" on error).
func (b *browser) evalString(expr string) string {
	v, err := b.eval(expr)
	if err != nil {
		return ""
	}
	var s string
	json.Unmarshal(v, &s)
	return s
}

// do runs a statement in the page, failing the test on error.
func (b *browser) do(js string) {
	b.t.Helper()
	if _, err := b.eval(js); err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
}

func (b *browser) navigate(url string) {
	b.t.Helper()
	if err := b.call("Page.navigate", map[string]any{"url": url}, nil); err != nil {
		b.t.Fatal(err)
	}
}

// submit clicks the button selector and waits until a new page with one
// of the data-state values has loaded (the old page is marked, so that it
// does not count).
func (b *browser) submit(ctx context.Context, selector string, states ...string) string {
	b.t.Helper()
	b.do(`window.onboardOldPage = true`)
	b.do(`document.querySelector(` + js(selector) + `).click()`)
	return b.waitState(ctx, states...)
}

// waitState waits until a page that was not marked by submit has loaded
// and its body has one of the data-state values (while the page loads,
// evaluations may fail; they are retried).
func (b *browser) waitState(ctx context.Context, states ...string) string {
	b.t.Helper()
	for {
		st := b.evalString(`!window.onboardOldPage && document.readyState === "complete" && document.body ? document.body.dataset.state || "" : ""`)
		for _, s := range states {
			if st == s {
				return st
			}
		}
		select {
		case <-ctx.Done():
			html := redact(b.evalString(`document.documentElement.outerHTML`))
			b.t.Fatalf("page state %q, want one of %v:\n%s", st, states, html)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// screenshot returns a PNG of the page.
func (b *browser) screenshot() []byte { return b.capture(map[string]any{"format": "png"}) }

// screenshotAt returns a PNG of the whole page (not only what the window
// shows) laid out for a window width px wide; a narrow one is emulated
// as a phone.
func (b *browser) screenshotAt(width int) []byte {
	b.t.Helper()
	if err := b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600}, nil); err != nil {
		b.t.Fatal(err)
	}
	defer b.call("Emulation.clearDeviceMetricsOverride", nil, nil)
	var m struct {
		Content struct {
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := b.call("Page.getLayoutMetrics", nil, &m); err != nil {
		b.t.Fatal(err)
	}
	h := max(m.Content.Height, 400)
	return b.capture(map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": width, "height": h, "scale": 1}})
}

// setHeaders makes the page send these HTTP headers with every request
// (Accept-Language, for one).
func (b *browser) setHeaders(h map[string]string) {
	b.t.Helper()
	if err := b.call("Network.enable", nil, nil); err != nil {
		b.t.Fatal(err)
	}
	if err := b.call("Network.setExtraHTTPHeaders", map[string]any{"headers": h}, nil); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) capture(params map[string]any) []byte {
	b.t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	if err := b.call("Page.captureScreenshot", params, &r); err != nil {
		b.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	return png
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
