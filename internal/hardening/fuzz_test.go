package hardening_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmpp-onboard/onboard/internal/fakeserver"
	"github.com/xmpp-onboard/onboard/register"
)

// End-to-end fuzz targets: the fuzzer plays a hostile server against the
// public API, over real TLS on loopback. They complement the parser
// targets of the packages (register FuzzReply and friends, discovery
// FuzzXMPPReply, …), which cannot see the SASL exchange or what the
// client sends before TLS. Seeds are checked in under
// testdata/fuzz/<Target>/.

// fuzzWait is how long an end-to-end fuzz input may keep the client
// waiting: inputs that leave it waiting for more cost this much each, and
// the fuzzer minimises every new input by running it many times.
const fuzzWait = 150 * time.Millisecond

// endOutput ends what the server sends (a TCP half-close, or TLS
// close_notify) but keeps reading, so that an input the client would wait
// on ends at once with EOF, and the transcript still gets whatever the
// client sends next.
func endOutput(st *fakeserver.Stream) {
	if cw, ok := st.Conn().(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// fuzzInput hands the current input to the fake server's handler (one
// worker runs one input at a time).
type fuzzInput struct {
	mu   sync.Mutex
	a, b []byte
}

func (in *fuzzInput) set(a, b []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.a, in.b = a, b
}

func (in *fuzzInput) get() ([]byte, []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.a, in.b
}

// FuzzPreTLSGreeting lets the fuzzer write everything the server sends
// before TLS (stream header, features, the answer to <starttls/>), and
// checks that Dialer.Dial returns in time with an error, and that the
// client never sent anything but its stream header and <starttls/>: no
// stanza, no authentication, whatever the server says.
func FuzzPreTLSGreeting(f *testing.F) {
	f.Add([]byte("<?xml version='1.0'?>" + streamHeader + "<stream:features><register xmlns='http://jabber.org/features/iq-register'/><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"))
	f.Add([]byte(streamHeader + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><stream:features/>"))
	f.Add([]byte(streamHeader + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features><failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"))
	f.Add([]byte(laughs + streamHeader + "<stream:features>&lol9;</stream:features>"))
	f.Add([]byte(streamHeader + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	in := &fuzzInput{}
	srv := fakeserver.Start(f, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if _, err := st.ReadHeader(); err != nil {
			return err
		}
		greeting, _ := in.get()
		if err := st.Send(string(greeting)); err != nil {
			return nil
		}
		endOutput(st)
		st.Stall(2 * time.Second)
		return nil
	}})
	f.Fuzz(func(t *testing.T, greeting []byte) {
		in.set(greeting, nil)
		n := srv.Accepted()
		ctx, cancel := context.WithTimeout(context.Background(), fuzzWait)
		defer cancel()
		d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}, AllowPLAIN: true}
		done := make(chan error, 1)
		go func() {
			conn, err := d.Dial(ctx, fakeDomain)
			if err == nil {
				conn.Close()
			}
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Dial hung")
		}
		if err == nil {
			t.Fatal("Dial succeeded without TLS")
		}
		var e *register.Error
		var pe *register.ProtocolError
		var se stream.Error
		if !errors.As(err, &e) && !errors.As(err, &pe) && !errors.As(err, &se) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, register.ErrTooLarge) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		// What this connection sent. The server may register the
		// connection a moment after the client gave up.
		for end := time.Now().Add(time.Second); srv.Accepted() <= n && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
		trs := srv.Transcripts()
		if len(trs) <= n {
			return // nothing reached the server
		}
		sent := trs[n]
		rest := sent
		if i := strings.Index(rest, ">"); strings.HasPrefix(rest, "<?xml") && i >= 0 {
			rest = rest[i+1:]
		}
		if i := strings.Index(rest, ">"); strings.HasPrefix(rest, "<stream:stream") && i >= 0 {
			rest = rest[i+1:]
		}
		rest = strings.TrimPrefix(rest, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
		rest = strings.TrimPrefix(rest, `<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>`)
		rest = strings.TrimPrefix(rest, "</stream:stream>")
		// After <proceed/> the client starts TLS: a ClientHello (binary,
		// beginning with the handshake record type 0x16) may follow.
		if rest != "" && rest[0] != 0x16 {
			t.Fatalf("sent more than the stream header and <starttls/> before TLS:\n%q", sent)
		}
	})
}

// FuzzLoginChallenge lets the fuzzer write the SCRAM server-first-message
// ("NONCE" is replaced by the client's nonce) and the payload of the
// server's <success/>, and checks that Conn.Login returns in time, fails
// with a typed error (no input can forge the server's signature), and
// never shows the password. An empty first message means no challenge at
// all: the server answers <auth/> with the <success/> at once, which is
// the path of issue 11's hole (its data was taken for a server-first).
//
// mellium.im/sasl v0.3.2 loops forever on a server-first-message whose last
// attribute is malformed and runs PBKDF2 with any iteration count (found by
// the hostile tables and by FuzzServerFirst); internal/saslclient vets
// every server payload before the sasl package sees it, and this target
// checks that no input gets past that.
func FuzzLoginChallenge(f *testing.F) {
	f.Add([]byte("r=NONCEsrv,s=c2FsdHNhbHRzYWx0,i=4096"), []byte("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	f.Add([]byte("r=NONCEsrv,s=c2FsdA==,i=1"), []byte(""))
	f.Add([]byte("r=other,s=c2FsdA==,i=4096"), []byte("v=x"))
	f.Add([]byte("m=ext,r=NONCEsrv,s=c2FsdA==,i=4096"), []byte("e=invalid-proof"))
	f.Add([]byte("r=NONCEsrv,s=!!,i=4096"), []byte("v="))
	f.Add([]byte("r=NONCEsrv,s=c2FsdA==,i=-1"), []byte("v="))
	f.Add([]byte("r=NONCEsrv,s=c2FsdA==,i=4096,x="), []byte("v="))
	f.Add([]byte(""), []byte("r=NONCEsrv,s=c2FsdA==,i=4096"))
	f.Add([]byte(""), []byte("r=NONCEsrv,s=c2FsdA==,i=2147483647"))
	f.Add([]byte(""), []byte("r=NONCEsrv,s=c2FsdA==,i=4096,x="))
	in := &fuzzInput{}
	srv := fakeserver.Start(f, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		auth, err := st.Next()
		if err != nil {
			return nil
		}
		first, final := in.get()
		cf, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(auth.Text))
		nonce := ""
		if i := bytes.Index(cf, []byte("r=")); i >= 0 {
			nonce = string(cf[i+2:])
		}
		fill := func(b []byte) string {
			return base64.StdEncoding.EncodeToString(bytes.ReplaceAll(b, []byte("NONCE"), []byte(nonce)))
		}
		if len(first) > 0 {
			if err := st.Sendf("<challenge xmlns='%s'>%s</challenge>", fakeserver.NSSASL, fill(first)); err != nil {
				return nil
			}
			if _, err := st.Next(); err != nil {
				return nil
			}
		}
		st.Sendf("<success xmlns='%s'>%s</success>", fakeserver.NSSASL, fill(final))
		st.Stall(2 * time.Second)
		return nil
	}})
	f.Fuzz(func(t *testing.T, first, final []byte) {
		in.set(first, final)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}
		done := make(chan error, 1)
		go func() {
			conn, err := d.Dial(ctx, fakeDomain)
			if err != nil {
				done <- err
				return
			}
			defer conn.Close()
			s, err := conn.Login(ctx, user, secret)
			if err == nil {
				s.Close()
				s.Conn().Close()
			}
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Login hung")
		}
		if err == nil {
			t.Fatal("login succeeded against a server that does not know the password")
		}
		if !errors.Is(err, register.ErrLoginFailed) && !errors.Is(err, register.ErrProtocol) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if !bytes.Contains(first, []byte(secret)) && !bytes.Contains(final, []byte(secret)) {
			for _, s := range errorOutputs(err) {
				if p := leakAt("error", s, secret); p != "" {
					t.Fatal(p)
				}
			}
		}
	})
}

// FuzzFormReply lets the fuzzer write what the server sends after a form
// request on a secured stream ("ID" is replaced by the request's id): the
// reply, stanzas around it, stream errors, the end of the stream. Conn.Form
// must return in time, with a typed error or with a form that keeps the
// documented limits (no more than MaxFields fields, a CAPTCHA image of at
// most MaxBoBSize bytes, only https links).
func FuzzFormReply(f *testing.F) {
	f.Add([]byte("<iq type='result' id='ID'>" + legacyForm + "</iq>"))
	f.Add([]byte("<iq type='result' id='ID'>" + captchaForm("c@bob.xmpp.org", bob("c@bob.xmpp.org", []byte("png"))) + "</iq>"))
	f.Add([]byte("<iq type='result' id='ID'><query xmlns='jabber:iq:register'><instructions>See https://example.org/join</instructions><x xmlns='jabber:x:oob'><url>javascript:alert(1)</url></x></query></iq>"))
	f.Add([]byte("<iq type='error' id='ID'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Registration on this server is through invitation only</text></error></iq>"))
	f.Add([]byte("<message><body>hi</body></message><iq type='result' id='x'/><iq type='result' id='ID'>" + legacyForm + "</iq>"))
	f.Add([]byte("<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"))
	f.Add([]byte(laughs + "<iq type='result' id='ID'/>"))
	in := &fuzzInput{}
	srv := fakeserver.Start(f, fakeserver.Config{Handler: func(st *fakeserver.Stream) error {
		if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
			return err
		}
		get, err := st.Next()
		if err != nil {
			return nil
		}
		reply, _ := in.get()
		if err := st.Send(strings.ReplaceAll(string(reply), "ID", get.Attr("id"))); err != nil {
			return nil
		}
		endOutput(st)
		st.Stall(2 * time.Second)
		return nil
	}})
	f.Fuzz(func(t *testing.T, reply []byte) {
		in.set(reply, nil)
		ctx, cancel := context.WithTimeout(context.Background(), fuzzWait)
		defer cancel()
		d := register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig(), NetDialer: &loopbackDialer{}}
		type result struct {
			form *register.Form
			err  error
		}
		done := make(chan result, 1)
		go func() {
			conn, err := d.Dial(ctx, fakeDomain)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer conn.Close()
			f, err := conn.Form(ctx)
			done <- result{f, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Form hung")
		}
		if r.err != nil {
			var e *register.Error
			var pe *register.ProtocolError
			var se stream.Error
			if !errors.As(r.err, &e) && !errors.As(r.err, &pe) && !errors.As(r.err, &se) &&
				!errors.Is(r.err, context.DeadlineExceeded) && !errors.Is(r.err, register.ErrTooLarge) && !errors.Is(r.err, io.ErrUnexpectedEOF) {
				t.Fatalf("untyped error %T: %v", r.err, r.err)
			}
			if !strings.HasPrefix(r.err.Error(), "register: ") {
				t.Fatalf("error without the package prefix: %v", r.err)
			}
			return
		}
		form := r.form
		if len(form.Fields)+len(form.LegacyFields) > 2*register.MaxFields {
			t.Fatalf("%d fields", len(form.Fields)+len(form.LegacyFields))
		}
		checkLink := func(u string) {
			if u == "" {
				return
			}
			p, err := url.Parse(u)
			if err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil {
				t.Fatalf("unsafe link offered: %q", u)
			}
		}
		checkLink(form.RedirectURL)
		if c := form.Captcha; c != nil {
			if len(c.Image) > register.MaxBoBSize {
				t.Fatalf("CAPTCHA image of %d bytes", len(c.Image))
			}
			for _, u := range c.URLs {
				checkLink(u)
			}
		}
		_ = form.String()
	})
}
