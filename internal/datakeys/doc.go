// Package datakeys is the production personal.Cipher: it keeps one random
// 256-bit data key per subject (a local account id or a remote actor IRI)
// and seals the personal fields of events with it (crypto-shredding,
// design brief §3). Destroying a subject's key makes every text ever
// sealed for it unreadable, while the event log stays append-only.
//
// Keys live in their own SQLite database, <data-dir>/datakeys.db, outside
// the event log (which is never rewritten) and outside the read models
// (which are disposable). Each key is stored sealed with the instance
// master key (internal/secrets), bound to its subject and generation.
// The database runs with PRAGMA secure_delete=ON, WAL and
// synchronous=FULL; Destroy overwrites the key in place, keeps a row
// saying when the key was destroyed (so the subject never silently gets
// a new key), and truncates the WAL so that no copy of the old page
// stays in it.
//
// Sealed text format (personal.Text.Sealed), version 1:
//
//	0x01 ‖ key generation (uint32, big endian) ‖ nonce (12) ‖ AES-256-GCM ciphertext and tag
//
// The additional data is the 5-byte header followed by the subject, so a
// text cannot be moved to another subject or generation. The version byte
// and the generation let the format and the keys evolve (key rotation).
//
// What destruction cannot reach: backups of datakeys.db made before the
// key was destroyed still hold it (sealed with the master key); keep
// backups short-lived, or store them apart from the master key. And the
// file system may keep freed blocks of the truncated WAL until they are
// reused. The database is local to one node: several nodes sharing one
// EventStoreDB need a shared key store, which this package is not yet.
package datakeys
