package discovery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/providers"
)

// webServer is an https test server whose certificate covers domains, and
// a Prober whose default HTTP client (built from Dialer and TLSConfig)
// reaches it for every host name.
type webServer struct {
	srv   *httptest.Server
	roots *x509.CertPool
}

func startWeb(t *testing.T, h http.Handler, domains ...string) *webServer {
	t.Helper()
	now := time.Now()
	cert, roots := testCert(t, now.Add(-time.Hour), now.Add(time.Hour), domains...)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &webServer{srv: srv, roots: roots}
}

// redirectDialer sends every connection to one address, except those to
// 127.0.0.1 (XMPP test servers named in Prober.Addrs).
type redirectDialer struct{ addr string }

func (d redirectDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	if host, _, _ := net.SplitHostPort(addr); host == "127.0.0.1" {
		return nd.DialContext(ctx, network, addr)
	}
	return nd.DialContext(ctx, network, d.addr)
}

// prober returns a Prober that fetches only the HTTP parts, with its
// default client.
func (w *webServer) prober() *Prober {
	return &Prober{
		NetDialer:   redirectDialer{w.srv.Listener.Addr().String()},
		TLSConfig:   &tls.Config{RootCAs: w.roots},
		Skip:        PartXMPP,
		HTTPTimeout: 2 * time.Second,
	}
}

func serveFiles(files map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.Host+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, body)
	})
}

func TestProviderFileAndHostMeta(t *testing.T) {
	t.Parallel()
	const d = "example.test"
	w := startWeb(t, serveFiles(map[string]string{
		d + "/.well-known/xmpp-provider-v2.json": string(readTestdata(t, "providerfile/valid.json")),
		d + "/.well-known/host-meta":             string(readTestdata(t, "hostmeta/legacy.xml")),
		d + "/.well-known/host-meta.json":        string(readTestdata(t, "hostmeta/prosody.json")),
	}), d)
	r, err := w.prober().Probe(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	pf := r.ProviderFile
	if !pf.Valid() || pf.HTTPStatus != 200 || pf.URL != "https://example.test/.well-known/xmpp-provider-v2.json" {
		t.Errorf("provider file = %+v", pf)
	}
	if pf.Provider.BusFactor != 2 || !reflect.DeepEqual(pf.Fields, providers.ProviderFileFields()) {
		t.Errorf("provider file values = %+v", pf.Provider)
	}
	hm := r.HostMeta
	if hm.Status.State != Observed || hm.XML.Status.State != Observed || hm.JSON.Status.State != Observed {
		t.Fatalf("host-meta = %+v", hm)
	}
	wantWS := []string{"wss://example.org/xmpp-websocket", "wss://example.org:5281/xmpp-websocket"}
	wantBOSH := []string{"https://example.org/http-bind", "https://example.org:5281/http-bind"}
	if !reflect.DeepEqual(hm.WebSocket, wantWS) || !reflect.DeepEqual(hm.BOSH, wantBOSH) {
		t.Errorf("endpoints: ws %v bosh %v", hm.WebSocket, hm.BOSH)
	}
	if len(hm.XML.Problems) != 2 || len(hm.JSON.Problems) != 0 {
		t.Errorf("problems: xml %q json %q", hm.XML.Problems, hm.JSON.Problems)
	}
	// The XMPP side was not probed at all.
	for _, st := range []Status{r.SRV.Status, r.StartTLS.Status, r.Registration.Status, r.Upload.Status, r.Login.Status} {
		if !errors.Is(st.Err, ErrSkipped) {
			t.Errorf("XMPP part status %v, want skipped", st)
		}
	}
	// Every provider file value reaches the provider record.
	p, fields := r.Provider()
	want := append([]providers.Field{providers.FieldJID}, providers.ProviderFileFields()...)
	if len(fields) != len(want) || p.JID != d || p.UploadTotalSize != 1000 || p.Since.String() != "2020-01-15" {
		t.Errorf("Provider() = %+v, %v", p, fields)
	}
}

// TestRealProviderFiles serves, for every provider of a real XMPP Providers
// list, the provider file its operator would publish (the 14 keys of its
// entry), probes all of them in one batch, and checks that every value
// comes back as published.
func TestRealProviderFiles(t *testing.T) {
	t.Parallel()
	raw := providers.EmbeddedJSON() // real data: the vendored XMPP Providers list
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
	list, err := providers.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	var domains []string
	for _, e := range entries {
		var jid string
		_ = json.Unmarshal(e["jid"], &jid)
		pf := map[string]json.RawMessage{}
		for _, f := range providers.ProviderFileFields() {
			pf[string(f)] = e[string(f)]
		}
		b, _ := json.Marshal(pf)
		files[jid+"/.well-known/xmpp-provider-v2.json"] = string(b)
		domains = append(domains, jid)
	}
	w := startWeb(t, serveFiles(files), domains...)
	p := w.prober()
	p.Skip |= PartHostMeta
	n := 0
	for r := range p.ProbeAll(context.Background(), domains) {
		n++
		if !r.ProviderFile.Valid() {
			t.Errorf("%s: %+v", r.Domain, r.ProviderFile)
			continue
		}
		got, _ := r.Provider()
		want, _ := list.Lookup(r.Domain)
		for _, f := range providers.ProviderFileFields() {
			g, _ := json.Marshal(got.Value(f))
			w, _ := json.Marshal(want.Value(f))
			if !bytes.Equal(g, w) {
				t.Errorf("%s %s = %s, want %s", r.Domain, f, g, w)
			}
		}
	}
	if n != len(domains) || n < 20 {
		t.Errorf("%d reports for %d domains", n, len(domains))
	}
}

func TestProviderFileProblems(t *testing.T) {
	t.Parallel()
	big := `{"website": {"en": "` + strings.Repeat("a", MaxProviderFileBytes) + `"}}`
	const redirect = "/redirect"
	w := startWeb(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/xmpp-provider-v2.json" && r.URL.Path != redirect {
			http.NotFound(rw, r)
			return
		}
		switch r.Host {
		case "mistakes.test":
			_, _ = rw.Write(readTestdata(t, "providerfile/mistakes.json"))
		case "huge.test":
			_, _ = io.WriteString(rw, big)
		case "stall.test":
			<-r.Context().Done()
		case "drip.test":
			rw.WriteHeader(200)
			for r.Context().Err() == nil {
				_, _ = io.WriteString(rw, " ")
				rw.(http.Flusher).Flush()
				time.Sleep(10 * time.Millisecond)
			}
		case "broken.test":
			http.Error(rw, "oops", http.StatusInternalServerError)
		case "insecure.test":
			http.Redirect(rw, r, "http://insecure.test/file.json", http.StatusFound)
		case "moved.test":
			if r.URL.Path == redirect {
				_, _ = rw.Write(readTestdata(t, "providerfile/valid.json"))
				return
			}
			http.Redirect(rw, r, "https://moved.test"+redirect, http.StatusMovedPermanently)
		default:
			http.NotFound(rw, r)
		}
	}), "mistakes.test", "huge.test", "stall.test", "drip.test", "broken.test", "insecure.test", "moved.test", "none.test")
	p := w.prober()
	p.Skip |= PartHostMeta
	p.HTTPTimeout = 300 * time.Millisecond
	probe := func(d string) ProviderFile {
		r, err := p.Probe(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		return r.ProviderFile
	}

	pf := probe("mistakes.test")
	// The unknown key (inBandRegistration) is a warning, not an error.
	if pf.Status.State != Observed || pf.Valid() || len(pf.Errors) != 10 || pf.Status.Reason != "10 errors" {
		t.Errorf("mistakes: %v, %d errors: %v", pf.Status, len(pf.Errors), pf.Errors)
	}
	pf = probe("huge.test")
	if pf.Status.State != Observed || len(pf.Errors) != 1 || !errors.Is(pf.Errors[0].Err, ErrTooLarge) {
		t.Errorf("huge: %v %v", pf.Status, pf.Errors)
	}
	for _, d := range []string{"stall.test", "drip.test"} {
		pf = probe(d)
		if pf.Status.State != Unknown || !errors.Is(pf.Status.Err, context.DeadlineExceeded) {
			t.Errorf("%s: %v (%v)", d, pf.Status, pf.Status.Err)
		}
	}
	pf = probe("broken.test")
	if pf.Status.State != Unknown || pf.HTTPStatus != 500 {
		t.Errorf("broken: %v", pf.Status)
	}
	pf = probe("none.test")
	if pf.Status.State != Absent || pf.HTTPStatus != 404 {
		t.Errorf("none: %v", pf.Status)
	}
	pf = probe("insecure.test")
	if pf.Status.State != Unknown || !errors.Is(pf.Status.Err, ErrNotHTTPS) {
		t.Errorf("insecure redirect: %v (%v)", pf.Status, pf.Status.Err)
	}
	pf = probe("moved.test")
	if !pf.Valid() || pf.URL != "https://moved.test/redirect" {
		t.Errorf("moved: %v %q", pf.Status, pf.URL)
	}
}

// TestInjectedClientRedirect checks that a redirect away from https is
// not followed even with an injected client that would follow it.
func TestInjectedClientRedirect(t *testing.T) {
	t.Parallel()
	files := serveFiles(map[string]string{
		"plain.test/.well-known/xmpp-provider-v2.json": string(readTestdata(t, "providerfile/valid.json")),
	})
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		files.ServeHTTP(rw, r)
	}))
	defer plain.Close()
	w := startWeb(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "http://plain.test"+r.URL.Path, http.StatusFound)
	}), "plain.test")
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			if strings.HasSuffix(addr, ":80") {
				return d.DialContext(ctx, network, plain.Listener.Addr().String())
			}
			return d.DialContext(ctx, network, w.srv.Listener.Addr().String())
		},
		TLSClientConfig: &tls.Config{RootCAs: w.roots},
	}}
	p := &Prober{HTTPClient: client, Skip: PartXMPP | PartHostMeta}
	r, _ := p.Probe(context.Background(), "plain.test")
	if st := r.ProviderFile.Status; st.State != Unknown || !errors.Is(st.Err, ErrNotHTTPS) {
		t.Errorf("provider file = %v (%v)", st, st.Err)
	}
	if n := plainHits.Load(); n != 0 {
		t.Errorf("%d requests over plain http", n)
	}
	if client.CheckRedirect != nil {
		t.Error("the injected client was modified")
	}
}

func TestHostMetaProblems(t *testing.T) {
	t.Parallel()
	w := startWeb(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.Host + r.URL.Path {
		case "endless.test/.well-known/host-meta":
			_, _ = io.WriteString(rw, "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>")
			for r.Context().Err() == nil {
				if _, err := io.WriteString(rw, strings.Repeat("<Link rel='x' href='y'/>", 100)); err != nil {
					return
				}
			}
		case "endless.test/.well-known/host-meta.json":
			_, _ = io.WriteString(rw, "not json")
		case "old.test/.well-known/host-meta":
			_, _ = rw.Write(readTestdata(t, "hostmeta/nonamespace.xml"))
		default:
			http.NotFound(rw, r)
		}
	}), "endless.test", "old.test", "none.test")
	p := w.prober()
	p.Skip |= PartProviderFile
	r, _ := p.Probe(context.Background(), "endless.test")
	hm := r.HostMeta
	if hm.XML.Status.State != Observed || !errors.Is(hm.XML.Status.Err, ErrTooLarge) {
		t.Errorf("endless XML: %v", hm.XML.Status)
	}
	if hm.JSON.Status.State != Observed || !errors.Is(hm.JSON.Status.Err, ErrProtocol) {
		t.Errorf("bad JSON: %v", hm.JSON.Status)
	}
	r, _ = p.Probe(context.Background(), "old.test")
	hm = r.HostMeta
	if hm.Status.State != Observed || len(hm.WebSocket) != 0 || len(hm.BOSH) != 0 || len(hm.XML.Links) != 2 || len(hm.XML.Problems) != 3 {
		t.Errorf("insecure endpoints: %+v", hm)
	}
	if hm.JSON.Status.State != Absent {
		t.Errorf("missing JSON: %v", hm.JSON.Status)
	}
	r, _ = p.Probe(context.Background(), "none.test")
	if r.HostMeta.Status.State != Absent {
		t.Errorf("no host-meta: %v", r.HostMeta.Status)
	}
}
