// Package latency provides a loopback TCP proxy that adds a fixed one-way
// delay in each direction, for tests and benchmarks that need a realistic
// round-trip time on a machine without netem (tc qdisc).
//
// A [Proxy] listens on 127.0.0.1 on a free port and forwards every accepted
// connection to its target. Every chunk of data it reads is written to the
// other side Delay later; chunks are queued per direction with their read
// timestamps, so ordering is kept and delays do not add up: a stream of
// chunks is shifted by Delay, not slowed down. A request/response exchange
// through the proxy therefore takes at least 2*Delay longer than without it.
//
// The TCP handshake is simulated too: after accepting a connection the
// proxy waits 2*Delay (one SYN/SYN-ACK round trip) before it forwards
// anything in either direction. The client's connect call itself returns at
// once (the kernel completes the loopback handshake), but its first bytes
// reach the target no earlier than 3*Delay after the connection was
// accepted, as they would on a real link (one round trip for the handshake
// plus one one-way trip for the data).
//
// [Proxy.Stats] counts connections, bytes and client "turns"
// (round trips), so tests can assert how many round trips a protocol
// exchange needs:
//
//	p, err := latency.Start(ctx, srv.Addr, 25*time.Millisecond)
//	...
//	conn, err := net.Dial("tcp", p.Addr())
//	... run the protocol ...
//	st := p.Stats() // st.RoundTrips, st.ConnectRTTs, st.BytesUp, ...
package latency
