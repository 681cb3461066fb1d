// Package fakeserver is an in-process, scripted XMPP server on 127.0.0.1 for
// tests of what real servers will not do: hostile or malformed replies,
// connections cut at a chosen moment, stalls, oversized data, certificates
// for the wrong name, servers that never offer STARTTLS.
//
// Use real servers (internal/testserver) for everything else; the fake
// server does only what its handler tells it to.
//
// # Writing a handler
//
// [Start] listens on a free loopback port and runs Config.Handler in its own
// goroutine for each accepted connection, with a [*Stream] that speaks the
// server side of the stream. The building blocks are:
//
//   - [Stream.Negotiate]: read the client's stream header, answer with a
//     header and features offering STARTTLS, do STARTTLS, and open the
//     secured stream with the given features (on a DirectTLS server the
//     STARTTLS part is skipped). Lower-level: [Stream.ReadHeader],
//     [Stream.SendHeader], [Stream.SendFeatures], [Stream.StartTLS].
//   - [Stream.Next] reads the next top-level element the client sent as an
//     [*Element]; [Stream.Send] writes raw XML; [Stream.Reply] and
//     [Stream.ReplyError] answer an IQ.
//   - [Stream.SASL] runs SCRAM-SHA-1 / SCRAM-SHA-256 (mellium.im/sasl) for
//     the accounts a function knows; [Stream.Bind] then restarts the stream
//     and binds a resource, so that a client can hand the stream to a
//     mellium *xmpp.Session.
//   - [Stream.Cut] drops the TCP connection without ending the stream;
//     [Stream.Stall] keeps it open and silent until the client gives up.
//
// A minimal registration server:
//
//	srv := fakeserver.Start(t, fakeserver.Config{
//		Handler: func(st *fakeserver.Stream) error {
//			if err := st.Negotiate(fakeserver.FeatureRegister + fakeserver.Mechanisms("SCRAM-SHA-1")); err != nil {
//				return err
//			}
//			get, err := st.Next() // <iq type='get'><query xmlns='jabber:iq:register'/></iq>
//			if err != nil {
//				return err
//			}
//			st.Reply(get, `<query xmlns='jabber:iq:register'><username/><password/></query>`)
//			set, err := st.Next()
//			if err != nil {
//				return err
//			}
//			return st.ReplyError(set, "cancel", "conflict", "taken")
//		},
//	})
//	// connect to srv.Addr, trusting srv.TLSConfig(); the certificate is for srv.Domain.
//
// Handlers run concurrently (one goroutine per connection); state shared
// between connections needs a mutex. A handler's return value is recorded
// ([Server.Errors]); io.EOF and errors caused by the client closing the
// connection are not.
//
// # Assertions
//
// Every byte the client sent on a connection (after TLS decryption) is kept
// and returned by [Server.Transcripts], so a test can check that no
// password was sent before TLS, or at all. [Server.Accepted] counts
// connections.
//
// # Certificates
//
// Start creates a fresh certificate authority and a leaf certificate for
// Config.CertNames (default: Config.Domain, default "localhost"), both
// ECDSA P-256 and valid for one day. [Server.TLSConfig] returns a client
// configuration that trusts only that authority; [Server.Roots] is the pool.
//
// The server stops when the test ends (t.Cleanup): the listener and all
// connections are closed and handlers are waited for.
package fakeserver
