package testserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Prosody registration modes for [ProsodyConfig.Registration].
const (
	RegistrationOpen   = "open"   // anyone may register (Prosody and ejabberd)
	RegistrationClosed = "closed" // Prosody: allow_registration = false, no <register/> feature
	RegistrationInvite = "invite" // Prosody: invites + invites_register, registration_invite_only = true
)

// prosodyReadyTimeout bounds how long StartProsody waits for the ports.
const prosodyReadyTimeout = 10 * time.Second

// ProsodyConfig configures [StartProsody]. The zero value is an open
// registration server for "localhost".
type ProsodyConfig struct {
	// Version chooses the Prosody: "" (the host's, Debian bookworm's
	// 0.12), Prosody012 ("0.12", the host's, checked to be 0.12) or
	// Prosody13 ("13", Debian trixie's 13.0.1 from the chroot, see
	// [ChrootDir]). See [Server.Version] and [Server.Name].
	Version string
	// SASL2 loads prosody-modules' mod_sasl2 (XEP-0388), mod_sasl2_bind2
	// (XEP-0386), mod_sasl2_fast (XEP-0484) and mod_sasl2_sm. Prosody
	// offers them only to a stream header with from='user@domain'. Only
	// where prosody-modules is installed: the chroot's Prosody 13.
	SASL2 bool
	// Domain is the main VirtualHost; default "localhost".
	Domain string
	// ExtraHosts are more VirtualHosts with the same options (for
	// benchmarks that probe many hosts of one server).
	ExtraHosts []string
	// Registration is RegistrationOpen ("open", the default),
	// RegistrationClosed ("closed") or RegistrationInvite ("invite":
	// modules invites and invites_register with
	// registration_invite_only = true; use [Server.InviteURI]).
	Registration string
	// ThrottleMax and ThrottlePeriod (seconds), when both are > 0, set
	// registration_throttle_max and registration_throttle_period of
	// mod_register_limits and clear registration_allowlist (whose default
	// exempts 127.0.0.1).
	ThrottleMax, ThrottlePeriod int
	// ExtraFields sets additional_registration_fields, e.g. {"email+"}
	// ("+" marks a required field).
	ExtraFields []string
	// DirectTLS also opens a direct TLS (XEP-0368) c2s port
	// (c2s_direct_tls_ports); see [Server.DirectTLSAddr].
	DirectTLS bool
	// ContactInfo enables mod_server_contact_info (XEP-0157) with
	// contact_info = { abuse = {...}, admin = {...} }. Keys are the
	// Prosody names (abuse, admin, feedback, sales, security, status,
	// support); a "-addresses" suffix is removed. Values are URIs such as
	// "mailto:abuse@localhost" or "xmpp:admin@localhost".
	ContactInfo map[string][]string
	// HTTPUpload, when > 0, adds a Component "upload.<host>" with
	// http_file_share (XEP-0363) for every host and sets
	// http_file_share_size_limit to this many bytes. The HTTP server
	// listens on a free loopback port (plain HTTP; no HTTPS port), see
	// [Server.HTTPAddr]. Slot URLs are
	// http://127.0.0.1:PORT/file_share/upload.<host>/..., so they work
	// without DNS.
	HTTPUpload int64
	// ExtraModules are added to modules_enabled.
	ExtraModules []string
	// ExtraConfig is raw Lua appended to the global section (before the
	// VirtualHost lines).
	ExtraConfig string
	// LogLevel is the minimum level written to the log file; default
	// "debug". Use "info" or "warn" for benchmarks.
	LogLevel string
}

// StartProsody starts Prosody with a generated configuration in a new
// directory and waits (at most 10 s) until it accepts connections on all its
// ports. It calls [RequireProsody] first, so it skips the test if Prosody is
// not installed. It registers a cleanup with tb that stops the server (see
// [Server.Stop]). On failure it calls tb.Fatalf with the server log.
func StartProsody(tb TB, cfg ProsodyConfig) *Server {
	tb.Helper()
	fl, ok := requireVersion(tb, KindProsody, cfg.Version)
	if !ok {
		return nil
	}
	if cfg.SASL2 {
		for _, m := range sasl2Modules() {
			file := filepath.Join(fl.root(), "/usr/lib/prosody/modules", "mod_"+m, "mod_"+m+".lua")
			if _, err := os.Stat(file); err != nil {
				tb.Fatalf("testserver: SASL2 needs prosody-modules (%v); the chroot's Prosody %s has it", err, Prosody13)
				return nil
			}
		}
	}
	switch cfg.Registration {
	case "", RegistrationOpen, RegistrationClosed, RegistrationInvite:
	default:
		tb.Fatalf("testserver: unknown Prosody registration mode %q", cfg.Registration)
		return nil
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
		if err := s.writeProsodyConfig(cfg, certPEM, keyPEM); err != nil {
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		out, err := os.Create(filepath.Join(s.Dir, "stdout.log"))
		if err != nil {
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		cmd, err := s.command(context.Background(), "/usr/bin/prosody", "-F", "--config", s.inner(s.ConfigFile))
		if err != nil {
			out.Close()
			tb.Fatalf("testserver: %v", err)
			return nil
		}
		cmd.Dir = s.Dir
		cmd.Env = withMarker(nil, s.Dir)
		cmd.Stdout, cmd.Stderr = out, out
		err = s.startProcess(cmd, true)
		out.Close()
		if err != nil {
			tb.Fatalf("testserver: starting prosody: %v", err)
			return nil
		}
		// Stop is idempotent; this makes sure the process is stopped
		// even if tb.Fatalf is called (or panics) below.
		tb.Cleanup(s.Stop)
		s.PID = cmd.Process.Pid
		addrs := []string{s.Addr}
		for _, a := range []string{s.DirectTLSAddr, s.HTTPAddr} {
			if a != "" {
				addrs = append(addrs, a)
			}
		}
		err = s.waitReady(prosodyReadyTimeout, addrs, nil, prosodyBindError)
		if err == nil {
			s.StartTime = time.Since(t0)
			registerCleanup(tb, s)
			tb.Logf("testserver: %s (%s) %s started in %v (pid %d, dir %s)", s.Name, s.Version, s.Addr, s.StartTime.Round(time.Millisecond), s.PID, s.Dir)
			return s
		}
		s.Stop()
		lastErr = fmt.Errorf("%w\n--- prosody log (%s) ---\n%s", err, s.Dir, s.Log())
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	tb.Fatalf("testserver: starting prosody: %v", lastErr)
	return nil
}

// prosodyBindError detects a listener that could not be opened.
func prosodyBindError(log string) error {
	for _, sub := range []string{"Failed to open server port", "address already in use"} {
		if strings.Contains(log, sub) {
			return fmt.Errorf("%w: prosody logged %q", errPortInUse, sub)
		}
	}
	return nil
}

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// luaList formats a Lua list of strings: { "a"; "b"; }.
func luaList(items []string) string {
	if len(items) == 0 {
		return "{ }"
	}
	var b strings.Builder
	b.WriteString("{ ")
	for _, it := range items {
		b.WriteString(luaString(it))
		b.WriteString("; ")
	}
	b.WriteString("}")
	return b.String()
}

// writeProsodyConfig picks ports and writes certificates and the
// configuration into s.Dir, filling in s.Addr, s.DirectTLSAddr, s.HTTPAddr,
// s.ConfigFile, s.CertFile, s.KeyFile and s.logFiles.
func (s *Server) writeProsodyConfig(cfg ProsodyConfig, certPEM, keyPEM []byte) error {
	n := 1
	if cfg.DirectTLS {
		n++
	}
	if cfg.HTTPUpload > 0 {
		n++
	}
	ports, err := freePorts(n)
	if err != nil {
		return err
	}
	c2sPort := ports[0]
	ports = ports[1:]
	s.Addr = loopback(c2sPort)
	var directPorts, httpPorts []int
	if cfg.DirectTLS {
		directPorts = append(directPorts, ports[0])
		s.DirectTLSAddr = loopback(ports[0])
		ports = ports[1:]
	}
	if cfg.HTTPUpload > 0 {
		httpPorts = append(httpPorts, ports[0])
		s.HTTPAddr = loopback(ports[0])
	}

	certDir := filepath.Join(s.Dir, "certs")
	dataDir := filepath.Join(s.Dir, "data")
	for _, d := range []string{certDir, dataDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	// Prosody finds certificates by host name in the certificates
	// directory; one leaf covers all hosts, so write it under every name.
	names := certNames(s.Hosts)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(certDir, name+".crt"), certPEM, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(certDir, name+".key"), keyPEM, 0o600); err != nil {
			return err
		}
	}
	s.CertFile = filepath.Join(certDir, s.Domain+".crt")
	s.KeyFile = filepath.Join(certDir, s.Domain+".key")

	logLevel := cfg.LogLevel
	if logLevel == "" {
		logLevel = "debug"
	}
	logFile := filepath.Join(s.Dir, "prosody.log")
	s.logFiles = []string{filepath.Join(s.Dir, "stdout.log"), logFile}

	modern := s.prosodyAtLeast13()
	modules := []string{"saslauth", "tls", "disco", "roster", "ping", "register"}
	disabled := []string{"s2s"}
	if cfg.HTTPUpload <= 0 {
		disabled = append(disabled, "http")
	}
	reg := cfg.Registration
	if reg == "" {
		reg = RegistrationOpen
	}
	if reg == RegistrationInvite {
		modules = append(modules, "invites", "invites_register")
	}
	// Prosody 13 deprecated "prosodyctl mod_invites generate"; InviteURI
	// uses "prosodyctl shell invite create_account" there, which talks to
	// the running server through mod_admin_shell's socket. 0.12 keeps it
	// disabled (its prosodyctl writes the invitation to storage directly).
	if reg == RegistrationInvite && modern {
		modules = append(modules, "admin_shell")
	} else {
		disabled = append(disabled, "admin_shell")
	}
	if cfg.SASL2 {
		modules = append(modules, "smacks")
		modules = append(modules, sasl2Modules()...)
	}
	if len(cfg.ContactInfo) > 0 {
		modules = append(modules, "server_contact_info")
	}
	// The harness's own module logs every failed authentication (neither
	// Prosody version does at any level), see Server.FailedAuths.
	modules = append(modules, prosodyAuthLogModule)
	modules = append(modules, cfg.ExtraModules...)
	pluginDir := filepath.Join(s.Dir, "plugins")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(pluginDir, "mod_"+prosodyAuthLogModule+".lua"), []byte(prosodyAuthLogSource), 0o644); err != nil {
		return err
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("-- Generated by github.com/xmpp-onboard/onboard/internal/testserver.")
	p("run_as_root = true")
	p("pidfile = %s", luaString(s.inner(filepath.Join(s.Dir, "prosody.pid"))))
	p("data_path = %s", luaString(s.inner(dataDir)))
	p("plugin_paths = { %s }", luaString(s.inner(pluginDir)))
	p("certificates = %s", luaString(s.inner(certDir)))
	p(`interfaces = { "127.0.0.1" }`)
	p(`local_interfaces = { "127.0.0.1" }`)
	p(`c2s_interfaces = { "127.0.0.1" }`)
	p("c2s_ports = { %d }", c2sPort)
	p(`c2s_direct_tls_interfaces = { "127.0.0.1" }`)
	p("c2s_direct_tls_ports = %s", intList(directPorts))
	p("s2s_ports = { }")
	p("s2s_direct_tls_ports = { }")
	p("component_ports = { }")
	p(`http_interfaces = { "127.0.0.1" }`)
	p("http_ports = %s", intList(httpPorts))
	p(`https_interfaces = { "127.0.0.1" }`)
	p("https_ports = { }")
	p("use_ipv6 = false")
	// nagle = false: without it every stream restart after STARTTLS stalls
	// ~45 ms (Nagle + delayed ACK). A larger backlog for benchmarks that
	// open many connections at once. shutdown_deadline: on SIGTERM, drop
	// client connections that have not closed after 0.25 s instead of
	// waiting 1 s (5 s at most) for them.
	p("network_settings = { nagle = false; tcp_backlog = 1024; shutdown_deadline = 0.25 }")
	p("modules_enabled = %s", luaList(modules))
	p("modules_disabled = %s", luaList(disabled))
	p("c2s_require_encryption = true")
	p("authentication = %q", "internal_hashed")
	p("storage = %q", "internal")
	// registration_invite_only is always set: Prosody 13 defaults it to
	// true (0.12 to false).
	switch reg {
	case RegistrationOpen:
		p("allow_registration = true")
		p("registration_invite_only = false")
	case RegistrationClosed:
		p("allow_registration = false")
		p("registration_invite_only = false")
	case RegistrationInvite:
		p("allow_registration = false")
		p("registration_invite_only = true")
	}
	if cfg.ThrottleMax > 0 && cfg.ThrottlePeriod > 0 {
		p("registration_throttle_max = %d", cfg.ThrottleMax)
		p("registration_throttle_period = %d", cfg.ThrottlePeriod)
		p("registration_allowlist = { }")
	}
	if len(cfg.ExtraFields) > 0 {
		p("additional_registration_fields = %s", luaList(cfg.ExtraFields))
	}
	if len(cfg.ContactInfo) > 0 {
		keys := make([]string, 0, len(cfg.ContactInfo))
		for k := range cfg.ContactInfo {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p("contact_info = {")
		for _, k := range keys {
			name := strings.TrimSuffix(k, "-addresses")
			p("  [%s] = %s;", luaString(name), luaList(cfg.ContactInfo[k]))
		}
		p("}")
	}
	p("log = { { levels = { min = %s }, to = \"file\", filename = %s } }", luaString(logLevel), luaString(s.inner(logFile)))
	if cfg.ExtraConfig != "" {
		p("-- ExtraConfig")
		p("%s", cfg.ExtraConfig)
	}
	for _, h := range s.Hosts {
		p("")
		p("VirtualHost %s", luaString(h))
		if cfg.HTTPUpload > 0 {
			p("Component %s %q", luaString("upload."+h), "http_file_share")
			p("  http_file_share_size_limit = %d", cfg.HTTPUpload)
			// Users of every host may upload to every host's component,
			// as with 0.12's default (empty access: any local host's
			// users); Prosody 13's default allows only the component's
			// parent host's registered users.
			p("  http_file_share_access = %s", luaList(s.Hosts))
			// Serve every upload component on the HTTP host 127.0.0.1
			// under its own path, so slot URLs are
			// http://127.0.0.1:PORT/file_share/upload.HOST/... and need
			// no DNS.
			p("  http_host = %q", "127.0.0.1")
			p("  http_paths = { file_share = %s }", luaString("/file_share/upload."+h))
		}
	}
	s.ConfigFile = filepath.Join(s.Dir, "prosody.cfg.lua")
	return os.WriteFile(s.ConfigFile, []byte(b.String()), 0o600)
}

// prosodyAuthLogModule is the name of the module the harness writes into
// every Prosody's plugin directory; prosodyAuthLogSource is its code. It
// logs one line with prosodyFailedAuthText for every
// "authentication-failure" event (fired by mod_saslauth and mod_sasl2), at
// level warn, so that LogLevel "warn" keeps it.
const (
	prosodyAuthLogModule  = "testserver_authlog"
	prosodyFailedAuthText = "testserver: failed authentication"
	prosodyAuthLogSource  = `-- Generated by github.com/xmpp-onboard/onboard/internal/testserver:
-- one log line per failed authentication, counted by Server.FailedAuths.
module:hook("authentication-failure", function (event)
	local session = event.session or {};
	local sasl = session.sasl_handler or {};
	module:log("warn", "` + prosodyFailedAuthText + ` of %s from %s: %s",
		tostring(sasl.username or "?"), tostring(session.ip or "?"), tostring(event.condition or "?"));
end);
`
)

// sasl2Modules returns the prosody-modules [ProsodyConfig.SASL2] loads.
func sasl2Modules() []string { return []string{"sasl2", "sasl2_bind2", "sasl2_fast", "sasl2_sm"} }

// prosodyAtLeast13 reports whether the server is Prosody 13 or newer.
func (s *Server) prosodyAtLeast13() bool {
	major, _, _ := strings.Cut(s.Version, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 13
}

// intList formats a Lua list of integers.
func intList(ports []int) string {
	if len(ports) == 0 {
		return "{ }"
	}
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprint(p)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// prosodyctl runs prosodyctl with the server's configuration.
func (s *Server) prosodyctl(tb TB, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd, err := s.command(ctx, "/usr/bin/prosodyctl", append([]string{"--config", s.inner(s.ConfigFile)}, args...)...)
	if err != nil {
		tb.Fatalf("testserver: %v", err)
		return ""
	}
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("testserver: prosodyctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// InviteURI creates a Prosody account invitation for Domain and returns its
// URI, "xmpp:DOMAIN?register;preauth=TOKEN". The server must have been
// started with Registration "invite". Prosody 0.12: "prosodyctl mod_invites
// generate DOMAIN"; Prosody 13, where that is deprecated: "prosodyctl shell
// invite create_account DOMAIN" (through mod_admin_shell, which the invite
// mode loads there). ejabberd has no invitations; InviteURI fails the test
// there.
func (s *Server) InviteURI(tb TB) string {
	tb.Helper()
	if s.Kind != KindProsody {
		tb.Fatalf("testserver: InviteURI: %s has no invitations (only Prosody)", s.Name)
		return ""
	}
	var out string
	if s.prosodyAtLeast13() {
		out = s.prosodyctl(tb, "shell", "invite", "create_account", s.Domain)
	} else {
		out = s.prosodyctl(tb, "mod_invites", "generate", s.Domain)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		// 0.12 prints the URI alone on a line, 13 "OK: xmpp:...".
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimSpace(strings.TrimPrefix(line, "OK:"))
		if strings.HasPrefix(line, "xmpp:") {
			return line
		}
	}
	tb.Fatalf("testserver: InviteURI: no xmpp: URI in prosodyctl output (was the server started with Registration %q?):\n%s", RegistrationInvite, out)
	return ""
}

// AddUser creates the account user@Domain with the given password
// ("prosodyctl register" or "ejabberdctl register"). It works while the
// server is running.
func (s *Server) AddUser(tb TB, user, password string) {
	tb.Helper()
	switch s.Kind {
	case KindProsody:
		s.prosodyctl(tb, "register", user, s.Domain, password)
	case KindEjabberd:
		s.ejabberdctl(tb, "register", user, s.Domain, password)
	}
}
