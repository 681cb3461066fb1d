package register_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/net/proxy"

	"github.com/xmpp-onboard/onboard/register"
)

// Register an account and log in with it on the same connection.
func ExampleClient_Register() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := register.Client{
		Progress: func(e register.Event) { log.Printf("%s: %s", e.Domain, e.Stage) },
	}
	acct, err := c.Register(ctx, "example.org", register.Request{
		Username: "juliet",
		Password: os.Getenv("PASSWORD"),
		Login:    true,
		Solve: func(ctx context.Context, f *register.Form) error {
			if f.Captcha != nil {
				// Show f.Captcha.Image (f.Captcha.MIME) or f.Captcha.Label
				// to the user and read the answer.
				os.WriteFile("captcha.img", f.Captcha.Image, 0o600)
				var answer string
				fmt.Scanln(&answer)
				return f.Set(f.Captcha.Field, answer)
			}
			return fmt.Errorf("cannot fill %v", f.Missing())
		},
	})
	var e *register.Error
	switch {
	case errors.Is(err, register.ErrUsernameTaken):
		log.Fatal("choose another name")
	case errors.Is(err, register.ErrWebOnly) && errors.As(err, &e):
		log.Fatalf("register at %s", e.RedirectURL)
	case errors.Is(err, register.ErrOutcomeUnknown) && errors.As(err, &e):
		created, err := c.Dialer.Confirm(ctx, "example.org", e.Username, e.Password)
		log.Fatalf("account created: %v (%v)", created, err)
	case err != nil:
		log.Fatal(err)
	}
	defer acct.Session.Close()
	go acct.Session.Serve(nil)
	log.Printf("logged in as %s", acct.Session.LocalAddr())
}

// Look at what a server offers without submitting anything.
func ExampleDialer_Dial() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := register.Dialer{}
	conn, err := d.Dial(ctx, "example.org")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	feats := conn.Features()
	fmt.Println("registration advertised:", feats.Register)
	fmt.Println("invitations:", feats.Invites())
	fmt.Println("SASL:", feats.Mechanisms)
	form, err := conn.Form(ctx)
	switch {
	case errors.Is(err, register.ErrRegistrationClosed):
		fmt.Println("closed")
	case err != nil:
		log.Fatal(err)
	case form.WebOnly():
		fmt.Println("web registration:", form.RedirectURL)
	case form.Captcha != nil:
		fmt.Println("CAPTCHA:", form.Captcha.Type)
	default:
		for _, f := range form.Missing() {
			fmt.Println("field:", f.Var, f.Label)
		}
	}
}

// Register through Tor: a SOCKS5 dialer from golang.org/x/net/proxy. Set
// Addr (or a Resolver that also uses the proxy) so that no SRV lookup
// leaves the machine unproxied.
func ExampleDialer_tor() {
	socks, err := proxy.SOCKS5("tcp", "127.0.0.1:9050", nil, proxy.Direct)
	if err != nil {
		log.Fatal(err)
	}
	c := register.Client{Dialer: register.Dialer{
		NetDialer: socks.(proxy.ContextDialer),
		Addr:      "example.org:5222", // resolved by the proxy
	}}
	_, err = c.Register(context.Background(), "example.org", register.Request{Username: "juliet", Password: os.Getenv("PASSWORD")})
	fmt.Println(err)
}

// Register with an invitation and log in later on a new connection.
func ExampleDialer_Confirm() {
	ctx := context.Background()
	c := register.Client{}
	acct, err := c.Register(ctx, "", register.Request{
		Invite:   "xmpp:example.org?register;preauth=T0K3N",
		Username: "romeo",
		Password: os.Getenv("PASSWORD"),
	})
	if err != nil {
		log.Fatal(err)
	}
	ok, err := c.Dialer.Confirm(ctx, acct.JID.Domainpart(), acct.JID.Localpart(), acct.Password)
	fmt.Println(ok, err)
}

func ExampleParseInvite() {
	for _, s := range []string{
		"xmpp:example.org?register;preauth=T0K3N",
		"xmpp:juliet@example.org?register;preauth=T0K3N",
		"xmpp:romeo@example.org?roster;preauth=T0K3N;ibr=y",
		"T0K3N",
	} {
		inv, err := register.ParseInvite(s)
		fmt.Printf("domain=%q user=%q inviter=%q token=%q err=%v\n", inv.Domain, inv.Username, inv.Inviter, inv.Token, err)
	}
	// Output:
	// domain="example.org" user="" inviter="" token="T0K3N" err=<nil>
	// domain="example.org" user="juliet" inviter="" token="T0K3N" err=<nil>
	// domain="example.org" user="" inviter="romeo@example.org" token="T0K3N" err=<nil>
	// domain="" user="" inviter="" token="T0K3N" err=<nil>
}

func ExampleForm_Missing() {
	// A form as ejabberd sends it without CAPTCHA: legacy fields only.
	f := &register.Form{Fields: []register.Field{
		{Var: "username", Type: register.TextSingle, Legacy: true},
		{Var: "password", Type: register.TextPrivate, Legacy: true},
	}}
	f.SetUsername("juliet")
	for _, fl := range f.Missing() {
		fmt.Println("missing:", fl.Var)
	}
	f.SetPassword("s3cret")
	fmt.Println(len(f.Missing()), f)
	// Output:
	// missing: password
	// 0 register.Form{legacy; username(text-single)=["juliet"] password(text-private)=[redacted]}
}

// Change the password and then delete the account.
func ExampleChangePassword() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := register.Dialer{}
	conn, err := d.Dial(ctx, "example.org")
	if err != nil {
		log.Fatal(err)
	}
	s, err := conn.Login(ctx, "juliet", "old password")
	if err != nil {
		log.Fatal(err)
	}
	go s.Serve(nil) // ChangePassword and Remove need the Serve loop.
	if err := register.ChangePassword(ctx, s, "old password", "new password"); err != nil {
		log.Fatal(err)
	}
	if err := register.Remove(ctx, s, "new password"); err != nil {
		log.Fatal(err)
	}
}
