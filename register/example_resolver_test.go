package register_test

import (
	"context"
	"fmt"
	"net"

	"github.com/xmpp-onboard/onboard/register"
)

// staticDNS is a Resolver from a table: the SRV records and addresses an
// application knows (a test, a pinned deployment), no DNS query at all.
type staticDNS struct {
	srv   map[string][]*net.SRV // "_xmpp-client._tcp.example.org"
	hosts map[string][]string
}

func (s staticDNS) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := "_" + service + "._" + proto + "." + name
	if r, ok := s.srv[q]; ok {
		return q, r, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
}

func (s staticDNS) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := s.hosts[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// Inject the DNS: Dialer.Resolver answers the SRV lookups and the
// addresses of their targets (*net.Resolver is the default). The targets
// are tried in SRV order, and the IPv6 and IPv4 addresses of each raced
// (Happy Eyeballs).
func ExampleDialer_resolver() {
	dns := staticDNS{
		srv: map[string][]*net.SRV{
			"_xmpps-client._tcp.example.org": {{Target: "xmpp.example.org.", Port: 443, Priority: 5}},
			"_xmpp-client._tcp.example.org":  {{Target: "xmpp.example.org.", Port: 5222, Priority: 10}},
		},
		hosts: map[string][]string{"xmpp.example.org": {"2001:db8::5", "192.0.2.5"}},
	}
	d := register.Dialer{Resolver: dns}
	c, err := d.Dial(context.Background(), "example.org")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println("connected to", c.RemoteAddr())
}
