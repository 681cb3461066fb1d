package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

func TestLink(t *testing.T) {
	for _, c := range []struct {
		in, scheme string
		want       string // "" when refused
	}{
		{"https://example.org/register", "https", "https://example.org/register"},
		{"  HTTPS://example.org/r?a=b  ", "https", "https://example.org/r?a=b"},
		{"https://8.8.8.8/", "https", "https://8.8.8.8/"},
		{"wss://example.org/ws", "wss", "wss://example.org/ws"},
		{"https://example.org/ws", "wss", ""},
		{"http://example.org/", "https", ""},
		{"https:///nohost", "https", ""},
		{"https:example.org", "https", ""},
		{"https://bank.example@evil.example/", "https", ""},
		{"https://user:pass@example.org/", "https", ""},
		{"https://example.org/\u202egpj.exe", "https", ""},
		{"https://exa\u202emple.org/", "https", ""},
		{"https://example.org/\u2066x\u2069", "https", ""},
		{"https://example.org/\x1b[2J", "https", ""},
		{"https://example.org/a\x00b", "https", ""},
		{"https://example.org/a b", "https", ""},
		{"https://example.org/\xff", "https", ""},
		{"https://127.0.0.1:1/admin", "https", ""},
		{"https://[::1]/", "https", ""},
		{"https://[::ffff:127.0.0.1]/", "https", ""},
		{"https://[fe80::1%25eth0]/", "https", ""},
		{"https://10.0.0.1/", "https", ""},
		{"https://169.254.169.254/latest/meta-data/", "https", ""},
		{"https://localhost/", "https", ""},
		{"https://LocalHost./", "https", ""},
		{"https://admin.localhost:8443/", "https", ""},
		{"https://127.1/", "https", ""},
		{"https://2130706433/", "https", ""},
		{"https://0x7f.1/", "https", ""},
		{"https://example.org/" + strings.Repeat("a", 2100), "https", ""},
	} {
		got, ok := Link(c.in, c.scheme)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Link(%q, %q) = %q, %v; want %q", c.in, c.scheme, got, ok, c.want)
		}
	}
	if got, ok := HTTPSLink("https://[::1]/"); ok || got != "" {
		t.Errorf("HTTPSLink([::1]) = %q, %v", got, ok)
	}
}

func TestPublic(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "2a01:4f8::1": true, "1.1.1.1": true, "64:ff9b::808:808": true,
		"127.0.0.1": false, "127.255.0.1": false, "::1": false, "::": false, "0.0.0.0": false,
		"10.1.2.3": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.1.1": false,
		"fc00::1": false, "fd12:3456::1": false, "169.254.169.254": false, "fe80::1": false,
		"fe80::1%eth0": false, "100.64.0.1": false, "100.127.255.254": false,
		"224.0.0.1": false, "239.255.255.250": false, "ff02::1": false, "ff05::2": false,
		"255.255.255.255": false, "240.0.0.1": false, "192.0.2.1": false, "198.51.100.7": false,
		"203.0.113.9": false, "198.18.0.1": false, "198.19.255.1": false, "2001:db8::1": false,
		"2001:2::1": false, "3fff::1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false,
		"::ffff:169.254.169.254": false, "::127.0.0.1": false, "64:ff9b::7f00:1": false,
		"64:ff9b::a00:1": false, "2002:7f00:1::": false, "2002:c0a8:101::1": false,
		"fec0::1": false, "0.1.2.3": false, "192.0.0.8": false,
	} {
		if got := Public(netip.MustParseAddr(s)); got != want {
			t.Errorf("Public(%s) = %v, want %v", s, got, want)
		}
	}
	if Public(netip.Addr{}) {
		t.Error("Public(invalid address) = true")
	}
}
