// Code generated from the -h text by clitest.CheckDoc; edit the cli.Command instead.

// Command rate computes the XMPP Providers category of a provider, says why it is
// not in a better one, and what to change to get there
// (go run ./examples/rate).
//
// Usage:
//
//	rate [flags] domain
//	rate [flags] -file provider-file.json [domain]
//
// Examples:
//
//	rate 07f.de                            # rate a provider of the embedded list
//	rate -file xmpp-provider-v2.json       # check and rate a provider file
//	rate example.org -file f.json          # the file's values over the listed ones
//	rate 07f.de -json                      # machine-readable output
//	rate -at 2026-07-22 07f.de             # rate as of a date (default: today)
//	rate -live example.org                 # probe the server now (discovery)
//	ONBOARD_PASSWORD=... rate -live -user me example.org   # with what needs an account
//	rate -live localhost -addr 127.0.0.1:5222 -cafile ca.pem -no-http
//
// Flags may come before or after the domain. With -live (implied by
// -addr, -direct-tls, -cafile and -user) the domain is probed: what the
// probe observes (registration, upload limit, contacts, software, the
// provider file) overrides the listed values; the output says which values
// came from where. Contacts and the upload limit often need an account:
// -user logs in with it, the password read from the environment variable
// ONBOARD_PASSWORD or, when that is empty, from standard input (echo off
// on a terminal); it is never a flag.
//
// The embedded list holds the providers of categories A and B as published
// by XMPP Providers on the date it shows. A domain that is not in it can be
// rated live (-live) or from its provider file (-file); one spelt like a
// listed domain gets a suggestion ("did you mean"). A provider file alone
// lacks what only a probe or the XMPP Providers bots see (registration,
// compliance score, per-file upload limit, support addresses), so it rates
// D unless combined with a listed record or a live probe.
//
// JSON output has camelCase keys and "format": 1 as its first key; the
// format number changes only when a key changes meaning or goes away.
//
// A provider file and a live server are foreign input: every value, reason
// and error they lead to is printed through internal/sanitize (control and
// bidi characters appear as visible escapes such as \x1b and \u202e), and
// -json escapes DEL, C1 and bidi controls besides what encoding/json
// escapes.
//
// Flags:
//
//	-addr host:port        with -live: connect to this host:port with
//	                       STARTTLS instead of looking up SRV records
//	-at date               rate as of this date, YYYY-MM-DD (default today)
//	-cafile file           with -live: trust the CA certificates in this PEM
//	                       file in addition to the system roots
//	-direct-tls host:port  with -live: connect to this host:port with direct
//	                       TLS (XEP-0368)
//	-domain domain         XMPP domain to rate (or give it as the argument)
//	-file file             provider file (xmpp-provider-v2.json) to check
//	                       and rate
//	-json                  write JSON instead of text
//	-live                  probe the domain now and rate the live values
//	                       over the listed ones
//	-no-http               with -live: do not fetch the provider file and
//	                       host-meta
//	-timeout duration      with -live: time limit for the probe (default
//	                       30s)
//	-user account          with -live: log in as this account (password from
//	                       $ONBOARD_PASSWORD or standard input) to see
//	                       contacts and upload limits
//
// Exit status:
//
//	0   rated
//	1   the input is unusable (unknown domain, unreadable file, no reachable
//	    service), or the provider file has errors (the rest is still rated)
//	2   bad usage (flags, arguments, -at, -cafile, no password for -user)
//	3   -live: no connection with a certificate valid for the domain
//	4   -live: the login with -user failed
//	130 interrupted (Ctrl-C)
package main
