// Package personal defines how personal data travels inside events:
// free text written by a person, names and e-mail addresses are stored as
// Text, sealed with the data key of the person they belong to
// (crypto-shredding, design brief §3). Destroying that key makes every
// Text of the person unreadable while the event log stays append-only.
//
// The package is pure: sealing and opening are done by implementations of
// Sealer and Opener that the application layer and the read models are
// given (internal/datakeys in production, Plain in tests).
package personal
