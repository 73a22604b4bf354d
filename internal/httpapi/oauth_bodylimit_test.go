package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOAuthBodiesTooLarge: the token, revocation and sign-in endpoints
// refuse bodies beyond DefaultMaxBodyBytes in their own formats (OAuth's
// JSON error, the HTML page), whether the body's length is declared or
// it is sent chunked; other routes keep the router's generic Error.
func TestOAuthBodiesTooLarge(t *testing.T) {
	e := newOAuthEnv(t, nil)
	big := func(field string) string { return field + "=" + strings.Repeat("x", int(DefaultMaxBodyBytes)) }
	tests := []struct {
		name        string
		path        string
		contentType string
		body        string
		chunked     bool
		wantStatus  int
		wantType    string // Content-Type prefix
		wantIn      string // in the body
	}{
		{"token, form", "/oauth/token", "application/x-www-form-urlencoded", big("code"), false,
			413, "application/json", `"error":"invalid_request"`},
		{"token, form, chunked", "/oauth/token", "application/x-www-form-urlencoded", big("code"), true,
			413, "application/json", `"error":"invalid_request"`},
		{"token, JSON", "/oauth/token", "application/json", `{"code":"` + strings.Repeat("x", int(DefaultMaxBodyBytes)) + `"}`,
			false, 413, "application/json", `"error":"invalid_request"`},
		{"token, just within the cap", "/oauth/token", "application/x-www-form-urlencoded",
			"pad=" + strings.Repeat("x", int(DefaultMaxBodyBytes)-10), false, 400, "application/json", `grant_type is required`},
		{"revoke", "/oauth/revoke", "application/x-www-form-urlencoded", big("token"), false,
			400, "application/json", `"error":"invalid_request"`},
		{"revoke, chunked", "/oauth/revoke", "application/x-www-form-urlencoded", big("token"), true,
			400, "application/json", `"error":"invalid_request"`},
		{"sign-in form", "/oauth/authorize", "application/x-www-form-urlencoded", big("login"), false,
			413, "text/html", "too large"},
		{"sign-in form, chunked", "/oauth/authorize", "application/x-www-form-urlencoded", big("login"), true,
			413, "text/html", "too large"},
		{"application registration keeps the router's cap", "/api/v1/apps", "application/x-www-form-urlencoded",
			big("client_name"), false, 413, "application/json", `"code":"body_too_large"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := e.request("POST", tt.path, tt.contentType, tt.body)
			if tt.chunked {
				req.Body = io.NopCloser(io.MultiReader(strings.NewReader(tt.body)))
				req.ContentLength = -1
			}
			res := e.send(nil, req)
			if res.status != tt.wantStatus || !strings.HasPrefix(res.header.Get("Content-Type"), tt.wantType) ||
				!strings.Contains(string(res.body), tt.wantIn) {
				t.Fatalf("%d %s %.300s; want %d %s with %q", res.status, res.header.Get("Content-Type"), res.body,
					tt.wantStatus, tt.wantType, tt.wantIn)
			}
			if strings.HasPrefix(tt.path, "/oauth/") && res.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", res.header.Get("Cache-Control"))
			}
		})
	}
	// The server goes on serving after closing those connections.
	if res := e.get("/.well-known/oauth-authorization-server"); res.status != http.StatusOK {
		t.Fatalf("afterwards: %d %s", res.status, res.body)
	}
}
