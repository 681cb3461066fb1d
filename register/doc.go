// Package register creates XMPP accounts with In-Band Registration
// ([XEP-0077]) and logs in with them, on top of mellium.im/xmpp.
//
// It covers what servers actually send: legacy fields and [XEP-0004] data
// forms, CAPTCHAs ([XEP-0158]) with images from Bits of Binary
// ([XEP-0231]), web registration links ([XEP-0066]), invitation tokens
// ([XEP-0401], [XEP-0445]), password change and account removal. It was
// tested against Prosody 0.12 and ejabberd 23.01.
//
// # Flows
//
// The one-call flow is [Client.Register]:
//
//	c := register.Client{}
//	acct, err := c.Register(ctx, "example.org", register.Request{
//		Username: "juliet",
//		Password: password,
//		Login:    true, // log in on the same stream
//		Solve: func(ctx context.Context, f *register.Form) error {
//			// Show f.Captcha.Image, ask the user, then:
//			return f.Set(f.Captcha.Field, answer)
//		},
//	})
//	if err != nil { ... }
//	go acct.Session.Serve(nil) // a logged-in *xmpp.Session
//
// Register connects, secures the stream, sends the invitation token if
// any, fetches the form, fills in username and password, calls Solve when
// the form needs more (a CAPTCHA, an e-mail address, …), submits it and,
// with Request.Login, authenticates with SASL on the same stream and binds
// a resource: one connection, about ten round trips. Without Login it
// closes the stream after the registration ("register only"); log in later
// with [Dialer.Dial] and [Conn.Login], or check with [Dialer.Confirm].
//
// The steps are available one by one for applications that show the form
// to a person, and for probes that only want to know what a server offers:
//
//	d := register.Dialer{}
//	conn, err := d.Dial(ctx, "example.org")  // TLS, features read
//	feats := conn.Features()                 // Register, InviteToken, Mechanisms
//	form, err := conn.Form(ctx)              // nothing submitted yet
//	form.SetUsername("juliet"); form.SetPassword(password)
//	err = conn.Submit(ctx, form)
//	sess, err := conn.Login(ctx, "juliet", password)
//
// Invitations: pass the URI (xmpp:example.org?register;preauth=TOKEN) or
// the bare token as Request.Invite, or call [Conn.Preauth] before
// [Conn.Form]. [ParseInvite] reads the URIs, including those that name the
// account (xmpp:juliet@example.org?register;preauth=…), which pre-fill the
// username.
//
// After logging in, [ChangePassword] and [Remove] act on the session's
// account (XEP-0077 §3.3 and §3.2), including the forms a server may ask
// for in an error (jabber:iq:register:changepassword and
// jabber:iq:register:cancel). They need the session's Serve loop running.
//
// [Client.Progress] reports each step ([Event]: connecting, secured, form
// received, submitting, registered, logging in, logged in).
//
// # Design
//
// The unauthenticated part of the stream is handled by this package, not
// by mellium's negotiator: TCP (or direct TLS), stream header and features,
// STARTTLS, TLS with crypto/tls, the secured stream's features, the
// registration IQs and SASL (with mellium.im/sasl). Only then is the
// authenticated TLS connection handed to mellium ([xmpp.NewSession] with
// the Secure and Authn bits and a negotiator that only binds a resource),
// so the caller gets an ordinary logged-in *xmpp.Session. mellium's
// negotiator is awkward before authentication: it always negotiates one
// optional feature per features list in map order, drops errors of
// optional features, fails with "features advertised out of order" when
// the secured stream offers nothing it knows, fixes the SASL password when
// the feature list is built, and cannot stop between "form received" and
// "submit" to let a person answer a CAPTCHA. Owning that part also keeps
// every read limited and every step under the caller's context, and lets
// the package pipeline requests (the invitation token and the form request
// go out together).
//
// # Security
//
// TLS is mandatory. Nothing but the stream header and the STARTTLS
// request is sent before the TLS handshake has succeeded and the
// certificate has been verified for the XMPP domain; the TLS ServerName is
// always the domain, also when [Dialer.Addr] names another host, and a
// configuration with InsecureSkipVerify is refused. A server that does not
// offer STARTTLS, or refuses it, ends the attempt with [ErrNoTLS]; there is
// no plain-text fallback. Plain-text data a server sends between
// <proceed/> and the handshake is refused (STARTTLS injection).
//
// Logins use SCRAM-SHA-256 or SCRAM-SHA-1, with channel binding (-PLUS,
// tls-exporter on TLS 1.3, tls-unique on 1.2) when the server offers it,
// and always verify the server's signature. ejabberd 23.01 advertises
// SCRAM-SHA-1-PLUS on TLS 1.3 but rejects the tls-exporter binding with
// "Invalid channel binding"; when a -PLUS attempt fails, the login is
// retried once on the same stream with the same SCRAM without channel
// binding (one more round trip). The certificate was already verified, so
// this does not help an attacker in the middle. PLAIN is only used if
// [Dialer.AllowPLAIN] is set, and only on the TLS stream.
//
// Passwords never appear in error messages ([Error.Error] and GoString
// leave them out, and server texts that echo them are scrubbed), in
// [Account.String] or [Form.String], or in the XML the [Dialer.Debug] hook
// receives: legacy <password/> and <old_password/>, data form fields of
// type text-private or whose name contains "password", SASL payloads and
// invitation tokens are replaced by "[redacted]", and values the
// connection has sent are scrubbed from received elements too (ejabberd
// echoes the submitted query, password included, in its errors).
//
// Everything read from the server is limited: [Dialer.MaxStanza] bytes per
// element (1 MiB by default), 32 levels of nesting, 8192 elements per
// stanza, [MaxFields] form fields, 256 values or options per field and
// [MaxBoBSize] bytes per CAPTCHA image. Violations return [ErrTooLarge];
// malformed or unexpected XML (including comments, processing instructions
// and DTDs) returns a [*ProtocolError] ([ErrProtocol]). Web registration
// links are offered only if they are https URLs.
//
// # Errors
//
// Server refusals and conditions the caller must act on are [*Error]
// values. Error.Kind classifies them, and errors.Is matches the Kind's
// sentinel: [ErrUsernameTaken], [ErrInvalidUsername], [ErrWeakPassword],
// [ErrCaptchaFailed], [ErrRateLimited] (with Error.RetryAfter when the
// server's text names a wait), [ErrRegistrationClosed], [ErrInviteRequired]
// (which also matches ErrRegistrationClosed), [ErrInviteInvalid],
// [ErrWebOnly] (with Error.RedirectURL), [ErrNotAdvertised],
// [ErrFormIncomplete] (with Error.Fields and Error.Form), [ErrOutcomeUnknown],
// [ErrLoginFailed] (wrapping a [*SASLError]), [ErrNoTLS], [ErrNotAllowed],
// [ErrFormRequired] and [ErrConnect]. An invalid domain is [ErrInvalidDomain],
// an invalid invitation [ErrInvalidInvite]; both are reported before anything
// is sent. Limits and protocol violations are [ErrTooLarge] and [ErrProtocol];
// interrupted steps match the context's error. The server's [stanza.Error] is kept in Error.Stanza and
// matched too: errors.Is(err, stanza.Error{Condition: stanza.Conflict}).
//
// Classification follows the error condition; the server's text only
// refines not-acceptable, not-allowed and bad-request, which servers use
// for several causes (Prosody: "The requested username is invalid.",
// "Registration on this server is through invitation only"; ejabberd: "The
// password is too weak", "The CAPTCHA verification has failed").
// policy-violation of type wait (Prosody's mod_register_limits) and
// resource-constraint (ejabberd's registration_timeout) are rate limits; a
// refused invitation token (forbidden on Prosody, item-not-found in the
// XEP) is ErrInviteInvalid.
//
// If the connection breaks after the form was sent and before the server
// answered, the outcome is unknown: the *Error has Kind KindOutcomeUnknown
// and carries the username and password, and [Dialer.Confirm] logs in on
// a new connection to find out (success: created; not-authorized: not
// created). If the account was created but the login on the same stream
// failed, Register returns the *Account and an error matching
// ErrLoginFailed. A stream the server ended before the submission (for
// example an idle timeout while a person solved a CAPTCHA) is detected
// before sending and is not "unknown".
//
// # Timeouts
//
// Every call that does I/O takes a context and honours its deadline and
// cancellation: the deadline is set on the connection and cancellation
// interrupts blocked reads and writes, so a server that stalls cannot hang
// a caller. In addition each network step (connecting, one request and
// its reply) is bounded by [Dialer.Timeout] (30 s by default); the earlier
// of the two wins. Time spent in Request.Solve is the caller's and is only
// bounded by ctx. An interrupted step leaves the stream in an unknown
// state: the connection is closed and later calls on the [Conn] fail.
// Errors from interrupted steps match the context error
// (context.DeadlineExceeded or context.Canceled). After [Conn.Login] the
// session belongs to the caller; [ChangePassword] and [Remove] are bounded
// by their ctx only.
//
// # Tolerances
//
// Servers differ from the specifications in a few ways this package
// accepts on purpose:
//
//   - CAPTCHA form type: older ejabberd versions put FORM_TYPE
//     urn:xmpp:captcha ([FormTypeCaptchaLegacy]) on registration forms
//     instead of jabber:iq:register (ejabberd issues #3045, #3093). Such a
//     form is treated as the registration form and its FORM_TYPE is echoed
//     unchanged on submission.
//   - Data forms with <reported/>, <item/>, validation or unknown children
//     are parsed (those parts are ignored); fields without a type are
//     text-single; non-fixed fields without a var and repeated vars are
//     dropped.
//   - A data form with an unknown FORM_TYPE is ignored when legacy fields
//     are present (XEP-0077 §6), and used otherwise.
//   - A CAPTCHA image without a media element is used when the form
//     carries exactly one Bits of Binary element.
//   - The web registration link is taken from the instructions when the
//     server sends no out-of-band element (some servers only write it
//     there).
//   - Prosody 0.12 offers SASL PLAIN and SCRAM-SHA-1 only; ejabberd 23.01's
//     -PLUS is handled as described under Security.
//
// # Round trips
//
// Counted on loopback with internal/latency against Prosody 0.12 and
// ejabberd 23.01 on TLS 1.3 (TestRoundTrips): [Dialer.Dial] with STARTTLS
// 4 (stream, STARTTLS, TLS handshake, secured stream; direct TLS saves
// one; the proxy sometimes counts 5 when a TLS session ticket arrives
// just before the stream header is sent, without the client waiting), [Conn.Form] 1 (plus 1 if a CAPTCHA image must be fetched by cid),
// [Conn.Submit] 1, [Conn.Login] 4 (SCRAM 2, stream restart 1, bind 1; 5 on
// ejabberd 23.01 because of the refused channel binding). Register with
// Login: 10 round trips on one connection; an invitation token adds none
// (it is pipelined with the form request).
//
// [XEP-0077]: https://xmpp.org/extensions/xep-0077.html
// [XEP-0004]: https://xmpp.org/extensions/xep-0004.html
// [XEP-0158]: https://xmpp.org/extensions/xep-0158.html
// [XEP-0231]: https://xmpp.org/extensions/xep-0231.html
// [XEP-0066]: https://xmpp.org/extensions/xep-0066.html
// [XEP-0401]: https://xmpp.org/extensions/xep-0401.html
// [XEP-0445]: https://xmpp.org/extensions/xep-0445.html
package register
