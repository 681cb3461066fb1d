// Package discovery finds out what a live XMPP service really offers, right
// now, without an account: how to connect to it, whether it lets people
// sign up, who to contact, which services it runs, and what its operator
// publishes about it. Lists of providers go stale and registration opens
// and closes; apps need to know what a server offers today, and operators
// need to see what others see.
//
// # Probing one domain
//
// [Probe] (or [Prober.Probe] for a configured prober) returns a [Report]:
//
//	r, err := discovery.Probe(ctx, "example.org")
//	if err != nil {
//		return err // invalid domain, or ctx already done
//	}
//	fmt.Println(r.Registration.Kind, r.Upload.MaxFileSize, r.Contacts.Abuse)
//
// Each part of a report has a [Status]: Observed (the values are filled),
// Absent (the server, DNS or web server said the thing does not exist) or
// Unknown (not probed, no answer in time, or refused), with a reason, the
// error (match it with errors.Is and errors.As) and how long it took.
//
// # What is probed
//
//   - DNS: the SRV records _xmpp-client._tcp and _xmpps-client._tcp
//     (RFC 6120 §3.2.1, XEP-0368), falling back to ports 5222 and 5223.
//   - Connections: the STARTTLS port and the direct TLS port, at the same
//     time: stream features before and after TLS (SASL mechanisms with
//     -PLUS variants, SASL2 and Bind2, registration, invite tokens, stream
//     management and CSI where offered), the TLS version and cipher, and
//     the certificate, its validity for the domain and its expiry.
//   - Registration (XEP-0077): the form is fetched and classified (open,
//     with CAPTCHA or e-mail, web only with its https URL, invite only,
//     closed). The form is not submitted, unless [Prober.CheckRegistration]
//     asks for a live check: one submission with an empty password, which
//     creates nothing and tells an ejabberd that serves the form but
//     denies every registration from an open one.
//   - Service discovery: disco#info of the domain (identities, features,
//     XEP-0128 forms), its XEP-0157 contact addresses, the XEP-0092
//     software version, and disco#items with the disco#info of each item,
//     from which the HTTP upload service (XEP-0363, with its size limit),
//     group chat services and bytestream proxies are picked.
//   - HTTPS: the operator's provider file
//     (/.well-known/xmpp-provider-v2.json, checked key by key against the
//     XMPP Providers format) and XEP-0156 host-meta in XML and JSON
//     (WebSocket and BOSH endpoints, tolerating old link relations).
//
// All queries on one stream are sent together, so the XMPP side of a probe
// costs the TCP connection, two stream headers, STARTTLS, the TLS
// handshake and two query round trips.
//
// # Without and with an account
//
// Prosody 0.12 answers disco#info, disco#items and software version on an
// unauthenticated stream with service-unavailable; ejabberd 23.01 closes
// the stream with a not-authorized stream error. Both answer the
// registration form request. Without an account those parts are therefore
// Unknown with [ErrNeedsAccount]. Set [Prober.Account] to log in and ask
// again; the parts then say "observed with an account". Logging in also
// shows the stream features offered after authentication ([Login]).
// Credentials are sent only with SCRAM (PLAIN if allowed), only to the
// account's own domain, and only over TLS with a certificate valid for
// that domain.
//
// # Many domains
//
// [Prober.ProbeAll] probes a list of domains with bounded concurrency,
// at most [Prober.PerHost] probes per server, in random order, each
// bounded by [Prober.Timeout], and sends the reports as they finish.
// Cancelling the context stops it; no goroutine outlives the closed
// channel.
//
//	p := &discovery.Prober{Concurrency: 32, Timeout: 20 * time.Second}
//	for r := range p.ProbeAll(ctx, domains) {
//		json.NewEncoder(os.Stdout).Encode(r)
//	}
//
// # Feeding a rating
//
// [Report.Provider] maps a report onto the fields of an XMPP Providers
// record (providers.Provider) that it can fill: upload size, support
// addresses, registration, software, and every valid value of the provider
// file; it also returns which fields it filled.
//
// # Timeouts
//
// Every limit is a deadline on a context, and the earliest one wins: the
// caller's ctx bounds everything; [Prober.Timeout] bounds the probe of one
// domain (in ProbeAll, the DNS lookups and the probe proper get one each,
// so waiting for a busy server does not count); [Prober.ConnectTimeout]
// bounds each TCP connection attempt, so that one dead SRV target leaves
// time for the next (which starts beside a silent one after 250 ms
// anyway: the addresses of both families are raced, Happy Eyeballs, and
// every attempt is reported); [Prober.HTTPTimeout] bounds each HTTP fetch, which
// runs alongside the XMPP side. A part that runs out of time is Unknown
// with context.DeadlineExceeded; the parts that finished are kept.
//
// # Testing and injection
//
// Every dependency can be replaced: [Prober.Resolver] (SRV and host
// lookups), [Prober.NetDialer], [Prober.HTTPClient], [Prober.TLSConfig] (root
// certificates), and [Prober.Addrs] and [Prober.DirectTLSAddrs], which map
// a domain to a "host:port" and bypass DNS, for servers on loopback.
//
// # Security
//
// The probed domain decides where the prober connects: its SRV records,
// host names and HTTP redirects may point at 127.0.0.1:8080, a router on
// 192.168.1.1 or a cloud metadata service on 169.254.169.254.
// [Prober.Destinations] says which addresses are allowed. [PublicOnly]
// refuses loopback, private (RFC 1918, fc00::/7), link-local, CGNAT
// (100.64/10), unspecified, multicast, broadcast, documentation and
// benchmarking addresses and their IPv4-mapped forms, and the names
// localhost and *.localhost, for SRV targets, host names, the provider
// file and host-meta requests and every redirect; it is checked on the
// IP address actually connected to (net.Dialer's Control hook, or the
// address the prober resolved itself), so DNS rebinding does not get
// around it. A refused address gets no connection at all; the part is
// Unknown with an error matching [ErrForbiddenDestination].
//
// The zero value is [DefaultDestinations]: [Prober.Probe] allows every
// address (probing a server on loopback or in a private network is a
// normal use of the library), [Prober.ProbeAll] allows only public ones (a
// list of domains is what an attacker feeds a directory or a crawler). A
// service that probes domains its users type must set PublicOnly for
// Probe too. [Prober.Addrs] and [Prober.DirectTLSAddrs] are the
// application's choice and are never refused. Under PublicOnly the default
// HTTP client does not use the environment's proxy (whose connections the
// policy could not check); an [Prober.HTTPClient] with an *http.Transport
// is copied and held to the policy, any other has only its URLs and
// redirects checked.
//
// A report never echoes values the prober could not interpret: unknown
// keys of a provider file are listed by name (sanitised, clipped, the
// first eight) and the rest counted, a value that does not decode is
// described ("a string of 12 bytes") when the decoder's message would
// quote it, and host-meta links keep their address only when it is a
// usable wss:// or https:// endpoint. Links a report offers (registration
// URL, WebSocket and BOSH endpoints, provider file web pages) carry no
// control or bidi characters, no user information, and no localhost or
// non-public IP host.
//
// # Limits
//
// Remote input is never trusted: an XMPP connection may send at most
// [Prober.MaxStreamBytes], a provider file at most 1 MiB and a host-meta
// document 64 KiB; XML nesting and element counts are capped; every
// network operation is bounded by the probe's deadline, so stalling
// servers cost a timeout, not a hang. HTTP is https only, redirects
// included. Registration URLs are reported only when they are https.
//
// [XEP-0030]: https://xmpp.org/extensions/xep-0030.html
// [XEP-0077]: https://xmpp.org/extensions/xep-0077.html
// [XEP-0156]: https://xmpp.org/extensions/xep-0156.html
// [XEP-0157]: https://xmpp.org/extensions/xep-0157.html
// [XEP-0363]: https://xmpp.org/extensions/xep-0363.html
package discovery
