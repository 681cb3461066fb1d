package saslclient

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"hash"
	"strings"
)

// Channel-binding types as XEP-0440 names them (RFC 5929, RFC 9266).
const (
	BindingExporter       = "tls-exporter"
	BindingServerEndPoint = "tls-server-end-point"
	BindingUnique         = "tls-unique"
)

// scramHashes are the SCRAM mechanisms this package implements, strongest
// first (RFC 5802, RFC 7677, and SCRAM-SHA-512 as servers name it).
var scramHashes = []struct {
	name string
	hash func() hash.Hash
}{
	{"SCRAM-SHA-512", sha512.New},
	{"SCRAM-SHA-256", sha256.New},
	{"SCRAM-SHA-1", sha1.New},
}

// htMechanisms are the XEP-0484 FAST token mechanisms (the HT-* family of
// draft-schmaus-kitten-sasl-ht), with their channel-binding types, best
// first.
var htMechanisms = []struct{ name, binding string }{
	{"HT-SHA-256-EXPR", BindingExporter},
	{"HT-SHA-256-ENDP", BindingServerEndPoint},
	{"HT-SHA-256-UNIQ", BindingUnique},
	{"HT-SHA-256-NONE", ""},
}

// scramHash returns the hash of a SCRAM mechanism name (with or without
// -PLUS).
func scramHash(name string) (func() hash.Hash, bool) {
	base := strings.TrimSuffix(strings.ToUpper(name), "-PLUS")
	for _, s := range scramHashes {
		if s.name == base {
			return s.hash, true
		}
	}
	return nil, false
}

// Implemented reports whether this package implements the mechanism name:
// PLAIN, SCRAM-SHA-1, -256 and -512 with and without -PLUS, and the FAST
// mechanisms HT-SHA-256-EXPR, -ENDP, -UNIQ and -NONE.
func Implemented(name string) bool {
	if strings.EqualFold(name, "PLAIN") {
		return true
	}
	if _, ok := scramHash(name); ok {
		return true
	}
	for _, m := range htMechanisms {
		if strings.EqualFold(m.name, name) {
			return true
		}
	}
	return false
}

// Choice is a mechanism chosen by [Choose] or [ChooseFAST], with the
// channel-binding type it uses ("" for none).
type Choice struct {
	Name    string
	Binding string
}

// Plus reports whether the choice binds the authentication to the TLS
// channel.
func (c Choice) Plus() bool { return c.Binding != "" }

// available reports whether the connection can compute binding type t.
func available(t string, cs tls.ConnectionState) bool {
	switch t {
	case BindingExporter:
		if cs.Version >= tls.VersionTLS13 {
			return true
		}
		// TLS 1.2 only with the extended master secret (RFC 9266 §4.2).
		_, err := bindingData(BindingExporter, cs)
		return cs.Version != 0 && err == nil
	case BindingServerEndPoint:
		return len(cs.PeerCertificates) > 0
	case BindingUnique:
		return cs.Version != 0 && cs.Version < tls.VersionTLS13 && len(cs.TLSUnique) > 0
	}
	return false
}

// ChooseBinding returns the channel-binding type to use on the
// connection, by XEP-0440: among the types the server lists (bindings),
// tls-exporter when the connection can compute it (TLS 1.3), then
// tls-unique (TLS 1.2), then tls-server-end-point. A server that lists no
// types (it does not implement XEP-0440) gets tls-unique before TLS 1.3,
// the default of RFC 5802, and nothing on TLS 1.3: ejabberd 23.01
// offers -PLUS there and refuses the tls-exporter binding. "" when none
// can be used.
func ChooseBinding(bindings []string, cs tls.ConnectionState) string {
	if len(bindings) == 0 {
		if available(BindingUnique, cs) {
			return BindingUnique
		}
		return ""
	}
	listed := func(t string) bool {
		for _, b := range bindings {
			if strings.EqualFold(strings.TrimSpace(b), t) {
				return true
			}
		}
		return false
	}
	for _, t := range []string{BindingExporter, BindingUnique, BindingServerEndPoint} {
		if listed(t) && available(t, cs) {
			return t
		}
	}
	return ""
}

// Choose picks the best mechanism among those the server offers: SCRAM,
// strongest hash first, with channel binding (-PLUS) when [ChooseBinding]
// finds a type; without a type, plain SCRAM, or -PLUS with the type the
// connection would use by default when nothing else is offered; PLAIN
// last and only when allowPlain is set.
func Choose(offered, bindings []string, cs tls.ConnectionState, allowPlain bool) (Choice, bool) {
	has := func(name string) bool {
		for _, m := range offered {
			if strings.EqualFold(strings.TrimSpace(m), name) {
				return true
			}
		}
		return false
	}
	cb := ChooseBinding(bindings, cs)
	if cb != "" {
		for _, s := range scramHashes {
			if has(s.name + "-PLUS") {
				return Choice{Name: s.name + "-PLUS", Binding: cb}, true
			}
		}
	}
	for _, s := range scramHashes {
		if has(s.name) {
			return Choice{Name: s.name}, true
		}
	}
	if cb == "" {
		// Only -PLUS is offered: try it with what the connection
		// computes by default.
		def := ""
		switch {
		case available(BindingExporter, cs) && cs.Version >= tls.VersionTLS13:
			def = BindingExporter
		case available(BindingUnique, cs):
			def = BindingUnique
		}
		if def != "" {
			for _, s := range scramHashes {
				if has(s.name + "-PLUS") {
					return Choice{Name: s.name + "-PLUS", Binding: def}, true
				}
			}
		}
	}
	if allowPlain && has("PLAIN") {
		return Choice{Name: "PLAIN"}, true
	}
	return Choice{}, false
}

// ChooseFAST picks the FAST (XEP-0484) token mechanism among those
// offered: the one with the strongest channel binding the connection can
// compute and the server lists (XEP-0440; tls-server-end-point is also
// taken when the server lists no types but offers -ENDP), else
// HT-SHA-256-NONE.
func ChooseFAST(offered, bindings []string, cs tls.ConnectionState) (Choice, bool) {
	has := func(name string) bool {
		for _, m := range offered {
			if strings.EqualFold(strings.TrimSpace(m), name) {
				return true
			}
		}
		return false
	}
	listed := func(t string) bool {
		for _, b := range bindings {
			if strings.EqualFold(strings.TrimSpace(b), t) {
				return true
			}
		}
		return false
	}
	for _, m := range htMechanisms {
		if !has(m.name) {
			continue
		}
		if m.binding == "" {
			return Choice{Name: m.name}, true
		}
		if available(m.binding, cs) && (listed(m.binding) || len(bindings) == 0 && m.binding != BindingExporter) {
			return Choice{Name: m.name, Binding: m.binding}, true
		}
	}
	return Choice{}, false
}
