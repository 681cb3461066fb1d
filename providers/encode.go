package providers

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON encodes p as an API v2 filtered-list entry: all 31 keys in the
// published order, with {} and [] for absent maps and lists. Sources are not
// encoded.
func (p Provider) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range Fields() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(string(f))
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.value(f))
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
	o, err := parseObject(data)
	if err != nil {
		return err
	}
	v := New("")
	for _, k := range o.keys {
		if !knownField(Field(k)) {
			continue
		}
		if err := v.UnmarshalField(Field(k), o.vals[k]); err != nil {
			return &DecodeError{Index: -1, Provider: v.JID, Field: Field(k), Err: err}
		}
	}
	dropLinks(&v)
	*p = v
	return nil
}

// value returns the JSON value of f, with nil maps and slices made empty.
func (p *Provider) value(f Field) any {
	loc := func(m Localized) any {
		if m == nil {
			return map[string]string{}
		}
		return map[string]string(m)
	}
	locl := func(m LocalizedList) any {
		if m == nil {
			return map[string][]string{}
		}
		out := make(map[string][]string, len(m))
		for k, v := range m {
			if v == nil {
				v = []string{}
			}
			out[k] = v
		}
		return out
	}
	strs := func(s []string) any {
		if s == nil {
			return []string{}
		}
		return s
	}
	switch f {
	case FieldJID:
		return p.JID
	case FieldCategory:
		return string(p.Category)
	case FieldLatestChange:
		return p.LatestChange.String()
	case FieldWebsite:
		return loc(p.Website)
	case FieldAlternativeJIDs:
		return strs(p.AlternativeJIDs)
	case FieldBusFactor:
		return int(p.BusFactor)
	case FieldOrganization:
		return string(p.Organization)
	case FieldPasswordReset:
		return loc(p.PasswordReset)
	case FieldServerTesting:
		return p.ServerTesting
	case FieldServerSoftwareName:
		return p.ServerSoftwareName
	case FieldServerSoftwareVersion:
		return p.ServerSoftwareVersion
	case FieldGreenWebCheck:
		return p.GreenWebCheck
	case FieldInBandRegistration:
		return p.InBandRegistration
	case FieldEmailRequired:
		return p.EmailRequired
	case FieldCaptchaRequired:
		return p.CaptchaRequired
	case FieldRegistrationWebPage:
		return loc(p.RegistrationWebPage)
	case FieldComplianceTester:
		return p.ComplianceTester
	case FieldObservatoryC2S:
		return p.ObservatoryC2S
	case FieldObservatoryS2S:
		return p.ObservatoryS2S
	case FieldUploadFileSize:
		return int64(p.UploadFileSize)
	case FieldUploadTotalSize:
		return int64(p.UploadTotalSize)
	case FieldUploadStorageTime:
		return int(p.UploadStorageTime)
	case FieldArchiveStorageTime:
		return int(p.ArchiveStorageTime)
	case FieldProfessionalHosting:
		return p.ProfessionalHosting
	case FieldFreeOfCharge:
		return p.FreeOfCharge
	case FieldLegalNotice:
		return loc(p.LegalNotice)
	case FieldServerLocations:
		return strs(p.ServerLocations)
	case FieldEmailSupport:
		return locl(p.EmailSupport)
	case FieldChatSupport:
		return locl(p.ChatSupport)
	case FieldGroupChatSupport:
		return locl(p.GroupChatSupport)
	case FieldSince:
		return p.Since.String()
	}
	return nil
}

// Value returns the value of field f in its JSON form (string, bool, int,
// int64, map or slice), for programs that treat fields generically, such as
// a rating that reports "the provider's value". Unknown fields give nil.
func (p *Provider) Value(f Field) any { return p.value(f) }

// Encode writes l as an API v2 filtered list (a JSON array), indented as the
// published files are.
func (l List) Encode() ([]byte, error) {
	ps := l.Providers
	if ps == nil {
		ps = []Provider{}
	}
	return json.MarshalIndent(ps, "", "    ")
}
