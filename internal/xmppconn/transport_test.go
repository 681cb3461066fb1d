package xmppconn

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// pipeTransport returns a Transport over one end of a pipe and the other
// end, on which the test plays the server.
func pipeTransport(t *testing.T, maxBytes int64) (*Transport, net.Conn) {
	t.Helper()
	c, s := net.Pipe()
	t.Cleanup(func() { c.Close(); s.Close() })
	tr := &Transport{Domain: "example.org", From: "juliet@example.org", MaxBytes: maxBytes}
	tr.Reset(c)
	return tr, s
}

func serve(t *testing.T, s net.Conn, data string) {
	t.Helper()
	go func() {
		_, _ = s.Write([]byte(data))
	}()
}

func TestHeaderFromOnlyWhenSecure(t *testing.T) {
	tr, _ := pipeTransport(t, 0)
	h := tr.Header()
	if strings.Contains(h, "from=") {
		t.Errorf("header before TLS = %s: the JID must not be sent in the clear", h)
	}
	if !strings.Contains(h, "to='example.org'") {
		t.Errorf("header = %s, want to='example.org'", h)
	}
}

func TestProceedRefusesInjectedData(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		want        error
	}{
		{"proceed", "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", nil},
		{"injection", "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", ErrProtocol},
		{"failure", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", ErrTLSRefused},
		{"other", "<features xmlns='http://etherx.jabber.org/streams'/>", ErrProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, s := pipeTransport(t, 0)
			serve(t, s, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"+tc.reply)
			if _, err := tr.Reader().Header(); err != nil {
				t.Fatal(err)
			}
			// net.Pipe delivers the server's one write in one read: the
			// injected element is buffered with <proceed/>.
			err := tr.Proceed()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Proceed = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMaxBytes(t *testing.T) {
	tr, s := pipeTransport(t, 200)
	serve(t, s, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:features/>"+strings.Repeat("<iq type='result' id='x'/>", 20))
	if _, _, err := tr.ReadOpen(); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		_, err = tr.Next()
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("after 200 bytes: %v, want ErrTooLarge", err)
	}
}

func TestGuardCancels(t *testing.T) {
	tr, _ := pipeTransport(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := tr.Guard(ctx)
	defer done()
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	_, err := tr.Reader().Header()
	if err == nil || !errors.Is(CtxErr(ctx, err), context.Canceled) {
		t.Errorf("read after cancel: %v (CtxErr %v), want context.Canceled", err, CtxErr(ctx, err))
	}
}

func TestReply(t *testing.T) {
	iq := func(typ, from string) *Element { return New(NSClient, "iq", "type", typ, "id", "a", "from", from) }
	for _, tc := range []struct {
		n    *Element
		to   string
		want bool
	}{
		{iq("result", ""), "", true},
		{iq("result", "example.org"), "", true},
		{iq("result", "EXAMPLE.org"), "", true},
		{iq("error", "juliet@example.org"), "", true},
		{iq("result", "juliet@example.org/phone"), "", false},
		{iq("result", "evil.example"), "", false},
		{iq("result", "mallory@evil.example"), "", false},
		{iq("get", ""), "", false},
		{iq("set", "example.org"), "", false},
		{iq("result", "upload.example.org"), "upload.example.org", true},
		{iq("result", ""), "upload.example.org", true},
		{iq("result", "example.org"), "upload.example.org", false},
		{iq("result", ""), "example.org", true},
		{New(NSClient, "message", "id", "a"), "", false},
	} {
		if _, ok := Reply(tc.n, "example.org", tc.to); ok != tc.want {
			t.Errorf("Reply(%s, to %q) = %v, want %v", tc.n.Marshal(), tc.to, ok, tc.want)
		}
	}
}
