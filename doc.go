// Package onboard gets a newcomer a working XMPP account on a good public
// server, from any Go program: a chat client, a bot, a bridge or a sign-up
// web page.
//
// Newcomers to XMPP fail at the first step: which server, is it any good, is
// sign-up open, how do I register? The packages of this module answer each
// question in code, and this package ties them together in one call,
// [Signup.Run], leaving the user interface to the application.
//
// # The map
//
//   - [github.com/xmpp-onboard/onboard/providers]: the XMPP Providers list as
//     typed records, compiled in so it works offline, refreshed over HTTP
//     with a cache, with filters and a fair random pick of a provider.
//   - [github.com/xmpp-onboard/onboard/discovery]: what a live server offers
//     right now, for one domain or thousands.
//   - [github.com/xmpp-onboard/onboard/rating]: the A–D category of a
//     provider computed offline, with the reasons it is not higher.
//   - [github.com/xmpp-onboard/onboard/register]: XEP-0077 in-band
//     registration on top of mellium.im/xmpp: forms, CAPTCHAs, web redirects,
//     invitations, then a logged-in session; password change and removal.
//   - onboard (this package): [Signup], the whole sign-up in one call,
//     built on all four, and [Describe], what to tell a newcomer about
//     their provider.
//
// The programs under examples/ show each package at work; start with
//
//	go run ./examples/providers -category A -open    # choose, offline
//	go run ./examples/signup                         # sign up, for real
//	go run ./examples/websignup -listen 127.0.0.1:8080
//
// # A tour
//
// Choosing. The list knows every public provider the XMPP Providers project
// checks, with its category (A is best: in-band registration, free, good
// service) and its properties. Pick chooses fairly, so that newcomers spread
// over the federation instead of crowding the first server in the list,
// and prefers providers in the user's language and country:
//
//	l := providers.Embedded()
//	p, err := l.Pick(nil, providers.Query{
//		Categories:         []providers.Category{providers.CategoryA},
//		InBandRegistration: true,
//		Prefer:             providers.Preference{Language: "de", Country: "de"},
//	})
//
// Checking. A list can be months old and registration opens and closes; a
// probe sees what the server offers today, without an account:
//
//	r, err := discovery.Probe(ctx, p.JID)
//	fmt.Println(r.Registration.Kind) // open, CAPTCHA, web only, closed, …
//
// Rating. The category is a pure function of the record, so a client can
// rate a server the list does not know, or apply its own policy (no
// CAPTCHA, say), and tell the user why a provider falls short:
//
//	res := rating.Evaluate(p, time.Now())
//	next, missing := res.Next() // what it lacks for the next category
//
// Registering. register speaks XEP-0077 over a TLS stream it verifies for
// the domain, and hands over a logged-in mellium session:
//
//	c := register.Client{}
//	acct, err := c.Register(ctx, p.JID, register.Request{Username: "juliet", Password: pw, Login: true})
//
// All in one. [Signup] does all of that with fallbacks: it takes the
// candidates from the list, verifies several live at once, registers on
// the first that works and logs in, and tells the newcomer about the
// provider in their language ([Result.Info]). Its zero value works:
//
//	res, err := (&onboard.Signup{Language: "de", Country: "de"}).Run(ctx)
//	if err != nil { ... }
//	fmt.Println(res.JID, res.Info.Website, res.Info.PasswordReset)
//	go res.Session.Serve(handler) // logged in; or res.Close()
//
// # How Signup chooses
//
// The candidates are the providers of [Signup.Providers] (the embedded list
// by default) that match [Signup.Query] (category A with in-band
// registration by default; without a CAPTCHA solver, no CAPTCHA providers;
// without [Signup.FillForm], none that asks for an e-mail address). They
// are ordered as providers.List.Candidates prefers them: those in the
// user's language and country first, then the language, then the country,
// then the rest of the best category, each group shuffled with
// [Signup.Rand]. A list without categories is rated with
// rating.Evaluate first.
//
// Up to [Signup.Parallel] candidates (3) are verified at once: connect,
// TLS with a certificate valid for the domain, stream features, and the
// registration form, which shows that registration is open right now and
// what it asks for. Each verification has [Signup.Timeout] (10 s). When one
// fails (a refused connection or an unknown domain fails at once), the
// next candidate takes its place.
//
// Hedging. A candidate that has not answered within the hedge delay is
// overdue: it goes on, but the next candidate starts beside it instead of
// waiting for the Timeout. The hedge delay is 150 ms until a candidate
// was verified, then learned in the run: a quarter more than the slowest
// verification that succeeded, at least 300 ms; never more than Timeout.
// Hedges start one at a time, the next when the previous one is overdue
// too, and at most Parallel overdue candidates run beside Parallel others,
// so there are never more than 2×Parallel verifications at once, however
// bad the network: 6 by default, each with one connection (two while its
// addresses are raced, see below). A server that accepts connections and
// never answers thus costs the hedge delay, not the Timeout. Within one
// verification the connection attempts follow the SRV order and race the
// addresses of both families (Happy Eyeballs: the next address 250 ms
// after the previous one, or at once when it fails).
//
// Fairness. The order is the user's preference and a fair shuffle, so a
// provider that is verified while an earlier one is still being verified
// is held back; a fast server does not win just by being fast. What tells
// a slow server from a dead one early is its first answer
// (register.StageGreeted: the stream header and features, before TLS with
// STARTTLS, after it with direct TLS), two of the five round trips into a
// verification. An earlier provider whose server answered is live and is
// waited for, up to a hedge delay after that answer. One that has not
// answered when the later one is verified is waited for only while it has
// run less than a quarter more than the later one took to answer (at
// least 50 ms): it is more than a quarter slower, or dead, and gives its
// place to the faster later one. So providers within a quarter of each
// other's speed, and most slower live ones, are chosen as often as each
// other, with or without servers that never answer, and a dead earlier
// provider costs the later one almost nothing. TestVerifyDistribution
// measures it, BENCHMARKS.md has the figures.
//
// The account is created on the connection that verified the provider,
// with the form it received: no second connection, no second form. Then
// Run logs in on the same stream. A provider that refuses the submission
// for a reason of its own (closed after all, rate limited, a broken
// connection after which a login shows no account) hands over to the next
// candidate.
//
// Invitations ([Signup.Invite]: an xmpp: URI, a landing page link with the
// URI after "#", or, with [Signup.InvitePages], a link to an invitation
// page, fetched within limits) and a fixed server ([Signup.Domain]) skip
// the choice: the account is created there or not at all.
//
// # What to tell the newcomer
//
// [Result.Info] says what a newcomer should know about the new provider,
// in their language where the provider publishes it (providers.Localized
// Pick): web site, support addresses, the page for a forgotten password
// (in-band accounts usually have no e-mail address to reset with), legal
// notice, upload limit and how long files and messages are kept.
// [Describe] gives the same for any record. For a server the list does not
// know (an invitation, a typed domain) set [Signup.Probe]: after the login
// a discovery probe with the new account asks the server itself (upload
// limit, XEP-0157 support addresses, its provider file), and rating.Merge
// lays that over whatever the list says.
//
// # The human steps
//
// The application decides what the user sees; Run asks it through
// callbacks, always on the goroutine that called Run:
//
//   - [Signup.SolveCaptcha] shows a CAPTCHA image (or question) and returns
//     the answer, once for each challenge a form needs. Without it, CAPTCHA
//     providers are skipped. A wrong answer brings a new CAPTCHA
//     ([Signup.CaptchaTries] times), with Captcha.Retry and
//     Captcha.PreviousError saying that the last answer was refused.
//   - [Signup.FillForm] fills other fields a provider asks for, such as an
//     e-mail address. Without it, such providers are skipped.
//   - [Signup.Rename] proposes another username when the wanted one is
//     taken. Without it a generated name is replaced by another, and a
//     typed name is not replaced at all unless [Signup.RenameTyped] is set
//     (then random digits are appended, [Signup.Renames] times): Run ends
//     with a [*UsernameTakenError] that suggests other names, and the user
//     chooses.
//   - [Signup.AcceptRedirect] is asked, when no provider could register
//     in-band, whether the user wants to sign up on a provider's web page
//     instead. Without it, the answer is no.
//
// An empty [Signup.Username] or [Signup.Password] is generated
// ([RandomUsername], [RandomPassword] from crypto/rand); the application
// must store or show a generated password (Result.PasswordGenerated).
//
// # Progress
//
// [Signup.Progress] receives an [Event] at each stage, for every candidate:
// connecting, secured (TLS version), form received, fallback (which
// provider failed, why, and which one is tried instead), chosen, CAPTCHA,
// submitting, username taken, registered, logging in, logged in. Events are
// delivered one at a time on the goroutine that called Run, so a user
// interface can show them without locking; Event.String gives a line of
// text.
//
// # Errors
//
// When no candidate worked, Run returns a [*NoProviderError] whose
// Attempts say, per provider, which step failed and why; each
// [*AttemptError] unwraps to the register package's error, so
// errors.Is(attempt, register.ErrRateLimited) and its siblings
// (register.ErrRegistrationClosed, register.ErrWebOnly, ErrNoSolver,
// context.DeadlineExceeded for a provider that did not answer in time, …)
// tell the reasons apart. A refusal of what the user chose (a weak
// password, a name that stays taken) ends the run with that provider's
// *AttemptError, since another provider would not help. A password the
// user typed goes to one provider only: when that provider refuses after
// the submission, the run stops with an error matching [ErrPasswordSent]
// (Signup.ReusePassword opts out); a generated password is made anew for
// each provider. Invalid input (a
// username that is not a valid JID localpart, a bad invitation) is
// reported before anything is sent. Messages never contain passwords.
//
// # Timeouts and resources
//
// The context bounds the whole run, including the time the user spends on
// a CAPTCHA; Signup.Timeout bounds each verification, and register's
// Dialer.Timeout each network step. Run returns when ctx is done. No
// goroutine it starts outlives it, and it closes every connection except
// the returned session's, which belongs to the caller.
//
// # Testing against local servers
//
// [Signup.Providers] takes any list, and register.Dialer's Addrs (and
// DirectTLSAddrs) map domains to addresses, so tests point the flow at
// servers on loopback, on the same pipelined path as real providers:
//
//	s := onboard.Signup{
//		Providers: providers.List{Providers: []providers.Provider{p1, p2}},
//		Dialer: register.Dialer{
//			Addrs:     map[string]string{"a.example": "127.0.0.1:5222", "b.example": "127.0.0.1:6222"},
//			TLSConfig: &tls.Config{RootCAs: testCAs},
//		},
//	}
//
// The certificate is still verified for the domain. This package's tests
// run real Prosody and ejabberd servers this way, next to proxies that
// never answer (internal/latency).
//
// # Figures
//
// Time to a verified open provider over a 50 ms round-trip link, six
// candidates, three verified at once, Timeout 2 s (BenchmarkVerified,
// loopback Prosody behind a delaying proxy, 40 shuffled runs, BENCHMARKS.md):
// about 212 ms when all answer (four round trips, the form request going
// out with the secured stream header, plus the simulated TCP handshake;
// 218 ms the slowest). When half never answer: 217 ms on average and
// 358 ms the slowest, in the 1 in 20 orders where the first three are all
// blackholes (the first hedge delay plus one verification; before hedging
// it was the Timeout plus one verification, 2.28 s). Refused connections,
// a reset after TLS, a server that never sends its stream header and a 1 s
// TLS handshake all stay within 1.04× the all-alive mean and 1.7× its
// slowest, with at most five connections open at once.
package onboard
