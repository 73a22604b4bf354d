// Package account is the domain of local accounts: the people who sign in
// to the instance. An account's id is the id of its Person actor; its
// stream "account-<id>" holds the registration (username, role, sealed
// e-mail address, password hash), profile changes (display name and bio,
// sealed under the account's data key), password and role changes, and
// the erasure. E-mail addresses are unique through reservation streams
// named by a keyed digest of the address.
//
// The decide functions are pure: the application layer checks and seals
// personal fields (personal.Text), hashes passwords (argon2id) and makes
// ids; this package validates, checks the account's state and returns the
// events.
package account
