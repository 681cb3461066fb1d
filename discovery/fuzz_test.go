package discovery

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xmpp-onboard/onboard/internal/netguard"
	"github.com/xmpp-onboard/onboard/providers"
)

// addSeeds adds every file in testdata/dir as a seed.
func addSeeds(f *testing.F, dir string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzXMPPReply runs every parser of server replies (stream features,
// registration forms, disco#info with its XEP-0128 and XEP-0157 forms,
// disco#items, software version, stream and stanza errors) on arbitrary
// XML.
func FuzzXMPPReply(f *testing.F) {
	addSeeds(f, "xmpp")
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseElement(b)
		if err != nil {
			return
		}
		feats := parseFeatures(n)
		if len(feats.Advertised) > maxListItems || len(feats.Mechanisms) > maxListItems {
			t.Fatalf("features not capped: %d", len(feats.Advertised))
		}
		reg := registrationFrom(iqResult{payload: n}, feats)
		if _, ok := netguard.HTTPSLink(reg.URL); reg.URL != "" && !ok {
			t.Fatalf("registration URL %q is not https", reg.URL)
		}
		if reg.Status.State == Observed && reg.Kind == RegistrationUnknown {
			t.Fatal("observed registration of unknown kind")
		}
		for _, r := range reg.Required {
			if !slices.Contains(reg.Fields, r) {
				t.Fatalf("required field %q not among the fields %v", r, reg.Fields)
			}
		}
		in := infoFrom(iqResult{payload: n}, false, Status{})
		if len(in.Identities) > maxListItems || len(in.Features) > maxListItems || len(in.Forms) > maxListItems {
			t.Fatal("disco#info not capped")
		}
		c := contactsFrom(&in, "")
		var r Report
		r.Contacts = c
		r.ServerInfo = in
		_, _ = uploadFromInfo(&in)
		prov, fields := r.Provider()
		if c.Status.State == Observed && !slices.Contains(fields, providers.FieldEmailSupport) {
			t.Fatal("observed contacts not mapped")
		}
		_ = prov
		_ = parseItems(n)
		_ = parseVersion(n)
		_ = parseStreamError(n).Error()
		_ = parseStanzaError(n).Error()
		if _, err := json.Marshal(reg); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzHostMetaXML checks the XRD host-meta parser.
func FuzzHostMetaXML(f *testing.F) {
	addSeeds(f, "hostmeta")
	f.Fuzz(func(t *testing.T, b []byte) {
		links, problems, err := parseHostMetaXML(b)
		checkLinks(t, links, problems, err)
	})
}

// FuzzHostMetaJSON checks the JRD host-meta.json parser.
func FuzzHostMetaJSON(f *testing.F) {
	addSeeds(f, "hostmeta")
	f.Fuzz(func(t *testing.T, b []byte) {
		links, problems, err := parseHostMetaJSON(b)
		checkLinks(t, links, problems, err)
	})
}

func checkLinks(t *testing.T, links []Link, problems []string, err error) {
	t.Helper()
	if err != nil && len(problems) > 0 && len(links) == 0 {
		return
	}
	if len(links) > maxLinks {
		t.Fatalf("%d links, want at most %d", len(links), maxLinks)
	}
	for _, l := range links {
		if l.Legacy && l.Method == "" {
			t.Fatalf("legacy link without a method: %+v", l)
		}
		if l.Method == "websocket" && !secureURL(l.Href, "wss") && len(problems) == 0 {
			t.Fatalf("insecure WebSocket URL without a problem: %+v", l)
		}
	}
}
