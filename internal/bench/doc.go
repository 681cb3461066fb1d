// Command bench measures how long it takes to create an XMPP account with
// package register, against real servers, through a simulated mobile
// network, side by side with slixmpp 1.8 on the same servers in the same
// run. Its output is the figures table of BENCHMARKS.md.
//
// # Running
//
//	go run ./internal/bench               # 5 runs per case, 50 ms RTT
//	go run ./internal/bench -n 9 -rtt 100ms
//	go run ./internal/bench -quick        # 1 run per case, 10 ms RTT (CI)
//
// It starts Prosody 0.12 and ejabberd 23.01 with internal/testserver (both
// must be installed, see that package), each with a STARTTLS and a direct
// TLS (XEP-0368) listener, and puts an internal/latency proxy with the
// chosen round-trip time in front of every connection. A full run takes
// about a minute (two with -n 9), a quick one about ten seconds.
//
// Flags:
//
//	-n N          runs per case; the table shows the median (default 5)
//	-rtt D        simulated round-trip time (default 50ms; 10ms with -quick)
//	-quick        one run per case and no memory section: for tests and CI
//	-servers L    comma-separated: prosody, ejabberd (default both)
//	-python P     the Python 3 with slixmpp 1.8 (default /usr/bin/python3);
//	              "" or a Python without slixmpp leaves its rows out
//	-timeout D    bound for the whole run (default 5m)
//
// # Cases
//
// For each server, each kind of TLS (STARTTLS and direct TLS) and each flow
// ("register": until the server has confirmed the new account;
// "register+login": until a resource is bound on the same connection), it
// runs three clients:
//
//   - ours: register.Client.Register with its defaults (pipelining on);
//   - ours, sequential: the same with Dialer.NoPipelining, every request
//     waiting for the previous answer (the "before" row);
//   - slixmpp: the driver script slixmpp_register.py (embedded in the
//     binary) run with the given Python, connecting through its own proxy.
//
// Prosody 13 runs with prosody-modules' mod_sasl2, _bind2, _fast and _sm,
// ejabberd 24.12 with mod_auth_fast: both offer SASL2 (XEP-0388) with
// Bind2 and FAST to the stream header register sends (from= names the
// account), so their register+login rows log in with SASL2 and get the
// session in the success. For these two there is a third flow, "FAST
// re-login": an account is registered with login (not measured) and its
// FAST token (XEP-0484) is then used by Dialer.LoginFAST through the
// proxy, to the bound session (ours and ours, sequential only).
//
// Every run uses a fresh username, a fresh proxy (so the counts of one run
// cannot leak into the next) and one connection.
//
// # Output
//
// A Markdown table with, per case and client:
//
//   - RTTs: round trips the proxy saw until the account existed (register)
//     or the session was bound (register+login): simulated TCP handshakes
//     plus client turns, a turn being data the client sent after it had
//     received data (see internal/latency). For ours, counted at the
//     moment Register reported the step; for slixmpp, when the process
//     ended (it aborts the connection without sending anything more).
//   - limit: the round trips of the protocol done one request at a time,
//     as the issue defines them (direct TLS register 5: TCP, TLS 1.3,
//     stream, form, submit; STARTTLS 7; login adds SASL 2, stream restart 1
//     and bind 1, with SASL2 and Bind2 only SASL 2; a FAST re-login is 4
//     direct: TCP, TLS 1.3, stream, authenticate; 6 with STARTTLS).
//   - wall: median wall time over the runs, from just before connecting
//     to the result (for slixmpp as measured by the script, so Python's
//     start-up is not counted), and the fastest and slowest run.
//   - ours/slixmpp: the ratio of the medians.
//
// Then the per-step round trips of ours (to the secured stream, the form,
// the account, the session), the machine (CPU, cores, Go and server
// versions) and, without -quick, memory: the Go heap allocated per
// registration (measured without the proxy, whose buffers would count),
// the peak RSS of this process and of the slixmpp processes.
//
// The exit status is 1 if a run failed or if ours needed more round trips
// than documented in package register (# Round trips).
package main
