// Code generated from the -h text by clitest.CheckDoc; edit the cli.Command instead.

// Command providers lists, filters and picks XMPP providers from the list compiled
// into the library, offline (go run ./examples/providers).
//
// Usage:
//
//	providers [flags] [domain]
//
// Examples:
//
//	providers -category A -open              # open A providers
//	providers -open -no-captcha -lang de     # ...without CAPTCHA, with German pages
//	providers -pick -lang fr -country fr     # pick one for a French user
//	providers yax.im -json                   # one record as JSON
//	providers -file providers-D.json         # another list file
//
// A domain that is not in the list gets suggestions of listed ones that
// are spelt alike ("did you mean").
//
// With -json the output is one object: {"format": 1, "providers": [...]},
// the records in the API v2 shape of the XMPP Providers project (camelCase
// keys, as in the other commands).
//
// A list file is foreign input: providers.Decode refuses one whose strings
// carry control or bidi characters and leaves out links that are not https,
// and everything printed (table, details, errors) goes through
// internal/sanitize as well, so no list can retitle the terminal or rewrite
// the table. -json escapes DEL, C1 and bidi controls (\u202e) besides what
// encoding/json escapes.
//
// Flags:
//
//	-category categories  comma-separated categories to keep, e.g. A or A,B
//	-country country      country code (e.g. de): filter by it, or with
//	                      -pick prefer it
//	-domain domain        show only this provider (main or alternative
//	                      domain; or give it as the argument)
//	-file file            read this provider list file instead of the
//	                      embedded one
//	-free                 only providers free of charge
//	-json                 print JSON (API v2 records under "providers")
//	                      instead of a table
//	-lang language        language (e.g. de): filter by it, or with -pick
//	                      prefer it
//	-min-archive days     minimum message archive time, in days
//	-min-upload MB        minimum upload size per file, in MB
//	-no-captcha           only providers whose sign-up needs no CAPTCHA
//	-no-email             only providers whose sign-up needs no e-mail
//	                      address
//	-open                 only providers with in-band registration (sign-up
//	                      from the app)
//	-pick                 pick one provider at random among the best matches
//	-seed seed            random seed for -pick (0: random)
//
// Exit status:
//
//	0   success
//	1   nothing matches, or the domain is not in the list
//	2   bad usage, or a list file that cannot be read
package main
