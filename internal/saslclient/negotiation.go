package saslclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"mellium.im/sasl"
)

// Errors of a Negotiation, besides ErrMalformed and *ServerError. Each
// matches with errors.Is; none quotes what the server sent.
var (
	// ErrUnexpectedChallenge: a challenge arrived after the mechanism had
	// nothing more to receive.
	ErrUnexpectedChallenge = errors.New("unexpected SASL challenge")
	// ErrUnproven: the server reported success before the mechanism was
	// complete (for SCRAM: before a server signature was verified), so
	// it has not shown that it knows the password.
	ErrUnproven = errors.New("SASL success without proof that the server knows the password")
	// ErrServerSignature: the SCRAM server signature does not match: the
	// server does not know the password, or the exchange was tampered
	// with.
	ErrServerSignature = errors.New("SCRAM server signature does not match")
	// ErrFailed is matched by the errors mellium.im/sasl returns for a
	// step (a nonce that does not extend the client's, for example).
	ErrFailed = errors.New("SASL mechanism failed")
)

// ServerError is a SCRAM server-final-message "e=…": the server says that
// the authentication failed.
type ServerError struct {
	// Value is the server-error-value, one of RFC 5802 §7's names
	// ("invalid-proof", "channel-bindings-dont-match", …), or
	// "other-error" for any other text.
	Value string
}

func (e *ServerError) Error() string { return "SCRAM server error: " + e.Value }

// Negotiation is one SASL exchange as a client. Call Start, send its
// initial response in <auth/>, then pass each <challenge/> to Challenge
// (sending the response it returns) until a <success/>, whose data goes to
// Success. A Negotiation is not safe for concurrent use, and is done after
// any error.
type Negotiation struct {
	mech  string
	scram bool
	m     mechanism
	more  bool // the mechanism expects more from the server
	steps int  // server payloads passed to the mechanism
	err   error
	// started: the initial response was made.
	started bool
}

// mechanism is one client mechanism: start returns the initial response,
// next takes a vetted server payload.
type mechanism interface {
	start() ([]byte, error)
	next(data []byte) (more bool, resp []byte, err error)
}

// Config is what [NewClient] needs for one negotiation.
type Config struct {
	// Mechanism is the mechanism's name, one that [Implemented]
	// reports (usually from [Choose] or [ChooseFAST]).
	Mechanism string
	// Binding is the channel-binding type of a -PLUS or HT-*-
	// mechanism (Choice.Binding); "" for none.
	Binding string
	// Username is the authentication identity (the localpart).
	Username string
	// Password is the password, or the FAST token for HT-*.
	Password string
	// Offered are the mechanisms the server offered in the SASL profile
	// used (RFC 6120 or XEP-0388), and Bindings the channel-binding
	// types it listed (XEP-0440; nil when it did not): a SCRAM server's
	// XEP-0474 hash is checked against them.
	Offered, Bindings []string
	// TLS is the state of the connection, for channel binding.
	TLS tls.ConnectionState
}

// NewClient returns a negotiation for c. It fails for a mechanism this
// package does not implement, and for channel binding the connection
// cannot compute (an error matching ErrChannelBinding).
func NewClient(c Config) (*Negotiation, error) {
	n := &Negotiation{mech: c.Mechanism}
	switch name := strings.ToUpper(c.Mechanism); {
	case name == "PLAIN":
		n.m = &plain{user: c.Username, pass: c.Password}
	case strings.HasPrefix(name, "HT-SHA-256-"):
		if !Implemented(name) {
			return nil, fmt.Errorf("%w: %s not implemented", ErrFailed, c.Mechanism)
		}
		m, err := newHT(c)
		if err != nil {
			return nil, err
		}
		n.m = m
	default:
		h, ok := scramHash(name)
		if !ok {
			return nil, fmt.Errorf("%w: %s not implemented", ErrFailed, c.Mechanism)
		}
		m, err := newSCRAM(c, h)
		if err != nil {
			return nil, err
		}
		n.m, n.scram = m, true
	}
	return n, nil
}

// New returns a negotiation of mech (mellium.im/sasl's PLAIN or SCRAM
// mechanisms, by name) with the given credentials, for a server that
// offered the mechanisms remote and listed no XEP-0440 channel-binding
// types, on a TLS connection with state cs (a -PLUS mechanism binds with
// tls-exporter on TLS 1.3, tls-unique before). Callers that saw binding
// types use NewClient: the XEP-0474 hash covers them.
func New(mech sasl.Mechanism, username, password string, remote []string, cs tls.ConnectionState) *Negotiation {
	c := Config{Mechanism: mech.Name, Username: username, Password: password, Offered: remote, TLS: cs}
	if strings.HasSuffix(mech.Name, "-PLUS") {
		c.Binding = BindingUnique
		if cs.Version >= tls.VersionTLS13 {
			c.Binding = BindingExporter
		}
	}
	n, err := NewClient(c)
	if err != nil {
		return &Negotiation{mech: mech.Name, err: err}
	}
	return n
}

// DowngradeChecked reports whether the server sent a XEP-0474 hash and it
// matched what was offered (only SCRAM servers send one, in their first
// message).
func (n *Negotiation) DowngradeChecked() bool {
	s, ok := n.m.(*scram)
	return ok && s.checked
}

// Mechanism returns the name of the mechanism.
func (n *Negotiation) Mechanism() string { return n.mech }

// Start returns the initial response, for the <auth/> element.
func (n *Negotiation) Start(ctx context.Context) ([]byte, error) {
	return n.step(ctx, nil)
}

// Challenge vets the data of a <challenge/> and returns the response to
// send.
func (n *Negotiation) Challenge(ctx context.Context, data []byte) ([]byte, error) {
	if n.err != nil {
		return nil, n.err
	}
	if !n.more {
		return nil, n.fail(ErrUnexpectedChallenge)
	}
	if err := n.vet(data); err != nil {
		return nil, n.fail(err)
	}
	return n.step(ctx, data)
}

// Success vets the data of a <success/> (the additional data of RFC 6120
// §6.3.10, nil if there was none) and returns nil only if the negotiation
// is complete: for SCRAM, the server's signature was received and
// verified, in this data or in an earlier challenge.
func (n *Negotiation) Success(ctx context.Context, data []byte) error {
	if n.err != nil {
		return n.err
	}
	if !n.more {
		// Complete already; data repeated in the success is ignored.
		return nil
	}
	if len(data) == 0 || n.scram && n.steps == 0 {
		// A SCRAM success before the server-first-message would make
		// mellium take its data for one and report "more".
		return n.fail(ErrUnproven)
	}
	if err := n.vet(data); err != nil {
		return n.fail(err)
	}
	if _, err := n.step(ctx, data); err != nil {
		return err
	}
	if n.more {
		return n.fail(ErrUnproven)
	}
	return nil
}

// vet checks a server payload for SCRAM before mellium sees it.
func (n *Negotiation) vet(data []byte) error {
	if !n.scram {
		return nil
	}
	switch n.steps {
	case 0:
		return ServerFirst(data)
	case 1:
		return ServerFinal(data)
	}
	return ErrUnexpectedChallenge
}

// step runs one step of the mechanism under ctx. The step itself runs in
// a goroutine: it cannot be interrupted, but the vetting bounds it, and
// the caller returns as soon as ctx is done.
func (n *Negotiation) step(ctx context.Context, data []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, n.fail(err)
	}
	type result struct {
		more bool
		resp []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		if data == nil && n.steps == 0 && !n.started {
			r.resp, r.err = n.m.start()
			r.more = true
			if _, isPlain := n.m.(*plain); isPlain {
				r.more = false
			}
			if _, isHT := n.m.(*ht); isHT {
				// The server proves the token in the success.
				r.more = true
			}
		} else {
			r.more, r.resp, r.err = n.m.next(data)
		}
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, n.fail(ctx.Err())
	}
	if data != nil || n.started {
		n.steps++
	}
	n.started = true
	if r.err != nil {
		// The mechanisms' messages never quote the server's data.
		return nil, n.fail(r.err)
	}
	n.more = r.more
	return r.resp, nil
}

func (n *Negotiation) fail(err error) error {
	n.err = err
	return err
}
