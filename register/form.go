package register

import (
	"encoding/base64"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"mellium.im/xmpp/jid"

	"github.com/xmpp-onboard/onboard/internal/netguard"
)

// Namespaces and form types of XEP-0077 and XEP-0158.
const (
	// NS is the XEP-0077 query namespace.
	NS = "jabber:iq:register"
	// NSFeature is the stream feature advertising in-band registration.
	NSFeature = "http://jabber.org/features/iq-register"
	// NSIBRToken is the XEP-0445 stream feature for invitation tokens.
	NSIBRToken = "urn:xmpp:ibr-token:0"
	// NSInviteLegacy is the older invitation stream feature (XEP-0401
	// before version 0.5), still sent by Prosody 0.12.
	NSInviteLegacy = "urn:xmpp:invite"
	// FormTypeCaptchaLegacy is the FORM_TYPE older ejabberd versions put on
	// CAPTCHA-protected registration forms. XEP-0158 now says
	// "jabber:iq:register"; this package accepts both (see doc.go
	// # Tolerances).
	FormTypeCaptchaLegacy = "urn:xmpp:captcha"
	// FormTypeChangePassword is the FORM_TYPE of the form a server may send
	// in an error to a password change (XEP-0077 §3.3).
	FormTypeChangePassword = "jabber:iq:register:changepassword"
	// FormTypeCancel is the FORM_TYPE of the form a server may send in an
	// error to an account removal (XEP-0077 §3.2).
	FormTypeCancel = "jabber:iq:register:cancel"
)

// FieldType is a XEP-0004 field type. Legacy XEP-0077 fields are reported as
// TextSingle, except the password, which is TextPrivate.
type FieldType string

// Field types of XEP-0004.
const (
	Boolean     FieldType = "boolean"
	Fixed       FieldType = "fixed"
	Hidden      FieldType = "hidden"
	JIDMulti    FieldType = "jid-multi"
	JIDSingle   FieldType = "jid-single"
	ListMulti   FieldType = "list-multi"
	ListSingle  FieldType = "list-single"
	TextMulti   FieldType = "text-multi"
	TextPrivate FieldType = "text-private"
	TextSingle  FieldType = "text-single"
)

// Option is a choice of a list field.
type Option struct {
	Label string // shown to the user
	Value string // sent
}

// Media is one XEP-0221 media URI of a field (a CAPTCHA image, for
// example): a "cid:" URI for Bits of Binary data, or an http(s) URL.
type Media struct {
	Type string // MIME type as announced
	URI  string // "cid:…" or an https URL
	// Width and Height are the display size the server suggests (the
	// media element's width and height attributes), 0 when not given.
	Width, Height int
}

// Field is one field of a registration form: a data form field, or a
// legacy XEP-0077 element (then Legacy is true and Var is the element name,
// such as "username" or "email").
type Field struct {
	Var      string    // field name ("username", "ocr", …); "" only for fixed fields
	Type     FieldType // TextSingle when the server gave none
	Label    string    // human-readable name, if any
	Desc     string    // longer description, if any
	Required bool      // data forms: marked <required/>
	Values   []string  // current values (as sent by the server, or as set)
	Options  []Option  // choices of list fields
	Media    []Media   // XEP-0221 media (CAPTCHA challenges)
	Legacy   bool      // a legacy XEP-0077 element, not a data form field
}

// Value returns the first value, or "".
func (f *Field) Value() string {
	if len(f.Values) == 0 {
		return ""
	}
	return f.Values[0]
}

// fillable reports whether the user is expected to fill f.
func (f *Field) fillable() bool {
	return f.Var != "" && f.Type != Hidden && f.Type != Fixed
}

// Captcha is a XEP-0158 challenge found in a registration form.
//
// A form may carry several challenges (Form.Captchas), some of them
// required, and ask for a number of answers (Answers); Form.Captcha is the
// one to show first and [Form.NextCaptcha] the next one still to answer.
type Captcha struct {
	// Type is the challenge type, the var of the answer field: "ocr",
	// "qa", "picture_recog", "picture_q", "speech_recog", "speech_q",
	// "audio_recog", "video_recog", "video_q", or a hash name such as
	// "SHA-256" for hashcash.
	Type string
	// Field is the var of the field that takes the answer (the same as
	// Type).
	Field string
	// Label is the field's label: the question for "qa", the hint or
	// hashcash prefix for others.
	Label string
	// Image is the challenge media (an image for "ocr" and
	// "picture_recog"), from Bits of Binary data sent with the form or
	// fetched by its cid; nil when there is none.
	Image []byte
	// MIME is the media type of Image as announced by the server.
	MIME string
	// CID is the Bits of Binary content ID of Image, without "cid:".
	CID string
	// URLs lists https media URLs of the challenge (alternatives to Image,
	// never fetched by this package).
	URLs []string
	// Challenge is the challenge ID (hidden field "challenge").
	Challenge string
	// Answers is the number of challenges to answer (hidden field
	// "answers"); 0 or 1 means one. When it is larger than the number of
	// challenges, every challenge is to be answered.
	Answers int
	// Required is set when the challenge is marked <required/>: it must
	// be answered whatever Answers says (XEP-0158 §3.2).
	Required bool
	// Width and Height are the display size the server suggests for the
	// media (XEP-0221), 0 when not given.
	Width, Height int
	// PlainHTTP reports media offered only over plain http: such links
	// are not offered in URLs (https only), so without an Image the
	// challenge cannot be shown; FallbackURL or another challenge may
	// help.
	PlainHTTP bool
	// Retry is set by the caller that shows the challenge again after the
	// server refused an answer (onboard.Signup does): the number of wrong
	// answers so far on this server, 0 for the first attempt.
	Retry int
	// PreviousError is the server's refusal of the previous answer (an
	// *Error matching ErrCaptchaFailed) when Retry > 0, so that an
	// application can say "wrong, try again"; nil otherwise.
	PreviousError error
	// FallbackURL is a web page where the challenge can be solved
	// instead (ejabberd's "captcha-fallback-url" field), when it is a
	// link that may be offered (https); "" otherwise.
	FallbackURL string
}

// Answered reports whether the answer field of c has a value in f.
func (f *Form) answered(c *Captcha) bool {
	fl := f.Field(c.Field)
	return fl != nil && strings.TrimSpace(strings.Join(fl.Values, "")) != ""
}

// needed is the number of challenges the form asks to answer: at least
// the required ones, Answers (at least one), at most all of them.
func (f *Form) needed() int {
	if len(f.Captchas) == 0 {
		return 0
	}
	n := max(f.Captchas[0].Answers, 1)
	req := 0
	for _, c := range f.Captchas {
		if c.Required {
			req++
		}
	}
	return min(max(n, req), len(f.Captchas))
}

// NextCaptcha returns the next challenge that must still be answered, or
// nil when the answers the form asks for are there: a required challenge
// without an answer first, then, while fewer than Captcha.Answers (at
// least one) challenges are answered, the other unanswered ones, those
// that can be shown (an image, a question) before the others.
func (f *Form) NextCaptcha() *Captcha {
	for _, c := range f.Captchas {
		if c.Required && !f.answered(c) {
			return c
		}
	}
	done := 0
	for _, c := range f.Captchas {
		if f.answered(c) {
			done++
		}
	}
	if done >= f.needed() {
		return nil
	}
	var best *Captcha
	for _, c := range f.Captchas {
		if !f.answered(c) && (best == nil || c.showable() && !best.showable()) {
			best = c
		}
	}
	return best
}

// showable reports whether a person can be shown the challenge: an image
// or an https link to its media, or a question.
func (c *Captcha) showable() bool {
	return len(c.Image) > 0 || len(c.URLs) > 0 || c.Type == "qa"
}

// fallbackField is the var of ejabberd's CAPTCHA fallback link field.
const fallbackField = "captcha-fallback-url"

// Form is the registration form of a server, as one typed view of
// everything the server sent: instructions, the data form or legacy fields,
// a CAPTCHA, and a web registration link.
//
// If the server sent a data form, Fields are its fields and the
// submission is the data form (XEP-0077 §6: a data form wins over legacy
// fields); LegacyFields then lists the legacy fields for information.
// Otherwise Fields are the legacy fields.
type Form struct {
	// Instructions are the instructions of the query (and of the data
	// form, on a new line, if both are present and differ).
	Instructions string
	// Title is the data form's title.
	Title string
	// IsDataForm reports whether Fields come from a XEP-0004 data form.
	IsDataForm bool
	// FormType is the data form's FORM_TYPE, "" without one.
	FormType string
	// Fields are the fields to fill, in server order.
	Fields []Field
	// LegacyFields are the legacy fields when a data form is used too.
	LegacyFields []Field
	// Captcha is the CAPTCHA challenge to show first (the first required
	// one, else the first that can be shown), or nil. It is one of
	// Captchas.
	Captcha *Captcha
	// Captchas are all the XEP-0158 challenges of the form, in server
	// order; see [Form.NextCaptcha] for those still to answer.
	Captchas []*Captcha
	// RedirectURL is an https URL for web registration, from a XEP-0066
	// out-of-band element or, failing that, the instructions; "" when
	// none was offered (non-https URLs are ignored).
	RedirectURL string
	// RedirectRefused reports a web registration link that is not offered
	// in RedirectURL: a XEP-0066 link that is not https, points to a
	// local address or hides its target (bidi and control characters),
	// or only a plain-http link in the instructions.
	RedirectRefused bool
	// RedirectPlainHTTP reports that the refused web registration link
	// is a plain http one (the XEP-0077 examples use them): the server
	// registers on the web, over plain http, which is not offered.
	RedirectPlainHTTP bool
	// Registered is set when the server says the requester is already
	// registered (authenticated queries only).
	Registered bool

	bob      map[string]bobData // cid → data, from the form's <data/> elements
	bobErr   error              // first problem with an inline <data/> element
	bobWant  string             // cid to fetch when not inline
	legacyNS bool               // submission uses legacy fields
}

type bobData struct {
	mime string
	data []byte
}

// Field returns the field named name, or nil.
func (f *Form) Field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Var == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// Set sets the value of the field name (replacing all values). For a
// data form the legacy field of the same name, if any, is set too. It
// returns an error matching ErrFormIncomplete if the form has no such
// field, and refuses values that cannot be sent in XML.
func (f *Form) Set(name, value string) error {
	return f.SetValues(name, value)
}

// SetValues sets the values of a multi-valued field.
func (f *Form) SetValues(name string, values ...string) error {
	for _, v := range values {
		if !xmppconn.ValidString(v) {
			return &Error{Op: opForm, Kind: KindFormIncomplete, Fields: []string{name},
				Err: fmt.Errorf("value of %q is not valid UTF-8 XML text", name)}
		}
	}
	fl := f.Field(name)
	if fl == nil {
		return &Error{Op: opForm, Kind: KindFormIncomplete, Fields: []string{name},
			Err: fmt.Errorf("the form has no field %q", name)}
	}
	if fl.Type == TextMulti {
		values = splitLines(values)
	}
	if err := fl.check(values); err != nil {
		return &Error{Op: opForm, Kind: KindFormIncomplete, Fields: []string{name}, Err: err}
	}
	fl.Values = append([]string(nil), values...)
	for i := range f.LegacyFields {
		if f.LegacyFields[i].Var == name {
			f.LegacyFields[i].Values = append([]string(nil), values...)
		}
	}
	return nil
}

// splitLines splits the values of a text-multi field into lines (XEP-0004
// §3.3: one <value/> per line).
func splitLines(values []string) []string {
	var out []string
	for _, v := range values {
		v = strings.ReplaceAll(v, "\r\n", "\n")
		out = append(out, strings.Split(strings.ReplaceAll(v, "\r", "\n"), "\n")...)
	}
	return out
}

// multi reports whether the field type takes several values (XEP-0004
// §3.3).
func (t FieldType) multi() bool {
	return t == JIDMulti || t == ListMulti || t == TextMulti
}

// check reports why values cannot be the values of fl (XEP-0004 §3.3):
// several values in a single-valued field, a boolean that is not 0, 1,
// true or false, a list value that is not one of the options, an address
// that is not a JID. An empty value is left to Missing.
func (fl *Field) check(values []string) error {
	if len(values) > 1 && !fl.Type.multi() {
		return fmt.Errorf("field %q (%s) takes one value, not %d", fl.Var, fl.Type, len(values))
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		switch fl.Type {
		case Boolean:
			switch v {
			case "0", "1", "true", "false":
			default:
				return fmt.Errorf("field %q is a boolean: 0, 1, true or false, not %q", fl.Var, v)
			}
		case ListSingle, ListMulti:
			if len(fl.Options) > 0 && !fl.hasOption(v) {
				return fmt.Errorf("%q is not one of the options of field %q", v, fl.Var)
			}
		case JIDSingle, JIDMulti:
			if _, err := jid.Parse(v); err != nil {
				return fmt.Errorf("field %q: %q is not an XMPP address: %w", fl.Var, v, err)
			}
		}
	}
	return nil
}

func (fl *Field) hasOption(v string) bool {
	for _, o := range fl.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// invalid returns an *Error of KindFormIncomplete for the first field
// whose values a server cannot accept (see Field.check), or nil. Hidden
// and fixed fields, which are echoed as the server sent them, are not
// checked.
func (f *Form) invalid(op string) error {
	for i := range f.Fields {
		fl := &f.Fields[i]
		if !fl.fillable() {
			continue
		}
		if err := fl.check(fl.Values); err != nil {
			return &Error{Op: op, Kind: KindFormIncomplete, Fields: []string{fl.Var}, Err: err}
		}
	}
	return nil
}

// webOnly is the *Error of KindWebOnly for f.
func (f *Form) webOnly(op string) *Error {
	return &Error{Op: op, Kind: KindWebOnly, RedirectURL: f.RedirectURL, PlainHTTP: f.RedirectURL == "" && f.RedirectPlainHTTP, Form: f}
}

// SetUsername sets the "username" field. It does not normalise the name;
// [Client.Register] does (see [NormalizeUsername]).
func (f *Form) SetUsername(username string) error { return f.Set("username", username) }

// SetPassword sets the "password" field.
func (f *Form) SetPassword(password string) error { return f.Set("password", password) }

// Username returns the value of the "username" field.
func (f *Form) Username() string {
	if fl := f.Field("username"); fl != nil {
		return fl.Value()
	}
	return ""
}

// Password returns the value of the "password" field.
func (f *Form) Password() string {
	if fl := f.Field("password"); fl != nil {
		return fl.Value()
	}
	return ""
}

// Missing returns the fields that must be filled before the form can be
// submitted: required data form fields without a value (hidden and fixed
// fields excepted), or every legacy field without a value (XEP-0077 treats
// all listed legacy fields as required). While fewer CAPTCHA challenges
// are answered than the form asks for (Captcha.Answers, at least one),
// the unanswered challenges are missing too (any of them will do; see
// [Form.NextCaptcha]).
func (f *Form) Missing() []Field {
	short := false
	if n := f.needed(); n > 0 {
		done := 0
		for _, c := range f.Captchas {
			if f.answered(c) {
				done++
			}
		}
		short = done < n
	}
	var out []Field
	for _, fl := range f.Fields {
		if !fl.fillable() || strings.TrimSpace(strings.Join(fl.Values, "")) != "" {
			continue
		}
		if fl.Required || fl.Legacy || short && f.isChallenge(fl.Var) {
			out = append(out, fl)
		}
	}
	return out
}

// isChallenge reports whether v is the answer field of a challenge.
func (f *Form) isChallenge(v string) bool {
	for _, c := range f.Captchas {
		if c.Field == v {
			return true
		}
	}
	return false
}

// WebOnly reports whether the form offers nothing to fill in, only
// instructions and possibly a web registration link (RedirectURL).
func (f *Form) WebOnly() bool {
	for _, fl := range f.Fields {
		if fl.fillable() {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of f.
func (f *Form) Clone() *Form {
	if f == nil {
		return nil
	}
	g := *f
	g.Fields = cloneFields(f.Fields)
	g.LegacyFields = cloneFields(f.LegacyFields)
	g.Captchas = nil
	g.Captcha = nil
	for _, c := range f.Captchas {
		d := *c
		d.Image = append([]byte(nil), c.Image...)
		d.URLs = append([]string(nil), c.URLs...)
		g.Captchas = append(g.Captchas, &d)
		if c == f.Captcha {
			g.Captcha = &d
		}
	}
	if f.Captcha != nil && g.Captcha == nil {
		c := *f.Captcha
		c.Image = append([]byte(nil), f.Captcha.Image...)
		c.URLs = append([]string(nil), f.Captcha.URLs...)
		g.Captcha = &c
	}
	return &g
}

func cloneFields(in []Field) []Field {
	if in == nil {
		return nil
	}
	out := make([]Field, len(in))
	for i, f := range in {
		f.Values = append([]string(nil), f.Values...)
		f.Options = append([]Option(nil), f.Options...)
		f.Media = append([]Media(nil), f.Media...)
		out[i] = f
	}
	return out
}

// String describes the form without values of secret fields (value
// receiver, so printing a Form value is safe too).
func (f Form) String() string {
	var b strings.Builder
	kind := "legacy"
	if f.IsDataForm {
		kind = "data form " + f.FormType
	}
	fmt.Fprintf(&b, "register.Form{%s;", kind)
	for _, fl := range f.Fields {
		v := fmt.Sprintf("%q", fl.Values)
		if xmppconn.SecretField(fl.Var, string(fl.Type)) && len(fl.Values) > 0 {
			v = redactedStr
		}
		fmt.Fprintf(&b, " %s(%s)=%s", fl.Var, fl.Type, v)
	}
	if f.Captcha != nil {
		fmt.Fprintf(&b, "; captcha %s %s %d bytes", f.Captcha.Type, f.Captcha.MIME, len(f.Captcha.Image))
	}
	if f.RedirectURL != "" {
		fmt.Fprintf(&b, "; redirect %s", f.RedirectURL)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v hides passwords too.
func (f Form) GoString() string { return f.String() }

// legacyNames are the XEP-0077 legacy field elements (§14 schema), with
// labels for applications that show legacy fields.
var legacyLabels = map[string]string{
	"username": "Username", "nick": "Nickname", "password": "Password",
	"name": "Full name", "first": "Given name", "last": "Family name",
	"email": "E-mail", "address": "Address", "city": "City", "state": "State",
	"zip": "Postal code", "phone": "Phone", "url": "URL", "date": "Date",
	"misc": "Miscellaneous", "text": "Text", "key": "Key",
}

// captchaTypes are the XEP-0158 challenge field vars (besides hash names).
var captchaTypes = map[string]bool{
	"audio_recog": true, "ocr": true, "picture_q": true, "picture_recog": true,
	"qa": true, "speech_q": true, "speech_recog": true, "video_q": true,
	"video_recog": true,
}

// IsCaptchaVar reports whether v names a XEP-0158 challenge field: one of
// the challenge types ("ocr", "qa", …) or a hashcash hash name
// ("SHA-256", …).
func IsCaptchaVar(v string) bool {
	if captchaTypes[v] {
		return true
	}
	switch v {
	case "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-512":
		return true
	}
	return false
}

// parseQuery builds a Form from a <query xmlns='jabber:iq:register'/>
// element. Inline Bits of Binary data are decoded (at most MaxBoBSize
// bytes each); problems with them are kept for the caller, who may still
// fetch the image by cid.
func parseQuery(q *node) (*Form, error) {
	if !q.Is(NS, "query") {
		return nil, &ProtocolError{Msg: fmt.Sprintf("expected a %s query, got <%s xmlns='%s'>", NS, q.Name.Local, q.Name.Space)}
	}
	f := &Form{}
	var instr []string
	var legacy []Field
	var xform *node
	var oobURL string
	nfields := 0
	for _, k := range q.Children {
		switch {
		case k.Name.Space == NS:
			switch k.Name.Local {
			case "instructions":
				if s := strings.TrimSpace(k.Text); s != "" {
					instr = append(instr, s)
				}
			case "registered":
				f.Registered = true
			case "remove":
			default:
				nfields++
				if nfields > MaxFields {
					return nil, &limitError{what: fmt.Sprintf("more than %d form fields", MaxFields)}
				}
				fl := Field{Var: k.Name.Local, Type: TextSingle, Legacy: true, Label: legacyLabels[k.Name.Local]}
				if k.Name.Local == "password" || xmppconn.IsPasswordName(k.Name.Local) {
					fl.Type = TextPrivate
				}
				if k.Name.Local == "key" {
					// Obsolete transaction key: echo it back unchanged.
					fl.Type = Hidden
				}
				if v := k.Text; v != "" && k.Name.Local != "password" {
					fl.Values = []string{v}
				}
				if dup(legacy, fl.Var) {
					continue
				}
				legacy = append(legacy, fl)
			}
		case k.Is(nsData, "x"):
			// Only a form is filled in (XEP-0004 §3.1): a result (the
			// registration on file), an echoed submission or a
			// cancellation is not.
			if t := k.Get("type"); xform == nil && (t == "form" || t == "") {
				xform = k
			}
		case k.Is(nsOOB, "x"):
			if u := k.Child(nsOOB, "url"); u != nil && oobURL == "" {
				oobURL = strings.TrimSpace(u.Text)
			}
		case k.Is(nsBoB, "data"):
			f.addBoB(k)
		}
	}
	if xform != nil {
		df, err := parseDataForm(xform, MaxFields-nfields)
		if err != nil {
			return nil, err
		}
		// The data form takes precedence over the legacy fields,
		// whatever its FORM_TYPE (XEP-0077 §6, §7): a form of a type this
		// package does not know still says what the server requires.
		f.IsDataForm = true
		f.FormType = df.FormType
		f.Title = df.Title
		f.Fields = df.Fields
		f.LegacyFields = legacy
		if df.Instructions != "" && !contains(instr, df.Instructions) {
			instr = append(instr, df.Instructions)
		}
	} else {
		f.Fields = legacy
	}
	f.legacyNS = !f.IsDataForm
	f.Instructions = strings.Join(instr, "\n")
	f.RedirectURL = httpsURL(oobURL)
	f.RedirectRefused = oobURL != "" && f.RedirectURL == ""
	f.RedirectPlainHTTP = f.RedirectRefused && plainHTTP(oobURL)
	if f.RedirectURL == "" {
		f.RedirectURL = findHTTPS(f.Instructions)
		lower := strings.ToLower(f.Instructions)
		f.RedirectRefused = f.RedirectRefused || f.RedirectURL == "" && (strings.Contains(lower, "http://") || strings.Contains(lower, "https://"))
		f.RedirectPlainHTTP = f.RedirectPlainHTTP || f.RedirectURL == "" && strings.Contains(lower, "http://")
	}
	f.findCaptcha()
	return f, nil
}

// plainHTTP reports whether s is a plain http URL.
func plainHTTP(s string) bool {
	return len(s) > 7 && strings.EqualFold(s[:7], "http://")
}

// ParseForm reads a registration form: the <query xmlns='jabber:iq:register'/>
// element a server sends in reply to a form request (XEP-0077 §3.1), with
// the limits of a stream (DefaultMaxStanza bytes). It is the form model
// Conn.Form returns, for applications that fetch the form on a stream of
// their own; a CAPTCHA image is taken from inline Bits of Binary data only.
func ParseForm(query []byte) (*Form, error) {
	q, err := parseNode(query, DefaultMaxStanza)
	if err != nil {
		return nil, err
	}
	return parseQuery(q)
}

func dup(fields []Field, v string) bool {
	for _, f := range fields {
		if f.Var == v {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseDataForm parses a XEP-0004 form leniently: <reported>, <item>,
// <validate> and unknown children are ignored; a field without a type is
// text-single; a field without var is kept only if it is fixed; later
// fields with an already used var are dropped.
func parseDataForm(x *node, max int) (*Form, error) {
	d, err := xmppconn.ParseDataForm(x, xmppconn.DataLimits{Fields: max, Values: maxValues})
	if err != nil {
		return nil, fromCore(err)
	}
	f := &Form{IsDataForm: true, Title: d.Title, Instructions: strings.Join(d.Instructions, "\n"), FormType: d.FormType}
	for _, df := range d.Fields {
		fl := fieldOf(df)
		if fl.Var == "FORM_TYPE" {
			fl.Type = Hidden
		}
		if fl.Var == "" && fl.Type != Fixed {
			continue
		}
		if fl.Var != "" && dup(f.Fields, fl.Var) {
			continue
		}
		f.Fields = append(f.Fields, fl)
	}
	return f, nil
}

// fieldOf is register's Field for a data form field (text-single when
// the type is missing, XEP-0004 §3.3).
func fieldOf(d xmppconn.DataField) Field {
	fl := Field{Var: d.Var, Type: FieldType(d.Type), Label: d.Label, Desc: d.Desc, Required: d.Required, Values: d.Values}
	if fl.Type == "" {
		fl.Type = TextSingle
	}
	for _, o := range d.Options {
		fl.Options = append(fl.Options, Option{Label: o.Label, Value: o.Value})
	}
	for _, m := range d.Media {
		fl.Media = append(fl.Media, Media{Type: m.Type, URI: m.URI, Width: m.Width, Height: m.Height})
	}
	return fl
}

// addBoB records an inline Bits of Binary element.
func (f *Form) addBoB(k *node) {
	cid := strings.TrimSpace(k.Get("cid"))
	if cid == "" {
		return
	}
	data, err := decodeBoB(k.Text)
	if err != nil {
		if f.bobErr == nil {
			f.bobErr = err
		}
		return
	}
	if f.bob == nil {
		f.bob = make(map[string]bobData)
	}
	if _, ok := f.bob[cid]; !ok && len(f.bob) < 16 {
		f.bob[cid] = bobData{mime: strings.TrimSpace(k.Get("type")), data: data}
	}
}

// decodeBoB decodes base64 BoB content (whitespace tolerated), refusing
// more than MaxBoBSize decoded bytes before decoding.
func decodeBoB(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if base64.StdEncoding.DecodedLen(len(s)) > MaxBoBSize+2 {
		return nil, &limitError{what: fmt.Sprintf("a CAPTCHA image larger than %d bytes", MaxBoBSize)}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, &ProtocolError{Msg: "invalid base64 in Bits of Binary data", Err: err}
	}
	if len(b) > MaxBoBSize {
		return nil, &limitError{what: fmt.Sprintf("a CAPTCHA image larger than %d bytes", MaxBoBSize)}
	}
	if len(b) == 0 {
		return nil, &ProtocolError{Msg: "empty Bits of Binary data"}
	}
	return b, nil
}

// findCaptcha fills f.Captchas from the challenge fields, and f.Captcha
// with the one to show first: the first required one, else the first that
// can be shown, else the first.
func (f *Form) findCaptcha() {
	if !f.IsDataForm {
		return
	}
	var challenge, fallback string
	answers := 0
	if ch := f.Field("challenge"); ch != nil {
		challenge = ch.Value()
	}
	if a := f.Field("answers"); a != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(a.Value())); err == nil && n > 0 {
			answers = min(n, MaxFields)
		}
	}
	if fb := f.Field(fallbackField); fb != nil {
		fallback = httpsURL(fb.Value())
	}
	for _, fl := range f.Fields {
		if !IsCaptchaVar(fl.Var) || fl.Type == Hidden || fl.Type == Fixed {
			continue
		}
		c := &Captcha{Type: fl.Var, Field: fl.Var, Label: fl.Label, Required: fl.Required,
			Challenge: challenge, Answers: answers, FallbackURL: fallback}
		for _, m := range fl.Media {
			if c.Width == 0 && c.Height == 0 {
				c.Width, c.Height = m.Width, m.Height
			}
			switch {
			case strings.HasPrefix(m.URI, "cid:"):
				cid := strings.TrimPrefix(m.URI, "cid:")
				if c.CID != "" {
					continue
				}
				c.CID, c.MIME = cid, m.Type
				if d, ok := f.bob[cid]; ok {
					c.Image = d.data
					if c.MIME == "" {
						c.MIME = d.mime
					}
				}
			default:
				if u := httpsURL(m.URI); u != "" {
					c.URLs = append(c.URLs, u)
				}
			}
		}
		f.Captchas = append(f.Captchas, c)
	}
	if len(f.Captchas) == 0 {
		return
	}
	if len(f.Captchas) == 1 {
		if c := f.Captchas[0]; c.Image == nil && c.CID == "" && len(f.bob) == 1 {
			// A server that sends one image but forgets the media element.
			for cid, d := range f.bob {
				c.CID, c.MIME, c.Image = cid, d.mime, d.data
			}
		}
	}
	for _, c := range f.Captchas {
		if c.Required {
			f.Captcha = c
			break
		}
	}
	if f.Captcha == nil {
		for _, c := range f.Captchas {
			if c.showable() || c.CID != "" {
				f.Captcha = c
				break
			}
		}
	}
	if f.Captcha == nil {
		f.Captcha = f.Captchas[0]
	}
	for _, c := range f.Captchas {
		// Set after the choice: media over plain http only.
		c.PlainHTTP = c.Image == nil && c.CID == "" && len(c.URLs) == 0 && f.hasPlainMedia(c.Field)
	}
	// The image fetched by cid (XEP-0231 §3) when it was not sent with the
	// form: the first challenge's, else another's.
	for _, c := range append([]*Captcha{f.Captcha}, f.Captchas...) {
		if c.Image == nil && c.CID != "" {
			f.bobWant = c.CID
			break
		}
	}
}

// bobTarget returns the challenge whose image is fetched by cid
// (bobWant), else the first challenge; nil without challenges.
func (f *Form) bobTarget() *Captcha {
	for _, c := range f.Captchas {
		if f.bobWant != "" && c.CID == f.bobWant {
			return c
		}
	}
	return f.Captcha
}

// hasPlainMedia reports whether the field has a plain http media URI.
func (f *Form) hasPlainMedia(v string) bool {
	if fl := f.Field(v); fl != nil {
		for _, m := range fl.Media {
			if plainHTTP(m.URI) {
				return true
			}
		}
	}
	return false
}

// httpsURL returns s if it is a link that may be offered to a person
// ([netguard.HTTPSLink]: absolute https, a public host, no user
// information, no control or bidi characters), else "".
func httpsURL(s string) string {
	u, _ := netguard.HTTPSLink(s)
	return u
}

// findHTTPS returns the first https URL in free text, without trailing
// punctuation, or "".
func findHTTPS(text string) string {
	lower := strings.ToLower(text)
	for i := 0; i < len(lower); {
		j := strings.Index(lower[i:], "https://")
		if j < 0 {
			return ""
		}
		start := i + j
		end := start
		for end < len(text) && text[end] > ' ' && text[end] != '<' && text[end] != '>' && text[end] != '"' && text[end] != '\'' {
			end++
		}
		cand := strings.TrimRight(text[start:end], ".,;:!?)]}")
		if u := httpsURL(cand); u != "" {
			return u
		}
		i = end
		if i == start {
			i++
		}
	}
	return ""
}

// submission returns the <query/> to send for f: the completed data form
// (type submit, every field with a var echoed with its values, no labels
// or options), or the legacy fields.
func (f *Form) submission() *node {
	q := newNode(NS, "query")
	if !f.IsDataForm {
		for _, fl := range f.Fields {
			q.Add(newNode(NS, fl.Var).WithText(fl.Value()))
		}
		return q
	}
	x := newNode(nsData, "x", "type", "submit")
	for _, fl := range f.Fields {
		if fl.Var == "" || fl.Type == Fixed {
			continue
		}
		fn := newNode(nsData, "field", "var", fl.Var)
		if fl.Type == TextPrivate {
			// Keep the type so that redaction recognises the field even
			// when its var does not say "password".
			fn.Attr = append(fn.Attr, attrOf("type", string(TextPrivate)))
		}
		for _, v := range fl.Values {
			fn.Add(newNode(nsData, "value").WithText(v))
		}
		x.Add(fn)
	}
	return q.Add(x)
}

// secrets returns the values of the form's secret fields.
func (f *Form) secrets() []string {
	var out []string
	for _, fl := range append(append([]Field(nil), f.Fields...), f.LegacyFields...) {
		if xmppconn.SecretField(fl.Var, string(fl.Type)) {
			out = append(out, fl.Values...)
		}
	}
	return out
}

// scrubSecrets replaces every occurrence of the secrets in the texts of
// a form the server sent after they were sent (a form in an error), so
// that printing it never shows them, whatever field a server echoes them
// in.
func (f *Form) scrubSecrets(secrets ...string) {
	if len(secrets) == 0 {
		return
	}
	s := func(p *string) { *p = scrub(*p, secrets...) }
	fields := func(fs []Field) {
		for i := range fs {
			fl := &fs[i]
			s(&fl.Var)
			s(&fl.Label)
			s(&fl.Desc)
			for j := range fl.Values {
				s(&fl.Values[j])
			}
			for j := range fl.Options {
				s(&fl.Options[j].Label)
				s(&fl.Options[j].Value)
			}
			for j := range fl.Media {
				s(&fl.Media[j].URI)
			}
		}
	}
	s(&f.Instructions)
	s(&f.Title)
	s(&f.FormType)
	s(&f.RedirectURL)
	fields(f.Fields)
	fields(f.LegacyFields)
	cs := f.Captchas
	if f.Captcha != nil && !slices.Contains(cs, f.Captcha) {
		cs = append(cs, f.Captcha)
	}
	for _, cp := range cs {
		s(&cp.Type)
		s(&cp.Field)
		s(&cp.Label)
		s(&cp.Challenge)
		for j := range cp.URLs {
			s(&cp.URLs[j])
		}
	}
}
