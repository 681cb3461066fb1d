package onboard

import (
	"testing"
	"time"
)

// TestTimeoutConvention: zero is DefaultTimeout, a negative Timeout no
// limit but the context's (as in register and discovery).
func TestTimeoutConvention(t *testing.T) {
	for _, tc := range []struct{ v, want time.Duration }{
		{0, DefaultTimeout},
		{-1, 0},
		{3 * time.Second, 3 * time.Second},
	} {
		if got := (&Signup{Timeout: tc.v}).timeout(); got != tc.want {
			t.Errorf("Timeout %v: %v, want %v", tc.v, got, tc.want)
		}
	}
	if s := newScheduler(3, 1, (&Signup{Timeout: -1}).timeout()); s.timeout != 0 {
		t.Errorf("a negative Timeout gives the scheduler a bound of %v", s.timeout)
	}
}
