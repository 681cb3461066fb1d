package discovery

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xmpp-onboard/onboard/providers"
	"mellium.im/xmpp/stanza"
)

func TestStatusJSON(t *testing.T) {
	iqe := &IQError{Query: "disco#info", Err: stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}}
	for _, st := range []Status{
		{},
		observed(1500 * time.Microsecond),
		absent("no SRV records", nil, 2*time.Millisecond),
		unknown("needs an account", &needsAccountError{iqe}, time.Millisecond),
		skipped(),
	} {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back.State != st.State || back.Reason != st.Reason || back.Took != st.Took || (back.Err == nil) != (st.Err == nil) {
			t.Errorf("%s: got %+v, want %+v", b, back, st)
		}
		if st.Err != nil {
			if back.Err.Error() != st.Err.Error() {
				t.Errorf("error %q, want %q", back.Err, st.Err)
			}
			for _, s := range []error{ErrNeedsAccount, ErrSkipped} {
				if errors.Is(st.Err, s) != errors.Is(back.Err, s) {
					t.Errorf("%s: errors.Is(%v) changed", b, s)
				}
			}
		}
	}
	if got := (Status{State: Unknown, Reason: "needs an account"}).String(); got != "unknown (needs an account)" {
		t.Errorf("String = %q", got)
	}
	var s State
	if err := s.UnmarshalText([]byte("sideways")); err == nil {
		t.Error("invalid state accepted")
	}
}

func TestReportJSON(t *testing.T) {
	var r Report
	r.Domain = "example.org"
	r.Took = 1234 * time.Millisecond
	r.Registration = Registration{Status: observed(time.Millisecond), Kind: RegistrationWeb, URL: "https://example.org/register"}
	r.ServerInfo.Status = unknown("needs an account", &needsAccountError{ErrStreamClosed}, 0)
	pf, fields, errs := parseProviderFile(readTestdata(t, "providerfile/mistakes.json"))
	r.ProviderFile = ProviderFile{Status: observed(0), Provider: pf, Fields: fields, Errors: errs}
	r.StartTLS.Attempts = []Attempt{{Addr: "192.0.2.1:5222", Err: ErrStreamClosed, Took: time.Second}}

	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"domain":"example.org"`, `"tookMs":1234`, `"kind":"web"`, `"state":"observed"`,
		`"error":"discovery: needs an account: stream closed by the server"`, `"passwordReset":{}`, `"field":"busFactor"`,
		`"error":"missing key"`, `"addr":"192.0.2.1:5222","error":"discovery: stream closed by the server"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Took != r.Took || back.Registration.Kind != RegistrationWeb || back.Registration.URL != r.Registration.URL ||
		!errors.Is(back.ServerInfo.Status.Err, ErrNeedsAccount) {
		t.Errorf("round trip: %+v", back)
	}
	if !reflect.DeepEqual(back.ProviderFile.Fields, fields) || !reflect.DeepEqual(back.ProviderFile.Provider.PasswordReset, providers.Localized{}) ||
		!back.ProviderFile.Provider.FreeOfCharge || len(back.ProviderFile.Errors) != len(errs) {
		t.Errorf("provider file round trip: %+v", back.ProviderFile)
	}
	missing := 0
	for _, e := range back.ProviderFile.Errors {
		if errors.Is(e.Err, ErrMissingField) {
			missing++
		}
	}
	if missing != 1 {
		t.Errorf("%d missing-key errors after the round trip, want 1", missing)
	}
}

// TestTLSVersionText: a report's TLS version reads back from its JSON.
func TestTLSVersionText(t *testing.T) {
	for _, v := range []TLSVersion{tls.VersionTLS12, tls.VersionTLS13, 0x0305} {
		b, err := v.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got TLSVersion
		if err := got.UnmarshalText(b); err != nil || got != v {
			t.Errorf("%q: %v, %v; want %v", b, got, err, v)
		}
	}
	var v TLSVersion
	if err := v.UnmarshalText([]byte("TLS 9\x1b[31m")); err == nil || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("an unknown name: %v", err)
	}
}
