package discovery

import (
	"encoding/xml"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"github.com/xmpp-onboard/onboard/register"
	"slices"
	"strconv"
	"strings"

	"mellium.im/xmpp/stanza"
)

// Namespaces the prober reads.
const (
	nsStreams    = xmppconn.NSStream
	nsStreamErr  = xmppconn.NSStreamError
	nsTLS        = xmppconn.NSTLS
	nsSASL       = xmppconn.NSSASL
	nsSASL2      = xmppconn.NSSASL2
	nsBind       = xmppconn.NSBind
	nsBind2      = xmppconn.NSBind2
	nsSM         = xmppconn.NSSM
	nsCompress   = xmppconn.NSCompress
	nsCaps       = xmppconn.NSCaps
	nsSASLCB     = xmppconn.NSChannelBinding
	nsLimits     = xmppconn.NSLimits
	nsClient     = xmppconn.NSClient
	nsStanzaErr  = xmppconn.NSStanzaError
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsVersion    = "jabber:iq:version"
	nsRegister   = xmppconn.NSRegister
	nsData       = xmppconn.NSData
	nsUpload     = "urn:xmpp:http:upload:0"
	nsUploadOld  = "urn:xmpp:http:upload"
	nsServerInfo = "http://jabber.org/network/serverinfo"
)

// Limits on what is kept from a reply, so a hostile server cannot make a
// report huge.
const (
	maxListItems = 256  // features, identities, items, mechanisms …
	maxValueLen  = 2048 // one string value
)

func clipString(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxValueLen {
		s = s[:maxValueLen]
	}
	return s
}

func appendLimited[T any](list []T, v T) []T {
	if len(list) >= maxListItems {
		return list
	}
	return append(list, v)
}

// parseFeatures reads a <stream:features/> element.
func parseFeatures(n *node) *Features {
	x := xmppconn.ParseFeatures(n)
	names := func(ns []xml.Name) []Name {
		out := make([]Name, 0, len(ns))
		for _, n := range ns {
			out = append(out, Name{Space: clipString(n.Space), Local: clipString(n.Local)})
		}
		return out
	}
	f := &Features{
		Advertised: names(x.Advertised), StartTLS: x.StartTLS, StartTLSRequired: x.StartTLSRequired,
		Mechanisms: x.Mechanisms, SASL2: x.SASL2, Bind2: x.Bind2, ChannelBindings: x.ChannelBindings, FAST: x.FAST,
		Register: x.Register, InviteToken: x.InviteToken || x.InviteLegacy,
		StreamManagement: x.StreamManagement, CSI: x.CSI, Bind: x.Bind, Compression: x.Compression,
	}
	if len(x.SASL2Inline) > 0 {
		f.SASL2Inline = names(x.SASL2Inline)
	}
	if c := x.Caps; c != nil {
		f.Caps = &Caps{Hash: c.Hash, Node: c.Node, Ver: c.Ver}
	}
	if l := x.Limits; l != nil {
		f.Limits = &Limits{MaxBytes: l.MaxBytes, IdleSeconds: l.IdleSeconds}
	}
	return f
}

// parseStreamError reads a <stream:error/> element (xmppconn.StreamError:
// a condition RFC 6120 does not define is not kept).
func parseStreamError(n *node) *StreamError {
	return &StreamError{Err: xmppconn.StreamError(n, nil)}
}

// parseStanzaError reads the <error/> child of an error IQ
// (xmppconn.StanzaError: a condition RFC 6120 does not define is not kept).
func parseStanzaError(iq *node) stanza.Error { return xmppconn.StanzaError(iq, nil) }

// parseForm reads a data form (xmppconn.ParseDataForm, the module's one
// XEP-0004 reader), keeping the first maxListItems fields and values.
func parseForm(x *node) DataForm {
	d, _ := xmppconn.ParseDataForm(x, xmppconn.DataLimits{Fields: maxListItems, Values: maxListItems, Truncate: true})
	f := DataForm{Type: clipString(d.FormType)}
	for _, df := range d.Fields {
		ff := FormField{
			Var:      clipString(df.Var),
			Type:     clipString(df.Type),
			Label:    clipString(df.Label),
			Required: df.Required,
			Media:    df.HasMedia,
		}
		for _, v := range df.Values {
			ff.Values = append(ff.Values, clipString(v))
		}
		f.Fields = append(f.Fields, ff)
	}
	return f
}

// parseInfo reads a disco#info <query/>.
func parseInfo(q *node) Info {
	var in Info
	for _, c := range q.Children {
		switch {
		case c.Is(nsDiscoInfo, "identity"):
			in.Identities = appendLimited(in.Identities, Identity{
				Category: clipString(c.Get("category")),
				Type:     clipString(c.Get("type")),
				Name:     clipString(c.Get("name")),
				Lang:     clipString(c.Lang()),
			})
		case c.Is(nsDiscoInfo, "feature"):
			if v := clipString(c.Get("var")); v != "" && !slices.Contains(in.Features, v) {
				in.Features = appendLimited(in.Features, v)
			}
		case c.Is(nsData, "x"):
			in.Forms = appendLimited(in.Forms, parseForm(c))
		}
	}
	return in
}

// parseItems reads a disco#items <query/>.
func parseItems(q *node) []Service {
	var out []Service
	for _, c := range q.All(nsDiscoItems, "item") {
		j := clipString(c.Get("jid"))
		if j == "" {
			continue
		}
		out = appendLimited(out, Service{JID: j, Node: clipString(c.Get("node")), Name: clipString(c.Get("name"))})
	}
	return out
}

// parseVersion reads a jabber:iq:version <query/>.
func parseVersion(q *node) Software {
	return Software{
		Name:    clipString(q.Child(nsVersion, "name").TrimmedText()),
		Version: clipString(q.Child(nsVersion, "version").TrimmedText()),
		OS:      clipString(q.Child(nsVersion, "os").TrimmedText()),
	}
}

// contactKinds maps XEP-0157 field vars to the Contacts lists.
var contactKinds = [...]string{"abuse", "admin", "feedback", "sales", "security", "support", "status"}

// contactsFromInfo extracts the XEP-0157 addresses of a disco#info result.
func contactsFromInfo(in *Info, lang string) Contacts {
	c := Contacts{Lang: lang}
	f := in.Form(nsServerInfo)
	if f == nil {
		return c
	}
	for _, k := range contactKinds {
		var vals []string
		for _, v := range f.Values(k + "-addresses") {
			if v != "" && !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		switch k {
		case "abuse":
			c.Abuse = vals
		case "admin":
			c.Admin = vals
		case "feedback":
			c.Feedback = vals
		case "sales":
			c.Sales = vals
		case "security":
			c.Security = vals
		case "support":
			c.Support = vals
		case "status":
			c.StatusPages = vals
		}
	}
	return c
}

// uploadFromInfo reports whether a disco#info result is an HTTP upload
// service and its announced size limit.
func uploadFromInfo(in *Info) (ok bool, maxSize int64) {
	for _, ns := range []string{nsUpload, nsUploadOld} {
		if !in.HasFeature(ns) {
			continue
		}
		if f := in.Form(ns); f != nil {
			for _, v := range f.Values("max-file-size") {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
					return true, n
				}
			}
		}
		return true, 0
	}
	return false, 0
}

// parseRegister reads the jabber:iq:register <query/> answering a form
// request with register's form model (register.ParseForm), so that a form
// means the same to a probe as to a registration: which fields, which are
// required, whether there is a CAPTCHA, which web page is offered.
func parseRegister(q *node) (Registration, error) {
	f, err := register.ParseForm(q.Marshal())
	if err != nil {
		return Registration{}, err
	}
	r := Registration{
		Instructions: clipString(f.Instructions),
		DataForm:     f.IsDataForm,
		CAPTCHA:      f.Captcha != nil,
		URL:          f.RedirectURL,
	}
	if f.RedirectRefused {
		r.Status.Reason = "registration URL is not https; ignored"
	}
	for _, fl := range append(slices.Clone(f.Fields), f.LegacyFields...) {
		r.Legacy = r.Legacy || fl.Legacy
	}
	for _, fl := range f.Fields {
		switch {
		case fl.Type == register.Hidden || fl.Type == register.Fixed || fl.Var == "":
			continue
		case f.Captcha != nil && (fl.Var == f.Captcha.Field || register.IsCaptchaVar(fl.Var) || fl.Var == "captcha-fallback-url"):
			r.Challenges = appendLimited(r.Challenges, clipString(fl.Var))
			continue
		}
		r.Fields = appendLimited(r.Fields, clipString(fl.Var))
		if fl.Required || fl.Legacy {
			// Every legacy field the server lists must be supplied.
			r.Required = appendLimited(r.Required, clipString(fl.Var))
		}
	}
	r.EmailRequired = slices.Contains(r.Required, "email")
	switch {
	case len(r.Fields) > 0:
		r.Kind = RegistrationOpen
	case r.URL != "" || f.RedirectRefused || r.Instructions != "":
		r.Kind = RegistrationWeb
	default:
		r.Kind = RegistrationUnknown
	}
	return r, nil
}
