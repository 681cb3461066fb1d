// Package netguard decides where the module may send requests and which
// links it may show: one place for the https-link check (see [Link]) and
// for the destination policy (see [Policy]) shared by package register and
// package discovery.
//
// A server on a domain typed by a user can point SRV records, host names
// and HTTP redirects anywhere, including at services that only trust the
// machine the library runs on (127.0.0.1:8080/admin, a cloud metadata
// endpoint on 169.254.169.254, a router on 192.168.1.1). [PublicOnly]
// refuses such destinations; it checks the IP address actually connected
// to, at connect time, so a DNS answer that changes between a check and the
// connection (DNS rebinding) does not get around it.
package netguard

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// ErrForbiddenDestination is matched (errors.Is) by every error returned
// when a [Policy] refuses an address.
var ErrForbiddenDestination = errors.New("destination not allowed (loopback, private, link-local or reserved address)")

// maxLink is the longest link accepted.
const maxLink = 2048

// HTTPSLink is Link(s, "https").
func HTTPSLink(s string) (string, bool) { return Link(s, "https") }

// Link returns s, trimmed of surrounding white space and normalised by
// net/url, and true if s is a link that may be shown to a person or
// followed: an absolute URL with the scheme (compared case-insensitively,
// "https" or "wss"), a host, no user information ("https://bank.example@evil.example/"
// hides the real host), at most 2048 bytes, no control, bidi or invalid
// characters anywhere (U+202E makes a shown link lie about its target;
// see [sanitize.Clean]), and a host that is not "localhost", a name under
// ".localhost", or an IP address [Public] refuses (https://127.0.0.1:1/admin,
// https://[::1]/). A host that ends in a number but is not a dotted-quad
// address ("127.1", "0x7f.1", "2130706433", which browsers read as IPv4
// addresses) is refused too. Otherwise it returns "", false.
//
// Link does not resolve names: a name whose DNS points at a private
// address passes; [Policy] catches that when connecting.
func Link(s, scheme string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxLink || !sanitize.Clean(s) || strings.ContainsAny(s, " \t\r\n") {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, scheme) || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if !PublicHost(u.Hostname()) {
		return "", false
	}
	return u.String(), true
}

// PublicHost reports whether host (a name or an IP address, without port
// or brackets) may be a public destination: not empty, not "localhost" or
// a name under ".localhost", not an IP address that [Public] refuses, and
// not a name ending in a number that is not a dotted-quad address. It does
// not resolve names.
func PublicHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "" || h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return false
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return Public(ip)
	}
	if strings.Contains(h, ":") || strings.Contains(h, "%") {
		return false
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	return !endsInNumber(last)
}

// endsInNumber reports whether a host's last label is a number as the URL
// standard reads it (decimal, octal or 0x hex): such a host is an IPv4
// address to a browser.
func endsInNumber(label string) bool {
	if label == "" {
		return false
	}
	digits := label
	if strings.HasPrefix(label, "0x") {
		digits = label[2:]
		for _, r := range digits {
			if !strings.ContainsRune("0123456789abcdef", r) {
				return false
			}
		}
		return true
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
