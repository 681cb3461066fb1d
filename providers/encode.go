package providers

import (
	"bytes"
	"encoding/json"

	"github.com/xmpp-onboard/onboard/internal/jsonstrict"
)

// MarshalJSON encodes p as an API v2 filtered-list entry: all 31 keys in the
// published order, with {} and [] for absent maps and lists. Sources are not
// encoded.
func (p Provider) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range fieldTable {
		d := &fieldTable[i]
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(string(d.Field))
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(d.value(&p))
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes one API v2 filtered-list entry with the checks of
// Decode, and leaves out the links Decode would (not recorded anywhere).
// Missing keys keep their defaults (Unknown for sizes and times).
func (p *Provider) UnmarshalJSON(data []byte) error {
	o, err := jsonstrict.ParseObject(data)
	if err != nil {
		return err
	}
	v := New("")
	for _, k := range o.Keys {
		d := lookup(Field(k))
		if d == nil {
			continue
		}
		raw, _ := o.Get(k)
		if err := d.decode(&v, raw); err != nil {
			return &DecodeError{Index: -1, Provider: v.JID, Field: Field(k), Err: err}
		}
	}
	dropLinks(&v)
	*p = v
	return nil
}

// Value returns the value of field f in its JSON form (string, bool, int,
// int64, map or slice, with nil maps and lists made empty), for programs
// that treat fields generically, such as a report that lists "the
// provider's value". Unknown fields give nil.
func (p *Provider) Value(f Field) any {
	if d := lookup(f); d != nil {
		return d.value(p)
	}
	return nil
}

// Typed returns the value of field f with the Go type of its Provider
// field: Megabytes, Days, BusFactor, Date, Category, Organization,
// Localized, LocalizedList, string, bool or int; lists of strings are never
// nil. Unknown fields give nil.
func (p *Provider) Typed(f Field) any {
	if d := lookup(f); d != nil {
		return d.typed(p)
	}
	return nil
}

// Encode writes l as an API v2 filtered list (a JSON array), indented as the
// published files are.
func (l List) Encode() ([]byte, error) {
	ps := l.Providers
	if ps == nil {
		ps = []Provider{}
	}
	return json.MarshalIndent(ps, "", "    ")
}
