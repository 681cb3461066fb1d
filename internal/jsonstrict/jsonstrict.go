package jsonstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest. The formats read
// with this package need at most five levels (the full providers.json:
// domains, properties, the content/source wrapper, languages, addresses);
// encoding/json allows 10,000.
const MaxDepth = 64

// The kinds of Error; match them with errors.Is.
var (
	// ErrSyntax: the input is not JSON (or is truncated).
	ErrSyntax = errors.New("invalid JSON")
	// ErrUTF8: a string holds bytes that are not UTF-8.
	ErrUTF8 = errors.New("invalid UTF-8")
	// ErrDuplicateKey: an object names a key twice. JSON parsers disagree
	// on which value counts, so a strict reader refuses the object.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrTrailingData: something other than white space follows the value.
	ErrTrailingData = errors.New("data after the JSON value")
	// ErrTooDeep: arrays and objects nest deeper than MaxDepth.
	ErrTooDeep = errors.New("JSON nested too deeply")
	// ErrTooLarge: the input is longer than the cap given to ReadAll.
	ErrTooLarge = errors.New("input too large")
	// ErrWrongKind: the value is valid JSON but not of the kind asked
	// for (an array where an object was wanted).
	ErrWrongKind = errors.New("wrong kind of JSON value")
)

// Error is what every function of the package returns on bad input: the
// kind (one of the Err variables, matched with errors.Is), the byte offset
// in the input where it was found, the key for ErrDuplicateKey, and a
// detail for people. Its message never quotes the input except the key of
// a duplicate, which it quotes with %q.
type Error struct {
	Kind   error  // ErrSyntax, ErrUTF8, ErrDuplicateKey, …
	Offset int64  // offset in the input of the offending byte
	Key    string // the key, for ErrDuplicateKey
	Detail string // what was expected, as in "want ':' after a key"
}

// Error implements error, as in "invalid JSON at offset 12: want ':' after
// a key".
func (e *Error) Error() string {
	msg := e.Kind.Error()
	if e.Kind == ErrDuplicateKey {
		msg += " " + strconv.Quote(e.Key)
	}
	msg += " at offset " + strconv.FormatInt(e.Offset, 10)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Shift returns a copy of err, an *Error, with its offset moved by base,
// for an error found in a value cut out of a larger input; other errors
// (and nil) are returned unchanged.
func Shift(err error, base int64) error {
	if err == nil || base == 0 {
		return err
	}
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	c := *e
	c.Offset += base
	return &c
}

func syntaxAt(i int, detail string) error {
	return &Error{Kind: ErrSyntax, Offset: int64(i), Detail: detail}
}

// ReadAll reads r to its end, but no more than max bytes: a longer input
// gives an *Error of kind ErrTooLarge after reading max+1 bytes, with the
// first max bytes, so that a caller can say where the cap cut the input.
// Errors of r are returned as they are, with no data.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	size := int64(512)
	if l, ok := r.(interface{ Len() int }); ok {
		// A bytes.Reader, strings.Reader or bytes.Buffer says how much
		// it holds: read it into one allocation.
		size = min(int64(l.Len()), max) + 1
	}
	data := make([]byte, 0, size)
	lr := io.LimitReader(r, max+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := lr.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(data)) > max {
		return data[:max], &Error{Kind: ErrTooLarge, Offset: max, Detail: "more than " + strconv.FormatInt(max, 10) + " bytes"}
	}
	return data, nil
}

// Valid checks that data is exactly one JSON value, optionally surrounded
// by white space, under the package's rules.
func Valid(data []byte) error {
	i := skipSpace(data, 0)
	j, err := scanValue(data, i, 0)
	if err != nil {
		return err
	}
	return trailing(data, j)
}

// Kind is the type of a JSON value.
type Kind int

// The kinds of JSON values.
const (
	KindInvalid Kind = iota // nothing, or not JSON
	KindNull
	KindBool
	KindNumber
	KindString
	KindArray
	KindObject
)

// KindOf tells the kind of a value from its first byte, after white space.
// It does not check the rest.
func KindOf(raw []byte) Kind {
	i := skipSpace(raw, 0)
	if i >= len(raw) {
		return KindInvalid
	}
	switch c := raw[i]; {
	case c == '"':
		return KindString
	case c == '{':
		return KindObject
	case c == '[':
		return KindArray
	case c == 't' || c == 'f':
		return KindBool
	case c == 'n':
		return KindNull
	case c == '-' || (c >= '0' && c <= '9'):
		return KindNumber
	}
	return KindInvalid
}

// String names the kind with an article, for messages: "a string",
// "an object", "null".
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "a boolean"
	case KindNumber:
		return "a number"
	case KindString:
		return "a string"
	case KindArray:
		return "an array"
	case KindObject:
		return "an object"
	}
	return "nothing"
}

// Describe says what a value is without quoting any of it: its kind, and
// for a string its length ("a string of 12 bytes"). Reports about foreign
// documents use it where quoting the value could leak or mislead.
func Describe(raw []byte) string {
	k := KindOf(raw)
	if k == KindString {
		raw = bytes.TrimSpace(raw)
		return fmt.Sprintf("a string of %d bytes", max(len(raw)-2, 0))
	}
	return k.String()
}

// Member is one key and value of a JSON object.
type Member struct {
	// Key is the decoded key.
	Key string
	// Value is the raw value, valid JSON without surrounding white space.
	Value []byte
	// Offset is where the key starts in the input.
	Offset int64
}

// Members cuts data, one JSON object, into its members in input order,
// duplicate keys included: callers that report a duplicate per key (and
// go on with the rest) use it. Every value is checked with the package's
// rules (well-formed, UTF-8, at most MaxDepth deep) but not decoded.
func Members(data []byte) ([]Member, error) {
	var out []Member
	it := members{data: data}
	for {
		k, v, off, ok, err := it.next()
		if !ok {
			return out, err
		}
		out = append(out, Member{Key: k, Value: v, Offset: int64(off)})
	}
}

// Object is a JSON object whose keys are all different.
type Object struct {
	// Keys are the keys in input order.
	Keys []string
	vals map[string][]byte
}

// Get returns the raw value of key k.
func (o Object) Get(k string) ([]byte, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// Has reports whether the object has key k.
func (o Object) Has(k string) bool {
	_, ok := o.vals[k]
	return ok
}

// Len returns the number of keys.
func (o Object) Len() int { return len(o.Keys) }

// ParseObject reads data, one JSON object, refusing duplicate keys (an
// *Error of kind ErrDuplicateKey naming the key). The values are checked
// as Members checks them.
func ParseObject(data []byte) (Object, error) {
	o := Object{vals: make(map[string][]byte, 32)}
	it := members{data: data}
	for {
		k, v, off, ok, err := it.next()
		if !ok {
			return o, err
		}
		if _, dup := o.vals[k]; dup {
			return o, &Error{Kind: ErrDuplicateKey, Offset: int64(off), Key: k}
		}
		o.Keys = append(o.Keys, k)
		o.vals[k] = v
	}
}

// Elements cuts data, one JSON array, into its elements, each valid JSON
// without surrounding white space.
func Elements(data []byte) ([][]byte, error) {
	var out [][]byte
	it := elements{data: data}
	for {
		v, _, ok, err := it.next()
		if !ok {
			return out, err
		}
		out = append(out, v)
	}
}

// EachElement calls fn for each element of data, one JSON array, in
// order, with its index and offset, as soon as the element is read: an
// error of fn stops the walk and is returned, so a caller sees the first
// problem in input order, whether of syntax or its own.
func EachElement(data []byte, fn func(i int, elem []byte, offset int64) error) error {
	it := elements{data: data}
	for n := 0; ; n++ {
		v, off, ok, err := it.next()
		if !ok {
			return err
		}
		if err := fn(n, v, int64(off)); err != nil {
			return err
		}
	}
}

// EachMember calls fn for each member of data, one JSON object, in input
// order and duplicates included, as soon as it is read; see EachElement.
func EachMember(data []byte, fn func(key string, value []byte, offset int64) error) error {
	it := members{data: data}
	for {
		k, v, off, ok, err := it.next()
		if !ok {
			return err
		}
		if err := fn(k, v, int64(off)); err != nil {
			return err
		}
	}
}

// elements walks the elements of an array.
type elements struct {
	data    []byte
	i       int
	started bool
}

// next returns the next element and its offset; ok is false at the end
// of the array or on an error.
func (it *elements) next() (v []byte, off int, ok bool, err error) {
	data, i := it.data, it.i
	if !it.started {
		it.started = true
		i = skipSpace(data, 0)
		if i >= len(data) {
			return nil, 0, false, syntaxAt(i, "want a JSON array, got nothing")
		}
		if data[i] != '[' {
			return nil, 0, false, wrongKind(data, i, "want a JSON array")
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return nil, 0, false, trailing(data, i+1)
		}
	} else {
		i = skipSpace(data, i)
		if i >= len(data) {
			return nil, 0, false, syntaxAt(i, "unexpected end of input in an array")
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return nil, 0, false, trailing(data, i+1)
		default:
			return nil, 0, false, syntaxAt(i, "want ',' or ']' in an array")
		}
	}
	j, err := scanValue(data, i, 1)
	if err != nil {
		return nil, 0, false, err
	}
	it.i = j
	return data[i:j], i, true, nil
}

// members walks the members of an object.
type members struct {
	data    []byte
	i       int
	started bool
}

// next returns the next member and the offset of its key; ok is false at
// the end of the object or on an error.
func (it *members) next() (k string, v []byte, off int, ok bool, err error) {
	data, i := it.data, it.i
	if !it.started {
		it.started = true
		i = skipSpace(data, 0)
		if i >= len(data) {
			return "", nil, 0, false, syntaxAt(i, "want a JSON object, got nothing")
		}
		if data[i] != '{' {
			return "", nil, 0, false, wrongKind(data, i, "want a JSON object")
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == '}' {
			return "", nil, 0, false, trailing(data, i+1)
		}
	} else {
		i = skipSpace(data, i)
		if i >= len(data) {
			return "", nil, 0, false, syntaxAt(i, "unexpected end of input in an object")
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return "", nil, 0, false, trailing(data, i+1)
		default:
			return "", nil, 0, false, syntaxAt(i, "want ',' or '}' in an object")
		}
	}
	if i >= len(data) {
		return "", nil, 0, false, syntaxAt(i, "unexpected end of input in an object")
	}
	if data[i] != '"' {
		return "", nil, 0, false, syntaxAt(i, "want a key in an object")
	}
	j, esc, err := scanString(data, i)
	if err != nil {
		return "", nil, 0, false, err
	}
	k = decodeString(data[i:j], esc)
	off = i
	i = skipSpace(data, j)
	if i >= len(data) || data[i] != ':' {
		return "", nil, 0, false, syntaxAt(i, "want ':' after a key")
	}
	i = skipSpace(data, i+1)
	j, err = scanValue(data, i, 1)
	if err != nil {
		return "", nil, 0, false, err
	}
	it.i = j
	return k, data[i:j], off, true, nil
}

func wrongKind(data []byte, i int, want string) error {
	if KindOf(data[i:]) == KindInvalid {
		return syntaxAt(i, want)
	}
	return &Error{Kind: ErrWrongKind, Offset: int64(i), Detail: want + ", got " + KindOf(data[i:]).String()}
}

// String decodes raw, one JSON string literal (white space around it is
// allowed), checking it as the package does.
func String(raw []byte) (string, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '"' {
		return "", &Error{Kind: ErrWrongKind, Offset: int64(i), Detail: "want a string, got " + KindOf(raw).String()}
	}
	j, esc, err := scanString(raw, i)
	if err != nil {
		return "", err
	}
	if err := trailing(raw, j); err != nil {
		return "", err
	}
	return decodeString(raw[i:j], esc), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func trailing(b []byte, i int) error {
	if j := skipSpace(b, i); j != len(b) {
		return &Error{Kind: ErrTrailingData, Offset: int64(j)}
	}
	return nil
}

// scanValue checks the value that starts at b[i] and returns the index
// just after it. depth is the nesting of the value's container.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, syntaxAt(i, "unexpected end of input, want a value")
	}
	switch c := b[i]; {
	case c == '"':
		j, _, err := scanString(b, i)
		return j, err
	case c == '{' || c == '[':
		return scanContainer(b, i, depth+1)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	}
	return 0, syntaxAt(i, "want a value")
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, syntaxAt(i, "invalid literal, want "+lit)
	}
	j := i + len(lit)
	if j < len(b) && isWordByte(b[j]) {
		return 0, syntaxAt(j, "invalid literal, want "+lit)
	}
	return j, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func scanContainer(b []byte, i, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, &Error{Kind: ErrTooDeep, Offset: int64(i), Detail: "more than " + strconv.Itoa(MaxDepth) + " levels"}
	}
	obj := b[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	for {
		if obj {
			if i >= len(b) || b[i] != '"' {
				if i >= len(b) {
					return 0, syntaxAt(i, "unexpected end of input in an object")
				}
				return 0, syntaxAt(i, "want a key in an object")
			}
			j, _, err := scanString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, j)
			if i >= len(b) || b[i] != ':' {
				return 0, syntaxAt(i, "want ':' after a key")
			}
			i = skipSpace(b, i+1)
		}
		j, err := scanValue(b, i, depth)
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, j)
		if i >= len(b) {
			return 0, syntaxAt(i, "unexpected end of input")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closer:
			return i + 1, nil
		default:
			return 0, syntaxAt(i, "want ',' or '"+string(closer)+"'")
		}
	}
}

// scanString checks the string literal that starts at b[i] (a '"') and
// returns the index just after it and whether it has escapes.
func scanString(b []byte, i int) (int, bool, error) {
	esc := false
	for j := i + 1; j < len(b); {
		c := b[j]
		switch {
		case c == '"':
			return j + 1, esc, nil
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return 0, false, syntaxAt(j, "unexpected end of input in a string")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) {
					return 0, false, syntaxAt(j, "unexpected end of input in a string")
				}
				for _, h := range b[j+2 : j+6] {
					if !isHex(h) {
						return 0, false, syntaxAt(j, "invalid \\u escape in a string")
					}
				}
				j += 6
			default:
				return 0, false, syntaxAt(j, "invalid escape in a string")
			}
		case c < 0x20:
			return 0, false, syntaxAt(j, "control character in a string")
		case c < utf8.RuneSelf:
			j++
		default:
			r, n := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && n == 1 {
				return 0, false, &Error{Kind: ErrUTF8, Offset: int64(j)}
			}
			j += n
		}
	}
	return 0, false, syntaxAt(len(b), "unexpected end of input in a string")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// decodeString decodes a literal that scanString accepted.
func decodeString(lit []byte, esc bool) string {
	inner := lit[1 : len(lit)-1]
	if !esc {
		return string(inner)
	}
	out := make([]byte, 0, len(inner))
	for j := 0; j < len(inner); {
		c := inner[j]
		if c != '\\' {
			out = append(out, c)
			j++
			continue
		}
		switch inner[j+1] {
		case '"', '\\', '/':
			out = append(out, inner[j+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(inner[j+2 : j+6])
			j += 6
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone half becomes U+FFFD,
				// as encoding/json does.
				if j+6 <= len(inner) && inner[j] == '\\' && inner[j+1] == 'u' {
					if d := utf16.DecodeRune(r, hex4(inner[j+2:j+6])); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		j += 2
	}
	return string(out)
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		default:
			r |= rune(c|0x20-'a') + 10
		}
	}
	return r
}

// scanNumber checks the number that starts at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if b[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j - k
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case digits() == 0:
		return 0, syntaxAt(j, "invalid number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if digits() == 0 {
			return 0, syntaxAt(j, "invalid number: want a digit after '.'")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return 0, syntaxAt(j, "invalid number: want a digit in the exponent")
		}
	}
	if j < len(b) && isWordByte(b[j]) {
		return 0, syntaxAt(j, "invalid number")
	}
	return j, nil
}
