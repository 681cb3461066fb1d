package onboard_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

const testPass = "Onboard-test-Passw0rd-31415"

var userSeq atomic.Int64

func newUser(prefix string) string { return fmt.Sprintf("%s%d", prefix, userSeq.Add(1)) }

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// network maps provider domains to loopback servers, and records what the
// client sends (for the check that the form is fetched once and that no
// password leaks into the debug output). Its Dialer is what Signup uses:
// the production path (register.Dialer.DialForm, pipelined), with the
// domains mapped by Addrs, their servers' CAs trusted, and a resolver that
// answers nothing, so that no test reaches the system's DNS.
type network struct {
	mu    sync.Mutex
	hosts map[string]host
	dials map[string]int
	pool  *x509.CertPool
	dns   fakedns.Resolver // knows no name: the domains are in Addrs
	out   strings.Builder  // Debug "out" elements
}

type host struct {
	addr   string
	direct bool
}

func newNetwork() *network {
	return &network{hosts: map[string]host{}, dials: map[string]int{}, pool: x509.NewCertPool()}
}

// server maps domain (one of srv's hosts) to srv.
func (n *network) server(domain string, srv *testserver.Server) {
	n.add(domain, srv.Addr, srv.CA.Cert)
}

// add maps domain to addr, whose certificate ca signed (nil: none).
func (n *network) add(domain, addr string, ca *x509.Certificate) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hosts[domain] = host{addr: addr}
	if ca != nil {
		n.pool.AddCert(ca)
	}
}

// blackhole maps domain to a proxy that accepts connections and never
// answers.
func (n *network) blackhole(t testing.TB, domain string) *latency.Proxy {
	p := &latency.Proxy{Blackhole: true}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	n.add(domain, p.Addr(), nil)
	return p
}

// Dialer returns the Signup.Dialer of the network as it is now.
func (n *network) Dialer() register.Dialer {
	n.mu.Lock()
	defer n.mu.Unlock()
	addrs, direct := map[string]string{}, map[string]string{}
	for d, h := range n.hosts {
		if h.direct {
			direct[d] = h.addr
		} else {
			addrs[d] = h.addr
		}
	}
	return register.Dialer{Addrs: addrs, DirectTLSAddrs: direct, Resolver: &n.dns, NetDialer: n,
		TLSConfig: &tls.Config{RootCAs: n.pool.Clone()}, Debug: n.debug}
}

// DialContext connects to addr and counts the connection for every
// domain mapped to it.
func (n *network) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	for d, h := range n.hosts {
		if h.addr == addr {
			n.dials[d]++
		}
	}
	n.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (n *network) debug(dir string, xml []byte) {
	if dir != "out" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.out.Write(xml)
	n.out.WriteByte('\n')
}

func (n *network) sent() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.out.String()
}

// dialCount is how many connections went to domain, or how many times an
// unknown domain was looked up.
func (n *network) dialCount(domain string) int {
	looked := 0
	for _, d := range n.dns.Domains() {
		if d == domain {
			looked++
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials[domain] + looked
}

// provider returns a category A record for domain with in-band
// registration, published in the given language and located in country.
func provider(domain, lang, country string) providers.Provider {
	p := providers.New(domain)
	p.Category = providers.CategoryA
	p.InBandRegistration = true
	p.FreeOfCharge = true
	p.Website = providers.Localized{lang: "https://" + domain + "/" + lang + "/"}
	if lang != "en" {
		p.Website["en"] = "https://" + domain + "/en/"
	}
	p.PasswordReset = providers.Localized{lang: "https://" + domain + "/reset"}
	p.LegalNotice = providers.Localized{"en": "https://" + domain + "/legal"}
	p.EmailSupport = providers.LocalizedList{lang: {"support@" + domain}}
	p.UploadFileSize = 100
	p.ArchiveStorageTime = 30
	p.ServerLocations = []string{country}
	return p
}

func list(ps ...providers.Provider) providers.List {
	return providers.List{Format: providers.FormatFiltered, Providers: ps}
}

// ordered is a query that makes the candidate order follow the user's
// preference exactly: language and country first, then language, then the
// rest (Prefer.Min 1 lets one provider form a tier).
func ordered() *providers.Query {
	return &providers.Query{
		Categories:         []providers.Category{providers.CategoryA},
		InBandRegistration: true,
		Prefer:             providers.Preference{Min: 1},
	}
}

// recorder collects progress events. It is not safe for concurrent use on
// purpose: Run must call Progress on one goroutine (the race detector and
// the overlap check catch it otherwise).
type recorder struct {
	events []onboard.Event
	busy   atomic.Bool
	t      testing.TB
}

func (r *recorder) progress(e onboard.Event) {
	if !r.busy.CompareAndSwap(false, true) {
		r.t.Errorf("Progress called concurrently")
	}
	defer r.busy.Store(false)
	r.events = append(r.events, e)
	r.t.Logf("event: %v", e)
}

func (r *recorder) stages(domain string) []onboard.Stage {
	var out []onboard.Stage
	for _, e := range r.events {
		if e.Domain == domain {
			out = append(out, e.Stage)
		}
	}
	return out
}

func (r *recorder) find(s onboard.Stage) *onboard.Event {
	for i := range r.events {
		if r.events[i].Stage == s {
			return &r.events[i]
		}
	}
	return nil
}

func (r *recorder) count(s onboard.Stage, domain string) int {
	n := 0
	for _, e := range r.events {
		if e.Stage == s && (domain == "" || e.Domain == domain) {
			n++
		}
	}
	return n
}

// noLeak fails the test if, after the test's own cleanup, more goroutines
// run than before it started. Call it first in a test.
func noLeak(t *testing.T) func() {
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines after Run, %d before:\n%s", n, before, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// closeResult ends the result's session and checks it was logged in.
func closeResult(t *testing.T, res *onboard.Result) {
	t.Helper()
	if res == nil || res.Session == nil {
		t.Fatalf("no session in %v", res)
	}
	if got := res.Session.LocalAddr().Bare().String(); got != res.JID.String() {
		t.Errorf("session bound to %s, account is %s", got, res.JID)
	}
	if err := res.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
}

// noSecret fails if s contains the password.
func noSecret(t *testing.T, what, s, pass string) {
	t.Helper()
	if pass != "" && strings.Contains(s, pass) {
		t.Errorf("%s contains the password", what)
	}
}
