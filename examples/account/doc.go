// Code generated from the -h text by clitest.CheckDoc; edit the cli.Command instead.

// Command account changes the password of an XMPP account or deletes the account,
// with in-band registration (XEP-0077 §3.2, §3.3), using package register
// (go run ./examples/account).
//
// Usage:
//
//	account [flags] password [domain]
//	account [flags] delete [domain]
//
// Examples:
//
//	account -user juliet@example.org password     # change the password
//	account -user juliet password example.org     # the same
//	account -user juliet@example.org delete       # delete the account (asks first)
//	ONBOARD_PASSWORD=... account -user juliet@example.org -yes -json delete
//	account -user test@localhost -addr 127.0.0.1:5222 -cafile ca.pem password
//
// "password" logs in with the current password, sends the new one and
// then logs in with the new password on a new connection to check that it
// works. "delete" logs in and removes the account from the server, with
// everything the server stores for it; without -yes it first asks to type
// "yes". A server that asks for more in a form (XEP-0077 data forms in
// the error) gets its username and password fields filled; anything else
// ends with exit 33.
//
// Passwords are never flags or arguments, so they do not show up in process
// lists or shell history, and they are never printed. The current password
// is read from the environment variable ONBOARD_PASSWORD or, when that is
// empty, from standard input (echo off on a terminal). The new password is
// always read from standard input, twice; the two must be equal and not
// empty, or nothing is sent. A script can pipe them:
//
//	printf '%s\n%s\n' "$new" "$new" | ONBOARD_PASSWORD="$old" account -user juliet@example.org password
//
// With -json the result is one JSON object on standard output, camelCase
// keys with "format": 1 first: {"format": 1, "ok": true, "action":
// "password", "jid": "juliet@example.org", "exit": 0, "verified": true} on
// success, {"format": 1, "ok": false, "action": ..., "jid": ..., "exit": N,
// "kind": "login failed", "error": ...} on failure. Prompts go to standard
// error.
//
// Error texts from the server are printed through internal/sanitize:
// control characters, bidi controls and invalid UTF-8 appear as visible
// escapes (\x0d, \u202e).
//
// Flags:
//
//	-addr host:port        connect to this host:port with STARTTLS instead
//	                       of looking up SRV records (the certificate must
//	                       still be valid for the domain)
//	-cafile file           trust the CA certificates in this PEM file in
//	                       addition to the system roots
//	-direct-tls host:port  connect to this host:port with direct TLS
//	                       (XEP-0368) instead of looking up SRV records
//	-domain domain         the XMPP domain of the account (or give it as the
//	                       argument, or in -user)
//	-json                  print the result as JSON on standard output
//	-timeout duration      overall time limit (default 1m0s)
//	-user account          the account: name@domain, or the name with the
//	                       domain as argument
//	-yes                   delete without asking for confirmation (for
//	                       scripts)
//
// Exit status:
//
//	0   done (password: changed, and the new password logs in)
//	1   other error
//	2   usage error (bad flags or arguments, invalid address, unreadable -cafile, no password)
//	3   could not connect (DNS, TCP or TLS handshake failure)
//	4   login failed: wrong password or no such account
//	12  the server rejected the new password (too weak)
//	14  rate limited (try again later)
//	24  TLS not available or certificate invalid
//	30  the two new passwords differ or are empty (nothing sent)
//	31  deletion not confirmed (nothing sent)
//	32  the server does not allow it (not-allowed, forbidden, ...)
//	33  the server asks for more in a form than this command can fill
//	34  the password was changed, but the new one does not log in
//	130 interrupted (Ctrl-C)
package main
