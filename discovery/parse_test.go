package discovery

import (
	"errors"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard/providers"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustElement(t testing.TB, name string) *node {
	t.Helper()
	n, err := parseElement(readTestdata(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

func TestParseFeatures(t *testing.T) {
	f := parseFeatures(mustElement(t, "xmpp/features-prosody-plain.xml"))
	if !f.StartTLS || !f.StartTLSRequired || len(f.Mechanisms) != 0 || f.Register {
		t.Errorf("plain features = %+v", f)
	}

	f = parseFeatures(mustElement(t, "xmpp/features-prosody-tls.xml"))
	if f.StartTLS || !f.Register || f.InviteToken || !reflect.DeepEqual(f.Mechanisms, []string{"SCRAM-SHA-1", "PLAIN"}) {
		t.Errorf("tls features = %+v", f)
	}
	if got := f.ChannelBindingMechanisms(); got != nil {
		t.Errorf("ChannelBindingMechanisms = %v, want none", got)
	}

	f = parseFeatures(mustElement(t, "xmpp/features-invite.xml"))
	if !f.Register || !f.InviteToken || len(f.Advertised) != 4 {
		t.Errorf("invite features = %+v", f)
	}

	f = parseFeatures(mustElement(t, "xmpp/features-modern.xml"))
	want := &Features{
		Advertised: []Name{
			{nsSASL, "mechanisms"}, {nsSASL2, "authentication"}, {nsSASLCB, "sasl-channel-binding"},
			{nsCaps, "c"}, {nsLimits, "limits"}, {nsCompress, "compression"},
		},
		Mechanisms:       []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1"},
		SASL2:            []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"},
		SASL2Inline:      []Name{{nsBind2, "bind"}, {nsSM, "sm"}, {"urn:xmpp:fast:0", "fast"}},
		Bind2:            true,
		StreamManagement: true,
		ChannelBindings:  []string{"tls-server-end-point", "tls-exporter"},
		FAST:             []string{"HT-SHA-256-NONE"},
		Compression:      []string{"zlib"},
		Caps:             &Caps{Hash: "sha-1", Node: "http://prosody.im", Ver: "abcdef="},
		Limits:           &Limits{MaxBytes: 262144, IdleSeconds: 840},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("modern features:\n got %+v\nwant %+v", f, want)
	}
	if !f.SMInline() {
		t.Error("SMInline: stream management is inline in SASL2")
	}
	if got := f.ChannelBindingMechanisms(); !reflect.DeepEqual(got, []string{"SCRAM-SHA-256-PLUS"}) {
		t.Errorf("ChannelBindingMechanisms = %v", got)
	}
	if !f.Has(nsSASL2, "") || f.Has(nsSM, "sm") {
		t.Error("Has: the inline sm is not a top-level feature")
	}

	f = parseFeatures(mustElement(t, "xmpp/features-authed.xml"))
	if !f.Bind || !f.StreamManagement || !f.CSI || f.Register {
		t.Errorf("authed features = %+v", f)
	}
}

func TestParseRegister(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Registration
	}{{
		file: "register-prosody.xml",
		want: Registration{Kind: RegistrationOpen, Legacy: true, DataForm: true,
			Fields: []string{"username", "password", "email"}, Required: []string{"username", "password", "email"},
			EmailRequired: true, Instructions: "Choose a username and password for use with this service."},
	}, {
		file: "register-ejabberd.xml",
		want: Registration{Kind: RegistrationOpen, Legacy: true,
			Fields: []string{"username", "password"}, Required: []string{"username", "password"},
			Instructions: "Choose a username and password to register with this server"},
	}, {
		file: "register-ejabberd-captcha.xml",
		want: Registration{Kind: RegistrationOpen, DataForm: true, CAPTCHA: true,
			Challenges: []string{"captcha-fallback-url", "ocr"},
			Fields:     []string{"username", "password"}, Required: []string{"username", "password"},
			Instructions: "You need a client that supports x:data and CAPTCHA to register\nChoose a username and password to register with this server"},
	}, {
		file: "register-redirect.xml",
		want: Registration{Kind: RegistrationWeb, URL: "https://example.org/register",
			Instructions: "To register, visit https://example.org/register"},
	}, {
		file: "register-redirect-http.xml",
		want: Registration{Kind: RegistrationWeb, Status: Status{Reason: "registration URL is not https; ignored"},
			Instructions: "To register, visit http://example.org/register"},
	}, {
		file: "register-instructions-url.xml",
		want: Registration{Kind: RegistrationWeb, URL: "https://example.org/signup",
			Instructions: "Sign up on our website: https://example.org/signup."},
	}} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseRegister(mustElement(t, "xmpp/"+tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRegistrationFrom(t *testing.T) {
	q := mustElement(t, "xmpp/register-prosody.xml")
	inv := parseFeatures(mustElement(t, "xmpp/features-invite.xml"))
	r := registrationFrom(iqResult{payload: q}, inv)
	if r.Kind != RegistrationInvite || r.Status.State != Observed || !r.InviteToken || !r.Advertised {
		t.Errorf("invite: %+v", r)
	}
	r = registrationFrom(iqResult{payload: q}, &Features{})
	if r.Kind != RegistrationClosed || r.Status.State != Absent || !strings.Contains(r.Status.Reason, "not advertised") || !r.EmailRequired {
		t.Errorf("not advertised: %+v", r)
	}
	refusal := &IQError{Query: "register", Err: stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}}
	r = registrationFrom(iqResult{err: refusal}, &Features{})
	if r.Kind != RegistrationClosed || r.Status.State != Absent || !errors.Is(r.Status.Err, stanza.Error{Condition: stanza.ServiceUnavailable}) {
		t.Errorf("closed: %+v", r)
	}
	r = registrationFrom(iqResult{err: ErrStreamClosed}, &Features{Register: true})
	if r.Kind != RegistrationUnknown || r.Status.State != Unknown || !errors.Is(r.Status.Err, ErrStreamClosed) {
		t.Errorf("no answer: %+v", r)
	}
	r = registrationFrom(iqResult{payload: mustElement(t, "xmpp/version.xml")}, &Features{Register: true})
	if r.Status.State != Unknown || !errors.Is(r.Status.Err, ErrProtocol) {
		t.Errorf("wrong payload: %+v", r)
	}
}

func TestParseInfoAndContacts(t *testing.T) {
	in := infoFrom(iqResult{payload: mustElement(t, "xmpp/disco-info-prosody.xml")}, false, Status{})
	if in.Status.State != Observed || !in.HasIdentity("server", "im") || !in.HasFeature("jabber:iq:version") || len(in.Forms) != 1 {
		t.Fatalf("info = %+v", in)
	}
	c := contactsFrom(&in, "")
	want := Contacts{
		Status:      in.Status,
		Abuse:       []string{"mailto:abuse@localhost"},
		Support:     []string{"xmpp:support@localhost", "mailto:support@localhost", "xmpp:help@conference.localhost?join"},
		StatusPages: []string{"https://status.localhost/"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("contacts:\n got %+v\nwant %+v", c, want)
	}

	up := infoFrom(iqResult{payload: mustElement(t, "xmpp/disco-info-upload.xml")}, true, Status{})
	if ok, size := uploadFromInfo(&up); !ok || size != 10485760 {
		t.Errorf("upload = %v %d", ok, size)
	}
	if up.Status.Reason != "observed with an account" {
		t.Errorf("reason = %q", up.Status.Reason)
	}
	if c := contactsFrom(&up, ""); c.Status.State != Absent {
		t.Errorf("contacts of a service without a form: %+v", c.Status)
	}

	// A form with <reported/> (which mellium's form package rejects) is
	// read without error.
	muc := infoFrom(iqResult{payload: mustElement(t, "xmpp/disco-info-reported.xml")}, false, Status{})
	if muc.Status.State != Observed || !muc.HasIdentity("conference", "text") {
		t.Errorf("muc = %+v", muc)
	}
}

func TestRefused(t *testing.T) {
	iqe := &IQError{Query: "disco#info", Err: stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}}
	st := refused(iqResult{err: iqe}, false, "x")
	if st.State != Unknown || !errors.Is(st.Err, ErrNeedsAccount) || !errors.Is(st.Err, stanza.Error{Condition: stanza.ServiceUnavailable}) {
		t.Errorf("unauthenticated refusal: %+v", st)
	}
	se := parseStreamError(mustElement(t, "xmpp/stream-error.xml"))
	st = refused(iqResult{err: se}, false, "x")
	if !errors.Is(st.Err, ErrNeedsAccount) || !errors.Is(st.Err, stream.NotAuthorized) {
		t.Errorf("stream error refusal: %+v", st)
	}
	if se.Error() != "discovery: stream error: not-authorized: Use of STARTTLS required" {
		t.Errorf("stream error text = %q", se.Error())
	}
	st = refused(iqResult{err: iqe}, true, "x")
	if st.State != Absent {
		t.Errorf("authenticated service-unavailable: %+v", st)
	}
	st = refused(iqResult{err: &IQError{Err: stanza.Error{Condition: stanza.Forbidden}}}, true, "x")
	if st.State != Unknown {
		t.Errorf("authenticated forbidden: %+v", st)
	}
}

func TestParseStanzaError(t *testing.T) {
	e := parseStanzaError(mustElement(t, "xmpp/iq-error.xml"))
	if e.Type != stanza.Cancel || e.Condition != stanza.ServiceUnavailable || e.Text[""] != "No module is handling this query" {
		t.Errorf("error = %+v", e)
	}
	err := error(&IQError{Query: "version", Err: e})
	if err.Error() != "discovery: version: cancel/service-unavailable: No module is handling this query" {
		t.Errorf("message = %q", err.Error())
	}
}

func TestParseItemsVersion(t *testing.T) {
	items := parseItems(mustElement(t, "xmpp/disco-items.xml"))
	if len(items) != 3 || items[0].JID != "upload.localhost" || items[0].Name != "HTTP File Upload" || items[2].JID != "proxy.localhost" {
		t.Errorf("items = %+v", items)
	}
	v := parseVersion(mustElement(t, "xmpp/version.xml"))
	if v.Name != "Prosody" || v.Version != "0.12.3" || v.OS != "Linux" {
		t.Errorf("version = %+v", v)
	}
}

func TestDecodeNodeLimits(t *testing.T) {
	deep := strings.Repeat("<a>", xmppconn.MaxDepth+5) + strings.Repeat("</a>", xmppconn.MaxDepth+5)
	if _, err := parseElement([]byte(deep)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("deep: err = %v", err)
	}
	wide := "<a>" + strings.Repeat("<b/>", xmppconn.MaxElements+1) + "</a>"
	if _, err := parseElement([]byte(wide)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("wide: err = %v", err)
	}
	many := "<query xmlns='" + nsDiscoInfo + "'>" + strings.Repeat("<feature var='x'/><feature var='y'/>", 10) +
		strings.Repeat("<identity category='c' type='t'/>", maxListItems+10) + "</query>"
	n, err := parseElement([]byte(many))
	if err != nil {
		t.Fatal(err)
	}
	in := parseInfo(n)
	if len(in.Identities) != maxListItems || len(in.Features) != 2 {
		t.Errorf("identities %d (want %d), features %v", len(in.Identities), maxListItems, in.Features)
	}
}

func TestParseProviderFile(t *testing.T) {
	p, fields, errs := parseProviderFile(readTestdata(t, "providerfile/valid.json"))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if !reflect.DeepEqual(fields, providers.ProviderFileFields()) {
		t.Errorf("fields = %v", fields)
	}
	if p.BusFactor != 2 || p.Organization != providers.OrganizationNonGovernmental || p.UploadTotalSize != 1000 ||
		p.UploadStorageTime != 30 || !p.ArchiveStorageTime.Unlimited() || p.Website["de"] != "https://example.org/de" ||
		!reflect.DeepEqual(p.ServerLocations, []string{"de", "fr"}) || p.Since.String() != "2020-01-15" ||
		!reflect.DeepEqual(p.AlternativeJIDs, []string{"example.net"}) {
		t.Errorf("provider = %+v", p)
	}

	_, fields, errs = parseProviderFile(readTestdata(t, "providerfile/mistakes.json"))
	got := map[string]error{}
	for _, e := range errs {
		got[e.Field] = e.Err
	}
	for _, k := range []string{"website", "busFactor", "organization", "serverTesting", "maximumHttpFileUploadTotalSize",
		"maximumHttpFileUploadStorageTime", "serverLocations", "since"} {
		if got[k] == nil {
			t.Errorf("no error for %s", k)
		}
	}
	if !errors.Is(got["inBandRegistration"], ErrUnknownField) {
		t.Errorf("inBandRegistration: %v", got["inBandRegistration"])
	}
	if !errors.Is(got["maximumMessageArchiveManagementStorageTime"], ErrMissingField) {
		t.Errorf("missing key: %v", got["maximumMessageArchiveManagementStorageTime"])
	}
	if got["freeOfCharge"] == nil || !strings.Contains(got["freeOfCharge"].Error(), "duplicate") {
		t.Errorf("duplicate key: %v", got["freeOfCharge"])
	}
	wantFields := []providers.Field{providers.FieldAlternativeJIDs, providers.FieldPasswordReset,
		providers.FieldProfessionalHosting, providers.FieldFreeOfCharge, providers.FieldLegalNotice}
	if !reflect.DeepEqual(fields, wantFields) {
		t.Errorf("valid fields = %v, want %v", fields, wantFields)
	}
	msg := (&FieldError{Field: "busFactor", Err: ErrMissingField}).Error()
	if msg != `discovery: provider file: key "busFactor": missing key` {
		t.Errorf("message = %q", msg)
	}

	for _, name := range []string{"array.json", "truncated.json", "trailing.json"} {
		_, _, errs := parseProviderFile(readTestdata(t, "providerfile/"+name))
		whole := false
		for _, e := range errs {
			if e.Field == "" {
				whole = true
			}
		}
		if !whole {
			t.Errorf("%s: no error about the whole file: %v", name, errs)
		}
	}
}

func TestParseHostMeta(t *testing.T) {
	links, problems, err := parseHostMetaXML(readTestdata(t, "hostmeta/prosody.xml"))
	if err != nil || len(problems) != 0 || len(links) != 2 || links[0].Method != "bosh" || links[1].Method != "websocket" || links[0].Legacy {
		t.Errorf("prosody.xml: %+v %v %v", links, problems, err)
	}
	links, problems, err = parseHostMetaXML(readTestdata(t, "hostmeta/legacy.xml"))
	if err != nil || len(links) != 3 || !links[0].Legacy || links[0].Method != "bosh" || links[1].Method != "websocket" || links[2].Method != "" || len(problems) != 2 {
		t.Errorf("legacy.xml: %+v %v %v", links, problems, err)
	}
	links, problems, err = parseHostMetaXML(readTestdata(t, "hostmeta/nonamespace.xml"))
	if err != nil || len(links) != 2 || len(problems) != 3 {
		t.Errorf("nonamespace.xml: %+v %q %v", links, problems, err)
	}
	if _, _, err := parseHostMetaXML([]byte("<html><body>hi</body></html>")); !errors.Is(err, ErrProtocol) {
		t.Errorf("html: %v", err)
	}

	links, problems, err = parseHostMetaJSON(readTestdata(t, "hostmeta/prosody.json"))
	if err != nil || len(problems) != 0 || len(links) != 2 || links[1].Href != "wss://example.org:5281/xmpp-websocket" {
		t.Errorf("prosody.json: %+v %v %v", links, problems, err)
	}
	links, problems, err = parseHostMetaJSON(readTestdata(t, "hostmeta/legacy.json"))
	if err != nil || len(links) != 2 || !links[0].Legacy || !links[1].Legacy || links[1].Method != "bosh" || len(problems) != 4 {
		t.Errorf("legacy.json: %+v %q %v", links, problems, err)
	}
	if _, _, err := parseHostMetaJSON([]byte(`{"links": "x"}`)); !errors.Is(err, ErrProtocol) {
		t.Errorf("bad json: %v", err)
	}
}
