// Package inbox owns the ActivityPub receive path: POST {base}/inbox (the
// shared inbox) and POST {actor}/inbox for every local actor. A request is
// rate-limited per remote host, checked for its content type and size,
// verified (HTTP signature, draft-cavage or RFC 9421, with keys from
// federation/resolve), decoded, matched against the signer (the key's owner
// must be the activity's actor), and recorded as a
// federation.activity_received event; 202 is answered only once that event
// is durable. Processing the activity is other slices' work.
package inbox
