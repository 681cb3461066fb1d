package onboard_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"time"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/rating"
	"github.com/xmpp-onboard/onboard/register"
)

// The tour, offline: choose a provider from the embedded list the way
// Signup does, see why it has its category, and describe it to a German
// newcomer.
func Example() {
	l := providers.Embedded()
	q := providers.Query{
		Categories:         []providers.Category{providers.CategoryA},
		InBandRegistration: true,
		NoCaptcha:          true, // this app cannot show CAPTCHAs
		Prefer:             providers.Preference{Language: "de", Country: "de"},
	}
	fmt.Println(len(l.Candidates(q)), "candidates")

	p, err := l.Pick(rand.New(rand.NewPCG(1, 2)), q)
	if err != nil {
		log.Fatal(err) // errors.Is(err, providers.ErrNoMatch)
	}
	r := rating.Evaluate(p, l.Published.Time())
	fmt.Println(p.JID, "is in category", r.Category)

	info := onboard.Describe(p, "de")
	fmt.Println("uploads up to", info.UploadFileSize, "kept", info.UploadStorageTime)
	// Output:
	// 5 candidates
	// xmpp.party is in category A
	// uploads up to 20 MB kept 7 days
}

// The one call a chat client makes: a working account on a good provider,
// logged in. The human steps are callbacks.
func ExampleSignup_Run() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := onboard.Signup{
		Username: "juliet", // "" generates one; a taken name gets digits
		Language: "de",
		Country:  "de",
		SolveCaptcha: func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
			return askUser(c.Image, c.MIME, c.Label) // show the image, return what the user types
		},
		Progress: func(e onboard.Event) { log.Println(e) }, // "fallback: a.example failed (…), trying b.example"
	}
	res, err := s.Run(ctx)
	if err != nil {
		log.Fatal(err) // see ExampleNoProviderError
	}
	defer res.Close() // or keep res.Session and run its Serve method

	// Store res.JID and res.Password (generated: res.PasswordGenerated),
	// and show the newcomer where to get help.
	fmt.Println("your address:", res.JID)
	fmt.Println("help:", res.Info.Website, res.Info.EmailSupport)
	fmt.Println("forgot your password?", res.Info.PasswordReset)
}

// askUser stands for the application's CAPTCHA dialog.
func askUser(image []byte, mime, question string) (string, error) {
	if err := os.WriteFile("captcha.img", image, 0o600); err != nil {
		return "", err
	}
	var answer string
	fmt.Print(question, ": ")
	_, err := fmt.Scanln(&answer)
	return answer, err
}

// What to tell the user when no provider worked.
func ExampleNoProviderError() {
	s := onboard.Signup{Timeout: 5 * time.Second}
	_, err := s.Run(context.Background())
	var npe *onboard.NoProviderError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		log.Print("gave up; are you online?")
	case errors.As(err, &npe):
		for _, a := range npe.Attempts {
			switch {
			case errors.Is(a, register.ErrRateLimited):
				log.Printf("%s: too many sign-ups from your network, try later", a.Domain)
			case errors.Is(a, register.ErrRegistrationClosed):
				log.Printf("%s: closed for new accounts", a.Domain)
			default:
				log.Printf("%s: %v", a.Domain, a.Err)
			}
		}
	}
}

// A server of your own, with its own CA: name it in Domain (no choice,
// no fallback) and connect to it through Dialer.Addr and TLSConfig.
func ExampleSignup_Run_ownServer() {
	pem, err := os.ReadFile("ca.pem") // the CA that signed the server's certificate
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	s := onboard.Signup{
		Domain:   "chat.example.com",
		Username: "juliet",
		Dialer: register.Dialer{
			Addr:      "10.0.0.5:5222", // skips the SRV lookup
			TLSConfig: &tls.Config{RootCAs: roots},
		},
	}
	res, err := s.Run(context.Background())
	if err != nil {
		log.Fatal(err) // errors.Is(err, onboard.ErrAddrWithoutDomain) without Domain
	}
	defer res.Close()
	fmt.Println(res.JID, res.PasswordGenerated)
}

// An invitation link registers on the inviting server, with the name it
// proposes.
func ExampleSignup_Run_invite() {
	s := onboard.Signup{Invite: "xmpp:example.org?register;preauth=TOKEN"}
	res, err := s.Run(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer res.Close()
	fmt.Println(res.JID)
}

// A sign-up page, a bot or a bridge that does not stay logged in ends the
// session at once; the account remains.
func ExampleResult_Close() {
	res, err := (&onboard.Signup{}).Run(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	res.Close()
	saveCredentials(res.JID.String(), res.Password)
}

// saveCredentials stands for the application's key store.
func saveCredentials(jid, password string) {}

// Describe a provider in the user's language.
func ExampleDescribe() {
	p, _ := providers.Embedded().Lookup("jabjab.de")
	info := onboard.Describe(p, "de")
	fmt.Println(info.Website)
	fmt.Println(info.ArchiveStorageTime)
	// Output:
	// https://www.jabjab.de
	// 90 days
}
