package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hanse-network/hanse/internal/app"
)

// TokenVerifier checks bearer tokens (app.OAuth implements it). It
// returns an error matching app.ErrOAuthInvalidToken for a token that is
// unknown, revoked, expired or of an erased account; any other error is a
// failure to check.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (app.OAuthGrant, error)
}

// CodeAuthUnavailable: tokens cannot be checked right now (503).
const CodeAuthUnavailable = "authentication_unavailable"

// BearerAuth authenticates requests that carry "Authorization: Bearer
// <token>": a valid token puts its Principal in the context; a request
// without the header goes on anonymously. A refused token (unknown,
// expired, revoked, of an erased account) is answered 401 invalid_token
// on every route, as Mastodon does — also on reads that need no sign-in,
// so that a client whose token stopped working learns it at once instead
// of reading as anonymous. Only on the routes that judge credentials
// themselves (see refusedByRoute: the admin routes, which take the
// static admin token, and the OAuth endpoints) does such a request go on
// without a Principal, marked (BearerRefused). When the token cannot be
// checked at all (the store fails) it answers 503. Other Authorization
// schemes are left alone. Tokens in the query string are not accepted
// (they end up in logs).
//
// Install it once for the whole router (Deps.Auth), before the routes and
// the admin guard.
func BearerAuth(v TokenVerifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			g, err := v.Verify(r.Context(), token)
			switch {
			case err == nil:
				r = r.WithContext(WithPrincipal(r.Context(), Principal{AccountID: g.AccountID, Username: g.Username,
					Role: g.Role, Scopes: g.Scopes, AppID: g.ClientID, TokenID: g.TokenID}))
			case errors.Is(err, app.ErrOAuthInvalidToken):
				if !refusedByRoute(r.URL.Path) {
					writeInvalidToken(w, r)
					return
				}
				r = r.WithContext(WithBearerRefused(r.Context()))
			case r.Context().Err() != nil:
				return
			default:
				slog.Default().ErrorContext(r.Context(), "bearer token check failed", "err", err,
					"request_id", RequestID(r.Context()))
				w.Header().Set("Retry-After", "1")
				WriteError(w, r, http.StatusServiceUnavailable, CodeAuthUnavailable,
					"the access token cannot be checked right now; try again")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// MetricsPath is where NewRouter serves Deps.Metrics.
const MetricsPath = "/metrics"

// refusedByRoute reports whether the route at path judges a refused
// bearer token itself rather than BearerAuth: /metrics and the routes
// under AdminPrefix (the admin guard also takes the static admin token,
// which is no OAuth token), and the OAuth endpoints that authenticate
// clients and people by other means and answer in their own formats
// (/oauth/token, /oauth/revoke, /oauth/authorize).
func refusedByRoute(path string) bool {
	switch path {
	case MetricsPath, "/oauth/token", "/oauth/revoke", "/oauth/authorize":
		return true
	}
	return path == AdminPrefix || strings.HasPrefix(path, AdminPrefix+"/")
}

// writeInvalidToken answers a request whose bearer token was refused.
func writeInvalidToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="hanse", error="invalid_token"`)
	WriteError(w, r, http.StatusUnauthorized, CodeInvalidToken, "the access token is invalid, expired or revoked")
}

// bearerToken returns the token of an "Authorization: Bearer" header (the
// scheme is case-insensitive, RFC 7235).
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
