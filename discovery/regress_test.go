package discovery

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/providers"
)

// saslFake is a server with STARTTLS and cert that offers mechs and
// answers the client's <auth/> with what auth returns.
func saslFake(t *testing.T, cert tls.Certificate, mechs string, auth func(a *node) string) *fakeServer {
	return startFake(t, func(c *fakeConn) {
		if !c.openStream("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>") || !c.startTLS(cert) {
			return
		}
		if !c.openStream("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + mechs + "</mechanisms>") {
			return
		}
		for {
			n := c.element()
			if n == nil {
				return
			}
			switch n.Name.Local {
			case "auth":
				if !c.send(auth(n)) {
					return
				}
			case "iq":
				if !c.send(registerReply(n)) {
					return
				}
			}
		}
	})
}

// scramChallenge returns a <challenge/> with a server-first-message built
// from the client nonce of the client-first-message in a.
func scramChallenge(a *node, rest string) string {
	first, _ := base64.StdEncoding.DecodeString(a.TrimmedText())
	_, nonce, _ := strings.Cut(string(first), ",r=")
	msg := "r=" + nonce + "srv" + rest
	return "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte(msg)) + "</challenge>"
}

// TestSCRAMServerFirstRefused checks that server-first-messages that make
// mellium.im/sasl spin or run PBKDF2 for hours fail the login promptly.
func TestSCRAMServerFirstRefused(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, roots := testCert(t, now.Add(-time.Hour), now.Add(time.Hour), fakeDomain)
	for _, tc := range []struct {
		name string
		auth func(a *node) string
	}{
		{"huge iteration count", func(a *node) string { return scramChallenge(a, ",s=c2FsdHNhbHQ=,i=2147483647") }},
		{"malformed last attribute", func(a *node) string { return scramChallenge(a, ",s=c2FsdHNhbHQ=,i=4096,x") }},
		{"no attributes", func(*node) string {
			return "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte("abc")) + "</challenge>"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := saslFake(t, cert, "<mechanism>SCRAM-SHA-1</mechanism>", tc.auth)
			p := fakeProber(srv.addr, roots, 5*time.Second)
			p.Account = &Credentials{Username: "alice", Password: "hunter2-secret"}
			r := probeWithin(t, p, fakeDomain)
			st := r.Login.Status
			if st.State != Unknown || !errors.Is(st.Err, ErrAuth) || errors.Is(st.Err, context.DeadlineExceeded) {
				t.Errorf("login = %v (%v)", st, st.Err)
			}
		})
	}
}

// TestSASLFailureScrubbed makes the server echo the password in every
// part of a SASL failure it controls and checks that the password, and the
// base64 form the client sent it in, appear in neither the error nor the
// report.
func TestSASLFailureScrubbed(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-secret"
	now := time.Now()
	cert, roots := testCert(t, now.Add(-time.Hour), now.Add(time.Hour), fakeDomain)
	failure := func(inner string) func(*node) string {
		return func(*node) string {
			return "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + inner + "</failure>"
		}
	}
	for _, tc := range []struct {
		name string
		auth func(a *node) string
		want error
		msg  string // the error must contain it
	}{
		{"text", failure("<not-authorized/><text>wrong password " + secret + "</text>"), ErrAuth, "not-authorized (wrong password [redacted])"},
		{"condition", failure("<" + secret + "/><text>no</text>"), ErrAuth, "PLAIN failed: undefined-condition (no)"},
		{"unknown condition", failure("<bad-password/>"), ErrAuth, "PLAIN failed: undefined-condition"},
		{"base64 echo", func(a *node) string {
			return "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>you sent " + a.TrimmedText() + "</text></failure>"
		}, ErrAuth, "you sent "},
		// Clipped in the middle of the password.
		{"long text", failure("<not-authorized/><text>" + strings.Repeat("x", maxValueLen-len("not-authorized: ")-10) + secret + "</text>"), ErrAuth, "not-authorized (xxx"},
		{"element", func(*node) string { return "<" + secret + " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" }, ErrProtocol, "unexpected <[redacted]>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sent string
			srv := saslFake(t, cert, "<mechanism>PLAIN</mechanism>", func(a *node) string {
				sent = a.TrimmedText()
				return tc.auth(a)
			})
			p := fakeProber(srv.addr, roots, 3*time.Second)
			p.Account = &Credentials{Username: "alice", Password: secret, AllowPlain: true}
			r := probeWithin(t, p, fakeDomain)
			srv.close()
			st := r.Login.Status
			if st.State != Unknown || !errors.Is(st.Err, tc.want) || !strings.Contains(st.Err.Error(), tc.msg) {
				t.Errorf("login = %v (%v), want %v containing %q", st, st.Err, tc.want, tc.msg)
			}
			if sent == "" {
				t.Fatal("the client sent no <auth/>")
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{st.Err.Error(), string(b)} {
				for _, s := range []string{secret, secret[:10], sent, base64.StdEncoding.EncodeToString([]byte(secret))} {
					if strings.Contains(out, s) {
						t.Errorf("the password leaked (as %q)", s)
					}
				}
			}
		})
	}
}

// TestScrubberBase64 checks that the password is found in base64 at every
// alignment.
func TestScrubberBase64(t *testing.T) {
	const pw = "correct horse"
	sc := newScrubber(pw)
	for k := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00", k) + pw + "\x00"))
		if got := sc.str(enc); got == enc {
			t.Errorf("offset %d: %q not scrubbed", k, enc)
		}
	}
	if got := sc.str("nothing to see"); got != "nothing to see" {
		t.Errorf("scrubbed %q", got)
	}
	if err := sc.err(context.DeadlineExceeded); err != context.DeadlineExceeded {
		t.Errorf("clean error changed: %v", err)
	}
	err := sc.err(errors.Join(ErrAuth, errors.New(pw)))
	if strings.Contains(err.Error(), pw) || !errors.Is(err, ErrAuth) || errors.Is(err, ErrProtocol) {
		t.Errorf("scrubbed error = %v", err)
	}
}

// TestMalformedXMLIsProtocolError checks that XML errors are ErrProtocol
// and a connection closed in the middle of an element ErrStreamClosed.
func TestMalformedXMLIsProtocolError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, send string
		want       error
	}{
		{"undeclared entity", "<stream:features>&bogus;", ErrProtocol},
		{"invalid UTF-8", "<stream:features><x a='\xff\xfe'/>", ErrProtocol},
		{"NUL", "<stream:features>\x00", ErrProtocol},
		{"cut inside an element", "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>", ErrStreamClosed},
		{"cut inside a tag", "<stream:features><starttls xmlns='urn:ietf:par", ErrStreamClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startFake(t, func(c *fakeConn) {
				if c.header() {
					c.send(fakeHeader + tc.send)
				}
			})
			r := probeWithin(t, fakeProber(srv.addr, nil, 3*time.Second), fakeDomain)
			st := r.StartTLS.Status
			if st.State != Unknown || !errors.Is(st.Err, tc.want) {
				t.Errorf("StartTLS = %v (%v), want %v", st, st.Err, tc.want)
			}
		})
	}
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// cutBody returns part of a document, then io.EOF once the request's
// context is done: what net/http can do when a timeout cuts a body.
type cutBody struct {
	ctx  context.Context
	part string
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.part != "" {
		n := copy(p, b.part)
		b.part = b.part[n:]
		return n, nil
	}
	<-b.ctx.Done()
	return 0, io.EOF
}

// TestTruncatedBodyIsTimeout checks that a body cut by HTTPTimeout is not
// parsed even when the client reports no error.
func TestTruncatedBodyIsTimeout(t *testing.T) {
	t.Parallel()
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
			Body: io.NopCloser(&cutBody{ctx: r.Context(), part: `{"website": {"en": "https://exa`})}, nil
	})}
	p := &Prober{HTTPClient: client, HTTPTimeout: 200 * time.Millisecond, Skip: PartXMPP | PartHostMeta}
	r, _ := p.Probe(context.Background(), "example.org")
	if st := r.ProviderFile.Status; st.State != Unknown || !errors.Is(st.Err, context.DeadlineExceeded) || len(r.ProviderFile.Errors) != 0 {
		t.Errorf("provider file = %v (%v), errors %v", st, st.Err, r.ProviderFile.Errors)
	}
}

// TestProviderFileURLs checks that web page addresses that are not http or
// https are reported under their key and not copied.
func TestProviderFileURLs(t *testing.T) {
	p, fields, errs := parseProviderFile(readTestdata(t, "providerfile/badurls.json"))
	for _, f := range []providers.Field{providers.FieldWebsite, providers.FieldPasswordReset, providers.FieldLegalNotice} {
		if slices.Contains(fields, f) {
			t.Errorf("%s decoded", f)
		}
		if !slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == string(f) }) {
			t.Errorf("no error for %s: %v", f, errs)
		}
	}
	if p.Website != nil || p.PasswordReset != nil || p.LegalNotice != nil {
		t.Errorf("copied: %v %v %v", p.Website, p.PasswordReset, p.LegalNotice)
	}
	if len(errs) != 3 {
		t.Errorf("%d errors: %v", len(errs), errs)
	}
	// http is allowed (rating warns about it), a page without a host is not.
	_, _, errs = parseProviderFile([]byte(strings.Replace(string(readTestdata(t, "providerfile/valid.json")), "https://example.org/legal", "http://example.org/legal", 1)))
	if len(errs) != 0 {
		t.Errorf("http URL: %v", errs)
	}
}

func TestIsHTTPSRefusesUserInfo(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.org/register":       true,
		"https://bank.example@evil.example/": false,
		"https://user:pass@example.org/":     false,
		"http://example.org/":                false,
		"https:///nohost":                    false,
	} {
		if _, got := netguard.HTTPSLink(s); got != want {
			t.Errorf("HTTPSLink(%q) = %v, want %v", s, got, want)
		}
	}
}
