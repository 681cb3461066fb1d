// Package saslclient is the module's one SASL client negotiation (RFC 4422,
// RFC 6120 §6): register and discovery both drive a [Negotiation] with the
// challenge and success payloads their stream reads, and it decides what
// to answer and whether the server has proved that it knows the password.
//
// The mechanisms themselves are mellium.im/sasl's. This package exists
// because, as of v0.3.2, that package trusts the server:
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
// A Negotiation therefore vets every server payload before mellium sees it
// ([ServerFirst], [ServerFinal]), succeeds only once the mechanism is
// complete (for SCRAM: the server's signature was verified), and runs each
// step under the caller's context: a cancelled context returns at once,
// and the vetting bounds what is left of the step to a few milliseconds
// of work ([MaxIterations]).
package saslclient
