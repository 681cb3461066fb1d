package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	category, lang, country, domain, file string
	open, noCaptcha, noEmail, free, pick  bool
	asJSON                                bool
	minUpload                             int64
	minArchive                            int
	seed                                  uint64
}

// command describes the command, its flags bound to o; its help is the
// package documentation (doc.go).
func command(o *options) *cli.Command {
	fs := flag.NewFlagSet("providers", flag.ContinueOnError)
	fs.StringVar(&o.category, "category", "", "comma-separated `categories` to keep, e.g. A or A,B")
	fs.BoolVar(&o.open, "open", false, "only providers with in-band registration (sign-up from the app)")
	fs.BoolVar(&o.noCaptcha, "no-captcha", false, "only providers whose sign-up needs no CAPTCHA")
	fs.BoolVar(&o.noEmail, "no-email", false, "only providers whose sign-up needs no e-mail address")
	fs.BoolVar(&o.free, "free", false, "only providers free of charge")
	fs.StringVar(&o.lang, "lang", "", "`language` (e.g. de): filter by it, or with -pick prefer it")
	fs.StringVar(&o.country, "country", "", "`country` code (e.g. de): filter by it, or with -pick prefer it")
	fs.Int64Var(&o.minUpload, "min-upload", 0, "minimum upload size per file, in `MB`")
	fs.IntVar(&o.minArchive, "min-archive", 0, "minimum message archive time, in `days`")
	fs.BoolVar(&o.pick, "pick", false, "pick one provider at random among the best matches")
	fs.Uint64Var(&o.seed, "seed", 0, "random `seed` for -pick (0: random)")
	fs.StringVar(&o.domain, "domain", "", "show only this provider (main or alternative `domain`; or give it as the argument)")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON (API v2 records under \"providers\") instead of a table")
	fs.StringVar(&o.file, "file", "", "read this provider list `file` instead of the embedded one")
	return &cli.Command{
		Name: "providers",
		Summary: `providers lists, filters and picks XMPP providers from the list compiled
into the library, offline (go run ./examples/providers).`,
		Usage: []string{"providers [flags] [domain]"},
		Examples: `providers -category A -open              # open A providers
providers -open -no-captcha -lang de     # ...without CAPTCHA, with German pages
providers -pick -lang fr -country fr     # pick one for a French user
providers yax.im -json                   # one record as JSON
providers -file providers-D.json         # another list file`,
		Text: `A domain that is not in the list gets suggestions of listed ones that
are spelt alike ("did you mean").

With -json the output is one object: {"format": 1, "providers": [...]},
the records in the API v2 shape of the XMPP Providers project (camelCase
keys, as in the other commands).

A list file is foreign input: providers.Decode refuses one whose strings
carry control or bidi characters and leaves out links that are not https,
and everything printed (table, details, errors) goes through
internal/sanitize as well, so no list can retitle the terminal or rewrite
the table. -json escapes DEL, C1 and bidi controls (\u202e) besides what
encoding/json escapes.`,
		Exits: `0   success
1   nothing matches, or the domain is not in the list
2   bad usage, or a list file that cannot be read`,
		Flags: fs,
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	cmd := command(&o)
	pos, code, done := cmd.Parse(args, stdout, stderr)
	if done {
		return code
	}
	if code, ok := cmd.DomainArg(pos, &o.domain, stderr); !ok {
		return code
	}
	l := providers.Embedded()
	source := "embedded list published " + l.Published.String()
	if o.file != "" {
		f, err := os.Open(o.file)
		if err != nil {
			fmt.Fprintln(stderr, "providers:", sanitize.Line(err.Error()))
			return 2
		}
		l, err = providers.Decode(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(stderr, sanitize.Line(err.Error()))
			return 2
		}
		source = fmt.Sprintf("%s (%v)", o.file, l.Format)
	}

	q := providers.Query{
		InBandRegistration: o.open,
		NoCaptcha:          o.noCaptcha,
		NoEmail:            o.noEmail,
		FreeOfCharge:       o.free,
		MinUploadFileSize:  providers.Megabytes(o.minUpload),
		MinArchiveTime:     providers.Days(o.minArchive),
	}
	for _, c := range splitList(o.category) {
		cat, err := providers.ParseCategory(c)
		if err != nil {
			fmt.Fprintln(stderr, sanitize.Line(err.Error()))
			return 2
		}
		q.Categories = append(q.Categories, cat)
	}
	if o.pick {
		q.Prefer = providers.Preference{Language: o.lang, Country: o.country}
	} else {
		q.Languages = splitList(o.lang)
		q.Countries = splitList(o.country)
	}
	if o.domain != "" {
		p, ok := l.Lookup(o.domain)
		if !ok {
			fmt.Fprintln(stderr, "providers:", sanitize.Line(fmt.Sprintf("%s is not in the %s%s", o.domain, source, cli.DidYouMean(o.domain, domains(l)))))
			return 1
		}
		l.Providers = []providers.Provider{p}
	}

	var out []providers.Provider
	if o.pick {
		var r *rand.Rand
		if o.seed != 0 {
			r = rand.New(rand.NewPCG(o.seed, o.seed))
		}
		p, err := l.Pick(r, q)
		if err != nil {
			fmt.Fprintln(stderr, sanitize.Line(err.Error()))
			return 1
		}
		out = []providers.Provider{p}
	} else {
		out = l.Filter(q).Providers
	}
	if len(out) == 0 {
		fmt.Fprintln(stderr, "providers:", sanitize.Line(fmt.Sprintf("no provider matches (of %d in the %s)", l.Len(), source)))
		return 1
	}

	if o.asJSON {
		if err := writeJSON(stdout, out); err != nil {
			fmt.Fprintln(stderr, "providers:", sanitize.Line(err.Error()))
			return 2
		}
		return 0
	}
	if o.pick || o.domain != "" {
		details(stdout, out[0], o.lang)
		return 0
	}
	table(stdout, out, o.lang)
	fmt.Fprintf(stdout, "\n%d of %d providers (%s)\n", len(out), l.Len(), sanitize.Line(source))
	return 0
}

// output is the JSON form (-json).
type output struct {
	Providers []providers.Provider `json:"providers"`
}

// writeJSON writes the providers as {"format": 1, "providers": [...]}
// (cli.WriteJSON: sanitize.JSON's escapes).
func writeJSON(w io.Writer, ps []providers.Provider) error {
	return cli.WriteJSON(w, output{Providers: ps}, false)
}

// domains returns the main and alternative domains of the list, for
// suggestions.
func domains(l providers.List) []string {
	var out []string
	for _, p := range l.Providers {
		out = append(out, p.JID)
		out = append(out, p.AlternativeJIDs...)
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func signup(p providers.Provider, lang string) string {
	switch {
	case p.InBandRegistration && p.CaptchaRequired:
		return "app (CAPTCHA)"
	case p.InBandRegistration && p.EmailRequired:
		return "app (e-mail)"
	case p.InBandRegistration:
		return "app"
	case len(p.RegistrationWebPage) > 0:
		return "web"
	}
	return "closed"
}

// table writes one row per provider; every cell goes through
// sanitize.Line, so no value can break the columns or the terminal.
func table(w io.Writer, ps []providers.Provider, lang string) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tCAT\tSIGN-UP\tUPLOAD\tARCHIVE\tSERVERS\tSINCE\tWEBSITE")
	for _, p := range ps {
		site, _, _ := p.Website.Pick(lang)
		cells := []string{p.JID, p.Category.String(), signup(p, lang), p.UploadFileSize.String(), p.ArchiveStorageTime.String(),
			strings.Join(p.ServerLocations, ","), p.Since.String(), site}
		for i, c := range cells {
			cells[i] = sanitize.Line(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func details(w io.Writer, p providers.Provider, lang string) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, sanitize.Line(v))
		}
	}
	pick := func(l providers.Localized) string { v, _, _ := l.Pick(lang); return v }
	pickList := func(l providers.LocalizedList) string { v, _, _ := l.Pick(lang); return strings.Join(v, ", ") }
	row("Provider", p.JID)
	row("Category", p.Category.String())
	row("Sign-up", signup(p, lang))
	row("Registration page", pick(p.RegistrationWebPage))
	row("Website", pick(p.Website))
	row("Legal notice", pick(p.LegalNotice))
	row("Password reset", pick(p.PasswordReset))
	row("Support (e-mail)", pickList(p.EmailSupport))
	row("Support (chat)", pickList(p.ChatSupport))
	row("Support (group chat)", pickList(p.GroupChatSupport))
	row("Upload per file", p.UploadFileSize.String())
	row("Upload quota", p.UploadTotalSize.String())
	row("Uploads kept", p.UploadStorageTime.String())
	row("Messages kept", p.ArchiveStorageTime.String())
	row("Servers in", strings.Join(p.ServerLocations, ", "))
	row("Free of charge", yesNo(p.FreeOfCharge))
	row("Run by", p.Organization.String())
	row("Available since", p.Since.String())
	row("Other domains", strings.Join(p.AlternativeJIDs, ", "))
	tw.Flush()
}
