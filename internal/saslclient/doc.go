// Package saslclient is the module's one SASL client negotiation (RFC 4422,
// RFC 6120 §6): register and discovery both drive a [Negotiation] with the
// challenge and success payloads their stream reads, and it decides what
// to answer and whether the server has proved that it knows the password.
//
// The mechanisms are this package's own: PLAIN, SCRAM-SHA-1, -256 and
// -512 (RFC 5802, RFC 7677), each with -PLUS channel binding of the type
// [ChooseBinding] picks by XEP-0440 (tls-exporter, tls-unique,
// tls-server-end-point), with the XEP-0474 downgrade hash checked
// ([ErrDowngrade]), and the XEP-0484 FAST token mechanisms
// HT-SHA-256-EXPR, -ENDP, -UNIQ and -NONE. [Choose] and [ChooseFAST] pick
// among a server's offer. mellium.im/sasl v0.3.2 has no SCRAM-SHA-512, no
// tls-server-end-point and no XEP-0474, and trusts the server:
//
//   - a malformed SCRAM server-first-message (an attribute without a
//     value, as the last one) makes its parser loop forever, and it runs
//     PBKDF2 with whatever iteration count the server asks for (2^31 takes
//     hours); neither can be interrupted;
//   - its Step reports "more" after it has consumed a server-first-message,
//     so a caller that feeds it the data of an early <success/> and does
//     not check that flag accepts a login in which the server proved
//     nothing.
//
// A Negotiation therefore vets every server payload before its mechanism sees it
// ([ServerFirst], [ServerFinal]), succeeds only once the mechanism is
// complete (for SCRAM: the server's signature was verified), and runs each
// step under the caller's context: a cancelled context returns at once,
// and the vetting bounds what is left of the step to a few milliseconds
// of work ([MaxIterations]).
package saslclient
