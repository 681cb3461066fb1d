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
// a resource: one connection, five round trips to the account over
// STARTTLS (four over direct TLS) and two more to a logged-in session (see
// the section on round trips below). Without Login it closes the stream
// after the registration ("register only"); log in later with
// [Dialer.Dial] and [Conn.Login], or check with [Dialer.Confirm].
//
// Register's two steps, with the same pipelining, are [Dialer.DialForm]
// (connect; the form request goes out with the secured stream header) and
// [Conn.Register] (submit; the SASL <auth/> goes out with the
// submission). An application that shows the form to a person in between
// uses them (onboard.Signup does):
//
//	conn, form, err := d.DialForm(ctx, "example.org", register.FormOptions{})
//	form.SetUsername("juliet"); form.SetPassword(password)
//	acct, err := conn.Register(ctx, form, true) // acct.Session is logged in
//
// A refused registration leaves the stream usable for another submission
// (a new name, a new CAPTCHA answer). A registration with login is never
// submitted when the server offers no SASL mechanism this package can log
// in with ([ErrNoMechanism]): the name would be taken and the user left
// without a usable account. [ParseForm] reads a form fetched on a stream
// of the application's own.
//
// The single steps are available too, for probes and for tests:
//
//	d := register.Dialer{}
//	conn, err := d.Dial(ctx, "example.org")  // TLS, features read
//	feats := conn.Features()                 // Register, InviteToken, Mechanisms
//	form, err := conn.Form(ctx)              // nothing submitted yet
//	form.SetUsername("juliet"); form.SetPassword(password)
//	err = conn.Submit(ctx, form)
//	sess, err := conn.Login(ctx, "juliet", password)
//
// Whether a server that serves the form really takes registrations
// (ejabberd serves it even when its access rule denies everyone) is told by
// [Conn.ProbeOpen], without creating an account: one submission with a
// random name and an empty password, for applications asked for a live
// check.
//
// Invitations: pass the URI (xmpp:example.org?register;preauth=TOKEN) or
// the bare token as Request.Invite, or call [Conn.Preauth] before
// [Conn.Form]. [ParseInvite] reads the URIs, including those that name the
// account (xmpp:juliet@example.org?register;preauth=…), which pre-fill the
// username, and landing page links with the URI after "#"
// (easy-xmpp-invitation: https://xmpp.link/#example.org?register;preauth=…)
// without fetching anything. A link to an invitation page (Prosody's
// https://example.org/invite?TOKEN) is an [ErrInvitePage]: its URI is in the
// page, which an [InviteFetcher] reads (Request.InvitePages) where the
// application allows it: https only, public addresses only by default,
// bounded in size and time. The token is sent only to a server that
// advertises invitations (XEP-0445's urn:xmpp:ibr-token:0 or XEP-0401's
// urn:xmpp:invite); elsewhere plain registration is tried, as XEP-0445
// allows, and so it is when the server answers the token with
// service-unavailable.
//
// CAPTCHAs: a form may carry several XEP-0158 challenges (Form.Captchas:
// ocr, qa, picture_recog, picture_q, speech_recog, speech_q, audio_recog,
// video_recog, video_q, hashcash), some required, and ask for a number of
// answers; Form.Captcha is the one to show first and [Form.NextCaptcha] the
// next one still needed, and [Form.Missing] lists the unanswered ones until
// enough are answered, so nothing is submitted short of answers. Media over
// plain http is not offered (Captcha.PlainHTTP says so); an https fallback
// page (ejabberd's captcha-fallback-url) is Captcha.FallbackURL. A form
// that says <registered/> (the server has a registration on file for the
// stream) is not submitted: [ErrAlreadyRegistered].
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
// The stream up to a bound resource is handled by this package, not by
// mellium's negotiator: TCP (or direct TLS), stream header and features,
// STARTTLS, TLS with crypto/tls, the secured stream's features, the
// registration IQs, SASL (with mellium.im/sasl), the stream restart and
// resource binding. Only then is the TLS connection handed to mellium
// ([xmpp.NewSession] with the Secure and Authn bits and a negotiator that
// reads a copy of the server's stream header and declares the session
// ready without sending anything), so the caller gets an ordinary
// logged-in *xmpp.Session whose Serve, SendIQ and the like work as usual.
// mellium's negotiator is awkward before authentication: it always
// negotiates one optional feature per features list in map order, drops
// errors of optional features, fails with "features advertised out of
// order" when the secured stream offers nothing it knows, fixes the SASL
// password when the feature list is built, and cannot stop between "form
// received" and "submit" to let a person answer a CAPTCHA. It also waits
// for every features list before it sends anything. Owning that part keeps
// every read limited and every step under the caller's context, and lets
// the package pipeline requests.
//
// # Pipelining
//
// A newcomer waits while an account is created, and on a mobile network
// every round trip costs 50–300 ms. Requests that do not depend on an
// answer are therefore sent together, in the spirit of XEP-0305 (XMPP
// Quickstart, §3) and of SMTP pipelining (RFC 2920); servers process a
// stream's elements in order, so the answers come back in order:
//
//   - <starttls/> goes out with the first stream header, before the
//     features arrive. TLS is required anyway, and nothing else is ever
//     sent before TLS is up. The features are still read: if they do not
//     offer STARTTLS, the attempt ends with [ErrNoTLS] as before (the
//     server refuses or ignores the request).
//   - The secured stream's header goes out right after the TLS handshake
//     (with TLS 1.3, in the same flight as the client's Finished), and
//     [Client.Register] adds the invitation token and the form request to
//     it. The features are read when they arrive: without the <register/>
//     feature (and without Request.Force or a token) nothing is submitted;
//     the form is only filled in and submitted after it has arrived.
//   - With Request.Login, the SASL <auth/> (for SCRAM the client-first
//     message: the username and a nonce, no password) goes out with the
//     submitted form, the mechanism chosen from the features already read.
//     If the registration is refused, its error is returned and the
//     authentication's answer ignored (the stream is then closed). If the
//     server refuses that early authentication, it is tried once more.
//   - After SASL success the new stream header and the resource binding
//     request go out together, without waiting for the features (every
//     server offers binding after authentication; one that does not
//     answers the request with an error).
//
// [Dialer.NoPipelining] turns all of this off: then every request waits for
// the answer to the previous one.
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
// Logins use SCRAM-SHA-256 or SCRAM-SHA-1 and always verify the server's
// signature. Channel binding (-PLUS: tls-exporter on TLS 1.3, tls-unique on
// 1.2) is used when the server's offer can work: when it advertises the
// binding type of the connection with XEP-0440 (Features.ChannelBindings),
// or, without XEP-0440, on TLS 1.2 (tls-unique is then the default of RFC
// 5802), or when it offers nothing but -PLUS. A -PLUS offer on TLS 1.3
// without XEP-0440 is not taken: ejabberd 23.01 makes exactly that offer
// and rejects the tls-exporter binding with "Invalid channel binding",
// which cost a refused attempt and a round trip. When a -PLUS attempt
// fails because of the channel binding (a condition that cannot be about
// the password, or not-authorized with a text naming the binding), the
// login is retried once on the same stream with the same SCRAM without
// channel binding. A refusal of the credentials is never retried: one
// wrong password is one failed authentication on the server, which
// servers count (ejabberd's mod_fail2ban bans an address after a few).
//
// Every SCRAM message of the server is vetted before mellium.im/sasl sees
// it, and a success counts only once the mechanism is complete and the
// server's signature verified (internal/saslclient): a <success/> before
// any challenge, or one that carries something else than the server's
// signature, is a protocol error, not a login.
//
// The trade-off, honestly: channel binding would defeat an attacker who
// holds a certificate that is valid for the domain (a mis-issued one, or a
// TLS-terminating middlebox the device trusts) and relays the SCRAM
// exchange. This package does not get all of that protection from it,
// since such an attacker can make a -PLUS attempt fail with a binding
// error and have the retry without binding go through, and it cannot
// require binding from
// servers that do not offer it. Its protection is the certificate check
// (TLS ServerName is the XMPP domain, InsecureSkipVerify is refused), and
// SCRAM's server signature proves that the server knows the password.
// PLAIN is only used if [Dialer.AllowPLAIN] is set, and only on the TLS
// stream.
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
// and DTDs) returns a [*ProtocolError] ([ErrProtocol]).
//
// Links from the server (Form.RedirectURL, Error.RedirectURL, CAPTCHA
// URLs) are offered only if they are absolute https URLs without user
// information, without control or bidi characters anywhere (U+202E would
// make the shown link lie about its target), and whose host is not
// localhost or a loopback, private, link-local or reserved IP address
// (https://127.0.0.1:1/admin, https://[::1]/ are dropped).
//
// Where the Dialer connects is the domain's choice: its SRV records may
// point anywhere, including at 127.0.0.1:8080 or 169.254.169.254. The
// zero [Dialer] allows every address, so that self-hosted servers on
// loopback or in a private network work; a service that registers
// accounts on domains its users type (a sign-up page) must set
// [Dialer.Destinations] to [PublicOnly]. That refuses loopback, private
// (RFC 1918, fc00::/7), link-local, CGNAT (100.64/10), unspecified,
// multicast, broadcast, documentation and benchmarking addresses and their
// IPv4-mapped forms, and the names localhost and *.localhost, for SRV
// targets and the domain itself. It is checked on the IP address of each
// connection attempt, after name resolution (net.Dialer's Control hook),
// so DNS rebinding does not get around it; with a NetDialer that is not a
// *net.Dialer (a SOCKS5 proxy), only IP addresses and localhost names can
// be checked. A refused address gets no TCP connection; the error is of
// [KindConnect] and matches [ErrForbiddenDestination]. [Dialer.Addr] is
// the application's choice and is never refused.
//
// # Errors
//
// Server refusals and conditions the caller must act on are [*Error]
// values. Error.Kind classifies them, and errors.Is matches the Kind's
// sentinel: [ErrUsernameTaken], [ErrInvalidUsername], [ErrWeakPassword],
// [ErrCaptchaFailed], [ErrRateLimited] (with Error.RetryAfter when the
// server's text names a wait), [ErrRegistrationClosed], [ErrInviteRequired]
// (which also matches ErrRegistrationClosed), [ErrInviteInvalid],
// [ErrWebOnly] (with Error.RedirectURL, or Error.PlainHTTP when the server
// offered web registration over plain http only, which is not offered:
// "web registration only, over plain http (not offered)"),
// [ErrNotAdvertised] (which also matches ErrRegistrationClosed: not
// advertising registration is the commonest way to be closed),
// [ErrFormIncomplete] (with Error.Fields and Error.Form), [ErrOutcomeUnknown],
// [ErrLoginFailed] (wrapping a [*SASLError]), [ErrNoTLS], [ErrNotAllowed],
// [ErrFormRequired], [ErrConnect] and [ErrAlreadyRegistered]. An invalid domain is [ErrInvalidDomain],
// a malformed invitation [ErrMalformedInvite]; both are reported before anything
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
// The replies the XEPs define mean what the XEPs say: conflict is a taken
// name; not-acceptable without a more precise text is missing required
// information (XEP-0077 §3.1, ErrFormIncomplete), except that a
// cancel/not-acceptable to a submission that carried a CAPTCHA answer is a
// wrong answer and service-unavailable to it an unknown, used or expired
// challenge (XEP-0158 §3.1.3), both ErrCaptchaFailed; service-unavailable
// to anything else is a closed server. Errors of old servers that carry
// only a code (<error code='409'/>, XEP-0086) are read as the condition
// the code stands for, with the element's text as the error text.
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
//   - A data form takes precedence over legacy fields whatever its
//     FORM_TYPE (XEP-0077 §7), so that its required fields are never lost;
//     only a data form of type "form" is filled in (a "result", an echoed
//     "submit" or a "cancel" is not). Values are checked as XEP-0004 §3.3
//     says when they are set and before submission: one value in
//     single-valued fields, booleans 0, 1, true or false, list values
//     among the options, addresses valid JIDs; text-multi values are split
//     into lines.
//   - A CAPTCHA image without a media element is used when the form
//     carries exactly one Bits of Binary element.
//   - The web registration link is taken from the instructions when the
//     server sends no out-of-band element (some servers only write it
//     there).
//   - Prosody 0.12 offers SASL PLAIN and SCRAM-SHA-1 only; ejabberd 23.01's
//     -PLUS is handled as described under Security.
//   - A server's stream header may declare the stream namespace with any
//     prefix; the copy handed to mellium keeps the server's declarations.
//
// # Round trips
//
// A round trip is a simulated TCP handshake or a client "turn": data sent
// after data was received (internal/latency counts them). Counted against
// Prosody 0.12 and ejabberd 23.01 on TLS 1.3 (TestRoundTrips, and the
// benchmark command internal/bench, see BENCHMARKS.md):
//
//	                                   pipelined  NoPipelining
//	Register, STARTTLS, to the account     5          7
//	Register, direct TLS, to the account   4          5
//	Register with Login, STARTTLS          7         11
//	Register with Login, direct TLS        6          9
//
// Pipelined, over STARTTLS: TCP 1, stream header with <starttls/> 1, TLS
// 1.3 1, stream header with the form request 1,
// submission with the SASL <auth/> 1 — the account exists; then the SCRAM
// client-final message 1 and the new stream header with the resource
// binding 1 — the session is bound. Direct TLS saves the STARTTLS round
// trip. This is below the limit of the protocol done one request at a
// time (7, 5, 11 and 9: the NoPipelining column), which is what other
// clients need. What is left cannot be pipelined safely: the TLS handshake
// needs the server's answer before any data may be sent; the form must have
// arrived (and be checked, and maybe shown to a person) before it is
// submitted; SCRAM's final message needs the server's challenge; and a new
// stream may only start after SASL success.
//
// With SASL2 and Bind2 (XEP-0388, XEP-0386: Prosody 13 with
// prosody-modules, ejabberd 24.12, to a stream header that names the
// account, see [SASL2Options]) the session comes in the SASL2 success:
// no stream restart and no bind request, so Register with Login takes 6
// (STARTTLS) and 5 (direct TLS), 9 and 7 without pipelining; to the
// account it is still 5 and 4. A FAST re-login ([Dialer.LoginFAST]) sends
// the <authenticate/> with the secured stream header: 4 with STARTTLS, 3
// with direct TLS (TCP, TLS, authentication with binding).
//
// [Dialer.DialForm] and [Conn.Register] take exactly these round trips
// (they are Register's two steps), and so does onboard.Signup, which is
// built on them.
//
// Step by step with the lower-level calls: [Dialer.Dial] 4 with STARTTLS
// (TCP, stream with <starttls/>, TLS, secured stream; 3 with direct TLS, 5
// with NoPipelining), [Conn.Form] 1 (plus 1 if a CAPTCHA image must be
// fetched by cid), [Conn.Submit] 1 and [Conn.Login] 3 (SCRAM 2, stream
// restart with binding 1; 4 with NoPipelining). An invitation token adds
// one to Register and DialForm: the token goes out only once the features
// have shown that the server advertises invitations, with the form request.
//
// [XEP-0077]: https://xmpp.org/extensions/xep-0077.html
// [XEP-0004]: https://xmpp.org/extensions/xep-0004.html
// [XEP-0158]: https://xmpp.org/extensions/xep-0158.html
// [XEP-0231]: https://xmpp.org/extensions/xep-0231.html
// [XEP-0066]: https://xmpp.org/extensions/xep-0066.html
// [XEP-0401]: https://xmpp.org/extensions/xep-0401.html
// [XEP-0445]: https://xmpp.org/extensions/xep-0445.html
package register
