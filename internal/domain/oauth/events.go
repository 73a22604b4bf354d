package oauth

import (
	"time"

	"github.com/hanse-network/hanse/events"
)

// Event type names; part of the stored log, never rename them.
const (
	TypeAppRegistered = "oauth.app_registered"
	TypeCodeIssued    = "oauth.code_issued"
	TypeCodeRedeemed  = "oauth.code_redeemed"
	TypeTokenIssued   = "oauth.token_issued"
	TypeTokenRevoked  = "oauth.token_revoked"
)

// Stream name prefixes.
const (
	AppStreamPrefix   = "oauthapp-"
	CodeStreamPrefix  = "oauthcode-"
	TokenStreamPrefix = "oauthtoken-"
)

// AppStream is the stream of a registered application.
func AppStream(clientID string) string { return AppStreamPrefix + clientID }

// CodeStream is the stream of an authorization code, named by its hash.
func CodeStream(codeHash string) string { return CodeStreamPrefix + codeHash }

// TokenStream is the stream of an access token, named by its hash.
func TokenStream(tokenHash string) string { return TokenStreamPrefix + tokenHash }

// AppRegistered records a new OAuth client (POST /api/v1/apps).
type AppRegistered struct {
	ClientID     string   `json:"clientId"`
	Name         string   `json:"name"`
	Website      string   `json:"website,omitempty"`
	RedirectURIs []string `json:"redirectUris"`
	Scopes       []string `json:"scopes"`
	// SecretHash is Hash(client secret).
	SecretHash string `json:"secretHash"`
}

// CodeIssued records an authorization code granted by an account to a
// client, in CodeStream(CodeHash).
type CodeIssued struct {
	CodeHash    string   `json:"codeHash"`
	ClientID    string   `json:"clientId"`
	AccountID   string   `json:"accountId"`
	RedirectURI string   `json:"redirectUri"`
	Scopes      []string `json:"scopes"`
	// CodeChallenge and CodeChallengeMethod are the PKCE parameters of the
	// authorization request ("" when the client sent none); the method is
	// always "S256".
	CodeChallenge       string    `json:"codeChallenge,omitempty"`
	CodeChallengeMethod string    `json:"codeChallengeMethod,omitempty"`
	ExpiresAt           time.Time `json:"expiresAt"`
}

// CodeRedeemed records that the code was exchanged for a token (appended
// with expected revision 0: once only). It names the token, so that a
// replayed code can revoke it (RFC 6749 §4.1.2).
type CodeRedeemed struct {
	TokenID   string `json:"tokenId"`
	TokenHash string `json:"tokenHash"`
}

// TokenIssued records an access token, in TokenStream(TokenHash).
//
// ClientID is "" for a personal access token; AccountID is "" for an
// application's own token (client_credentials).
type TokenIssued struct {
	TokenID   string   `json:"tokenId"`
	TokenHash string   `json:"tokenHash"`
	ClientID  string   `json:"clientId,omitempty"`
	AccountID string   `json:"accountId,omitempty"`
	Scopes    []string `json:"scopes"`
	// Name labels a personal access token.
	Name string `json:"name,omitempty"`
	// ExpiresAt, when set, ends the token's validity.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Revocation reasons.
const (
	// RevokedByClient: the client revoked it (RFC 7009, POST /oauth/revoke).
	RevokedByClient = "client"
	// RevokedByOwner: the account revoked its own token.
	RevokedByOwner = "owner"
	// RevokedCodeReplayed: the code it was issued for was presented again.
	RevokedCodeReplayed = "code_replayed"
)

// TokenRevoked records that the token no longer works.
type TokenRevoked struct {
	TokenID string `json:"tokenId"`
	Reason  string `json:"reason"`
}

// Register declares the OAuth events in r.
func Register(r *events.Registry) {
	events.Register[AppRegistered](r, TypeAppRegistered, 1, nil)
	events.Register[CodeIssued](r, TypeCodeIssued, 1, nil)
	events.Register[CodeRedeemed](r, TypeCodeRedeemed, 1, nil)
	events.Register[TokenIssued](r, TypeTokenIssued, 1, nil)
	events.Register[TokenRevoked](r, TypeTokenRevoked, 1, nil)
}
