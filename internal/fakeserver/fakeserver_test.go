package fakeserver_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
)

// TestMelliumClient checks the fake server against mellium's own client
// negotiation: STARTTLS, SCRAM-SHA-256 and resource binding.
func TestMelliumClient(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.Mechanisms("SCRAM-SHA-256", "SCRAM-SHA-1")); err != nil {
			return err
		}
		user, err := st.SASL(func(u string) (string, bool) { return "pencil", u == "user" })
		if err != nil {
			return err
		}
		if err := st.Bind(user); err != nil {
			return err
		}
		ping, err := st.Expect("get", "ping")
		if err != nil {
			return err
		}
		if err := st.Reply(ping, ""); err != nil {
			return err
		}
		return st.End()
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s, err := xmpp.NewClientSession(ctx, jid.MustParse("user@localhost"), conn,
		xmpp.StartTLS(srv.TLSConfig()),
		xmpp.SASL("", "pencil", sasl.ScramSha256, sasl.ScramSha1),
		xmpp.BindResource())
	if err != nil {
		t.Fatalf("NewClientSession: %v", err)
	}
	if got := s.LocalAddr().String(); got != "user@localhost/fake" {
		t.Errorf("address = %s", got)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(nil) }()
	if err := ping.Send(ctx, s, jid.MustParse("localhost")); err != nil {
		t.Errorf("ping: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	tr := srv.Transcripts()[0]
	if strings.Contains(tr, "pencil") {
		t.Errorf("transcript shows the password")
	}
	if !strings.Contains(tr, "SCRAM-SHA-256") {
		t.Errorf("transcript = %s", tr)
	}
	if errs := srv.Errors(); len(errs) != 0 {
		t.Errorf("handler errors: %v", errs)
	}
}

// TestCutAndErrors checks Cut, Transcripts, Errors and Accepted.
func TestCutAndErrors(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if _, err := st.ReadHeader(); err != nil {
			return err
		}
		if st.N == 0 {
			return st.Cut()
		}
		return errors.New("scripted failure")
	}})
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection %d: server sent data", i)
		}
		c.Close()
	}
	srv.Close()
	if n := srv.Accepted(); n != 2 {
		t.Errorf("Accepted = %d", n)
	}
	if tr := srv.Transcripts(); len(tr) != 2 || !strings.Contains(tr[1], "to='localhost'") {
		t.Errorf("transcripts = %q", tr)
	}
	if errs := srv.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "scripted failure") {
		t.Errorf("errors = %v", errs)
	}
}

// TestDirectTLSAndWrongName: a direct TLS listener with a certificate for
// another name fails verification for the configured domain.
func TestDirectTLSAndWrongName(t *testing.T) {
	srv := fakeserver.Start(t, fakeserver.Config{DirectTLS: true, CertNames: []string{"other.example"}, Handler: func(st *fakeserver.Stream) error {
		return st.Negotiate("")
	}})
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tc := tls.Client(conn, srv.TLSConfig())
	if err := tc.Handshake(); err == nil {
		t.Fatal("handshake succeeded for the wrong name")
	}
	cfg := srv.TLSConfig()
	cfg.ServerName = "other.example"
	conn2, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if err := tls.Client(conn2, cfg).Handshake(); err != nil {
		t.Fatalf("handshake for the certificate's name: %v", err)
	}
}
