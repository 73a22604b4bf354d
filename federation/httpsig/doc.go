// Package httpsig signs and verifies HTTP requests for ActivityPub
// federation. It owns the signature layer used by the inbox, authorized
// fetch and the delivery workers; it knows nothing of events or actors
// beyond public keys.
//
// # Signing
//
// Signer signs outgoing requests with draft-cavage-http-signatures, the way
// Mastodon does: POST covers "(request-target) host date digest" (plus
// "content-type") and carries "Digest: SHA-256=…"; GET covers
// "(request-target) host date". The algorithm parameter is "rsa-sha256" for
// RSA keys. Signing is done by github.com/go-fed/httpsig v1.1.0, given a
// shadow request with an explicit Host header and the escaped path (the
// library reads Host from the header map and the path from URL.Path). The
// library always writes algorithm="hs2019"; Signer rewrites that unsigned
// parameter.
//
// # Verifying
//
// Verifier accepts draft-cavage (Signature header or "Authorization:
// Signature …"; rsa-sha256, and hs2019 or no algorithm meaning
// RSASSA-PKCS1-v1_5/SHA-256 for RSA keys and Ed25519 for Ed25519 keys) and
// RFC 9421 (Signature-Input + Signature; rsa-v1_5-sha256, rsa-pss-sha512,
// ecdsa-p256-sha256, ecdsa-p384-sha384, ed25519, and hmac-sha256 with a
// shared secret). It parses the signature parameters itself, enforces the
// coverage policy (target, host, date or created, digest for bodies), the
// time window (Mastodon's: Date/created at most 12 h old and 1 h ahead;
// expires honoured) and checks Digest (SHA-256/SHA-512) or Content-Digest
// (sha-256/sha-512) against the body, none of which the libraries do; only
// then does it resolve the key and check the cryptography:
//
//   - draft-cavage with github.com/go-fed/httpsig v1.1.0, fed a canonical
//     Signature header rebuilt from our own parse, so that both read the same
//     parameters. Exception: for signatures covering (created) or (expires)
//     the signing string is built here and checked with the standard
//     library, because go-fed/httpsig checks created (at most 10 s ahead)
//     and expires against the wall clock, which contradicts the 1 h window
//     and cannot use an injected clock;
//   - RFC 9421 with github.com/yaronf/httpsign v0.5.2 (signature base and
//     cryptography), with its own time checks switched off (they use the wall
//     clock); it verifies all RFC 9421 Appendix B vectors.
//
// # Errors and the inbox
//
// Every failure wraps one sentinel: ErrNoSignature, ErrMalformed,
// ErrUnknownAlgorithm, ErrKeyNotFound, ErrBadSignature, ErrDigestMismatch,
// ErrMissingComponent or ErrOutsideWindow. The inbox answers 401
// Unauthorized for all of them (never 400 or 403), because RFC 9421 senders
// such as Mastodon 4.5+ and Fedify "double-knock": they retry with
// draft-cavage only after a 401. A resolver failure is ErrKeyNotFound with
// the resolver's error wrapped too (so a context cancellation stays
// visible to errors.Is).
//
// # Keys
//
// ParsePublicKeyPEM reads SPKI "PUBLIC KEY" and PKCS#1 "RSA PUBLIC KEY";
// PublicKeyFromDocument extracts a key from an actor's publicKey (object or
// array), FEP-521a assertionMethod Multikey (Ed25519 publicKeyMultibase), or
// a bare key document; GenerateRSAKey, EncodePublicKeyPEM and
// EncodePrivateKeyPEM make and store our own keys.
package httpsig
