package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/providerfile"
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

func (p *Prober) probeProviderFile(ctx context.Context, c *http.Client, domain string) ProviderFile {
	var pf ProviderFile
	f, err := p.fetch(ctx, c, providerfile.URL(domain), "application/json", MaxProviderFileBytes)
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
	var problems []FieldError
	pf.Provider, pf.Fields, problems = parseProviderFile(f.body)
	ignored := 0
	for _, e := range problems {
		// Unknown keys are warnings (package providerfile's rule: the
		// format grows); they do not make the file invalid.
		if errors.Is(e.Err, ErrUnknownField) {
			ignored++
			continue
		}
		pf.Errors = append(pf.Errors, e)
	}
	switch {
	case len(pf.Errors) > 0:
		pf.Status.Reason = fmt.Sprintf("%d errors", len(pf.Errors))
	case ignored > 0:
		pf.Status.Reason = "unknown keys ignored"
	}
	return pf
}

// parseProviderFile checks a provider file (XMPP Providers API v2) with
// package providerfile and turns its report into discovery's terms: the
// record with the values that were read, the keys they came from (fields),
// and, in problems, every error and every ignored key, as FieldErrors
// whose messages never quote the file (providerfile's Problem.Err, not
// its Message). An ignored key matches ErrUnknownField; it is a warning,
// not an error. Other warnings (an upper-case code, an http link, a size
// that looks like bytes) are left to providerfile.Validate.
func parseProviderFile(b []byte) (p providers.Provider, fields []providers.Field, problems []FieldError) {
	var v providerfile.Validator
	file := v.Parse(b)
	for _, pr := range file.Report.Problems {
		if len(problems) >= maxFieldErrors {
			break
		}
		if pr.Severity == providerfile.SeverityWarning && !errors.Is(pr.Err, providerfile.ErrUnknownKey) {
			continue
		}
		problems = append(problems, FieldError{Field: string(pr.Field), Err: fileProblem(pr)})
	}
	return file.Provider, file.Fields, problems
}

// fileProblem is the cause of a FieldError for a providerfile problem: it
// matches the kind of problem (providerfile.ErrWrongType, …) and
// discovery's sentinel for it, and says what providerfile's value-free
// Err says.
func fileProblem(pr providerfile.Problem) error {
	switch {
	case errors.Is(pr.Err, providerfile.ErrMissingKey):
		return ErrMissingField
	case errors.Is(pr.Err, providerfile.ErrUnknownKey):
		if pr.Field != "" {
			return ErrUnknownField
		}
		return &problemError{sentinel: ErrUnknownField, cause: pr.Err, kind: providerfile.ErrUnknownKey}
	case errors.Is(pr.Err, providerfile.ErrInvalidValue):
		return &problemError{sentinel: ErrInvalidValue, cause: pr.Err, kind: providerfile.ErrInvalidValue}
	case errors.Is(pr.Err, providerfile.ErrWrongType):
		// "want an integer, got a string", as the report has always said.
		return &problemError{cause: pr.Err, kind: providerfile.ErrWrongType}
	}
	return &problemError{cause: pr.Err}
}

// problemError is a providerfile problem in discovery's words.
type problemError struct {
	sentinel error // discovery's, or nil
	cause    error // providerfile's Problem.Err
	kind     error // the providerfile kind the sentinel stands for, or whose name is left out
}

func (e *problemError) Error() string {
	switch {
	case e.sentinel != nil:
		return e.sentinel.Error() + strings.TrimPrefix(e.cause.Error(), e.kind.Error())
	case e.kind != nil:
		return strings.TrimPrefix(e.cause.Error(), e.kind.Error()+": ")
	}
	return "discovery: " + strings.TrimPrefix(e.cause.Error(), "providerfile: ")
}

func (e *problemError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.cause}
	}
	return []error{e.sentinel, e.cause}
}
