// Package actors is the read model of the actors hosted by this instance:
// profile, kind, username, current public key and sealed private key,
// deletion. It answers lookups by username and id for WebFinger, actor
// documents and signing, and the counts NodeInfo reports. Person actors of
// accounts show the account's display name and bio (opened from the sealed
// account events; blank once the account is erased).
package actors
