package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// Policy says which network destinations may be connected to. Package
// register exposes it as register.Destinations (the field
// Dialer.Destinations), package discovery as discovery.Destinations (the
// field Prober.Destinations).
//
// The zero value, [Default], means the default of the API that uses it:
// [AllowAll] for register.Dialer and discovery.Prober.Probe (a library
// used against a server on 127.0.0.1 or in a private network keeps
// working), [PublicOnly] for discovery.Prober.ProbeAll (a batch of domains
// from a list is exactly what an attacker can feed).
type Policy uint8

// The policies.
const (
	// Default is the zero value: the documented default of the API.
	Default Policy = iota
	// AllowAll allows every destination.
	AllowAll
	// PublicOnly allows only public unicast IP addresses (see [Public]):
	// it refuses loopback, private (RFC 1918, fc00::/7), link-local
	// (169.254/16, fe80::/10, including cloud metadata services), CGNAT
	// (100.64/10), unspecified, multicast, broadcast, reserved,
	// documentation and benchmarking addresses, their IPv4-mapped, NAT64
	// and 6to4 forms, and the names "localhost" and *.localhost. It is
	// checked on the address actually connected to, when connecting, so
	// DNS rebinding does not get around it.
	PublicOnly
)

// Or returns p, or def if p is Default.
func (p Policy) Or(def Policy) Policy {
	if p == Default {
		return def
	}
	return p
}

// String returns "default", "allow all" or "public only".
func (p Policy) String() string {
	switch p {
	case Default:
		return "default"
	case AllowAll:
		return "allow all"
	case PublicOnly:
		return "public only"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// restricts reports whether p refuses anything. Default allows all, as
// the caller should have resolved it with Or; an unknown value is treated
// as PublicOnly.
func (p Policy) restricts() bool { return p != Default && p != AllowAll }

// Allows reports whether p allows connecting to ip. Default is treated as
// AllowAll (resolve it with [Policy.Or] first).
func (p Policy) Allows(ip netip.Addr) bool { return !p.restricts() || Public(ip) }

// Check returns nil if p may allow a connection to address ("host:port",
// or a host alone): an IP address it allows, or a host name that is not
// "localhost" or under ".localhost" (a name's addresses are checked when
// connecting, see [Policy.Dialer]). Otherwise the error matches
// [ErrForbiddenDestination].
func (p Policy) Check(address string) error {
	if !p.restricts() {
		return nil
	}
	host := address
	if h, _, err := net.SplitHostPort(address); err == nil {
		host = h
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if Public(ip) {
			return nil
		}
		return forbidden(address)
	}
	if !PublicHost(host) {
		return forbidden(address)
	}
	return nil
}

func forbidden(address string) error {
	return fmt.Errorf("%w: %s", ErrForbiddenDestination, sanitize.Line(clip(address)))
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// control is a net.Dialer Control function: address is the resolved
// "ip:port" about to be connected to.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !Public(ap.Addr()) {
		return forbidden(address)
	}
	return nil
}

// ContextDialer makes network connections; *net.Dialer implements it.
type ContextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Dialer returns a dialer that connects through d (nil means a
// *net.Dialer) only where p allows; d itself if p allows everything.
//
// Every dialer is given only addresses that pass [Policy.Check]. For a
// *net.Dialer (and nil), the check also runs in the dialer's Control hook
// on the IP address of each connection attempt, after name resolution, so
// neither a name that resolves to a private address nor DNS rebinding gets
// around it; the caller's own Control or ControlContext still runs after
// it. Any other dialer (a SOCKS5 proxy, for example) resolves names
// itself, out of the policy's reach: only IP addresses and localhost
// names are checked.
func (p Policy) Dialer(d ContextDialer) ContextDialer {
	if !p.restricts() {
		if d == nil {
			return &net.Dialer{}
		}
		return d
	}
	var nd *net.Dialer
	switch v := d.(type) {
	case nil:
		nd = &net.Dialer{}
	case *net.Dialer:
		c := *v
		nd = &c
	default:
		return checkedDialer{p: p, d: d}
	}
	switch cc, c := nd.ControlContext, nd.Control; {
	case cc != nil:
		nd.ControlContext = func(ctx context.Context, network, address string, rc syscall.RawConn) error {
			if err := p.control(network, address, rc); err != nil {
				return err
			}
			return cc(ctx, network, address, rc)
		}
	case c != nil:
		nd.Control = func(network, address string, rc syscall.RawConn) error {
			if err := p.control(network, address, rc); err != nil {
				return err
			}
			return c(network, address, rc)
		}
	default:
		nd.Control = p.control
	}
	// Check first as well: IP literals and localhost names are refused
	// without a DNS lookup.
	return checkedDialer{p: p, d: nd}
}

// checkedDialer checks addresses before handing them to a dialer that is
// not a *net.Dialer.
type checkedDialer struct {
	p Policy
	d ContextDialer
}

func (c checkedDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if err := c.p.Check(address); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return c.d.DialContext(ctx, network, address)
}
