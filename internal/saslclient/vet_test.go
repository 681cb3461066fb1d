package saslclient

import (
	"errors"
	"testing"
	"time"

	"mellium.im/sasl"
)

func TestServerFirst(t *testing.T) {
	good := "r=abc123server,s=QSXCR+Q6sek8bf92,i=4096"
	if err := ServerFirst([]byte(good)); err != nil {
		t.Fatalf("valid message refused: %v", err)
	}
	for _, bad := range []string{
		"abc", "r=x,s=y", "r=x,s=y,i=0", "r=x,s=y,i=-1", "r=x,s=eQ==,i=2147483647",
		"r=x,s=y,i=4096,abc", "r=x,s=y,i=4096,=", "m=ext,r=x,s=y,i=1", "", "r=x,s=y,i=1e3",
		// mellium.im/sasl loops forever on a last attribute shorter than
		// three bytes (found by FuzzServerFirst in a long run).
		"r=abc,s=c2FsdA==,i=1,x=", "r=abc,s=c2FsdA==,i=1,x", "r=abc,s=c2FsdA==,i=+1",
		"r=abc,s=c2FsdA==,i=1,x=a\x00", "r=abc,s=!!!,i=1",
	} {
		if err := ServerFirst([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", bad, err)
		}
	}
}

// FuzzServerFirst shows that every message the check lets through,
// mellium.im/sasl handles promptly (it hangs on some it refuses).
func FuzzServerFirst(f *testing.F) {
	f.Add([]byte("r=abc,s=QSXCR+Q6sek8bf92,i=4096"))
	f.Add([]byte("abc"))
	f.Add([]byte("r=abc,s=c2FsdA==,i=1,x=y"))
	f.Add([]byte("r=abc,s=c2FsdA==,i=1,x="))
	f.Fuzz(func(t *testing.T, challenge []byte) {
		if ServerFirst(challenge) != nil {
			return
		}
		c := sasl.NewClient(sasl.ScramSha1, sasl.Credentials(func() ([]byte, []byte, []byte) {
			return []byte("user"), []byte("pencil"), nil
		}))
		if _, _, err := c.Step(nil); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Step(challenge)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("sasl hangs on an accepted challenge %q", challenge)
		}
	})
}
