package register

import (
	"bytes"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Benchmarks of the hot paths that parse what servers send (run with
// go test -bench . -benchmem ./register/; the figures are in
// BENCHMARKS.md). Inputs are the recorded replies in testdata.

func benchData(b *testing.B, name string) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// prosodyFeatures are Prosody 0.12's features of the secured stream (with
// XEP-0440 added).
const prosodyFeatures = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>` +
	`<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>` +
	`<register xmlns='http://jabber.org/features/iq-register'/><register xmlns='urn:xmpp:ibr-token:0'/><register xmlns='urn:xmpp:invite'/>` +
	`<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/></sasl-channel-binding></stream:features>`

// BenchmarkFeatures parses a features list and picks the SASL mechanism.
func BenchmarkFeatures(b *testing.B) {
	data := []byte(prosodyFeatures)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n, err := parseNode(data, DefaultMaxStanza)
		if err != nil {
			b.Fatal(err)
		}
		f := parseFeatures(n)
		if _, ok := chooseMechanism(f, tlsState13(), false); !ok {
			b.Fatal("no mechanism")
		}
	}
}

// BenchmarkForm parses registration forms: Prosody's data form with extra
// fields, ejabberd's legacy form, and ejabberd's CAPTCHA form with its
// inline PNG (Bits of Binary, base64-decoded).
func BenchmarkForm(b *testing.B) {
	for _, name := range []string{"prosody-extra-fields", "ejabberd-legacy", "ejabberd-captcha"} {
		b.Run(name, func(b *testing.B) {
			data := benchData(b, "replies/"+name+".xml")
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				n, err := parseNode(data, DefaultMaxStanza)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := parseQuery(n.Child(NS, "query")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStanzaError parses and classifies an error reply (ejabberd's,
// which echoes the submitted form).
func BenchmarkStanzaError(b *testing.B) {
	data := benchData(b, "errors/ejabberd-conflict-echo.xml")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n, err := parseNode(data, DefaultMaxStanza)
		if err != nil {
			b.Fatal(err)
		}
		if e := stanzaErr(opSubmit, parseStanzaError(n), nil, "secret-password"); e.Kind != KindUsernameTaken {
			b.Fatalf("kind %v", e.Kind)
		}
	}
}

// BenchmarkReadElement reads stanzas from a stream the way a Conn does
// (byte budget, strict decoder, limits), a form reply at a time.
func BenchmarkReadElement(b *testing.B) {
	one := benchData(b, "replies/prosody-extra-fields.xml")
	const perStream = 64
	stream := bytes.Repeat(one, perStream)
	b.ReportAllocs()
	b.SetBytes(int64(len(one)))
	c := &Conn{maxStanza: DefaultMaxStanza}
	var r bytes.Reader
	i := perStream
	for b.Loop() {
		if i == perStream {
			r.Reset(stream)
			c.t = xmppconn.Transport{MaxElement: c.maxStanza}
			c.t.Reset(readConn{r: &r})
			i = 0
		}
		if _, err := c.readElement(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSubmission serialises a filled-in form.
func BenchmarkSubmission(b *testing.B) {
	n, err := parseNode(benchData(b, "replies/prosody-extra-fields.xml"), DefaultMaxStanza)
	if err != nil {
		b.Fatal(err)
	}
	f, err := parseQuery(n.Child(NS, "query"))
	if err != nil {
		b.Fatal(err)
	}
	f.SetUsername("juliet")
	f.SetPassword("s3cret-Pa55word!")
	b.ReportAllocs()
	for b.Loop() {
		iq("set", "abcdef0123456789", f.submission()).Marshal()
	}
}

// BenchmarkRedact produces the Debug copy of a submission.
func BenchmarkRedact(b *testing.B) {
	n, err := parseNode(benchData(b, "replies/prosody-extra-fields.xml"), DefaultMaxStanza)
	if err != nil {
		b.Fatal(err)
	}
	f, err := parseQuery(n.Child(NS, "query"))
	if err != nil {
		b.Fatal(err)
	}
	f.SetUsername("juliet")
	f.SetPassword("s3cret-Pa55word!")
	sub := iq("set", "abcdef0123456789", f.submission())
	secrets := []string{"s3cret-Pa55word!"}
	b.ReportAllocs()
	for b.Loop() {
		redactedWith(sub, secrets)
	}
}

// readConn is a net.Conn that only reads, from r.
type readConn struct {
	net.Conn
	r io.Reader
}

func (c readConn) Read(p []byte) (int, error) { return c.r.Read(p) }
