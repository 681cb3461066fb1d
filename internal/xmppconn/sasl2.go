package xmppconn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/saslclient"
)

// NSFAST is the namespace of XEP-0484 FAST.
const NSFAST = "urn:xmpp:fast:0"

// Limits on what a SASL2 success may make a client keep.
const (
	maxToken   = 1024 // bytes of a FAST token
	maxJIDText = 3071 // bytes of a JID (RFC 7622: three parts of 1023)
	maxSMID    = 256  // bytes of a stream management id
)

// Authenticate is what a XEP-0388 <authenticate/> carries besides the
// initial response of its negotiation.
type Authenticate struct {
	// UserAgentID is the XEP-0388 user-agent id (a UUID, stable for one
	// client installation; required for FAST); "" for none.
	UserAgentID string
	// Software and Device name the client in the user-agent.
	Software, Device string
	// Bind, if set, asks for a XEP-0386 Bind2 resource binding inline.
	Bind *Bind2
	// RequestToken, if not "", asks for a XEP-0484 FAST token for that
	// mechanism (HT-SHA-256-*).
	RequestToken string
	// FAST marks an authentication with a FAST token (XEP-0484 §3.3);
	// Count is its counter (a number that grows with every use).
	FAST  bool
	Count int64
}

// Bind2 is a XEP-0386 bind request.
type Bind2 struct {
	// Tag is the client's tag, from which the server makes the
	// resource.
	Tag string
	// EnableSM asks for XEP-0198 stream management inline.
	EnableSM bool
}

// AuthenticateElement starts neg and returns its XEP-0388 <authenticate/>.
func AuthenticateElement(ctx context.Context, neg *saslclient.Negotiation, a Authenticate) (*Element, error) {
	resp, err := neg.Start(ctx)
	if err != nil {
		return nil, err
	}
	el := New(NSSASL2, "authenticate", "mechanism", neg.Mechanism())
	el.Add(New(NSSASL2, "initial-response").WithText(B64(resp)))
	if a.UserAgentID != "" {
		ua := New(NSSASL2, "user-agent", "id", a.UserAgentID)
		if a.Software != "" {
			ua.Add(New(NSSASL2, "software").WithText(a.Software))
		}
		if a.Device != "" {
			ua.Add(New(NSSASL2, "device").WithText(a.Device))
		}
		el.Add(ua)
	}
	if b := a.Bind; b != nil {
		be := New(NSBind2, "bind")
		if b.Tag != "" {
			be.Add(New(NSBind2, "tag").WithText(b.Tag))
		}
		if b.EnableSM {
			be.Add(New(NSSM, "enable"))
		}
		el.Add(be)
	}
	if a.RequestToken != "" {
		el.Add(New(NSFAST, "request-token", "mechanism", a.RequestToken))
	}
	if a.FAST {
		el.Add(New(NSFAST, "fast", "count", fmt.Sprint(a.Count)))
	}
	return el, nil
}

// SASL2Success is what a XEP-0388 <success/> reported, after its proof
// was verified.
type SASL2Success struct {
	// AuthzID is the authorization identifier: the full JID when Bind2
	// bound a resource, else the bare JID (not parsed; at most 3071
	// bytes).
	AuthzID string
	// Bound reports the XEP-0386 <bound/>.
	Bound bool
	// SM reports stream management enabled inline (XEP-0198
	// <enabled/>), with its id and whether it can be resumed; SMFailed
	// reports its <failed/>.
	SM, SMResume, SMFailed bool
	SMID                   string
	// Token is the FAST token the server issued, if any.
	Token *FASTToken
	// Features are the stream features that follow the success (the
	// stream is not restarted).
	Features Features
}

// FASTToken is a XEP-0484 token.
type FASTToken struct {
	Token  string
	Expiry time.Time // zero when the server gave none or an invalid one
}

// ErrSASL2Task is matched when the server answers with a XEP-0388
// <continue/> (a second factor, a password change): not supported; the
// authentication is aborted.
var ErrSASL2Task = errors.New("the server requires an additional SASL2 task")

// FinishSASL2 is FinishSASL for XEP-0388: it reads the server's answers to
// the <authenticate/> of neg (challenges, answered; the success, whose
// additional data must complete the proof; a failure), then the stream
// features that follow a success. It returns the success; a *SASLError
// for a <failure/> (the stream stays usable); an error matching
// saslclient.ErrFailed when the mechanism refused a challenge, after a
// response that ends the exchange; an error matching ErrSASL2Task, after
// an <abort/>, for a <continue/>; a
// *SASLProtocolError when the server broke the exchange (an error
// matching saslclient.ErrDowngrade among them). No error quotes a
// secret.
func FinishSASL2(ctx context.Context, s Stream, neg *saslclient.Negotiation, secrets *redact.Set) (*SASL2Success, error) {
	mech := neg.Mechanism()
	broken := func(err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return err
		}
		return &SASLProtocolError{Mechanism: mech, Err: err}
	}
	for {
		n, err := s.Next(ctx)
		if err != nil {
			return nil, err
		}
		switch {
		case n.Is(NSSASL2, "challenge"):
			data, err := UnB64(n.Text)
			if err != nil {
				return nil, broken(err)
			}
			resp, err := neg.Challenge(ctx, data)
			if errors.Is(err, saslclient.ErrFailed) {
				// Prosody 13's mod_sasl2 has no <abort/> (it ends the
				// stream): a response that is no message of the
				// mechanism ends the exchange with a failure.
				if werr := s.Send(ctx, New(NSSASL2, "response").WithText(B64([]byte("x")))); werr != nil {
					return nil, werr
				}
				if _, rerr := s.Next(ctx); rerr != nil {
					return nil, rerr
				}
				return nil, fmt.Errorf("SASL %s: %w", mech, err)
			}
			if err != nil {
				return nil, broken(err)
			}
			if err := s.Send(ctx, New(NSSASL2, "response").WithText(B64(resp))); err != nil {
				return nil, err
			}
		case n.Is(NSSASL2, "success"):
			succ, err := parseSASL2Success(n)
			if err != nil {
				return nil, broken(err)
			}
			var data []byte
			if ad := n.Child(NSSASL2, "additional-data"); ad != nil {
				if data, err = UnB64(ad.Text); err != nil {
					return nil, broken(err)
				}
			}
			if err := neg.Success(ctx, data); err != nil {
				return nil, broken(err)
			}
			f, err := s.Next(ctx)
			if err != nil {
				return nil, err
			}
			if !f.Is(NSStream, "features") {
				return nil, broken(fmt.Errorf("%w: <%s> instead of the stream features after the SASL2 success", ErrProtocol, Clip(secrets.String(f.Name.Local), 64)))
			}
			succ.Features = ParseFeatures(f)
			return succ, nil
		case n.Is(NSSASL2, "failure"):
			return nil, ParseSASLFailure(n, mech, secrets)
		case n.Is(NSSASL2, "continue"):
			if err := s.Send(ctx, New(NSSASL2, "abort")); err != nil {
				return nil, err
			}
			if _, err := s.Next(ctx); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("SASL %s: %w", mech, ErrSASL2Task)
		default:
			return nil, broken(fmt.Errorf("%w: unexpected <%s> during SASL2", ErrProtocol, Clip(secrets.String(n.Name.Local), 64)))
		}
	}
}

// parseSASL2Success reads the parts of a <success/> other than its
// additional data, each bounded.
func parseSASL2Success(n *Element) (*SASL2Success, error) {
	s := &SASL2Success{}
	id := n.Child(NSSASL2, "authorization-identifier")
	if id == nil {
		return nil, fmt.Errorf("%w: SASL2 success without an authorization identifier", ErrProtocol)
	}
	s.AuthzID = strings.TrimSpace(id.Text)
	if s.AuthzID == "" || len(s.AuthzID) > maxJIDText || !ValidString(s.AuthzID) {
		return nil, fmt.Errorf("%w: SASL2 success with an invalid authorization identifier", ErrProtocol)
	}
	if b := n.Child(NSBind2, "bound"); b != nil {
		s.Bound = true
		if e := b.Child(NSSM, "enabled"); e != nil {
			s.SM = true
			s.SMID = Clip(e.Get("id"), maxSMID)
			r := e.Get("resume")
			s.SMResume = r == "true" || r == "1"
		}
		s.SMFailed = b.Child(NSSM, "failed") != nil
	}
	if t := n.Child(NSFAST, "token"); t != nil {
		tok := t.Get("token")
		if tok == "" || len(tok) > maxToken || !ValidString(tok) || strings.TrimSpace(tok) != tok {
			return nil, fmt.Errorf("%w: SASL2 success with an invalid FAST token", ErrProtocol)
		}
		s.Token = &FASTToken{Token: tok}
		if exp, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.Get("expiry"))); err == nil {
			s.Token.Expiry = exp
		}
	}
	return s, nil
}
