package rating

import (
	"fmt"
	"io"

	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
)

// The provider file moved to package providerfile, which has nothing to do
// with categories. These forwarding declarations keep old callers
// building; they will be removed.

// DefaultMaxProviderFileBytes is providerfile.DefaultMaxBytes.
//
// Deprecated: use providerfile.DefaultMaxBytes.
const DefaultMaxProviderFileBytes = providerfile.DefaultMaxBytes

// ErrInvalid is providerfile.ErrInvalid.
//
// Deprecated: use providerfile.ErrInvalid.
var ErrInvalid = providerfile.ErrInvalid

// ErrTooLarge is providerfile.ErrTooLarge.
//
// Deprecated: use providerfile.ErrTooLarge.
var ErrTooLarge = providerfile.ErrTooLarge

// Severity is providerfile.Severity.
//
// Deprecated: use providerfile.Severity.
type Severity = providerfile.Severity

// The severities of a Problem.
//
// Deprecated: use providerfile.SeverityError and providerfile.SeverityWarning.
const (
	SeverityError   = providerfile.SeverityError
	SeverityWarning = providerfile.SeverityWarning
)

// Problem is providerfile.Problem.
//
// Deprecated: use providerfile.Problem.
type Problem = providerfile.Problem

// Report is providerfile.Report.
//
// Deprecated: use providerfile.Report.
type Report = providerfile.Report

// FileError is providerfile.FileError.
//
// Deprecated: use providerfile.FileError.
type FileError = providerfile.FileError

// Validator is providerfile.Validator.
//
// Deprecated: use providerfile.Validator.
type Validator = providerfile.Validator

// ProviderFileAnswers is providerfile.Answers.
//
// Deprecated: use providerfile.Answers.
type ProviderFileAnswers = providerfile.Answers

// ValidateProviderFile is providerfile.Validate, with errors prefixed
// "rating: ".
//
// Deprecated: use providerfile.Validate.
func ValidateProviderFile(r io.Reader) (providers.Provider, Report, error) {
	p, rep, err := providerfile.Validate(r)
	if err != nil {
		err = fmt.Errorf("rating: %w", err)
	}
	return p, rep, err
}

// GenerateProviderFile is providerfile.Generate.
//
// Deprecated: use providerfile.Generate.
func GenerateProviderFile(live providers.Provider, answers ProviderFileAnswers) ([]byte, error) {
	return providerfile.Generate(live, answers)
}
