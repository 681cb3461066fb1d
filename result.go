package onboard

import (
	"errors"
	"net"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard/discovery"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// Result is the outcome of [Signup.Run]: a new account, logged in, and
// what to show the newcomer about the provider.
//
// When the user accepted a web registration ([Signup.AcceptRedirect]),
// RedirectURL is set instead: no account was created, JID is zero and
// Session nil; open the page for the user.
type Result struct {
	// JID is the new account's bare address, user@domain.
	JID jid.JID
	// Password is the account's password (never printed by String or
	// GoString). Store it: when Signup.Password was empty it was
	// generated (PasswordGenerated) and the user does not know it.
	Password string
	// PasswordGenerated reports that Password was made by
	// [RandomPassword].
	PasswordGenerated bool
	// Session is logged in with the new account and has a bound resource.
	// The caller owns it: run its Serve method to use it, or end it with
	// [Result.Close]. Nil when the login after a successful registration
	// failed (Run then also returns an error matching
	// register.ErrLoginFailed).
	Session *xmpp.Session
	// Provider is the provider's record from the list (or, for a server
	// that is not in the list, a record that only knows its domain; see
	// providers.New).
	Provider providers.Provider
	// Info is what to show a newcomer about the provider, in the user's
	// language.
	Info Info
	// RedirectURL is the https page where the user can sign up, when
	// [Signup.AcceptRedirect] accepted a web-only provider; "" otherwise.
	RedirectURL string
	// Attempts are the providers that failed before this one, in the
	// order they failed.
	Attempts []*AttemptError
	// Report is what Signup.Probe observed, or nil without a probe.
	Report *discovery.Report
	// Token is the XEP-0484 FAST token the provider issued at the login
	// (SASL2 servers: Prosody 13 with mod_sasl2_fast, ejabberd 24.12 with
	// mod_auth_fast), for register.Dialer.LoginFAST; nil without one. It
	// is a credential: neither String nor GoString shows it, and nothing
	// stores it.
	Token *register.Token
}

// String returns the account's address (or the redirect), never the
// password; it has a value receiver so that printing a Result value is
// safe too.
func (r Result) String() string {
	if r.RedirectURL != "" {
		return "onboard.Result{web registration at " + r.RedirectURL + "}"
	}
	return "onboard.Result{" + r.JID.String() + ", password [redacted]}"
}

// GoString is String, so that %#v hides the password too.
func (r Result) GoString() string { return r.String() }

// Close ends the session, if any: it sends the end of the stream and
// closes the connection. Use it when the application does not keep the
// session.
func (r *Result) Close() error {
	if r == nil || r.Session == nil {
		return nil
	}
	err := r.Session.Close()
	if cerr := r.Session.Conn().Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}

// Info is what a client shows a newcomer about their new provider: where
// to get help, what the service keeps, where the rules are. Texts and
// addresses are in the user's language when the provider publishes them
// in it, else in English, else in any language (providers.Localized.Pick).
// Empty strings and lists mean the list does not say.
type Info struct {
	// Domain is the provider's XMPP domain.
	Domain string
	// Category is the XMPP Providers category (A is best).
	Category providers.Category
	// Website is the provider's web site.
	Website string
	// PasswordReset is the page (or instructions) for a forgotten
	// password. Worth showing at sign-up: in-band accounts often have no
	// e-mail address to reset with.
	PasswordReset string
	// LegalNotice is the provider's legal notice or terms.
	LegalNotice string
	// EmailSupport, ChatSupport and GroupChatSupport are support
	// addresses (e-mail addresses, XMPP addresses, group chats).
	EmailSupport, ChatSupport, GroupChatSupport []string
	// UploadFileSize is the largest file that can be shared.
	UploadFileSize providers.Megabytes
	// UploadStorageTime is how long shared files are kept.
	UploadStorageTime providers.Days
	// ArchiveStorageTime is how long the server keeps the message
	// history.
	ArchiveStorageTime providers.Days
	// ServerLocations are the countries of the servers (ISO 3166-1
	// alpha-2, lower case).
	ServerLocations []string
	// Since is when the service started.
	Since providers.Date
}

// Describe returns what to show a newcomer about p, in language lang (an
// ISO 639-1 code or a tag such as "de-AT"; "" means English, then any).
func Describe(p providers.Provider, lang string) Info {
	var langs []string
	if lang != "" {
		langs = []string{lang}
	}
	pick := func(l providers.Localized) string {
		v, _, _ := l.Pick(langs...)
		return v
	}
	pickList := func(l providers.LocalizedList) []string {
		v, _, _ := l.Pick(langs...)
		return append([]string(nil), v...)
	}
	return Info{
		Domain:             p.JID,
		Category:           p.Category,
		Website:            pick(p.Website),
		PasswordReset:      pick(p.PasswordReset),
		LegalNotice:        pick(p.LegalNotice),
		EmailSupport:       pickList(p.EmailSupport),
		ChatSupport:        pickList(p.ChatSupport),
		GroupChatSupport:   pickList(p.GroupChatSupport),
		UploadFileSize:     p.UploadFileSize,
		UploadStorageTime:  p.UploadStorageTime,
		ArchiveStorageTime: p.ArchiveStorageTime,
		ServerLocations:    append([]string(nil), p.ServerLocations...),
		Since:              p.Since,
	}
}
