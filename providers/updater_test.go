package providers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
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
