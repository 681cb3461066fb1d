// Package testserver starts real XMPP servers (Prosody 0.12 and ejabberd
// 23.01 as packaged by Debian bookworm on the host; Prosody 13 and ejabberd
// 24.12 as packaged by Debian trixie, from a chroot) on 127.0.0.1 for
// integration tests and benchmark programs.
//
// [ProsodyConfig.Version] and [EjabberdConfig.Version] choose the version
// (the host's by default); [Server.Name] ("prosody 13") and
// [Server.Version] ("13.0.1") say which one runs. [ForEach] runs a subtest
// per version and [Versions] lists those available. The trixie servers run
// from the chroot [ChrootDir] ($ONBOARD_TRIXIE, default
// /var/tmp/onboard-trixie; build it with trixie-chroot.sh in this
// directory, as root), which needs root to enter: a missing chroot skips
// them (fails them under CI=true) and leaves the host's versions alone.
// Their directories are ROOT/srv/onboard-*, removed when they stop.
//
// Every server gets its own directory, its own generated certificate
// authority and leaf certificate, and free loopback ports, so several
// servers (of either kind) can run at the same time, also from test
// binaries of different packages running in parallel. Nothing listens on
// anything but 127.0.0.1 and server-to-server traffic is disabled.
//
// Typical use in a test:
//
//	func TestRegister(t *testing.T) {
//		srv := testserver.StartProsody(t, testserver.ProsodyConfig{})
//		conn, err := srv.Dial(ctx)
//		// ... negotiate STARTTLS with srv.TLSConfig() ...
//	}
//
// StartProsody and StartEjabberd skip the test when the server is not
// installed (and fail it when the environment variable CI is "true"), and
// register a cleanup that stops the server by its process ID.
//
// Outside of "go test" (benchmark programs, examples) use a [Runner] as the
// [TB]:
//
//	r := testserver.NewRunner("")
//	defer r.Close()
//	err := r.Try(func() { srv = testserver.StartProsody(r, cfg) })
//
// Servers are always stopped by the process IDs this package started (or,
// for ejabberd, the beam.smp PID that ejabberd wrote to its own PID file);
// nothing is ever killed by name. Every server process gets the environment
// variable TESTSERVER_DIR=<its directory>; after stopping a server, Stop
// waits for (and if need be kills) any process still carrying that marker,
// such as Erlang's helper programs, which run in sessions of their own.
// Prosody is started with a parent-death signal, and ejabberd gets a small
// watchdog shell, so that neither outlives a test binary that dies without
// running its cleanups (a "go test" timeout, for example).
//
// Quirks worth knowing:
//   - Prosody waits for connected clients to close their streams when it
//     stops (by default 1 s, up to 5 s); the generated configuration cuts
//     this to 0.25 s (network_settings.shutdown_deadline). Stops are
//     quickest when client connections are closed first, which test
//     cleanups do anyway (they run in reverse order of registration).
//   - ejabberd runs captcha_cmd once at start to check that it works, so
//     [Server.CaptchaAnswers] already has one entry before the first
//     registration form is requested.
//   - ejabberd 23.01 advertises SCRAM-*-PLUS on TLS 1.3 but rejects the
//     tls-exporter channel binding: log in with non-PLUS SCRAM (or PLAIN),
//     or cap TLS at 1.2.
//   - Prosody 13 and ejabberd 24.12 advertise XEP-0440 channel bindings
//     (tls-exporter; ejabberd also tls-server-end-point). SASL2 (XEP-0388)
//     with Bind2: ejabberd 24.12 offers it only to a stream header with
//     from='user@domain'; Prosody 13 with [ProsodyConfig.SASL2] offers it
//     always, and FAST (XEP-0484) only with from=.
//   - ejabberd buffers its log file for a few seconds: use
//     [Server.WaitFailedAuths] to count failed logins.
package testserver
