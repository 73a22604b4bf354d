// Package fetch is Hanse's guarded outbound HTTP client for federation: every
// request to another server (fetching remote actors and objects, WebFinger
// lookups, delivering activities to inboxes) goes through it.
//
// # The address guard
//
// Guard decides which IP addresses may be contacted. By default it refuses
// everything that is not a public unicast address: loopback, private (RFC
// 1918, fc00::/7), link-local (including the 169.254.169.254 cloud metadata
// service), unspecified, multicast, broadcast, CGNAT (100.64.0.0/10),
// 0.0.0.0/8, documentation, benchmarking and reserved ranges, and the IPv6
// forms that embed such an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96,
// 6to4, Teredo). An AllowList of CIDRs (the runtime setting
// --allow-private-networks / HANSE_ALLOW_PRIVATE_NETWORKS, used by tests
// and local test federations) admits addresses it names, overriding every
// rule.
//
// The check runs at connect time on the resolved address (a net.Dialer
// ControlContext hook), for every address the dialer tries, every
// redirect hop and every reused-or-new connection, so DNS names that
// resolve (or re-resolve, "DNS rebinding") to private addresses and
// redirects to private hosts are refused too. A refusal is an error
// wrapping ErrForbiddenAddress (a *ForbiddenAddressError says which
// address and why). The client never uses an HTTP proxy, which would
// bypass the check.
//
// # The client
//
// Client adds to the guard: connect, TLS-handshake, response-header and
// whole-request timeouts; at most MaxRedirects redirects (default 5), each
// re-checked by the guard, http and https only and never downgrading from
// https to http; a response body cap (default 1 MiB) enforced while
// reading, so that no more than the cap plus one byte is ever read
// (ErrTooLarge); a User-Agent naming Hanse and the instance URL, as Mastodon
// does; and optional draft-cavage signing of GETs (authorized fetch), signed
// again on every redirect hop because the signature covers the request
// target and host.
//
// GetActivityJSON fetches an ActivityPub document. It sends
//
//	Accept: application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"
//
// and accepts a response whose Content-Type is application/activity+json,
// application/ld+json with the ActivityStreams profile, and, leniently,
// application/ld+json without a profile and plain application/json (some
// servers and static hosts serve ActivityPub documents so); anything else
// (text/html, application/ld+json with another profile, a missing type) is
// ErrContentType. The caller must still check that the document's id
// belongs to the origin it was fetched from (Meta.URL is the final URL).
//
// PostSigned delivers an activity to an inbox with a signed POST and
// reports the outcome for delivery workers: the status code, the parsed
// Retry-After (seconds or HTTP date) and a classification — OutcomeSuccess
// (2xx), OutcomePermanent (other 4xx, 3xx, a forbidden address, a bad URL,
// too many redirects, a signing failure) or OutcomeTemporary (5xx, 408,
// 429, timeouts and network errors). A POST follows only 307 and 308
// redirects, re-signed with the same body.
//
// Every error returned is a *Error wrapping exactly one kind sentinel
// (ErrForbiddenAddress, ErrInvalidURL, ErrUnsupportedScheme,
// ErrTooManyRedirects, ErrTimeout, ErrNetwork, ErrTooLarge, ErrStatus,
// ErrContentType, ErrSign) and the underlying cause; test them with
// errors.Is and read the status code with errors.As.
package fetch
