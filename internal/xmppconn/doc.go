// Package xmppconn is the module's one implementation of the XMPP client
// stream up to a bound session handed to mellium.im/xmpp. register
// (XEP-0077, login) and discovery (the probes) both build on it, and
// internal/fakeserver's scripted servers parse with it, so that a server's
// reply means the same thing to every part of the module.
//
// What it holds, each once:
//
//   - Dialing (dial.go): domain normalisation, the SRV records of both
//     client services in their order (RFC 6120, XEP-0368), addresses
//     through an injected Resolver, connection attempts raced over both
//     families (Happy Eyeballs, RFC 8305) under the destination policy of
//     internal/netguard, the base TLS configuration.
//   - The transport (Transport): the stream header (from= only after
//     TLS), requests sent in one write with a redacted copy for debug
//     output, STARTTLS with the check that nothing came after <proceed/>
//     before TLS, the TLS handshake, IQs and the matching of their replies.
//   - Reading (Reader, ReadTree, Parse): the element tree under a byte
//     budget and element limits, with every read error classified once.
//   - What servers say: stream features (ParseFeatures, with SASL2, Bind2,
//     FAST, stream management, channel bindings), stream, stanza and SASL
//     errors with only the conditions the RFCs define and the secrets
//     scrubbed, data forms (ParseDataForm, XEP-0004 with XEP-0221 media).
//   - Authentication: the SASL exchange (FinishSASL) and SASL2 with Bind2
//     and FAST (sasl2.go) on internal/saslclient's negotiation, which
//     vets every server message.
//
// What each step means (register's error kinds and deadlines, discovery's
// report states) stays in the packages above; discovery may accept a bad
// certificate to report it, never to send credentials.
//
// # Why not mellium's types
//
// mellium.im/xmpp decodes stanzas into typed structs once a session is
// negotiated, through an xml.TokenReader it trusts to be bounded by the
// transport. Before that, a client talks to a server nobody vouches for:
// this package reads each top-level element into a small generic tree
// under explicit limits (bytes, nesting, element count; comments,
// processing instructions and directives refused, RFC 6120 §11.1) and
// never keeps more than one element in memory. Decoded errors are
// mellium's stanza.Error and stream.Error, JIDs its jid.JID; the
// namespaces are mellium's where it has them (mellium.im/xmpp/internal/ns
// is not importable, so the few used here are spelled out). mellium has
// no SASL2, Bind2 or FAST, and its SASL client cannot be made to check a
// server's messages before it acts on them, which is why those are here
// and in internal/saslclient.
package xmppconn
