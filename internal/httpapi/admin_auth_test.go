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

func TestAdminRoutesAcceptAdminTokens(t *testing.T) {
	secret := func(r chi.Router) {
		r.Get("/secret", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "the secret") })
		r.Post("/secret", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "changed") })
	}
	tests := []struct {
		name       string
		configured string
		method     string
		auth       string
		wantStatus int
		wantBody   string
	}{
		{"instance admin reads with admin:read", testAdminToken, "GET", "Bearer root-read", 200, "the secret"},
		{"instance admin writes with admin:write", testAdminToken, "POST", "Bearer root-admin", 200, "changed"},
		{"admin:read does not write", testAdminToken, "POST", "Bearer root-read", 403, `"code":"insufficient_scope"`},
		{"instance admin without admin scopes", testAdminToken, "GET", "Bearer root-plain", 403, `"code":"insufficient_scope"`},
		{"learner with admin scopes", testAdminToken, "GET", "Bearer alice-admin", 403, `"code":"forbidden"`},
		{"application token with admin scope", testAdminToken, "GET", "Bearer app-only", 403, `"code":"forbidden"`},
		{"refused token", testAdminToken, "GET", "Bearer nope", 401, `"code":"unauthorized"`},
		{"static token still works", testAdminToken, "POST", "Bearer " + testAdminToken, 200, "changed"},
		{"admin token without a static token configured", "", "GET", "Bearer root-read", 200, "the secret"},
		{"no static token, no admin", "", "GET", "Bearer alice-read", 403, `"code":"forbidden"`},
		{"no static token, refused token", "", "GET", "Bearer nope", 403, `"code":"forbidden"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestServer(t, Deps{AdminToken: tt.configured, Admin: secret, Auth: BearerAuth(oauthTestGrants)})
			res := env.do(t, tt.method, "/api/admin/secret", nil, map[string]string{"Authorization": tt.auth})
			if res.status != tt.wantStatus || !strings.Contains(string(res.body), tt.wantBody) {
				t.Fatalf("%s = %d %s; want %d with %q", tt.method, res.status, res.body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus == 401 && !strings.Contains(res.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}
}
