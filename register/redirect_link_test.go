package register

import (
	"html"
	"testing"
)

// TestRedirectURLRefusesDeceptiveAndLocalLinks: a registration redirect
// (XEP-0066 <url/> or a link in the instructions) is offered only if it is
// an https link whose shown text is its target (no bidi or control
// characters) and whose host is not loopback or private (issue 11, item 7).
func TestRedirectURLRefusesDeceptiveAndLocalLinks(t *testing.T) {
	for _, bad := range []string{
		"https://example.org/\u202egpj.exe",
		"https://exa\u202emple.org/register",
		"https://example.org/\u2066x\u2069",
		"https://example.org/join\u200f",
		"https://127.0.0.1:1/admin",
		"https://[::1]/",
		"https://[::ffff:10.0.0.1]/",
		"https://localhost/register",
		"https://169.254.169.254/latest/meta-data/",
	} {
		t.Run("oob "+bad, func(t *testing.T) {
			f := parseReply(t, `<x xmlns='jabber:x:oob'><url>`+html.EscapeString(bad)+`</url></x>`)
			if f.RedirectURL != "" {
				t.Errorf("RedirectURL = %q, want none", f.RedirectURL)
			}
		})
		t.Run("instructions "+bad, func(t *testing.T) {
			f := parseReply(t, `<instructions>Visit `+html.EscapeString(bad)+` or https://example.org/join</instructions>`)
			if f.RedirectURL != "https://example.org/join" {
				t.Errorf("RedirectURL = %q, want the second, honest link", f.RedirectURL)
			}
		})
		t.Run("captcha media "+bad, func(t *testing.T) {
			f := parseReply(t, `<x xmlns='jabber:x:data' type='form'>`+
				`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:captcha</value></field>`+
				`<field var='ocr' label='Enter the text'><media xmlns='urn:xmpp:media-element'><uri type='image/png'>`+html.EscapeString(bad)+`</uri></media></field></x>`)
			if f.Captcha == nil {
				t.Fatal("no CAPTCHA")
			}
			if len(f.Captcha.URLs) != 0 {
				t.Errorf("CAPTCHA URLs = %q, want none", f.Captcha.URLs)
			}
		})
	}
	f := parseReply(t, `<x xmlns='jabber:x:oob'><url>https://example.org/register</url></x>`)
	if f.RedirectURL != "https://example.org/register" {
		t.Errorf("honest RedirectURL = %q", f.RedirectURL)
	}
}

// parseReply parses the children of a jabber:iq:register <query/>.
func parseReply(t *testing.T, inner string) *Form {
	t.Helper()
	n, err := parseNode([]byte(`<iq xmlns='jabber:client' type='result' id='1'><query xmlns='jabber:iq:register'>`+inner+`</query></iq>`), DefaultMaxStanza)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseQuery(n.Child(NS, "query"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
