// Package hardening holds the reliability and security suite of the
// module: black-box tests that drive the public APIs of register,
// discovery, providers and rating with hostile servers, cut streams, bad
// data and load, and check that nothing hangs, leaks or gets lost. The
// package has no code of its own; everything is in its _test.go files.
//
// # What every hostile case must show
//
// Each case of the hostile-server tables (TestHostileRegister,
// TestHostileDiscovery, TestHostileHTTP) runs one public call against an
// in-process fake server (internal/fakeserver, or an httptest server for
// the HTTPS parts of a probe) and checks at once:
//
//   - a typed error: the call fails with an error that errors.Is or
//     errors.As matches (register.ErrTooLarge, register.ErrProtocol,
//     register.ErrNoTLS, context.DeadlineExceeded, discovery.ErrTooLarge,
//     …), and whose message carries the package prefix;
//   - within the deadline: the call returns by its context's deadline (the
//     test fails as hung only well after it, so a loaded machine does not
//     make it flaky), without a panic;
//   - bounded memory: the growth of the live heap while the case runs
//     (sampled every millisecond) stays under 64 MiB, the bytes allocated
//     (runtime.MemStats.TotalAlloc growth, garbage included) under
//     128 MiB, and the heap retained afterwards (HeapAlloc after a GC)
//     under 8 MiB;
//   - no goroutine left behind: once the fake server is closed,
//     runtime.NumGoroutine returns to what it was before the case (polled
//     for up to five seconds);
//   - no secret let out: the password appears neither in anything the
//     application could print (the error with every verb, the account,
//     forms, progress events, the Debug XML, the probe report) nor, unless
//     the case legitimately submits it over TLS, in what the client sent.
//
// The cases are run one after another, never in parallel, so that the
// goroutine and memory figures belong to one case.
//
// # Credentials
//
// TestCredentialsNeverBeforeTLS runs logins and registrations against
// servers that strip STARTTLS, refuse or inject into it, or present a
// certificate for another name, and checks the fake server's transcript
// of every connection: no password, none of its base64 forms, no <auth/>
// and no registration query. TestSecretsNeverPrinted makes servers echo
// the password in every place a server can (error texts, condition names,
// stream errors, SASL failures, element names) and greps every output the
// application might print: error strings with %v, %+v, %#v and %s, each
// error of the chain, formatted accounts, forms and progress events, and
// the register.Dialer.Debug output. TestOutcomeUnknownReal cuts a
// connection to each real server version (Prosody 0.12 and 13, ejabberd
// 23.01 and 24.12) with a small TCP proxy just after (or just before)
// the registration request passes and checks that Dialer.Confirm resolves
// the "outcome unknown" error.
//
// # Bad data
//
// TestBadProviderLists, TestBadProviderFiles and
// TestHostileProviderFileHTTP feed provider lists and provider files with
// wrong types, huge numbers, duplicate keys, invalid UTF-8 and 100 MB of
// input (generated lazily, never held in memory) to providers.Decoder,
// providerfile.Validate and discovery.Prober, and check that the
// errors name the provider and key, and that no more than the size cap
// (plus a little slack) is read.
//
// # Load
//
// TestLoadProsody starts one Prosody and runs HARDENING_SIGNUPS (default
// 200) concurrent register.Client.Register calls, with and without Login,
// some of which race for the same username. Every account must be created
// exactly once or refused with a typed error, every created account must
// log in afterwards, and no goroutine or file descriptor may be left
// behind. The figures (total time, p50/p95 per signup, errors by kind,
// peak RSS) are logged with -v.
//
// # Fuzzing
//
// FuzzPreTLSGreeting, FuzzFormReply and FuzzLoginChallenge let the fuzzer
// play the server against the public API, over real TLS on loopback:
// everything a server says before TLS (the client must send nothing but
// its stream header and <starttls/>), the reply to the form request (a
// typed error, or a form within the documented limits), and the SCRAM
// messages of a login (a typed error, in time, without the password).
// FUZZING.md at the root of the module lists every fuzz target of the
// module and the results of long runs.
//
// # Findings
//
// The suite found these bugs, all fixed since: two hangs in
// mellium.im/sasl's SCRAM client that a context cannot interrupt (a
// malformed server-first-message, a huge iteration count; now vetted by
// internal/saslclient), passwords echoed by servers into error messages
// through condition names, stream error texts, SASL failures and forms,
// register errors without the package prefix or of the wrong kind,
// discovery's bare XML syntax errors, a plain-http request through an
// injected HTTP client, javascript: and user-info links offered by
// discovery, truncated bodies parsed as whole documents, and an input cap
// that let a hostile provider list cost 80 MiB of heap. Each case stays
// in the tables so that the bug cannot come back.
//
// A bug still open is described in the bug or probeBug field of its case:
// the case then skips with
// the description, after all its other checks, instead of failing, and
// runs normally again once the bug is fixed.
//
// # Running
//
//	go test -race ./internal/hardening/
//	HARDENING_SIGNUPS=1000 go test -run TestLoadProsody -v ./internal/hardening/
//
// The tests against Prosody are skipped when it is not installed, and fail
// under CI=true (internal/testserver). SECURITY.md at the root of the
// module maps each protection to the test that proves it; FUZZING.md
// describes the fuzz targets and their long runs.
package hardening
