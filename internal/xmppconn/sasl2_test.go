package xmppconn

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/saslclient"
)

const testToken = "secret-token:fast-abcdef"

// htNeg starts a FAST negotiation with testToken and returns it with the
// server's valid proof.
func htNeg(t testing.TB) (*saslclient.Negotiation, string) {
	neg, err := saslclient.NewClient(saslclient.Config{Mechanism: "HT-SHA-256-NONE", Username: "juliet", Password: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AuthenticateElement(context.Background(), neg, Authenticate{UserAgentID: "x", Bind: &Bind2{Tag: "t", EnableSM: true}, FAST: true}); err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, []byte(testToken))
	m.Write([]byte("Responder"))
	return neg, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

const features = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>`

func TestFinishSASL2(t *testing.T) {
	neg, proof := htNeg(t)
	ok := `<success xmlns='urn:xmpp:sasl:2'><additional-data>` + proof + `</additional-data>` +
		`<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/></bound>` +
		`<token xmlns='urn:xmpp:fast:0' token='secret-token:new' expiry='2030-01-02T03:04:05Z'/>` +
		`<authorization-identifier>juliet@example.org/res</authorization-identifier></success>`
	s, err := FinishSASL2(context.Background(), &scripted{in: []string{ok, features}}, neg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Bound || !s.SM || !s.SMResume || s.SMID != "sm1" || s.AuthzID != "juliet@example.org/res" ||
		s.Token == nil || s.Token.Token != "secret-token:new" || s.Token.Expiry.Year() != 2030 {
		t.Errorf("success = %+v", s)
	}
}

// TestSASL2Hostile: replies a server must not get away with.
func TestSASL2Hostile(t *testing.T) {
	_, proof := htNeg(t)
	ad := `<additional-data>` + proof + `</additional-data>`
	id := `<authorization-identifier>juliet@example.org/r</authorization-identifier>`
	for name, in := range map[string][]string{
		"no proof":            {`<success xmlns='urn:xmpp:sasl:2'>` + id + `</success>`, features},
		"wrong proof":         {`<success xmlns='urn:xmpp:sasl:2'><additional-data>AAAA</additional-data>` + id + `</success>`, features},
		"no authzid":          {`<success xmlns='urn:xmpp:sasl:2'>` + ad + `</success>`, features},
		"empty authzid":       {`<success xmlns='urn:xmpp:sasl:2'>` + ad + `<authorization-identifier> </authorization-identifier></success>`, features},
		"bad token":           {`<success xmlns='urn:xmpp:sasl:2'>` + ad + id + `<token xmlns='urn:xmpp:fast:0' token=''/></success>`, features},
		"huge token":          {`<success xmlns='urn:xmpp:sasl:2'>` + ad + id + `<token xmlns='urn:xmpp:fast:0' token='` + strings.Repeat("a", 2000) + `'/></success>`, features},
		"no features":         {`<success xmlns='urn:xmpp:sasl:2'>` + ad + id + `</success>`, `<iq xmlns='jabber:client' type='get' id='1'/>`},
		"legacy success":      {`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` + proof + `</success>`},
		"bad base64":          {`<success xmlns='urn:xmpp:sasl:2'><additional-data>!!</additional-data>` + id + `</success>`, features},
		"challenge after all": {`<challenge xmlns='urn:xmpp:sasl:2'>AAAA</challenge>`},
	} {
		neg, _ := htNeg(t)
		done := make(chan error, 1)
		go func() {
			_, err := FinishSASL2(context.Background(), &scripted{in: in}, neg, redact.New(testToken))
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: accepted", name)
			} else if strings.Contains(err.Error(), testToken) {
				t.Errorf("%s: error quotes the token: %v", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: hangs", name)
		}
	}
	// A failure keeps RFC 6120's condition and SASL2's text.
	neg, _ := htNeg(t)
	_, err := FinishSASL2(context.Background(), &scripted{in: []string{`<failure xmlns='urn:xmpp:sasl:2'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>bad ` + testToken + `</text></failure>`}}, neg, redact.New(testToken))
	var se *SASLError
	if !errors.As(err, &se) || se.Condition != SASLNotAuthorized || !strings.HasPrefix(se.Text, "bad") || strings.Contains(se.Text, testToken) {
		t.Errorf("failure: %v", err)
	}
	neg, _ = htNeg(t)
	_, err = FinishSASL2(context.Background(), &scripted{in: []string{`<continue xmlns='urn:xmpp:sasl:2'><tasks><task>TOTP</task></tasks></continue>`, `<failure xmlns='urn:xmpp:sasl:2'><aborted xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>`}}, neg, nil)
	if !errors.Is(err, ErrSASL2Task) {
		t.Errorf("continue: %v", err)
	}
}

// TestSASL2Downgrade: a SCRAM server-first-message in a SASL2 challenge
// whose XEP-0474 hash does not match the SASL2 mechanisms seen ends the
// exchange with ErrDowngrade.
func TestSASL2Downgrade(t *testing.T) {
	seen := []string{"SCRAM-SHA-1", "PLAIN"}
	neg, err := saslclient.NewClient(saslclient.Config{Mechanism: "SCRAM-SHA-1", Username: "juliet", Password: "pencil", Offered: seen})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := AuthenticateElement(context.Background(), neg, Authenticate{})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := UnB64(auth.Child(NSSASL2, "initial-response").Text)
	nonce := string(first[strings.Index(string(first), "r=")+2:])
	// The server hashed a list with -PLUS and a binding type.
	h := sha1Sum("PLAIN\x1eSCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1ftls-exporter")
	sf := "r=" + nonce + "srv,s=c2FsdA==,i=4096,h=" + h
	_, err = FinishSASL2(context.Background(), &scripted{in: []string{`<challenge xmlns='urn:xmpp:sasl:2'>` + B64([]byte(sf)) + `</challenge>`}}, neg, nil)
	if !errors.Is(err, saslclient.ErrDowngrade) || !errors.Is(err, ErrProtocol) {
		t.Fatalf("err = %v, want ErrDowngrade", err)
	}
}

// FuzzSASL2Success feeds any <success/> (and what follows it) to
// FinishSASL2 with a FAST negotiation: it returns promptly, accepts only
// the real proof, and keeps every value within its limits.
func FuzzSASL2Success(f *testing.F) {
	_, proof := htNeg(f)
	f.Add(`<success xmlns='urn:xmpp:sasl:2'><additional-data>`+proof+`</additional-data><bound xmlns='urn:xmpp:bind:0'/><authorization-identifier>a@b/c</authorization-identifier></success>`, features)
	f.Add(`<success xmlns='urn:xmpp:sasl:2'><additional-data>`+proof+`</additional-data><token xmlns='urn:xmpp:fast:0' token='x' expiry='2030-01-01T00:00:00Z'/><authorization-identifier>a@b</authorization-identifier></success>`, features)
	f.Add(`<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='`+strings.Repeat("i", 300)+`'/></bound></success>`, `<x/>`)
	f.Fuzz(func(t *testing.T, success, next string) {
		neg, want := htNeg(t)
		s, err := FinishSASL2(context.Background(), &scripted{in: []string{success, next}}, neg, nil)
		if err != nil {
			return
		}
		if !strings.Contains(success, want) {
			t.Fatalf("success without the proof accepted: %q", success)
		}
		if s.AuthzID == "" || len(s.AuthzID) > maxJIDText || len(s.SMID) > maxSMID+len("…") ||
			s.Token != nil && (s.Token.Token == "" || len(s.Token.Token) > maxToken) {
			t.Fatalf("success out of bounds: %+v", s)
		}
	})
}

func sha1Sum(s string) string {
	h := sha1.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(h[:])
}
