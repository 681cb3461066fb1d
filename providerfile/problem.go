package providerfile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xmpp-onboard/onboard/providers"
)

// Errors of provider file validation; match them with errors.Is.
var (
	// ErrInvalid is matched by every *FileError: the file cannot be used
	// as it is.
	ErrInvalid = errors.New("providerfile: invalid provider file")
	// ErrTooLarge means the input exceeds the validator's size cap.
	ErrTooLarge = errors.New("providerfile: provider file too large")
)

// The kinds of Problem, matched with errors.Is on Problem.Err.
var (
	// ErrNotJSON: the file is not one JSON object (not JSON, truncated,
	// invalid UTF-8, nested too deeply, trailing data). The problem is
	// about the whole file; Problem.Err also wraps the *jsonstrict.Error
	// with the offset.
	ErrNotJSON = errors.New("providerfile: not a JSON object")
	// ErrMissingKey: one of the 14 keys is missing (an error).
	ErrMissingKey = errors.New("providerfile: missing key")
	// ErrDuplicateKey: a key appears twice (an error: JSON parsers
	// disagree on which value counts). The first value is the one read.
	ErrDuplicateKey = errors.New("providerfile: duplicate key")
	// ErrUnknownKey: a key that is not one of the 14 (a warning; the key
	// is ignored). See the package documentation for why.
	ErrUnknownKey = errors.New("providerfile: unknown key")
	// ErrWrongType: the value has the wrong JSON type (an error).
	ErrWrongType = errors.New("providerfile: wrong type")
	// ErrInvalidValue: the value has the right type but cannot be used:
	// out of range, malformed, not a safe link (an error).
	ErrInvalidValue = errors.New("providerfile: invalid value")
	// ErrSuspicious: the value is usable but probably not what the
	// operator meant (a size that looks like bytes, an http link, an
	// upper-case code), or it keeps the provider out of categories A and
	// B (a warning).
	ErrSuspicious = errors.New("providerfile: suspicious value")
)

// Severity says how bad a Problem is.
type Severity string

// The severities of a Problem.
const (
	// SeverityError: the value is wrong or missing; consumers cannot use it.
	SeverityError Severity = "error"
	// SeverityWarning: the value is usable but probably not what the
	// operator meant, or it keeps the provider out of a good category.
	SeverityWarning Severity = "warning"
)

// Problem is one finding of provider file validation.
//
// It says the same thing twice: Message for the operator of the file, who
// wants to see the offending value ("language code \"EN\" should be
// lower-case \"en\""; values are quoted with %q, so control and bidi
// characters are escaped), and Err for a report about a file from an
// untrusted source, which must not echo what it could not interpret: Err
// names the kind of problem (errors.Is with ErrMissingKey, ErrUnknownKey,
// ErrWrongType, ErrInvalidValue, …) and says what was expected without
// quoting any of the file ("wrong type: want an integer, got a string").
type Problem struct {
	// Severity is SeverityError or SeverityWarning.
	Severity Severity `json:"severity"`
	// Field is the key the problem is about; empty for the file as a
	// whole. It may be a key that is not a providers.Field constant (an
	// unknown key); such a key is passed through sanitize.Line and
	// clipped to 64 bytes.
	Field providers.Field `json:"field,omitempty"`
	// Message says what is wrong and, where it can, how to fix it.
	Message string `json:"message"`
	// Err is the kind of problem with a description that quotes nothing
	// of the file.
	Err error `json:"-"`
}

// String formats the problem as "error: busFactor: want an integer, got a
// string".
func (p Problem) String() string {
	if p.Field == "" {
		return string(p.Severity) + ": " + p.Message
	}
	return string(p.Severity) + ": " + string(p.Field) + ": " + p.Message
}

// problemError is the Err of a Problem: a kind and a detail that quotes
// nothing of the file.
type problemError struct {
	kind   error
	detail string
}

func (e *problemError) Error() string {
	if e.detail == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.detail
}

func (e *problemError) Unwrap() error { return e.kind }

// Report lists what validation found, in the order of the file's keys,
// followed by missing keys.
type Report struct {
	Problems []Problem `json:"problems"`
}

// OK reports whether the report has no errors (warnings are allowed).
func (r Report) OK() bool { return len(r.Errors()) == 0 }

// Clean reports whether the report has neither errors nor warnings.
func (r Report) Clean() bool { return len(r.Problems) == 0 }

// Errors returns the problems of SeverityError.
func (r Report) Errors() []Problem { return r.filter(SeverityError) }

// Warnings returns the problems of SeverityWarning.
func (r Report) Warnings() []Problem { return r.filter(SeverityWarning) }

// For returns the problems about key f.
func (r Report) For(f providers.Field) []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Field == f {
			out = append(out, p)
		}
	}
	return out
}

func (r Report) filter(s Severity) []Problem {
	var out []Problem
	for _, p := range r.Problems {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// FileError is returned when a provider file cannot be used: it is not a
// JSON object, too large, or has errors in its keys. It matches ErrInvalid.
type FileError struct {
	// Problems are the errors found, each naming its key. For input that
	// could not be read as JSON it holds one problem about the whole file.
	Problems []Problem
	// Err is the cause when the input could not be read as a JSON object
	// (it wraps ErrTooLarge for oversized input, ErrNotJSON otherwise);
	// nil otherwise.
	Err error
}

// Error implements error. It lists the first three problems with their
// Message, which may quote the file.
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("providerfile: invalid provider file")
	if len(e.Problems) == 0 && e.Err != nil {
		b.WriteString(": " + strings.TrimPrefix(e.Err.Error(), "providerfile: "))
	}
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if p.Field != "" {
			b.WriteString(string(p.Field) + ": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FileError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }
