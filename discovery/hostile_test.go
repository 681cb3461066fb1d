package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

const fakeDomain = "example.test"

// fakeProber probes fakeDomain at addr, XMPP only.
func fakeProber(addr string, roots *x509.CertPool, timeout time.Duration) *Prober {
	return &Prober{
		Addrs:     map[string]string{fakeDomain: addr},
		TLSConfig: &tls.Config{RootCAs: roots},
		Skip:      PartHTTP,
		Timeout:   timeout,
	}
}

// probeWithin runs the probe and fails the test if it does not return
// long after its own deadline (a hang, not a timing assertion).
func probeWithin(t *testing.T, p *Prober, domain string) Report {
	t.Helper()
	done := make(chan Report, 1)
	go func() {
		r, _ := p.Probe(context.Background(), domain)
		done <- r
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(p.timeout() + 20*time.Second):
		t.Fatal("probe did not return")
		return Report{}
	}
}

func TestStallingServer(t *testing.T) {
	t.Parallel()
	srv := startFake(t, func(c *fakeConn) {
		// Read whatever comes and never answer.
		_, _ = drain(c)
	})
	r := probeWithin(t, fakeProber(srv.addr, nil, 300*time.Millisecond), fakeDomain)
	st := r.StartTLS.Status
	if st.State != Unknown || !errors.Is(st.Err, context.DeadlineExceeded) {
		t.Errorf("StartTLS = %v (%v)", st, st.Err)
	}
	if r.Registration.Status.State != Unknown || r.ServerInfo.Status.State != Unknown {
		t.Errorf("registration %v, server info %v", r.Registration.Status, r.ServerInfo.Status)
	}
}

// drain drains a connection.
func drain(c *fakeConn) (int64, error) {
	buf := make([]byte, 512)
	var n int64
	for {
		k, err := c.Read(buf)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
}

func TestBlackholedAndDeadPorts(t *testing.T) {
	t.Parallel()
	// A listener that never accepts: the kernel completes the handshake
	// and then nothing happens.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	// A port with nothing listening.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()

	p := fakeProber(hole.Addr().String(), nil, 300*time.Millisecond)
	p.DirectTLSAddrs = map[string]string{fakeDomain: deadAddr}
	r := probeWithin(t, p, fakeDomain)
	if st := r.StartTLS.Status; st.State != Unknown || !errors.Is(st.Err, context.DeadlineExceeded) {
		t.Errorf("blackholed StartTLS = %v", st)
	}
	if st := r.DirectTLS.Status; st.State != Absent || st.Reason != "connection refused" {
		t.Errorf("dead DirectTLS = %v", st)
	}
	if len(r.DirectTLS.Attempts) != 1 || r.DirectTLS.Attempts[0].Addr != deadAddr {
		t.Errorf("attempts = %+v", r.DirectTLS.Attempts)
	}
}

func TestEndlessXML(t *testing.T) {
	t.Parallel()
	endless := func(unit string) func(c *fakeConn) {
		return func(c *fakeConn) {
			if !c.header() || !c.send(fakeHeader+"<stream:features>") {
				return
			}
			chunk := strings.Repeat(unit, 1000)
			for c.send(chunk) {
			}
		}
	}
	for _, tc := range []struct {
		name, unit string
		want       error
	}{
		{"whitespace", " ", ErrTooLarge},
		{"siblings", "<x/>", ErrProtocol}, // element count limit
		{"nesting", "<x>", ErrProtocol},   // depth limit
		{"text", "<x>aaaaaaaaaaaaaaa", ErrProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startFake(t, endless(tc.unit))
			p := fakeProber(srv.addr, nil, 5*time.Second)
			p.MaxStreamBytes = 64 << 10
			r := probeWithin(t, p, fakeDomain)
			st := r.StartTLS.Status
			if st.State != Unknown || (!errors.Is(st.Err, tc.want) && !errors.Is(st.Err, ErrTooLarge)) {
				t.Errorf("StartTLS = %v (%v), want %v", st, st.Err, tc.want)
			}
		})
	}
}

func TestNoStartTLSSendsNothing(t *testing.T) {
	t.Parallel()
	srv := startFake(t, func(c *fakeConn) {
		if !c.openStream("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms><register xmlns='http://jabber.org/features/iq-register'/>") {
			return
		}
		for c.element() != nil {
		}
	})
	p := fakeProber(srv.addr, nil, 2*time.Second)
	p.Account = &Credentials{Username: "alice", Password: "hunter2-secret", AllowPlain: true}
	r := probeWithin(t, p, fakeDomain)
	st := r.StartTLS.Status
	if st.State != Absent || !errors.Is(st.Err, ErrNoTLS) {
		t.Errorf("StartTLS = %v", st)
	}
	if f := r.StartTLS.FeaturesBeforeTLS; f == nil || !f.Register || f.StartTLS {
		t.Errorf("features before TLS = %+v", f)
	}
	if r.Registration.Status.State != Unknown || r.Login.Status.State != Unknown {
		t.Errorf("registration %v, login %v", r.Registration.Status, r.Login.Status)
	}
	srv.close()
	for _, el := range []string{"iq", "auth", "starttls"} {
		if srv.received(el) {
			t.Errorf("client sent <%s> on a plain stream", el)
		}
	}
}

// tlsFake is a server with STARTTLS and cert that answers IQs with reply.
func tlsFake(t *testing.T, cert tls.Certificate, reply func(*node) string) *fakeServer {
	return startFake(t, func(c *fakeConn) {
		if !c.openStream("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>") || !c.startTLS(cert) {
			return
		}
		if !c.openStream("<register xmlns='http://jabber.org/features/iq-register'/><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>") {
			return
		}
		c.serveIQs(reply)
	})
}

func registerReply(iq *node) string {
	id := escape(iq.Get("id"))
	if iq.Child(nsRegister, "query") != nil {
		return "<iq type='result' id='" + id + "'><query xmlns='jabber:iq:register'><username/><password/><email/></query></iq>"
	}
	return "<iq type='error' id='" + id + "'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
}

func TestWrongCertificateWithholdsCredentials(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, roots := testCert(t, now.Add(-time.Hour), now.Add(24*time.Hour), "other.test")
	srv := tlsFake(t, cert, registerReply)
	p := fakeProber(srv.addr, roots, 3*time.Second)
	const secret = "hunter2-secret"
	p.Account = &Credentials{Username: "alice", Password: secret, AllowPlain: true}
	r := probeWithin(t, p, fakeDomain)

	tlsInfo := r.StartTLS.TLS
	if r.StartTLS.Status.State != Observed || tlsInfo == nil {
		t.Fatalf("StartTLS = %v", r.StartTLS.Status)
	}
	c := tlsInfo.Certificate
	if c.Valid || !errors.Is(c.Err, ErrCertificate) || c.Subject != "CN=other.test" {
		t.Errorf("certificate = %+v", c)
	}
	var hostErr x509.HostnameError
	if !errors.As(c.Err, &hostErr) {
		t.Errorf("certificate error %v is not a HostnameError", c.Err)
	}
	// Unauthenticated queries still ran: the server is observed as it is.
	if r.Registration.Kind != RegistrationOpen || !r.Registration.EmailRequired {
		t.Errorf("registration = %+v", r.Registration)
	}
	if st := r.Login.Status; st.State != Unknown || !errors.Is(st.Err, ErrCertificate) {
		t.Errorf("login = %v", st)
	}
	srv.close()
	if srv.received("auth") {
		t.Fatal("credentials were sent over TLS with a certificate for another name")
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(p.Account.String(), secret) {
		t.Error("the password leaked into the report")
	}
}

func TestExpiredCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, roots := testCert(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), fakeDomain)
	srv := tlsFake(t, cert, registerReply)
	r := probeWithin(t, fakeProber(srv.addr, roots, 3*time.Second), fakeDomain)
	if r.StartTLS.TLS == nil {
		t.Fatalf("StartTLS = %v", r.StartTLS.Status)
	}
	c := r.StartTLS.TLS.Certificate
	var invalid x509.CertificateInvalidError
	if c.Valid || !errors.As(c.Err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("certificate = %+v", c)
	}
	if c.ExpiresIn(now) >= 0 {
		t.Errorf("ExpiresIn = %v, want negative", c.ExpiresIn(now))
	}
	if r.StartTLS.TLS.Version != tls.VersionTLS13 || r.StartTLS.TLS.Version.String() != "TLS 1.3" {
		t.Errorf("version = %v", r.StartTLS.TLS.Version)
	}
}

func TestValidCertificateAndDisco(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, roots := testCert(t, now.Add(-time.Hour), now.Add(90*24*time.Hour), fakeDomain)
	srv := tlsFake(t, cert, func(iq *node) string {
		id := escape(iq.Get("id"))
		switch {
		case iq.Child(nsDiscoInfo, "query") != nil && iq.Get("to") == fakeDomain:
			return "<iq type='result' id='" + id + "' xml:lang='de'>" + string(readTestdata(t, "xmpp/disco-info-prosody.xml")) + "</iq>"
		case iq.Child(nsDiscoInfo, "query") != nil && iq.Get("to") == "upload.localhost":
			return "<iq type='result' id='" + id + "'>" + string(readTestdata(t, "xmpp/disco-info-upload.xml")) + "</iq>"
		case iq.Child(nsDiscoInfo, "query") != nil:
			// A service that never answers: the others still do.
			return ""
		case iq.Child(nsDiscoItems, "query") != nil:
			return "<iq type='result' id='" + id + "'>" + string(readTestdata(t, "xmpp/disco-items.xml")) + "</iq>"
		case iq.Child(nsVersion, "query") != nil:
			return "<message><body>noise</body></message><iq type='result' id='" + id + "'>" + string(readTestdata(t, "xmpp/version.xml")) + "</iq>"
		}
		return registerReply(iq)
	})
	r := probeWithin(t, fakeProber(srv.addr, roots, 2*time.Second), fakeDomain)
	if c := r.StartTLS.TLS.Certificate; !c.Valid || c.Err != nil {
		t.Errorf("certificate = %+v", c)
	}
	if r.ServerInfo.Status.State != Observed || r.Software.Name != "Prosody" || r.Contacts.Lang != "de" {
		t.Errorf("info %v, software %+v, contacts lang %q", r.ServerInfo.Status, r.Software, r.Contacts.Lang)
	}
	if r.Upload.Status.State != Observed || r.Upload.JID != "upload.localhost" || r.Upload.MaxFileSize != 10485760 {
		t.Errorf("upload = %+v", r.Upload)
	}
	// conference.localhost and proxy.localhost never answered.
	if st := r.MUC.Status; st.State != Unknown || !errors.Is(st.Err, context.DeadlineExceeded) {
		t.Errorf("MUC = %v (%v)", st, st.Err)
	}
	p, fields := r.Provider()
	if p.UploadFileSize != 10 || p.EmailSupport["de"][0] != "support@localhost" || p.ChatSupport["de"][0] != "support@localhost" ||
		p.GroupChatSupport["de"][0] != "help@conference.localhost" || !p.InBandRegistration || !p.EmailRequired ||
		p.ServerSoftwareName != "Prosody" || p.ServerSoftwareVersion != "0.12.3" {
		t.Errorf("provider = %+v (fields %v)", p, fields)
	}
}

func TestHostUnknown(t *testing.T) {
	t.Parallel()
	srv := startFake(t, func(c *fakeConn) {
		if c.header() {
			c.send(fakeHeader + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
		}
	})
	r := probeWithin(t, fakeProber(srv.addr, nil, 2*time.Second), fakeDomain)
	var se *StreamError
	if st := r.StartTLS.Status; st.State != Absent || !errors.As(st.Err, &se) || se.Err.Err != "host-unknown" {
		t.Errorf("StartTLS = %v", st)
	}
}

func TestNotXMPP(t *testing.T) {
	t.Parallel()
	srv := startFake(t, func(c *fakeConn) {
		c.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})
	r := probeWithin(t, fakeProber(srv.addr, nil, 2*time.Second), fakeDomain)
	if st := r.StartTLS.Status; st.State != Unknown || st.Err == nil {
		t.Errorf("StartTLS = %v", st)
	}
}

func TestInvalidDomain(t *testing.T) {
	for _, d := range []string{"", "alice@example.org", "example.org/res", "exa mple.org", "[::1]"} {
		r, err := Probe(context.Background(), d)
		if !errors.Is(err, ErrInvalidDomain) || !errors.Is(r.Err, ErrInvalidDomain) || r.StartTLS.Status.State != Unknown {
			t.Errorf("Probe(%q) = %v, %v", d, r.Err, err)
		}
	}
	if d, err := normalizeDomain(" Example.ORG. "); err != nil || d != "example.org" {
		t.Errorf("normalizeDomain = %q, %v", d, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Probe(ctx, "example.org"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestAccountOnlyForItsDomain checks that credentials go to no other domain
// than the account's: not with a JID of another domain, and not in a batch
// with a bare username (which would go to every domain of the list).
func TestAccountOnlyForItsDomain(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, roots := testCert(t, now.Add(-time.Hour), now.Add(time.Hour), fakeDomain)
	srv := tlsFake(t, cert, registerReply)
	p := fakeProber(srv.addr, roots, 3*time.Second)

	p.Account = &Credentials{Username: "alice@elsewhere.test", Password: "x-secret"}
	r := probeWithin(t, p, fakeDomain)
	if st := r.Login.Status; st.State != Unknown || !errors.Is(st.Err, ErrAuth) || !strings.Contains(st.Reason, "not on this domain") {
		t.Errorf("other domain: login = %v", st)
	}

	p.Account = &Credentials{Username: "alice", Password: "x-secret"}
	n := 0
	for r := range p.ProbeAll(context.Background(), []string{fakeDomain}) {
		n++
		if st := r.Login.Status; st.State != Unknown || !errors.Is(st.Err, ErrAuth) || !strings.Contains(st.Reason, "batch") {
			t.Errorf("batch: login = %v", st)
		}
		if r.Registration.Kind != RegistrationOpen {
			t.Errorf("batch: registration = %+v", r.Registration)
		}
	}
	if n != 1 {
		t.Errorf("%d reports", n)
	}
	srv.close()
	if srv.received("auth") {
		t.Fatal("credentials were sent")
	}
}
