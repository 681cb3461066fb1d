package saslclient

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
)

// exporterLabel is the TLS exporter label of RFC 9266.
const exporterLabel = "EXPORTER-Channel-Binding"

// ErrDowngrade is matched by the error of a SCRAM negotiation whose
// server-first-message carries a XEP-0474 downgrade-protection hash ("h=")
// that does not match the mechanisms and channel-binding types the client
// saw offered: something between client and server removed some of them.
var ErrDowngrade = errors.New("SASL downgrade detected: the server's XEP-0474 hash does not match the mechanisms and channel-binding types offered")

// ErrChannelBinding is matched when the connection cannot compute the
// channel-binding data of the chosen type.
var ErrChannelBinding = errors.New("channel-binding data not available on this connection")

// bindingData returns the channel-binding data of type t (RFC 5929, RFC
// 9266).
func bindingData(t string, cs tls.ConnectionState) (data []byte, err error) {
	defer func() {
		// A ConnectionState that no handshake filled in has no
		// exporter function.
		if recover() != nil {
			data, err = nil, ErrChannelBinding
		}
	}()
	switch t {
	case BindingExporter:
		data, err = cs.ExportKeyingMaterial(exporterLabel, nil, 32)
	case BindingUnique:
		data = cs.TLSUnique
	case BindingServerEndPoint:
		if len(cs.PeerCertificates) > 0 {
			data = endPointHash(cs.PeerCertificates[0])
		}
	}
	if err != nil || len(data) == 0 {
		return nil, ErrChannelBinding
	}
	return data, nil
}

// endPointHash is the tls-server-end-point data of RFC 5929 §4.1: the
// certificate hashed with its signature's hash function, SHA-256 for MD5
// and SHA-1.
func endPointHash(c *x509.Certificate) []byte {
	var h hash.Hash
	switch c.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write(c.Raw)
	return h.Sum(nil)
}

// scram is a SCRAM client (RFC 5802, RFC 7677) with channel binding and
// XEP-0474 downgrade protection.
type scram struct {
	name    string
	hash    func() hash.Hash
	gs2     string // the GS2 header
	cbData  []byte // channel-binding data (-PLUS)
	user    string
	pass    string
	nonce   string
	first   string // client-first-message-bare
	expect  []byte // the server signature once the proof is sent
	ssdp    []string
	checked bool // the server-first-message carried a matching h=
}

// newSCRAM prepares a SCRAM negotiation. offered are the mechanisms of
// the SASL profile in use, bindings the XEP-0440 types (nil when the
// server does not list them), both for XEP-0474.
func newSCRAM(c Config, h func() hash.Hash) (*scram, error) {
	plus := strings.HasSuffix(strings.ToUpper(c.Mechanism), "-PLUS")
	s := &scram{name: c.Mechanism, hash: h, user: c.Username, pass: c.Password}
	switch {
	case plus:
		if c.Binding == "" {
			return nil, fmt.Errorf("%w: %s without a channel-binding type", ErrChannelBinding, c.Mechanism)
		}
		data, err := bindingData(c.Binding, c.TLS)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", err, c.Binding)
		}
		s.gs2, s.cbData = "p="+c.Binding+",,", data
	default:
		// The client does not use channel binding ("n"), as RFC 5802
		// allows whatever it supports; XEP-0474's hash, when the
		// server sends one, detects a stripped -PLUS offer.
		s.gs2 = "n,,"
	}
	var n [18]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, err
	}
	s.nonce = base64.RawStdEncoding.EncodeToString(n[:])
	s.ssdp = ssdpInputs(c.Offered, c.Bindings)
	return s, nil
}

// ssdpInputs are the strings whose hash XEP-0474 servers send: the
// mechanisms and binding types sorted (i;octet) and joined, in the
// delimiters of version 0.4 (0x1E, 0x1F) and of 0.3 ("," and "|"), which
// servers released before 2025 use.
func ssdpInputs(offered, bindings []string) []string {
	clean := func(l []string) []string {
		var out []string
		for _, s := range l {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	m, b := clean(offered), clean(bindings)
	v4 := strings.Join(m, "\x1e")
	v3 := strings.Join(m, ",")
	if len(b) > 0 {
		v4 += "\x1f" + strings.Join(b, "\x1e")
		v3 += "|" + strings.Join(b, ",")
	}
	return []string{v4, v3}
}

// saslname escapes a username for SCRAM (RFC 5802 §5.1).
func saslname(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

func (s *scram) start() ([]byte, error) {
	s.first = "n=" + saslname(s.user) + ",r=" + s.nonce
	return []byte(s.gs2 + s.first), nil
}

// attr returns the value of attribute k of a vetted message.
func attr(msg []byte, k byte) ([]byte, bool) {
	for _, a := range bytes.Split(msg, []byte{','}) {
		if len(a) >= 2 && a[0] == k && a[1] == '=' {
			return a[2:], true
		}
	}
	return nil, false
}

func (s *scram) next(data []byte) (bool, []byte, error) {
	if s.expect != nil {
		// The server-final-message (vetted: "v=…").
		v, _ := attr(data, 'v')
		sig, err := base64.StdEncoding.DecodeString(string(v))
		if err != nil || !hmac.Equal(sig, s.expect) {
			return false, nil, ErrServerSignature
		}
		return false, nil, nil
	}
	nonce, _ := attr(data, 'r')
	if !strings.HasPrefix(string(nonce), s.nonce) || len(nonce) == len(s.nonce) {
		return false, nil, fmt.Errorf("%w: %s: the server nonce does not extend the client's", ErrFailed, s.name)
	}
	if h, ok := attr(data, 'h'); ok {
		if !s.verifySSDP(h) {
			return false, nil, ErrDowngrade
		}
		s.checked = true
	}
	salt64, _ := attr(data, 's')
	salt, _ := base64.StdEncoding.DecodeString(string(salt64))
	iter := 0
	it, _ := attr(data, 'i')
	for _, c := range it {
		iter = iter*10 + int(c-'0') // vetted: 1..MaxIterations
	}
	cbind := base64.StdEncoding.EncodeToString(append([]byte(s.gs2), s.cbData...))
	withoutProof := "c=" + cbind + ",r=" + string(nonce)
	authMessage := []byte(s.first + "," + string(data) + "," + withoutProof)
	salted, err := pbkdf2.Key(s.hash, s.pass, salt, iter, s.hash().Size())
	if err != nil {
		return false, nil, fmt.Errorf("%w: %s: %v", ErrFailed, s.name, err)
	}
	mac := func(key, msg []byte) []byte {
		m := hmac.New(s.hash, key)
		m.Write(msg)
		return m.Sum(nil)
	}
	clientKey := mac(salted, []byte("Client Key"))
	h := s.hash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	proof := make([]byte, len(clientKey))
	subtle.XORBytes(proof, clientKey, mac(storedKey, authMessage))
	s.expect = mac(mac(salted, []byte("Server Key")), authMessage)
	return true, []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verifySSDP compares a XEP-0474 hash with the lists seen.
func (s *scram) verifySSDP(h64 []byte) bool {
	got, err := base64.StdEncoding.DecodeString(string(h64))
	if err != nil {
		return false
	}
	for _, in := range s.ssdp {
		h := s.hash()
		h.Write([]byte(in))
		if hmac.Equal(got, h.Sum(nil)) {
			return true
		}
	}
	return false
}

// plain is PLAIN (RFC 4616).
type plain struct{ user, pass string }

func (p *plain) start() ([]byte, error) { return []byte("\x00" + p.user + "\x00" + p.pass), nil }

func (p *plain) next([]byte) (bool, []byte, error) { return false, nil, ErrUnexpectedChallenge }

// ht is a FAST token mechanism (XEP-0484, HT-SHA-256-*): the initial
// response proves the token, the success's additional data proves the
// server's knowledge of it.
type ht struct {
	name   string
	user   string
	token  string
	cbData []byte
}

func newHT(c Config) (*ht, error) {
	m := &ht{name: c.Mechanism, user: c.Username, token: c.Password}
	if c.Binding != "" {
		data, err := bindingData(c.Binding, c.TLS)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", err, c.Binding)
		}
		m.cbData = data
	}
	return m, nil
}

func (m *ht) mac(label string) []byte {
	h := hmac.New(sha256.New, []byte(m.token))
	h.Write([]byte(label))
	h.Write(m.cbData)
	return h.Sum(nil)
}

func (m *ht) start() ([]byte, error) {
	return append([]byte(m.user+"\x00"), m.mac("Initiator")...), nil
}

func (m *ht) next(data []byte) (bool, []byte, error) {
	if !hmac.Equal(data, m.mac("Responder")) {
		return false, nil, ErrServerSignature
	}
	return false, nil, nil
}
