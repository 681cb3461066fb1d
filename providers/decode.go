package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

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
// *DecodeError names the provider and field.
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
	lr := &limitReader{r: r, n: max}
	dec := json.NewDecoder(lr)
	dec.UseNumber()
	st := &decodeState{dec: dec, lr: lr}
	l, err := st.list()
	if err != nil {
		if lr.over {
			return List{}, &DecodeError{Index: st.index, Provider: sanitize.Line(st.domain), Offset: dec.InputOffset(),
				Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
		}
		return List{}, err
	}
	// Nothing but white space may follow.
	if _, err := dec.Token(); err != io.EOF {
		if lr.over {
			return List{}, &DecodeError{Index: -1, Offset: dec.InputOffset(), Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
		}
		return List{}, &DecodeError{Index: -1, Offset: dec.InputOffset(), Err: errors.New("unexpected data after the list")}
	}
	return l, nil
}

type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte to tell "exactly at the cap" from "over it".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.over = true
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

type decodeState struct {
	dec    *json.Decoder
	lr     *limitReader
	index  int
	domain string
}

func (s *decodeState) fail(f Field, err error) error {
	return &DecodeError{Index: s.index, Provider: sanitize.Line(s.domain), Field: f, Offset: s.dec.InputOffset(), Err: err}
}

func (s *decodeState) list() (List, error) {
	s.index = -1
	tok, err := s.dec.Token()
	if err != nil {
		return List{}, s.fail("", fmt.Errorf("%w: %v", ErrFormat, syntaxErr(err)))
	}
	switch tok {
	case json.Delim('['):
		return s.array()
	case json.Delim('{'):
		return s.full()
	}
	return List{}, s.fail("", fmt.Errorf("%w: want a JSON array or object, got %v", ErrFormat, tok))
}

func syntaxErr(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (s *decodeState) array() (List, error) {
	l := List{}
	seen := map[string]bool{}
	for s.index = 0; s.dec.More(); s.index++ {
		s.domain = ""
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return List{}, s.fail("", syntaxErr(err))
		}
		if !utf8.Valid(raw) {
			return List{}, s.fail("", errors.New("invalid UTF-8"))
		}
		raw = bytes.TrimSpace(raw)
		var p Provider
		switch {
		case len(raw) > 0 && raw[0] == '"':
			if l.Format != FormatUnknown && l.Format != FormatSimple {
				return List{}, s.fail("", errors.New("a domain string in a list of provider objects"))
			}
			l.Format = FormatSimple
			var dom string
			if err := json.Unmarshal(raw, &dom); err != nil {
				return List{}, s.fail("", err)
			}
			if err := checkDomain(dom); err != nil {
				return List{}, s.fail(FieldJID, err)
			}
			p.JID = dom
		case len(raw) > 0 && raw[0] == '{':
			if l.Format == FormatSimple {
				return List{}, s.fail("", errors.New("a provider object in a list of domains"))
			}
			obj, err := s.object(raw)
			if err != nil {
				var named struct {
					JID string `json:"jid"`
				}
				if json.Unmarshal(raw, &named) == nil && named.JID != "" {
					// Name the entry in the error if its jid is readable.
					var de *DecodeError
					if errors.As(err, &de) {
						de.Provider = sanitize.Line(named.JID)
					}
				}
				return List{}, err
			}
			f := FormatFiltered
			if isV1(obj) {
				f = FormatV1
			}
			if l.Format == FormatUnknown {
				l.Format = f
			} else if l.Format != f {
				return List{}, s.fail("", fmt.Errorf("a %v entry in a %v", f, l.Format))
			}
			if p, err = s.provider(obj, f); err != nil {
				return List{}, err
			}
			l.Dropped = append(l.Dropped, s.vetLinks(&p)...)
		default:
			return List{}, s.fail("", fmt.Errorf("want a provider object or a domain, got %s", clip(raw)))
		}
		key := strings.ToLower(p.JID)
		if seen[key] {
			s.domain = p.JID
			return List{}, s.fail(FieldJID, errors.New("duplicate provider"))
		}
		seen[key] = true
		l.Providers = append(l.Providers, p)
	}
	s.index = -1
	s.domain = ""
	if _, err := s.dec.Token(); err != nil { // ']'
		return List{}, s.fail("", syntaxErr(err))
	}
	if l.Format == FormatUnknown {
		l.Format = FormatFiltered // an empty array: nothing tells them apart
	}
	return l, nil
}

func (s *decodeState) full() (List, error) {
	l := List{Format: FormatFull}
	seen := map[string]bool{}
	for s.index = 0; s.dec.More(); s.index++ {
		s.domain = ""
		tok, err := s.dec.Token()
		if err != nil {
			return List{}, s.fail("", syntaxErr(err))
		}
		dom, _ := tok.(string)
		if !utf8.ValidString(dom) {
			return List{}, s.fail("", errors.New("invalid UTF-8 in a domain"))
		}
		s.domain = dom
		if err := checkDomain(dom); err != nil {
			return List{}, s.fail(FieldJID, err)
		}
		if seen[strings.ToLower(dom)] {
			return List{}, s.fail(FieldJID, errors.New("duplicate provider"))
		}
		seen[strings.ToLower(dom)] = true
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return List{}, s.fail("", syntaxErr(err))
		}
		if !utf8.Valid(raw) {
			return List{}, s.fail("", errors.New("invalid UTF-8"))
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			if len(l.Providers) == 0 && s.index == 0 {
				return List{}, s.fail("", fmt.Errorf("%w: an object whose values are not providers (a provider file? see rating.ValidateProviderFile)", ErrFormat))
			}
			return List{}, s.fail("", fmt.Errorf("want an object of properties, got %s", clip(raw)))
		}
		obj, err := s.object(raw)
		if err != nil {
			return List{}, err
		}
		p := New(dom)
		p.Sources = make(map[Field]string, len(obj.keys))
		for _, k := range obj.keys {
			f := Field(k)
			if !knownField(f) || f == FieldJID {
				continue
			}
			w, err := s.object(obj.vals[k])
			if err != nil {
				return List{}, s.fail(f, fmt.Errorf("want {\"content\": …, \"source\": …}: %v", errors.Unwrap(err)))
			}
			content, ok := w.vals["content"]
			if !ok {
				return List{}, s.fail(f, errors.New(`missing "content" in the property wrapper`))
			}
			src := ""
			if rs, ok := w.vals["source"]; ok {
				if err := strictString(rs, &src); err != nil {
					return List{}, s.fail(f, fmt.Errorf("source: %w", err))
				}
			}
			if err := p.UnmarshalField(f, content); err != nil {
				return List{}, s.fail(f, err)
			}
			p.Sources[f] = src
		}
		l.Dropped = append(l.Dropped, s.vetLinks(&p)...)
		l.Providers = append(l.Providers, p)
	}
	s.index = -1
	s.domain = ""
	if _, err := s.dec.Token(); err != nil { // '}'
		return List{}, s.fail("", syntaxErr(err))
	}
	return l, nil
}

// rawObject is a JSON object with its keys in input order.
type rawObject struct {
	keys []string
	vals map[string]json.RawMessage
}

// object parses raw as a JSON object, rejecting duplicate keys.
func (s *decodeState) object(raw json.RawMessage) (rawObject, error) {
	o, err := parseObject(raw)
	if err != nil {
		var fe fieldErr
		if errors.As(err, &fe) {
			return o, s.fail(fe.field, fe.err)
		}
		return o, s.fail("", err)
	}
	return o, nil
}

type fieldErr struct {
	field Field
	err   error
}

func (e fieldErr) Error() string { return string(e.field) + ": " + e.err.Error() }
func (e fieldErr) Unwrap() error { return e.err }

func parseObject(raw json.RawMessage) (rawObject, error) {
	// A hand-written scan: json.Decoder's Token API made this function half
	// of Decode's time. The scanner needs no validity guarantee: anything it
	// cannot read is an error, and the values it cuts out are checked
	// again by the strict* readers.
	o := rawObject{vals: make(map[string]json.RawMessage, 32)}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return o, errors.New("want a JSON object")
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return o, trailing(raw, i+1)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return o, errors.New("invalid JSON object: want a key")
		}
		j, err := endOfString(raw, i)
		if err != nil {
			return o, err
		}
		k, err := unquote(raw[i:j])
		if err != nil {
			return o, err
		}
		i = skipSpace(raw, j)
		if i >= len(raw) || raw[i] != ':' {
			return o, errors.New("invalid JSON object: want ':'")
		}
		i = skipSpace(raw, i+1)
		j, err = endOfValue(raw, i)
		if err != nil {
			return o, err
		}
		if _, dup := o.vals[k]; dup {
			return o, fieldErr{Field(k), errors.New("duplicate key")}
		}
		o.keys = append(o.keys, k)
		o.vals[k] = raw[i:j]
		i = skipSpace(raw, j)
		if i >= len(raw) {
			return o, io.ErrUnexpectedEOF
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			return o, trailing(raw, i+1)
		default:
			return o, errors.New("invalid JSON object: want ',' or '}'")
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errors.New("invalid JSON: data after the object")
	}
	return nil
}

// endOfString returns the index just after the string that starts at b[i].
func endOfString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, io.ErrUnexpectedEOF
}

// endOfValue returns the index just after the JSON value that starts at b[i].
func endOfValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, io.ErrUnexpectedEOF
	}
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, err := endOfString(b, j)
				if err != nil {
					return 0, err
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, io.ErrUnexpectedEOF
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errors.New("invalid JSON: want a value")
	}
	return j, nil
}

// unquote decodes a JSON string literal, quickly when it has no escapes.
func unquote(lit []byte) (string, error) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", errors.New("invalid JSON string")
	}
	inner := lit[1 : len(lit)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		for _, c := range inner {
			if c < 0x20 {
				return "", errors.New("invalid JSON string: control character")
			}
		}
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(lit, &s)
	return s, err
}

func isV1(o rawObject) bool {
	_, latest := o.vals[string(FieldLatestChange)]
	_, org := o.vals[string(FieldOrganization)]
	if latest || org {
		return false
	}
	_, last := o.vals["lastCheck"]
	_, comp := o.vals["company"]
	_, online := o.vals["onlineSince"]
	return last || comp || online
}

func (s *decodeState) provider(o rawObject, f Format) (Provider, error) {
	p := New("")
	jid, ok := o.vals[string(FieldJID)]
	if !ok {
		return p, s.fail(FieldJID, errors.New("missing"))
	}
	if err := p.UnmarshalField(FieldJID, jid); err != nil {
		var named string
		if json.Unmarshal(jid, &named) == nil {
			s.domain = named // name the entry; fail escapes it
		}
		return p, s.fail(FieldJID, err)
	}
	s.domain = p.JID
	if f == FormatFiltered {
		// Every key of a v2 filtered list entry is required: a missing one
		// would silently read as false or zero.
		for _, k := range Fields() {
			if _, ok := o.vals[string(k)]; !ok {
				return p, s.fail(k, errors.New("missing"))
			}
		}
	}
	for _, k := range o.keys {
		fld := Field(k)
		if f == FormatV1 {
			switch k {
			case "lastCheck":
				fld = FieldLatestChange
			case "onlineSince":
				fld = FieldSince
			case "company":
				var company bool
				if err := strictBool(o.vals[k], &company); err != nil {
					return p, s.fail("company", err)
				}
				if company {
					p.Organization = OrganizationCompany
				}
				continue
			}
		}
		if !knownField(fld) || fld == FieldJID {
			continue
		}
		if err := p.UnmarshalField(fld, o.vals[k]); err != nil {
			return p, s.fail(Field(k), err)
		}
	}
	return p, nil
}

var fieldSet = func() map[Field]bool {
	m := map[Field]bool{}
	for _, f := range Fields() {
		m[f] = true
	}
	return m
}()

func knownField(f Field) bool { return fieldSet[f] }

// UnmarshalField sets the field f of p from its JSON value, with the checks
// Decode applies: the JSON type must match, integers must be whole and in
// range, sizes and times must not be below -1, dates must be YYYY-MM-DD,
// categories A–D, country codes two letters, and no string (value, language
// code or domain) may hold a control or bidi character (ErrUnsafeText). It
// is the building block for readers of other shapes, such as provider files.
// Decode also vets the links of each record (see Decoder.Decode); UnmarshalField
// leaves that to its caller.
func (p *Provider) UnmarshalField(f Field, data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("invalid UTF-8")
	}
	if !json.Valid(data) {
		return fmt.Errorf("invalid JSON value %s", clip(data))
	}
	switch f {
	case FieldJID:
		var s string
		if err := strictString(data, &s); err != nil {
			return err
		}
		if err := checkDomain(s); err != nil {
			return err
		}
		p.JID = s
	case FieldCategory:
		var s string
		if err := strictString(data, &s); err != nil {
			return err
		}
		c := Category(s)
		if c != "" && !c.Valid() { // "" is an unknown category
			return fmt.Errorf("invalid category %q (want A, B, C or D)", s)
		}
		p.Category = c
	case FieldLatestChange:
		return strictDate(data, &p.LatestChange)
	case FieldSince:
		return strictDate(data, &p.Since)
	case FieldWebsite:
		return strictLocalized(data, &p.Website)
	case FieldPasswordReset:
		return strictLocalized(data, &p.PasswordReset)
	case FieldRegistrationWebPage:
		return strictLocalized(data, &p.RegistrationWebPage)
	case FieldLegalNotice:
		return strictLocalized(data, &p.LegalNotice)
	case FieldEmailSupport:
		return strictLocalizedList(data, &p.EmailSupport)
	case FieldChatSupport:
		return strictLocalizedList(data, &p.ChatSupport)
	case FieldGroupChatSupport:
		return strictLocalizedList(data, &p.GroupChatSupport)
	case FieldAlternativeJIDs:
		if err := strictStrings(data, &p.AlternativeJIDs); err != nil {
			return err
		}
		for _, d := range p.AlternativeJIDs {
			if err := checkDomain(d); err != nil {
				return err
			}
		}
	case FieldServerLocations:
		if err := strictStrings(data, &p.ServerLocations); err != nil {
			return err
		}
		for i, c := range p.ServerLocations {
			if len(c) != 2 || !asciiLetters(c) {
				return fmt.Errorf("invalid country code %q (want ISO 3166-1 alpha-2)", c)
			}
			p.ServerLocations[i] = strings.ToLower(c)
		}
	case FieldBusFactor:
		n, err := strictInt(data, -1, math.MaxInt32)
		p.BusFactor = BusFactor(n)
		return err
	case FieldComplianceTester:
		n, err := strictInt(data, 0, 100)
		p.ComplianceTester = int(n)
		return err
	case FieldUploadFileSize:
		n, err := strictInt(data, -1, math.MaxInt64)
		p.UploadFileSize = Megabytes(n)
		return err
	case FieldUploadTotalSize:
		n, err := strictInt(data, -1, math.MaxInt64)
		p.UploadTotalSize = Megabytes(n)
		return err
	case FieldUploadStorageTime:
		n, err := strictInt(data, -1, math.MaxInt32)
		p.UploadStorageTime = Days(n)
		return err
	case FieldArchiveStorageTime:
		n, err := strictInt(data, -1, math.MaxInt32)
		p.ArchiveStorageTime = Days(n)
		return err
	case FieldOrganization:
		var s string
		if err := strictString(data, &s); err != nil {
			return err
		}
		p.Organization = Organization(s)
		if s != "" && !p.Organization.Known() {
			return fmt.Errorf("unknown organization %q", s)
		}
	case FieldServerSoftwareName:
		return strictString(data, &p.ServerSoftwareName)
	case FieldServerSoftwareVersion:
		return strictString(data, &p.ServerSoftwareVersion)
	case FieldObservatoryC2S:
		return strictString(data, &p.ObservatoryC2S)
	case FieldObservatoryS2S:
		return strictString(data, &p.ObservatoryS2S)
	case FieldServerTesting:
		return strictBool(data, &p.ServerTesting)
	case FieldGreenWebCheck:
		return strictBool(data, &p.GreenWebCheck)
	case FieldInBandRegistration:
		return strictBool(data, &p.InBandRegistration)
	case FieldEmailRequired:
		return strictBool(data, &p.EmailRequired)
	case FieldCaptchaRequired:
		return strictBool(data, &p.CaptchaRequired)
	case FieldProfessionalHosting:
		return strictBool(data, &p.ProfessionalHosting)
	case FieldFreeOfCharge:
		return strictBool(data, &p.FreeOfCharge)
	default:
		return fmt.Errorf("unknown field %q", string(f))
	}
	return nil
}

// parseArray cuts a JSON array into its values.
func parseArray(b []byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, errors.New("want a JSON array")
	}
	var out [][]byte
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, trailing(b, i+1)
	}
	for {
		j, err := endOfValue(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, b[i:j])
		i = skipSpace(b, j)
		if i >= len(b) {
			return nil, io.ErrUnexpectedEOF
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return out, trailing(b, i+1)
		default:
			return nil, errors.New("invalid JSON array: want ',' or ']'")
		}
	}
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] {
	case '"':
		return "a string"
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
	if jsonKind(data) != "a string" {
		return want("a string", data)
	}
	v, err := unquote(bytes.TrimSpace(data))
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
	if jsonKind(data) != "a number" {
		return 0, want("an integer", data)
	}
	n := bytes.TrimSpace(data)
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if !json.Valid(n) {
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
	if jsonKind(data) != "an array" {
		return want("an array of strings", data)
	}
	raws, err := parseArray(data)
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
	if jsonKind(data) != "an object" {
		return want("an object of language → URL", data)
	}
	o, err := parseObject(data)
	if err != nil {
		return err
	}
	m := make(Localized, len(o.keys))
	for _, k := range o.keys {
		if err := checkLang(k); err != nil {
			return err
		}
		var s string
		if err := strictString(o.vals[k], &s); err != nil {
			return fmt.Errorf("language %q: %w", k, err)
		}
		m[k] = s
	}
	*out = m
	return nil
}

func strictLocalizedList(data []byte, out *LocalizedList) error {
	if jsonKind(data) != "an object" {
		return want("an object of language → addresses", data)
	}
	o, err := parseObject(data)
	if err != nil {
		return err
	}
	m := make(LocalizedList, len(o.keys))
	for _, k := range o.keys {
		if err := checkLang(k); err != nil {
			return err
		}
		var v []string
		if err := strictStrings(o.vals[k], &v); err != nil {
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
			Offset: s.dec.InputOffset(), Err: fmt.Errorf("%w: %s left out", ErrInsecureLink, f.what)})
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
	for _, l := range []struct {
		field Field
		m     Localized
	}{
		{FieldWebsite, p.Website}, {FieldPasswordReset, p.PasswordReset},
		{FieldRegistrationWebPage, p.RegistrationWebPage}, {FieldLegalNotice, p.LegalNotice},
	} {
		for _, lang := range l.m.Languages() {
			if v, ok := netguard.HTTPSLink(l.m[lang]); ok {
				l.m[lang] = v
			} else {
				delete(l.m, lang)
				out = append(out, droppedLink{l.field, fmt.Sprintf("the link for language %q", lang)})
			}
		}
	}
	for _, f := range Fields() {
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

// checkDomain rejects strings that cannot be an XMPP domain.
func checkDomain(s string) error {
	if s == "" {
		return errors.New("empty domain")
	}
	if len(s) > 1023 {
		return errors.New("domain longer than 1023 bytes")
	}
	if err := checkText(s); err != nil {
		return err
	}
	if strings.ContainsAny(s, "@/ \t\r\n") {
		return fmt.Errorf("invalid domain %q", s)
	}
	return nil
}
