// Package webfinger owns WebFinger (RFC 7033) for federation: parsing the
// resources people type or servers send (acct:user@host, user@host:port,
// @user@host, profile URLs) into a typed Resource; the JRD document type
// with a tolerant decoder and the rel=self ActivityPub link; Lookup, the
// client query through the guarded federation client (federation/fetch);
// and ActorJRD/WriteJRD, which build and write the JRD of a local actor so
// that the server-side handler (in internal/httpapi, once actors exist)
// is a single call.
//
// Hosts keep their port: an instance whose public URL is plain
// http://host:port (a local test federation) has subjects and handles
// such as acct:alice@127.0.0.1:8080, and Lookup with PlainHTTP queries it
// over http. Internationalised host names are converted to punycode
// (golang.org/x/net/idna, UTS #46 lookup profile) and lower-cased.
package webfinger
