package saslclient

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/sasl"
)

// server is a real SCRAM-SHA-256 server (mellium.im/sasl's) that knows
// password for user "juliet".
func server(password string) *sasl.Negotiator {
	salt := []byte("saltsaltsaltsalt")
	return sasl.NewServer(sasl.ScramSha256, nil, sasl.SaltedCredentials(func(_, _ []byte, _ string) ([]byte, []byte, int64, error) {
		return salt, sasl.SCRAMSaltPassword(sha256.New, []byte(password), salt, 4096), 4096, nil
	}))
}

func client(password string) *Negotiation {
	return New(sasl.ScramSha256, "juliet", password, []string{"SCRAM-SHA-256"}, tls.ConnectionState{})
}

// exchange runs a full SCRAM exchange between a client with password
// and a server that knows serverPassword, and returns the client's
// verdict on the server's success.
func exchange(t *testing.T, password, serverPassword string) error {
	t.Helper()
	ctx := context.Background()
	c, s := client(password), server(serverPassword)
	first, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, serverFirst, err := s.Step(first)
	if err != nil {
		t.Fatal(err)
	}
	final, err := c.Challenge(ctx, serverFirst)
	if err != nil {
		return err
	}
	_, serverFinal, err := s.Step(final)
	if err != nil {
		// The server refuses the proof: it sends a failure, never
		// a success. Feed the client a forged success instead.
		return c.Success(ctx, []byte("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	}
	return c.Success(ctx, serverFinal)
}

func TestNegotiationProven(t *testing.T) {
	if err := exchange(t, "pencil", "pencil"); err != nil {
		t.Fatalf("a server that knows the password: %v", err)
	}
	if err := exchange(t, "pencil", "wrong"); !errors.Is(err, ErrServerSignature) {
		t.Fatalf("a forged server signature: err = %v, want ErrServerSignature", err)
	}
}

// TestSuccessBeforeChallenge is the hole of issue 11: a <success/> at once,
// its data shaped like a server-first-message, was taken for a login.
func TestSuccessBeforeChallenge(t *testing.T) {
	ctx := context.Background()
	for _, data := range []string{
		"", // no data
		"r=NONCEsrv,s=c2FsdHNhbHRzYWx0,i=4096",
		"r=NONCEsrv,s=c2FsdHNhbHRzYWx0,i=2147483647", // PBKDF2 for hours
		"r=NONCEsrv,s=c2FsdHNhbHRzYWx0,i=4096,x=",    // mellium's parser loops
		"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	} {
		c := client("pencil")
		first, err := c.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(first[strings.Index(string(first), "r=")+2:])
		done := make(chan error, 1)
		go func() { done <- c.Success(ctx, []byte(strings.ReplaceAll(data, "NONCE", nonce))) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrUnproven) {
				t.Errorf("success %q before a challenge: err = %v, want ErrUnproven", data, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("success %q before a challenge: still running after 10 s", data)
		}
	}
}

// TestSuccessAfterFirstOnly: a success whose data is a second
// server-first-message (after a real one) is not a proof either.
func TestSuccessNotAFinal(t *testing.T) {
	ctx := context.Background()
	c, s := client("pencil"), server("pencil")
	first, _ := c.Start(ctx)
	_, serverFirst, _ := s.Step(first)
	if _, err := c.Challenge(ctx, serverFirst); err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{string(serverFirst), "e=invalid-proof", "e=hunter2", "x=y", "v=!!"} {
		c2 := *c
		err := c2.Success(ctx, []byte(data))
		if err == nil {
			t.Errorf("success %q accepted", data)
		}
		var se *ServerError
		if errors.As(err, &se) && se.Value != "invalid-proof" && se.Value != "other-error" {
			t.Errorf("server error value %q kept", se.Value)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error quotes the server: %v", err)
		}
	}
}

func TestChallengeAfterComplete(t *testing.T) {
	ctx := context.Background()
	p := New(sasl.Plain, "juliet", "pencil", []string{"PLAIN"}, tls.ConnectionState{})
	if _, err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Challenge(ctx, []byte("r=x,s=eHl6,i=1")); !errors.Is(err, ErrUnexpectedChallenge) {
		t.Fatalf("challenge to PLAIN: err = %v", err)
	}
	p = New(sasl.Plain, "juliet", "pencil", []string{"PLAIN"}, tls.ConnectionState{})
	p.Start(ctx)
	if err := p.Success(ctx, nil); err != nil {
		t.Fatalf("PLAIN success: %v", err)
	}
}

// TestStepHonoursContext: a step cannot keep the caller past its context.
func TestStepHonoursContext(t *testing.T) {
	c := client("pencil")
	ctx, cancel := context.WithCancel(context.Background())
	c.Start(ctx)
	cancel()
	if _, err := c.Challenge(ctx, []byte("r=x,s=eHl6,i=4096")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := c.Challenge(context.Background(), []byte("r=x,s=eHl6,i=4096")); err == nil {
		t.Fatal("a failed negotiation went on")
	}
}

// ownTexts are the texts of this package's errors (with MaxIterations and
// MaxMessage in them): a server payload found in an error's message is a
// quote only if it is not part of them.
var ownTexts = strings.Join([]string{
	ErrMalformed.Error(), ErrUnexpectedChallenge.Error(), ErrUnproven.Error(),
	ErrServerSignature.Error(), ErrFailed.Error(), (&ServerError{Value: "other-error"}).Error(),
	"mandatory extension", "salt is not base64", "iteration count is not a decimal number",
	"iteration count not in 1..100000", "nonce, salt or iteration count missing",
	"server signature is not base64", "neither a verifier nor an error", "4096 bytes",
	"attribute 1 is not a letter, '=' and a value", "control character in attribute 1",
	ErrDowngrade.Error(), ErrChannelBinding.Error(), "the server nonce does not extend the client's",
}, "|")

// FuzzNegotiation drives a client through any sequence of server
// payloads — challenges and a success — and checks that it returns
// promptly, never succeeds without a verified server signature, and
// never quotes what the server sent. It reaches the success path with or
// without a challenge before it (issue 11).
func FuzzNegotiation(f *testing.F) {
	f.Add([]byte("r=NONCEsrv,s=c2FsdA==,i=4096"), []byte(""), []byte("v=AAAA"), uint8(1))
	f.Add([]byte("r=NONCEsrv,s=c2FsdA==,i=4096"), []byte(""), []byte("r=NONCEsrv,s=c2FsdA==,i=4096"), uint8(0))
	f.Add([]byte(""), []byte(""), []byte("r=NONCEsrv,s=c2FsdA==,i=2147483647"), uint8(0))
	f.Add([]byte("r=NONCEsrv,s=c2FsdA==,i=4096,x="), []byte(""), []byte(""), uint8(1))
	f.Add([]byte("r=NONCEsrv,s=c2FsdA==,i=4096"), []byte("v=AAAA"), []byte(""), uint8(2))
	f.Fuzz(func(t *testing.T, c1, c2, success []byte, challenges uint8) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c := client("pencil")
		first, err := c.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nonce := first[strings.Index(string(first), "r=")+2:]
		fill := func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), "NONCE", string(nonce))) }
		done := make(chan error, 1)
		go func() {
			for i, ch := range [][]byte{c1, c2}[:min(int(challenges)%3, 2)] {
				_ = i
				if _, err := c.Challenge(ctx, fill(ch)); err != nil {
					done <- err
					return
				}
			}
			done <- c.Success(ctx, fill(success))
		}()
		select {
		case err := <-done:
			if err == nil {
				// Only a real server signature proves anything, and
				// no fuzzer can forge HMAC-SHA-256.
				t.Fatalf("success accepted: challenges %q %q, success %q", c1, c2, success)
			}
			if len(success) > 3 && strings.Contains(err.Error(), string(success)) && !strings.Contains(ownTexts, string(success)) {
				t.Fatalf("error quotes the server: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("negotiation hangs: challenges %q %q, success %q", c1, c2, success)
		}
	})
}
