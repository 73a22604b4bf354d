// Package tokens is the read model of the access tokens that act for a
// local account ("my tokens"): personal access tokens and the tokens
// applications obtained through OAuth, with the application's name, the
// scopes, when each was issued and when it expires. Revoked tokens drop
// out of the queries; an erased account's rows are deleted.
//
// It holds hashes of tokens (to revoke one by its id), never tokens.
// Whether a token is valid is decided by internal/app.OAuth.Verify from
// the event store, not here.
package tokens
