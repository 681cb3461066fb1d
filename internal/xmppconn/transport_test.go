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

func TestParseDataForm(t *testing.T) {
	x, err := Parse([]byte(`<x xmlns='jabber:x:data' type='form'><title> T </title><instructions> a </instructions><instructions/>`+
		`<field var='FORM_TYPE' type='hidden'><value> urn:x </value></field>`+
		`<field var='l' type='list-single' label='L'><required/><desc> d </desc><option label='o'><value>1</value></option><value>1</value><value>2</value><value>3</value></field>`+
		`<field var='ocr'><media xmlns='urn:xmpp:media-element' width='290' height='x'><uri type='image/png'> cid:a </uri><uri>b</uri><uri>c</uri></media></field>`+
		`<field var='f3'/></x>`), 0)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDataForm(x, DataLimits{Fields: 4, Values: 2})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("3 values with a limit of 2: %v, want ErrTooLarge", err)
	}
	d, err = ParseDataForm(x, DataLimits{Fields: 3, Values: 2, Truncate: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != "form" || d.Title != "T" || d.FormType != "urn:x" || len(d.Instructions) != 1 || len(d.Fields) != 3 {
		t.Fatalf("form = %+v", d)
	}
	l := d.Fields[1]
	if !l.Required || l.Desc != "d" || len(l.Values) != 2 || len(l.Options) != 1 || l.Options[0] != (DataOption{"o", "1"}) {
		t.Errorf("list field = %+v", l)
	}
	m := d.Fields[2]
	if !m.HasMedia || len(m.Media) != 2 || m.Media[0] != (DataMedia{Type: "image/png", URI: "cid:a", Width: 290}) {
		t.Errorf("media field = %+v", m)
	}
	if _, err := ParseDataForm(x, DataLimits{Fields: 3, Values: 8}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("4 fields with a limit of 3: %v, want ErrTooLarge", err)
	}
}
