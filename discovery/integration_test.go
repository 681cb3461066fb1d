package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/providers"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"
)

// serverProber probes srv over loopback, XMPP only.
func serverProber(srv *testserver.Server) *Prober {
	p := &Prober{
		TLSConfig: srv.TLSConfig(),
		Addrs:     map[string]string{},
		Skip:      PartHTTP,
		Timeout:   20 * time.Second,
	}
	for _, h := range srv.Hosts {
		p.Addrs[h] = srv.Addr
	}
	if srv.DirectTLSAddr != "" {
		p.DirectTLSAddrs = map[string]string{srv.Domain: srv.DirectTLSAddr}
	}
	return p
}

func mustProbe(t *testing.T, p *Prober, domain string) Report {
	t.Helper()
	r, err := p.Probe(context.Background(), domain)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProsody(t *testing.T) {
	t.Parallel()
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{
		DirectTLS: true,
		ContactInfo: map[string][]string{
			"abuse":    {"mailto:abuse@localhost"},
			"support":  {"xmpp:support@localhost", "mailto:support@localhost", "xmpp:help@conference.localhost?join"},
			"security": {"mailto:security@localhost"},
		},
		HTTPUpload:   10 << 20,
		ExtraModules: []string{"version", "smacks", "csi_simple"},
		LogLevel:     "info",
	})
	const password = "correct horse battery staple"
	srv.AddUser(t, "alice", password)
	p := serverProber(srv)

	t.Run("unauthenticated", func(t *testing.T) {
		r := mustProbe(t, p, srv.Domain)
		if r.StartTLS.Status.State != Observed || r.DirectTLS.Status.State != Observed {
			t.Fatalf("StartTLS %v, DirectTLS %v", r.StartTLS.Status, r.DirectTLS.Status)
		}
		if f := r.StartTLS.FeaturesBeforeTLS; !f.StartTLS || !f.StartTLSRequired || f.Register || len(f.Mechanisms) != 0 {
			t.Errorf("features before TLS = %+v", f)
		}
		for _, c := range []Connection{r.StartTLS, r.DirectTLS} {
			f := c.Features
			if !f.Register || f.InviteToken || !slices.Contains(f.Mechanisms, "SCRAM-SHA-1") || f.StreamManagement {
				t.Errorf("%s: features after TLS = %+v", c.Addr, f)
			}
			if c.TLS.Version < 0x0303 || !c.TLS.Certificate.Valid || c.StreamFrom != srv.Domain ||
				!slices.Contains(c.TLS.Certificate.DNSNames, srv.Domain) {
				t.Errorf("%s: TLS = %+v", c.Addr, c.TLS)
			}
		}
		if r.DirectTLS.Addr != srv.DirectTLSAddr || r.StartTLS.Addr != srv.Addr {
			t.Errorf("addresses %s %s", r.StartTLS.Addr, r.DirectTLS.Addr)
		}
		reg := r.Registration
		want := Registration{Status: reg.Status, Kind: RegistrationOpen, Advertised: true, Legacy: true, DataForm: true,
			Fields: []string{"username", "password"}, Required: []string{"username", "password"},
			Instructions: "Choose a username and password for use with this service."}
		if reg.Status.State != Observed || !reflect.DeepEqual(reg, want) {
			t.Errorf("registration:\n got %+v\nwant %+v", reg, want)
		}
		// Prosody 0.12 answers nothing else without an account.
		for name, st := range map[string]Status{"info": r.ServerInfo.Status, "contacts": r.Contacts.Status,
			"software": r.Software.Status, "services": r.Services.Status, "upload": r.Upload.Status} {
			if st.State != Unknown || st.Reason != "needs an account" || !errors.Is(st.Err, ErrNeedsAccount) ||
				!errors.Is(st.Err, stanza.Error{Condition: stanza.ServiceUnavailable}) {
				t.Errorf("%s = %v (%v)", name, st, st.Err)
			}
		}
		if !errors.Is(r.Login.Status.Err, ErrSkipped) {
			t.Errorf("login = %v", r.Login.Status)
		}
		_, fields := r.Provider()
		want2 := []providers.Field{providers.FieldJID, providers.FieldInBandRegistration, providers.FieldEmailRequired,
			providers.FieldCaptchaRequired, providers.FieldRegistrationWebPage}
		if !reflect.DeepEqual(fields, want2) {
			t.Errorf("Provider() fields = %v, want %v", fields, want2)
		}
	})

	t.Run("account", func(t *testing.T) {
		pa := *p
		pa.Account = &Credentials{Username: "alice@localhost", Password: password}
		r := mustProbe(t, &pa, srv.Domain)
		l := r.Login
		if l.Status.State != Observed || l.Mechanism != "SCRAM-SHA-1" || !strings.HasPrefix(l.JID, "alice@localhost/onboard-probe-") {
			t.Fatalf("login = %+v", l)
		}
		if !l.Features.Bind || !l.Features.StreamManagement || !l.Features.CSI || l.Features.Register {
			t.Errorf("features after login = %+v", l.Features)
		}
		if st := r.ServerInfo.Status; st.State != Observed || st.Reason != "observed with an account; refused without one" {
			t.Errorf("server info = %v", st)
		}
		if !r.ServerInfo.HasIdentity("server", "im") || !r.ServerInfo.HasFeature("jabber:iq:register") {
			t.Errorf("server info = %+v", r.ServerInfo)
		}
		c := r.Contacts
		if !reflect.DeepEqual(c.Abuse, []string{"mailto:abuse@localhost"}) || !reflect.DeepEqual(c.Security, []string{"mailto:security@localhost"}) ||
			!reflect.DeepEqual(c.Support, []string{"xmpp:support@localhost", "mailto:support@localhost", "xmpp:help@conference.localhost?join"}) ||
			c.Admin != nil {
			t.Errorf("contacts = %+v", c)
		}
		if r.Software.Name != "Prosody" || srv.Version == "" || r.Software.Version != srv.Version {
			t.Errorf("software = %+v", r.Software)
		}
		if u := r.Upload; u.Status.State != Observed || u.JID != "upload.localhost" || u.MaxFileSize != 10<<20 {
			t.Errorf("upload = %+v", u)
		}
		if r.MUC.Status.State != Absent || r.Proxy.Status.State != Absent {
			t.Errorf("muc %v, proxy %v", r.MUC.Status, r.Proxy.Status)
		}
		prov, fields := r.Provider()
		if prov.UploadFileSize != 10 || !prov.InBandRegistration || prov.CaptchaRequired || prov.EmailRequired ||
			len(prov.RegistrationWebPage) != 0 || prov.ServerSoftwareName != "Prosody" ||
			!reflect.DeepEqual(prov.EmailSupport, providers.LocalizedList{"en": {"support@localhost"}}) ||
			!reflect.DeepEqual(prov.ChatSupport, providers.LocalizedList{"en": {"support@localhost"}}) ||
			!reflect.DeepEqual(prov.GroupChatSupport, providers.LocalizedList{"en": {"help@conference.localhost"}}) {
			t.Errorf("Provider() = %+v", prov)
		}
		want := []providers.Field{providers.FieldJID, providers.FieldServerSoftwareName, providers.FieldServerSoftwareVersion,
			providers.FieldInBandRegistration, providers.FieldEmailRequired, providers.FieldCaptchaRequired,
			providers.FieldRegistrationWebPage, providers.FieldUploadFileSize, providers.FieldEmailSupport,
			providers.FieldChatSupport, providers.FieldGroupChatSupport}
		if !reflect.DeepEqual(fields, want) {
			t.Errorf("Provider() fields =\n%v, want\n%v", fields, want)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		pa := *p
		const wrong = "not-the-password-1234"
		pa.Account = &Credentials{Username: "alice", Password: wrong}
		r := mustProbe(t, &pa, srv.Domain)
		if st := r.Login.Status; st.State != Unknown || !errors.Is(st.Err, ErrAuth) || !strings.Contains(st.Err.Error(), "not-authorized") {
			t.Errorf("login = %v (%v)", st, st.Err)
		}
		if r.ServerInfo.Status.Reason != "needs an account" {
			t.Errorf("server info = %v", r.ServerInfo.Status)
		}
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), wrong) || strings.Contains(fmt.Sprintf("%v %+v %#v", pa, pa, pa.Account), wrong) {
			t.Error("the password leaked")
		}
	})
}

func TestProsodyRegistrationModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  testserver.ProsodyConfig
		want Registration
	}{{
		name: "closed",
		cfg:  testserver.ProsodyConfig{Registration: testserver.RegistrationClosed},
		want: Registration{Kind: RegistrationClosed},
	}, {
		name: "invite",
		cfg:  testserver.ProsodyConfig{Registration: testserver.RegistrationInvite},
		want: Registration{Kind: RegistrationInvite, Advertised: true, InviteToken: true, Legacy: true, DataForm: true,
			Fields: []string{"username", "password"}, Required: []string{"username", "password"},
			Instructions: "Choose a username and password for use with this service."},
	}, {
		name: "email",
		cfg:  testserver.ProsodyConfig{ExtraFields: []string{"email+", "name"}},
		want: Registration{Kind: RegistrationOpen, Advertised: true, Legacy: true, DataForm: true,
			Fields: []string{"username", "password", "email", "name"}, Required: []string{"username", "password", "email"},
			EmailRequired: true, Instructions: "Choose a username and password for use with this service."},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.cfg.LogLevel = "info"
			srv := testserver.StartProsody(t, tc.cfg)
			r := mustProbe(t, serverProber(srv), srv.Domain)
			got := r.Registration
			tc.want.Status = got.Status
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
			switch tc.name {
			case "closed":
				if got.Status.State != Absent || !errors.Is(got.Status.Err, stanza.Error{Condition: stanza.ServiceUnavailable}) {
					t.Errorf("status = %v", got.Status)
				}
			default:
				if got.Status.State != Observed {
					t.Errorf("status = %v", got.Status)
				}
			}
			prov, _ := r.Provider()
			if prov.InBandRegistration != (tc.want.Kind == RegistrationOpen) || prov.EmailRequired != tc.want.EmailRequired {
				t.Errorf("Provider() = %+v", prov)
			}
		})
	}
}

// TestProsodySRV resolves a domain through SRV records (from an injected
// resolver) to a real Prosody, without address overrides.
func TestProsodySRV(t *testing.T) {
	t.Parallel()
	const domain = "chat.example.test"
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: domain, DirectTLS: true, LogLevel: "info"})
	port := func(addr string) uint16 {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return uint16(n)
	}
	res := &fakedns.Resolver{
		SRV: map[string][]*net.SRV{
			"_xmpp-client._tcp." + domain: {
				{Target: "down.example.test.", Port: 5222, Priority: 5},
				{Target: "xmpp.example.test.", Port: port(srv.Addr), Priority: 10},
			},
			"_xmpps-client._tcp." + domain: {{Target: "xmpps.example.test.", Port: port(srv.DirectTLSAddr), Priority: 10}},
		},
		Hosts: map[string][]string{"xmpp.example.test": {"127.0.0.1"}, "xmpps.example.test": {"127.0.0.1"}},
	}
	p := &Prober{Resolver: res, TLSConfig: srv.TLSConfig(), Skip: PartHTTP, Timeout: 20 * time.Second}
	r := mustProbe(t, p, domain)
	if r.SRV.Status.State != Observed || len(r.SRV.Records) != 2 || r.SRV.Records[1].Target != "xmpp.example.test" {
		t.Errorf("SRV = %+v", r.SRV)
	}
	if r.SRVDirectTLS.Status.State != Observed || r.SRVDirectTLS.Records[0].Port != port(srv.DirectTLSAddr) {
		t.Errorf("SRV direct TLS = %+v", r.SRVDirectTLS)
	}
	// The first target does not resolve; the second answers.
	if r.StartTLS.Status.State != Observed || r.StartTLS.Addr != srv.Addr || len(r.StartTLS.Attempts) != 2 {
		t.Errorf("StartTLS = %v, attempts %+v", r.StartTLS.Status, r.StartTLS.Attempts)
	}
	if r.DirectTLS.Status.State != Observed || !r.DirectTLS.TLS.Certificate.Valid || r.DirectTLS.StreamFrom != domain {
		t.Errorf("DirectTLS = %+v", r.DirectTLS)
	}
	if r.Registration.Kind != RegistrationOpen {
		t.Errorf("registration = %+v", r.Registration)
	}
}

func TestEjabberd(t *testing.T) {
	t.Parallel()
	srv := testserver.StartEjabberd(t, testserver.EjabberdConfig{
		DirectTLS: true,
		ContactInfo: map[string][]string{
			"abuse":   {"mailto:abuse@localhost"},
			"admin":   {"xmpp:admin@localhost"},
			"support": {"mailto:support@localhost", "xmpp:support@localhost"},
		},
		HTTPUpload: 5 << 20,
	})
	const password = "ejabberd-pass-5678"
	srv.AddUser(t, "bob", password)
	p := serverProber(srv)

	r := mustProbe(t, p, srv.Domain)
	if r.StartTLS.Status.State != Observed || r.DirectTLS.Status.State != Observed {
		t.Fatalf("StartTLS %v, DirectTLS %v", r.StartTLS.Status, r.DirectTLS.Status)
	}
	if f := r.StartTLS.Features; !f.Register || !slices.Contains(f.Mechanisms, "SCRAM-SHA-1-PLUS") ||
		!reflect.DeepEqual(f.ChannelBindingMechanisms(), []string{"SCRAM-SHA-1-PLUS"}) {
		t.Errorf("features = %+v", f)
	}
	if reg := r.Registration; reg.Kind != RegistrationOpen || !reg.Legacy || reg.DataForm || reg.CAPTCHA ||
		!reflect.DeepEqual(reg.Fields, []string{"username", "password"}) {
		t.Errorf("registration = %+v", reg)
	}
	// ejabberd 23.01 closes an unauthenticated stream that asks anything
	// but the registration form.
	for name, st := range map[string]Status{"info": r.ServerInfo.Status, "software": r.Software.Status, "services": r.Services.Status} {
		if st.State != Unknown || !errors.Is(st.Err, ErrNeedsAccount) || !errors.Is(st.Err, stream.NotAuthorized) {
			t.Errorf("%s = %v (%v)", name, st, st.Err)
		}
	}

	p.Account = &Credentials{Username: "bob", Password: password}
	r = mustProbe(t, p, srv.Domain)
	if r.Login.Status.State != Observed || r.Login.Mechanism != "SCRAM-SHA-1" {
		t.Fatalf("login = %+v", r.Login)
	}
	c := r.Contacts
	if c.Status.State != Observed || !reflect.DeepEqual(c.Abuse, []string{"mailto:abuse@localhost"}) ||
		!reflect.DeepEqual(c.Admin, []string{"xmpp:admin@localhost"}) ||
		!reflect.DeepEqual(c.Support, []string{"mailto:support@localhost", "xmpp:support@localhost"}) {
		t.Errorf("contacts = %+v", c)
	}
	if u := r.Upload; u.Status.State != Observed || u.JID != "upload.localhost" || u.MaxFileSize != 5<<20 {
		t.Errorf("upload = %+v (services %+v)", u, r.Services)
	}
	if st := r.Software.Status; st.State != Absent {
		t.Errorf("software (mod_version not loaded) = %v", st)
	}
	prov, _ := r.Provider()
	if prov.UploadFileSize != 5 || !reflect.DeepEqual(prov.EmailSupport, providers.LocalizedList{"en": {"support@localhost"}}) ||
		!reflect.DeepEqual(prov.ChatSupport, providers.LocalizedList{"en": {"support@localhost"}}) {
		t.Errorf("Provider() = %+v", prov)
	}
}

func TestEjabberdRegistrationModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   testserver.EjabberdConfig
		check func(t *testing.T, r Registration)
	}{{
		name: "captcha",
		cfg:  testserver.EjabberdConfig{Captcha: true},
		check: func(t *testing.T, r Registration) {
			if r.Kind != RegistrationOpen || !r.CAPTCHA || !r.DataForm || !slices.Contains(r.Challenges, "ocr") ||
				!reflect.DeepEqual(r.Required, []string{"username", "password"}) {
				t.Errorf("registration = %+v", r)
			}
		},
	}, {
		name: "redirect",
		cfg:  testserver.EjabberdConfig{RedirectURL: "https://example.test/register"},
		check: func(t *testing.T, r Registration) {
			if r.Status.State != Observed || r.Kind != RegistrationWeb || r.URL != "https://example.test/register" || len(r.Fields) != 0 {
				t.Errorf("registration = %+v", r)
			}
		},
	}, {
		name: "none",
		cfg:  testserver.EjabberdConfig{Registration: testserver.RegistrationNone},
		check: func(t *testing.T, r Registration) {
			if r.Status.State != Absent || r.Kind != RegistrationClosed || r.Advertised {
				t.Errorf("registration = %+v", r)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.StartEjabberd(t, tc.cfg)
			r := mustProbe(t, serverProber(srv), srv.Domain)
			tc.check(t, r.Registration)
		})
	}
}

// TestProsodyVirtualHosts probes every virtual host of one Prosody in a
// batch.
func TestProsodyVirtualHosts(t *testing.T) {
	t.Parallel()
	var hosts []string
	for i := 0; i < 10; i++ {
		hosts = append(hosts, fmt.Sprintf("vhost%d.test", i))
	}
	srv := testserver.StartProsody(t, testserver.ProsodyConfig{Domain: "main.test", ExtraHosts: hosts, LogLevel: "warn"})
	p := serverProber(srv)
	p.PerHost = 4
	seen := 0
	for r := range p.ProbeAll(context.Background(), srv.Hosts) {
		seen++
		if r.StartTLS.StreamFrom != r.Domain || !r.StartTLS.TLS.Certificate.Valid || r.Registration.Kind != RegistrationOpen {
			t.Errorf("%s: from %q, %+v", r.Domain, r.StartTLS.StreamFrom, r.Registration)
		}
	}
	if seen != len(srv.Hosts) {
		t.Errorf("%d reports for %d hosts", seen, len(srv.Hosts))
	}
}
