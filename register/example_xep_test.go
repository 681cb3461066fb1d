package register_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/xmpp-onboard/onboard/register"
)

// An invitation as people receive it: a landing page link with the URI
// after "#" is read without fetching anything.
func ExampleParseInvite_landingPage() {
	inv, err := register.ParseInvite("https://xmpp.link/#romeo@example.org?roster;preauth=TOKEN;ibr=y")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inv.Action, inv.Domain, inv.Inviter)
	// Output: roster example.org romeo@example.org
}

// A link to an invitation page (Prosody's mod_invites_page) is fetched only
// by an InviteFetcher the application chose to use.
func ExampleInviteFetcher() {
	link := "https://example.org/invite?TOKEN"
	if _, err := register.ParseInvite(link); errors.Is(err, register.ErrInvitePage) {
		pages := register.InviteFetcher{} // https, public addresses, 256 KiB, 10 s
		inv, err := pages.Resolve(context.Background(), link)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("register on", inv.Domain)
	}
}

// A form with several CAPTCHA challenges (XEP-0158 §3.2): answer the ones
// NextCaptcha returns until it returns nil.
func ExampleForm_NextCaptcha() {
	f, err := register.ParseForm([]byte(`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>` +
		`<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>` +
		`<field type='hidden' var='answers'><value>2</value></field>` +
		`<field var='qa' label='Type the color of a stop light'><required/></field>` +
		`<field var='SHA-256' label='e03d7'/>` +
		`<field var='picture_q' label='What is in the picture?'/></x></query>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for c := f.NextCaptcha(); c != nil; c = f.NextCaptcha() {
		fmt.Println(c.Type, c.Label)
		f.Set(c.Field, "answer") // ask the user
	}
	fmt.Println("missing:", len(f.Missing()))
	// Output:
	// qa Type the color of a stop light
	// SHA-256 e03d7
	// missing: 0
}
