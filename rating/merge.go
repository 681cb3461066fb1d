package rating

import (
	"github.com/xmpp-onboard/onboard/providers"
)

// Source says where the value of one property of a rated record came from.
type Source string

// The sources of a value.
const (
	// SourceDefault: nothing is known; the value is the "unknown" default
	// (-1 for sizes, times and the bus factor, else empty or false).
	SourceDefault Source = "default"
	// SourceList: a published provider list.
	SourceList Source = "list"
	// SourceProviderFile: the operator's provider file
	// (/.well-known/xmpp-provider-v2.json), either read directly or named
	// as the source in the full providers.json.
	SourceProviderFile Source = "provider file"
	// SourceLive: observed on the running service by a live probe.
	SourceLive Source = "live"
)

// Provenance maps each property of a record to the source of its value.
// A property it does not name has SourceDefault.
type Provenance map[providers.Field]Source

// Of returns the source of f's value.
func (pv Provenance) Of(f providers.Field) Source {
	if s, ok := pv[f]; ok {
		return s
	}
	return SourceDefault
}

// Fields returns the properties whose value came from s, in the published
// order of providers.Fields.
func (pv Provenance) Fields(s Source) []providers.Field {
	var out []providers.Field
	for _, f := range providers.Fields() {
		if pv.Of(f) == s {
			out = append(out, f)
		}
	}
	return out
}

// ListProvenance returns the provenance of a record taken from a published
// list: SourceList for every property, except SourceProviderFile where the
// full providers.json names the operator's provider file as the source
// (providers.Provider.FromProviderFile). For the zero Provider, meaning "not
// listed", every property has SourceDefault.
func ListProvenance(listed providers.Provider) Provenance {
	pv := make(Provenance, len(providers.Fields()))
	for _, f := range providers.Fields() {
		switch {
		case listed.JID == "":
			pv[f] = SourceDefault
		case listed.FromProviderFile(f):
			pv[f] = SourceProviderFile
		default:
			pv[f] = SourceList
		}
	}
	return pv
}

// Merge combines the record of a provider from a published list with the
// record a live probe built, for rating on current data. The values of the
// fields in liveFields (the properties the probe observed) come from live;
// all others from listed, whose values may be stale but are all there is.
// When listed is the zero Provider (the domain is not listed), the others
// are unknown, as in [providers.New], and the domain is live's.
//
// The returned Provenance names the source of every property. Neither input
// is changed, and the result shares no maps or slices with them.
func Merge(listed, live providers.Provider, liveFields []providers.Field) (providers.Provider, Provenance) {
	pv := ListProvenance(listed)
	if listed.JID == "" {
		listed = providers.New(live.JID)
		if live.JID != "" {
			pv[providers.FieldJID] = SourceLive
		}
	}
	return Overlay(listed, pv, live, liveFields, SourceLive)
}

// Overlay returns base with the properties named in fields replaced by
// top's values, and a copy of prov in which those properties have source
// src. Merge is Overlay with SourceLive; use Overlay directly for other
// layers, such as an operator's provider file on top of a listed record
// (fields = providers.ProviderFileFields(), src = SourceProviderFile). Fields
// unknown to providers.Fields are ignored. A replaced property loses its
// entry in the result's Sources, which described the old value.
func Overlay(base providers.Provider, prov Provenance, top providers.Provider, fields []providers.Field, src Source) (providers.Provider, Provenance) {
	out := base.Clone()
	pv := make(Provenance, len(providers.Fields()))
	for _, f := range providers.Fields() {
		pv[f] = prov.Of(f)
	}
	for _, f := range fields {
		if !out.CopyField(f, &top) {
			continue
		}
		pv[f] = src
		delete(out.Sources, f)
	}
	return out, pv
}
