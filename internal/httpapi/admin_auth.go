package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// AdminPrefix is the path under which admin routes are mounted.
const AdminPrefix = "/api/admin"

// requireAdminToken guards administrative routes with a static bearer token
// until accounts with admin scopes exist. An empty token disables the routes
// (403) so that a default installation exposes nothing administrative.
func requireAdminToken(token string) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if token == "" {
				WriteError(w, r, http.StatusForbidden, CodeForbidden,
					"administrative endpoints are disabled: set HANSE_ADMIN_TOKEN to enable them")
				return
			}
			given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			got := sha256.Sum256([]byte(given))
			if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hanse-admin"`)
				WriteError(w, r, http.StatusUnauthorized, CodeUnauthorized, "a valid admin bearer token is required")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
