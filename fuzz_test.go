package onboard_test

import (
	"bufio"
	"context"
	"github.com/xmpp-onboard/onboard/internal/fakedns"
	"os"
	"strings"
	"testing"

	"github.com/xmpp-onboard/onboard"
	"github.com/xmpp-onboard/onboard/register"
)

// FuzzSignupInput feeds Run what users type (a username, an invitation
// link, a server name): it must refuse bad input before connecting, never
// connect to anything but a plausible domain, and never put the password
// into an error.
func FuzzSignupInput(f *testing.F) {
	file, err := os.Open("testdata/signup-inputs.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			parts := strings.SplitN(line+"\t\t", "\t", 3)
			f.Add(parts[0], parts[1], strings.TrimSuffix(parts[2], "\t\t"))
		}
	}
	file.Close()
	const pass = "fuzz-Passw0rd-SECRET"
	f.Fuzz(func(t *testing.T, username, invite, domain string) {
		res0 := &fakedns.Resolver{}
		s := onboard.Signup{
			Username: username, Password: pass, Invite: invite, Domain: domain,
			Providers: list(provider("a.example", "en", "de")),
			Dialer:    register.Dialer{Resolver: res0},
		}
		res, err := s.Run(context.Background())
		if res != nil || err == nil {
			t.Fatalf("Run(%q, %q, %q) = %v, %v", username, invite, domain, res, err)
		}
		if strings.Contains(err.Error(), pass) {
			t.Fatalf("error shows the password: %v", err)
		}
		dialed := res0.Domains()
		if len(dialed) == 0 {
			return
		}
		if username != "" {
			if _, err := register.NormalizeUsername(username); err != nil {
				t.Errorf("connected with the invalid username %q", username)
			}
		}
		for _, d := range dialed {
			if d == "" || d != strings.ToLower(d) || strings.HasSuffix(d, ".") || strings.ContainsAny(d, "/@ \t\n") {
				t.Errorf("connected to %q", d)
			}
		}
	})
}
