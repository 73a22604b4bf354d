// Package accounts is the accounts read model: one row per local account
// with its username, role, display name, bio and locale (opened from the
// sealed account events with a personal.Opener), when it was created, and
// whether it was erased. It serves the administrators' account listing
// and lookups by id and username.
//
// On account.erased the row keeps its id and username (the handle stays
// reserved) and forgets every personal field; texts whose data key was
// destroyed open as "" (personal.OpenOrEmpty), so a rebuild after an
// erasure shows nothing of the person either.
package accounts
