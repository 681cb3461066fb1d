package onboard

import (
	"context"
	"sync"
	"time"

	"github.com/xmpp-onboard/onboard/providers"
	"github.com/xmpp-onboard/onboard/register"
)

// The verification scheduler: which candidates are verified when, and
// which verified one is taken. The decisions are in [scheduler], a state
// machine without goroutines, timers or a clock of its own (the caller
// passes the time), so that its unit tests run on a fake clock; the
// goroutines, connections and events are in [run.verify].
//
// The rules, in the words of the package documentation (# How Signup
// chooses):
//
//   - At most Parallel candidates are verified at once, in list order.
//   - A candidate that has not answered within the hedge delay is
//     overdue: it keeps running, but no longer takes one of the Parallel
//     slots, so the next candidate starts (hedging) without waiting for
//     Timeout. Hedges start one at a time: the next one only when the
//     previous one is overdue too (a gentle ramp, not a burst, on a slow
//     network). At most Parallel overdue candidates run beside the
//     Parallel others: never more than 2×Parallel verifications at once.
//   - The hedge delay is learned: a quarter more than the slowest
//     successful verification of the run (a round after a failed
//     registration starts with what the earlier ones learned), at least
//     minHedge; before any candidate was verified it is defaultHedge
//     (less: hedging is cheap, and nothing is held back before a
//     verification). It never exceeds Timeout.
//   - A candidate that fails (refused connection, no such domain, closed
//     registration, …) frees its slot at once.
//   - The list order is the user's preference and a fair shuffle, so a
//     verified candidate is held back while an earlier one may still be
//     as fast: one whose server answered (register.StageGreeted: its
//     stream header, or the direct TLS handshake) is waited for up to a
//     hedge delay after that answer; one that has not answered yet, while
//     it has run less than a quarter more than the held one took to
//     answer (and never once overdue). A later provider therefore wins by
//     being faster only over an earlier one whose server is slower to
//     answer by more than a quarter, or dead; a provider that never
//     answers (or answers only to TCP) costs little more than the winner's
//     own time, not Timeout.
//   - While a verified candidate is held back, no further one starts
//     (those could not be taken before it anyway).

const (
	// defaultHedge is the hedge delay before any candidate was verified:
	// less than a verification takes on a good link (TCP, STARTTLS and
	// the stream, TLS, the stream header with the form request, the form:
	// four round trips, 200 ms at 50 ms), so that three dead candidates
	// first cost less than one more verification. On a slow network it
	// starts up to Parallel more verifications early; the first answer
	// then raises the delay.
	defaultHedge = 150 * time.Millisecond
	// minHedge is the least hedge delay once a candidate was verified,
	// and so the least time a live earlier candidate is waited for after
	// its server answered: fast servers keep their order among themselves
	// however fast the fastest is.
	minHedge = 300 * time.Millisecond
	// minPatience is the least time a candidate whose server has not
	// answered yet is waited for (patience).
	minPatience = 50 * time.Millisecond
)

// scheduler decides, for the candidates 0…n-1 of one verification round,
// which to start and which verified one to take. The zero value is not
// usable; see newScheduler. Times are passed in by the caller.
type scheduler struct {
	n        int           // candidates
	parallel int           // slots for candidates that are not overdue
	hedges   int           // overdue candidates that may run beside them
	timeout  time.Duration // per verification; caps the hedge delay (0: none)

	next    int                   // the first candidate not started yet
	running map[int]time.Time     // started, no outcome yet: start time
	hedged  map[int]bool          // started beside Parallel others
	held    map[int]bool          // verified, not taken yet
	greeted map[int]time.Time     // running, and the server answered: when
	greetIn map[int]time.Duration // held: how long after its start it answered (0: unknown)
	slowest time.Duration         // the slowest successful verification
}

// newScheduler returns the scheduler for n candidates, parallel of them
// (at least one) at once plus as many overdue ones, each verification
// bounded by timeout (zero: no bound).
func newScheduler(n, parallel int, timeout time.Duration) *scheduler {
	parallel = max(parallel, 1)
	return &scheduler{
		n:        n,
		parallel: parallel,
		hedges:   parallel,
		timeout:  timeout,
		running:  map[int]time.Time{},
		hedged:   map[int]bool{},
		held:     map[int]bool{},
		greeted:  map[int]time.Time{},
		greetIn:  map[int]time.Duration{},
	}
}

// maxRunning is the bound on verifications at once.
func (s *scheduler) maxRunning() int { return s.parallel + s.hedges }

// delay is the hedge delay: how long a candidate may run before it is
// overdue.
func (s *scheduler) delay() time.Duration {
	d := defaultHedge
	if s.slowest > 0 {
		d = max(s.slowest+s.slowest/4, minHedge)
	}
	if s.timeout > 0 {
		d = min(d, s.timeout)
	}
	return d
}

// overdue reports whether running candidate i has not answered within the
// hedge delay.
func (s *scheduler) overdue(i int, now time.Time) bool {
	return now.Sub(s.running[i]) >= s.delay()
}

// start returns the candidates to start now, in order, and counts them as
// running from now.
func (s *scheduler) start(now time.Time) []int {
	var out []int
	for len(s.held) == 0 && s.next < s.n && len(s.running) < s.maxRunning() {
		active, youngHedge := 0, false
		for i := range s.running {
			if !s.overdue(i, now) {
				active++
				youngHedge = youngHedge || s.hedged[i]
			}
		}
		hedge := len(s.running) >= s.parallel
		if active >= s.parallel || hedge && youngHedge {
			break
		}
		i := s.next
		s.next++
		s.running[i] = now
		s.hedged[i] = hedge
		out = append(out, i)
	}
	return out
}

// verified records that candidate i was verified at now.
func (s *scheduler) verified(i int, now time.Time) {
	if t, ok := s.running[i]; ok {
		s.slowest = max(s.slowest, now.Sub(t))
	}
	if g, ok := s.greeted[i]; ok {
		s.greetIn[i] = g.Sub(s.running[i])
	}
	delete(s.running, i)
	delete(s.greeted, i)
	s.held[i] = true
}

// answered records that the server of running candidate i answered at now
// (register.StageGreeted: its stream header, or the direct TLS
// handshake): a live server, not a blackhole.
func (s *scheduler) answered(i int, now time.Time) {
	if _, ok := s.running[i]; ok {
		s.greeted[i] = now
	}
}

// failed records that the verification of candidate i failed.
func (s *scheduler) failed(i int) {
	delete(s.running, i)
	delete(s.greeted, i)
}

// waitFor reports whether choose waits for running candidate i before it
// takes the later verified candidate first. A server that answered is
// live: it is waited for up to a hedge delay after its answer. One that
// has not answered yet is waited for while it has run for less than a
// quarter more than first took to answer (a server that slow to answer is
// not within a quarter of first's speed, or is dead), and never once it
// is overdue.
func (s *scheduler) waitFor(i, first int, now time.Time) bool {
	if t, ok := s.greeted[i]; ok {
		return now.Sub(t) < s.delay()
	}
	return now.Sub(s.running[i]) < s.patience(first)
}

// patience is how long a candidate that has not answered is waited for
// before the held candidate first is taken: a quarter more than first
// took to answer, at least minPatience (on a fast link the times are
// jitter), at most the hedge delay.
func (s *scheduler) patience(first int) time.Duration {
	d := s.delay()
	if g := s.greetIn[first]; g > 0 {
		d = min(d, max(g+g/4, minPatience))
	}
	return d
}

// choose returns the verified candidate to take now, or -1: the first
// held one, once no candidate before it is still waited for (waitFor).
func (s *scheduler) choose(now time.Time) int {
	first := -1
	for i := range s.held {
		if first < 0 || i < first {
			first = i
		}
	}
	if first < 0 {
		return -1
	}
	for i := range s.running {
		if i < first && s.waitFor(i, first, now) {
			return -1
		}
	}
	return first
}

// wake returns the next time after now at which start or choose may
// decide differently without a new outcome (a running candidate becomes
// overdue), and false if there is none.
func (s *scheduler) wake(now time.Time) (time.Time, bool) {
	d := s.delay()
	var at time.Time
	next := func(due time.Time) {
		if due.After(now) && (at.IsZero() || due.Before(at)) {
			at = due
		}
	}
	for i, t := range s.running {
		next(t.Add(d))
		if g, ok := s.greeted[i]; ok {
			next(g.Add(d))
		}
		for h := range s.held {
			next(t.Add(s.patience(h)))
		}
	}
	return at, !at.IsZero()
}

// busy reports whether a verification is running.
func (s *scheduler) busy() bool { return len(s.running) > 0 }

// holding reports whether a verified candidate waits to be taken.
func (s *scheduler) holding() bool { return len(s.held) > 0 }

// pending reports whether candidate i was started and not finished: still
// running, or verified and not taken. Such a candidate is tried again in
// the next round.
func (s *scheduler) pending(i int) bool {
	_, running := s.running[i]
	return running || s.held[i]
}

// verified is a provider whose registration form was received.
type verified struct {
	p     providers.Provider
	conn  *register.Conn
	form  *register.Form
	start time.Time
}

// progress is an event of the verification of candidate i.
type progress struct {
	i int
	e Event
}

// outcome is what a verification goroutine reports.
type outcome struct {
	i   int
	v   *verified
	err *AttemptError
}

// verify verifies the providers of queue as the scheduler says and
// returns the one to register on (nil if none worked) and the providers
// not tried yet or interrupted, in order. Failures are added to
// r.attempts. Every goroutine it starts has returned, and every other
// connection is closed, when it returns.
func (r *run) verify(ctx context.Context, queue []providers.Provider) (*verified, []providers.Provider) {
	vctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan any)
	var wg sync.WaitGroup
	sch := newScheduler(len(queue), r.s.parallel(), r.s.timeout())
	sch.slowest = r.slowest
	defer func() { r.slowest = sch.slowest }()
	done := map[int]*verified{}
	launch := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			emit := func(e Event) {
				select {
				case msgs <- progress{i: i, e: e}:
				case <-vctx.Done():
				}
			}
			v, err := r.verifyOne(vctx, queue[i], emit)
			select {
			case msgs <- outcome{i: i, v: v, err: err}:
			case <-vctx.Done():
				if v != nil {
					v.conn.Close()
				}
			}
		}()
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	win := -1
loop:
	for ctx.Err() == nil {
		now := time.Now()
		if win = sch.choose(now); win >= 0 {
			break
		}
		for _, i := range sch.start(now) {
			launch(i)
		}
		if !sch.busy() {
			break
		}
		if at, ok := sch.wake(now); ok {
			timer.Reset(at.Sub(now))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			// Interrupted: the goroutines may drop their outcomes now.
			break loop
		case <-timer.C:
		case m := <-msgs:
			switch m := m.(type) {
			case progress:
				if m.e.Stage == stageGreeted {
					sch.answered(m.i, time.Now())
					continue
				}
				r.event(m.e)
			case outcome:
				if m.v != nil {
					sch.verified(m.i, time.Now())
					done[m.i] = m.v
					continue
				}
				sch.failed(m.i)
				r.attempts = append(r.attempts, m.err)
				nextDomain := ""
				if !sch.holding() && ctx.Err() == nil && sch.next < len(queue) {
					nextDomain = queue[sch.next].JID
				}
				r.event(Event{Stage: StageFallback, Domain: m.err.Domain, Err: m.err, Next: nextDomain})
			}
		}
	}
	cancel()
	wg.Wait()
	var v *verified
	if win >= 0 {
		v = done[win]
		delete(done, win)
	}
	var rest []providers.Provider
	for i := 0; i < sch.next; i++ {
		if d := done[i]; d != nil {
			d.conn.Close()
		}
		if i != win && sch.pending(i) {
			rest = append(rest, queue[i])
		}
	}
	rest = append(rest, queue[sch.next:]...)
	if v != nil {
		r.event(Event{Stage: StageChosen, Domain: v.p.JID})
	}
	return v, rest
}
