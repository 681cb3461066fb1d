package discovery

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
)

// probeTLSConfig returns the TLS configuration for probing domain. The
// certificate is verified by describeTLS after the handshake instead of by
// crypto/tls, so that an invalid certificate is reported (and the rest of
// the server still probed) rather than aborting the handshake. Credentials
// are only ever sent when describeTLS found the certificate valid.
func (p *Prober) probeTLSConfig(domain string, alpn bool) *tls.Config {
	cfg := xmppconn.ClientTLS(p.TLSConfig, domain, false)
	// #nosec G402 -- verified in describeTLS; see above.
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = nil
	cfg.VerifyConnection = nil
	cfg.NextProtos = nil
	if alpn {
		cfg.NextProtos = []string{"xmpp-client"}
	}
	return cfg
}

// describeTLS describes a finished handshake and verifies the certificate
// for domain against the configured roots.
func (p *Prober) describeTLS(cs tls.ConnectionState, domain string, now time.Time) *TLSInfo {
	info := &TLSInfo{
		Version:     TLSVersion(cs.Version),
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		ALPN:        cs.NegotiatedProtocol,
	}
	if len(cs.PeerCertificates) == 0 {
		info.Certificate.Err = errors.New("discovery: no certificate")
		return info
	}
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	c := &info.Certificate
	c.Subject = leaf.Subject.String()
	c.Issuer = leaf.Issuer.String()
	c.DNSNames = leaf.DNSNames
	if len(c.DNSNames) > maxListItems {
		c.DNSNames = c.DNSNames[:maxListItems]
	}
	c.NotBefore, c.NotAfter = leaf.NotBefore, leaf.NotAfter
	c.SHA256 = hex.EncodeToString(sum[:])
	opts := x509.VerifyOptions{
		DNSName:       domain,
		CurrentTime:   now,
		Intermediates: x509.NewCertPool(),
	}
	if p.TLSConfig != nil {
		opts.Roots = p.TLSConfig.RootCAs
	}
	for _, ic := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(ic)
	}
	if _, err := leaf.Verify(opts); err != nil {
		c.Err = fmt.Errorf("%w: %w", ErrCertificate, err)
	} else {
		c.Valid = true
	}
	return info
}

// dial connects to the first of the targets that answers
// (xmppconn.Dialer.Connect: in order, the addresses raced, Happy
// Eyeballs), under the targets' destination policy, and records every
// attempt in c, also the ones refused by the policy, not resolved or
// abandoned when another address connected first.
func (p *Prober) dial(ctx context.Context, targets []target, c *Connection) net.Conn {
	var eps []xmppconn.Endpoint
	var pol netguard.Policy
	for i, t := range targets {
		if i == 0 || t.policy == netguard.PublicOnly {
			// One policy per resolution (the stricter, were they to differ).
			pol = t.policy
		}
		if t.err == nil && len(t.ips) == 0 {
			continue // nothing to dial: not resolved here
		}
		port, _ := strconv.ParseUint(t.port, 10, 16)
		eps = append(eps, xmppconn.Endpoint{Target: xmppconn.Target{Host: t.host, Port: uint16(port)}, IPs: t.ips, Err: t.err})
	}
	d := xmppconn.Dialer{Dialer: p.NetDialer, Policy: pol, AttemptTimeout: p.connectTimeout()}
	cn, _ := d.Connect(ctx, eps)
	for _, a := range cn.Attempts {
		c.Attempts = append(c.Attempts, Attempt{Addr: a.Addr, Err: a.Err, Took: a.Took})
		c.Addr = a.Addr
	}
	if cn.Conn != nil {
		c.Addr = cn.Addr
	}
	return cn.Conn
}

// dialFailure is the status of a connection that could not be made.
func dialFailure(ctx context.Context, c *Connection, took time.Duration) Status {
	if len(c.Attempts) == 0 {
		return unknown("nothing to connect to", nil, took)
	}
	refused, forbidden := true, true
	var last error
	for _, a := range c.Attempts {
		last = a.Err
		if !errors.Is(a.Err, ErrForbiddenDestination) {
			forbidden = false
		}
		var de *net.DNSError
		if !errors.Is(a.Err, syscall.ECONNREFUSED) && !(errors.As(a.Err, &de) && de.IsNotFound) {
			refused = false
		}
	}
	if err := context.Cause(ctx); err != nil {
		return unknown("timed out", err, took)
	}
	if forbidden {
		return unknown("not connected: the address is not public (Prober.Destinations)", last, took)
	}
	if refused {
		return absent("connection refused", last, took)
	}
	return unknown("could not connect", last, took)
}

// startTLSPath connects to the STARTTLS port, reads the features, upgrades
// to TLS and reads the features again. It returns the open stream when
// everything worked.
func (p *Prober) startTLSPath(ctx context.Context, domain string, targets []target, none Status) (Connection, *xstream) {
	var c Connection
	if len(targets) == 0 {
		c.Status = none
		return c, nil
	}
	t0 := time.Now()
	conn := p.dial(ctx, targets, &c)
	if conn == nil {
		c.Status = dialFailure(ctx, &c, time.Since(t0))
		return c, nil
	}
	s := newStream(conn, domain, p.maxStreamBytes())
	fail := func(reason string, err error) (Connection, *xstream) {
		s.close()
		c.Status = streamFailure(reason, err, time.Since(t0))
		return c, nil
	}
	f, err := s.open(ctx)
	c.StreamFrom = s.from
	if err != nil {
		return fail("stream failed", err)
	}
	c.FeaturesBeforeTLS = f
	if !f.StartTLS {
		s.close()
		c.Status = absent("STARTTLS not offered; nothing else was sent", ErrNoTLS, time.Since(t0))
		return c, nil
	}
	if err := s.startTLS(ctx, p.probeTLSConfig(domain, false)); err != nil {
		return fail("STARTTLS failed", err)
	}
	c.TLS = p.describeTLS(s.t.TLS().ConnectionState(), domain, time.Now())
	s.t.From = p.streamFrom(domain, c.TLS)
	f, err = s.open(ctx)
	if err != nil {
		return fail("stream failed after STARTTLS", err)
	}
	c.StreamFrom = s.from
	c.Features = f
	c.Status = observed(time.Since(t0))
	return c, s
}

// directTLSPath connects to the direct TLS port and reads the features.
func (p *Prober) directTLSPath(ctx context.Context, domain string, targets []target, none Status) (Connection, *xstream) {
	var c Connection
	if len(targets) == 0 {
		c.Status = none
		return c, nil
	}
	t0 := time.Now()
	conn := p.dial(ctx, targets, &c)
	if conn == nil {
		c.Status = dialFailure(ctx, &c, time.Since(t0))
		return c, nil
	}
	s := newStream(conn, domain, p.maxStreamBytes())
	fail := func(reason string, err error) (Connection, *xstream) {
		s.close()
		c.Status = streamFailure(reason, err, time.Since(t0))
		return c, nil
	}
	if err := s.handshake(ctx, p.probeTLSConfig(domain, true)); err != nil {
		return fail("TLS handshake failed", err)
	}
	c.TLS = p.describeTLS(s.t.TLS().ConnectionState(), domain, time.Now())
	s.t.From = p.streamFrom(domain, c.TLS)
	f, err := s.open(ctx)
	c.StreamFrom = s.from
	if err != nil {
		return fail("stream failed", err)
	}
	c.Features = f
	c.Status = observed(time.Since(t0))
	return c, s
}

// streamFailure is the status of a connection whose stream failed. A
// host-unknown stream error says the server does not serve the domain.
func streamFailure(reason string, err error, took time.Duration) Status {
	var se *StreamError
	if errors.As(err, &se) && se.Err.Err == "host-unknown" {
		return absent("server does not serve this domain (host-unknown)", err, took)
	}
	return unknown(reason, err, took)
}

// connectBoth probes both ports at once and returns the stream to query
// on: STARTTLS if it worked, else direct TLS. The other stream is closed.
func (p *Prober) connectBoth(ctx context.Context, domain string, res resolution, r *Report) (*xstream, bool) {
	var st, dt *xstream
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.StartTLS, st = p.startTLSPath(ctx, domain, res.startTLS, res.noStartTLS)
	}()
	go func() {
		defer wg.Done()
		r.DirectTLS, dt = p.directTLSPath(ctx, domain, res.directTLS, res.noDirectTLS)
	}()
	wg.Wait()
	if st != nil {
		dt.close()
		return st, false
	}
	return dt, true
}
