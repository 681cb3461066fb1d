package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a generated, throw-away certificate authority (ECDSA P-256) that
// signs leaf certificates for test servers. Each server started by this
// package gets its own CA.
type CA struct {
	// CertPEM is the PEM encoded CA certificate.
	CertPEM []byte
	// CertFile is the path of a file holding CertPEM, for tools that take a
	// -cafile style flag.
	CertFile string
	// Pool is a certificate pool containing only this CA.
	Pool *x509.CertPool
	// Cert is the parsed CA certificate.
	Cert *x509.Certificate

	key *ecdsa.PrivateKey
}

// certValidity is how long generated certificates are valid. Long enough for
// long-running benchmark programs, short enough to be obviously a test cert.
const certValidity = 7 * 24 * time.Hour

// NewCA generates a new CA and writes its certificate to a file in a fresh
// tb.TempDir().
func NewCA(tb TB) *CA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testserver: generating CA key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(tb),
		Subject:               pkix.Name{CommonName: "testserver CA", Organization: []string{"xmpp-onboard testserver"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("testserver: creating CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testserver: parsing CA certificate: %v", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	file := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(file, certPEM, 0o644); err != nil {
		tb.Fatalf("testserver: writing CA certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{CertPEM: certPEM, CertFile: file, Pool: pool, Cert: cert, key: key}
}

// Leaf issues a server certificate for the given DNS names (the first one is
// also the subject common name) that is additionally valid for the IP
// address 127.0.0.1. It writes the PEM certificate and the PEM (PKCS #8,
// unencrypted) private key to files in a fresh tb.TempDir() and returns their
// paths. The key file has mode 0600.
func (ca *CA) Leaf(tb TB, names ...string) (certFile, keyFile string) {
	tb.Helper()
	certPEM, keyPEM := ca.leafPEM(tb, names...)
	dir := tb.TempDir()
	certFile = filepath.Join(dir, "cert.pem")
	keyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		tb.Fatalf("testserver: writing leaf certificate: %v", err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		tb.Fatalf("testserver: writing leaf key: %v", err)
	}
	return certFile, keyFile
}

// leafPEM issues a leaf certificate and returns the certificate and key as
// PEM.
func (ca *CA) leafPEM(tb TB, names ...string) (certPEM, keyPEM []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testserver: generating leaf key: %v", err)
	}
	cn := "127.0.0.1"
	if len(names) > 0 {
		cn = names[0]
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(tb),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatalf("testserver: creating leaf certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("testserver: encoding leaf key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// TLSConfig returns a client configuration that trusts only this CA and
// verifies the server name serverName.
func (ca *CA) TLSConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}

func randomSerial(tb TB) *big.Int {
	tb.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatalf("testserver: generating serial number: %v", err)
	}
	return n.Add(n, big.NewInt(1))
}
