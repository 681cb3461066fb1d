// Package onboard gets a newcomer a working XMPP account on a good public
// server, from any Go program: a chat client, a bot, a bridge or a sign-up
// web page.
//
// Newcomers to XMPP fail at the first step: which server, is it any good, is
// sign-up open, how do I register? The packages of this module answer each
// question in code, and this package ties them together.
//
// # The map
//
//   - [github.com/xmpp-onboard/onboard/providers]: the XMPP Providers list as
//     typed records, compiled in so it works offline, refreshed over HTTP
//     with a cache, with filters and a fair random pick of a provider.
//   - [github.com/xmpp-onboard/onboard/register]: XEP-0077 in-band
//     registration on top of mellium.im/xmpp: forms, CAPTCHAs, web redirects,
//     invitations, then a logged-in session; password change and removal.
//   - [github.com/xmpp-onboard/onboard/discovery]: what a live server offers
//     right now, for one domain or thousands.
//   - [github.com/xmpp-onboard/onboard/rating]: the A–D category of a
//     provider computed offline, with the reasons it is not higher.
//
// The programs under examples/ show each package at work; start with
//
//	go run ./examples/providers -category A -open
package onboard
