package xmppconn

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"mellium.im/sasl"
	"mellium.im/xmpp/stanza"

	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/saslclient"
)

func TestParseLimits(t *testing.T) {
	for name, in := range map[string]string{
		"deep":    strings.Repeat("<a>", MaxDepth+2) + strings.Repeat("</a>", MaxDepth+2),
		"wide":    "<a>" + strings.Repeat("<b/>", MaxElements) + "</a>",
		"large":   "<a>" + strings.Repeat("x", 2000) + "</a>",
		"comment": "<a><!-- hi --></a>",
		"pi":      "<a><?x y?></a>",
		"name":    "<a xmlns:p='u'><p:0/></a>",
	} {
		_, err := Parse([]byte(in), 1024)
		want := ErrProtocol
		if name == "deep" || name == "wide" || name == "large" {
			want = ErrTooLarge
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
	}
}

func TestRedacted(t *testing.T) {
	e, err := Parse([]byte(`<iq type='set' id='1'><query xmlns='jabber:iq:register'><username>juliet</username><password>s3cret&amp;pass</password></query>`+
		`<preauth xmlns='urn:xmpp:pars:0' token='TOKEN123'/><x xmlns='jabber:x:data'><field var='pw' type='text-private'><value>hidden-value</value></field></x>`+
		`<error><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>you typed s3cret&amp;pass</text></error></iq>`), 0)
	if err != nil {
		t.Fatal(err)
	}
	out := string(e.Redacted(redact.New("s3cret&pass")))
	for _, leak := range []string{"s3cret", "TOKEN123", "hidden-value"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q shows in %s", leak, out)
		}
	}
	if !strings.Contains(out, "juliet") {
		t.Errorf("the username is gone: %s", out)
	}
}

func TestErrorConditions(t *testing.T) {
	st, _ := Parse([]byte(`<iq type='error'><error type='bogus'><x-password-is-hunter2 xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>hunter2</text></error></iq>`), 0)
	se := StanzaError(st, redact.New("hunter2"))
	if se.Condition != stanza.UndefinedCondition || se.Type != "" || strings.Contains(se.Text[""], "hunter2") {
		t.Errorf("stanza error = %+v", se)
	}
	sx, _ := Parse([]byte(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><hunter2 xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`), 0)
	if e := StreamError(sx, nil); e.Err != "undefined-condition" {
		t.Errorf("stream error = %+v", e)
	}
	f, _ := Parse([]byte(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><hunter2/><text>hunter2 is wrong</text></failure>`), 0)
	if e := ParseSASLFailure(f, "PLAIN", redact.New("hunter2")); e.Condition != SASLUndefined || strings.Contains(e.Error(), "hunter2") {
		t.Errorf("SASL failure = %v", e)
	}
	f, _ = Parse([]byte(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`), 0)
	if e := ParseSASLFailure(f, "PLAIN", nil); e.Condition != SASLNotAuthorized {
		t.Errorf("SASL failure = %v", e)
	}
}

func TestParseFeatures(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>`)
	for i := 0; i < 200; i++ {
		b.WriteString("<mechanism>SCRAM-SHA-1</mechanism>")
	}
	b.WriteString(`</mechanisms><authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism><inline><bind xmlns='urn:xmpp:bind:0'/></inline></authentication>`)
	b.WriteString(`<register xmlns='http://jabber.org/features/iq-register'/></stream:features>`)
	n, err := Parse([]byte(b.String()), 0)
	if err != nil {
		t.Fatal(err)
	}
	f := ParseFeatures(n)
	if len(f.Mechanisms) != maxListed || !f.Register || !f.Bind2 || len(f.SASL2) != 1 {
		t.Errorf("features = %d mechanisms, register %v, bind2 %v, sasl2 %v", len(f.Mechanisms), f.Register, f.Bind2, f.SASL2)
	}
}

// scripted is a Stream that reads the given elements.
type scripted struct{ in []string }

func (s *scripted) Next(context.Context) (*Element, error) {
	if len(s.in) == 0 {
		return nil, errors.New("end")
	}
	n, err := Parse([]byte(s.in[0]), 0)
	s.in = s.in[1:]
	return n, err
}

func (s *scripted) Send(context.Context, *Element) error { return nil }

func TestFinishSASL(t *testing.T) {
	neg := saslclient.New(sasl.Plain, "juliet", "pencil", []string{"PLAIN"}, tls.ConnectionState{})
	if _, err := AuthElement(context.Background(), neg); err != nil {
		t.Fatal(err)
	}
	err := FinishSASL(context.Background(), &scripted{in: []string{`<pencil xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`}}, neg, redact.New("pencil"))
	var pe *SASLProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, ErrProtocol) || strings.Contains(err.Error(), "pencil") {
		t.Errorf("unexpected element: err = %v", err)
	}
	neg = saslclient.New(sasl.Plain, "juliet", "pencil", []string{"PLAIN"}, tls.ConnectionState{})
	AuthElement(context.Background(), neg)
	err = FinishSASL(context.Background(), &scripted{in: []string{`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`}}, neg, nil)
	if err != nil {
		t.Errorf("PLAIN success: %v", err)
	}
}
