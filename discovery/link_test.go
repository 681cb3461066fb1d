package discovery

import (
	"html"
	"testing"
)

// deceptiveLinks are links a report must not offer: their shown text lies
// about the target (bidi controls), or they point at the prober's own
// network (issue 11, item 7).
var deceptiveLinks = []string{
	"https://example.org/\u202egpj.exe",
	"https://exa\u202emple.org/register",
	"https://example.org/\u2066x\u2069",
	"https://127.0.0.1:1/admin",
	"https://[::1]/",
	"https://[::ffff:192.168.1.1]/",
	"https://localhost/register",
	"https://169.254.169.254/latest/meta-data/",
}

func TestRegistrationURLRefusesDeceptiveAndLocalLinks(t *testing.T) {
	for _, bad := range deceptiveLinks {
		for name, q := range map[string]string{
			"oob":          `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:oob'><url>` + html.EscapeString(bad) + `</url></x></query>`,
			"instructions": `<query xmlns='jabber:iq:register'><instructions>Visit ` + html.EscapeString(bad) + `</instructions></query>`,
		} {
			n, err := parseElement([]byte(q))
			if err != nil {
				t.Fatal(err)
			}
			r, err := parseRegister(n)
			if err != nil {
				t.Fatal(err)
			}
			if r.URL != "" {
				t.Errorf("%s %q: URL = %q, want none", name, bad, r.URL)
			}
			if r.Kind != RegistrationWeb || r.Status.Reason == "" {
				t.Errorf("%s %q: kind %v, reason %q; want web registration with the link refused", name, bad, r.Kind, r.Status.Reason)
			}
		}
	}
}

func TestHostMetaRefusesDeceptiveAndLocalLinks(t *testing.T) {
	for _, bad := range append(deceptiveLinks, "wss://127.0.0.1:5280/ws", "wss://[::1]/ws", "wss://example.org/\u202ews") {
		for _, rel := range []string{relWebSocket, relBOSH} {
			doc := `{"links":[{"rel":"` + rel + `","href":"` + bad + `"}]}`
			links, problems, err := parseHostMetaJSON([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if len(links) != 1 || len(problems) == 0 {
				t.Errorf("%s %q: links %v, problems %q; want the link with a problem", rel, bad, links, problems)
			}
			for _, scheme := range []string{"wss", "https"} {
				if secureURL(bad, scheme) {
					t.Errorf("secureURL(%q, %q) = true", bad, scheme)
				}
			}
		}
	}
	if !secureURL("wss://example.org/ws", "wss") || !secureURL("https://example.org/bosh", "https") {
		t.Error("honest endpoints refused")
	}
}
