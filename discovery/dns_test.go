package discovery

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeResolver answers from maps; names it does not know do not exist.
// It never touches the network.
type fakeResolver struct {
	srv   map[string][]*net.SRV // "_service._tcp.name"
	hosts map[string][]string
	errs  map[string]error // per SRV name or host

	mu      sync.Mutex
	lookups []string
}

func (f *fakeResolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := "_" + service + "._" + proto + "." + name
	f.mu.Lock()
	f.lookups = append(f.lookups, q)
	f.mu.Unlock()
	if err := f.errs[q]; err != nil {
		return "", nil, err
	}
	if recs, ok := f.srv[q]; ok {
		return q, recs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
}

func (f *fakeResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	f.mu.Lock()
	f.lookups = append(f.lookups, host)
	f.mu.Unlock()
	if err := f.errs[host]; err != nil {
		return nil, err
	}
	if ips, ok := f.hosts[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestSRVLookup(t *testing.T) {
	res := &fakeResolver{
		srv: map[string][]*net.SRV{
			"_xmpp-client._tcp.example.test": {
				{Target: "backup.example.test.", Port: 5222, Priority: 20, Weight: 0},
				{Target: "b.example.test.", Port: 5222, Priority: 10, Weight: 10},
				{Target: "a.example.test.", Port: 5322, Priority: 10, Weight: 50},
			},
			"_xmpps-client._tcp.example.test": {{Target: ".", Port: 0}},
		},
		errs: map[string]error{"_xmpp-client._tcp.broken.test": &net.DNSError{Err: "server misbehaving", Name: "broken.test", IsTemporary: true}},
	}
	p := &Prober{Resolver: res}
	r := p.resolve(context.Background(), "example.test", p.policy(false))
	want := []SRVRecord{
		{Target: "a.example.test", Port: 5322, Priority: 10, Weight: 50},
		{Target: "b.example.test", Port: 5222, Priority: 10, Weight: 10},
		{Target: "backup.example.test", Port: 5222, Priority: 20},
	}
	if r.srv.Status.State != Observed || !reflect.DeepEqual(r.srv.Records, want) {
		t.Errorf("xmpp-client = %+v", r.srv)
	}
	if r.srvs.Status.State != Absent || !r.srvs.Disabled || len(r.directTLS) != 0 || r.noDirectTLS.State != Absent {
		t.Errorf("xmpps-client = %+v, targets %v", r.srvs, r.directTLS)
	}
	if len(r.startTLS) != 3 || r.startTLS[0].addr() != "a.example.test:5322" {
		t.Errorf("targets = %+v", r.startTLS)
	}
	for _, tg := range r.startTLS {
		var de *net.DNSError
		if !errors.As(tg.err, &de) || !de.IsNotFound {
			t.Errorf("target %s: err %v", tg.host, tg.err)
		}
	}

	// No records: the conventional ports on the domain itself.
	r = p.resolve(context.Background(), "plain.test", p.policy(false))
	if r.srv.Status.State != Absent || r.srvs.Status.State != Absent ||
		len(r.startTLS) != 1 || r.startTLS[0].addr() != "plain.test:5222" || r.directTLS[0].addr() != "plain.test:5223" {
		t.Errorf("fallback: %+v", r)
	}
	// A DNS failure is not an absence.
	r = p.resolve(context.Background(), "broken.test", p.policy(false))
	if r.srv.Status.State != Unknown || r.srv.Status.Err == nil {
		t.Errorf("broken: %+v", r.srv)
	}
}

func TestSRVConnectionsWithoutNetwork(t *testing.T) {
	// Everything resolves to loopback ports where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	res := &fakeResolver{
		srv: map[string][]*net.SRV{
			"_xmpp-client._tcp.example.test": {{Target: "xmpp.example.test", Port: port}},
		},
		hosts: map[string][]string{"xmpp.example.test": {"127.0.0.1"}},
	}
	p := &Prober{Resolver: res, Skip: PartHTTP, Timeout: 5 * time.Second}
	r, err := p.Probe(context.Background(), "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if st := r.StartTLS.Status; st.State != Absent || r.StartTLS.Addr != net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))) {
		t.Errorf("StartTLS = %v at %s", st, r.StartTLS.Addr)
	}
	// No xmpps record: example.test:5223, and example.test does not
	// resolve.
	if st := r.DirectTLS.Status; st.State != Absent || len(r.DirectTLS.Attempts) != 1 || r.DirectTLS.Attempts[0].Addr != "example.test:5223" {
		t.Errorf("DirectTLS = %v, attempts %+v", st, r.DirectTLS.Attempts)
	}
	if r.Registration.Status.Reason != "no XMPP service reachable" {
		t.Errorf("registration = %v", r.Registration.Status)
	}
}
