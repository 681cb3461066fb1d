// Code generated from the -h text by clitest.CheckDoc; edit the cli.Command instead.

// Command signup creates an XMPP account with in-band registration and logs in
// with it, using packages onboard and register (go run ./examples/signup).
//
// Usage:
//
//	signup [flags]
//
// Examples:
//
//	signup                                   # choose a provider, ask for name and password
//	signup -lang fr -country fr -json        # for a French user, the result as JSON
//	signup -domain example.org -user juliet  # on a given server
//	signup -token 'xmpp:example.org?register;preauth=...'   # with an invitation
//	ONBOARD_PASSWORD=... signup -domain localhost -addr 127.0.0.1:5222 -cafile ca.pem -user test
//	signup -pick                             # only say which provider would be tried first
//
// Without -domain the account is created with onboard.Signup: providers
// of category A with in-band registration, free of charge, are taken from
// the embedded XMPP Providers list (or -file), those in the user's
// language and country (-lang, -country, by default from $LANG) first,
// in a fair random order; three at a time are verified live (TLS and the
// registration form), the account is created on the first that works and
// the next one is tried when one fails. A generated username that is taken
// is replaced by another; a typed one is not: signup exits with status 10
// and suggests other names ("suggestions" with -json). Progress goes to
// standard error (with -json too); the output names each provider that
// failed and why.
//
// The password is read from the environment variable ONBOARD_PASSWORD or,
// if that is empty, from standard input (with echo disabled when it is a
// terminal); it is never a flag or an argument, so it does not show up in
// process lists or shell history. An empty answer makes signup generate a
// strong password, a new one for each provider tried; it is printed once
// with the result (with -json under "password", with "passwordGenerated":
// true), since there is no other way to learn it. An empty username answer
// likewise gets a generated name.
//
// A CAPTCHA image is saved to a temporary file, removed when the command
// ends (also on Ctrl-C), or to -captcha-out, which is kept; the answer is
// read from standard input, as are other fields the server asks for. After
// a wrong answer signup says so and shows the new challenge; a web page
// where the CAPTCHA can be solved instead is printed when the server names
// one (https only).
//
// -token takes an invitation as people receive it: an xmpp: URI, a bare
// token (with -domain), a landing page link with the URI after "#"
// (https://xmpp.link/#example.org?register;preauth=..., read without
// fetching anything), or a link to an invitation page
// (https://example.org/invite?TOKEN, Prosody's mod_invites_page), which
// is fetched to read its xmpp: link: https only, public addresses only, at
// most 256 KiB within 10 s.
//
// With -json the result is one JSON object on standard output, camelCase
// keys with "format": 1 first: {"format": 1, "ok": true, "jid":
// "user@domain", "bound": "user@domain/resource", "domain": ..., "exit":
// 0} on success, {"format": 1, "ok": false, "exit": N, "kind": "username
// taken", "error": ..., "redirectUrl": ..., "retryAfter": ...} on failure.
// Without -domain the object also holds "attempts" (one {"domain", "step",
// "error"} per provider that failed), and on success "website" and
// "passwordReset" of the provider.
//
// What the server and the provider list chose (error texts, form
// instructions, field labels and descriptions, CAPTCHA labels, links, the
// bound address, the -debug stream) is printed through internal/sanitize:
// control characters, bidi controls and invalid UTF-8 appear as visible
// escapes (\x0d, \u202e), so a server cannot make the terminal say
// "registered" when the exit status says otherwise. Instructions keep their
// line breaks, each line shown after "domain: "; everything else is one
// line. -json escapes DEL, C1 and bidi controls besides what encoding/json
// escapes.
//
// Flags:
//
//	-addr host:port        connect to this host:port with STARTTLS instead
//	                       of looking up SRV records (the certificate must
//	                       still be valid for the domain)
//	-cafile file           trust the CA certificates in this PEM file in
//	                       addition to the system roots
//	-captcha-out file      save a CAPTCHA image to this file and keep it
//	                       (default: a temporary file, removed at exit)
//	-country country       the user's country (default: from $LANG)
//	-debug                 print the XML stream (passwords redacted) to
//	                       standard error
//	-direct-tls host:port  connect to this host:port with direct TLS
//	                       (XEP-0368) instead of looking up SRV records
//	-domain domain         XMPP domain to register on (default: choose a
//	                       provider)
//	-file file             choose among the providers of this list file (any
//	                       published shape) instead of the embedded one
//	-json                  print the result as JSON on standard output
//	                       (progress stays on standard error)
//	-lang language         the user's language (default: from $LANG)
//	-pick                  print the provider a fair offline pick suggests,
//	                       and exit (no network)
//	-resolve domain=host:port
//	                       connect to host:port for domain
//	                       (domain=host:port, repeatable; to test the choice
//	                       against local servers)
//	-timeout duration      overall time limit (default 3m0s)
//	-token token           invitation token, URI
//	                       (xmpp:host?register;preauth=...) or invitation
//	                       link (https://...)
//	-user name             the account name to create (asked for when
//	                       missing; an empty answer: generated)
//
// Exit status:
//
//	0   the account exists and the login with it worked
//	1   other error
//	2   usage error (bad flags, an argument, invalid domain, unreadable -cafile)
//	3   could not connect (DNS, TCP or TLS handshake failure)
//	10  username already taken
//	11  invalid username
//	12  password rejected (too weak)
//	13  CAPTCHA failed
//	14  rate limited (try again later)
//	15  registration closed
//	16  invitation required
//	17  invitation invalid
//	18  registration only on the web (the URL is printed)
//	19  in-band registration not advertised
//	20  form incomplete (a required field could not be filled)
//	21  outcome unknown (connection lost after submitting; not confirmed)
//	22  not created (connection lost after submitting; confirmed by login)
//	23  registered, but the login failed
//	24  TLS not available or certificate invalid
//	25  no provider could create the account (without -domain; the attempts
//	    say why each one failed)
//	26  already registered (the server says so; nothing was submitted)
//	130 interrupted (Ctrl-C)
package main
