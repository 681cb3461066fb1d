package register_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// sasl2Features offers SASL2 with Bind2 and SCRAM-SHA-256 (as the client
// sees it: an attacker may have removed -PLUS), and RFC 6120 SASL too.
const sasl2Features = `<authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism><inline><bind xmlns='urn:xmpp:bind:0'/></inline></authentication>` +
	`<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms>`

// sasl2Server answers the client's <authenticate/> with reply(nonce).
func sasl2Server(t *testing.T, reply func(st *fakeserver.Stream, nonce string) error) *fakeserver.Server {
	return fakeserver.Start(t, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(sasl2Features); err != nil {
			return err
		}
		auth, err := st.Next()
		if err != nil {
			return err
		}
		if auth.Name.Local != "authenticate" || auth.Name.Space != "urn:xmpp:sasl:2" {
			return errors.New("no SASL2: " + auth.Raw)
		}
		ir := auth.Child("initial-response")
		first, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(ir.Text))
		nonce := string(first[strings.Index(string(first), "r=")+2:])
		if err := reply(st, nonce); err != nil {
			return err
		}
		// Whatever the client sends next (nothing, an abort, a proof).
		next, err := st.Next()
		if err == nil && next.Name.Local == "response" {
			return errors.New("the client sent its proof after a downgrade")
		}
		return nil
	}})
}

// TestSASL2DowngradeRefused: a server-first-message whose XEP-0474 hash
// covers mechanisms and binding types the client was not shown (someone
// removed SCRAM-SHA-256-PLUS and the binding list) ends the login with
// ErrDowngrade, before any proof is sent.
func TestSASL2DowngradeRefused(t *testing.T) {
	srv := sasl2Server(t, func(st *fakeserver.Stream, nonce string) error {
		h := sha256.Sum256([]byte("SCRAM-SHA-256\x1eSCRAM-SHA-256-PLUS\x1ftls-exporter"))
		sf := "r=" + nonce + "srv,s=c2FsdHNhbHQ=,i=4096,h=" + base64.StdEncoding.EncodeToString(h[:])
		return st.Sendf("<challenge xmlns='urn:xmpp:sasl:2'>%s</challenge>", base64.StdEncoding.EncodeToString([]byte(sf)))
	})
	d := fakeDialer(srv, nil)
	_, err := d.Login(context.Background(), "localhost", "juliet", testPass)
	if !errors.Is(err, register.ErrDowngrade) || !errors.Is(err, register.ErrLoginFailed) {
		t.Fatalf("err = %v, want ErrDowngrade", err)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Fatalf("error quotes the password: %v", err)
	}
	for _, e := range srv.Errors() {
		t.Error(e)
	}
}

// TestSASL2HostileSuccess: a SASL2 success before the SCRAM exchange, or
// with a forged server signature, is no login.
func TestSASL2HostileSuccess(t *testing.T) {
	for name, success := range map[string]string{
		"no proof":     `<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:bind:0'/><authorization-identifier>juliet@localhost/r</authorization-identifier></success>`,
		"forged proof": `<success xmlns='urn:xmpp:sasl:2'><additional-data>dj1BQUFB</additional-data><bound xmlns='urn:xmpp:bind:0'/><authorization-identifier>juliet@localhost/r</authorization-identifier></success>`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := sasl2Server(t, func(st *fakeserver.Stream, nonce string) error {
				return st.Send(success + `<stream:features/>`)
			})
			d := fakeDialer(srv, nil)
			acct, err := d.Login(context.Background(), "localhost", "juliet", testPass)
			if err == nil || acct != nil {
				t.Fatalf("accepted: %v", acct)
			}
			t.Log(err)
		})
	}
}
