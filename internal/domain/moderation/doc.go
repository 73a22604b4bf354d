// Package moderation is the domain of instance moderation: the instance's
// federation policy (domain blocks with severity reject or silence, the
// allow-list-only mode and its allowed domains) on the single stream
// InstanceStream, reports received from other servers (ActivityPub Flag),
// one stream per report, and blocks of local actors by remote actors
// (ActivityPub Block), one stream per pair.
//
// Domain names are normalised by NormalizeDomain: lower case, IDNs in
// punycode (xn--…), a trailing dot removed, a leading "*." dropped, a port
// kept when present. A rule for a domain covers the domain itself and all
// its subdomains: a block of "example.com" covers "example.com",
// "social.example.com" and "a.b.example.com", on every port; a rule with
// a port ("example.com:8443") covers those names on that port only. When
// several blocks match a host, the most specific wins (the longest name;
// a rule with a port beats one without). Policy decisions are made by
// Rules.Decide; see there for how the allow-list-only mode combines with
// blocks.
package moderation
