// Package cli is what the example commands (providers, probe, rate,
// signup) share so that they look and behave alike: one help layout that is
// also the package documentation, flags accepted before and after the
// positional arguments, JSON with camelCase keys and a format version,
// progress lines on standard error, the password from one environment
// variable or a prompt, "did you mean" suggestions and temporary files
// removed at exit.
//
// The flag vocabulary the commands share:
//
//	-json              JSON on standard output: camelCase keys, "format": 1
//	-domain d          the XMPP domain (probe and rate also take it as the argument)
//	-addr host:port    connect here with STARTTLS instead of looking up SRV records
//	-direct-tls host:port  connect here with direct TLS (XEP-0368)
//	-cafile file       trust these CA certificates in addition to the system roots
//	-user name         the account (probe and rate log in with it, signup creates it)
//	-timeout d         time limit
//	-no-http           do not fetch the provider file and host-meta
//	-file file         a provider list or provider file instead of the embedded list
//
// The password is never a flag: it comes from $ONBOARD_PASSWORD or, when
// that is empty, from one line of standard input (echo off on a terminal).
package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// Exit codes every command uses the same way.
const (
	ExitOK    = 0
	ExitUsage = 2
)

// PasswordEnv names the environment variable holding the password of
// -user (and of the account signup creates).
const PasswordEnv = "ONBOARD_PASSWORD"

// Format is the version of the JSON the commands write, in the "format"
// key of every top-level object. It changes when a key changes meaning or
// goes away, not when one is added.
const Format = 1

// Command describes a command: its -h output and its package
// documentation are both made from it (see [Command.Help] and
// [Command.Doc]).
type Command struct {
	// Name is the command name, e.g. "probe".
	Name string
	// Summary is the first paragraph, starting with Name: "probe shows
	// what a live XMPP service offers right now." Lines are wrapped by
	// hand.
	Summary string
	// Usage holds the synopsis lines, e.g. "probe [flags] [domain]".
	Usage []string
	// Examples are example command lines with a "# comment", one a
	// line, aligned by hand; shown indented after Usage.
	Examples string
	// Text holds further paragraphs, separated by blank lines, wrapped by
	// hand. Lines that start with a tab are shown as they are.
	Text string
	// Exits lists the exit codes, one a line ("0   success"), aligned by
	// hand; continuation lines start with spaces.
	Exits string
	// Flags are the command's flags; their usage strings may name the
	// value in back quotes (see flag.UnquoteUsage).
	Flags *flag.FlagSet
}

// Help returns the text -h prints.
func (c *Command) Help() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(c.Summary) + "\n\nUsage:\n\n")
	for _, u := range c.Usage {
		b.WriteString("\t" + u + "\n")
	}
	if c.Examples != "" {
		b.WriteString("\nExamples:\n\n" + block(c.Examples))
	}
	if t := strings.TrimSpace(c.Text); t != "" {
		b.WriteString("\n" + t + "\n")
	}
	b.WriteString("\nFlags:\n\n")
	b.WriteString(flagTable(c.Flags))
	if c.Exits != "" {
		b.WriteString("\nExit status:\n\n" + block(c.Exits))
	}
	return b.String()
}

// block indents each line of s by a tab.
func block(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.Trim(s, "\n"), "\n") {
		b.WriteString("\t" + strings.TrimRight(l, " ") + "\n")
	}
	return b.String()
}

// Doc returns the package documentation: "Command " and the help text.
func (c *Command) Doc() string { return "Command " + c.Help() }

// flagTable lists the flags, one a line ("-name value  usage (default
// x)"), long usages wrapped under their column.
func flagTable(fs *flag.FlagSet) string {
	type row struct{ left, usage string }
	var rows []row
	w := 0
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "-" + f.Name
		if name != "" {
			left += " " + name
		}
		if !zeroDefault(f) {
			if isString(f) {
				usage += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				usage += fmt.Sprintf(" (default %v)", f.DefValue)
			}
		}
		rows = append(rows, row{left, usage})
		if len(left) <= 22 {
			w = max(w, len(left))
		}
	})
	var b strings.Builder
	const width = 72 // after the tab
	for _, r := range rows {
		pad := w + 2
		first := r.left + strings.Repeat(" ", max(2, pad-len(r.left)))
		if len(r.left) > w {
			b.WriteString("\t" + r.left + "\n")
			first = strings.Repeat(" ", pad)
		}
		lines := wrap(r.usage, width-pad)
		b.WriteString("\t" + first + lines[0] + "\n")
		for _, l := range lines[1:] {
			b.WriteString("\t" + strings.Repeat(" ", pad) + l + "\n")
		}
	}
	return b.String()
}

func isString(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, s := g.Get().(string)
	return s
}

func zeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return false
}

// wrap splits s into lines of at most n bytes, at spaces.
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > n:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}

// Parse parses args with c.Flags, taking flags before, between and after
// the positional arguments (parse, then parse again what follows each
// positional argument); "--" ends the flags. It returns the positional
// arguments. With -h or -help it writes the help to stdout and returns
// done with ExitOK; on a bad flag it writes the error and a one-line
// reminder to stderr and returns done with ExitUsage.
func (c *Command) Parse(args []string, stdout, stderr io.Writer) (positional []string, exit int, done bool) {
	fs := c.Flags
	fs.SetOutput(stderr)
	fs.Usage = func() {} // Parse prints its own reminder
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, c.Help())
			return nil, ExitOK, true
		}
		if err != nil {
			c.UsageError(stderr, "")
			return nil, ExitUsage, true
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), 0, false
		}
		if len(rest) == 0 {
			return positional, 0, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// DomainArg takes the domain from the positional arguments pos into
// *domain, which -domain may have set already: at most one argument, and
// not both. When the arguments do not fit it writes the usage error and
// returns ExitUsage and false.
func (c *Command) DomainArg(pos []string, domain *string, stderr io.Writer) (int, bool) {
	switch {
	case len(pos) > 1:
		return c.UsageError(stderr, fmt.Sprintf("unexpected arguments %q", pos[1:])), false
	case len(pos) == 1 && *domain != "":
		return c.UsageError(stderr, "give the domain either with -domain or as the argument"), false
	case len(pos) == 1:
		*domain = pos[0]
	}
	return ExitOK, true
}

// UsageError writes "name: msg" (through sanitize.Line: it may echo what
// was typed) and a reminder of the synopsis and -h to stderr, and returns
// ExitUsage.
func (c *Command) UsageError(stderr io.Writer, msg string) int {
	if msg != "" {
		fmt.Fprintf(stderr, "%s: %s\n", c.Name, sanitize.Line(msg))
	}
	for i, u := range c.Usage {
		if i == 0 {
			fmt.Fprintf(stderr, "usage: %s\n", u)
		} else {
			fmt.Fprintf(stderr, "       %s\n", u)
		}
	}
	fmt.Fprintf(stderr, "Run '%s -h' for the flags, examples and exit codes.\n", c.Name)
	return ExitUsage
}

// Field is a key and value WriteJSON adds to the top-level object, after
// "format" (for a type with its own MarshalJSON, such as a probe report).
type Field struct {
	Key   string
	Value any
}

// WriteJSON writes v as JSON with "format": [Format] as the first key of
// the top-level object (v must encode as an object), then the extra
// fields, HTML characters unescaped, and sanitize.JSON's escapes; indented
// by two spaces or, if oneLine, as one line (JSON lines). A newline ends
// it.
func WriteJSON(w io.Writer, v any, oneLine bool, extra ...Field) error {
	b, err := EncodeJSON(v, oneLine, extra...)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// EncodeJSON is WriteJSON into a byte slice.
func EncodeJSON(v any, oneLine bool, extra ...Field) ([]byte, error) {
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	obj := bytes.Clone(bytes.TrimSpace(raw.Bytes()))
	if len(obj) < 2 || obj[0] != '{' {
		return nil, fmt.Errorf("cli: JSON output must be an object, not %.20s", obj)
	}
	withFormat := fmt.Appendf(nil, `{"format":%d`, Format)
	for _, f := range extra {
		raw.Reset()
		if err := enc.Encode(map[string]any{f.Key: f.Value}); err != nil {
			return nil, err
		}
		kv := bytes.TrimSpace(raw.Bytes())
		withFormat = append(withFormat, ',')
		withFormat = append(withFormat, kv[1:len(kv)-1]...)
	}
	if inner := bytes.TrimSpace(obj[1 : len(obj)-1]); len(inner) > 0 {
		withFormat = append(withFormat, ',')
		withFormat = append(withFormat, inner...)
	}
	withFormat = append(withFormat, '}')
	var out bytes.Buffer
	if oneLine {
		out.Write(withFormat)
	} else if err := json.Indent(&out, withFormat, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return sanitize.JSON(out.Bytes()), nil
}

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Suggest returns up to three of candidates closest to name by edit
// distance (case-insensitive), nearest first, among those at most
// max(1, len(name)/4) edits away; none if name is itself a candidate.
func Suggest(name string, candidates []string) []string {
	name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	limit := max(1, len([]rune(name))/4)
	type hit struct {
		s string
		d int
	}
	var hits []hit
	seen := map[string]bool{}
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == name {
			return nil
		}
		if seen[lc] {
			continue
		}
		seen[lc] = true
		if d := distance(name, lc, limit); d <= limit {
			hits = append(hits, hit{c, d})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].d != hits[j].d {
			return hits[i].d < hits[j].d
		}
		return hits[i].s < hits[j].s
	})
	var out []string
	for i := 0; i < len(hits) && i < 3; i++ {
		out = append(out, hits[i].s)
	}
	return out
}

// DidYouMean returns " (did you mean a or b?)" for Suggest's answer, or "".
func DidYouMean(name string, candidates []string) string {
	s := Suggest(name, candidates)
	switch len(s) {
	case 0:
		return ""
	case 1:
		return " (did you mean " + s[0] + "?)"
	}
	return " (did you mean " + strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1] + "?)"
}

// distance is the Levenshtein distance of a and b (in runes), or a value
// above limit as soon as it is sure to exceed it.
func distance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
