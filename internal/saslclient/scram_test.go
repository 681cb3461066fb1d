package saslclient

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"
)

// scramServer is a minimal SCRAM server for the tests (mellium.im/sasl
// has no SCRAM-SHA-512 server): it checks the client's proof and answers
// with its signature; ssdp, if set, goes into the server-first-message as
// XEP-0474's h= (hashed with the mechanism's hash).
type scramServer struct {
	h        func() hash.Hash
	password string
	ssdp     *string
	first    string
	sfirst   string
}

func (s *scramServer) serverFirst(clientFirst string) string {
	_, bare, _ := strings.Cut(clientFirst[strings.Index(clientFirst, ",")+1:], ",")
	s.first = bare
	nonce := bare[strings.Index(bare, "r=")+2:]
	s.sfirst = "r=" + nonce + "SERVER,s=" + base64.StdEncoding.EncodeToString([]byte("salt0123")) + ",i=4096"
	if s.ssdp != nil {
		h := s.h()
		h.Write([]byte(*s.ssdp))
		s.sfirst += ",h=" + base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	return s.sfirst
}

// serverFinal returns v=… for a valid proof, "" otherwise.
func (s *scramServer) serverFinal(clientFinal string) string {
	i := strings.LastIndex(clientFinal, ",p=")
	without, proof64 := clientFinal[:i], clientFinal[i+3:]
	auth := []byte(s.first + "," + s.sfirst + "," + without)
	salted, _ := pbkdf2.Key(s.h, s.password, []byte("salt0123"), 4096, s.h().Size())
	mac := func(k, m []byte) []byte { x := hmac.New(s.h, k); x.Write(m); return x.Sum(nil) }
	ck := mac(salted, []byte("Client Key"))
	hh := s.h()
	hh.Write(ck)
	sig := mac(hh.Sum(nil), auth)
	proof, _ := base64.StdEncoding.DecodeString(proof64)
	want := make([]byte, len(ck))
	subtle.XORBytes(want, ck, sig)
	if !hmac.Equal(proof, want) {
		return ""
	}
	return "v=" + base64.StdEncoding.EncodeToString(mac(mac(salted, []byte("Server Key")), auth))
}

func run(t *testing.T, c Config, srv *scramServer) (*Negotiation, error) {
	t.Helper()
	ctx := context.Background()
	n, err := NewClient(c)
	if err != nil {
		return nil, err
	}
	first, err := n.Start(ctx)
	if err != nil {
		return n, err
	}
	final, err := n.Challenge(ctx, []byte(srv.serverFirst(string(first))))
	if err != nil {
		return n, err
	}
	v := srv.serverFinal(string(final))
	if v == "" {
		return n, errors.New("server refused the proof")
	}
	return n, n.Success(ctx, []byte(v))
}

func TestSCRAMSHA512(t *testing.T) {
	offered := []string{"SCRAM-SHA-512", "PLAIN", "SCRAM-SHA-512-PLUS"}
	c := Config{Mechanism: "SCRAM-SHA-512", Username: "juliet", Password: "pencil", Offered: offered}
	if _, err := run(t, c, &scramServer{h: sha512.New, password: "pencil"}); err != nil {
		t.Fatalf("SCRAM-SHA-512: %v", err)
	}
	if _, err := run(t, c, &scramServer{h: sha512.New, password: "other"}); err == nil {
		t.Fatal("a wrong password was accepted")
	}
}

// TestDowngrade: XEP-0474's hash is checked against what was offered, in
// both delimiter versions; a list an attacker shortened is refused.
func TestDowngrade(t *testing.T) {
	offered := []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}
	bindings := []string{"tls-server-end-point", "tls-exporter"}
	c := Config{Mechanism: "SCRAM-SHA-256", Username: "juliet", Password: "pencil", Offered: offered, Bindings: bindings}
	v4 := "PLAIN\x1eSCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1eSCRAM-SHA-256\x1ftls-exporter\x1etls-server-end-point"
	v3 := "PLAIN,SCRAM-SHA-1,SCRAM-SHA-1-PLUS,SCRAM-SHA-256|tls-exporter,tls-server-end-point"
	for _, s := range []string{v4, v3} {
		n, err := run(t, c, &scramServer{h: sha256.New, password: "pencil", ssdp: &s})
		if err != nil || !n.DowngradeChecked() {
			t.Fatalf("matching hash %q: %v, checked %v", s, err, n.DowngradeChecked())
		}
	}
	// What the server really offered (with -PLUS and bindings), while
	// the client saw a list without them.
	stripped := c
	stripped.Offered, stripped.Bindings = []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}, nil
	if _, err := run(t, stripped, &scramServer{h: sha256.New, password: "pencil", ssdp: &v4}); !errors.Is(err, ErrDowngrade) {
		t.Fatalf("stripped offer: err = %v, want ErrDowngrade", err)
	}
	noCB := c
	noCB.Bindings = []string{"tls-server-end-point"}
	if _, err := run(t, noCB, &scramServer{h: sha256.New, password: "pencil", ssdp: &v3}); !errors.Is(err, ErrDowngrade) {
		t.Fatalf("stripped binding type: err = %v, want ErrDowngrade", err)
	}
	// Without h= nothing is checked, and nothing is claimed.
	n, err := run(t, c, &scramServer{h: sha256.New, password: "pencil"})
	if err != nil || n.DowngradeChecked() {
		t.Fatalf("no hash: %v, checked %v", err, n.DowngradeChecked())
	}
}

func TestChoose(t *testing.T) {
	tls13 := tls.ConnectionState{Version: tls.VersionTLS13}
	cases := []struct {
		offered, cb []string
		cs          tls.ConnectionState
		want        Choice
	}{
		{[]string{"PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-512-PLUS", "X-OAUTH2"}, []string{"tls-exporter"}, tls13, Choice{"SCRAM-SHA-512-PLUS", BindingExporter}},
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-256"}, nil, tls13, Choice{Name: "SCRAM-SHA-256"}},
		// Only tls-server-end-point listed, but no certificate to hash.
		{[]string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, []string{"tls-server-end-point"}, tls13, Choice{Name: "SCRAM-SHA-1"}},
		{[]string{"PLAIN"}, nil, tls13, Choice{}},
	}
	for _, tc := range cases {
		got, _ := Choose(tc.offered, tc.cb, tc.cs, false)
		if got != tc.want {
			t.Errorf("Choose(%v, %v) = %v, want %v", tc.offered, tc.cb, got, tc.want)
		}
	}
	fast, ok := ChooseFAST([]string{"HT-SHA-256-NONE", "HT-SHA-256-EXPR"}, []string{"tls-exporter"}, tls13)
	if !ok || fast.Name != "HT-SHA-256-EXPR" {
		t.Errorf("ChooseFAST = %v", fast)
	}
	if fast, _ := ChooseFAST([]string{"HT-SHA-256-EXPR", "HT-SHA-256-NONE"}, nil, tls13); fast.Name != "HT-SHA-256-NONE" {
		t.Errorf("ChooseFAST without XEP-0440 = %v", fast)
	}
}

// TestHT: a FAST token login succeeds only when the server proves the
// token.
func TestHT(t *testing.T) {
	ctx := context.Background()
	token := "secret-token:abc"
	n, err := NewClient(Config{Mechanism: "HT-SHA-256-NONE", Username: "juliet", Password: token})
	if err != nil {
		t.Fatal(err)
	}
	ir, _ := n.Start(ctx)
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("Initiator"))
	if string(ir) != "juliet\x00"+string(m.Sum(nil)) {
		t.Fatalf("initial response %q", ir)
	}
	r := hmac.New(sha256.New, []byte(token))
	r.Write([]byte("Responder"))
	if err := n.Success(ctx, r.Sum(nil)); err != nil {
		t.Fatalf("proven success: %v", err)
	}
	for _, data := range [][]byte{nil, []byte("x"), m.Sum(nil)} {
		n, _ := NewClient(Config{Mechanism: "HT-SHA-256-NONE", Username: "juliet", Password: token})
		n.Start(ctx)
		if err := n.Success(ctx, data); err == nil {
			t.Errorf("success %q accepted", data)
		}
	}
}
