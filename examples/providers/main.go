// Command providers lists, filters and picks XMPP providers from the list
// compiled into the library, offline.
//
// Usage:
//
//	go run ./examples/providers [flags]
//
// Examples:
//
//	go run ./examples/providers -category A -open            # open A providers
//	go run ./examples/providers -open -no-captcha -lang de   # …without CAPTCHA, with German pages
//	go run ./examples/providers -pick -lang fr -country fr   # pick one for a French user
//	go run ./examples/providers -domain yax.im -json         # one record as JSON
//	go run ./examples/providers -file providers-D.json       # another list file
//
// A list file is foreign input: providers.Decode refuses one whose strings
// carry control or bidi characters and leaves out links that are not https,
// and everything printed (table, details, errors) goes through
// internal/sanitize as well, so no list can retitle the terminal or rewrite
// the table. -json escapes DEL, C1 and bidi controls (\u202e) besides what
// encoding/json escapes.
//
// Exit status: 0 on success, 1 when nothing matches, 2 on bad usage or input.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("providers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		category   = fs.String("category", "", "comma-separated categories to keep, e.g. A or A,B")
		open       = fs.Bool("open", false, "only providers with in-band registration (sign-up from the app)")
		noCaptcha  = fs.Bool("no-captcha", false, "only providers whose sign-up needs no CAPTCHA")
		noEmail    = fs.Bool("no-email", false, "only providers whose sign-up needs no e-mail address")
		free       = fs.Bool("free", false, "only providers free of charge")
		lang       = fs.String("lang", "", "language (e.g. de): filter by it, or with -pick prefer it")
		country    = fs.String("country", "", "country code (e.g. de): filter by it, or with -pick prefer it")
		minUpload  = fs.Int64("min-upload", 0, "minimum upload size per file, in MB")
		minArchive = fs.Int("min-archive", 0, "minimum message archive time, in days")
		pick       = fs.Bool("pick", false, "pick one provider at random among the best matches")
		seed       = fs.Uint64("seed", 0, "random seed for -pick (0: random)")
		domain     = fs.String("domain", "", "show only this provider (main or alternative domain)")
		asJSON     = fs.Bool("json", false, "print JSON (API v2 records) instead of a table")
		file       = fs.String("file", "", "read this provider list file instead of the embedded one")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "providers:", sanitize.Line(fmt.Sprintf("unexpected arguments %q", fs.Args())))
		return 2
	}

	l := providers.Embedded()
	source := "embedded list published " + l.Published.String()
	if *file != "" {
		f, err := os.Open(*file)
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
		source = fmt.Sprintf("%s (%v)", *file, l.Format)
	}

	q := providers.Query{
		InBandRegistration: *open,
		NoCaptcha:          *noCaptcha,
		NoEmail:            *noEmail,
		FreeOfCharge:       *free,
		MinUploadFileSize:  providers.Megabytes(*minUpload),
		MinArchiveTime:     providers.Days(*minArchive),
	}
	for _, c := range splitList(*category) {
		cat, err := providers.ParseCategory(c)
		if err != nil {
			fmt.Fprintln(stderr, sanitize.Line(err.Error()))
			return 2
		}
		q.Categories = append(q.Categories, cat)
	}
	if *pick {
		q.Prefer = providers.Preference{Language: *lang, Country: *country}
	} else {
		q.Languages = splitList(*lang)
		q.Countries = splitList(*country)
	}
	if *domain != "" {
		p, ok := l.Lookup(*domain)
		if !ok {
			fmt.Fprintln(stderr, "providers:", sanitize.Line(fmt.Sprintf("%s is not in the %s", *domain, source)))
			return 1
		}
		l.Providers = []providers.Provider{p}
	}

	var out []providers.Provider
	if *pick {
		var r *rand.Rand
		if *seed != 0 {
			r = rand.New(rand.NewPCG(*seed, *seed))
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

	if *asJSON {
		if err := writeJSON(stdout, out); err != nil {
			fmt.Fprintln(stderr, "providers:", sanitize.Line(err.Error()))
			return 2
		}
		return 0
	}
	if *pick || *domain != "" {
		details(stdout, out[0], *lang)
		return 0
	}
	table(stdout, out, *lang)
	fmt.Fprintf(stdout, "\n%d of %d providers (%s)\n", len(out), l.Len(), sanitize.Line(source))
	return 0
}

// writeJSON writes v as indented JSON with sanitize.JSON's escapes.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(sanitize.JSON(b.Bytes()))
	return err
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
