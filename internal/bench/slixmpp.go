package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/xmpp-onboard/onboard/internal/latency"
	"github.com/xmpp-onboard/onboard/internal/testserver"
)

// slixmppScript is the driver that registers one account with slixmpp.
//
//go:embed slixmpp_register.py
var slixmppScript []byte

// slixmppVersion returns slixmpp's version and true, or why it cannot be
// used and false.
func slixmppVersion(ctx context.Context, python string) (string, bool) {
	if python == "" {
		return "not requested (-python \"\")", false
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import slixmpp; print(slixmpp.__version__)").Output()
	if err != nil {
		return fmt.Sprintf("%s cannot import slixmpp (%v)", python, err), false
	}
	return strings.TrimSpace(string(out)), true
}

// slixmppResult is what the driver prints.
type slixmppResult struct {
	OK          bool     `json:"ok"`
	RegisteredS *float64 `json:"registered_s"`
	SessionS    *float64 `json:"session_s"`
	Error       string   `json:"error"`
}

// runSlixmpp registers one account with the slixmpp driver through a
// fresh proxy.
func runSlixmpp(ctx context.Context, cfg config, srv *testserver.Server, k caseKey, script, user string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	p, err := proxyFor(ctx, cfg, srv, k)
	if err != nil {
		return sample{}, err
	}
	defer p.Close()
	host, port, err := net.SplitHostPort(p.Addr())
	if err != nil {
		return sample{}, err
	}
	mode, tlsMode := "register", "starttls"
	if k.Login {
		mode = "login"
	}
	if k.Direct {
		tlsMode = "direct"
	}
	cmd := exec.CommandContext(ctx, cfg.Python, script, host, port, srv.Domain, srv.CA.CertFile, user, mode, tlsMode)
	// The password goes through the environment, never the command line.
	cmd.Env = append(os.Environ(), "ONBOARD_PASSWORD="+randomHex(12), "ONBOARD_BENCH_HOLD=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return sample{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return sample{}, err
	}
	if err := cmd.Start(); err != nil {
		return sample{}, fmt.Errorf("%w: %v", errSlixmpp, err)
	}
	// The script holds the connection at the result until it reads a
	// line: the count then covers exactly the way to the result.
	var at *latency.Stats
	var out []byte
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.Contains(line, []byte(`"event": "result"`)) && at == nil {
			st := p.Stats()
			at = &st
			io.WriteString(stdin, "\n")
			continue
		}
		out = append(out, line...)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return sample{}, fmt.Errorf("%w: %v: %s %s", errSlixmpp, err, trimOutput(out), trimOutput([]byte(stderr.String())))
	}
	var res slixmppResult
	if err := json.Unmarshal(out, &res); err != nil {
		return sample{}, fmt.Errorf("%w: unexpected output %q: %v", errSlixmpp, trimOutput(out), err)
	}
	secs := res.RegisteredS
	if k.Login {
		secs = res.SessionS
	}
	if !res.OK || secs == nil || at == nil {
		return sample{}, fmt.Errorf("%w: %s", errSlixmpp, res.Error)
	}
	s := sample{Wall: time.Duration(*secs * float64(time.Second)), RTTs: roundTrips(*at)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.RSS = ru.Maxrss // KiB on Linux
	}
	return s, nil
}
