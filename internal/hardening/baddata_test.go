package hardening_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providerfile"
	"github.com/xmpp-onboard/onboard/providers"
)

// hugeSize is the size of the "100 MB" inputs. They are generated as they
// are read; nothing holds them in memory.
const hugeSize = 100 << 20

// readSlack is how much more than its cap a size-limited reader may
// consume (buffers of the JSON decoder, the probe byte, TLS records).
const readSlack = 64 << 10

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// genReader generates prefix, then unit(0), sep, unit(1), … until at least
// size bytes have been produced, then suffix, piece by piece as it is
// read.
type genReader struct {
	prefix, sep, suffix string
	unit                func(i int) string
	size                int64

	produced int64
	i        int
	pending  []byte
	ended    bool
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		switch {
		case g.ended:
			return 0, io.EOF
		case g.i == 0 && g.produced == 0:
			g.pending = []byte(g.prefix + g.unit(0))
			g.i = 1
		case g.produced >= g.size:
			g.pending = []byte(g.suffix)
			g.ended = true
		default:
			g.pending = []byte(g.sep + g.unit(g.i))
			g.i++
		}
		g.produced += int64(len(g.pending))
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// entries returns the first entries of the embedded provider list as
// generic JSON objects, to mutate.
func entries(t *testing.T, n int) []map[string]any {
	t.Helper()
	b, err := providers.Embedded().Encode()
	if err != nil {
		t.Fatal(err)
	}
	var all []map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	if len(all) < n {
		t.Fatalf("embedded list has %d entries", len(all))
	}
	return all[:n]
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBadProviderLists feeds hostile provider lists to providers.Decoder:
// each must fail with a *DecodeError that names the provider (by domain or
// position) and the key.
func TestBadProviderLists(t *testing.T) {
	es := entries(t, 2)
	a, b := es[0], es[1]
	domA := a["jid"].(string)
	list := func(mutate func(e map[string]any)) string {
		e := map[string]any{}
		for k, v := range b {
			e[k] = v
		}
		mutate(e)
		return "[" + mustJSON(t, a) + "," + mustJSON(t, e) + "]"
	}
	domB := b["jid"].(string)
	// replaceKey rewrites the text of the second entry's key.
	secondWith := func(key, rawValue string) string {
		s := list(func(map[string]any) {})
		i := strings.LastIndex(s, `"`+key+`":`)
		if i < 0 {
			t.Fatalf("no key %s", key)
		}
		// Find the end of the value: the next ",\"" or "}" at depth 0.
		j := i + len(key) + 3
		depth := 0
		k := j
	loop:
		for ; k < len(s); k++ {
			switch s[k] {
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					break loop
				}
				depth--
			case ',':
				if depth == 0 {
					break loop
				}
			case '"':
				for k++; k < len(s) && s[k] != '"'; k++ {
					if s[k] == '\\' {
						k++
					}
				}
			}
		}
		return s[:j] + rawValue + s[k:]
	}
	cases := []struct {
		name     string
		in       string
		provider string // domain named by the error ("" when by position)
		index    int    // position named, -2 to not check
		field    providers.Field
		is       error
	}{
		{name: "wrong type", in: secondWith("busFactor", `"two"`), provider: domB, index: 1, field: providers.FieldBusFactor},
		{name: "object for a number", in: secondWith("busFactor", `{"a":1}`), provider: domB, index: 1, field: providers.FieldBusFactor},
		{name: "null", in: secondWith("freeOfCharge", `null`), provider: domB, index: 1, field: providers.FieldFreeOfCharge},
		{name: "huge float", in: secondWith("busFactor", `1e400`), provider: domB, index: 1, field: providers.FieldBusFactor},
		{name: "huge integer", in: secondWith("maximumHttpFileUploadFileSize", `99999999999999999999999999`), provider: domB, index: 1, field: providers.FieldUploadFileSize},
		{name: "fraction", in: secondWith("busFactor", `2.5`), provider: domB, index: 1, field: providers.FieldBusFactor},
		{name: "number for a string", in: secondWith("jid", `42`), index: 1, field: providers.FieldJID},
		{name: "wrong type in an array", in: secondWith("serverLocations", `["de", 7]`), provider: domB, index: 1, field: providers.FieldServerLocations},
		{name: "wrong type in a map", in: secondWith("website", `{"en": ["x"]}`), provider: domB, index: 1, field: providers.FieldWebsite},
		{name: "duplicate key", in: strings.Replace(secondWith("busFactor", `2`), `"busFactor":2`, `"busFactor":2,"busFactor":3`, 1), provider: domB, index: 1, field: providers.FieldBusFactor},
		// The JSON decoder stops at invalid UTF-8 and at nesting deeper
		// than it allows; the entry is named by its position.
		{name: "invalid UTF-8", in: secondWith("since", "\"2020-01-01\xff\""), index: 1},
		{name: "invalid UTF-8 in a key", in: strings.Replace(list(func(map[string]any) {}), `"since"`, "\"sin\xffce\"", 1), index: -2},
		{name: "duplicate domain", in: "[" + mustJSON(t, a) + "," + mustJSON(t, a) + "]", provider: domA, index: 1, field: providers.FieldJID},
		{name: "deep nesting", in: secondWith("website", strings.Repeat("[", 100_000)), index: 1},
		{name: "trailing data", in: list(func(map[string]any) {}) + `{"x":1}`, index: -1},
		{name: "truncated", in: list(func(map[string]any) {})[:500], index: 0},
		{name: "not a list", in: `"providers"`, index: -1, is: providers.ErrFormat},
		{name: "null entry", in: "[" + mustJSON(t, a) + ",null]", index: 1},
		{name: "full format, wrong type", in: `{"` + domA + `":{"busFactor":{"content":"two","source":""}}}`, provider: domA, field: providers.FieldBusFactor, index: -2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			bounded(t, deadline, func(ctx context.Context, cl *closers) {
				_, err = providers.Decode(strings.NewReader(tc.in))
			})
			var de *providers.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want a *providers.DecodeError", err, err)
			}
			if !strings.HasPrefix(err.Error(), "providers: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tc.provider != "" && de.Provider != tc.provider {
				t.Errorf("Provider = %q, want %q (%v)", de.Provider, tc.provider, err)
			}
			if tc.index > -2 && de.Index != tc.index {
				t.Errorf("Index = %d, want %d (%v)", de.Index, tc.index, err)
			}
			if tc.field != "" {
				if de.Field != tc.field {
					t.Errorf("Field = %q, want %q (%v)", de.Field, tc.field, err)
				}
				if !strings.Contains(err.Error(), string(tc.field)) {
					t.Errorf("message %q does not name the key %s", err, tc.field)
				}
			}
			if tc.provider != "" && !strings.Contains(err.Error(), tc.provider) {
				t.Errorf("message %q does not name the provider %s", err, tc.provider)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

// TestHugeProviderList decodes 100 MB of provider list, generated as it
// is read: the decoder must stop at its cap, having read no more than the
// cap and a few buffers, say which entry it was in, and stay within the
// memory bound.
func TestHugeProviderList(t *testing.T) {
	e := entries(t, 1)[0]
	tmpl := mustJSON(t, e)
	dom := e["jid"].(string)
	for _, max := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("MaxBytes=%d", max), func(t *testing.T) {
			cr := &countingReader{r: &genReader{prefix: "[", sep: ",", suffix: "]", size: hugeSize,
				unit: func(i int) string { return strings.Replace(tmpl, `"`+dom+`"`, fmt.Sprintf(`"p%d.%s"`, i, dom), 1) }}}
			var err error
			limit := max
			bounded(t, deadline, func(ctx context.Context, cl *closers) {
				d := providers.Decoder{MaxBytes: max}
				_, err = d.Decode(cr)
			})
			if limit == 0 {
				limit = providers.DefaultMaxBytes
			}
			var de *providers.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, providers.ErrTooLarge) {
				t.Fatalf("err = %v, want a *DecodeError matching ErrTooLarge", err)
			}
			if de.Index < 0 && de.Provider == "" {
				t.Errorf("the error does not say where the cap was hit: %v", err)
			}
			if cr.n > limit+readSlack {
				t.Errorf("read %d bytes, cap %d", cr.n, limit)
			}
			t.Logf("read %d bytes of %d (cap %d): %v", cr.n, hugeSize, limit, err)
		})
	}
}

// validProviderFile is a provider file without problems (the example of
// rating's tests).
const validProviderFile = `{
  "website": {"en": "https://chat.example.org/en/", "de": "https://chat.example.org/de/"},
  "alternativeJids": ["example.net"],
  "busFactor": 2,
  "organization": "non-governmental",
  "passwordReset": {"en": "https://chat.example.org/reset?lang=en&from=app"},
  "serverTesting": true,
  "maximumHttpFileUploadTotalSize": 500,
  "maximumHttpFileUploadStorageTime": 30,
  "maximumMessageArchiveManagementStorageTime": 0,
  "professionalHosting": true,
  "freeOfCharge": true,
  "legalNotice": {"en": "https://chat.example.org/legal/"},
  "serverLocations": ["de", "fi"],
  "since": "2019-05-01"
}`

// withValue replaces the value of key in validProviderFile.
func withValue(t *testing.T, key, rawValue string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(validProviderFile), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m[key]; !ok {
		t.Fatalf("no key %s", key)
	}
	i := strings.Index(validProviderFile, `"`+key+`":`)
	j := i + len(key) + 3
	old := strings.TrimSpace(string(m[key]))
	k := strings.Index(validProviderFile[j:], old)
	return validProviderFile[:j+k] + rawValue + validProviderFile[j+k+len(old):]
}

// badProviderFiles are hostile provider files and the key each problem
// must name ("" for the whole file).
func badProviderFiles(t *testing.T) []badFile {
	return []badFile{
		{"wrong type", withValue(t, "busFactor", `"two"`), providers.FieldBusFactor, false},
		{"null", withValue(t, "freeOfCharge", `null`), providers.FieldFreeOfCharge, false},
		{"huge float", withValue(t, "busFactor", `1e400`), providers.FieldBusFactor, false},
		{"huge integer", withValue(t, "maximumHttpFileUploadTotalSize", `99999999999999999999999999`), providers.FieldUploadTotalSize, false},
		{"wrong type in an array", withValue(t, "serverLocations", `["de", 7]`), providers.FieldServerLocations, false},
		{"wrong type in a map", withValue(t, "website", `{"en": ["x"]}`), providers.FieldWebsite, false},
		{"deep nesting", withValue(t, "website", strings.Repeat("[", 100_000)), providers.FieldWebsite, true},
		{"javascript URL", withValue(t, "legalNotice", `{"en": "javascript:alert(1)"}`), providers.FieldLegalNotice, false},
		{"duplicate key", strings.Replace(validProviderFile, `"busFactor": 2,`, `"busFactor": 2, "busFactor": 3,`, 1), providers.FieldBusFactor, false},
		{"invalid UTF-8", withValue(t, "since", "\"2019-05-01\xff\""), providers.FieldSince, true},
	}
}

type badFile struct {
	name, in string
	field    providers.Field
	// whole: the JSON decoder stops; the problem may be about the whole
	// file.
	whole bool
}

// TestBadProviderFiles checks providerfile.Validate with hostile
// provider files: an error matching providerfile.ErrInvalid whose problems name
// the key.
func TestBadProviderFiles(t *testing.T) {
	for _, tc := range badProviderFiles(t) {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			var rep providerfile.Report
			bounded(t, deadline, func(ctx context.Context, cl *closers) {
				_, rep, err = providerfile.Validate(strings.NewReader(tc.in))
			})
			var fe *providerfile.FileError
			if !errors.As(err, &fe) || !errors.Is(err, providerfile.ErrInvalid) {
				t.Fatalf("err = %v, want a *providerfile.FileError matching ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "providerfile: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tc.whole && len(rep.For(tc.field)) == 0 && len(rep.Errors()) == 1 && rep.Errors()[0].Field == "" {
				// Invalid UTF-8 and nesting too deep for the JSON decoder
				// are documented as problems of the whole file: the
				// decoder stops there.
				return
			}
			var named bool
			for _, p := range rep.For(tc.field) {
				named = named || p.Severity == providerfile.SeverityError
			}
			if !named {
				t.Errorf("no error about %s; problems: %v", tc.field, rep.Problems)
			}
		})
	}
}

// TestHugeProviderFile validates 100 MB of provider file, generated as it
// is read (one object with ever more keys): the validator must stop at its
// cap and read no more than the cap and a few buffers.
func TestHugeProviderFile(t *testing.T) {
	for _, max := range []int64{0, 64 << 10} {
		t.Run(fmt.Sprintf("MaxBytes=%d", max), func(t *testing.T) {
			cr := &countingReader{r: &genReader{prefix: `{"busFactor": 2`, sep: ",", suffix: "}", size: hugeSize,
				unit: func(i int) string { return fmt.Sprintf(`"k%d": [%d, "padding padding padding"]`, i, i) }}}
			var err error
			bounded(t, deadline, func(ctx context.Context, cl *closers) {
				v := providerfile.Validator{MaxBytes: max}
				_, _, err = v.Validate(cr)
			})
			limit := max
			if limit == 0 {
				limit = providerfile.DefaultMaxBytes
			}
			if !errors.Is(err, providerfile.ErrTooLarge) || !errors.Is(err, providerfile.ErrInvalid) {
				t.Fatalf("err = %v, want ErrTooLarge and ErrInvalid", err)
			}
			if cr.n > limit+readSlack {
				t.Errorf("read %d bytes, cap %d", cr.n, limit)
			}
			t.Logf("read %d bytes of %d (cap %d)", cr.n, hugeSize, limit)
		})
	}
}

// TestGenReader checks the generator the huge inputs come from.
func TestGenReader(t *testing.T) {
	g := &genReader{prefix: "[", sep: ",", suffix: "]", size: 20, unit: func(i int) string { return fmt.Sprint(i) }}
	b, err := io.ReadAll(g)
	if err != nil || string(b) != "[0,1,2,3,4,5,6,7,8,9]" {
		t.Fatalf("%q, %v", b, err)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(&genReader{prefix: "[", sep: ",", suffix: "]", size: hugeSize, unit: func(int) string { return "xx" }}, 1<<20))
	if n != 1<<20 || err != nil {
		t.Fatalf("%d, %v", n, err)
	}
}
