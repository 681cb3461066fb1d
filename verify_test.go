package onboard

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Unit tests of the verification scheduler on a fake clock: simulate
// plays the candidates' answers as events at chosen instants; nothing
// sleeps and nothing depends on the machine's speed.

// simCand is a simulated candidate: it answers after took, verified if ok;
// a candidate with never set does not answer and fails at the timeout.
type simCand struct {
	took    time.Duration
	ok      bool
	never   bool
	greeted time.Duration // when its server answered (0: never)
}

// alive is verified after d; its server answers (the stream header) after
// two of the five round trips, TCP and the header.
func alive(d time.Duration) simCand   { return simCand{took: d, ok: true, greeted: d * 2 / 5} }
func refused(d time.Duration) simCand { return simCand{took: d} }

var blackhole = simCand{never: true}

// simResult is what one simulated round did.
type simResult struct {
	win        int           // the candidate taken, -1 if none
	at         time.Duration // when (or when the round ended)
	starts     map[int]time.Duration
	maxRunning int
}

// simulate runs a scheduler over cands on a fake clock.
func simulate(t *testing.T, cands []simCand, parallel int, timeout time.Duration) simResult {
	t.Helper()
	t0 := time.Unix(1_000_000, 0)
	now := t0
	s := newScheduler(len(cands), parallel, timeout)
	due := map[int]time.Time{}
	secure := map[int]time.Time{}
	res := simResult{win: -1, starts: map[int]time.Duration{}}
	for range 10000 {
		if w := s.choose(now); w >= 0 {
			res.win, res.at = w, now.Sub(t0)
			return res
		}
		for _, i := range s.start(now) {
			res.starts[i] = now.Sub(t0)
			if cands[i].never {
				due[i] = now.Add(timeout)
			} else {
				due[i] = now.Add(cands[i].took)
			}
			if cands[i].greeted > 0 {
				secure[i] = now.Add(cands[i].greeted)
			}
		}
		res.maxRunning = max(res.maxRunning, len(s.running))
		if len(s.running) > s.maxRunning() {
			t.Fatalf("%d running, bound %d", len(s.running), s.maxRunning())
		}
		if !s.busy() {
			res.at = now.Sub(t0)
			return res
		}
		var next time.Time
		for _, ds := range []map[int]time.Time{due, secure} {
			for _, d := range ds {
				if next.IsZero() || d.Before(next) {
					next = d
				}
			}
		}
		if at, ok := s.wake(now); ok && at.Before(next) {
			next = at
		}
		if !next.After(now) && len(due) == 0 {
			t.Fatal("no progress")
		}
		now = next
		for i, d := range secure {
			if !d.After(now) {
				delete(secure, i)
				s.answered(i, now)
			}
		}
		var ready []int
		for i, d := range due {
			if !d.After(now) {
				ready = append(ready, i)
			}
		}
		slices.Sort(ready)
		for _, i := range ready {
			delete(due, i)
			if cands[i].ok && !cands[i].never {
				s.verified(i, now)
			} else {
				s.failed(i)
			}
		}
	}
	t.Fatal("the simulation did not end")
	return res
}

const ms = time.Millisecond

func TestVerifySchedulerOrder(t *testing.T) {
	// All answer at once, within the hedge delay: the first in list order
	// is taken when it answers, and no more than Parallel were started.
	r := simulate(t, []simCand{alive(140 * ms), alive(140 * ms), alive(140 * ms), alive(140 * ms)}, 3, 2*time.Second)
	if r.win != 0 || r.at != 140*ms {
		t.Errorf("took %d at %v, want 0 at 140ms", r.win, r.at)
	}
	if _, ok := r.starts[3]; ok {
		t.Errorf("candidate 3 was started: %v", r.starts)
	}
	// Slower than defaultHedge: the fourth starts beside them, and the
	// first still wins.
	r = simulate(t, []simCand{alive(270 * ms), alive(270 * ms), alive(270 * ms), alive(270 * ms)}, 3, 2*time.Second)
	if r.win != 0 || r.at != 270*ms || r.starts[3] != defaultHedge {
		t.Errorf("took %d at %v (starts %v), want 0 at 270ms, candidate 3 at %v", r.win, r.at, r.starts, defaultHedge)
	}
}

func TestVerifySchedulerHoldBack(t *testing.T) {
	// The second answers first; the first, a little slower, still wins.
	r := simulate(t, []simCand{alive(300 * ms), alive(250 * ms)}, 3, 2*time.Second)
	if r.win != 0 || r.at != 300*ms {
		t.Errorf("took %d at %v, want 0 at 300ms", r.win, r.at)
	}
	// Slower, but its server answered (at 160 ms) before the second was
	// verified (250 ms): it is live, and keeps its place.
	r = simulate(t, []simCand{alive(400 * ms), alive(250 * ms)}, 3, 2*time.Second)
	if r.win != 0 || r.at != 400*ms {
		t.Errorf("took %d at %v, want 0 at 400ms", r.win, r.at)
	}
	// Much slower: no answer (due at 400 ms) when the second is verified
	// at 250 ms, after more than a quarter more than the second took to
	// answer (100 ms): the second is taken at once.
	r = simulate(t, []simCand{alive(1000 * ms), alive(250 * ms)}, 3, 2*time.Second)
	if r.win != 1 || r.at != 250*ms {
		t.Errorf("took %d at %v, want 1 at 250ms", r.win, r.at)
	}
	// The same for fast servers, 150 ms against 20 ms, but the first is
	// waited for at least minPatience (times that short are jitter).
	r = simulate(t, []simCand{alive(150 * ms), alive(20 * ms)}, 3, 2*time.Second)
	if r.win != 1 || r.at != minPatience {
		t.Errorf("took %d at %v, want 1 at %v", r.win, r.at, minPatience)
	}
}

func TestVerifySchedulerHedge(t *testing.T) {
	// The first Parallel candidates never answer: the next ones start
	// one by one, each after defaultHedge (not after the timeout), and the
	// first of them to be verified is taken at once (the earlier ones are
	// overdue).
	cands := []simCand{blackhole, blackhole, blackhole, alive(270 * ms), alive(270 * ms), alive(270 * ms)}
	r := simulate(t, cands, 3, 10*time.Second)
	if want := defaultHedge + 270*ms; r.win != 3 || r.at != want {
		t.Errorf("took %d at %v, want 3 at %v", r.win, r.at, want)
	}
	for i, want := range map[int]time.Duration{3: defaultHedge, 4: 2 * defaultHedge} {
		if got, ok := r.starts[i]; !ok || got != want {
			t.Errorf("candidate %d started at %v, want %v", i, got, want)
		}
	}
	if _, ok := r.starts[5]; ok || r.maxRunning != 5 {
		t.Errorf("starts %v, at most %d running; want 5, candidate 5 not started", r.starts, r.maxRunning)
	}
}

func TestVerifySchedulerBound(t *testing.T) {
	// Nothing answers: a hedge every defaultHedge until 2×Parallel run
	// at once, then one each time a slot frees and the last hedge is
	// overdue.
	cands := slices.Repeat([]simCand{blackhole}, 10)
	r := simulate(t, cands, 3, 2*time.Second)
	if r.win != -1 || r.maxRunning != 6 {
		t.Errorf("win %d, at most %d running, want -1 and 6", r.win, r.maxRunning)
	}
	h := defaultHedge
	want := map[int]time.Duration{0: 0, 1: 0, 2: 0, 3: h, 4: 2 * h, 5: 3 * h,
		6: 2 * time.Second, 7: 2*time.Second + h, 8: 2*time.Second + 2*h, 9: 2*time.Second + 3*h}
	for i, w := range want {
		if r.starts[i] != w {
			t.Errorf("candidate %d started at %v, want %v (all: %v)", i, r.starts[i], w, r.starts)
		}
	}
}

func TestVerifySchedulerFailureFreesSlot(t *testing.T) {
	// A refused connection or a DNS failure (a fast failure) frees its
	// slot at once.
	r := simulate(t, []simCand{refused(5 * ms), alive(270 * ms), alive(270 * ms), alive(270 * ms)}, 3, 2*time.Second)
	if r.starts[3] != 5*ms {
		t.Errorf("candidate 3 started at %v, want 5ms", r.starts[3])
	}
	if r.win != 1 || r.at != 270*ms {
		t.Errorf("took %d at %v, want 1 at 270ms", r.win, r.at)
	}
}

func TestVerifySchedulerLearned(t *testing.T) {
	// A slow network: the candidates become overdue after defaultHedge
	// and the next ones start; the first answer (600 ms) raises the hedge
	// delay to 750 ms, so the first candidate (650 ms) is no longer
	// overdue and is waited for.
	cands := []simCand{alive(650 * ms), alive(600 * ms), blackhole, blackhole}
	r := simulate(t, cands, 2, 10*time.Second)
	if r.win != 0 || r.at != 650*ms {
		t.Errorf("took %d at %v, want 0 at 650ms", r.win, r.at)
	}
	if r.starts[2] != defaultHedge || r.starts[3] != 2*defaultHedge {
		t.Errorf("hedged starts %v, want 2 at %v and 3 at %v", r.starts, defaultHedge, 2*defaultHedge)
	}
}

func TestVerifySchedulerTimeoutCapsDelay(t *testing.T) {
	s := newScheduler(3, 1, 100*ms)
	if d := s.delay(); d != 100*ms {
		t.Errorf("delay %v with Timeout 100ms", d)
	}
}

// TestVerifyDistribution measures which provider is chosen over many
// shuffled runs (the shuffle is the fair order of Candidates), with and
// without blackholes, with a chi-square against the uniform distribution
// as providers' TestPickFair does. Provider speeds differ by up to a
// quarter (250–310 ms): within the hold-back, so the fastest must not
// win more often. A wider spread (200–450 ms) is only logged: there the
// hedge delay lets a much faster provider pass a much slower earlier one
// (the trade-off the package documentation describes).
func TestVerifyDistribution(t *testing.T) {
	const trials = 6000
	cases := []struct {
		name   string
		speed  func(p int) time.Duration
		dead   []int
		assert bool
	}{
		{"none-blackholed", func(p int) time.Duration { return 250*ms + time.Duration(p)*12*ms }, nil, true},
		{"half-blackholed", func(p int) time.Duration { return 250*ms + time.Duration(p)*12*ms }, []int{1, 3, 5}, true},
		{"wide-spread", func(p int) time.Duration { return 200*ms + time.Duration(p)*50*ms }, nil, true},
		{"wide-spread-half-blackholed", func(p int) time.Duration { return 200*ms + time.Duration(p)*50*ms }, []int{1, 3, 5}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(7, 11))
			counts := make([]int, 6)
			var total time.Duration
			for range trials {
				order := rnd.Perm(6)
				cands := make([]simCand, 6)
				for i, p := range order {
					cands[i] = alive(c.speed(p))
					if slices.Contains(c.dead, p) {
						cands[i] = blackhole
					}
				}
				r := simulate(t, cands, 3, 2*time.Second)
				if r.win < 0 {
					t.Fatal("none chosen")
				}
				counts[order[r.win]]++
				total += r.at
			}
			live := 6 - len(c.dead)
			exp := float64(trials) / float64(live)
			chi := 0.0
			for p, n := range counts {
				if slices.Contains(c.dead, p) {
					if n != 0 {
						t.Errorf("blackhole %d chosen %d times", p, n)
					}
					continue
				}
				d := float64(n) - exp
				chi += d * d / exp
			}
			// Critical values at p = 0.001: 20.5 (5 degrees of freedom),
			// 13.8 (2); three times that only catches a real bias.
			crit := map[int]float64{6: 20.5, 3: 13.8}[live]
			t.Logf("%s: chosen %v, chi² = %.1f (df %d, p=0.001 critical %.1f), mean time %v",
				c.name, counts, chi, live-1, crit, total/trials)
			if c.assert && chi > 3*crit {
				t.Errorf("not uniform: chi² = %.1f: %v", chi, counts)
			}
		})
	}
}

func TestVerifySchedulerEarlierRound(t *testing.T) {
	// A round after a failed registration starts with the delay the
	// earlier ones learned (400 ms → 500 ms), not defaultHedge.
	s := newScheduler(3, 1, 10*time.Second)
	s.slowest = 400 * ms
	t0 := time.Unix(1_000_000, 0)
	if got := s.start(t0); !slices.Equal(got, []int{0}) {
		t.Fatalf("start = %v", got)
	}
	if got := s.start(t0.Add(defaultHedge)); len(got) != 0 {
		t.Errorf("hedged at defaultHedge: %v", got)
	}
	if got := s.start(t0.Add(500 * ms)); !slices.Equal(got, []int{1}) {
		t.Errorf("start at 500ms = %v, want [1]", got)
	}
}

func TestVerifySchedulerWaitsForLive(t *testing.T) {
	// Candidate 1 is verified at 100 ms; its server answered at 40 ms
	// (patience for the others: 50 ms). Candidate 0 answered at 80 ms:
	// it is live and waited for, up to a hedge delay (200 ms before any
	// verification, 250 ms after) after its answer; verified at 180 ms
	// it is taken. Had it not answered, 1 is taken at once, since 0 has
	// run for more than 50 ms without an answer.
	t0 := time.Unix(1_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, live := range []bool{true, false} {
		s := newScheduler(2, 2, 10*time.Second)
		if got := s.start(t0); !slices.Equal(got, []int{0, 1}) {
			t.Fatalf("start = %v", got)
		}
		s.answered(1, at(40*ms))
		if live {
			s.answered(0, at(80*ms))
		}
		s.verified(1, at(100*ms))
		got := s.choose(at(100 * ms))
		if live && got != -1 || !live && got != 1 {
			t.Fatalf("live %v: choose at 100ms = %d", live, got)
		}
		if !live {
			continue
		}
		if w, ok := s.wake(at(100 * ms)); !ok || w.After(at(330*ms)) {
			t.Errorf("wake = %v, %v; want by 330ms (0's answer + the delay)", w.Sub(t0), ok)
		}
		s.verified(0, at(180*ms))
		if got := s.choose(at(180 * ms)); got != 0 {
			t.Errorf("choose after 0 verified = %d, want 0", got)
		}
	}
	// A live candidate that stalls after its answer is waited for one
	// hedge delay after it, then passed over.
	s := newScheduler(2, 2, 10*time.Second)
	s.start(t0)
	s.answered(1, at(40*ms))
	s.answered(0, at(80*ms))
	s.verified(1, at(100*ms))
	d := s.delay()
	if got := s.choose(at(80*ms + d - ms)); got != -1 {
		t.Errorf("choose just before 0's answer + delay = %d, want -1", got)
	}
	if got := s.choose(at(80*ms + d)); got != 1 {
		t.Errorf("choose at 0's answer + delay = %d, want 1", got)
	}
}
