package register_test

import (
	"context"
	"crypto/tls"
	"errors"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// TestAddrs: Addrs and DirectTLSAddrs map several domains to servers of
// the application's own, STARTTLS and direct TLS, with the certificate
// checked for the domain; a domain in neither is looked up as usual.
func TestAddrs(t *testing.T) {
	a := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "a.example"})
	b := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "b.example", DirectTLS: true})
	roots := a.CA.Pool.Clone()
	roots.AddCert(b.CA.Cert)
	d := register.Dialer{
		Addrs:          map[string]string{"a.example": a.Addr},
		DirectTLSAddrs: map[string]string{"b.example": b.DirectTLSAddr, "c.example": b.DirectTLSAddr},
		TLSConfig:      &tls.Config{RootCAs: roots},
		Resolver:       &fakedns.Resolver{}, // a domain missing from Addrs never reaches the system's DNS
		// Loopback addresses the application chose are not refused.
		Destinations: register.PublicOnly,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for domain, direct := range map[string]bool{"a.example": false, "b.example": true} {
		c, err := d.Dial(ctx, domain)
		if err != nil {
			t.Fatalf("%s: %v", domain, err)
		}
		if c.Features().DirectTLS != direct {
			t.Errorf("%s: direct TLS %v, want %v", domain, c.Features().DirectTLS, direct)
		}
		c.Close()
	}
	// c.example is mapped to b.example's direct TLS port, whose
	// certificate is not valid for it (Prosody even refuses the name in
	// the TLS handshake).
	if c, err := d.Dial(ctx, "c.example"); !errors.Is(err, register.ErrNoTLS) && !errors.Is(err, register.ErrConnect) {
		if c != nil {
			c.Close()
		}
		t.Errorf("c.example: %v, want a TLS failure", err)
	}
	if _, err := d.Dial(ctx, "d.example"); !errors.Is(err, register.ErrConnect) {
		t.Errorf("unmapped d.example: %v, want ErrConnect (no DNS)", err)
	}
}
