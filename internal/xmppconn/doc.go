// Package xmppconn is the module's one implementation of what an XMPP
// client reads and writes before a session is handed to mellium.im/xmpp:
// the element tree and its limits, the byte budget under the XML decoder,
// the classification of read errors, and the serialisation of elements,
// with the secret-safe copy that debug output shows. register (XEP-0077)
// and discovery (the probes) both build on it, and internal/fakeserver's
// tests parse with it, so that a server's reply means the same thing to
// every part of the module.
//
// # Why not mellium's types
//
// mellium.im/xmpp decodes stanzas into typed structs once a session is
// negotiated, through an xml.TokenReader it trusts to be bounded by the
// transport. Before that, a client talks to a server nobody vouches for:
// this package reads each top-level element into a small generic tree
// under explicit limits (bytes, nesting, element count; comments,
// processing instructions and directives refused, RFC 6120 §11.1) and
// never keeps more than one element in memory. The namespaces are
// mellium's where it has them (mellium.im/xmpp/internal/ns is not
// importable, so the few used here are spelled out).
package xmppconn
