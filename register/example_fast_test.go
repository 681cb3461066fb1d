package register_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/xmpp-onboard/onboard/register"
)

// Sign up, keep the FAST token the server issued (XEP-0484; Prosody 13
// and ejabberd 24.12 issue one with SASL2), and reconnect later with it
// instead of the password: three round trips on direct TLS.
func ExampleDialer_LoginFAST() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var d register.Dialer
	acct, err := (&register.Client{Dialer: d}).Register(ctx, "example.org", register.Request{
		Username: "juliet", Password: os.Getenv("PASSWORD"), Login: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	acct.Session.Close()
	acct.Session.Conn().Close()
	if acct.Token == nil {
		log.Print("the server issued no FAST token: log in with the password")
		return
	}
	// The application stores acct.Token (Secret, Expiry, Mechanism,
	// UserAgentID) where it keeps credentials; printing it shows no secret.
	log.Printf("got %v", acct.Token)

	again, err := d.LoginFAST(ctx, acct.JID, acct.Token)
	if err != nil {
		log.Fatal(err) // a refused token: log in with the password
	}
	defer again.Session.Conn().Close()
	defer again.Session.Close()
	if again.Token != nil {
		// The server replaced the token: keep the new one.
		acct.Token = again.Token
	}
	go again.Session.Serve(nil)
}

// Log in to an existing account with SASL2 and Bind2 where the server
// offers them, and get a FAST token.
func ExampleDialer_Login() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := register.Dialer{SASL2: register.SASL2Options{Software: "MyChat", Device: "phone"}}
	acct, err := d.Login(ctx, "example.org", "juliet", os.Getenv("PASSWORD"))
	if err != nil {
		log.Fatal(err)
	}
	defer acct.Session.Conn().Close()
	defer acct.Session.Close()
	log.Printf("logged in as %v, token %v", acct.Session.LocalAddr(), acct.Token)
}
