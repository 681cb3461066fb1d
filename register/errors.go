package register

import (
	"github.com/xmpp-onboard/onboard/internal/redact"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"

	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/stanza"
)

// Sentinel errors. Every error returned by this package that has a
// [Kind] matches the Kind's sentinel with errors.Is; more specific
// information is in the [*Error] (use errors.As).
var (
	// ErrUsernameTaken: the username is already registered (conflict).
	ErrUsernameTaken = errors.New("register: username already taken")
	// ErrInvalidUsername: the username is not acceptable to the server (or
	// is not a valid JID localpart).
	ErrInvalidUsername = errors.New("register: invalid username")
	// ErrWeakPassword: the server rejected the password (too weak, or
	// characters it does not accept).
	ErrWeakPassword = errors.New("register: password rejected")
	// ErrCaptchaFailed: the CAPTCHA answer was wrong, or the challenge had
	// expired or was already used. A new form is needed.
	ErrCaptchaFailed = errors.New("register: CAPTCHA failed")
	// ErrRateLimited: the server refuses registrations from this address
	// for now; see Error.RetryAfter.
	ErrRateLimited = errors.New("register: rate limited")
	// ErrRegistrationClosed: the server does not allow in-band registration
	// (it may still advertise it).
	ErrRegistrationClosed = errors.New("register: registration closed")
	// ErrInviteRequired: registration needs an invitation token.
	ErrInviteRequired = errors.New("register: invitation required")
	// ErrInviteInvalid: the invitation token is unknown, expired or used.
	ErrInviteInvalid = errors.New("register: invitation invalid")
	// ErrWebOnly: the server only allows registration on a web page; see
	// Error.RedirectURL (an https URL, or empty when none was offered).
	ErrWebOnly = errors.New("register: registration only on the web")
	// ErrNotAdvertised: the server does not advertise in-band registration
	// on the secured stream. It also matches ErrRegistrationClosed: a
	// server that does not advertise registration is the most common
	// closed server (Prosody with allow_registration off).
	ErrNotAdvertised = errors.New("register: in-band registration not advertised")
	// ErrFormIncomplete: required form fields are empty (see
	// [Form.Missing]); nothing was sent.
	ErrFormIncomplete = errors.New("register: form incomplete")
	// ErrOutcomeUnknown: the connection ended after the registration was
	// sent and before the server answered. The account may or may not
	// exist; Error.Username and Error.Password hold the credentials, see
	// [Dialer.Confirm].
	ErrOutcomeUnknown = errors.New("register: outcome unknown")
	// ErrLoginFailed: SASL authentication failed.
	ErrLoginFailed = errors.New("register: login failed")
	// ErrNoTLS: the server did not offer STARTTLS (or TLS failed); nothing
	// was sent in plain text.
	ErrNoTLS = errors.New("register: TLS not available")
	// ErrNotAllowed: the server refused a password change or account
	// removal.
	ErrNotAllowed = errors.New("register: not allowed")
	// ErrFormRequired: the server asked for more data in a form (see
	// Error.Form) before it changes the password or removes the account.
	ErrFormRequired = errors.New("register: server requires a form")
	// ErrTooLarge: the server sent more than the limits allow (size,
	// nesting, number of fields, image size).
	ErrTooLarge = errors.New("register: server data exceeds limits")
	// ErrProtocol: the server broke the protocol (see [ProtocolError]).
	ErrProtocol = errors.New("register: protocol error")
	// ErrConnect: no connection could be made (SRV lookup, TCP connect or
	// the TLS handshake failed for a reason other than the certificate).
	ErrConnect = errors.New("register: cannot connect")
	// ErrInvalidDomain: the domain is not a valid XMPP domain; nothing was
	// sent.
	ErrInvalidDomain = errors.New("register: invalid domain")
	// ErrAlreadyRegistered: the server says the stream is already
	// registered (<registered/> in the form, XEP-0077 §3.1); a submission
	// would change that registration, so nothing was submitted.
	ErrAlreadyRegistered = errors.New("register: already registered")
)

// Kind classifies an [Error].
type Kind int

// Error kinds. Each has a sentinel error of the same name with an Err
// prefix (KindUsernameTaken ↔ ErrUsernameTaken).
const (
	KindUnknown Kind = iota
	KindUsernameTaken
	KindInvalidUsername
	KindWeakPassword
	KindCaptchaFailed
	KindRateLimited
	KindRegistrationClosed
	KindInviteRequired
	KindInviteInvalid
	KindWebOnly
	KindNotAdvertised
	KindFormIncomplete
	KindOutcomeUnknown
	KindLoginFailed
	KindNoTLS
	KindNotAllowed
	KindFormRequired
	KindConnect
	KindAlreadyRegistered
)

var kindInfo = [...]struct {
	name string
	err  error
}{
	KindUnknown:            {"unknown", nil},
	KindUsernameTaken:      {"username taken", ErrUsernameTaken},
	KindInvalidUsername:    {"invalid username", ErrInvalidUsername},
	KindWeakPassword:       {"password rejected", ErrWeakPassword},
	KindCaptchaFailed:      {"CAPTCHA failed", ErrCaptchaFailed},
	KindRateLimited:        {"rate limited", ErrRateLimited},
	KindRegistrationClosed: {"registration closed", ErrRegistrationClosed},
	KindInviteRequired:     {"invitation required", ErrInviteRequired},
	KindInviteInvalid:      {"invitation invalid", ErrInviteInvalid},
	KindWebOnly:            {"web registration only", ErrWebOnly},
	KindNotAdvertised:      {"registration not advertised", ErrNotAdvertised},
	KindFormIncomplete:     {"form incomplete", ErrFormIncomplete},
	KindOutcomeUnknown:     {"outcome unknown", ErrOutcomeUnknown},
	KindLoginFailed:        {"login failed", ErrLoginFailed},
	KindNoTLS:              {"TLS not available", ErrNoTLS},
	KindNotAllowed:         {"not allowed", ErrNotAllowed},
	KindFormRequired:       {"form required", ErrFormRequired},
	KindConnect:            {"cannot connect", ErrConnect},
	KindAlreadyRegistered:  {"already registered", ErrAlreadyRegistered},
}

// String returns a short description such as "username taken".
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindInfo) {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindInfo[k].name
}

// Sentinel returns the sentinel error of k (ErrUsernameTaken for
// KindUsernameTaken), or nil for KindUnknown.
func (k Kind) Sentinel() error {
	if k <= 0 || int(k) >= len(kindInfo) {
		return nil
	}
	return kindInfo[k].err
}

// Error is the error returned for everything the server refused or that
// needs the caller's attention. It keeps the server's stanza error and
// classifies it.
//
// errors.Is matches the Kind's sentinel (ErrUsernameTaken, …), the
// server's [stanza.Error] (errors.Is(err, stanza.Error{Condition:
// stanza.Conflict})) and the underlying network or context error, if any.
//
// The password in an Error is never part of its message.
type Error struct {
	// Kind classifies the error.
	Kind Kind
	// Op is the step that failed: "dial", "preauth", "form", "submit",
	// "login", "change-password", "remove".
	Op string
	// Stanza is the server's error as sent (condition, type, text), or nil
	// if the server sent none.
	Stanza *stanza.Error
	// RetryAfter is how long the server asked to wait (KindRateLimited),
	// when its error text says so; zero when unknown.
	RetryAfter time.Duration
	// RedirectURL is the https page for web registration (KindWebOnly), or
	// "".
	RedirectURL string
	// PlainHTTP reports (KindWebOnly) that the server offered web
	// registration on a plain http page only: it is not offered in
	// RedirectURL (links are https only), but the server does register on
	// the web.
	PlainHTTP bool
	// Form is a new form the server sent with the error (for example a
	// fresh CAPTCHA, or the changepassword/cancel form for
	// KindFormRequired), or nil. Whatever the connection had sent
	// (password, invitation token) is replaced by "[redacted]" in its
	// texts and values, wherever the server echoed it.
	Form *Form
	// Fields names the empty required fields (KindFormIncomplete).
	Fields []string
	// Username and Password are the submitted credentials when the outcome
	// is unknown (KindOutcomeUnknown) or when the account was created but
	// the login failed. Password is never printed by Error or GoString.
	Username, Password string
	// Err is the underlying error (network, TLS, context, SASL), or nil.
	Err error
}

// Error returns "register: OP: KIND: DETAIL". It never contains a
// password.
//
// Error and GoString have value receivers so that printing an Error value
// (not only a pointer) with any verb never shows the password either.
func (e Error) Error() string {
	var b strings.Builder
	b.WriteString("register: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Stanza != nil {
		b.WriteString(" (")
		b.WriteString(string(e.Stanza.Type))
		b.WriteByte('/')
		b.WriteString(string(e.Stanza.Condition))
		if t := stanzaText(*e.Stanza); t != "" {
			b.WriteString(": ")
			b.WriteString(strconv.Quote(scrub(t, e.Password)))
		}
		b.WriteByte(')')
	}
	if len(e.Fields) > 0 {
		b.WriteString(": missing ")
		b.WriteString(strings.Join(e.Fields, ", "))
	}
	if e.RetryAfter > 0 {
		b.WriteString("; retry after ")
		b.WriteString(e.RetryAfter.String())
	}
	if e.RedirectURL != "" {
		b.WriteString("; register at ")
		b.WriteString(e.RedirectURL)
	} else if e.PlainHTTP {
		b.WriteString(", over plain http (not offered)")
	}
	if e.Username != "" && e.Kind == KindOutcomeUnknown {
		b.WriteString("; username ")
		b.WriteString(strconv.Quote(e.Username))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(scrub(e.Err.Error(), e.Password))
	}
	return b.String()
}

// GoString is like Error, so that %#v does not print the password either.
func (e Error) GoString() string { return "&register.Error{" + strconv.Quote(e.Error()) + "}" }

// Is reports whether target is the sentinel of e.Kind, or ErrRegistrationClosed
// for KindInviteRequired (invite-only servers are closed to everyone else)
// and for KindNotAdvertised (a server that does not advertise registration
// is closed, the commonest case).
func (e *Error) Is(target error) bool {
	if s := e.Kind.Sentinel(); s != nil && s == target {
		return true
	}
	return (e.Kind == KindInviteRequired || e.Kind == KindNotAdvertised) && target == ErrRegistrationClosed
}

// Unwrap returns the underlying errors: Err and the stanza error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Stanza != nil {
		errs = append(errs, *e.Stanza)
	}
	return errs
}

// stanzaText returns the error text, preferring the text without a
// language tag, then English, then any.
func stanzaText(se stanza.Error) string {
	if t, ok := se.Text[""]; ok {
		return t
	}
	for _, l := range []string{"en", "en-US", "en-GB"} {
		if t, ok := se.Text[l]; ok {
			return t
		}
	}
	best := ""
	for l, t := range se.Text {
		if best == "" || l < best {
			best = l
		}
		_ = t
	}
	return se.Text[best]
}

// scrub replaces every occurrence of each non-empty secret in s.
func scrub(s string, secrets ...string) string {
	return redact.New(secrets...).String(s)
}

// scrubStanza removes secrets from the texts of se.
func scrubStanza(se *stanza.Error, secrets ...string) {
	for l, t := range se.Text {
		se.Text[l] = scrub(t, secrets...)
	}
}

// Operation names used in Error.Op.
const (
	opDial     = "dial"
	opPreauth  = "preauth"
	opForm     = "form"
	opSubmit   = "submit"
	opLogin    = "login"
	opChangePW = "change-password"
	opRemove   = "remove"
	opBoB      = "captcha-image"
)

// classify maps a stanza error received for op to a Kind. The condition
// decides; the human text only refines not-acceptable, not-allowed and
// bad-request, which servers use for several causes (see doc.go # Errors).
// captcha is true when the submitted form carried a CAPTCHA answer: then
// the answers of XEP-0158 §3.1.3 are a failed CAPTCHA (cancel/not-acceptable:
// a wrong answer; service-unavailable: the challenge is unknown, expired or
// already used).
func classify(op string, se stanza.Error, captcha bool) Kind {
	text := strings.ToLower(stanzaText(se))
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(text, w) {
				return true
			}
		}
		return false
	}
	switch op {
	case opPreauth:
		return KindInviteInvalid
	case opChangePW, opRemove:
		switch se.Condition {
		case stanza.NotAcceptable:
			if has("password") {
				return KindWeakPassword
			}
		case stanza.NotAllowed, stanza.Forbidden, stanza.NotAuthorized,
			stanza.ServiceUnavailable, stanza.FeatureNotImplemented:
			return KindNotAllowed
		}
		return KindUnknown
	}
	switch se.Condition {
	case stanza.Conflict:
		return KindUsernameTaken
	case stanza.JIDMalformed:
		return KindInvalidUsername
	case stanza.ResourceConstraint:
		// ejabberd: registration_timeout ("Users are not allowed to
		// register accounts so quickly") and captcha_limit ("Too many
		// CAPTCHA requests").
		return KindRateLimited
	case stanza.PolicyViolation:
		if se.Type == stanza.Wait || has("too many", "quickly", "recently", "rate", "wait") {
			return KindRateLimited
		}
		return KindRegistrationClosed
	case stanza.ServiceUnavailable:
		switch {
		case has("invit"):
			return KindInviteRequired
		case op == opSubmit && (captcha || has("captcha", "challenge")):
			// XEP-0158 §3.1.3: the challenge is unknown, was already
			// answered or has expired; a new form brings a new one.
			return KindCaptchaFailed
		}
		return KindRegistrationClosed
	case stanza.FeatureNotImplemented, stanza.Forbidden,
		stanza.RegistrationRequired, stanza.NotAuthorized:
		if has("invit") {
			return KindInviteRequired
		}
		return KindRegistrationClosed
	case stanza.Redirect, stanza.Gone:
		return KindWebOnly
	case stanza.NotAllowed:
		if captcha || has("captcha") {
			return KindCaptchaFailed
		}
		return KindRegistrationClosed
	case stanza.BadRequest:
		if has("captcha") {
			return KindCaptchaFailed
		}
		if has("username", "user name", "jid", "nodeprep", "malformed") {
			return KindInvalidUsername
		}
		if has("missing", "required") {
			return KindFormIncomplete
		}
	case stanza.NotAcceptable:
		switch {
		case has("invit"):
			return KindInviteRequired
		case has("too many", "quickly", "too often"):
			// XEP-0077 §3.1.1: a server MAY refuse an entity that
			// registers too many times.
			return KindRateLimited
		case has("captcha"):
			return KindCaptchaFailed
		case has("password"):
			if has("missing", "required") {
				return KindFormIncomplete
			}
			return KindWeakPassword
		case has("username", "user name", "jid", "nodeprep", "malformed", "invalid"):
			return KindInvalidUsername
		case has("missing", "required"):
			return KindFormIncomplete
		case captcha && se.Type != stanza.Modify:
			// XEP-0158 §3.1.3: a wrong answer is cancel/not-acceptable.
			return KindCaptchaFailed
		}
		// XEP-0077 §3.1: not-acceptable (modify, code 406) means that
		// required information was not provided.
		return KindFormIncomplete
	}
	return KindUnknown
}

// legacyCodes maps the error codes of old servers (jabber:iq:register
// before RFC 3920: <error code='409'>…</error> without a condition
// element) to the conditions and types of XEP-0086 §3.
var legacyCodes = map[string]struct {
	cond stanza.Condition
	typ  stanza.ErrorType
}{
	"302": {stanza.Redirect, stanza.Modify},
	"400": {stanza.BadRequest, stanza.Modify},
	"401": {stanza.NotAuthorized, stanza.Auth},
	// 402 Payment Required: payment-required is not a condition of RFC
	// 6120; forbidden (auth) is the nearest.
	"402": {stanza.Forbidden, stanza.Auth},
	"403": {stanza.Forbidden, stanza.Auth},
	"404": {stanza.ItemNotFound, stanza.Cancel},
	"405": {stanza.NotAllowed, stanza.Cancel},
	"406": {stanza.NotAcceptable, stanza.Modify},
	"407": {stanza.RegistrationRequired, stanza.Auth},
	"408": {stanza.RemoteServerTimeout, stanza.Wait},
	"409": {stanza.Conflict, stanza.Cancel},
	"500": {stanza.InternalServerError, stanza.Wait},
	"501": {stanza.FeatureNotImplemented, stanza.Cancel},
	"502": {stanza.ServiceUnavailable, stanza.Wait},
	"503": {stanza.ServiceUnavailable, stanza.Cancel},
	"504": {stanza.RemoteServerTimeout, stanza.Wait},
	"510": {stanza.ServiceUnavailable, stanza.Cancel},
}

// withLegacyCode completes se, decoded from the stanza st, for a legacy
// error that has only a code (XEP-0086; XEP-0077 §8 asks clients to
// understand both styles): the condition and, if missing, the type come
// from the code, the text from the error's character data. An error with
// a condition element is returned unchanged.
func withLegacyCode(st *node, se stanza.Error) stanza.Error {
	var e *node
	for _, k := range st.Children {
		if k.Name.Local == "error" && (k.Name.Space == nsClient || k.Name.Space == "") {
			e = k
			break
		}
	}
	if e == nil {
		return se
	}
	for _, k := range e.Children {
		if k.Name.Space == nsStanzaError && k.Name.Local != "text" {
			return se
		}
	}
	m, ok := legacyCodes[strings.TrimSpace(e.Get("code"))]
	if !ok {
		return se
	}
	se.Condition = m.cond
	if se.Type == "" {
		se.Type = m.typ
	}
	if t := strings.TrimSpace(e.Text); t != "" && len(se.Text) == 0 {
		se.Text = map[string]string{"": xmppconn.Clip(t, xmppconn.MaxErrorText)}
	}
	return se
}

var retryRE = regexp.MustCompile(`(\d{1,6})\s*(s|sec|secs|second|seconds|min|mins|minute|minutes|h|hour|hours)\b`)

// retryAfter extracts a wait time from a server's error text such as
// "try again in 30 seconds"; zero when there is none.
func retryAfter(se stanza.Error) time.Duration {
	m := retryRE.FindStringSubmatch(strings.ToLower(stanzaText(se)))
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0
	}
	unit := time.Second
	switch m[2][0] {
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	}
	d := time.Duration(n) * unit
	if d > 24*time.Hour {
		d = 24 * time.Hour
	}
	return d
}

// stanzaErr builds an *Error for a stanza error received for op.
func stanzaErr(op string, se stanza.Error, f *Form, secrets ...string) *Error {
	scrubStanza(&se, secrets...)
	captcha := f != nil && f.Captcha != nil
	e := &Error{Op: op, Kind: classify(op, se, captcha), Stanza: &se}
	if e.Kind == KindRateLimited {
		e.RetryAfter = retryAfter(se)
	}
	return e
}

// opError wraps a failure that is not a server refusal (network, context,
// limits, protocol) with the step that failed.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string {
	return fmt.Sprintf("register: %s: %s", e.op, trimPrefix(e.err.Error()))
}
func (e *opError) Unwrap() error { return e.err }
