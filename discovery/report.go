package discovery

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"github.com/xmpp-onboard/onboard/providers"
)

// Report is everything a probe observed about one XMPP domain. Every part
// carries a [Status] that says whether it was observed, absent or unknown,
// why, and how long it took.
type Report struct {
	// Domain is the probed XMPP domain, lower-cased.
	Domain string `json:"domain"`
	// Started is when the probe began.
	Started time.Time `json:"started"`
	// Took is the time the whole probe took.
	Took time.Duration `json:"-"`
	// Err is set when the probe could not run at all (an invalid domain, a
	// context cancelled before it started); the parts are then Unknown.
	Err error `json:"-"`

	// SRV holds the _xmpp-client._tcp records (RFC 6120 §3.2.1).
	SRV SRVRecords `json:"srv"`
	// SRVDirectTLS holds the _xmpps-client._tcp records (XEP-0368).
	SRVDirectTLS SRVRecords `json:"srvDirectTLS"`
	// StartTLS is the plain c2s port upgraded with STARTTLS.
	StartTLS Connection `json:"startTLS"`
	// DirectTLS is the direct TLS c2s port (XEP-0368).
	DirectTLS Connection `json:"directTLS"`

	// Registration is what in-band registration (XEP-0077) offers, found
	// by fetching the form; the prober never submits it.
	Registration Registration `json:"registration"`
	// Login is the outcome of logging in with Prober.Account; Unknown
	// with ErrSkipped when no account was given.
	Login Login `json:"login"`

	// ServerInfo is the domain's service discovery information (XEP-0030
	// disco#info) with its XEP-0128 extension forms.
	ServerInfo Info `json:"serverInfo"`
	// Contacts are the XEP-0157 contact addresses from ServerInfo.
	Contacts Contacts `json:"contacts"`
	// Software is the XEP-0092 software version of the server.
	Software Software `json:"software"`
	// Services are the domain's disco#items, each with its disco#info.
	Services Services `json:"services"`
	// Upload is the HTTP File Upload service (XEP-0363), if any.
	Upload Upload `json:"upload"`
	// MUC lists the multi-user chat services (XEP-0045).
	MUC ServiceList `json:"muc"`
	// Proxy lists the SOCKS5 bytestream proxies (XEP-0065).
	Proxy ServiceList `json:"proxy"`

	// ProviderFile is https://<domain>/.well-known/xmpp-provider-v2.json.
	ProviderFile ProviderFile `json:"providerFile"`
	// HostMeta holds the alternative connection methods of XEP-0156.
	HostMeta HostMeta `json:"hostMeta"`
}

// SRVRecords is the result of one SRV lookup.
type SRVRecords struct {
	// Status is Observed with records, Absent without (or when Disabled),
	// Unknown when the lookup failed.
	Status Status `json:"status"`
	// Records in the order a client tries them (by priority, then weight).
	Records []SRVRecord `json:"records,omitempty"`
	// Disabled reports the single record with target "." that means "this
	// service is decidedly not available" (RFC 2782); the Status is then
	// Absent.
	Disabled bool `json:"disabled,omitempty"`
}

// SRVRecord is one SRV record.
type SRVRecord struct {
	// Target (without the trailing dot), Port, Priority and Weight are
	// the fields of the record (RFC 2782).
	Target   string `json:"target"`
	Port     uint16 `json:"port"`
	Priority uint16 `json:"priority"`
	Weight   uint16 `json:"weight"`
}

// Connection is what one way of connecting (STARTTLS or direct TLS)
// showed. Observed means a TLS-protected stream was opened and its features
// read; Absent means nothing accepted connections, the SRV records
// disable the service, or the server does not offer STARTTLS.
type Connection struct {
	// Status is the outcome; see the type's description.
	Status Status `json:"status"`
	// Addr is the address ("host:port") that answered, or the last one
	// tried.
	Addr string `json:"addr,omitempty"`
	// Attempts lists every address tried, in order.
	Attempts []Attempt `json:"attempts,omitempty"`
	// TLS describes the TLS connection; nil if none was made.
	TLS *TLSInfo `json:"tls,omitempty"`
	// StreamFrom is the from attribute of the server's stream header.
	StreamFrom string `json:"streamFrom,omitempty"`
	// FeaturesBeforeTLS are the stream features offered on the plain
	// stream (STARTTLS only).
	FeaturesBeforeTLS *Features `json:"featuresBeforeTLS,omitempty"`
	// Features are the stream features offered once TLS is up, before
	// authentication.
	Features *Features `json:"features,omitempty"`
}

// Attempt is one connection attempt.
type Attempt struct {
	// Addr is the address dialed, Err why the attempt failed (nil when it
	// connected) and Took how long it took.
	Addr string        `json:"addr"`
	Err  error         `json:"-"`
	Took time.Duration `json:"-"`
}

// MarshalJSON writes the attempt with its error message.
func (a Attempt) MarshalJSON() ([]byte, error) {
	j := struct {
		Addr   string  `json:"addr"`
		Error  string  `json:"error,omitempty"`
		TookMS float64 `json:"tookMs"`
	}{Addr: a.Addr, TookMS: ms(a.Took)}
	if a.Err != nil {
		j.Error = a.Err.Error()
	}
	return json.Marshal(j)
}

// TLSInfo describes a TLS connection.
type TLSInfo struct {
	// Version is the negotiated TLS version.
	Version TLSVersion `json:"version"`
	// CipherSuite is the name of the negotiated cipher suite.
	CipherSuite string `json:"cipherSuite"`
	// ALPN is the negotiated application protocol ("xmpp-client" on
	// direct TLS), or "".
	ALPN string `json:"alpn,omitempty"`
	// Certificate is the server's leaf certificate.
	Certificate Certificate `json:"certificate"`
}

// TLSVersion is a TLS protocol version number.
type TLSVersion uint16

// String returns the version's name, such as "TLS 1.3".
func (v TLSVersion) String() string { return tls.VersionName(uint16(v)) }

// MarshalText implements encoding.TextMarshaler.
func (v TLSVersion) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: the names
// MarshalText writes ("TLS 1.3"), and the "0x0304" form tls.VersionName
// gives versions it does not know.
func (v *TLSVersion) UnmarshalText(b []byte) error {
	for _, x := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		if tls.VersionName(x) == string(b) {
			*v = TLSVersion(x)
			return nil
		}
	}
	if h, ok := strings.CutPrefix(string(b), "0x"); ok && len(h) == 4 {
		if n, err := strconv.ParseUint(h, 16, 16); err == nil {
			*v = TLSVersion(n)
			return nil
		}
	}
	return fmt.Errorf("discovery: unknown TLS version %q", sanitize.Line(string(b)))
}

// Certificate describes the server's leaf certificate and whether it is
// valid for the XMPP domain.
type Certificate struct {
	// Valid reports that the chain verifies against the trusted roots and
	// the certificate names the domain (a DNS-ID; XmppAddr and SRV-ID
	// names are not checked) and is within its validity period.
	Valid bool `json:"valid"`
	// Err is why Valid is false.
	Err error `json:"-"`
	// Subject and Issuer are the distinguished names.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// DNSNames are the certificate's DNS subject alternative names.
	DNSNames []string `json:"dnsNames,omitempty"`
	// NotBefore and NotAfter bound the validity period.
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// SHA256 is the hex SHA-256 fingerprint of the DER certificate.
	SHA256 string `json:"sha256"`
}

// ExpiresIn returns the time left until NotAfter, from now; negative when
// the certificate has expired.
func (c Certificate) ExpiresIn(now time.Time) time.Duration { return c.NotAfter.Sub(now) }

// MarshalJSON writes the certificate with its error message.
func (c Certificate) MarshalJSON() ([]byte, error) {
	type plain Certificate
	j := struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain: plain(c)}
	if c.Err != nil {
		j.Error = c.Err.Error()
	}
	return json.Marshal(j)
}

// Features are the stream features (RFC 6120 §4.3.2) a server offered on
// one stream.
type Features struct {
	// Advertised lists every feature element, in the server's order.
	Advertised []Name `json:"advertised"`
	// StartTLS and StartTLSRequired: <starttls/> and its <required/>.
	StartTLS         bool `json:"startTLS,omitempty"`
	StartTLSRequired bool `json:"startTLSRequired,omitempty"`
	// Mechanisms are the SASL mechanisms (RFC 6120 §6), including -PLUS
	// variants with channel binding.
	Mechanisms []string `json:"mechanisms,omitempty"`
	// SASL2 are the mechanisms offered by SASL2 (XEP-0388).
	SASL2 []string `json:"sasl2,omitempty"`
	// SASL2Inline are the features SASL2 offers inline, such as Bind2
	// (urn:xmpp:bind:0), stream management or FAST.
	SASL2Inline []Name `json:"sasl2Inline,omitempty"`
	// Bind2 reports Bind2 (XEP-0386) inline in SASL2.
	Bind2 bool `json:"bind2,omitempty"`
	// ChannelBindings are the channel binding types of XEP-0440.
	ChannelBindings []string `json:"channelBindings,omitempty"`
	// FAST are the XEP-0484 token mechanisms (HT-SHA-256-*) offered
	// inline with SASL2. Servers offer SASL2, Bind2 and FAST to a stream
	// header that names an account (from=; Prosody 13 offers SASL2 without
	// it, not FAST); the prober sends the account it was given, or
	// "probe@DOMAIN", on a TLS stream whose certificate is valid.
	FAST []string `json:"fast,omitempty"`
	// Register is the in-band registration feature (XEP-0077).
	Register bool `json:"register,omitempty"`
	// InviteToken reports invite based registration (XEP-0445
	// urn:xmpp:ibr-token:0, or Prosody's older urn:xmpp:invite).
	InviteToken bool `json:"inviteToken,omitempty"`
	// StreamManagement is XEP-0198 (urn:xmpp:sm:3), top level or inline in
	// SASL2. Servers usually offer it only after authentication.
	StreamManagement bool `json:"streamManagement,omitempty"`
	// CSI is Client State Indication (XEP-0352), usually only offered
	// after authentication.
	CSI bool `json:"csi,omitempty"`
	// Bind is resource binding (RFC 6120 §7).
	Bind bool `json:"bind,omitempty"`
	// Compression lists stream compression methods (XEP-0138).
	Compression []string `json:"compression,omitempty"`
	// Caps is the server's entity capabilities (XEP-0115), if offered.
	Caps *Caps `json:"caps,omitempty"`
	// Limits are the stream limits of XEP-0478, if announced.
	Limits *Limits `json:"limits,omitempty"`
}

// Has reports whether a feature with the namespace and local name was
// advertised; an empty local name matches any element of the namespace.
func (f *Features) Has(space, local string) bool {
	if f == nil {
		return false
	}
	for _, n := range f.Advertised {
		if n.Space == space && (local == "" || n.Local == local) {
			return true
		}
	}
	return false
}

// SMInline reports XEP-0198 stream management offered inline with SASL2
// (directly or in Bind2's inline features).
func (f *Features) SMInline() bool {
	if f == nil {
		return false
	}
	return slices.ContainsFunc(f.SASL2Inline, func(n Name) bool { return n.Space == xmppconn.NSSM })
}

// ChannelBindingMechanisms returns the SASL and SASL2 mechanisms with
// channel binding (names ending in -PLUS).
func (f *Features) ChannelBindingMechanisms() []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, m := range append(slices.Clip(f.Mechanisms), f.SASL2...) {
		if strings.HasSuffix(m, "-PLUS") && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// Name is a namespaced XML element name.
type Name struct {
	// Space is the namespace and Local the local name.
	Space string `json:"ns"`
	Local string `json:"name"`
}

// String returns "{space}local".
func (n Name) String() string { return "{" + n.Space + "}" + n.Local }

// Caps is an entity capabilities element (XEP-0115).
type Caps struct {
	// Hash, Node and Ver are the attributes of the <c/> element.
	Hash string `json:"hash"`
	Node string `json:"node"`
	Ver  string `json:"ver"`
}

// Limits are the stream limits a server announced (XEP-0478); 0 means not
// announced.
type Limits struct {
	// MaxBytes is the largest stanza the server accepts, IdleSeconds how
	// long it keeps an idle stream open.
	MaxBytes    int64 `json:"maxBytes,omitempty"`
	IdleSeconds int64 `json:"idleSeconds,omitempty"`
}

// RegistrationKind classifies what in-band registration offers.
type RegistrationKind uint8

// Registration kinds. The zero value is RegistrationUnknown.
const (
	// RegistrationUnknown: the prober could not tell.
	RegistrationUnknown RegistrationKind = iota
	// RegistrationOpen: the server returns a form (legacy fields or a data
	// form) an app can fill in, possibly with a CAPTCHA or an e-mail
	// address. A server may still refuse the submission (ejabberd with a
	// deny rule answers the form and rejects the submission); only
	// submitting tells, which the prober does only with
	// Prober.CheckRegistration (see Registration.Check; a closed ejabberd
	// is then RegistrationClosed).
	RegistrationOpen
	// RegistrationWeb: the form has no fields, only instructions and a
	// web page to register on (XEP-0077 §5 redirection).
	RegistrationWeb
	// RegistrationInvite: the server advertises invite tokens (XEP-0445);
	// such servers usually accept registrations only with an invitation.
	RegistrationInvite
	// RegistrationClosed: the server does not offer registration: it
	// refuses the form request, refuses the submission of
	// Prober.CheckRegistration by its policy, or does not advertise
	// registration (even if it answers the request, as ejabberd 23.01 with
	// access "none" does; apps go by the advertisement).
	RegistrationClosed
)

var kindNames = [...]string{"unknown", "open", "web", "invite", "closed"}

// String returns "unknown", "open", "web", "invite" or "closed".
func (k RegistrationKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (k RegistrationKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *RegistrationKind) UnmarshalText(b []byte) error {
	i := slices.Index(kindNames[:], string(b))
	if i < 0 {
		i = 0
	}
	*k = RegistrationKind(i)
	return nil
}

// Registration is what the in-band registration form (XEP-0077) showed.
// Observed: the server returned a form (see Kind). Absent: the server does
// not offer registration (Kind is RegistrationClosed). Unknown: no
// encrypted stream, or no answer.
type Registration struct {
	// Status says whether the form was fetched; Kind classifies it.
	Status Status           `json:"status"`
	Kind   RegistrationKind `json:"kind"`
	// Advertised reports the registration stream feature.
	Advertised bool `json:"advertised"`
	// InviteToken reports the XEP-0445 invite token stream feature.
	InviteToken bool `json:"inviteToken,omitempty"`
	// Legacy reports legacy fields (<username/>, <password/>, ...), and
	// DataForm a XEP-0004 form.
	Legacy   bool `json:"legacy,omitempty"`
	DataForm bool `json:"dataForm,omitempty"`
	// Fields are the fields to fill in (form field names, or the legacy
	// element names when there is no form), without hidden fields.
	Fields []string `json:"fields,omitempty"`
	// Required are the fields that must be filled in.
	Required []string `json:"required,omitempty"`
	// CAPTCHA reports a CAPTCHA (XEP-0158) in the form, and Challenges its
	// challenge fields (such as "ocr" or "qa").
	CAPTCHA    bool     `json:"captcha,omitempty"`
	Challenges []string `json:"challenges,omitempty"`
	// EmailRequired reports a required e-mail field.
	EmailRequired bool `json:"emailRequired,omitempty"`
	// URL is the https web page for registration (an XEP-0066 URL or one
	// found in the instructions). URLs that are not https are dropped and
	// noted in Status.Reason.
	URL string `json:"url,omitempty"`
	// Instructions are the server's instructions.
	Instructions string `json:"instructions,omitempty"`
	// Check is the live check of [Prober.CheckRegistration] (one
	// submission with an empty password), nil when none was made.
	Check *RegistrationCheck `json:"check,omitempty"`
}

// Login is the outcome of logging in with the Prober's Account.
type Login struct {
	// Status is Observed after a successful login, Unknown (with the
	// reason) otherwise.
	Status Status `json:"status"`
	// Mechanism is the SASL mechanism used.
	Mechanism string `json:"mechanism,omitempty"`
	// JID is the bound address.
	JID string `json:"jid,omitempty"`
	// Features are the stream features offered after authentication
	// (where stream management and CSI usually appear).
	Features *Features `json:"features,omitempty"`
	// DowngradeProtected reports that the server's SCRAM first message
	// carried a XEP-0474 downgrade-protection hash and that it matched
	// the mechanisms and channel-binding types seen (a mismatch fails the
	// login with ErrAuth).
	DowngradeProtected bool `json:"downgradeProtected,omitempty"`
}

// Info is a disco#info result (XEP-0030) with its extension forms
// (XEP-0128).
type Info struct {
	// Status of the query, then the identities, the feature vars and the
	// extension forms of the result.
	Status     Status     `json:"status"`
	Identities []Identity `json:"identities,omitempty"`
	Features   []string   `json:"features,omitempty"`
	Forms      []DataForm `json:"forms,omitempty"`
}

// HasFeature reports whether the feature var is listed.
func (i *Info) HasFeature(v string) bool { return slices.Contains(i.Features, v) }

// HasIdentity reports whether an identity with the category and type is
// listed; an empty type matches any.
func (i *Info) HasIdentity(category, typ string) bool {
	for _, id := range i.Identities {
		if id.Category == category && (typ == "" || id.Type == typ) {
			return true
		}
	}
	return false
}

// Form returns the extension form with the FORM_TYPE, or nil.
func (i *Info) Form(formType string) *DataForm {
	for k := range i.Forms {
		if i.Forms[k].Type == formType {
			return &i.Forms[k]
		}
	}
	return nil
}

// Identity is a disco#info identity.
type Identity struct {
	// Category, Type, Name and Lang (xml:lang) are the identity's
	// attributes.
	Category string `json:"category"`
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`
	Lang     string `json:"lang,omitempty"`
}

// DataForm is a data form (XEP-0004) of a disco#info result (a XEP-0128
// extension), as reported; a registration form is a register.Form.
type DataForm struct {
	// Type is the value of the hidden FORM_TYPE field.
	Type   string      `json:"formType,omitempty"`
	Fields []FormField `json:"fields,omitempty"`
}

// Values returns the values of the field var, or nil.
func (f *DataForm) Values(v string) []string {
	if f == nil {
		return nil
	}
	for _, fl := range f.Fields {
		if fl.Var == v {
			return fl.Values
		}
	}
	return nil
}

// FormField is one data form field.
type FormField struct {
	// Var, Type, Label and Required describe the field; Values are its
	// values.
	Var      string   `json:"var"`
	Type     string   `json:"type,omitempty"`
	Label    string   `json:"label,omitempty"`
	Required bool     `json:"required,omitempty"`
	Values   []string `json:"values,omitempty"`
	// Media reports a XEP-0221 media element (CAPTCHA images).
	Media bool `json:"media,omitempty"`
}

// Contacts are the XEP-0157 contact addresses (URIs such as
// "mailto:abuse@example.org" or "xmpp:admin@example.org").
type Contacts struct {
	// Status is that of the disco#info query; Absent when the result has
	// no contact form. Abuse, Admin, Feedback, Sales, Security and Support
	// list the addresses of each kind.
	Status   Status   `json:"status"`
	Abuse    []string `json:"abuse,omitempty"`
	Admin    []string `json:"admin,omitempty"`
	Feedback []string `json:"feedback,omitempty"`
	Sales    []string `json:"sales,omitempty"`
	Security []string `json:"security,omitempty"`
	Support  []string `json:"support,omitempty"`
	// StatusPages are the status-addresses (web pages about the service's
	// state).
	StatusPages []string `json:"statusPages,omitempty"`
	// Lang is the xml:lang of the disco#info result, if the server set
	// one.
	Lang string `json:"lang,omitempty"`
}

// Software is a XEP-0092 software version.
type Software struct {
	// Status of the query; Name, Version and OS as the server reports them.
	Status  Status `json:"status"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	OS      string `json:"os,omitempty"`
}

// Services are the items of the domain (disco#items) with the disco#info of
// each.
type Services struct {
	// Status of the disco#items query; Items are its items.
	Status Status    `json:"status"`
	Items  []Service `json:"items,omitempty"`
}

// Service is one disco#items item with its disco#info.
type Service struct {
	// JID, Node and Name identify the item; Info is its disco#info.
	JID  string `json:"jid"`
	Node string `json:"node,omitempty"`
	Name string `json:"name,omitempty"`
	Info Info   `json:"info"`
}

// Upload is an HTTP File Upload service (XEP-0363). Observed when a service
// (or the domain itself) offers urn:xmpp:http:upload:0; Absent when the
// services were listed and none does.
type Upload struct {
	// Status: see the type's description.
	Status Status `json:"status"`
	// JID is the upload service.
	JID string `json:"jid,omitempty"`
	// MaxFileSize is the announced limit per file in bytes; 0 when the
	// service announced none.
	MaxFileSize int64 `json:"maxFileSize,omitempty"`
}

// ServiceList lists the services of one kind. Observed when at least one
// was found; Absent when the services were listed and none is of the kind.
type ServiceList struct {
	// Status: see the type's description; JIDs are the services found.
	Status Status   `json:"status"`
	JIDs   []string `json:"jids,omitempty"`
}

// ProviderFile is the operator's provider file (XMPP Providers API v2),
// https://<domain>/.well-known/xmpp-provider-v2.json. Observed when the
// server returned a file, valid or not (see Errors); Absent on HTTP 404 or
// 410.
type ProviderFile struct {
	// Status: see the type's description.
	Status Status `json:"status"`
	// URL is the final URL, after redirects.
	URL string `json:"url,omitempty"`
	// HTTPStatus is the response's status code.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Provider holds the values that decoded; Fields lists them.
	Provider providers.Provider `json:"-"`
	Fields   []providers.Field  `json:"fields,omitempty"`
	// Errors lists every problem: keys with bad values, missing keys,
	// unknown keys, or (with an empty Field) a file that is not a JSON
	// object.
	Errors []FieldError `json:"errors,omitempty"`
}

// MarshalJSON writes the file with the decoded values under "values", keyed
// by provider file key.
func (p ProviderFile) MarshalJSON() ([]byte, error) {
	type plain ProviderFile
	j := struct {
		plain
		Values map[providers.Field]any `json:"values,omitempty"`
	}{plain: plain(p)}
	if len(p.Fields) > 0 {
		j.Values = make(map[providers.Field]any, len(p.Fields))
		for _, f := range p.Fields {
			j.Values[f] = p.Provider.Value(f)
		}
	}
	return json.Marshal(j)
}

// Valid reports whether a file was found and has no errors.
func (p *ProviderFile) Valid() bool { return p.Status.State == Observed && len(p.Errors) == 0 }

// MarshalJSON writes a field error as {"field", "error"}.
func (e FieldError) MarshalJSON() ([]byte, error) {
	j := struct {
		Field string `json:"field,omitempty"`
		Error string `json:"error"`
	}{Field: e.Field}
	if e.Err != nil {
		j.Error = strings.TrimPrefix(e.Err.Error(), "discovery: ")
	}
	return json.Marshal(j)
}

// HostMeta is the XEP-0156 lookup of alternative connection methods in
// https://<domain>/.well-known/host-meta (XRD) and host-meta.json (JRD).
// Observed when either document was found.
type HostMeta struct {
	// Status is Observed when either document was found; XML and JSON
	// are the two documents.
	Status Status      `json:"status"`
	XML    HostMetaDoc `json:"xml"`
	JSON   HostMetaDoc `json:"json"`
	// WebSocket and BOSH are the endpoints from both documents, without
	// duplicates.
	WebSocket []string `json:"webSocket,omitempty"`
	BOSH      []string `json:"bosh,omitempty"`
}

// HostMetaDoc is one host-meta document.
type HostMetaDoc struct {
	// Status is the outcome of fetching and parsing this document.
	Status Status `json:"status"`
	// URL is the final URL, after redirects.
	URL   string `json:"url,omitempty"`
	Links []Link `json:"links,omitempty"`
	// Problems lists deviations from XEP-0156 that were tolerated, such
	// as an old link relation or a missing namespace.
	Problems []string `json:"problems,omitempty"`
}

// Link is a host-meta link.
type Link struct {
	// Rel and Href are the link's attributes.
	Rel  string `json:"rel"`
	Href string `json:"href"`
	// Method is "websocket" or "bosh" when Rel names one, correctly or
	// with an old or wrong relation that was tolerated, else "".
	Method string `json:"method,omitempty"`
	// Legacy reports that Rel is an old or wrong relation.
	Legacy bool `json:"legacy,omitempty"`
}

// MarshalJSON writes the report as one JSON object; errors are written as
// their messages and durations in milliseconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // no methods: avoids recursion
	j := struct {
		plain
		TookMS float64 `json:"tookMs"`
		Error  string  `json:"error,omitempty"`
	}{plain: plain(r), TookMS: ms(r.Took)}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote. Durations and error messages
// come back (see Status.UnmarshalJSON); errors of attempts and
// certificates do not.
func (r *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	j := struct {
		*plain
		TookMS float64 `json:"tookMs"`
		Error  string  `json:"error"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	r.Took = fromMS(j.TookMS)
	r.Err = errorFromText(j.Error)
	return nil
}

// UnmarshalJSON reads what MarshalJSON wrote, decoding the values into
// Provider again.
func (p *ProviderFile) UnmarshalJSON(b []byte) error {
	type plain ProviderFile
	j := struct {
		*plain
		Values map[providers.Field]json.RawMessage `json:"values"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	p.Provider = providers.Provider{}
	for _, f := range p.Fields {
		if v, ok := j.Values[f]; ok {
			if err := p.Provider.UnmarshalField(f, v); err != nil {
				return fmt.Errorf("discovery: provider file value %s: %w", f, err)
			}
		}
	}
	return nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (e *FieldError) UnmarshalJSON(b []byte) error {
	var j struct {
		Field string `json:"field"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	e.Field = j.Field
	e.Err = nil
	if j.Error != "" {
		// MarshalJSON dropped the "discovery: " prefix; sentinels such as
		// ErrMissingField come back as themselves.
		e.Err = errors.New(j.Error)
		if err := errorFromText("discovery: " + j.Error); isSentinel(err) || isTextError(err) {
			e.Err = err
		}
	}
	return nil
}

func isTextError(err error) bool {
	_, ok := err.(*textError)
	return ok
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if err == s {
			return true
		}
	}
	return false
}
