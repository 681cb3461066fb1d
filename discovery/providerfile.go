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
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providers"
)

// maxFieldErrors caps the errors listed for one provider file.
const maxFieldErrors = 64

// Unknown keys of a document are listed by name, sanitised and clipped,
// up to maxUnknownKeys of them; their values are never kept or reported.
const (
	maxUnknownKeys = 8
	maxKeyLen      = 64
)

// safeKey returns a key of a foreign document for a report: at most
// maxKeyLen bytes, with control and bidi characters escaped.
func safeKey(s string) string {
	if len(s) > maxKeyLen {
		s = strings.ToValidUTF8(s[:maxKeyLen], "") + "…"
	}
	return sanitize.Line(s)
}

// valueFree returns err, the decoder's complaint about raw, if its message
// quotes nothing of raw ("want an integer, got a string"); otherwise an
// ErrInvalidValue that says only what kind of value was refused. A value
// that did not decode may be anything (the document may not even be a
// provider file), so it is never reported.
func valueFree(err error, raw json.RawMessage) error {
	msg := err.Error()
	leaks := bytes.Contains([]byte(msg), bytes.TrimSpace(raw))
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	for !leaks {
		tok, err := d.Token()
		if err != nil {
			break
		}
		var s string
		switch v := tok.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		}
		leaks = s != "" && strings.Contains(msg, s)
	}
	if !leaks {
		return err
	}
	return fmt.Errorf("%w: %s", ErrInvalidValue, describeJSON(raw))
}

// describeJSON says what kind of JSON value raw is, without its content:
// "a string of 12 bytes", "an object".
func describeJSON(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return fmt.Sprintf("a string of %d bytes", max(len(raw)-2, 0))
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

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
	unknown := 0
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
			addErr("", fmt.Errorf("discovery: invalid JSON after key %s: %w", strconv.Quote(safeKey(key)), err))
			return p, fields, errs
		}
		f := providers.Field(key)
		if !slices.Contains(want, f) {
			// A key the format does not define, from a file that may
			// not even be a provider file (a redirect to some internal
			// API): its name is reported, sanitised and clipped, for
			// the first few; its value never.
			if !seen[key] {
				unknown++
				if unknown <= maxUnknownKeys {
					addErr(safeKey(key), ErrUnknownField)
				}
			}
			seen[key] = true
			continue
		}
		if seen[key] {
			addErr(key, errors.New("discovery: duplicate key"))
			continue
		}
		seen[key] = true
		if err := p.UnmarshalField(f, raw); err != nil {
			addErr(key, valueFree(err, raw))
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
	if unknown > maxUnknownKeys {
		addErr("", fmt.Errorf("%w: %d more unknown keys", ErrUnknownField, unknown-maxUnknownKeys))
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
// a link an app may show: an absolute http or https URL that
// netguard.Link accepts (a public host, no user information, no control or
// bidi characters). The error names the language, not the value.
func checkURLs(loc providers.Localized) error {
	langs := slices.Sorted(maps.Keys(loc))
	for _, lang := range langs {
		s := loc[lang]
		_, https := netguard.Link(s, "https")
		_, plain := netguard.Link(s, "http")
		if !https && !plain {
			return fmt.Errorf("%w: language %s: not an http or https link to a public host", ErrInvalidValue, strconv.Quote(safeKey(lang)))
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
