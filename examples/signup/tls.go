package main

import (
	"crypto/tls"
	"crypto/x509"
)

// newTLSConfig returns a TLS configuration trusting pool. register sets
// ServerName to the XMPP domain itself.
func newTLSConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
