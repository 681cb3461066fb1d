package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	onboard "github.com/xmpp-onboard/onboard"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
	"github.com/xmpp-onboard/onboard/register"
)

// config is what a run measures. The zero value of every field but Out
// has a default.
type config struct {
	Runs    int           // runs per case (default 5; 1 with Quick)
	RTT     time.Duration // simulated round-trip time (default 50 ms; 10 ms with Quick)
	Quick   bool          // one run per case, no memory section
	Servers []string      // testserver kinds (default both)
	Python  string        // Python with slixmpp; "" leaves slixmpp out
	Out     io.Writer     // the report
	Log     io.Writer     // progress and server start messages; nil discards
}

func (c *config) defaults() {
	if c.Runs <= 0 {
		c.Runs = 5
		if c.Quick {
			c.Runs = 1
		}
	}
	if c.RTT <= 0 {
		c.RTT = 50 * time.Millisecond
		if c.Quick {
			c.RTT = 10 * time.Millisecond
		}
	}
	if len(c.Servers) == 0 {
		c.Servers = []string{testserver.KindProsody, testserver.KindEjabberd}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Client names in the table.
const (
	clientOurs       = "ours"
	clientSequential = "ours, sequential"
	clientSlixmpp    = "slixmpp"
	clientSignup     = "onboard.Signup"
)

// caseKey names a case: server, TLS kind and flow.
type caseKey struct {
	Server string // testserver kind
	Direct bool   // direct TLS (XEP-0368), else STARTTLS
	Login  bool   // register+login, else register only
	// SASL2: the server offers SASL2 with Bind2 (Prosody 13 with
	// prosody-modules, ejabberd 24.12 to a header that names the account).
	SASL2 bool
	// FAST: a re-login with the FAST token of an earlier login
	// (Dialer.LoginFAST), instead of a registration.
	FAST bool
}

// sasl2Version reports whether the bench starts that server version with
// SASL2, Bind2 and FAST.
func sasl2Version(v string) bool { return v == testserver.Prosody13 || v == testserver.Ejabberd2412 }

func (k caseKey) tlsName() string {
	if k.Direct {
		return "direct TLS"
	}
	return "STARTTLS"
}

func (k caseKey) flowName() string {
	if k.FAST {
		return "FAST re-login"
	}
	if k.Login {
		return "register+login"
	}
	return "register"
}

// sample is one run.
type sample struct {
	RTTs  int64         // round trips to the result
	Wall  time.Duration // to the result
	Steps [4]int64      // ours: to the secured stream, form, account, session
	RSS   int64         // slixmpp: peak RSS of the process, KiB
}

// row is one client in one case.
type row struct {
	Case    caseKey
	Client  string
	Samples []sample
	Err     error // the first failed run, if any
}

// report is the result of a run.
type report struct {
	cfg      config
	Machine  []string // "key: value" lines
	Rows     []*row
	Memory   []string // lines of the memory section
	Slixmpp  string   // slixmpp version, or why it is missing
	slixOK   bool
	duration time.Duration
}

// limit is the round-trip limit: the protocol one request at a
// time.
func limit(k caseKey) int64 {
	if k.FAST {
		if k.Direct {
			return 4 // TCP, TLS 1.3, stream, authenticate
		}
		return 6 // TCP, stream, STARTTLS, TLS 1.3, stream, authenticate
	}
	n := int64(7) // TCP, stream, STARTTLS, TLS 1.3, stream, form, submit
	if k.Direct {
		n = 5 // TCP, TLS 1.3, stream, form, submit
	}
	if k.Login && k.SASL2 {
		n += 2 // SCRAM 2 (authenticate, response), the session in the success
	} else if k.Login {
		n += 4 // SASL SCRAM 2, stream restart 1, bind 1
	}
	return n
}

// documented is the number of round trips package register documents for
// Client.Register (doc.go # Round trips).
func documented(k caseKey, sequential bool) int64 {
	if sequential {
		return limit(k)
	}
	if k.FAST {
		if k.Direct {
			return 3 // TCP, TLS 1.3, stream+authenticate(+bind)
		}
		return 4 // TCP, stream+<starttls/>, TLS 1.3, stream+authenticate(+bind)
	}
	n := int64(5) // TCP, stream+<starttls/>, TLS 1.3, stream+form, submit(+auth)
	if k.Direct {
		n = 4 // TCP, TLS 1.3, stream+form, submit(+auth)
	}
	if k.Login && k.SASL2 {
		n++ // SCRAM final; the session comes in the SASL2 success
	} else if k.Login {
		n += 2 // SCRAM final, stream restart+bind
	}
	return n
}

// Problems lists failed runs and round-trip counts above the documented
// ones.
func (r *report) Problems() []string {
	var out []string
	for _, rw := range r.Rows {
		k := rw.Case
		if rw.Err != nil && rw.Client == clientSlixmpp {
			// slixmpp 1.8 cannot log in to Prosody 13 and ejabberd
			// 24.12 with its defaults (tls-unique on TLS 1.3): the
			// table says so; it is not our failure.
			continue
		}
		if rw.Err != nil {
			out = append(out, fmt.Sprintf("%s %s %s %s: %v", k.Server, k.tlsName(), k.flowName(), rw.Client, rw.Err))
			continue
		}
		if rw.Client == clientSlixmpp {
			continue
		}
		// onboard.Signup must match register.Client's round trips.
		want := documented(k, rw.Client == clientSequential)
		for _, s := range rw.Samples {
			if s.RTTs > want {
				out = append(out, fmt.Sprintf("%s %s %s %s: %d round trips, documented %d", k.Server, k.tlsName(), k.flowName(), rw.Client, s.RTTs, want))
				break
			}
		}
	}
	return out
}

// run starts the servers, measures every case and writes the report.
func run(ctx context.Context, cfg config) (*report, error) {
	cfg.defaults()
	t0 := time.Now()
	rep := &report{cfg: cfg}
	r := testserver.NewRunner("")
	r.Output = cfg.Log
	defer r.Close()

	rep.Machine = machine()
	script := ""
	rep.Slixmpp, rep.slixOK = slixmppVersion(ctx, cfg.Python)
	if rep.slixOK {
		script = r.TempDir() + "/slixmpp_register.py"
		if err := os.WriteFile(script, slixmppScript, 0o600); err != nil {
			return nil, err
		}
	}
	user := &names{prefix: "b" + randomHex(3)}
	type server struct{ kind, version string }
	var servers []server
	for _, kind := range cfg.Servers {
		switch kind {
		case testserver.KindProsody, testserver.KindEjabberd:
		default:
			return nil, fmt.Errorf("unknown server %q (want prosody or ejabberd)", kind)
		}
		for _, v := range testserver.AllVersions(kind) {
			servers = append(servers, server{kind, v})
		}
	}
	for i, sv := range servers {
		kind := sv.kind
		var srv *testserver.Server
		err := r.Try(func() {
			if !testserver.RequireVersion(r, kind, sv.version) {
				return
			}
			switch kind {
			case testserver.KindProsody:
				srv = testserver.StartProsody(r, testserver.ProsodyConfig{Version: sv.version, DirectTLS: true, LogLevel: "warn", SASL2: sasl2Version(sv.version)})
			case testserver.KindEjabberd:
				srv = testserver.StartEjabberd(r, testserver.EjabberdConfig{Version: sv.version, DirectTLS: true, FAST: sasl2Version(sv.version)})
			}
		})
		if errors.Is(err, testserver.ErrSkipped) && os.Getenv("CI") != "true" {
			fmt.Fprintf(cfg.Log, "bench: %s not available here: %v\n", testserver.ServerName(kind, sv.version), err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("starting %s: %w", testserver.ServerName(kind, sv.version), err)
		}
		name := srv.Name
		fmt.Fprintf(cfg.Log, "bench: %s started in %v\n", name, srv.StartTime.Round(time.Millisecond))
		modern := sasl2Version(sv.version)
		for _, direct := range []bool{false, true} {
			for _, flow := range []int{0, 1, 2} {
				k := caseKey{Server: name, Direct: direct, Login: flow > 0, SASL2: modern, FAST: flow == 2}
				if k.FAST && !modern {
					continue
				}
				rows := []*row{{Case: k, Client: clientOurs}, {Case: k, Client: clientSignup}, {Case: k, Client: clientSequential}}
				if k.FAST {
					rows = []*row{{Case: k, Client: clientOurs}, {Case: k, Client: clientSequential}}
				}
				if rep.slixOK && !k.FAST {
					rows = append(rows, &row{Case: k, Client: clientSlixmpp})
				}
				// Interleave the clients so that a slow moment of the
				// machine does not hit one client only.
				for i := 0; i < cfg.Runs; i++ {
					for _, rw := range rows {
						if rw.Err != nil {
							continue
						}
						var s sample
						var err error
						switch {
						case k.FAST:
							s, err = runFAST(ctx, cfg, srv, k, rw.Client == clientSequential, user.next())
						case rw.Client == clientSlixmpp:
							s, err = runSlixmpp(ctx, cfg, srv, k, script, user.next())
						case rw.Client == clientSignup:
							s, err = runSignup(ctx, cfg, srv, k, user.next())
						default:
							s, err = runOurs(ctx, cfg, srv, k, rw.Client == clientSequential, user.next())
						}
						if err != nil {
							rw.Err = err
							if ctx.Err() != nil {
								return nil, ctx.Err()
							}
							continue
						}
						rw.Samples = append(rw.Samples, s)
					}
				}
				for _, rw := range rows {
					fmt.Fprintf(cfg.Log, "bench: %s %s %s %s: %s\n", name, k.tlsName(), k.flowName(), rw.Client, rw.summary())
				}
				rep.Rows = append(rep.Rows, rows...)
			}
		}
		if !cfg.Quick && (i == 0 || servers[i-1].kind != kind) {
			rep.Memory = append(rep.Memory, memory(ctx, cfg, srv, user)...)
		}
		srv.Stop()
	}
	if !cfg.Quick {
		rep.Memory = append(rep.Memory, rep.slixmppRSS()...)
		if hwm := vmHWM(); hwm != "" {
			rep.Memory = append(rep.Memory, "bench process (harness, proxies, clients; not the servers): peak RSS (VmHWM) "+hwm)
		}
	}
	rep.duration = time.Since(t0)
	rep.write(cfg.Out)
	return rep, nil
}

// names hands out fresh usernames.
type names struct {
	prefix string
	n      int
}

func (u *names) next() string {
	u.n++
	return u.prefix + strconv.Itoa(u.n)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// roundTrips is what the proxy counted: handshakes plus client turns.
func roundTrips(st latency.Stats) int64 { return st.ConnectRTTs + st.RoundTrips }

// proxyFor starts a fresh latency proxy for the case's listener.
func proxyFor(ctx context.Context, cfg config, srv *testserver.Server, k caseKey) (*latency.Proxy, error) {
	target := srv.Addr
	if k.Direct {
		target = srv.DirectTLSAddr
	}
	return latency.Start(ctx, target, cfg.RTT/2)
}

// runOurs registers one account with package register.
func runOurs(ctx context.Context, cfg config, srv *testserver.Server, k caseKey, sequential bool, user string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	p, err := proxyFor(ctx, cfg, srv, k)
	if err != nil {
		return sample{}, err
	}
	defer p.Close()
	c := register.Client{Dialer: register.Dialer{
		Addr:         p.Addr(),
		DirectTLS:    k.Direct,
		TLSConfig:    srv.TLSConfig(),
		NoPipelining: sequential,
	}}
	var at [4]int64
	c.Progress = func(e register.Event) {
		switch e.Stage {
		case register.StageSecured:
			at[0] = roundTrips(p.Stats())
		case register.StageForm:
			at[1] = roundTrips(p.Stats())
		case register.StageRegistered:
			at[2] = roundTrips(p.Stats())
		case register.StageLoggedIn:
			at[3] = roundTrips(p.Stats())
		}
	}
	t0 := time.Now()
	acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: randomHex(12), Login: k.Login})
	wall := time.Since(t0)
	if err != nil {
		return sample{}, err
	}
	if acct.Session != nil {
		acct.Session.Close()
		acct.Session.Conn().Close()
	}
	s := sample{Wall: wall, RTTs: at[2]}
	if k.Login {
		s.RTTs = at[3]
	}
	s.Steps = [4]int64{at[0], at[1] - at[0], at[2] - at[1], 0}
	if k.Login {
		s.Steps[3] = at[3] - at[2]
	}
	return s, nil
}

// runFAST registers an account with login (directly, not measured) to get
// a FAST token, then measures Dialer.LoginFAST with it through the proxy:
// the round trips and the time to the bound session.
func runFAST(ctx context.Context, cfg config, srv *testserver.Server, k caseKey, sequential bool, user string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	addr := srv.Addr
	if k.Direct {
		addr = srv.DirectTLSAddr
	}
	c := register.Client{Dialer: register.Dialer{Addr: addr, DirectTLS: k.Direct, TLSConfig: srv.TLSConfig()}}
	acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user, Password: randomHex(12), Login: true})
	if err != nil {
		return sample{}, err
	}
	acct.Session.Close()
	acct.Session.Conn().Close()
	if acct.Token == nil {
		return sample{}, errors.New("no FAST token at the login")
	}
	p, err := proxyFor(ctx, cfg, srv, k)
	if err != nil {
		return sample{}, err
	}
	defer p.Close()
	d := register.Dialer{Addr: p.Addr(), DirectTLS: k.Direct, TLSConfig: srv.TLSConfig(), NoPipelining: sequential}
	t0 := time.Now()
	again, err := d.LoginFAST(ctx, acct.JID, acct.Token)
	wall := time.Since(t0)
	if err != nil {
		return sample{}, err
	}
	n := roundTrips(p.Stats())
	again.Session.Close()
	again.Session.Conn().Close()
	return sample{Wall: wall, RTTs: n}, nil
}

// runSignup creates one account with onboard.Signup on the server the
// user typed (Signup.Domain, Dialer.Addr). Signup always logs in; for the
// "register" flow the round trips are counted when the server confirmed
// the account, as for ours.
func runSignup(ctx context.Context, cfg config, srv *testserver.Server, k caseKey, user string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	p, err := proxyFor(ctx, cfg, srv, k)
	if err != nil {
		return sample{}, err
	}
	defer p.Close()
	var at [4]int64
	var t0 time.Time
	var registered time.Duration
	s := onboard.Signup{
		Domain:   srv.Domain,
		Username: user,
		Password: randomHex(12),
		Dialer:   register.Dialer{Addr: p.Addr(), DirectTLS: k.Direct, TLSConfig: srv.TLSConfig()},
		Progress: func(e onboard.Event) {
			switch e.Stage {
			case onboard.StageSecured:
				at[0] = roundTrips(p.Stats())
			case onboard.StageForm:
				at[1] = roundTrips(p.Stats())
			case onboard.StageRegistered:
				at[2] = roundTrips(p.Stats())
				registered = time.Since(t0)
			case onboard.StageLoggedIn:
				at[3] = roundTrips(p.Stats())
			}
		},
	}
	t0 = time.Now()
	res, err := s.Run(ctx)
	wall := time.Since(t0)
	if err != nil {
		return sample{}, err
	}
	if !k.Login {
		// Signup logged in too; the register flow ends at the account.
		wall = registered
	}
	res.Close()
	smp := sample{Wall: wall, RTTs: at[2]}
	if k.Login {
		smp.RTTs = at[3]
	}
	smp.Steps = [4]int64{at[0], at[1] - at[0], at[2] - at[1], 0}
	if k.Login {
		smp.Steps[3] = at[3] - at[2]
	}
	return smp, nil
}

// summary is a one-line description of a row for the log.
func (rw *row) summary() string {
	if rw.Err != nil {
		return "failed: " + rw.Err.Error()
	}
	return fmt.Sprintf("%s round trips, %s", rw.rttRange(), fmtDur(rw.median()))
}

// median is the median wall time.
func (rw *row) median() time.Duration {
	ds := make([]time.Duration, len(rw.Samples))
	for i, s := range rw.Samples {
		ds[i] = s.Wall
	}
	return medianDur(ds)
}

func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	if len(ds)%2 == 1 {
		return ds[len(ds)/2]
	}
	return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
}

func medianInt(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// rttRange is the round trips, "5" or "5–6" if the runs differ.
func (rw *row) rttRange() string {
	if len(rw.Samples) == 0 {
		return "–"
	}
	lo, hi := rw.Samples[0].RTTs, rw.Samples[0].RTTs
	for _, s := range rw.Samples {
		lo, hi = min(lo, s.RTTs), max(hi, s.RTTs)
	}
	if lo == hi {
		return strconv.FormatInt(lo, 10)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

// wallRange is "min–max".
func (rw *row) wallRange() string {
	if len(rw.Samples) == 0 {
		return "–"
	}
	lo, hi := rw.Samples[0].Wall, rw.Samples[0].Wall
	for _, s := range rw.Samples {
		lo, hi = min(lo, s.Wall), max(hi, s.Wall)
	}
	return fmtDur(lo) + "–" + fmtDur(hi)
}

func fmtDur(d time.Duration) string {
	return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
}

// find returns the row of a client in a case.
func (r *report) find(k caseKey, client string) *row {
	for _, rw := range r.Rows {
		if rw.Case == k && rw.Client == client {
			return rw
		}
	}
	return nil
}

// write prints the report as Markdown.
func (r *report) write(w io.Writer) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	cfg := r.cfg
	fmt.Fprintf(bw, "### Signup: round trips and wall time (RTT %v, median of %d)\n\n", cfg.RTT, cfg.Runs)
	fmt.Fprintln(bw, "| server | TLS | flow | client | RTTs | limit | wall (median) | min–max | ours/slixmpp |")
	fmt.Fprintln(bw, "|---|---|---|---|--:|--:|--:|--:|--:|")
	for _, rw := range r.Rows {
		k := rw.Case
		name := rw.Client
		if name == clientSlixmpp {
			name += " " + r.Slixmpp
		}
		ratio := ""
		if sl := r.find(k, clientSlixmpp); sl != nil && sl.Err == nil && rw.Err == nil && len(sl.Samples) > 0 && len(rw.Samples) > 0 {
			ratio = fmt.Sprintf("%.2f", float64(rw.median())/float64(sl.median()))
		}
		if rw.Err != nil {
			fmt.Fprintf(bw, "| %s | %s | %s | %s | failed: %s | %d | | | |\n", k.Server, k.tlsName(), k.flowName(), name, oneLine(rw.Err.Error()), limit(k))
			continue
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", k.Server, k.tlsName(), k.flowName(), name, rw.rttRange(), limit(k), fmtDur(rw.median()), rw.wallRange(), ratio)
	}
	if !r.slixOK {
		fmt.Fprintf(bw, "\nslixmpp rows left out: %s\n", r.Slixmpp)
	}

	fmt.Fprintf(bw, "\n### Where the round trips go (ours, first run)\n\n")
	fmt.Fprintln(bw, "| server | TLS | client | to secured stream | form | account | session (login) |")
	fmt.Fprintln(bw, "|---|---|---|--:|--:|--:|--:|")
	for _, rw := range r.Rows {
		if rw.Client == clientSlixmpp || !rw.Case.Login || rw.Case.FAST || len(rw.Samples) == 0 {
			continue
		}
		s := rw.Samples[0].Steps
		fmt.Fprintf(bw, "| %s | %s | %s | %d | %d | %d | %d |\n", rw.Case.Server, rw.Case.tlsName(), rw.Client, s[0], s[1], s[2], s[3])
	}

	if len(r.Memory) > 0 {
		fmt.Fprintf(bw, "\n### Memory\n\n")
		for _, l := range r.Memory {
			fmt.Fprintf(bw, "- %s\n", l)
		}
	}
	fmt.Fprintf(bw, "\n### Machine\n\n")
	for _, l := range r.Machine {
		fmt.Fprintf(bw, "- %s\n", l)
	}
	fmt.Fprintf(bw, "- run: %d runs per case, RTT %v, %v in all\n", cfg.Runs, cfg.RTT, r.duration.Round(time.Second))
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = "…" + s[len(s)-160:]
	}
	return s
}

// machine describes the machine and the software versions.
func machine() []string {
	var out []string
	cpu := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	out = append(out, fmt.Sprintf("CPU: %s, %d cores (shared with other work)", cpu, runtime.NumCPU()))
	out = append(out, "Go: "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	for _, pkg := range []string{"prosody", "ejabberd", "python3-slixmpp"} {
		v, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
		if err != nil || len(v) == 0 {
			v = []byte("unknown")
		}
		out = append(out, pkg+": "+string(v))
	}
	return out
}

// vmHWM is the peak resident set size of this process.
func vmHWM() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// memory measures the Go heap allocated by Client.Register, directly to
// the server (without the proxy, whose buffers would be counted too).
func memory(ctx context.Context, cfg config, srv *testserver.Server, user *names) []string {
	var out []string
	for _, login := range []bool{false, true} {
		var bytesPer, allocsPer []int64
		n := max(cfg.Runs, 5)
		for i := 0; i < n; i++ {
			c := register.Client{Dialer: register.Dialer{Addr: srv.Addr, TLSConfig: srv.TLSConfig()}}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			acct, err := c.Register(ctx, srv.Domain, register.Request{Username: user.next(), Password: randomHex(12), Login: login})
			runtime.ReadMemStats(&after)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: memory run failed: %v", srv.Kind, err))
				return out
			}
			if acct.Session != nil {
				acct.Session.Close()
				acct.Session.Conn().Close()
			}
			bytesPer = append(bytesPer, int64(after.TotalAlloc-before.TotalAlloc))
			allocsPer = append(allocsPer, int64(after.Mallocs-before.Mallocs))
		}
		flow := "register"
		if login {
			flow = "register+login"
		}
		out = append(out, fmt.Sprintf("%s, %s (STARTTLS, ours): %d KiB and %d allocations on the Go heap per registration (median of %d; includes crypto/tls and mellium)",
			srv.Kind, flow, medianInt(bytesPer)/1024, medianInt(allocsPer), n))
	}
	return out
}

// slixmppRSS summarises the peak RSS of the slixmpp processes.
func (r *report) slixmppRSS() []string {
	var rss []int64
	for _, rw := range r.Rows {
		if rw.Client != clientSlixmpp {
			continue
		}
		for _, s := range rw.Samples {
			if s.RSS > 0 {
				rss = append(rss, s.RSS)
			}
		}
	}
	if len(rss) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("slixmpp: peak RSS of a registering Python process %d MiB (median of %d; interpreter and imports included)", medianInt(rss)/1024, len(rss))}
}

// errSlixmpp marks a failed slixmpp run.
var errSlixmpp = errors.New("slixmpp")

// trimOutput shortens a process's output for an error message, keeping
// its end (where a Python traceback names the error).
func trimOutput(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		b = append([]byte("…"), b[len(b)-300:]...)
	}
	return string(b)
}
