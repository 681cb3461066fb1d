package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"

	"github.com/xmpp-onboard/onboard/providers"
)

// maxFieldErrors caps the errors listed for one provider file.
const maxFieldErrors = 64

// providerFileURL is where an operator publishes the provider file.
func providerFileURL(domain string) string {
	return "https://" + domain + "/.well-known/xmpp-provider-v2.json"
}

func (p *Prober) probeProviderFile(ctx context.Context, c *http.Client, domain string) ProviderFile {
	var pf ProviderFile
	f, err := p.fetch(ctx, c, providerFileURL(domain), "application/json", MaxProviderFileBytes)
	pf.URL, pf.HTTPStatus = f.url, f.status
	switch {
	case errors.Is(err, ErrTooLarge):
		pf.Status = observed(f.took)
		pf.Status.Reason = "file too large"
		pf.Errors = []FieldError{{Err: err}}
		return pf
	case err != nil:
		pf.Status = fetchFailure(err, f.took)
		return pf
	case f.status != http.StatusOK:
		pf.Status = httpStatusState(f.status, f.took)
		return pf
	}
	pf.Status = observed(f.took)
	pf.Provider, pf.Fields, pf.Errors = parseProviderFile(f.body)
	if len(pf.Errors) > 0 {
		pf.Status.Reason = fmt.Sprintf("%d errors", len(pf.Errors))
	}
	return pf
}

// parseProviderFile decodes a provider file (XMPP Providers API v2): one
// JSON object with exactly the keys of providers.ProviderFileFields. Each
// value is checked with providers.Provider.UnmarshalField; the keys that
// decode are returned in fields, and every problem in errs. Nothing stops
// at the first error.
func parseProviderFile(b []byte) (p providers.Provider, fields []providers.Field, errs []FieldError) {
	p = providers.New("")
	addErr := func(field string, err error) {
		if len(errs) < maxFieldErrors {
			errs = append(errs, FieldError{Field: field, Err: err})
		}
	}
	if !utf8.Valid(b) {
		addErr("", errors.New("discovery: not UTF-8"))
		return p, nil, errs
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		if err == nil {
			err = fmt.Errorf("discovery: want a JSON object, got %v", tokenKind(tok))
		}
		addErr("", fmt.Errorf("discovery: not a JSON object: %w", err))
		return p, nil, errs
	}
	want := providers.ProviderFileFields()
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			addErr("", fmt.Errorf("discovery: invalid JSON: %w", err))
			return p, fields, errs
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			// A syntax error is the file's, not the key's: the key may
			// already have been decoded once.
			addErr("", fmt.Errorf("discovery: invalid JSON after key %q: %w", key, err))
			return p, fields, errs
		}
		if seen[key] {
			addErr(key, errors.New("discovery: duplicate key"))
			continue
		}
		seen[key] = true
		f := providers.Field(key)
		if !slices.Contains(want, f) {
			addErr(key, ErrUnknownField)
			continue
		}
		if err := p.UnmarshalField(f, raw); err != nil {
			addErr(key, err)
			continue
		}
		if loc := urlField(&p, f); loc != nil {
			if err := checkURLs(*loc); err != nil {
				// Apps show these as links: keep none of them.
				*loc = nil
				addErr(key, err)
				continue
			}
		}
		fields = append(fields, f)
	}
	if _, err := d.Token(); err != nil {
		addErr("", fmt.Errorf("discovery: invalid JSON: %w", err))
	} else if _, err := d.Token(); err != io.EOF {
		addErr("", errors.New("discovery: data after the JSON object"))
	}
	for _, f := range want {
		if !seen[string(f)] {
			addErr(string(f), ErrMissingField)
		}
	}
	// Report fields in the format's order.
	slices.SortFunc(fields, func(a, b providers.Field) int {
		return slices.Index(want, a) - slices.Index(want, b)
	})
	return p, fields, errs
}

// urlField returns the value of f in p if f is a per-language web page
// address, and nil otherwise.
func urlField(p *providers.Provider, f providers.Field) *providers.Localized {
	switch f {
	case providers.FieldWebsite:
		return &p.Website
	case providers.FieldPasswordReset:
		return &p.PasswordReset
	case providers.FieldLegalNotice:
		return &p.LegalNotice
	}
	return nil
}

// checkURLs reports the first value of loc, in language order, that is not
// an absolute http or https URL with a host.
func checkURLs(loc providers.Localized) error {
	langs := slices.Sorted(maps.Keys(loc))
	for _, lang := range langs {
		s := loc[lang]
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("discovery: language %q: %q is not an http or https URL", lang, clipString(s))
		}
	}
	return nil
}

func tokenKind(t json.Token) string {
	switch t.(type) {
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", t)
}
