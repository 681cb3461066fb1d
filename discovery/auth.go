package discovery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"mellium.im/sasl"
)

// mechanisms the prober logs in with, best first. Channel binding (-PLUS)
// is left out on purpose: ejabberd 23.01 offers SCRAM-SHA-1-PLUS on TLS 1.3
// but rejects the tls-exporter binding, so the login would fail; the
// certificate has been verified before any credential is sent.
var loginMechanisms = []sasl.Mechanism{sasl.ScramSha256, sasl.ScramSha1}

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
	fail := func(reason string, err error) Login {
		return Login{Status: unknown(reason, err, time.Since(t0))}
	}
	if s.tls == nil || tlsInfo == nil || !tlsInfo.Certificate.Valid {
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
	var offered []string
	if f != nil {
		offered = f.Mechanisms
	}
	mechs := loginMechanisms
	if p.Account.AllowPlain {
		mechs = append(slices.Clip(mechs), sasl.Plain)
	}
	var mech sasl.Mechanism
	for _, m := range mechs {
		if slices.Contains(offered, m.Name) {
			mech = m
			break
		}
	}
	if mech.Name == "" {
		return fail("no usable SASL mechanism offered", fmt.Errorf("%w: server offers %v", ErrAuth, offered))
	}
	pass := p.Account.Password
	neg := sasl.NewClient(mech,
		sasl.Credentials(func() ([]byte, []byte, []byte) { return []byte(user), []byte(pass), nil }),
		sasl.RemoteMechanisms(offered...),
		sasl.TLSState(s.tls.ConnectionState()),
	)
	if err := saslExchange(ctx, s, neg, mech.Name); err != nil {
		return fail("login failed", err)
	}

	s.restart()
	f2, err := s.open(ctx)
	if err != nil {
		return fail("stream failed after login", err)
	}
	l := Login{Mechanism: mech.Name, Features: f2}
	if f2.Bind {
		var res [4]byte
		_, _ = rand.Read(res[:])
		bind := iqRequest{name: "bind", typ: "set",
			payload: "<bind xmlns='" + nsBind + "'><resource>onboard-probe-" + hex.EncodeToString(res[:]) + "</resource></bind>"}
		out := s.exchange(ctx, []iqRequest{bind})[0]
		if out.err != nil {
			l.Status = unknown("resource binding failed", out.err, time.Since(t0))
			return l
		}
		l.JID = clipString(out.payload.child(nsBind, "jid").text())
	}
	l.Status = observed(time.Since(t0))
	return l
}

// saslExchange runs the SASL negotiation (RFC 6120 §6.4). Errors never
// contain the credentials, only the server's failure condition.
func saslExchange(ctx context.Context, s *xstream, neg *sasl.Negotiator, name string) error {
	more, resp, err := neg.Step(nil)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrAuth, name, err)
	}
	if err := s.write(ctx, "<auth xmlns='"+nsSASL+"' mechanism='"+escape(name)+"'>"+b64(resp)+"</auth>"); err != nil {
		return err
	}
	for {
		n, err := s.next(ctx)
		if err != nil {
			return err
		}
		switch {
		case n.is(nsSASL, "challenge"):
			data, err := unb64(n.text())
			if err != nil || !more {
				return fmt.Errorf("%w: %s: unexpected challenge", ErrAuth, name)
			}
			if more, resp, err = neg.Step(data); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrAuth, name, err)
			}
			if err := s.write(ctx, "<response xmlns='"+nsSASL+"'>"+b64(resp)+"</response>"); err != nil {
				return err
			}
		case n.is(nsSASL, "success"):
			if !more {
				return nil
			}
			// SCRAM: the success carries the server's proof.
			data, err := unb64(n.text())
			if err != nil || len(data) == 0 {
				return fmt.Errorf("%w: %s: server did not prove that it knows the password", ErrAuth, name)
			}
			if _, _, err := neg.Step(data); err != nil {
				return fmt.Errorf("%w: %s: server proof invalid: %v", ErrAuth, name, err)
			}
			return nil
		case n.is(nsSASL, "failure"):
			cond := "failure"
			for _, c := range n.Children {
				if c.Name.Space == nsSASL && c.Name.Local != "text" {
					cond = c.Name.Local
					break
				}
			}
			if t := n.child(nsSASL, "text").text(); t != "" {
				cond += ": " + t
			}
			return fmt.Errorf("%w: %s: %s", ErrAuth, name, clipString(cond))
		default:
			return fmt.Errorf("%w: unexpected <%s> during SASL", ErrProtocol, n.Name.Local)
		}
	}
}

func b64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

func unb64(s string) ([]byte, error) {
	if s == "=" || s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("invalid base64")
	}
	return b, nil
}
