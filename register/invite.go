package register

import (
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"net/url"
	"strings"

	"mellium.im/xmpp/jid"
)

// ErrMalformedInvite is returned by [ParseInvite] for input that is neither
// an invitation URI nor a plausible token.
var ErrMalformedInvite = errors.New("register: malformed invitation")

// ErrInvitePage is matched, together with ErrMalformedInvite, by the error
// of [ParseInvite] for an https link to an invitation web page that
// carries no XMPP URI itself (Prosody's https://example.org/invite?TOKEN):
// the URI is in the page, and [InviteFetcher] reads it, where the
// application allows a fetch.
var ErrInvitePage = errors.New("register: the invitation is a web page")

// maxToken bounds the length of an invitation token.
const maxToken = 1024

// Invite is a parsed invitation (XEP-0401 URI or bare XEP-0445 token).
type Invite struct {
	// Token is the pre-authentication token (the "preauth" parameter).
	Token string
	// Domain is the server to register on; "" for a bare token.
	Domain string
	// Username is the account name the invitation was made for, or "". It
	// is set for account invitations that name a user
	// (xmpp:juliet@example.com?register;preauth=…).
	Username string
	// Inviter is the inviting user's address for contact invitations
	// (xmpp:romeo@example.com?roster;preauth=…;ibr=y); the new account is
	// then created on the inviter's server. "" otherwise.
	Inviter string
	// Action is the URI's query action: "register" or "roster"; "" for a
	// bare token.
	Action string
}

// String describes the invitation without its token (value receiver, so
// that printing an Invite with any verb is safe).
func (inv Invite) String() string {
	return fmt.Sprintf("register.Invite{Action: %q, Domain: %q, Username: %q, Inviter: %q, Token: %s}",
		inv.Action, inv.Domain, inv.Username, inv.Inviter, redactedStr)
}

// GoString is String, for %#v.
func (inv Invite) GoString() string { return inv.String() }

// ParseInvite parses an invitation: an XMPP URI such as
// "xmpp:example.com?register;preauth=TOKEN",
// "xmpp:juliet@example.com?register;preauth=TOKEN" (the account name is
// given) or "xmpp:romeo@example.com?roster;preauth=TOKEN;ibr=y" (a contact
// invitation that allows registration), an https landing page link with
// such a URI after "#" (easy-xmpp-invitation:
// "https://xmpp.link/#romeo@example.com?roster;preauth=TOKEN;ibr=y", with
// or without "xmpp:"; nothing is fetched), or a bare token. Parameter
// values are percent-decoded as RFC 5122 says; "+" is a plus sign, not a
// space. Errors match ErrMalformedInvite; a link to an invitation page
// without a URI after "#" also matches [ErrInvitePage].
func ParseInvite(s string) (Invite, error) {
	s = strings.TrimSpace(s)
	bad := func(format string, args ...any) (Invite, error) {
		return Invite{}, fmt.Errorf("%w: "+format, append([]any{ErrMalformedInvite}, args...)...)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > 4*maxToken {
		return bad("too long")
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") {
		return parseLanding(s)
	}
	if !strings.HasPrefix(lower, "xmpp:") {
		if strings.Contains(s, ":") && !strings.ContainsAny(s, " \t") && strings.Contains(s, "/") {
			return bad("not an xmpp: URI")
		}
		if err := checkToken(s); err != nil {
			return bad("%v", err)
		}
		return Invite{Token: s}, nil
	}
	rest := s[len("xmpp:"):]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	path, query, _ := strings.Cut(rest, "?")
	if strings.HasPrefix(path, "//") {
		// xmpp://auth@host/target: skip the authority component.
		p := path[2:]
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return bad("URI has no target address")
		}
		path = p[i+1:]
	}
	addr, err := url.PathUnescape(path)
	if err != nil {
		return bad("address: %v", err)
	}
	j, err := jid.Parse(addr)
	if err != nil {
		return bad("address %q: %v", addr, err)
	}
	if j.Resourcepart() != "" {
		return bad("address %q has a resource", addr)
	}
	inv := Invite{Domain: j.Domainpart()}
	params := strings.Split(query, ";")
	inv.Action = params[0]
	ibr := false
	for _, p := range params[1:] {
		k, v, _ := strings.Cut(p, "=")
		// RFC 5122 §2.2: percent-encoding only; "+" is itself.
		v, err = url.PathUnescape(v)
		if err != nil {
			return bad("parameter %s: %v", k, err)
		}
		switch k {
		case "preauth":
			inv.Token = v
		case "ibr":
			ibr = v == "y" || v == "yes" || v == "true" || v == "1"
		}
	}
	switch inv.Action {
	case "register":
		inv.Username = j.Localpart()
	case "roster":
		if !ibr {
			return bad("contact invitation without ibr=y does not allow registration")
		}
		inv.Inviter = j.Bare().String()
	default:
		return bad("action %q is not register or roster", inv.Action)
	}
	if err := checkToken(inv.Token); err != nil {
		return bad("%v", err)
	}
	return inv, nil
}

// parseLanding reads an invitation landing page link: the URI after "#"
// (easy-xmpp-invitation), or, without one, an ErrInvitePage for an https
// page (Prosody's mod_invites_page).
func parseLanding(s string) (Invite, error) {
	page, frag, hasFrag := strings.Cut(s, "#")
	if !strings.HasPrefix(strings.ToLower(page), "https://") {
		return Invite{}, fmt.Errorf("%w: %q is not an https link", ErrMalformedInvite, clipInvite(redactQuery(page)))
	}
	if hasFrag && strings.TrimSpace(frag) != "" {
		if u, err := url.PathUnescape(frag); err == nil && strings.HasPrefix(strings.ToLower(u), "xmpp:") {
			// Some pages percent-encode the whole URI.
			frag = u
		}
		if !strings.HasPrefix(strings.ToLower(frag), "xmpp:") {
			frag = "xmpp:" + frag
		}
		inv, err := ParseInvite(frag)
		if err != nil {
			return Invite{}, fmt.Errorf("%w (in the link's fragment)", err)
		}
		return inv, nil
	}
	// Where it may be fetched from is the InviteFetcher's policy; here
	// only the shape is checked.
	if u, err := url.Parse(page); err != nil || u.Host == "" || u.User != nil || !xmppconn.ValidString(page) || strings.ContainsAny(page, " \t\r\n") {
		return Invite{}, fmt.Errorf("%w: %q is not a link that may be fetched", ErrMalformedInvite, clipInvite(redactQuery(page)))
	}
	return Invite{}, fmt.Errorf("%w: %w: %s (its XMPP URI is in the page)", ErrMalformedInvite, ErrInvitePage, clipInvite(redactQuery(page)))
}

// redactQuery hides the query of a page link (it holds the token).
func redactQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i] + "?" + redactedStr
	}
	return s
}

// clipInvite shortens s for an error message.
func clipInvite(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// checkToken refuses tokens that cannot be sent as an XML attribute or are
// implausible.
func checkToken(t string) error {
	switch {
	case t == "":
		return errors.New("no preauth token")
	case len(t) > maxToken:
		return fmt.Errorf("token longer than %d bytes", maxToken)
	case !xmppconn.ValidString(t):
		return errors.New("token is not valid text")
	}
	for _, r := range t {
		if r <= ' ' || r == 0x7f {
			return errors.New("token contains spaces or control characters")
		}
	}
	return nil
}
