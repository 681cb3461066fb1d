package onboard_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/register"
)

// A typed username that is taken is the user's to change: Run suggests
// other names instead of creating "juliet360" behind their back.
func ExampleUsernameTakenError() {
	s := onboard.Signup{Username: "juliet", Domain: "example.org"}
	res, err := s.Run(context.Background())
	var taken *onboard.UsernameTakenError
	switch {
	case errors.As(err, &taken):
		fmt.Printf("%s is taken on %s; how about %v?\n", taken.Username, taken.Domain, taken.Suggestions)
	case err != nil:
		fmt.Println(err)
	default:
		defer res.Close()
		fmt.Println("registered", res.JID)
	}
}

// CAPTCHA feedback: after a wrong answer the solver is called again with
// the new challenge and the reason.
func ExampleSignup_captchaFeedback() {
	s := onboard.Signup{
		SolveCaptcha: func(ctx context.Context, domain string, c *register.Captcha) (string, error) {
			if c.Retry > 0 {
				fmt.Printf("That was not right (%v); here is a new one.\n", c.PreviousError)
			}
			if c.FallbackURL != "" {
				fmt.Println("or solve it at", c.FallbackURL)
			}
			return askUser(c.Image, c.MIME, c.Label)
		},
		// Invitation pages (https://example.org/invite?TOKEN) are fetched
		// only because the application says so.
		InvitePages: &register.InviteFetcher{},
		Invite:      "https://example.org/invite?TOKEN",
	}
	_, _ = s.Run(context.Background())
}
