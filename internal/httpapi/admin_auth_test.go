package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

const testAdminToken = "test-admin-token-0123456789"

func TestAdminRoutesNeedTheToken(t *testing.T) {
	secret := func(r chi.Router) {
		r.Get("/secret", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "the secret") })
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hanse_up 1\n") })
	tests := []struct {
		name       string
		configured string
		path       string
		auth       string
		wantStatus int
		wantBody   string
	}{
		{"disabled without a configured token", "", "/api/admin/secret", "Bearer " + testAdminToken, 403, `"code":"forbidden"`},
		{"metrics disabled without a configured token", "", "/metrics", "", 403, `"code":"forbidden"`},
		{"missing header", testAdminToken, "/api/admin/secret", "", 401, `"code":"unauthorized"`},
		{"wrong token", testAdminToken, "/api/admin/secret", "Bearer not-the-token-0123456", 401, `"code":"unauthorized"`},
		{"token as basic auth", testAdminToken, "/api/admin/secret", "Basic " + testAdminToken, 401, `"code":"unauthorized"`},
		{"prefix of the token", testAdminToken, "/api/admin/secret", "Bearer " + testAdminToken[:10], 401, `"code":"unauthorized"`},
		{"right token", testAdminToken, "/api/admin/secret", "Bearer " + testAdminToken, 200, "the secret"},
		{"right token on metrics", testAdminToken, "/metrics", "Bearer " + testAdminToken, 200, "hanse_up"},
		{"unknown admin path is 404 after auth", testAdminToken, "/api/admin/nope", "Bearer " + testAdminToken, 404, `"code":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestServer(t, Deps{AdminToken: tt.configured, Admin: secret, Metrics: metrics})
			header := map[string]string{}
			if tt.auth != "" {
				header["Authorization"] = tt.auth
			}
			res := env.do(t, "GET", tt.path, nil, header)
			if res.status != tt.wantStatus || !strings.Contains(string(res.body), tt.wantBody) {
				t.Fatalf("GET %s = %d %s; want %d with %q", tt.path, res.status, res.body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus == 401 && res.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}
