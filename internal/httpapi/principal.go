package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/hanse-network/hanse/internal/domain/account"
)

// Principal is who an authenticated request acts for: a local account
// signed in through an OAuth token (an application's or a personal access
// token). Handlers never read credentials themselves; they take the
// Principal the authentication middleware put in the context.
type Principal struct {
	// AccountID is the account (and its Person actor) id.
	AccountID string
	Username  string
	Role      account.Role
	// Scopes are the token's granted scopes (Mastodon's names: "read",
	// "write", "follow", "push", "admin:read", "write:statuses", …).
	Scopes []string
	// AppID is the OAuth client id the token was issued to ("" for a
	// personal access token).
	AppID string
	// TokenID identifies the token (for revocation and audit).
	TokenID string
}

// HasScope reports whether the principal's scopes grant want. Scopes are
// hierarchical as on Mastodon: "read" grants "read:statuses", "admin:read"
// grants "admin:read:accounts"; "follow" is granted by "read" plus
// "write" together (Mastodon's legacy rule) or by itself.
func (p Principal) HasScope(want string) bool {
	for _, s := range p.Scopes {
		if s == want || strings.HasPrefix(want, s+":") {
			return true
		}
	}
	if want == "follow" {
		return p.HasScope("read:follows") && p.HasScope("write:follows")
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p (used by the authentication
// middleware, and by tests that drive a handler directly).
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal, if it is authenticated.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Error codes of authentication and authorisation.
const (
	CodeInsufficientScope = "insufficient_scope"
	CodeRateLimited       = "rate_limited"
	// CodeInvalidToken: a bearer token was sent but is unknown, expired or
	// revoked (401).
	CodeInvalidToken = "invalid_token"
	// CodeUserRequired: the token is an application's own token, but the
	// route acts for an account (403).
	CodeUserRequired = "user_required"
)

type bearerRefusedKey struct{}

// WithBearerRefused marks ctx as carrying a bearer token that was refused
// (BearerAuth does this on the routes that judge credentials themselves,
// such as the admin routes), so that RequireScope and the admin guard
// answer error="invalid_token" rather than asking for sign-in.
func WithBearerRefused(ctx context.Context) context.Context {
	return context.WithValue(ctx, bearerRefusedKey{}, true)
}

// BearerRefused reports whether the request sent a bearer token that was
// refused.
func BearerRefused(ctx context.Context) bool {
	v, _ := ctx.Value(bearerRefusedKey{}).(bool)
	return v
}

// RequireScope lets a request through only when it is authenticated
// (401 with WWW-Authenticate otherwise) and its token grants scope (403
// insufficient_scope otherwise). An empty scope only requires sign-in.
func RequireScope(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			if !ok {
				if BearerRefused(r.Context()) {
					writeInvalidToken(w, r)
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="hanse"`)
				WriteError(w, r, http.StatusUnauthorized, CodeUnauthorized, "sign-in required: send Authorization: Bearer <token>")
				return
			}
			if scope != "" && !p.HasScope(scope) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hanse", error="insufficient_scope", scope="`+scope+`"`)
				WriteError(w, r, http.StatusForbidden, CodeInsufficientScope, "the token lacks the scope "+scope)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireUser lets a request through only when its principal acts for an
// account: an application's own token (client_credentials, no account) is
// refused with 403 user_required. Use after RequireScope on routes that act
// for the signed-in person.
func RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := PrincipalFrom(r.Context()); !ok || p.AccountID == "" {
			WriteError(w, r, http.StatusForbidden, CodeUserRequired, "this method requires a token that acts for an account")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireRole lets a request through only when its principal has one of
// roles (403 otherwise). Use after RequireScope.
func RequireRole(roles ...account.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			if !ok || !slices.Contains(roles, p.Role) {
				WriteError(w, r, http.StatusForbidden, CodeForbidden, "your role does not allow this")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
