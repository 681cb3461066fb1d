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
	"sync"
	"syscall"
	"time"
)

// probeTLSConfig returns the TLS configuration for probing domain. The
// certificate is verified by describeTLS after the handshake instead of by
// crypto/tls, so that an invalid certificate is reported (and the rest of
// the server still probed) rather than aborting the handshake. Credentials
// are only ever sent when describeTLS found the certificate valid.
func (p *Prober) probeTLSConfig(domain string, alpn bool) *tls.Config {
	var cfg *tls.Config
	if p.TLSConfig != nil {
		cfg = p.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	cfg.ServerName = domain
	// #nosec G402 -- verified in describeTLS; see above.
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = nil
	cfg.VerifyConnection = nil
	cfg.NextProtos = nil
	if alpn {
		cfg.NextProtos = []string{"xmpp-client"}
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
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

// dial tries the targets in order and returns the first connection.
func (p *Prober) dial(ctx context.Context, targets []target, c *Connection) net.Conn {
	for _, t := range targets {
		if t.err != nil {
			c.Addr = t.addr()
			c.Attempts = append(c.Attempts, Attempt{Addr: t.addr(), Err: t.err})
			continue
		}
		for _, ip := range t.ips {
			addr := net.JoinHostPort(ip, t.port)
			c.Addr = addr
			if err := t.policy.Check(addr); err != nil {
				// An SRV target or name on a loopback or private address:
				// not even a TCP handshake.
				c.Attempts = append(c.Attempts, Attempt{Addr: addr, Err: err})
				continue
			}
			t0 := time.Now()
			actx, cancel := bound(ctx, p.connectTimeout())
			conn, err := t.policy.Dialer(p.Dialer).DialContext(actx, "tcp", addr)
			cancel()
			c.Attempts = append(c.Attempts, Attempt{Addr: addr, Err: err, Took: time.Since(t0)})
			if err == nil {
				return conn
			}
			if ctx.Err() != nil {
				return nil
			}
		}
	}
	return nil
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
	c.TLS = p.describeTLS(s.tls.ConnectionState(), domain, time.Now())
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
	c.TLS = p.describeTLS(s.tls.ConnectionState(), domain, time.Now())
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
