package discovery

import (
	"context"
	"errors"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestSRVLookup(t *testing.T) {
	res := &fakedns.Resolver{
		SRV: map[string][]*net.SRV{
			"_xmpp-client._tcp.example.test": {
				{Target: "backup.example.test.", Port: 5222, Priority: 20, Weight: 0},
				{Target: "b.example.test.", Port: 5222, Priority: 10, Weight: 10},
				{Target: "a.example.test.", Port: 5322, Priority: 10, Weight: 50},
			},
			"_xmpps-client._tcp.example.test": {{Target: ".", Port: 0}},
		},
		Errs: map[string]error{"_xmpp-client._tcp.broken.test": &net.DNSError{Err: "server misbehaving", Name: "broken.test", IsTemporary: true}},
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
	res := &fakedns.Resolver{
		SRV: map[string][]*net.SRV{
			"_xmpp-client._tcp.example.test": {{Target: "xmpp.example.test", Port: port}},
		},
		Hosts: map[string][]string{"xmpp.example.test": {"127.0.0.1"}},
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
