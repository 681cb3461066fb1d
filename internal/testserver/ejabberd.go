package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ejabberd registration modes for [EjabberdConfig.Registration]
// (RegistrationOpen, "open", is shared with Prosody).
const (
	// RegistrationNone is mod_register access: none; ejabberd then does
	// not advertise the <register/> stream feature.
	RegistrationNone = "none"
	// RegistrationDeny is an access rule that denies everyone; ejabberd
	// still advertises the feature and returns the form, and rejects the
	// submission with forbidden.
	RegistrationDeny = "deny"
)

// ejabberdFailedAuthText is in ejabberd's warning about a failed c2s
// authentication ("Failed c2s PLAIN authentication for ..."), in 23.01 and
// 24.12 alike; see [Server.FailedAuths].
const ejabberdFailedAuthText = "Failed c2s "

// ejabberdReadyTimeout bounds how long StartEjabberd waits. ejabberd
// compiles its configuration at start; on a loaded 2-core machine running
// the race-detector suite that took more than 15 s once.
const ejabberdReadyTimeout = 60 * time.Second

// EjabberdConfig configures [StartEjabberd]. The zero value is an open
// registration server for "localhost" with registration_timeout infinity.
type EjabberdConfig struct {
	// Version chooses the ejabberd: "" (the host's, Debian bookworm's
	// 23.01), Ejabberd2301 ("23.01", the host's, checked to be 23.01) or
	// Ejabberd2412 ("24.12", Debian trixie's, from the chroot, see
	// [ChrootDir]). See [Server.Version] and [Server.Name].
	Version string
	// ScramHash sets auth_scram_hash ("sha", "sha256" or "sha512"; ""
	// leaves ejabberd's default, sha). Accounts are stored with that hash,
	// and only the matching SCRAM-*(-PLUS) mechanisms (plus PLAIN) are
	// offered.
	ScramHash string
	// MaxAuthFailures, when > 0, enables mod_fail2ban with
	// c2s_max_auth_failures set to it: the Nth failed authentication from
	// one IP address within BanLifetime gets, instead of a SASL failure, a
	// policy-violation stream error ("Too many (N) failed authentications
	// from this IP address (127.0.0.1). The address will be unblocked at
	// ..."), and so does every new stream from that address until then
	// (measured on 23.01 and 24.12). See [Server.FailedAuths].
	MaxAuthFailures int
	// BanLifetime is mod_fail2ban's c2s_auth_ban_lifetime; default (0) one
	// hour. Whole seconds; only with MaxAuthFailures.
	BanLifetime time.Duration
	// Domain is the main host; default "localhost".
	Domain string
	// ExtraHosts are more hosts with the same options.
	ExtraHosts []string
	// Registration is RegistrationOpen ("open", the default),
	// RegistrationNone ("none") or RegistrationDeny ("deny").
	Registration string
	// Captcha protects registration with a CAPTCHA (XEP-0158): captcha_cmd
	// is a generated script that appends its argument (the expected
	// answer) to a file, see [Server.CaptchaAnswers], and prints a small
	// fixed PNG image; mod_register has captcha_protected: true, and an
	// HTTP listener serves /captcha (see [Server.HTTPAddr]).
	Captcha bool
	// RedirectURL sets mod_register redirect_url (web registration).
	RedirectURL string
	// PasswordStrength sets mod_register password_strength (entropy bits).
	PasswordStrength int
	// RegistrationTimeout is the top-level registration_timeout in
	// seconds; 0 means "infinity" (no per-IP limit).
	RegistrationTimeout int
	// DirectTLS adds a second ejabberd_c2s listener with tls: true, see
	// [Server.DirectTLSAddr].
	DirectTLS bool
	// ContactInfo sets mod_disco server_info (XEP-0157). Keys are field
	// names, with or without the "-addresses" suffix (abuse, admin,
	// feedback, sales, security, support); values are URIs.
	ContactInfo map[string][]string
	// HTTPUpload, when > 0, enables mod_http_upload (XEP-0363) with this
	// max_size on the component "upload.<host>", with an ejabberd_http
	// listener (plain HTTP) serving /upload on a free loopback port (see
	// [Server.HTTPAddr]). Slot URLs are
	// http://127.0.0.1:PORT/upload/<host>/..., so they work without DNS.
	HTTPUpload int64
	// FAST enables mod_auth_fast (XEP-0484 FAST tokens with SASL2), which
	// ejabberd 24.12 ships (23.01 has neither it nor SASL2: StartEjabberd
	// fails the test there).
	FAST bool
	// ExtraConfig is raw YAML appended to the end of the configuration
	// (top-level keys only; keys already present must not be repeated).
	ExtraConfig string
}

// StartEjabberd starts ejabberd (ejabberdctl foreground) with a generated
// configuration in a new directory and waits (at most 15 s) until it accepts
// connections on all its ports and has logged that it started. It calls
// [RequireEjabberd] first. It registers a cleanup with tb that stops the
// server (see [Server.Stop]). On failure it calls tb.Fatalf with the
// server log.
//
// ejabberdctl is run as the system user ejabberd (the process credentials
// are switched directly, without su, so the Erlang VM stays in the process
// group the harness created). The server directory is made traversable by
// that user and chowned to it, and HOME points to it so the Erlang cookie is
// private to the instance. Erlang distribution listens on a free loopback
// port (ERL_DIST_PORT, no epmd).
func StartEjabberd(tb TB, cfg EjabberdConfig) *Server {
	tb.Helper()
	fl, ok := requireVersion(tb, KindEjabberd, cfg.Version)
	if !ok {
		return nil
	}
	if cfg.FAST && fl.version != Ejabberd2412 {
		tb.Fatalf("testserver: FAST (mod_auth_fast) needs ejabberd %s, not %q", Ejabberd2412, cfg.Version)
		return nil
	}
	switch cfg.Registration {
	case "", RegistrationOpen, RegistrationNone, RegistrationDeny:
	default:
		tb.Fatalf("testserver: unknown ejabberd registration mode %q", cfg.Registration)
		return nil
	}
	switch cfg.ScramHash {
	case "", "sha", "sha256", "sha512":
	default:
		tb.Fatalf("testserver: unknown ejabberd auth_scram_hash %q (sha, sha256 or sha512)", cfg.ScramHash)
		return nil
	}
	// The host's ejabberdctl runs as the host's user ejabberd (cred, nil
	// when that is us). The chroot's runs as root: it switches to the
	// chroot's user ejabberd itself (with su, inside the chroot; the two
	// users' IDs differ), which owns the server directory.
	var cred, owner *syscall.Credential
	if fl.chroot {
		uid, gid, err := chrootUser(fl.root(), "ejabberd")
		if err != nil {
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		owner = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	} else {
		var err error
		if cred, err = ejabberdCredential(); err != nil {
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		owner = cred
	}
	hosts := hostList(cfg.Domain, cfg.ExtraHosts)
	ca := NewCA(tb)
	certPEM, keyPEM := ca.leafPEM(tb, certNames(hosts)...)

	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		t0 := time.Now()
		s, err := newServer(tb, fl, hosts, ca)
		if err != nil {
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		s.cred, s.owner = cred, owner
		if err := s.writeEjabberdConfig(cfg, certPEM, keyPEM); err != nil {
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		out, err := os.OpenFile(filepath.Join(s.Dir, "logs", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		cmd, err := s.command(context.Background(), "/usr/sbin/ejabberdctl", append(append([]string(nil), s.ctlArgs...), "foreground-quiet")...)
		if err != nil {
			out.Close()
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		cmd.Dir = s.Dir
		cmd.Env = withMarker(s.env, s.Dir)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		// The Erlang VM does not die with the ejabberdctl shell, so a
		// parent-death signal is not enough: start the watchdog first.
		if err := s.startWatchdog(); err != nil {
			out.Close()
			tb.Fatalf("testserver: starting watchdog: %v", err)
			return nil
		}
		err = s.startProcess(cmd, true)
		out.Close()
		if err != nil {
			tb.Fatalf("testserver: starting ejabberd: %v", err)
			return nil
		}
		// Stop is idempotent; this makes sure the process is stopped
		// even if tb.Fatalf is called (or panics) below.
		tb.Cleanup(s.Stop)
		addrs := []string{s.Addr}
		for _, a := range []string{s.DirectTLSAddr, s.HTTPAddr} {
			if a != "" {
				addrs = append(addrs, a)
			}
		}
		started := func() bool {
			if s.PID == 0 {
				s.readEjabberdPID()
			}
			data, _ := os.ReadFile(filepath.Join(s.Dir, "logs", "ejabberd.log"))
			return s.PID != 0 && bytes.Contains(data, []byte(" is started in the node "))
		}
		err = s.waitReady(ejabberdReadyTimeout, addrs, started, ejabberdBindError)
		if err == nil {
			s.StartTime = time.Since(t0)
			registerCleanup(tb, s)
			tb.Logf("testserver: %s (%s) %s started in %v (beam pid %d, dir %s)", s.Name, s.Version, s.Addr, s.StartTime.Round(time.Millisecond), s.PID, s.Dir)
			return s
		}
		s.Stop()
		lastErr = fmt.Errorf("%w\n--- ejabberd log (%s) ---\n%s", err, s.Dir, s.Log())
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	tb.Fatalf("testserver: starting ejabberd: %v", lastErr)
	return nil
}

// ejabberdBindError detects a listener or the distribution port that could
// not be opened.
func ejabberdBindError(log string) error {
	for _, sub := range []string{"eaddrinuse", "address already in use", "Failed to open socket"} {
		if strings.Contains(log, sub) {
			return fmt.Errorf("%w: ejabberd logged %q", errPortInUse, sub)
		}
	}
	return nil
}

// ejabberdCredential returns the credentials to run ejabberdctl with: the
// ejabberd user when we are root, nil when we already are that user.
func ejabberdCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("ejabberd")
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user ejabberd: %w", err)
	}
	if os.Geteuid() == uid {
		return nil, nil
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// readEjabberdPID reads the beam.smp PID from EJABBERD_PID_PATH and checks
// that it really is this instance's VM before storing it in s.PID.
func (s *Server) readEjabberdPID() {
	data, err := os.ReadFile(filepath.Join(s.Dir, "ejabberd.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	if procCmdlineContains(pid, s.inner(s.Dir)) {
		s.PID = pid
	}
}

// watchdogScript is run by /bin/sh with $1 = "TESTSERVER_DIR=<dir>". It
// blocks reading its standard input, a pipe whose only writer is the
// harness process. When the harness exits without stopping the server (for
// example when "go test" times out and the binary panics), the read returns
// and the script terminates every process whose environment carries the
// instance marker: SIGTERM first, SIGKILL after 2 s (an Erlang VM that is
// still booting ignores SIGTERM). The script's own environment does not
// carry the marker.
const watchdogScript = `read _ || :
sig=TERM
i=0
while [ $i -lt 8 ]; do
	found=
	for e in /proc/[0-9]*/environ; do
		if grep -q -z -x -F -- "$1" "$e" 2>/dev/null; then
			p=${e#/proc/}
			p=${p%/environ}
			kill -$sig "$p" 2>/dev/null && found=1
		fi
	done
	[ -n "$found" ] || exit 0
	sleep 0.5
	i=$((i+1))
	[ $i -ge 4 ] && sig=KILL
done
`

// startWatchdog starts the watchdog (see watchdogScript) for this instance.
// It must run before the server is started. Stop kills the watchdog by its
// PID before stopping the server.
func (s *Server) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "testserver-watchdog", envMarker+"="+s.Dir)
	cmd.Stdin = r
	cmd.Env = withoutMarker(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	r.Close()
	s.watchdog, s.wdCmd = w, cmd
	return nil
}

// stopEjabberd stops the Erlang VM by the PID in its PID file (SIGTERM, then
// SIGKILL after 5 s) and waits for ejabberdctl to exit.
func (s *Server) stopEjabberd() {
	if s.wdCmd != nil {
		_ = s.wdCmd.Process.Kill()
		_ = s.wdCmd.Wait()
		s.watchdog.Close()
	}
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if s.PID == 0 {
		s.readEjabberdPID()
	}
	beamAlive := func() bool {
		return s.PID != 0 && procAlive(s.PID) && procCmdlineContains(s.PID, s.inner(s.Dir))
	}
	switch {
	case beamAlive():
		_ = syscall.Kill(s.PID, syscall.SIGTERM)
	case !s.exited():
		// The VM never wrote its PID file: stop the whole group.
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	}
	if !s.waitExit(stopTimeout) {
		if beamAlive() {
			_ = syscall.Kill(s.PID, syscall.SIGKILL)
		}
		s.killGroup()
		<-s.done
	}
	// The VM is normally a child of the ejabberdctl shell, which has
	// exited and so reaped it. Its helpers (erl_child_setup, inet_gethost)
	// run in their own sessions; wait for them too (and for the VM, should
	// the shell have died first), and SIGKILL what is left after 5 s.
	s.sweep(stopTimeout)
}

// ejabberdctl runs ejabberdctl with the instance's configuration.
func (s *Server) ejabberdctl(tb TB, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, err := s.command(ctx, "/usr/sbin/ejabberdctl", append(append([]string(nil), s.ctlArgs...), args...)...)
	if err != nil {
		tb.Fatalf("testserver: %v", err)
		return ""
	}
	cmd.Dir = s.Dir
	cmd.Env = withMarker(s.env, s.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("testserver: ejabberdctl %s: %v\n%s", args[0], err, out)
	}
	return string(out)
}

// CaptchaAnswers returns the CAPTCHA answers ejabberd generated so far,
// oldest first: the last one belongs to the most recent challenge. ejabberd
// runs captcha_cmd once at start to check it, so the first entry is not
// from a client request. Empty unless the server was started with Captcha.
func (s *Server) CaptchaAnswers() []string {
	if s.captcha == "" {
		return nil
	}
	data, err := os.ReadFile(s.captcha)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// yamlString quotes s as a YAML double-quoted scalar.
func yamlString(s string) string {
	return strconv.Quote(s) // JSON-compatible escapes are valid YAML
}

// yamlList formats a YAML flow sequence of strings.
func yamlList(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = yamlString(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// writeEjabberdConfig creates the directory layout, certificates, CAPTCHA
// script and configuration files, and fixes ownership and permissions.
func (s *Server) writeEjabberdConfig(cfg EjabberdConfig, certPEM, keyPEM []byte) error {
	n := 2 // c2s, Erlang distribution
	if cfg.DirectTLS {
		n++
	}
	needHTTP := cfg.Captcha || cfg.HTTPUpload > 0
	if needHTTP {
		n++
	}
	ports, err := freePorts(n)
	if err != nil {
		return err
	}
	c2sPort, distPort := ports[0], ports[1]
	ports = ports[2:]
	s.Addr = loopback(c2sPort)
	directPort, httpPort := 0, 0
	if cfg.DirectTLS {
		directPort, ports = ports[0], ports[1:]
		s.DirectTLSAddr = loopback(directPort)
	}
	if needHTTP {
		httpPort = ports[0]
		s.HTTPAddr = loopback(httpPort)
	}

	dir := s.Dir
	for _, d := range []string{"certs", "spool", "logs", "upload"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	s.CertFile = filepath.Join(dir, "certs", "server.crt")
	s.KeyFile = filepath.Join(dir, "certs", "server.key")
	pemFile := filepath.Join(dir, "certs", "server.pem")
	if err := os.WriteFile(s.CertFile, certPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(s.KeyFile, keyPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pemFile, append(append([]byte(nil), certPEM...), keyPEM...), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "certs", "ca.pem"), s.CA.CertPEM, 0o644); err != nil {
		return err
	}
	if inetrc, err := os.ReadFile(filepath.Join(s.Chroot, "/etc/ejabberd/inetrc")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "inetrc"), inetrc, 0o644); err != nil {
			return err
		}
	}

	node := fmt.Sprintf("ejabberd-%d@localhost", c2sPort)
	erlOptions := "-env ERL_CRASH_DUMP_BYTES 0"
	if s.Chroot != "" {
		// In the chroot ejabberdctl's su sets HOME to the shared
		// /var/lib/ejabberd: give the instance (server and ejabberdctl
		// commands alike) its own cookie instead of a shared
		// .erlang.cookie there.
		erlOptions += " -setcookie " + randomHex(16)
	}
	ctlCfg := fmt.Sprintf(`# Generated by testserver.
ERLANG_NODE=%s
ERL_DIST_PORT=%d
INET_DIST_INTERFACE=127.0.0.1
EJABBERD_PID_PATH=%s
EJABBERD_BYPASS_WARNINGS=true
ERL_OPTIONS="%s"
`, node, distPort, shellQuote(s.inner(filepath.Join(dir, "ejabberd.pid"))), erlOptions)
	ctlFile := filepath.Join(dir, "ejabberdctl.cfg")
	if err := os.WriteFile(ctlFile, []byte(ctlCfg), 0o644); err != nil {
		return err
	}

	var captchaCmd string
	if cfg.Captcha {
		s.captcha = filepath.Join(dir, "captcha-answers.txt")
		pngFile := filepath.Join(dir, "captcha.png")
		if err := os.WriteFile(pngFile, captchaPNG(), 0o644); err != nil {
			return err
		}
		captchaCmd = filepath.Join(dir, "captcha.sh")
		script := fmt.Sprintf("#!/bin/sh\n# Generated by testserver: record the expected answer, print a fixed image.\nprintf '%%s\\n' \"$1\" >> %s\nexec cat %s\n",
			shellQuote(s.inner(s.captcha)), shellQuote(s.inner(pngFile)))
		if err := os.WriteFile(captchaCmd, []byte(script), 0o755); err != nil {
			return err
		}
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Generated by github.com/xmpp-onboard/onboard/internal/testserver.")
	p("hosts: %s", yamlList(s.Hosts))
	p("loglevel: info")
	p("log_rotate_count: 0")
	p("certfiles: [%s]", yamlString(s.inner(pemFile)))
	p("ca_file: %s", yamlString(s.inner(filepath.Join(dir, "certs", "ca.pem"))))
	p("auth_method: internal")
	p("auth_password_format: scram")
	if cfg.ScramHash != "" {
		p("auth_scram_hash: %s", cfg.ScramHash)
	}
	p("default_db: mnesia")
	if cfg.RegistrationTimeout > 0 {
		p("registration_timeout: %d", cfg.RegistrationTimeout)
	} else {
		p("registration_timeout: infinity")
	}
	if cfg.Captcha {
		p("captcha_cmd: %s", yamlString(s.inner(captchaCmd)))
		p("captcha_url: %s", yamlString("http://"+s.HTTPAddr+"/captcha"))
	}
	p("listen:")
	p("  - port: %d", c2sPort)
	p("    ip: \"127.0.0.1\"")
	p("    backlog: 1024") // the default, 5, drops connections under load
	p("    module: ejabberd_c2s")
	p("    max_stanza_size: 262144")
	p("    shaper: none")
	p("    access: c2s")
	p("    starttls_required: true")
	if cfg.DirectTLS {
		p("  - port: %d", directPort)
		p("    ip: \"127.0.0.1\"")
		p("    backlog: 1024")
		p("    module: ejabberd_c2s")
		p("    max_stanza_size: 262144")
		p("    shaper: none")
		p("    access: c2s")
		p("    tls: true")
	}
	if needHTTP {
		p("  - port: %d", httpPort)
		p("    ip: \"127.0.0.1\"")
		p("    backlog: 1024")
		p("    module: ejabberd_http")
		p("    tls: false")
		p("    request_handlers:")
		if cfg.Captcha {
			p("      /captcha: ejabberd_captcha")
		}
		if cfg.HTTPUpload > 0 {
			p("      /upload: mod_http_upload")
		}
	}
	p("s2s_access: none")
	p("acl:")
	p("  loopback:")
	p("    ip: [\"127.0.0.0/8\"]")
	p("access_rules:")
	p("  c2s: {allow: all}")
	p("  local: {allow: all}")
	if cfg.Registration == RegistrationDeny {
		p("  register: {deny: all}")
	} else {
		p("  register: {allow: all}")
	}
	p("modules:")
	if len(cfg.ContactInfo) > 0 {
		keys := make([]string, 0, len(cfg.ContactInfo))
		for k := range cfg.ContactInfo {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p("  mod_disco:")
		p("    server_info:")
		for _, k := range keys {
			name := k
			if !strings.HasSuffix(name, "-addresses") {
				name += "-addresses"
			}
			p("      - modules: all")
			p("        name: %s", yamlString(name))
			p("        urls: %s", yamlList(cfg.ContactInfo[k]))
		}
	} else {
		p("  mod_disco: {}")
	}
	p("  mod_roster: {}")
	p("  mod_ping: {}")
	p("  mod_register:")
	if cfg.Registration == RegistrationNone {
		p("    access: none")
	} else {
		p("    access: register")
	}
	p("    ip_access: all")
	if cfg.Captcha {
		p("    captcha_protected: true")
	}
	if cfg.RedirectURL != "" {
		p("    redirect_url: %s", yamlString(cfg.RedirectURL))
	}
	if cfg.PasswordStrength > 0 {
		p("    password_strength: %d", cfg.PasswordStrength)
	}
	if cfg.HTTPUpload > 0 {
		// @HOST@ keeps put_url distinct per virtual host (required with
		// several hosts).
		url := "http://" + s.HTTPAddr + "/upload/@HOST@"
		p("  mod_http_upload:")
		p("    max_size: %d", cfg.HTTPUpload)
		p("    docroot: %s", yamlString(s.inner(filepath.Join(dir, "upload"))))
		p("    put_url: %s", yamlString(url))
		p("    get_url: %s", yamlString(url))
		p("    hosts: [\"upload.@HOST@\"]")
	}
	if cfg.FAST {
		p("  mod_auth_fast: {}")
	}
	if cfg.MaxAuthFailures > 0 {
		lifetime := int64(cfg.BanLifetime / time.Second)
		if lifetime <= 0 {
			lifetime = 3600
		}
		p("  mod_fail2ban:")
		p("    c2s_max_auth_failures: %d", cfg.MaxAuthFailures)
		p("    c2s_auth_ban_lifetime: %d", lifetime)
	}
	if cfg.ExtraConfig != "" {
		p("# ExtraConfig")
		p("%s", cfg.ExtraConfig)
	}
	s.ConfigFile = filepath.Join(dir, "ejabberd.yml")
	if err := os.WriteFile(s.ConfigFile, []byte(b.String()), 0o644); err != nil {
		return err
	}

	s.ctlArgs = []string{
		"--config-dir", s.inner(dir),
		"--config", s.inner(s.ConfigFile),
		"--ctl-config", s.inner(ctlFile),
		"--spool", s.inner(filepath.Join(dir, "spool")),
		"--logs", s.inner(filepath.Join(dir, "logs")),
	}
	s.env = ejabberdEnv(s.inner(dir))
	s.logFiles = []string{
		filepath.Join(dir, "logs", "stdout.log"),
		filepath.Join(dir, "logs", "ejabberd.log"),
		filepath.Join(dir, "logs", "error.log"),
		filepath.Join(dir, "logs", "crash.log"),
	}
	return s.fixOwnership()
}

// ejabberdEnv returns the environment for ejabberdctl: ours without
// variables that would change ejabberdctl's or Erlang's behaviour, and with
// HOME set to the instance directory (for a private .erlang.cookie).
func ejabberdEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "CI":
		case strings.HasPrefix(k, "ERL"), strings.HasPrefix(k, "EJABBERD"),
			strings.HasPrefix(k, "INET_DIST"), k == "CONTRIB_MODULES_PATH", k == "CONTRIB_MODULES_CONF_DIR":
		default:
			env = append(env, kv)
		}
	}
	if !hasKey(env, "PATH") {
		env = append(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return append(env, "HOME="+dir)
}

// hasKey reports whether env has a variable named key.
func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// fixOwnership makes s.Dir and everything in it owned by the ejabberd user,
// and makes sure every ancestor directory can be traversed by it.
func (s *Server) fixOwnership() error {
	if s.owner == nil {
		return nil
	}
	uid, gid := int(s.owner.Uid), int(s.owner.Gid)
	err := filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
	if err != nil {
		return err
	}
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		return err
	}
	// t.TempDir() creates its directories with mode 0700 (the per-test
	// parent too); ejabberd running as its own user has to traverse them.
	// Only directories below os.TempDir() are changed (o+x); anything else
	// that is not traversable is an error.
	tmp, _ := filepath.Abs(os.TempDir())
	for d := filepath.Dir(s.Dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			rel, err := filepath.Rel(tmp, d)
			if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
				return fmt.Errorf("directory %s is not traversable by user ejabberd (mode %v); use a TMPDIR every user can traverse", d, fi.Mode().Perm())
			}
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("making %s traversable by user ejabberd: %w", d, err)
			}
		}
		if parent := filepath.Dir(d); parent == d {
			break
		}
	}
	return nil
}

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24)
	return hex.EncodeToString(b)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// captchaPNG returns a small fixed PNG image (a 32×16 gray rectangle).
func captchaPNG() []byte {
	img := image.NewGray(image.Rect(0, 0, 32, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 32; x++ {
			img.SetGray(x, y, color.Gray{Y: uint8(0x40 + (x^y)&0x3f)})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
