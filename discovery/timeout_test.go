package discovery

import (
	"context"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"testing"
	"time"
)

// TestTimeoutConvention: zero is the default, a negative value no limit
// but the context's, as in register and onboard.
func TestTimeoutConvention(t *testing.T) {
	for _, tc := range []struct{ v, want time.Duration }{
		{0, DefaultTimeout},
		{-1, 0},
		{-time.Hour, 0},
		{time.Second, time.Second},
	} {
		if got := (&Prober{Timeout: tc.v}).timeout(); got != tc.want {
			t.Errorf("Timeout %v: %v, want %v", tc.v, got, tc.want)
		}
	}
	ctx, cancel := xmppconn.WithTimeout(context.Background(), (&Prober{Timeout: -1}).timeout())
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Error("a negative Timeout set a deadline")
	}
	ctx, cancel = xmppconn.WithTimeout(context.Background(), (&Prober{}).httpTimeout())
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > DefaultHTTPTimeout {
		t.Errorf("zero HTTPTimeout: deadline %v, %v; want DefaultHTTPTimeout", d, ok)
	}
}
