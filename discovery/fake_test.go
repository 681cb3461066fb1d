package discovery

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeServer is an in-process XMPP server on loopback for what real
// servers cannot do: stall, flood, lie. Each accepted connection is handled
// by handle in its own goroutine; the server is closed when the test ends.
type fakeServer struct {
	ln   net.Listener
	addr string
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	seen  []string // elements the clients sent, by local name
}

func startFake(t testing.TB, handle func(c *fakeConn)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, addr: ln.Addr().String()}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				fc := &fakeConn{Conn: c, srv: s}
				fc.dec = xml.NewDecoder(c)
				handle(fc)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *fakeServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// received reports whether a client sent an element with the local name.
func (s *fakeServer) received(local string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.seen {
		if l == local {
			return true
		}
	}
	return false
}

// fakeConn is one connection to a fakeServer.
type fakeConn struct {
	net.Conn
	srv *fakeServer
	dec *xml.Decoder
}

func (c *fakeConn) send(s string) bool {
	_, err := io.WriteString(c, s)
	return err == nil
}

// header reads the client's stream header.
func (c *fakeConn) header() bool {
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "stream" {
			return true
		}
	}
}

// element reads the client's next element.
func (c *fakeConn) element() *node {
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return nil
		}
		if se, ok := tok.(xml.StartElement); ok {
			n, err := decodeNode(c.dec, se)
			if err != nil {
				return nil
			}
			c.srv.mu.Lock()
			c.srv.seen = append(c.srv.seen, n.Name.Local)
			c.srv.mu.Unlock()
			return n
		}
	}
}

const fakeHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.test' id='x' version='1.0'>"

// openStream reads a client header and answers with a header and features.
func (c *fakeConn) openStream(features string) bool {
	return c.header() && c.send(fakeHeader+"<stream:features>"+features+"</stream:features>")
}

// startTLS answers <starttls/> and runs the server handshake with cert.
func (c *fakeConn) startTLS(cert tls.Certificate) bool {
	if n := c.element(); n == nil || n.Name.Local != "starttls" {
		return false
	}
	if !c.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") {
		return false
	}
	tc := tls.Server(c.Conn, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := tc.Handshake(); err != nil {
		return false
	}
	c.Conn = tc
	c.dec = xml.NewDecoder(tc)
	return true
}

// serveIQs answers every IQ with the reply the function returns, until the
// client goes away.
func (c *fakeConn) serveIQs(reply func(iq *node) string) {
	for {
		n := c.element()
		if n == nil {
			return
		}
		if n.Name.Local == "iq" {
			if !c.send(reply(n)) {
				return
			}
		}
	}
}

// testCert makes a self-signed certificate for names, valid from
// notBefore to notAfter, and a pool that trusts it.
func testCert(t testing.TB, notBefore, notAfter time.Time, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// decodeNode reads the element that start opened, up to and including its
// end tag, into a node tree.
func decodeNode(d *xml.Decoder, start xml.StartElement) (*node, error) {
	n, err := xmppconn.ReadTree(d, start)
	return n, coreErr(err)
}
