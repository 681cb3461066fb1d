package discovery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providerfile"
)

// TestProviderFileUnknownKeyIsAWarning: the prober goes by package
// providerfile's rule, so a file that is valid but for a key the format
// does not define (yet) is valid, and the key is not an error.
func TestProviderFileUnknownKeyIsAWarning(t *testing.T) {
	t.Parallel()
	valid := string(readTestdata(t, "providerfile/valid.json"))
	extra := strings.Replace(valid, "{", `{"x-newKey": {"from": "a newer format"}, "inBandRegistration": true,`, 1)
	w := startWeb(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = rw.Write([]byte(extra))
	}), "extra.test")
	p := w.prober()
	p.Skip |= PartHostMeta
	r, err := p.Probe(context.Background(), "extra.test")
	if err != nil {
		t.Fatal(err)
	}
	pf := r.ProviderFile
	if !pf.Valid() || len(pf.Fields) != 14 || pf.Status.Reason != "unknown keys ignored" {
		t.Errorf("provider file = %v, %d fields, errors %v", pf.Status, len(pf.Fields), pf.Errors)
	}
	// Both ways of checking agree.
	if _, rep, err := (providerfile.Validator{}).Validate(strings.NewReader(extra)); err != nil || len(rep.Warnings()) != 2 {
		t.Errorf("providerfile: %v, %v", err, rep.Problems)
	}
}

// TestProviderFileErrorKinds: the errors of a report match both
// discovery's sentinels and providerfile's kinds, and say nothing but
// what was expected.
func TestProviderFileErrorKinds(t *testing.T) {
	_, _, errs := parseProviderFile(readTestdata(t, "providerfile/mistakes.json"))
	got := map[string]error{}
	for _, e := range errs {
		got[e.Field] = e.Err
	}
	for _, c := range []struct {
		field string
		is    []error
		msg   string
	}{
		{"busFactor", []error{providerfile.ErrWrongType}, "want an integer, got a string"},
		{"organization", []error{ErrInvalidValue, providerfile.ErrInvalidValue}, "discovery: invalid value: unknown organization kind"},
		{"freeOfCharge", []error{providerfile.ErrDuplicateKey}, "discovery: duplicate key"},
		{"maximumMessageArchiveManagementStorageTime", []error{ErrMissingField}, "discovery: missing key"},
		{"inBandRegistration", []error{ErrUnknownField}, "discovery: unknown key"},
	} {
		err := got[c.field]
		for _, is := range c.is {
			if !errors.Is(err, is) {
				t.Errorf("%s: %v does not match %v", c.field, err, is)
			}
		}
		if err == nil || err.Error() != c.msg {
			t.Errorf("%s: %q, want %q", c.field, err, c.msg)
		}
	}
	_, _, errs = parseProviderFile([]byte(`[1, 2]`))
	if len(errs) != 1 || errs[0].Field != "" || !errors.Is(errs[0].Err, providerfile.ErrNotJSON) ||
		!strings.HasPrefix(errs[0].Err.Error(), "discovery: ") {
		t.Errorf("array: %v", errs)
	}
}
