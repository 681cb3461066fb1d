package providers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listServer serves a real snapshot with an ETag and Last-Modified, and can
// be told to fail.
type listServer struct {
	mu       sync.Mutex
	body     []byte
	status   int // 0: normal
	requests []*http.Request
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	const etag = `"v1"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Wed, 22 Jul 2026 10:00:00 GMT")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(s.body)
}

func (s *listServer) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[len(s.requests)-1]
}

func newListServer(t *testing.T, file string) (*listServer, *httptest.Server) {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ls := &listServer{body: body}
	srv := httptest.NewTLSServer(ls)
	t.Cleanup(srv.Close)
	return ls, srv
}

func TestUpdater(t *testing.T) {
	ctx := context.Background()
	older := snapshots(t, "providers-B.v2.2026-01-31.json")[0]
	ls, srv := newListServer(t, older)
	u := &Updater{URL: srv.URL + "/providers/v2/providers-B.json", Client: srv.Client(), CacheDir: t.TempDir(), UserAgent: "onboard-test"}

	// 1. First download: from the network, cached.
	up := u.Update(ctx)
	if up.Origin != OriginNetwork || up.Err != nil || up.List.Len() != 27 {
		t.Fatalf("first update: origin %v, err %v, %d providers", up.Origin, up.Err, up.List.Len())
	}
	if got := ls.last().Header.Get("User-Agent"); got != "onboard-test" {
		t.Errorf("User-Agent = %q", got)
	}

	// 2. Second: revalidated with the ETag, 304, the cached list.
	up = u.Update(ctx)
	if up.Origin != OriginRevalidated || up.List.Len() != 27 {
		t.Fatalf("second update: origin %v, %d providers, err %v", up.Origin, up.List.Len(), up.Err)
	}
	if r := ls.last(); r.Header.Get("If-None-Match") != `"v1"` || r.Header.Get("If-Modified-Since") == "" {
		t.Errorf("revalidation headers: %v", r.Header)
	}

	// 3. Server down: the cache, with the error.
	ls.mu.Lock()
	ls.status = http.StatusServiceUnavailable
	ls.mu.Unlock()
	up = u.Update(ctx)
	if up.Origin != OriginCache || up.List.Len() != 27 || !errors.Is(up.Err, ErrHTTPStatus) {
		t.Fatalf("server down: origin %v, %d providers, err %v", up.Origin, up.List.Len(), up.Err)
	}

	// 4. MaxAge: no request at all while the cache is young.
	n := len(ls.requests)
	u.MaxAge = time.Hour
	if up = u.Update(ctx); up.Origin != OriginCache || len(ls.requests) != n {
		t.Fatalf("MaxAge: origin %v, %d new requests", up.Origin, len(ls.requests)-n)
	}

	// 5. No cache and no server: the embedded list.
	u2 := &Updater{URL: srv.URL + "/missing.json", Client: srv.Client(), CacheDir: t.TempDir()}
	up = u2.Update(ctx)
	if up.Origin != OriginEmbedded || up.List.Published.IsZero() || up.Err == nil {
		t.Fatalf("fallback: origin %v, published %v, err %v", up.Origin, up.List.Published, up.Err)
	}
	var se *StatusError
	if !errors.As(up.Err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("fallback error %v is not the HTTP status", up.Err)
	}
}

func TestUpdaterRejectsBadDownload(t *testing.T) {
	ctx := context.Background()
	ls, srv := newListServer(t, snapshots(t, "providers-B.v2.2026-07-22.json")[0])
	dir := t.TempDir()
	u := &Updater{URL: srv.URL + "/l.json", Client: srv.Client(), CacheDir: dir}
	if up := u.Update(ctx); up.Origin != OriginNetwork {
		t.Fatal(up.Err)
	}
	// The server now sends garbage with a new ETag: it must not replace the
	// good cached copy.
	ls.mu.Lock()
	ls.body = []byte(`[{"jid": 1}]`)
	ls.mu.Unlock()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v2"`)
		w.Write([]byte(`[{"jid": 1}]`))
	})
	up := u.Update(ctx)
	var de *DecodeError
	if up.Origin != OriginCache || up.List.Len() != 29 || !errors.As(up.Err, &de) || de.Field != FieldJID {
		t.Fatalf("bad download: origin %v, %d providers, err %v", up.Origin, up.List.Len(), up.Err)
	}
	// Oversized downloads are cut at MaxBytes.
	u.MaxBytes = 1000
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("[" + strings.Repeat(`"a.example",`, 1000) + `"b.example"]`))
	})
	u.CacheDir = ""
	if up := u.Update(ctx); up.Origin != OriginEmbedded || !errors.Is(up.Err, ErrTooLarge) {
		t.Fatalf("oversized: origin %v, err %v", up.Origin, up.Err)
	}
}

func TestUpdaterHonoursContext(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	u := &Updater{URL: srv.URL, Client: srv.Client()}
	up := u.Update(ctx)
	if up.Origin != OriginEmbedded || !errors.Is(up.Err, context.DeadlineExceeded) {
		t.Fatalf("stalled server: origin %v, err %v", up.Origin, up.Err)
	}
}

// TestUpdaterRefusesHTTP checks that an http:// list URL is a typed error
// before anything is sent: the embedded snapshot is used, not the server's
// list nor a cache of it.
func TestUpdaterRefusesHTTP(t *testing.T) {
	var requests atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(`["evil.example"]`))
	}))
	defer plain.Close()
	for _, url := range []string{plain.URL + "/providers-B.json", "HTTP://" + strings.TrimPrefix(plain.URL, "http://"), "//" + strings.TrimPrefix(plain.URL, "http://"), "providers-B.json"} {
		u := &Updater{URL: url, Client: plain.Client(), CacheDir: t.TempDir()}
		up := u.Update(context.Background())
		if up.Origin != OriginEmbedded || !errors.Is(up.Err, ErrNotHTTPS) || up.List.Len() != Embedded().Len() {
			t.Errorf("%s: origin %v, %d providers, err %v", url, up.Origin, up.List.Len(), up.Err)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent over plain HTTP", n)
	}
}

// TestUpdaterRefusesRedirectToHTTP checks that an https list server cannot
// send the Updater to a plain-HTTP URL (whose answer anyone on the path
// could have written), and that the answer is not cached.
func TestUpdaterRefusesRedirectToHTTP(t *testing.T) {
	var plainRequests atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainRequests.Add(1)
		w.Write([]byte(`["evil.example"]`))
	}))
	defer plain.Close()
	body, err := os.ReadFile(snapshots(t, "providers-B.v2.2026-01-31.json")[0])
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-http":
			http.Redirect(w, r, plain.URL+"/providers-B.json", http.StatusFound)
		case "/to-https":
			http.Redirect(w, r, "/list.json", http.StatusMovedPermanently)
		default:
			w.Write(body)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	u := &Updater{URL: srv.URL + "/to-http", Client: srv.Client(), CacheDir: dir}
	up := u.Update(context.Background())
	if up.Origin != OriginEmbedded || !errors.Is(up.Err, ErrNotHTTPS) {
		t.Fatalf("redirect to http: origin %v, err %v", up.Origin, up.Err)
	}
	if _, ok := up.List.Lookup("evil.example"); ok {
		t.Fatal("the list from the plain-HTTP redirect was used")
	}
	if n := plainRequests.Load(); n != 0 {
		t.Errorf("the redirect to plain HTTP was followed (%d requests)", n)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("cache written after a refused redirect: %v", files)
	}
	if srv.Client().CheckRedirect != nil {
		t.Error("Update changed the caller's http.Client")
	}

	// A redirect to https is followed.
	u.URL = srv.URL + "/to-https"
	if up := u.Update(context.Background()); up.Origin != OriginNetwork || up.Err != nil || up.List.Len() != 27 {
		t.Fatalf("redirect to https: origin %v, %d providers, err %v", up.Origin, up.List.Len(), up.Err)
	}
}

// TestUpdaterDistrustsCache checks that a cache another user could have
// written is neither read nor written: with the server down, the embedded
// snapshot is used and Update.Err says why.
func TestUpdaterDistrustsCache(t *testing.T) {
	ctx := context.Background()
	older := snapshots(t, "providers-B.v2.2026-01-31.json")[0] // 27 providers; the embedded list has 29
	for _, c := range []struct {
		name    string
		spoil   func(t *testing.T, dir, data, meta string)
		trusted bool
	}{
		{"private", func(t *testing.T, dir, data, meta string) {}, true},
		{"world-writable directory", func(t *testing.T, dir, data, meta string) { chmod(t, dir, 0o777) }, false},
		{"group-writable directory", func(t *testing.T, dir, data, meta string) { chmod(t, dir, 0o770) }, false},
		{"sticky world-writable directory of mine", func(t *testing.T, dir, data, meta string) { chmod(t, dir, 0o777|os.ModeSticky) }, true},
		{"directory of another user", func(t *testing.T, dir, data, meta string) { chown(t, dir) }, false},
		{"cache file of another user", func(t *testing.T, dir, data, meta string) { chown(t, data) }, false},
		{"world-writable cache file", func(t *testing.T, dir, data, meta string) { chmod(t, data, 0o666) }, false},
		{"cache file is a symlink", func(t *testing.T, dir, data, meta string) { symlinkInstead(t, data) }, false},
		{"metadata is a symlink", func(t *testing.T, dir, data, meta string) { symlinkInstead(t, meta) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ls, srv := newListServer(t, older)
			dir := t.TempDir()
			u := &Updater{URL: srv.URL + "/providers-B.json", Client: srv.Client(), CacheDir: dir}
			if up := u.Update(ctx); up.Origin != OriginNetwork || up.Err != nil {
				t.Fatalf("first update: origin %v, err %v", up.Origin, up.Err)
			}
			data, meta := u.cachePaths()
			c.spoil(t, dir, data, meta)
			ls.mu.Lock()
			ls.status = http.StatusServiceUnavailable
			ls.mu.Unlock()
			up := u.Update(ctx)
			if c.trusted {
				if up.Origin != OriginCache || up.List.Len() != 27 || errors.Is(up.Err, ErrUntrustedCache) {
					t.Fatalf("trusted cache: origin %v, %d providers, err %v", up.Origin, up.List.Len(), up.Err)
				}
				return
			}
			if up.Origin != OriginEmbedded || up.List.Len() != Embedded().Len() || !errors.Is(up.Err, ErrUntrustedCache) || !errors.Is(up.Err, ErrHTTPStatus) {
				t.Fatalf("untrusted cache: origin %v, %d providers, err %v", up.Origin, up.List.Len(), up.Err)
			}
			// With the server back, the download is used but not cached
			// in an untrusted directory.
			ls.mu.Lock()
			ls.status = 0
			ls.mu.Unlock()
			up = u.Update(ctx)
			if up.Origin != OriginNetwork || up.List.Len() != 27 || !errors.Is(up.Err, ErrUntrustedCache) {
				t.Fatalf("server back: origin %v, %d providers, err %v", up.Origin, up.List.Len(), up.Err)
			}
		})
	}
}

func chmod(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

// chown gives name to another user; only root can.
func chown(t *testing.T, name string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	if err := os.Chown(name, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}

// symlinkInstead replaces name by a symbolic link to a copy of it.
func symlinkInstead(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
