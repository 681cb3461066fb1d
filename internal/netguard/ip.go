package netguard

import "net/netip"

// Public reports whether ip is a public unicast address: false for
// loopback, private (RFC 1918, fc00::/7), link-local, CGNAT (100.64/10),
// unspecified, multicast, broadcast and other reserved addresses,
// documentation and benchmarking ranges, and for IPv4-mapped
// (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms of
// those. The zone of an address is ignored.
func Public(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case netip.MustParsePrefix("64:ff9b::/96").Contains(ip): // NAT64 (RFC 6052)
			return Public(netip.AddrFrom4([4]byte(b[12:16])))
		case netip.MustParsePrefix("2002::/16").Contains(ip): // 6to4 (RFC 3056)
			return Public(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	return !reserved(ip)
}

// reserved reports whether ip is in a prefix, besides what net/netip
// classifies (loopback, private, link-local, multicast, unspecified), that
// no public service uses. The table is local so that it cannot be changed.
func reserved(ip netip.Addr) bool {
	for _, p := range [...]string{
		"0.0.0.0/8",       // "this network" (RFC 791)
		"100.64.0.0/10",   // shared address space, CGNAT (RFC 6598)
		"192.0.0.0/24",    // IETF protocol assignments (RFC 6890)
		"192.0.2.0/24",    // TEST-NET-1 (RFC 5737)
		"192.88.99.0/24",  // 6to4 relay anycast, deprecated (RFC 7526)
		"198.18.0.0/15",   // benchmarking (RFC 2544)
		"198.51.100.0/24", // TEST-NET-2 (RFC 5737)
		"203.0.113.0/24",  // TEST-NET-3 (RFC 5737)
		"240.0.0.0/4",     // reserved, and the broadcast address 255.255.255.255
		"::/96",           // IPv4-compatible, deprecated (RFC 4291); includes :: and ::1
		"64:ff9b:1::/48",  // local-use NAT64 (RFC 8215)
		"100::/64",        // discard-only (RFC 6666)
		"2001::/23",       // IETF protocol assignments: Teredo, benchmarking 2001:2::/48, ORCHID (RFC 6890)
		"2001:db8::/32",   // documentation (RFC 3849)
		"3fff::/20",       // documentation (RFC 9637)
		"5f00::/16",       // segment routing SIDs (RFC 9602)
		"fec0::/10",       // site-local, deprecated (RFC 3879)
	} {
		if netip.MustParsePrefix(p).Contains(ip) {
			return true
		}
	}
	return false
}
