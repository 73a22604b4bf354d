package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hanse-network/hanse/internal/domain/fold"
)

// OOB is the redirect URI of clients that show the code to the person
// instead of receiving a redirect (Mastodon's out-of-band flow).
const OOB = "urn:ietf:wg:oauth:2.0:oob"

// MethodS256 is the only PKCE code challenge method accepted ("plain" is
// refused, as on Mastodon).
const MethodS256 = "S256"

// Limits of registered applications and personal tokens (Mastodon's for
// applications).
const (
	MaxAppNameChars     = 60
	MaxWebsiteBytes     = 2000
	MaxRedirectURIBytes = 2000
	MaxRedirectURIs     = 10
	MaxTokenNameChars   = 100
	// MinVerifierLen and MaxVerifierLen bound a PKCE code verifier
	// (RFC 7636 §4.1).
	MinVerifierLen = 43
	MaxVerifierLen = 128
)

// Error categories; every decision error below matches one of them with
// errors.Is, and the application maps them to OAuth's error codes.
var (
	// ErrInvalidRequest: the request is malformed (bad PKCE parameters…).
	ErrInvalidRequest = errors.New("oauth: invalid request")
	// ErrInvalidScope: a scope is unknown or not granted to the client.
	ErrInvalidScope = errors.New("oauth: invalid scope")
	// ErrInvalidGrant: the code is unknown, expired, used, issued to another
	// client or redirect URI, or its PKCE verification failed.
	ErrInvalidGrant = errors.New("oauth: invalid grant")
	// ErrInvalidToken: the token is unknown, revoked or expired.
	ErrInvalidToken = errors.New("oauth: invalid token")
)

// Errors of the decisions.
var (
	ErrAppNotFound              = errors.New("oauth: no such application")
	ErrAppExists                = errors.New("oauth: application already registered")
	ErrRedirectURINotRegistered = errors.New("oauth: redirect_uri is not registered for the application")
	ErrUnknownScope             = fmt.Errorf("%w: unknown scope", ErrInvalidScope)
	ErrScopeNotGranted          = fmt.Errorf("%w: scope not registered for the application", ErrInvalidScope)
	ErrChallengeMethod          = fmt.Errorf("%w: code_challenge_method must be S256", ErrInvalidRequest)
	ErrChallengeMalformed       = fmt.Errorf("%w: code_challenge must be 43 characters of base64url (S256)", ErrInvalidRequest)
	ErrChallengeMissing         = fmt.Errorf("%w: code_challenge_method without code_challenge", ErrInvalidRequest)
	ErrCodeExists               = errors.New("oauth: authorization code already issued")
	ErrCodeNotFound             = fmt.Errorf("%w: unknown authorization code", ErrInvalidGrant)
	ErrCodeRedeemed             = fmt.Errorf("%w: authorization code already used", ErrInvalidGrant)
	ErrCodeExpired              = fmt.Errorf("%w: authorization code expired", ErrInvalidGrant)
	ErrCodeClientMismatch       = fmt.Errorf("%w: authorization code issued to another client", ErrInvalidGrant)
	ErrRedirectURIMismatch      = fmt.Errorf("%w: redirect_uri differs from the authorization request's", ErrInvalidGrant)
	ErrVerifierMissing          = fmt.Errorf("%w: code_verifier required", ErrInvalidGrant)
	ErrVerifierMalformed        = fmt.Errorf("%w: code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]", ErrInvalidGrant)
	ErrVerifierMismatch         = fmt.Errorf("%w: code_verifier does not match the code_challenge", ErrInvalidGrant)
	ErrVerifierUnexpected       = fmt.Errorf("%w: code_verifier given but the authorization request had no code_challenge", ErrInvalidGrant)
	ErrTokenExists              = errors.New("oauth: token already issued")
	ErrTokenNotFound            = fmt.Errorf("%w: unknown token", ErrInvalidToken)
	ErrTokenRevoked             = fmt.Errorf("%w: token revoked", ErrInvalidToken)
	ErrTokenExpired             = fmt.Errorf("%w: token expired", ErrInvalidToken)
	ErrNotTokenOwner            = errors.New("oauth: the token belongs to another client or account")
)

// FieldError reports an invalid input field; Field is the API's parameter
// name.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return "oauth: " + e.Field + ": " + e.Reason }

// Hash is the hex SHA-256 of a secret, code or token: the only form in
// which they are recorded. They are random 256-bit values, so a plain hash
// is as good as a slow one.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches reports, in constant time, whether secret hashes to hash.
func SecretMatches(hash, secret string) bool {
	got := Hash(secret)
	return len(hash) == len(got) && subtle.ConstantTimeCompare([]byte(hash), []byte(got)) == 1
}

// S256 is the PKCE S256 transformation of a code verifier:
// BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidChallenge reports whether c can be an S256 challenge: exactly 43
// base64url characters (a 32-byte hash).
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isBase64URL(c[i]) {
			return false
		}
	}
	return true
}

// ValidVerifier reports whether v is a code verifier of RFC 7636 §4.1:
// 43 to 128 unreserved characters.
func ValidVerifier(v string) bool {
	if len(v) < MinVerifierLen || len(v) > MaxVerifierLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isBase64URL(c) && c != '.' && c != '~' {
			return false
		}
	}
	return true
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// App is a registered application folded from its stream.
type App struct {
	Exists       bool
	ClientID     string
	Name         string
	Website      string
	RedirectURIs []string
	Scopes       []string
	SecretHash   string
}

// Apply folds one event payload (value or pointer) into a.
func (a *App) Apply(payload any) error {
	switch e := payload.(type) {
	case *AppRegistered:
		return a.Apply(*e)
	case AppRegistered:
		if a.Exists {
			return fmt.Errorf("oauth: %s applied to existing application %s", TypeAppRegistered, a.ClientID)
		}
		*a = App{Exists: true, ClientID: e.ClientID, Name: e.Name, Website: e.Website,
			RedirectURIs: e.RedirectURIs, Scopes: e.Scopes, SecretHash: e.SecretHash}
	default:
		return fmt.Errorf("oauth: cannot apply %T to an application", payload)
	}
	return nil
}

// RegistersRedirectURI reports whether uri is exactly one of the app's
// redirect URIs.
func (a App) RegistersRedirectURI(uri string) bool { return slices.Contains(a.RedirectURIs, uri) }

// FoldApp applies payloads in order to a zero App.
func FoldApp(payloads ...any) (App, error) { return fold.Fold[App](payloads...) }

// Code is an authorization code folded from its stream.
type Code struct {
	Exists bool
	CodeIssued
	Redeemed bool
	// Redemption is set once Redeemed.
	Redemption CodeRedeemed
}

// Apply folds one event payload (value or pointer) into c.
func (c *Code) Apply(payload any) error {
	switch e := payload.(type) {
	case *CodeIssued:
		return c.Apply(*e)
	case *CodeRedeemed:
		return c.Apply(*e)
	case CodeIssued:
		if c.Exists {
			return fmt.Errorf("oauth: %s applied to an existing code", TypeCodeIssued)
		}
		*c = Code{Exists: true, CodeIssued: e}
	case CodeRedeemed:
		if !c.Exists || c.Redeemed {
			return fmt.Errorf("oauth: %s on a code that is unknown or already redeemed", TypeCodeRedeemed)
		}
		c.Redeemed, c.Redemption = true, e
	default:
		return fmt.Errorf("oauth: cannot apply %T to a code", payload)
	}
	return nil
}

// FoldCode applies payloads in order to a zero Code.
func FoldCode(payloads ...any) (Code, error) { return fold.Fold[Code](payloads...) }

// Token is an access token folded from its stream.
type Token struct {
	Exists bool
	TokenIssued
	Revoked bool
	// RevokedReason is one of the Revoked* reasons once Revoked.
	RevokedReason string
}

// Apply folds one event payload (value or pointer) into t.
func (t *Token) Apply(payload any) error {
	switch e := payload.(type) {
	case *TokenIssued:
		return t.Apply(*e)
	case *TokenRevoked:
		return t.Apply(*e)
	case TokenIssued:
		if t.Exists {
			return fmt.Errorf("oauth: %s applied to an existing token", TypeTokenIssued)
		}
		*t = Token{Exists: true, TokenIssued: e}
	case TokenRevoked:
		if !t.Exists || t.Revoked {
			return fmt.Errorf("oauth: %s on a token that is unknown or already revoked", TypeTokenRevoked)
		}
		t.Revoked, t.RevokedReason = true, e.Reason
	default:
		return fmt.Errorf("oauth: cannot apply %T to a token", payload)
	}
	return nil
}

// FoldToken applies payloads in order to a zero Token.
func FoldToken(payloads ...any) (Token, error) { return fold.Fold[Token](payloads...) }

// Personal reports whether t is a personal access token (no client).
func (t Token) Personal() bool { return t.ClientID == "" }

// Check reports whether the token may be used at now: ErrTokenNotFound,
// ErrTokenRevoked or ErrTokenExpired otherwise (all ErrInvalidToken).
func (t Token) Check(now time.Time) error {
	switch {
	case !t.Exists:
		return ErrTokenNotFound
	case t.Revoked:
		return ErrTokenRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return ErrTokenExpired
	}
	return nil
}
