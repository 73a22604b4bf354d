package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/hanse-network/hanse/internal/domain/account"
)

// AdminPrefix is the path under which admin routes are mounted.
const AdminPrefix = "/api/admin"

// Admin scopes: reading (GET, HEAD) needs AdminReadScope, anything else
// AdminWriteScope.
const (
	AdminReadScope  = "admin:read"
	AdminWriteScope = "admin:write"
)

// requireAdminToken guards administrative routes. It lets through
//
//   - the static bearer token (HANSE_ADMIN_TOKEN), when one is configured;
//   - a signed-in Principal (BearerAuth) whose role is instance_admin and
//     whose token grants admin:read for GET and HEAD, admin:write for other
//     methods.
//
// A Principal without that role or scope gets 403; a request with neither
// gets 401, or 403 when no static token is configured (so that a default
// installation exposes nothing administrative).
func requireAdminToken(token string) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if token != "" {
				given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				got := sha256.Sum256([]byte(given))
				if ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
					next.ServeHTTP(w, r)
					return
				}
			}
			if p, ok := PrincipalFrom(r.Context()); ok {
				scope := AdminWriteScope
				if r.Method == http.MethodGet || r.Method == http.MethodHead {
					scope = AdminReadScope
				}
				switch {
				case p.Role != account.InstanceAdmin || p.AccountID == "":
					WriteError(w, r, http.StatusForbidden, CodeForbidden, "administrative endpoints need an instance admin")
				case !p.HasScope(scope):
					w.Header().Set("WWW-Authenticate", `Bearer realm="hanse-admin", error="insufficient_scope", scope="`+scope+`"`)
					WriteError(w, r, http.StatusForbidden, CodeInsufficientScope, "the token lacks the scope "+scope)
				default:
					next.ServeHTTP(w, r)
				}
				return
			}
			if token == "" {
				WriteError(w, r, http.StatusForbidden, CodeForbidden,
					"administrative endpoints are disabled: set HANSE_ADMIN_TOKEN, or use an instance admin's token with admin scopes")
				return
			}
			if BearerRefused(r.Context()) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hanse-admin", error="invalid_token"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hanse-admin"`)
			}
			WriteError(w, r, http.StatusUnauthorized, CodeUnauthorized, "a valid admin bearer token is required")
		})
	}
}
