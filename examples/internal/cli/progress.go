package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// Progress reports a long run on standard error: on a terminal one line
// redrawn in place, with a bar, the counts and the time left; otherwise
// plain lines that a log keeps (one per item for up to 200 items, else
// one per 1 %).
type Progress struct {
	w        io.Writer
	name     string // command name, the prefix of plain lines
	total    int
	terminal bool
	now      func() time.Time
	start    time.Time
	done     int
	failed   int
	lastPct  int
}

// NewProgress starts a report of total items on w, terminal or not
// (IsTerminal(w) decides when terminal is nil). now is the clock (nil:
// time.Now).
func NewProgress(w io.Writer, name string, total int, terminal *bool, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	t := IsTerminal(w)
	if terminal != nil {
		t = *terminal
	}
	return &Progress{w: w, name: name, total: total, terminal: t, now: now, start: now(), lastPct: -1}
}

// Done records one finished item (ok false counts it as failed) and
// reports it; what says which item and how it went (foreign text is
// sanitised here).
func (p *Progress) Done(item string, ok bool, what string) {
	p.done++
	if !ok {
		p.failed++
	}
	if p.terminal {
		p.draw()
		return
	}
	if p.total > 200 {
		pct := p.done * 100 / max(p.total, 1)
		if pct == p.lastPct && p.done != p.total {
			return
		}
		p.lastPct = pct
	}
	fmt.Fprintf(p.w, "%s: [%d/%d] %s: %s%s\n", p.name, p.done, p.total, sanitize.Line(item), sanitize.Line(what), p.eta(" ("+"%s left)"))
}

// eta formats the estimated time left into format, or "" when unknown.
func (p *Progress) eta(format string) string {
	if p.done == 0 || p.done >= p.total {
		return ""
	}
	el := p.now().Sub(p.start)
	left := time.Duration(float64(el) / float64(p.done) * float64(p.total-p.done))
	return fmt.Sprintf(format, left.Round(time.Second))
}

func (p *Progress) draw() {
	const width = 24
	fill := width * p.done / max(p.total, 1)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(p.w, "\r%s: [%s] %d/%d, %d failed%s\x1b[K", p.name, bar, p.done, p.total, p.failed, p.eta(", ETA %s"))
}

// Finish ends the report: on a terminal it ends the redrawn line.
func (p *Progress) Finish() {
	if p.terminal && p.done > 0 {
		fmt.Fprintln(p.w)
	}
}
