package xmppconn

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// Namespaces of stream features.
const (
	NSSASL2          = "urn:xmpp:sasl:2"
	NSBind2          = "urn:xmpp:bind:0"
	NSSM             = "urn:xmpp:sm:3"
	NSCSI            = "urn:xmpp:csi:0"
	NSRegisterFeat   = "http://jabber.org/features/iq-register"
	NSIBRToken       = "urn:xmpp:ibr-token:0"
	NSInviteLegacy   = "urn:xmpp:invite"
	NSCompress       = "http://jabber.org/features/compress"
	NSCaps           = "http://jabber.org/protocol/caps"
	NSChannelBinding = "urn:xmpp:sasl-cb:0"
	NSLimits         = "urn:xmpp:stream-limits:0"
)

// Limits on what a feature list may make a client keep.
const (
	maxListed    = 64 // names per list (mechanisms, features, methods)
	maxBindings  = 16 // channel-binding types
	maxValueText = 64 // bytes of one mechanism name or binding type
)

// Features are the stream features a server advertises (RFC 6120 §4.3.2
// and the XEPs that add features), read from a <stream:features/> element
// with every list and value bounded. register and discovery both read the
// features with ParseFeatures and keep what they need.
type Features struct {
	// StartTLS and StartTLSRequired: RFC 6120 §5.
	StartTLS, StartTLSRequired bool
	// Mechanisms are the SASL mechanisms, in server order.
	Mechanisms []string
	// SASL2 are the mechanisms of XEP-0388 SASL2, and SASL2Inline the
	// features it allows inline (Bind2, stream management …).
	SASL2       []string
	SASL2Inline []xml.Name
	// Bind2 and StreamManagement: offered inline with SASL2 or, for
	// stream management, as a feature. SMInline: stream management
	// inline in SASL2 or inside Bind2's inline features.
	Bind2, StreamManagement, SMInline bool
	// FAST are the XEP-0484 token mechanisms offered inline with SASL2.
	FAST []string
	// ChannelBindings are the XEP-0440 channel-binding types.
	ChannelBindings []string
	// Register: XEP-0077's feature; InviteToken: XEP-0445's
	// (urn:xmpp:ibr-token:0); InviteLegacy: the older urn:xmpp:invite.
	Register, InviteToken, InviteLegacy bool
	// Bind (RFC 6120 §7) and CSI (XEP-0352).
	Bind, CSI bool
	// Compression methods (XEP-0138).
	Compression []string
	// Caps is the XEP-0115 entity capabilities element, if any.
	Caps *Caps
	// Limits are the XEP-0478 stream limits, if any.
	Limits *StreamLimits
	// Advertised are the names of every feature element, in order.
	Advertised []xml.Name
}

// Caps is a XEP-0115 entity capabilities announcement.
type Caps struct{ Hash, Node, Ver string }

// StreamLimits are XEP-0478 stream limits (0 when not given).
type StreamLimits struct{ MaxBytes, IdleSeconds int64 }

// ParseFeatures reads a <stream:features/> element.
func ParseFeatures(n *Element) Features {
	var f Features
	add := func(list []string, max int, s string) []string {
		if s = strings.TrimSpace(s); s != "" && len(s) <= maxValueText && len(list) < max {
			list = append(list, s)
		}
		return list
	}
	for _, c := range n.Children {
		if len(f.Advertised) < maxListed {
			f.Advertised = append(f.Advertised, c.Name)
		}
		switch {
		case c.Is(NSTLS, "starttls"):
			f.StartTLS = true
			f.StartTLSRequired = c.Child(NSTLS, "required") != nil
		case c.Is(NSSASL, "mechanisms"):
			for _, m := range c.All(NSSASL, "mechanism") {
				f.Mechanisms = add(f.Mechanisms, maxListed, m.Text)
			}
		case c.Is(NSSASL2, "authentication"):
			for _, m := range c.All(NSSASL2, "mechanism") {
				f.SASL2 = add(f.SASL2, maxListed, m.Text)
			}
			if in := c.Child(NSSASL2, "inline"); in != nil {
				for _, i := range in.Children {
					if len(f.SASL2Inline) < maxListed {
						f.SASL2Inline = append(f.SASL2Inline, i.Name)
					}
					switch {
					case i.Is(NSBind2, "bind"):
						f.Bind2 = true
						if bi := i.Child(NSBind2, "inline"); bi != nil {
							for _, x := range bi.All(NSBind2, "feature") {
								if x.Get("var") == NSSM {
									f.SMInline, f.StreamManagement = true, true
								}
							}
						}
					case i.Is(NSSM, "sm"):
						f.StreamManagement, f.SMInline = true, true
					case i.Is(NSFAST, "fast"):
						for _, m := range i.All(NSFAST, "mechanism") {
							f.FAST = add(f.FAST, maxListed, m.Text)
						}
					}
				}
			}
		case c.Is(NSChannelBinding, "sasl-channel-binding"):
			for _, b := range c.All(NSChannelBinding, "channel-binding") {
				f.ChannelBindings = add(f.ChannelBindings, maxBindings, b.Get("type"))
			}
		case c.Is(NSRegisterFeat, "register"):
			f.Register = true
		case c.Is(NSIBRToken, "register"):
			f.InviteToken = true
		case c.Is(NSInviteLegacy, "register"):
			f.InviteLegacy = true
		case c.Is(NSSM, "sm"):
			f.StreamManagement = true
		case c.Is(NSCSI, "csi"):
			f.CSI = true
		case c.Is(NSBind, "bind"):
			f.Bind = true
		case c.Is(NSCompress, "compression"):
			for _, m := range c.All(NSCompress, "method") {
				f.Compression = add(f.Compression, maxListed, m.Text)
			}
		case c.Is(NSCaps, "c"):
			f.Caps = &Caps{Hash: Clip(c.Get("hash"), maxValueText), Node: Clip(c.Get("node"), 256), Ver: Clip(c.Get("ver"), maxValueText)}
		case c.Is(NSLimits, "limits"):
			l := &StreamLimits{}
			l.MaxBytes, _ = strconv.ParseInt(c.Child(NSLimits, "max-bytes").TrimmedText(), 10, 64)
			l.IdleSeconds, _ = strconv.ParseInt(c.Child(NSLimits, "idle-seconds").TrimmedText(), 10, 64)
			f.Limits = l
		}
	}
	return f
}
