package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// State says what the prober learned about one part of a server.
type State uint8

// The three states of a part. The zero State is Unknown.
const (
	// Unknown means the prober could not tell: the part was not probed,
	// the server did not answer in time, or it needs an account. The
	// Status reason and error say why.
	Unknown State = iota
	// Observed means the prober saw the part and its values are filled.
	Observed
	// Absent means the server (or DNS, or the web server) answered that
	// the part does not exist: no SRV records, nothing listening,
	// registration closed, no provider file (HTTP 404) and so on.
	Absent
)

// String returns "unknown", "observed" or "absent".
func (s State) String() string {
	switch s {
	case Observed:
		return "observed"
	case Absent:
		return "absent"
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	switch string(b) {
	case "observed":
		*s = Observed
	case "absent":
		*s = Absent
	case "unknown", "":
		*s = Unknown
	default:
		return fmt.Errorf("discovery: invalid state %q", b)
	}
	return nil
}

// Status is the outcome of probing one part of a server.
type Status struct {
	// State is Observed, Absent or Unknown.
	State State
	// Reason explains an Absent or Unknown state (and notable Observed
	// ones) in a few words, e.g. "needs an account".
	Reason string
	// Err is the cause, if an error caused the state. Match it with
	// errors.Is or errors.As: ErrNeedsAccount, ErrSkipped, ErrTooLarge,
	// stanza.Error, stream.Error, *net.OpError, context.DeadlineExceeded
	// and so on.
	Err error
	// Took is how long probing this part took. Parts that run at the same
	// time overlap, so the durations do not add up to Report.Took.
	Took time.Duration
}

// Observed reports whether the part was observed.
func (s Status) Observed() bool { return s.State == Observed }

// String formats the status for people, e.g. "unknown (needs an account)".
func (s Status) String() string {
	r := s.Reason
	if r == "" && s.Err != nil {
		r = s.Err.Error()
	}
	if r == "" {
		return s.State.String()
	}
	return s.State.String() + " (" + r + ")"
}

func observed(took time.Duration) Status { return Status{State: Observed, Took: took} }

func absent(reason string, err error, took time.Duration) Status {
	return Status{State: Absent, Reason: reason, Err: err, Took: took}
}

func unknown(reason string, err error, took time.Duration) Status {
	return Status{State: Unknown, Reason: reason, Err: err, Took: took}
}

// skipped is the status of a part the Prober was told not to probe.
func skipped() Status { return Status{State: Unknown, Reason: "not probed", Err: ErrSkipped} }

// statusJSON is the JSON shape of a Status.
type statusJSON struct {
	State  State   `json:"state"`
	Reason string  `json:"reason,omitempty"`
	Error  string  `json:"error,omitempty"`
	TookMS float64 `json:"tookMs,omitempty"`
}

// MarshalJSON encodes the status as {"state", "reason", "error", "tookMs"}.
// The error is written as its message.
func (s Status) MarshalJSON() ([]byte, error) {
	j := statusJSON{State: s.State, Reason: s.Reason, TookMS: ms(s.Took)}
	if s.Err != nil {
		j.Error = s.Err.Error()
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON wrote. The error comes back as an
// error with the same message; errors.Is matches the sentinels of this
// package (ErrNeedsAccount, ErrSkipped …) when the message starts with one,
// but no other error types are restored.
func (s *Status) UnmarshalJSON(b []byte) error {
	var j statusJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Status{State: j.State, Reason: j.Reason, Err: errorFromText(j.Error), Took: fromMS(j.TookMS)}
	return nil
}

func ms(d time.Duration) float64 {
	// Round to microseconds to keep the JSON short.
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

func fromMS(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// errorFromText rebuilds an error read from JSON.
func errorFromText(s string) error {
	if s == "" {
		return nil
	}
	for _, e := range sentinels {
		if s == e.Error() {
			return e
		}
		if rest, ok := strings.CutPrefix(s, e.Error()+": "); ok {
			return &textError{sentinel: e, msg: s, rest: rest}
		}
	}
	return errors.New(s)
}

// textError is an error read back from JSON whose message starts with a
// sentinel's.
type textError struct {
	sentinel error
	msg      string
	rest     string
}

func (e *textError) Error() string { return e.msg }

func (e *textError) Unwrap() error { return e.sentinel }
