// Package oauth is the domain of OAuth 2.0 clients and credentials, the
// way Mastodon's API has them: registered applications (clients with
// redirect URIs and scopes), authorization codes (RFC 6749 §4.1, with
// PKCE S256 from RFC 7636) and access tokens — application tokens
// (client_credentials), tokens of an account issued to an application,
// and personal access tokens.
//
// Only SHA-256 hashes of client secrets, codes and tokens are recorded;
// streams of codes and tokens are named by the hash, so the event store
// finds a token's history from the token itself. Each stream is one
// aggregate: "oauthapp-<clientId>", "oauthcode-<codeHash>" and
// "oauthtoken-<tokenHash>". A code is redeemable once: oauth.code_redeemed
// is appended with expected revision 0, so the store refuses a second
// redemption.
//
// The decisions are pure: randomness (ids, secrets) and the clock are
// passed in by the application layer.
package oauth
