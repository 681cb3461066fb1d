// Code generated from the -h text by clitest.CheckDoc; edit the cli.Command instead.

// Command probe shows what a live XMPP service offers right now: how to connect,
// whether it lets people sign up, who to contact, which services it runs
// and what its operator publishes, using package discovery
// (go run ./examples/probe).
//
// Usage:
//
//	probe [flags] domain
//	probe [flags] -batch file
//
// Examples:
//
//	probe example.org                             # readable summary
//	probe example.org -json                       # the whole report as JSON
//	probe example.org -check-registration         # is registration really open?
//	ONBOARD_PASSWORD=... probe -user me example.org  # also what needs an account
//	probe -batch domains.txt -concurrency 32 > reports.jsonl
//	probe localhost -addr 127.0.0.1:5222 -cafile ca.pem -no-http
//
// Flags may come before or after the domain. With -batch, the file holds
// one domain a line (blank lines and lines starting with # are skipped,
// repeated domains probed once) and the reports are written as JSON lines,
// in the order the probes finish, while standard error shows the progress:
// a bar with the counts and the time left on a terminal, one line per
// domain otherwise. Interrupting the command (Ctrl-C) stops a batch cleanly
// and exits 130.
//
// -check-registration submits the registration form once, with a random
// unused name ("probe-" and 12 hex digits) and an empty password, and
// reads the refusal (discovery.Prober.CheckRegistration): an ejabberd that
// serves the form but denies every registration answers "forbidden" and
// is reported closed, an open one refuses only the empty password. No
// account is created (no server of the test suite accepts an empty
// password; a report would say so); the server may log the attempt.
// Prosody checks the fields first and answers alike open or closed: the
// check says "unknown" there. Forms with a CAPTCHA are not submitted.
//
// The password for -user is read from the environment variable
// ONBOARD_PASSWORD or, when that is empty, from standard input (echo off
// on a terminal); it is never a flag. With -batch the account is used only
// for its own domain (give it as name@domain).
//
// JSON output has camelCase keys and "format": 1 as its first key, then
// "exit", the exit status for the domain, and "problem", why it is not 0;
// the format number changes only when a key changes meaning or goes away.
//
// Everything the server chose (software name, identities, form
// instructions, addresses, error texts) is shown through internal/sanitize:
// control characters, bidi controls and invalid UTF-8 appear as visible
// escapes (\x0d, \u202e), so a server cannot rewrite the terminal. The
// JSON output escapes them too (as \u000d, \u202e; encoding/json alone
// leaves DEL, C1 and bidi controls raw).
//
// Flags:
//
//	-addr host:port        connect to this host:port with STARTTLS instead
//	                       of looking up SRV records (with -batch: for every
//	                       domain)
//	-batch file            probe the domains listed in this file (one a
//	                       line) and print JSON lines
//	-cafile file           trust the CA certificates in this PEM file in
//	                       addition to the system roots
//	-check-registration    check live whether registration is really open:
//	                       submit the form once with a random name and an
//	                       empty password (creates nothing)
//	-concurrency domains   with -batch: domains probed at once (default 16)
//	-direct-tls host:port  connect to this host:port with direct TLS
//	                       (XEP-0368) instead of looking up SRV records
//	-domain domain         the XMPP domain to probe (or give it as the
//	                       argument)
//	-expiry-days days      exit 5 when a certificate expires within this
//	                       many days (default 14)
//	-json                  print the report as JSON instead of a summary
//	                       (-batch always writes JSON lines)
//	-no-http               do not fetch the provider file and host-meta
//	-per-host domains      with -batch: domains probed at once on one server
//	                       (default 2)
//	-timeout duration      time limit per domain (default 30s)
//	-user account          log in as this account (name or name@domain;
//	                       password from $ONBOARD_PASSWORD or standard
//	                       input) to see what needs an account
//
// Exit status:
//
//	0   reachable over TLS with valid certificates (and with -user the login worked)
//	1   the domain could not be probed, or no XMPP service is reachable
//	2   bad usage (flags, arguments, -cafile, no password for -user)
//	3   a certificate is not valid for the domain (expired, untrusted, wrong name)
//	4   the login with -user failed (wrong password, unknown account)
//	5   a certificate expires within -expiry-days
//	130 interrupted (Ctrl-C)
//	With -batch the exit status is 130 if interrupted, else the smallest
//	non-zero code of any domain, or 0.
package main
