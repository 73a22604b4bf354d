// Package secrets owns the instance's master key and the sealing of
// secrets at rest with it: actors' private keys (and later other secrets)
// are stored in events only as AES-256-GCM ciphertexts, bound with
// additional data to what they belong to. DeriveKey derives independent
// purpose-bound keys from the master key (HKDF-SHA-256), such as the key
// of the accounts' e-mail digests.
//
// The master key comes from the HANSE_MASTER_KEY environment variable
// (base64 of 32 bytes) or from <data-dir>/secrets/master.key, which is
// created on first use with mode 0600 in a 0700 directory. Losing the key
// makes every sealed secret unreadable: back it up with the data directory,
// but not in the same place as the event store's backups.
package secrets
