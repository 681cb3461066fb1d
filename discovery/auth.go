package discovery

import (
	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"

	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/saslclient"
)

// withAccount logs in (on a new connection if the unauthenticated queries
// broke the stream) and asks again for what was not observed. It returns
// the stream to close.
func (p *Prober) withAccount(ctx context.Context, domain string, s *xstream, direct bool, res resolution, r *Report, batch bool) *xstream {
	if batch && !strings.Contains(p.Account.Username, "@") {
		// A bare username would be sent to every domain of the list.
		r.Login.Status = unknown("account not used: in a batch it must be given as user@domain", ErrAuth, 0)
		return s
	}
	if _, err := accountUser(p.Account.Username, domain); err != nil {
		r.Login.Status = unknown("account not used: it is not on this domain", err, 0)
		return s
	}
	conn := &r.StartTLS
	if direct {
		conn = &r.DirectTLS
	}
	tlsInfo, f := conn.TLS, conn.Features
	if s.broken != nil {
		// Reconnect the same way; the new connection's report is not
		// kept, only its stream.
		s.close()
		var c Connection
		if direct {
			c, s = p.directTLSPath(ctx, domain, res.directTLS, res.noDirectTLS)
		} else {
			c, s = p.startTLSPath(ctx, domain, res.startTLS, res.noStartTLS)
		}
		if s == nil {
			r.Login.Status = unknown("could not reconnect to log in", c.Status.Err, c.Status.Took)
			return s
		}
		tlsInfo, f = c.TLS, c.Features
	}
	r.Login = p.login(ctx, domain, s, tlsInfo, f)
	if r.Login.Status.State != Observed {
		return s
	}
	p.queryParts(ctx, domain, s, r.Login.Features, r, true)
	return s
}

// neutralUser is the localpart of the JID the prober announces without an
// account: servers offer SASL2 (ejabberd 24.12) and FAST (Prosody 13)
// only to a stream header with from='user@domain', and nothing is ever
// authenticated as it.
const neutralUser = "probe"

// streamFrom returns the from of the stream header after TLS: the
// account's JID when one is given for domain and the certificate is valid
// for it (a username is not told to a server that could be anyone), else
// a neutral JID of the domain.
func (p *Prober) streamFrom(domain string, tlsInfo *TLSInfo) string {
	user := neutralUser
	if p.Account != nil && tlsInfo != nil && tlsInfo.Certificate.Valid {
		if u, err := accountUser(p.Account.Username, domain); err == nil {
			user = u
		}
	}
	return user + "@" + domain
}

// accountUser returns the SASL username for the account on domain.
func accountUser(name, domain string) (string, error) {
	if local, host, ok := strings.Cut(name, "@"); ok {
		if !strings.EqualFold(host, domain) {
			return "", fmt.Errorf("%w: the account is not on %s", ErrAuth, domain)
		}
		name = local
	}
	if name == "" || strings.ContainsAny(name, "/@ ") {
		return "", fmt.Errorf("%w: invalid username", ErrAuth)
	}
	return name, nil
}

// login authenticates with SASL, restarts the stream and binds a resource.
// Credentials are sent only over TLS with a certificate valid for domain.
func (p *Prober) login(ctx context.Context, domain string, s *xstream, tlsInfo *TLSInfo, f *Features) Login {
	t0 := time.Now()
	// Once the credentials are sent, the server knows the password and
	// may echo it in whatever it sends: scrub it from errors.
	sc := newScrubber(p.Account.Password)
	fail := func(reason string, err error) Login {
		return Login{Status: unknown(reason, sc.err(err), time.Since(t0))}
	}
	if s.t.TLS() == nil || tlsInfo == nil || !tlsInfo.Certificate.Valid {
		err := ErrCertificate
		if tlsInfo != nil && tlsInfo.Certificate.Err != nil {
			err = tlsInfo.Certificate.Err
		}
		return fail("credentials withheld: certificate not valid for the domain", err)
	}
	user, err := accountUser(p.Account.Username, domain)
	if err != nil {
		return fail("invalid account", err)
	}
	var offered, bindings []string
	if f != nil {
		offered, bindings = f.Mechanisms, f.ChannelBindings
	}
	// saslclient.Choose: SCRAM-SHA-512, -256, -1, with channel binding
	// where the server lists a type this connection computes (XEP-0440;
	// ejabberd 23.01 offers -PLUS on TLS 1.3 without listing any, and
	// refuses tls-exporter: no -PLUS there); PLAIN only if allowed.
	cs := s.t.TLS().ConnectionState()
	choice, ok := saslclient.Choose(offered, bindings, cs, p.Account.AllowPlain)
	if !ok {
		return fail("no usable SASL mechanism offered", fmt.Errorf("%w: server offers %v", ErrAuth, offered))
	}
	mech := choice
	neg, err := saslclient.NewClient(saslclient.Config{Mechanism: choice.Name, Binding: choice.Binding,
		Username: user, Password: p.Account.Password, Offered: offered, Bindings: bindings, TLS: cs})
	if err != nil {
		return fail("login failed", fmt.Errorf("%w: %s: %w", ErrAuth, choice.Name, err))
	}
	if err := saslExchange(ctx, s, neg, sc); err != nil {
		return fail("login failed", err)
	}

	s.restart()
	f2, err := s.open(ctx)
	if err != nil {
		return fail("stream failed after login", err)
	}
	l := Login{Mechanism: mech.Name, Features: f2, DowngradeProtected: neg.DowngradeChecked()}
	if f2.Bind {
		var res [4]byte
		_, _ = rand.Read(res[:])
		bind := iqRequest{name: "bind", typ: "set",
			payload: xmppconn.New(nsBind, "bind").Add(xmppconn.New(nsBind, "resource").WithText("onboard-probe-" + hex.EncodeToString(res[:])))}
		out := s.exchange(ctx, []iqRequest{bind})[0]
		if out.err != nil {
			l.Status = unknown("resource binding failed", sc.err(out.err), time.Since(t0))
			return l
		}
		l.JID = clipString(sc.str(out.payload.Child(nsBind, "jid").TrimmedText()))
	}
	l.Status = observed(time.Since(t0))
	return l
}

// saslExchange runs the SASL negotiation (RFC 6120 §6.4) with the
// module's one SASL exchange (xmppconn.FinishSASL): every server payload
// is vetted, and a success counts only once the server has proved that it
// knows the password. Errors never contain the credentials.
func saslExchange(ctx context.Context, s *xstream, neg *saslclient.Negotiation, sc scrubber) error {
	name := neg.Mechanism()
	auth, err := xmppconn.AuthElement(ctx, neg)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrAuth, name, err)
	}
	if err := s.Send(ctx, auth); err != nil {
		return err
	}
	err = xmppconn.FinishSASL(ctx, s, neg, sc.set)
	var fail *xmppconn.SASLError
	var broken *xmppconn.SASLProtocolError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fail):
		return fmt.Errorf("%w: %w", ErrAuth, fail)
	case errors.As(err, &broken) && errors.Is(broken.Err, xmppconn.ErrProtocol):
		return fmt.Errorf("%w: %w", ErrProtocol, broken)
	case errors.As(err, &broken):
		return saslError(ctx, name, broken.Err)
	case errors.Is(err, saslclient.ErrFailed):
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

// saslError classifies an error of the negotiation: the context's own
// error, or ErrAuth (the server did not prove that it knows the password,
// or sent SCRAM data that was refused; the messages never quote it).
func saslError(ctx context.Context, name string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrAuth, name, err)
}

// scrubber removes a password, in every form a server can echo it
// (internal/redact), from what a server sends back.
type scrubber struct{ set *redact.Set }

func newScrubber(password string) scrubber { return scrubber{redact.New(password)} }

// str returns s without the secrets.
func (sc scrubber) str(s string) string { return sc.set.String(s) }

// err returns err unchanged if its message holds no secret, and otherwise
// an error with the scrubbed message that matches the same sentinels with
// errors.Is but does not unwrap to the original.
func (sc scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := sc.str(msg); clean != msg {
		e := &scrubbedError{msg: clean}
		for _, t := range append(sentinels[:], context.Canceled, context.DeadlineExceeded) {
			if errors.Is(err, t) {
				e.is = append(e.is, t)
			}
		}
		return e
	}
	return err
}

// scrubbedError is an error whose message had a secret removed.
type scrubbedError struct {
	msg string
	is  []error
}

func (e *scrubbedError) Error() string { return e.msg }

func (e *scrubbedError) Is(target error) bool { return slices.Contains(e.is, target) }
