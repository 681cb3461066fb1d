package register

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
)

// dnsServer is a loopback UDP DNS server answering SRV questions from a
// table (name → records); other names get NXDOMAIN.
type dnsServer struct {
	pc      net.PacketConn
	mu      sync.Mutex
	records map[string][]dnsmessage.SRVResource
	asked   []string
}

func startDNS(t *testing.T, records map[string][]dnsmessage.SRVResource) *dnsServer {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{pc: pc, records: records}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp, ok := s.answer(buf[:n]); ok {
				pc.WriteTo(resp, addr)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return s
}

func (s *dnsServer) answer(req []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	s.asked = append(s.asked, q.Type.String()+" "+q.Name.String())
	recs, ok := s.records[strings.ToLower(q.Name.String())]
	s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true}
	if !ok || q.Type != dnsmessage.TypeSRV {
		if !ok {
			rh.RCode = dnsmessage.RCodeNameError
		}
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	if ok && q.Type == dnsmessage.TypeSRV {
		for _, r := range recs {
			b.SRVResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, r)
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// resolver returns a resolver that only talks to s.
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.pc.LocalAddr().String())
	}}
}

// srv returns a record pointing to the port of addr on "localhost" (Go
// refuses all-numeric SRV targets); loopbackOnly maps that name back.
func srv(prio uint16, addr string) dnsmessage.SRVResource {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return dnsmessage.SRVResource{Priority: prio, Weight: 1, Port: uint16(p), Target: dnsmessage.MustNewName("localhost.")}
}

// loopbackOnly is a ContextDialer that connects "localhost" and 127.0.0.1
// addresses only, so that a test can never reach the network.
type loopbackOnly struct{ dialed []string }

func (l *loopbackOnly) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	l.dialed = append(l.dialed, addr)
	if host != "localhost" && host != "127.0.0.1" {
		return nil, errors.New("test dialer: refusing to connect to " + addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

const testDomain = "example.test"

func handlerOK(st *fakeserver.Stream) error {
	return st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1"))
}

func TestSRV(t *testing.T) {
	starttls := fakeserver.Start(t, fakeserver.Config{Domain: testDomain, Handler: handlerOK})
	direct := fakeserver.Start(t, fakeserver.Config{Domain: testDomain, DirectTLS: true, Handler: handlerOK})
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := closed.Addr().String()
	closed.Close()

	cases := []struct {
		name          string
		tls, plain    []dnsmessage.SRVResource
		wantDirectTLS bool
		wantErr       bool
	}{
		{name: "priority decides", tls: []dnsmessage.SRVResource{srv(10, direct.Addr)}, plain: []dnsmessage.SRVResource{srv(5, starttls.Addr)}, wantDirectTLS: false},
		{name: "direct TLS first on ties", tls: []dnsmessage.SRVResource{srv(5, direct.Addr)}, plain: []dnsmessage.SRVResource{srv(5, starttls.Addr)}, wantDirectTLS: true},
		{name: "only STARTTLS", plain: []dnsmessage.SRVResource{srv(0, starttls.Addr)}},
		{name: "dead first", tls: []dnsmessage.SRVResource{srv(0, deadAddr)}, plain: []dnsmessage.SRVResource{srv(1, starttls.Addr)}},
		{name: "service disabled", plain: []dnsmessage.SRVResource{{Target: dnsmessage.MustNewName(".")}}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs := map[string][]dnsmessage.SRVResource{}
			if tc.tls != nil {
				recs["_xmpps-client._tcp."+testDomain+"."] = tc.tls
			}
			if tc.plain != nil {
				recs["_xmpp-client._tcp."+testDomain+"."] = tc.plain
			}
			dns := startDNS(t, recs)
			tlsCfg := starttls.TLSConfig()
			if tc.wantDirectTLS {
				tlsCfg = direct.TLSConfig()
			}
			nd := &loopbackOnly{}
			d := &Dialer{Resolver: dns.resolver(), NetDialer: nd, TLSConfig: tlsCfg, Timeout: 5 * time.Second}
			c, err := d.Dial(context.Background(), testDomain)
			if tc.wantErr {
				if err == nil {
					c.Close()
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), "no XMPP client service") || len(nd.dialed) != 0 {
					t.Fatalf("err = %v, dialed %v", err, nd.dialed)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v (asked %v, dialed %v)", err, dns.asked, nd.dialed)
			}
			defer c.Close()
			if f := c.Features(); f.DirectTLS != tc.wantDirectTLS || !f.Register {
				t.Errorf("features = %+v", f)
			}
		})
	}
}

func TestCandidatesFallback(t *testing.T) {
	dns := startDNS(t, nil)
	d := &Dialer{Resolver: dns.resolver()}
	got, err := d.candidates(context.Background(), testDomain)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (candidate{addr: testDomain + ":5222"}) || got[1] != (candidate{addr: testDomain + ":5223", directTLS: true}) {
		t.Errorf("candidates = %+v", got)
	}
	d = &Dialer{Addr: "bad"}
	if _, err := d.candidates(context.Background(), testDomain); err == nil {
		t.Error("bad Addr accepted")
	}
	// A failing resolver is an error, not a silent fallback.
	d = &Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no network")
	}}}
	if _, err := d.candidates(context.Background(), testDomain); err == nil {
		t.Error("resolver failure ignored")
	}
}
