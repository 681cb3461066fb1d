package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/examples/internal/cli"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// choose creates the account with onboard.Signup on a provider of list
// (the path without -domain).
// An empty password makes onboard.Signup generate one (per provider);
// it is then returned in the result. progress reports each event.
func choose(ctx context.Context, d *register.Dialer, resolve resolveFlag, list providers.List, p *cli.Prompter, tmp *cli.TempFiles, captchaOut, lang, country, username, password string, progress func(string, ...any)) result {
	q := query()
	dd := *d
	if len(resolve) > 0 {
		dd.Addrs = map[string]string(resolve)
	}
	s := onboard.Signup{
		Username:  username,
		Password:  password,
		Language:  lang,
		Country:   country,
		Providers: list,
		Query:     &q,
		Dialer:    dd,
		SolveCaptcha: func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
			fmt.Fprintf(p.Out, "%s asks for a CAPTCHA.\n", sanitize.Line(domain))
			return askCaptcha(ctx, p, tmp, c, captchaOut)
		},
		FillForm: func(ctx context.Context, domain string, f *register.Form) error {
			instructions(p.Out, domain, f.Instructions)
			return fillMissing(ctx, p, f)
		},
	}
	s.Progress = func(e onboard.Event) { progress("%v", e) }
	res, err := s.Run(ctx)
	r := result{Exit: exitError}
	if res != nil {
		r.Domain = res.Provider.JID
		r.Attempts = attempts(res.Attempts)
		r.Website, r.PasswordReset = res.Info.Website, res.Info.PasswordReset
	}
	if err == nil {
		bound := res.Session.LocalAddr().String()
		res.Close()
		r.OK, r.Exit, r.JID, r.Bound = true, exitOK, res.JID.String(), bound
		if res.PasswordGenerated {
			r.Password, r.PasswordGenerated = res.Password, true
		}
		return r
	}
	r.Error = err.Error()
	if te := (*onboard.UsernameTakenError)(nil); errors.As(err, &te) {
		r.Suggestions = te.Suggestions
	}
	var npe *onboard.NoProviderError
	var ae *onboard.AttemptError
	var e *register.Error
	switch {
	case errors.As(err, &npe):
		r.Exit = exitNoProvider
		r.Attempts = attempts(npe.Attempts)
		for _, a := range npe.Attempts {
			if errors.As(a, &e) && e.RedirectURL != "" && r.RedirectURL == "" {
				r.RedirectURL = e.RedirectURL
			}
		}
	default:
		if errors.As(err, &ae) {
			r.Domain = ae.Domain
		}
		if errors.As(err, &e) {
			r.Kind = e.Kind.String()
			if code, ok := kindExit[e.Kind]; ok {
				r.Exit = code
			}
			r.RedirectURL = e.RedirectURL
			if e.RetryAfter > 0 {
				r.RetryAfter = e.RetryAfter.String()
			}
		}
	}
	if res != nil && res.JID.String() != "" {
		// Registered, but the login failed.
		r.JID = res.JID.String()
	}
	return r
}

func attempts(as []*onboard.AttemptError) []attempt {
	var out []attempt
	for _, a := range as {
		out = append(out, attempt{Domain: a.Domain, Step: a.Step, Error: a.Error()})
	}
	return out
}

// languageCountry returns the flags, or what $LANG (or $LC_ALL) says
// ("de_AT.UTF-8": "de", "at").
func languageCountry(lang, country string) (string, string) {
	env := os.Getenv("LC_ALL")
	if env == "" {
		env = os.Getenv("LANG")
	}
	env, _, _ = strings.Cut(env, ".")
	env, _, _ = strings.Cut(env, "@")
	l, c, _ := strings.Cut(env, "_")
	if env == "C" || env == "POSIX" {
		l, c = "", ""
	}
	if lang == "" {
		lang = strings.ToLower(l)
	}
	if country == "" {
		country = strings.ToLower(c)
	}
	return lang, country
}

// readList reads a provider list file in any published shape.
func readList(name string) (providers.List, error) {
	f, err := os.Open(name)
	if err != nil {
		return providers.List{}, err
	}
	defer f.Close()
	l, err := providers.Decode(f)
	if err != nil {
		return providers.List{}, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

// resolveFlag maps domains to host:port (-resolve domain=host:port).
type resolveFlag map[string]string

func (r resolveFlag) String() string {
	var out []string
	for d, a := range r {
		out = append(out, d+"="+a)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func (r resolveFlag) Set(v string) error {
	d, a, ok := strings.Cut(v, "=")
	if !ok || d == "" || a == "" || !strings.Contains(a, ":") {
		return fmt.Errorf("want domain=host:port, got %q", v)
	}
	r[strings.ToLower(strings.TrimSuffix(d, "."))] = a
	return nil
}
