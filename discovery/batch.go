package discovery

import (
	"context"
	crand "crypto/rand"
	"github.com/xmpp-onboard/onboard/internal/xmppconn"
	"math/rand/v2"
	"sync"
	"time"
)

// lookahead is how many resolved domains per unit of concurrency may wait
// for a free slot; it bounds memory while letting busy servers be skipped
// over.
const lookahead = 64

// ProbeAll probes many domains and sends one report per domain on the
// returned channel, in the order the probes finish; the channel is closed
// when every domain is done or ctx is cancelled.
//
// At most p.Concurrency domains are probed at once, and at most p.PerHost
// on one server (domains are grouped by the IP address their XMPP port
// resolves to, so a list with thousands of domains on one server does not
// flood it); a domain waiting for its server does not hold up domains on
// other servers. The domains are probed in random order unless
// p.NoShuffle is set. Each domain's DNS lookups and its probe are bounded
// by p.Timeout each, so a dead or slow domain delays no other report by
// more than that. Duplicate domains (after lower-casing) are probed once;
// invalid ones get a report whose Err is ErrInvalidDomain.
//
// The caller must receive until the channel is closed, or cancel ctx.
// After cancellation the channel is closed once the running probes have
// noticed, which takes no longer than their network operations take to
// abort; reports not yet sent are dropped, and no goroutine started by
// ProbeAll outlives the close.
func (p *Prober) ProbeAll(ctx context.Context, domains []string) <-chan Report {
	out := make(chan Report)
	go p.probeAll(ctx, domains, out)
	return out
}

// resolved is a domain ready to be probed, or a report to send at once.
type resolved struct {
	domain  string
	res     resolution
	started time.Time
	took    time.Duration // resolution time
	report  *Report       // set for domains that failed before probing
}

type finished struct {
	key    string
	report Report
}

func (p *Prober) probeAll(ctx context.Context, domains []string, out chan<- Report) {
	defer close(out)
	list := dedupe(domains)
	if !p.NoShuffle {
		var seed [32]byte
		_, _ = crand.Read(seed[:])
		rng := rand.New(rand.NewChaCha8(seed))
		rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	}
	conc, per := p.concurrency(), p.perHost()

	// Stage 1: resolve, with conc workers fed in list order.
	work := make(chan string)
	readyCh := make(chan resolved)
	var workers sync.WaitGroup
	workers.Add(1)
	go func() {
		defer workers.Done()
		defer close(work)
		for _, d := range list {
			select {
			case work <- d:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range conc {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for d := range work {
				it := p.resolveOne(ctx, d)
				select {
				case readyCh <- it:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		workers.Wait()
		close(readyCh)
	}()

	// Stage 2: dispatch to probes, respecting the limits, and send the
	// reports.
	doneCh := make(chan finished, conc)
	queues := map[string][]resolved{}
	var keys []string // round-robin order of servers with waiting domains
	busy := map[string]int{}
	active, queued := 0, 0
	var pendingOut []Report
	ready := readyCh

	launch := func() {
		for active < conc && len(pendingOut) < conc && len(keys) > 0 {
			started := false
			for i, k := range keys {
				if busy[k] >= per {
					continue
				}
				it := queues[k][0]
				queues[k] = queues[k][1:]
				queued--
				if len(queues[k]) == 0 {
					delete(queues, k)
					keys = append(keys[:i:i], keys[i+1:]...)
				} else {
					// Move k to the back, for fairness between servers.
					keys = append(append(keys[:i:i], keys[i+1:]...), k)
				}
				busy[k]++
				active++
				go p.probeResolved(ctx, k, it, doneCh)
				started = true
				break
			}
			if !started {
				return // every waiting server is at its limit
			}
		}
	}

	for {
		if ctx.Err() == nil {
			launch()
		}
		if ready == nil && active == 0 && (queued == 0 || ctx.Err() != nil) && (len(pendingOut) == 0 || ctx.Err() != nil) {
			return
		}
		var sendCh chan<- Report
		var next Report
		if len(pendingOut) > 0 && ctx.Err() == nil {
			sendCh, next = out, pendingOut[0]
		}
		// Stop taking resolved domains while plenty are waiting.
		in := ready
		if queued >= lookahead*conc && ctx.Err() == nil {
			in = nil
		}
		var cancelled <-chan struct{}
		if ctx.Err() == nil {
			cancelled = ctx.Done()
		}
		select {
		case it, ok := <-in:
			if !ok {
				ready = nil
				continue
			}
			if ctx.Err() != nil {
				continue // drain: the resolvers are quitting
			}
			if it.report != nil {
				pendingOut = append(pendingOut, *it.report)
				continue
			}
			k := it.res.key
			if _, ok := queues[k]; !ok {
				keys = append(keys, k)
			}
			queues[k] = append(queues[k], it)
			queued++
		case f := <-doneCh:
			active--
			busy[f.key]--
			if busy[f.key] == 0 {
				delete(busy, f.key)
			}
			pendingOut = append(pendingOut, f.report)
		case sendCh <- next:
			pendingOut = pendingOut[1:]
		case <-cancelled:
			// Loop on: wait for the running probes and resolvers.
		}
	}
}

// resolveOne validates and resolves one domain.
func (p *Prober) resolveOne(ctx context.Context, domain string) resolved {
	t0 := time.Now()
	d, err := normalizeDomain(domain)
	if err != nil {
		r := failedReport(d, err)
		return resolved{domain: d, report: &r}
	}
	rctx, cancel := xmppconn.WithTimeout(ctx, p.timeout())
	defer cancel()
	return resolved{domain: d, res: p.resolve(rctx, d, p.policy(true)), started: t0, took: time.Since(t0)}
}

// probeResolved probes a resolved domain within p.Timeout and sends the
// report to done (which has room for every running probe).
func (p *Prober) probeResolved(ctx context.Context, key string, it resolved, done chan<- finished) {
	t0 := time.Now()
	pctx, cancel := xmppconn.WithTimeout(ctx, p.timeout())
	r := Report{Domain: it.domain, Started: it.started}
	p.run(pctx, it.domain, it.res, &r, true)
	cancel()
	r.Took = it.took + time.Since(t0)
	done <- finished{key: key, report: r}
}

// dedupe drops repeated domains (compared after normalization), keeping the
// first spelling.
func dedupe(domains []string) []string {
	seen := make(map[string]bool, len(domains))
	out := make([]string, 0, len(domains))
	for _, d := range domains {
		n, err := normalizeDomain(d)
		if err == nil {
			d = n
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}
