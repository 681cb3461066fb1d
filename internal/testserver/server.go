package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server kinds, the values of [Server.Kind].
const (
	KindProsody  = "prosody"
	KindEjabberd = "ejabberd"
)

// stopTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopTimeout = 5 * time.Second

// Server is a running test server started by [StartProsody] or
// [StartEjabberd]. Its exported fields must not be modified.
type Server struct {
	// Kind is KindProsody ("prosody") or KindEjabberd ("ejabberd").
	Kind string
	// Version is the version that runs, as the installed server's files
	// say: "0.12.3", "13.0.1", "23.01", "24.12" ("" if it could not be
	// told).
	Version string
	// Name names the server for test names and benchmark tables: the kind
	// and the version it was asked for (see [ServerName]), e.g.
	// "prosody 13" or "ejabberd 23.01". For the host's default server it is
	// named after the known version it is ("prosody 0.12").
	Name string
	// Chroot is the directory the server runs chrooted in ([ChrootDir]),
	// or "" when it runs on the host. Paths in its configuration (and
	// command lines) are relative to it; the paths in Server's fields
	// are always paths on the host.
	Chroot string
	// Domain is the main virtual host, e.g. "localhost".
	Domain string
	// Hosts lists all virtual hosts: Domain first, then the extra hosts.
	Hosts []string
	// Addr is the c2s listener (STARTTLS), "127.0.0.1:port".
	Addr string
	// DirectTLSAddr is the direct TLS (XEP-0368) c2s listener, or "" when
	// it was not enabled.
	DirectTLSAddr string
	// HTTPAddr is the plain HTTP listener ("127.0.0.1:port"), or "" when no
	// HTTP listener was configured.
	HTTPAddr string
	// CA is the certificate authority that signed the server certificate.
	CA *CA
	// CertFile and KeyFile are the server's certificate and key (PEM).
	CertFile, KeyFile string
	// Dir is the server's private directory (config, data, logs). For a
	// server in a chroot it is Chroot/srv/onboard-*, removed when the
	// server has stopped.
	Dir string
	// ConfigFile is the generated configuration file.
	ConfigFile string
	// PID is the server process: prosody itself, or for ejabberd the
	// beam.smp process (read from the PID file ejabberd writes).
	PID int
	// StartTime is how long the start took, from writing the configuration
	// until the server accepted connections (for ejabberd: and logged that
	// it had started).
	StartTime time.Duration

	cmd      *exec.Cmd // prosody, or the ejabberdctl wrapper
	done     chan struct{}
	waitErr  error // valid after done is closed
	logFiles []string
	cred     *syscall.Credential // ejabberd: run as this user
	owner    *syscall.Credential // ejabberd: owner of Dir
	env      []string            // ejabberd: environment for ejabberdctl
	ctlArgs  []string            // ejabberd: leading ejabberdctl arguments
	captcha  string              // ejabberd: file with CAPTCHA answers
	watchdog *os.File            // ejabberd: write end of the watchdog pipe
	wdCmd    *exec.Cmd           // ejabberd: the watchdog process

	stopOnce sync.Once
	stopTime time.Duration
}

// inner returns the path the server sees for the host path p: p itself, or
// for a server in a chroot, p relative to the chroot.
func (s *Server) inner(p string) string {
	if s.Chroot == "" {
		return p
	}
	rel, err := filepath.Rel(s.Chroot, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		panic(fmt.Sprintf("testserver: %s is outside the chroot %s", p, s.Chroot))
	}
	return "/" + filepath.ToSlash(rel)
}

// command returns the command that runs the server's program bin (an
// absolute path as the server sees it, e.g. "/usr/bin/prosody") with args:
// directly, or through chroot(8).
func (s *Server) command(ctx context.Context, bin string, args ...string) (*exec.Cmd, error) {
	if s.Chroot == "" {
		p, err := lookBinary(filepath.Base(bin))
		if err != nil {
			return nil, err
		}
		return exec.CommandContext(ctx, p, args...), nil
	}
	ch, err := lookBinary("chroot")
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, ch, append([]string{s.Chroot, bin}, args...)...), nil
}

// newServer makes the Server for a start attempt: its kind, version and
// name, and its directory, a fresh tb.TempDir() on the host, or a new
// Chroot/srv/onboard-* that a cleanup registered with tb removes (the
// cleanup is registered first, so it runs after the server has stopped).
func newServer(tb TB, f flavorInfo, hosts []string, ca *CA) (*Server, error) {
	tb.Helper()
	s := &Server{Kind: f.kind, Version: f.installed, Name: f.name(), Domain: hosts[0], Hosts: hosts, CA: ca}
	if !f.chroot {
		s.Dir = tb.TempDir()
		return s, nil
	}
	s.Chroot = f.root()
	srv := filepath.Join(s.Chroot, "srv")
	if err := os.MkdirAll(srv, 0o755); err != nil {
		return nil, err
	}
	removeStaleDirs(srv)
	dir, err := os.MkdirTemp(srv, "onboard-")
	if err != nil {
		return nil, err
	}
	s.Dir = dir
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return s, nil
}

// staleAfter is how old a chroot server directory must be, with no process
// of its instance left, before removeStaleDirs takes it for the remains of a
// test binary that was killed before its cleanups ran.
const staleAfter = time.Hour

// removeStaleDirs removes the onboard-* directories in srv (a chroot's /srv)
// that were created more than staleAfter ago and that no live process
// carries the instance marker of. A server that runs (however long) always
// has such a process, and a directory is used within seconds of its
// creation, so only abandoned ones go.
func removeStaleDirs(srv string) {
	ents, err := os.ReadDir(srv)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "onboard-") {
			continue
		}
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) < staleAfter {
			continue
		}
		dir := filepath.Join(srv, e.Name())
		if len(instanceProcs(dir)) == 0 {
			_ = os.RemoveAll(dir)
		}
	}
}

// TLSConfig returns a client TLS configuration that trusts only the
// server's CA and verifies the name Domain.
func (s *Server) TLSConfig() *tls.Config {
	return s.CA.TLSConfig(s.Domain)
}

// Dial opens a plain TCP connection to the STARTTLS c2s listener Addr.
func (s *Server) Dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.Addr)
}

// DialDirectTLS opens a TLS connection (verified with TLSConfig) to the
// direct TLS listener DirectTLSAddr. It fails if direct TLS is not enabled.
func (s *Server) DialDirectTLS(ctx context.Context) (*tls.Conn, error) {
	if s.DirectTLSAddr == "" {
		return nil, errors.New("testserver: direct TLS is not enabled on this server")
	}
	d := tls.Dialer{Config: s.TLSConfig()}
	c, err := d.DialContext(ctx, "tcp", s.DirectTLSAddr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// Log returns the contents of the server's log files (and anything it
// wrote to standard output and error), for failure messages.
func (s *Server) Log() string {
	var b strings.Builder
	for _, f := range s.logFiles {
		data, err := os.ReadFile(f)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		fmt.Fprintf(&b, "==> %s <==\n", f)
		b.Write(data)
		if data[len(data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// logTail returns at most the last n lines of Log.
func (s *Server) logTail(n int) string {
	l := strings.TrimRight(s.Log(), "\n")
	lines := strings.Split(l, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines omitted ...]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// StopTime returns how long Stop took (zero before Stop has run).
func (s *Server) StopTime() time.Duration { return s.stopTime }

// Stop stops the server: SIGTERM to its PID, then SIGKILL if it has not
// exited after 5 s. It waits until the process (and, for ejabberd, the
// Erlang VM) has exited. Stop is idempotent and is called automatically by
// the cleanup the start functions register.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		t0 := time.Now()
		switch s.Kind {
		case KindEjabberd:
			s.stopEjabberd()
		default:
			s.stopProcess()
		}
		s.stopTime = time.Since(t0)
	})
}

// exited reports whether the started process has exited.
func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// waitExit waits up to d for the started process to exit.
func (s *Server) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.done:
		return true
	case <-t.C:
		return false
	}
}

// stopProcess stops a server that is our direct child (Prosody).
func (s *Server) stopProcess() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if !s.exited() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		if !s.waitExit(stopTimeout) {
			s.killGroup()
			<-s.done
		}
	}
	s.sweep(2 * time.Second)
}

// killGroup sends SIGKILL to the process group of the started process (its
// PID is the group ID, see startProcess). It must only be called before the
// process has been reaped (before s.done is closed), so that the ID cannot
// have been reused.
func (s *Server) killGroup() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	if pgid > 1 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// startProcess starts cmd in its own process group. The process is started
// from a goroutine locked to its OS thread, which then waits for the
// process; together with Pdeathsig this makes the kernel send SIGKILL to the
// child if the test binary dies without running its cleanups (the parent
// death signal is tied to the thread that started the child, and Go threads
// are otherwise reused or ended at will).
func (s *Server) startProcess(cmd *exec.Cmd, pdeathsig bool) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if pdeathsig {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked: Go then ends it when this goroutine
		// returns, after the child has exited and been reaped.
		if err := cmd.Start(); err != nil {
			started <- err
			close(s.done)
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	return <-started
}

// waitReady polls until every address accepts TCP connections and extra
// (if not nil) returns true, the process exits, or timeout elapses. bad
// (if not nil) is checked against the log on every poll; a non-nil error
// from it aborts the wait (used to detect ports that could not be bound).
func (s *Server) waitReady(timeout time.Duration, addrs []string, extra func() bool, bad func(log string) error) error {
	deadline := time.Now().Add(timeout)
	pending := append([]string(nil), addrs...)
	for {
		if s.exited() {
			err := fmt.Errorf("server exited during start: %v", s.waitErr)
			if bad != nil {
				if berr := bad(s.Log()); berr != nil {
					err = fmt.Errorf("%w (%v)", berr, err)
				}
			}
			return err
		}
		if bad != nil {
			if err := bad(s.Log()); err != nil {
				return err
			}
		}
		for len(pending) > 0 {
			c, err := net.DialTimeout("tcp", pending[0], 250*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			pending = pending[1:]
		}
		if len(pending) == 0 && (extra == nil || extra()) {
			// Check once more for bind errors logged at the same time as
			// another listener came up.
			if bad != nil {
				if err := bad(s.Log()); err != nil {
					return err
				}
			}
			return nil
		}
		if time.Now().After(deadline) {
			what := "listening on " + strings.Join(pending, ", ")
			if len(pending) == 0 {
				what = "reporting that it has started"
			}
			return fmt.Errorf("server not %s after %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errPortInUse marks start failures worth retrying with other ports.
var errPortInUse = errors.New("port already in use")

// hosts returns domain (defaulting to "localhost") followed by extra, without
// duplicates or empty names.
func hostList(domain string, extra []string) []string {
	if domain == "" {
		domain = "localhost"
	}
	out := []string{domain}
	seen := map[string]bool{domain: true}
	for _, h := range extra {
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// certNames returns the DNS names for the server certificate: every host and
// "upload." + every host.
func certNames(hosts []string) []string {
	names := append([]string(nil), hosts...)
	for _, h := range hosts {
		names = append(names, "upload."+h)
	}
	return names
}

// procAlive reports whether pid exists and is not a zombie.
func procAlive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may contain spaces or parens.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	return data[i+2] != 'Z' && data[i+2] != 'X'
}

// procCmdlineContains reports whether the command line of pid contains sub.
func procCmdlineContains(pid int, sub string) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return bytes.Contains(data, []byte(sub))
}

// envMarker is the environment variable set for every server process this
// package starts; its value is the server directory. It identifies stray
// helper processes of an instance (the Erlang VM starts helpers in their own
// sessions) so Stop can make sure none is left.
const envMarker = "TESTSERVER_DIR"

// instanceProcs returns the PIDs of live (non-zombie) processes whose
// environment contains envMarker=dir.
func instanceProcs(dir string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	marker := []byte("\x00" + envMarker + "=" + dir + "\x00")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || len(env) == 0 {
			continue
		}
		env = append(append([]byte{0}, env...), 0)
		if bytes.Contains(env, marker) && procAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sweep waits up to d for every process of this instance to exit, then sends
// SIGKILL to those left (found by their environment, see envMarker) and
// waits a little more.
func (s *Server) sweep(d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		pids := instanceProcs(s.Dir)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			if time.Now().After(deadline.Add(2 * time.Second)) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// withoutMarker returns env without envMarker.
func withoutMarker(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, envMarker+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// withMarker returns env (or os.Environ() if env is nil) plus envMarker.
func withMarker(env []string, dir string) []string {
	if env == nil {
		env = os.Environ()
	}
	return append(withoutMarker(env), envMarker+"="+dir)
}

// registerCleanup makes tb stop s when the test ends and, if the test
// failed, log the tail of the server log.
func registerCleanup(tb TB, s *Server) {
	tb.Cleanup(func() {
		if f, ok := tb.(interface{ Failed() bool }); ok && f.Failed() {
			tb.Logf("testserver: %s %s (dir %s) log tail:\n%s", s.Kind, s.Addr, s.Dir, s.logTail(60))
		}
		s.Stop()
	})
}

// FailedAuths returns how many failed authentications (SASL, and on
// Prosody 13 with SASL2 also SASL2) the server has logged so far.
//
// Prosody logs none by itself at any level, so the harness loads a module of
// its own into every Prosody that logs, at level warn (kept by every
// LogLevel but "error"), a line like
//
//	localhost:testserver_authlog	warn	testserver: failed authentication of alice from 127.0.0.1: not-authorized
//
// ejabberd (23.01 and 24.12) logs a warning in ejabberd.log:
//
//	... [warning] <0.490.0>@ejabberd_c2s:process_auth_result/3:280 (tls|<0.490.0>) Failed c2s PLAIN authentication for bob@localhost from 127.0.0.1: Invalid username or password
//
// Each such line counts once. Prosody writes its log at once; ejabberd's
// logger buffers its file for up to a few seconds, so after a failed login
// use [Server.WaitFailedAuths] rather than FailedAuths.
func (s *Server) FailedAuths() (int, error) {
	var file, marker string
	switch s.Kind {
	case KindProsody:
		file, marker = filepath.Join(s.Dir, "prosody.log"), prosodyFailedAuthText
	case KindEjabberd:
		file, marker = filepath.Join(s.Dir, "logs", "ejabberd.log"), ejabberdFailedAuthText
	default:
		return 0, fmt.Errorf("testserver: FailedAuths: unknown server kind %q", s.Kind)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("testserver: FailedAuths: %w", err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, marker) {
			n++
		}
	}
	return n, nil
}

// WaitFailedAuths polls [Server.FailedAuths] until it is at least n or ctx
// is done, and returns the last count (with ctx's error if it ended first).
// A count above n means more failures were logged than expected.
func (s *Server) WaitFailedAuths(ctx context.Context, n int) (int, error) {
	for {
		got, err := s.FailedAuths()
		if err != nil || got >= n {
			return got, err
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("testserver: %d failed authentications logged, waiting for %d: %w", got, n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
