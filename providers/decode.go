package providers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xmpp-onboard/onboard/internal/jsonstrict"
	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// Format tells which of the published shapes a list was read from.
type Format int

// The formats Decode recognises.
const (
	// FormatUnknown is the zero Format.
	FormatUnknown Format = iota
	// FormatFiltered is an API v2 filtered list (providers-A.json …
	// providers-D.json): an array of flat objects with 31 keys.
	FormatFiltered
	// FormatFull is the API v2 providers.json: an object keyed by domain
	// whose properties are wrapped as {"content": …, "source": …}. It has no
	// categories; Provider.Sources records the sources.
	FormatFull
	// FormatSimple is a simple list (providers-As.json … providers-Ds.json):
	// an array of domains. Only Provider.JID is set.
	FormatSimple
	// FormatV1 is an API v1 filtered list, with "lastCheck" and a boolean
	// "company". Fields v1 lacks keep their zero value, except sizes and
	// times, which are Unknown, and the bus factor, which is unknown.
	FormatV1
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatFiltered:
		return "v2 filtered list"
	case FormatFull:
		return "v2 providers.json"
	case FormatSimple:
		return "simple list"
	case FormatV1:
		return "v1 filtered list"
	}
	return "unknown format"
}

// DefaultMaxBytes is the input size Decode accepts by default: 4 MiB, about
// ten times the full providers.json and eighty times providers-B.json today.
// A hostile list at the cap decodes into some 4,000 records and about
// 20 MiB of heap; raise Decoder.MaxBytes only for a source you trust.
const DefaultMaxBytes = 4 << 20

// Errors Decode wraps; match them with errors.Is.
var (
	// ErrTooLarge means the input exceeds the decoder's size cap.
	ErrTooLarge = errors.New("providers: input too large")
	// ErrFormat means the input is not one of the known list shapes.
	ErrFormat = errors.New("providers: not a provider list")
	// ErrUnsafeText means a string of the list holds a character that
	// sanitize.Clean refuses: a C0 or C1 control (ESC, BEL, CR, NUL …),
	// DEL, a bidi control (U+202E …) or a line or paragraph separator.
	// No field of the format allows one: domains, addresses, URLs,
	// language and country codes and sources are identifiers, and the
	// free-text fields (server software name and version, grades) are one
	// line each. Ordinary Unicode (letters of any script, punctuation,
	// symbols) is kept.
	ErrUnsafeText = errors.New("providers: control or bidi character")
	// ErrInsecureLink is matched by the entries of List.Dropped: a link
	// that is not one netguard.HTTPSLink accepts (http://, javascript:,
	// no host, user information, a loopback or private host …). SECURITY.md
	// promises that the module shows and opens https links only.
	ErrInsecureLink = errors.New("providers: not an https link")
)

// DecodeError reports what went wrong where: the provider (by domain when it
// was read, by position otherwise), the field, and the byte offset.
//
// Provider is passed through sanitize.Line, so a program may print it as it
// is: a domain with control characters (which is itself an error) appears
// with visible escapes such as \x1b.
type DecodeError struct {
	Index    int    // position in the list, from 0; -1 if not in an entry
	Provider string // domain of the entry, if known (escaped by sanitize.Line)
	Field    Field  // the key, if the error is about one
	Offset   int64  // input offset near the error
	Err      error  // the cause
}

// Error implements error.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("providers: ")
	switch {
	case e.Provider != "":
		fmt.Fprintf(&b, "provider %q", e.Provider)
	case e.Index >= 0:
		fmt.Fprintf(&b, "entry %d", e.Index)
	default:
		b.WriteString("list")
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %q", string(e.Field))
	}
	fmt.Fprintf(&b, " (offset %d): %v", e.Offset, e.Err)
	return b.String()
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// Decoder reads provider lists. Its zero value is ready to use.
type Decoder struct {
	// MaxBytes caps the input size; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Decode reads a provider list in any of the published shapes with the
// default size cap; see Decoder.Decode.
func Decode(r io.Reader) (List, error) {
	var d Decoder
	return d.Decode(r)
}

// Decode reads a provider list and tells its shape apart: a v2 filtered list,
// the full v2 providers.json, a simple list of domains, or a v1 list. Unknown
// keys are ignored. Wrong types, invalid UTF-8, control and bidi
// characters in any string (ErrUnsafeText), duplicate keys or domains,
// trailing data, truncated input and input over MaxBytes are errors; a
// *DecodeError names the provider and field. The JSON is read by
// internal/jsonstrict, which also refuses nesting deeper than it allows.
//
// Links are vetted with netguard.HTTPSLink: a website, password-reset page,
// registration page or legal notice that is not an https link an app may
// open (http://, another scheme, user information, a loopback or private
// host) is left out of the record, as if the provider had not published it
// in that language, and a property source that is not one makes the
// property unverified. The provider itself is kept: a stale http link is
// the operator's slip, not a reason to hide the service. Each link left
// out is recorded in List.Dropped, without the link.
func (d *Decoder) Decode(r io.Reader) (List, error) {
	max := d.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	data, err := jsonstrict.ReadAll(r, max)
	if err != nil {
		if errors.Is(err, jsonstrict.ErrTooLarge) {
			return List{}, &DecodeError{Index: cutAt(data), Offset: max,
				Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
		}
		return List{}, &DecodeError{Index: -1, Err: err}
	}
	st := &decodeState{index: -1}
	return st.list(data)
}

// cutAt returns the position of the entry that the size cap cut, given
// the input up to the cap: the number of entries before it. It only scans,
// so that an oversized list costs no more than reading it.
func cutAt(data []byte) int {
	n := 0
	switch jsonstrict.KindOf(data) {
	case jsonstrict.KindArray:
		_ = jsonstrict.EachElement(data, func(int, []byte, int64) error { n++; return nil })
	case jsonstrict.KindObject:
		_ = jsonstrict.EachMember(data, func(string, []byte, int64) error { n++; return nil })
	default:
		return -1
	}
	return n
}

type decodeState struct {
	index  int
	domain string
	offset int64 // of the current entry
}

func (s *decodeState) fail(f Field, err error) error {
	return &DecodeError{Index: s.index, Provider: sanitize.Line(s.domain), Field: f, Offset: s.offset, Err: err}
}

// syntax turns an error of jsonstrict about the input into a
// *DecodeError: an error about the end of the input is not about an entry.
func (s *decodeState) syntax(err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return err
	}
	var je *jsonstrict.Error
	if errors.As(err, &je) {
		s.offset = je.Offset
		if errors.Is(err, jsonstrict.ErrTrailingData) {
			s.index, s.domain = -1, ""
			return s.fail("", fmt.Errorf("unexpected data after the list: %w", err))
		}
	}
	return s.fail("", err)
}

func (s *decodeState) list(data []byte) (List, error) {
	switch jsonstrict.KindOf(data) {
	case jsonstrict.KindArray:
		return s.array(data)
	case jsonstrict.KindObject:
		return s.full(data)
	case jsonstrict.KindInvalid:
		if err := jsonstrict.Valid(data); err != nil {
			return List{}, s.fail("", fmt.Errorf("%w: %v", ErrFormat, err))
		}
	}
	return List{}, s.fail("", fmt.Errorf("%w: want a JSON array or object, got %v", ErrFormat, jsonstrict.KindOf(data)))
}

func (s *decodeState) array(data []byte) (List, error) {
	l := List{}
	seen := map[string]bool{}
	s.index = 0
	err := jsonstrict.EachElement(data, func(i int, raw []byte, off int64) error {
		s.index, s.domain, s.offset = i, "", off
		var p Provider
		switch jsonstrict.KindOf(raw) {
		case jsonstrict.KindString:
			if l.Format != FormatUnknown && l.Format != FormatSimple {
				return s.fail("", errors.New("a domain string in a list of provider objects"))
			}
			l.Format = FormatSimple
			dom, err := jsonstrict.String(raw)
			if err != nil {
				return s.fail("", err)
			}
			if err := CheckDomain(dom); err != nil {
				return s.fail(FieldJID, err)
			}
			p.JID = dom
		case jsonstrict.KindObject:
			if l.Format == FormatSimple {
				return s.fail("", errors.New("a provider object in a list of domains"))
			}
			obj, err := s.object(raw)
			if err != nil {
				return err
			}
			f := FormatFiltered
			if isV1(obj) {
				f = FormatV1
			}
			if l.Format == FormatUnknown {
				l.Format = f
			} else if l.Format != f {
				return s.fail("", fmt.Errorf("a %v entry in a %v", f, l.Format))
			}
			if p, err = s.provider(obj, f); err != nil {
				return err
			}
			l.Dropped = append(l.Dropped, s.vetLinks(&p)...)
		default:
			return s.fail("", fmt.Errorf("want a provider object or a domain, got %s", clip(raw)))
		}
		key := strings.ToLower(p.JID)
		if seen[key] {
			s.domain = p.JID
			return s.fail(FieldJID, errors.New("duplicate provider"))
		}
		seen[key] = true
		l.Providers = append(l.Providers, p)
		s.index, s.domain = i+1, ""
		return nil
	})
	if err != nil {
		return List{}, s.syntax(err)
	}
	if l.Format == FormatUnknown {
		l.Format = FormatFiltered // an empty array: nothing tells them apart
	}
	return l, nil
}

func (s *decodeState) full(data []byte) (List, error) {
	l := List{Format: FormatFull}
	seen := map[string]bool{}
	s.index = 0
	err := jsonstrict.EachMember(data, func(dom string, raw []byte, off int64) error {
		s.domain, s.offset = dom, off
		if err := CheckDomain(dom); err != nil {
			return s.fail(FieldJID, err)
		}
		if seen[strings.ToLower(dom)] {
			return s.fail(FieldJID, errors.New("duplicate provider"))
		}
		seen[strings.ToLower(dom)] = true
		if jsonstrict.KindOf(raw) != jsonstrict.KindObject {
			if len(l.Providers) == 0 && s.index == 0 {
				return s.fail("", fmt.Errorf("%w: an object whose values are not providers (a provider file? see providerfile.Validate)", ErrFormat))
			}
			return s.fail("", fmt.Errorf("want an object of properties, got %s", clip(raw)))
		}
		obj, err := s.object(raw)
		if err != nil {
			return err
		}
		p := New(dom)
		p.Sources = make(map[Field]string, len(obj.Keys))
		for _, k := range obj.Keys {
			d := lookup(Field(k))
			if d == nil || d.Field == FieldJID {
				continue
			}
			v, _ := obj.Get(k)
			w, err := jsonstrict.ParseObject(v)
			if err != nil {
				return s.fail(d.Field, fmt.Errorf("want {\"content\": …, \"source\": …}: %v", err))
			}
			content, ok := w.Get("content")
			if !ok {
				return s.fail(d.Field, errors.New(`missing "content" in the property wrapper`))
			}
			src := ""
			if rs, ok := w.Get("source"); ok {
				if err := strictString(rs, &src); err != nil {
					return s.fail(d.Field, fmt.Errorf("source: %w", err))
				}
			}
			if err := d.decode(&p, content); err != nil {
				return s.fail(d.Field, err)
			}
			p.Sources[d.Field] = src
		}
		l.Dropped = append(l.Dropped, s.vetLinks(&p)...)
		l.Providers = append(l.Providers, p)
		s.index++
		s.domain = ""
		return nil
	})
	if err != nil {
		return List{}, s.syntax(err)
	}
	return l, nil
}

// object parses raw as a JSON object, rejecting duplicate keys; the error
// names the entry by its jid if that can be read.
func (s *decodeState) object(raw []byte) (jsonstrict.Object, error) {
	o, err := jsonstrict.ParseObject(raw)
	if err == nil {
		return o, nil
	}
	var je *jsonstrict.Error
	if errors.As(err, &je) && je.Kind == jsonstrict.ErrDuplicateKey {
		if s.domain == "" {
			// Name the entry in the error if its jid is readable.
			ms, _ := jsonstrict.Members(raw)
			for _, m := range ms {
				if m.Key == string(FieldJID) {
					s.domain, _ = jsonstrict.String(m.Value)
					break
				}
			}
		}
		return o, s.fail(Field(je.Key), errors.New("duplicate key"))
	}
	return o, s.fail("", jsonstrict.Shift(err, s.offset))
}

func isV1(o jsonstrict.Object) bool {
	if o.Has(string(FieldLatestChange)) || o.Has(string(FieldOrganization)) {
		return false
	}
	return o.Has("lastCheck") || o.Has("company") || o.Has("onlineSince")
}

func (s *decodeState) provider(o jsonstrict.Object, f Format) (Provider, error) {
	p := New("")
	jid, ok := o.Get(string(FieldJID))
	if !ok {
		return p, s.fail(FieldJID, errors.New("missing"))
	}
	if err := lookup(FieldJID).decode(&p, jid); err != nil {
		if named, err := jsonstrict.String(jid); err == nil {
			s.domain = named // name the entry; fail escapes it
		}
		return p, s.fail(FieldJID, err)
	}
	s.domain = p.JID
	if f == FormatFiltered {
		// Every key of a v2 filtered list entry is required: a missing one
		// would silently read as false or zero.
		for i := range fieldTable {
			if k := fieldTable[i].Field; !o.Has(string(k)) {
				return p, s.fail(k, errors.New("missing"))
			}
		}
	}
	for _, k := range o.Keys {
		raw, _ := o.Get(k)
		fld := Field(k)
		if f == FormatV1 {
			switch k {
			case "lastCheck":
				fld = FieldLatestChange
			case "onlineSince":
				fld = FieldSince
			case "company":
				var company bool
				if err := strictBool(raw, &company); err != nil {
					return p, s.fail("company", err)
				}
				if company {
					p.Organization = OrganizationCompany
				}
				continue
			}
		}
		d := lookup(fld)
		if d == nil || fld == FieldJID {
			continue
		}
		if err := d.decode(&p, raw); err != nil {
			return p, s.fail(Field(k), err)
		}
	}
	return p, nil
}

// UnmarshalField sets the field f of p from its JSON value, with the checks
// Decode applies: the JSON type must match, integers must be whole and in
// range, sizes and times must not be below -1, dates must be YYYY-MM-DD,
// categories A–D, country codes two letters, and no string (value, language
// code or domain) may hold a control or bidi character (ErrUnsafeText). It
// is the building block for readers of other shapes, such as provider files.
// Decode also vets the links of each record (see Decoder.Decode); UnmarshalField
// leaves that to its caller.
func (p *Provider) UnmarshalField(f Field, data []byte) error {
	if err := jsonstrict.Valid(data); err != nil {
		if errors.Is(err, jsonstrict.ErrUTF8) {
			return errors.New("invalid UTF-8")
		}
		return fmt.Errorf("invalid JSON value %s", clip(data))
	}
	d := lookup(f)
	if d == nil {
		return fmt.Errorf("unknown field %q", string(f))
	}
	return d.decode(p, data)
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(data []byte) string { return jsonstrict.KindOf(data).String() }

// clip shortens a value for an error message and escapes what a terminal
// must not see.
func clip(b []byte) string {
	const n = 40
	if len(b) > n {
		return sanitize.Line(string(b[:n])) + "…"
	}
	return sanitize.Line(string(b))
}

func asciiLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// checkText refuses a string with a character sanitize.Clean refuses.
func checkText(s string) error {
	if !sanitize.Clean(s) {
		return fmt.Errorf("%w in \"%s\"", ErrUnsafeText, clip([]byte(s)))
	}
	return nil
}

func want(kind string, data []byte) error {
	return fmt.Errorf("want %s, got %s", kind, jsonKind(data))
}

func strictString(data []byte, s *string) error {
	if jsonstrict.KindOf(data) != jsonstrict.KindString {
		return want("a string", data)
	}
	v, err := jsonstrict.String(data)
	if err != nil {
		return err
	}
	if err := checkText(v); err != nil {
		return err
	}
	*s = v
	return nil
}

func strictBool(data []byte, b *bool) error {
	switch string(bytes.TrimSpace(data)) {
	case "true":
		*b = true
		return nil
	case "false":
		*b = false
		return nil
	}
	return want("a boolean", data)
}

func strictInt(data []byte, min, max int64) (int64, error) {
	if jsonstrict.KindOf(data) != jsonstrict.KindNumber {
		return 0, want("an integer", data)
	}
	n := bytes.TrimSpace(data)
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if jsonstrict.Valid(n) != nil {
			return 0, fmt.Errorf("invalid number %s", clip(n))
		}
		return 0, fmt.Errorf("want an integer, got %s", clip(n))
	}
	if v < min || v > max {
		return 0, fmt.Errorf("%d out of range [%d, %d]", v, min, max)
	}
	return v, nil
}

func strictDate(data []byte, d *Date) error {
	var s string
	if err := strictString(data, &s); err != nil {
		return err
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func strictStrings(data []byte, out *[]string) error {
	if jsonstrict.KindOf(data) != jsonstrict.KindArray {
		return want("an array of strings", data)
	}
	raws, err := jsonstrict.Elements(data)
	if err != nil {
		return err
	}
	v := make([]string, 0, len(raws))
	for i, r := range raws {
		var s string
		if err := strictString(r, &s); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		v = append(v, s)
	}
	*out = v
	return nil
}

func checkLang(k string) error {
	if k == "" || len(k) > 16 {
		return fmt.Errorf("invalid language code %q", k)
	}
	return checkText(k)
}

func strictLocalized(data []byte, out *Localized) error {
	if jsonstrict.KindOf(data) != jsonstrict.KindObject {
		return want("an object of language → URL", data)
	}
	o, err := jsonstrict.ParseObject(data)
	if err != nil {
		return err
	}
	m := make(Localized, o.Len())
	for _, k := range o.Keys {
		if err := checkLang(k); err != nil {
			return err
		}
		var s string
		raw, _ := o.Get(k)
		if err := strictString(raw, &s); err != nil {
			return fmt.Errorf("language %q: %w", k, err)
		}
		m[k] = s
	}
	*out = m
	return nil
}

func strictLocalizedList(data []byte, out *LocalizedList) error {
	if jsonstrict.KindOf(data) != jsonstrict.KindObject {
		return want("an object of language → addresses", data)
	}
	o, err := jsonstrict.ParseObject(data)
	if err != nil {
		return err
	}
	m := make(LocalizedList, o.Len())
	for _, k := range o.Keys {
		if err := checkLang(k); err != nil {
			return err
		}
		var v []string
		raw, _ := o.Get(k)
		if err := strictStrings(raw, &v); err != nil {
			return fmt.Errorf("language %q: %w", k, err)
		}
		m[k] = v
	}
	*out = m
	return nil
}

// vetLinks removes from p every link netguard.HTTPSLink refuses and
// reports each one; the links it keeps are in netguard's normal form.
func (s *decodeState) vetLinks(p *Provider) []*DecodeError {
	var dropped []*DecodeError
	for _, f := range dropLinks(p) {
		dropped = append(dropped, &DecodeError{Index: s.index, Provider: sanitize.Line(p.JID), Field: f.field,
			Offset: s.offset, Err: fmt.Errorf("%w: %s left out", ErrInsecureLink, f.what)})
	}
	return dropped
}

type droppedLink struct {
	field Field
	what  string
}

// dropLinks is the one link check of the package: it removes from p every
// link netguard.HTTPSLink refuses (and makes a property whose source is not
// such a link unverified) and says which.
func dropLinks(p *Provider) []droppedLink {
	var out []droppedLink
	for i := range fieldTable {
		d := &fieldTable[i]
		if !d.Link {
			continue
		}
		m := *d.loc(p)
		for _, lang := range m.Languages() {
			if v, ok := netguard.HTTPSLink(m[lang]); ok {
				m[lang] = v
			} else {
				delete(m, lang)
				out = append(out, droppedLink{d.Field, fmt.Sprintf("the link for language %q", lang)})
			}
		}
	}
	for i := range fieldTable {
		f := fieldTable[i].Field
		src, ok := p.Sources[f]
		if !ok || src == "" {
			continue
		}
		if v, ok := netguard.HTTPSLink(src); ok {
			p.Sources[f] = v
		} else {
			p.Sources[f] = ""
			out = append(out, droppedLink{f, "the source (the property counts as unverified)"})
		}
	}
	return out
}

// MaxDomainLen is the longest domain CheckDomain accepts: 253 bytes, the
// longest DNS name. RFC 7622 allows 1023 bytes in a domainpart, but a
// provider's domain is looked up in the DNS (SRV records) and named in
// TLS certificates, so a longer one cannot be served.
const MaxDomainLen = 253

// CheckDomain rejects a string that cannot be the domain of a provider,
// in a list or in a provider file: it must be 1 to MaxDomainLen bytes,
// hold no control or bidi character (ErrUnsafeText), no "@", "/", ":",
// "\", quote, angle bracket or white space (so no JID, URL or host and
// port passes for one), and no empty label. It checks the form only; the
// name need not resolve.
func CheckDomain(s string) error {
	switch {
	case s == "":
		return errors.New("empty domain")
	case len(s) > MaxDomainLen:
		return fmt.Errorf("domain %q is longer than %d bytes", clip([]byte(s)), MaxDomainLen)
	}
	if err := checkText(s); err != nil {
		return err
	}
	switch {
	case strings.ContainsAny(s, "@/:\\ \t\r\n\"'<>"):
		return fmt.Errorf("invalid domain %q (want a bare domain such as \"chat.example.org\")", clip([]byte(s)))
	case strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, ".."):
		return fmt.Errorf("invalid domain %q (empty label)", clip([]byte(s)))
	}
	return nil
}
