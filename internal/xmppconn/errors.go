package xmppconn

import (
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"github.com/xmpp-onboard/onboard/internal/redact"
)

// streamConditions are the stream error conditions of RFC 6120 §4.9.3.
var streamConditions = []string{
	"bad-format", "bad-namespace-prefix", "conflict", "connection-timeout",
	"host-gone", "host-unknown", "improper-addressing", "internal-server-error",
	"invalid-from", "invalid-namespace", "invalid-xml", "not-authorized",
	"not-well-formed", "policy-violation", "remote-connection-failed", "reset",
	"resource-constraint", "restricted-xml", "see-other-host", "system-shutdown",
	"undefined-condition", "unsupported-encoding", "unsupported-feature",
	"unsupported-stanza-type", "unsupported-version",
}

// stanzaConditions are the stanza error conditions of RFC 6120 §8.3.3.
var stanzaConditions = []string{
	"bad-request", "conflict", "feature-not-implemented", "forbidden", "gone",
	"internal-server-error", "item-not-found", "jid-malformed", "not-acceptable",
	"not-allowed", "not-authorized", "policy-violation", "recipient-unavailable",
	"redirect", "registration-required", "remote-server-not-found",
	"remote-server-timeout", "resource-constraint", "service-unavailable",
	"subscription-required", "undefined-condition", "unexpected-request",
}

// MaxErrorText is the longest error text kept, in bytes.
const MaxErrorText = 1024

func known(list []string, name string) bool {
	for _, c := range list {
		if c == name {
			return true
		}
	}
	return false
}

// StreamError decodes a <stream:error/> (RFC 6120 §4.9) as mellium's
// stream.Error. The first condition counts; one RFC 6120 does not define
// becomes undefined-condition (a server can name an element after the
// password), and the secrets are removed from the texts and the
// condition's content (see-other-host names a host there), which are
// clipped to MaxErrorText.
func StreamError(el *Element, secrets *redact.Set) stream.Error {
	var e stream.Error
	cond := false
	for _, k := range el.Children {
		if k.Name.Space != NSStreamError {
			continue
		}
		if k.Name.Local == "text" {
			e.Text = append(e.Text, struct {
				Lang  string
				Value string
			}{Lang: k.Lang(), Value: Clip(secrets.String(k.Text), MaxErrorText)})
			continue
		}
		if !cond {
			cond = true
			if known(streamConditions, k.Name.Local) {
				e.Err = k.Name.Local
				e.Content = Clip(secrets.String(k.Text), MaxErrorText)
			}
		}
	}
	if e.Err == "" {
		e.Err = "undefined-condition"
	}
	return e
}

// StanzaError decodes the <error/> child of a stanza (RFC 6120 §8.3) as
// mellium's stanza.Error: the first condition counts, one RFC 6120 does not
// define stays undefined-condition, an error type it does not define is
// left empty, and the texts are stripped of the secrets and clipped to
// MaxErrorText. A stanza without <error/> gives undefined-condition.
func StanzaError(st *Element, secrets *redact.Set) stanza.Error {
	se := stanza.Error{Condition: stanza.UndefinedCondition}
	var e *Element
	for _, k := range st.Children {
		if k.Name.Local == "error" && (k.Name.Space == NSClient || k.Name.Space == "") {
			e = k
			break
		}
	}
	if e == nil {
		return se
	}
	switch t := stanza.ErrorType(e.Get("type")); t {
	case stanza.Auth, stanza.Cancel, stanza.Continue, stanza.Modify, stanza.Wait:
		se.Type = t
	}
	cond := false
	for _, k := range e.Children {
		if k.Name.Space != NSStanzaError {
			continue
		}
		if k.Name.Local == "text" {
			t := Clip(secrets.String(k.Text), MaxErrorText)
			if t == "" {
				continue
			}
			if se.Text == nil {
				se.Text = make(map[string]string)
			}
			se.Text[k.Lang()] = t
			continue
		}
		if !cond {
			cond = true
			if known(stanzaConditions, k.Name.Local) {
				se.Condition = stanza.Condition(k.Name.Local)
			}
		}
	}
	return se
}
