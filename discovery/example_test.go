package discovery_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/xmpp-onboard/onboard/discovery"
)

// Probing a public server: what can an app expect from it right now?
func ExampleProbe() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := discovery.Probe(ctx, "example.org")
	if err != nil {
		log.Fatal(err) // not a domain
	}
	switch r.Registration.Kind {
	case discovery.RegistrationOpen:
		fmt.Println("sign up in the app; CAPTCHA:", r.Registration.CAPTCHA)
	case discovery.RegistrationWeb:
		fmt.Println("sign up at", r.Registration.URL)
	default:
		fmt.Println("no sign-up:", r.Registration.Status)
	}
	if r.StartTLS.TLS != nil {
		c := r.StartTLS.TLS.Certificate
		fmt.Println("certificate valid:", c.Valid, "expires in", c.ExpiresIn(time.Now()).Round(time.Hour))
	}
}

// An operator probes their own server with an account, to see the parts
// that servers show only to logged-in users.
func ExampleProber_Probe_account() {
	p := &discovery.Prober{
		Account: &discovery.Credentials{Username: "admin@example.org", Password: os.Getenv("XMPP_PASSWORD")},
	}
	r, err := p.Probe(context.Background(), "example.org")
	if err != nil {
		log.Fatal(err)
	}
	if !r.Login.Status.Observed() {
		log.Fatal("login: ", r.Login.Status)
	}
	fmt.Println("upload limit:", r.Upload.MaxFileSize, "bytes")
	fmt.Println("abuse contacts:", r.Contacts.Abuse)
	if errors.Is(r.ServerInfo.Status.Err, discovery.ErrNeedsAccount) {
		fmt.Println("(disco#info needed the account)")
	}
}

// Probing a list of domains and writing one JSON object per line, as the
// examples/probe command does with -batch.
func ExampleProber_ProbeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p := &discovery.Prober{Concurrency: 32, PerHost: 2, Timeout: 20 * time.Second}
	enc := json.NewEncoder(os.Stdout)
	for r := range p.ProbeAll(ctx, []string{"example.org", "example.net", "example.com"}) {
		if err := enc.Encode(r); err != nil {
			log.Fatal(err)
		}
	}
}

// The provider file and host-meta come from the domain's web server. This
// example serves them from a local test server and injects its HTTP
// client; it probes only the HTTP parts.
func ExampleProber_Probe_providerFile() {
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/xmpp-provider-v2.json", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"website": {"en": "https://example.org"}, "alternativeJids": [],
			"busFactor": 2, "organization": "non-governmental", "passwordReset": {},
			"serverTesting": false, "maximumHttpFileUploadTotalSize": 1000,
			"maximumHttpFileUploadStorageTime": 30,
			"maximumMessageArchiveManagementStorageTime": "forever",
			"professionalHosting": true, "freeOfCharge": true, "legalNotice": {},
			"serverLocations": ["de"], "since": "2020-01-15"}`)
	})
	mux.HandleFunc("/.well-known/host-meta.json", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"links": [{"rel": "urn:xmpp:alt-connections:websocket", "href": "wss://example.org/ws"}]}`)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	// Send every request to the test server, which has a certificate for
	// example.com.
	client := srv.Client()
	tr := client.Transport.(*http.Transport)
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com"}

	p := &discovery.Prober{HTTPClient: client, Skip: discovery.PartXMPP}
	r, err := p.Probe(context.Background(), "example.org")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("provider file:", r.ProviderFile.Status.State, "valid:", r.ProviderFile.Valid())
	for _, e := range r.ProviderFile.Errors {
		fmt.Println(" ", e.Field+":", errors.Unwrap(&e))
	}
	fmt.Println("WebSocket:", r.HostMeta.WebSocket)
	prov, fields := r.Provider()
	fmt.Println(len(fields), "fields filled; bus factor", prov.BusFactor, "; since", prov.Since)
	// Output:
	// provider file: observed valid: false
	//   maximumMessageArchiveManagementStorageTime: want an integer, got a string
	// WebSocket: [wss://example.org/ws]
	// 14 fields filled; bus factor 2 ; since 2020-01-15
}

// Report.Provider turns what was observed into XMPP Providers fields, for a
// rating of live data.
func ExampleReport_Provider() {
	r := discovery.Report{Domain: "example.org"}
	r.Upload = discovery.Upload{Status: discovery.Status{State: discovery.Observed}, JID: "upload.example.org", MaxFileSize: 104857600}
	r.Contacts = discovery.Contacts{
		Status:  discovery.Status{State: discovery.Observed},
		Support: []string{"mailto:help@example.org", "xmpp:support@example.org", "xmpp:chat@rooms.example.org?join"},
	}
	r.Registration = discovery.Registration{Status: discovery.Status{State: discovery.Observed},
		Kind: discovery.RegistrationOpen, CAPTCHA: true}

	p, fields := r.Provider()
	fmt.Println(fields)
	fmt.Println(p.UploadFileSize, p.EmailSupport, p.ChatSupport, p.GroupChatSupport)
	fmt.Println("in-band:", p.InBandRegistration, "CAPTCHA:", p.CaptchaRequired)
	// Output:
	// [jid inBandRegistration inBandRegistrationEmailAddressRequired inBandRegistrationCaptchaRequired registrationWebPage maximumHttpFileUploadFileSize emailSupport chatSupport groupChatSupport]
	// 104 MB map[en:[help@example.org]] map[en:[support@example.org]] map[en:[chat@rooms.example.org]]
	// in-band: true CAPTCHA: true
}
