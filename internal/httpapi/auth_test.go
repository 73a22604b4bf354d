package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
)

// grantVerifier knows a fixed set of tokens.
type grantVerifier map[string]app.OAuthGrant

func (f grantVerifier) Verify(_ context.Context, token string) (app.OAuthGrant, error) {
	if token == "broken-store" {
		return app.OAuthGrant{}, errors.New("disk on fire")
	}
	g, ok := f[token]
	if !ok {
		return app.OAuthGrant{}, &app.OAuthError{Code: "invalid_token", Description: "unknown token"}
	}
	return g, nil
}

var oauthTestGrants = grantVerifier{
	"alice-read":  {TokenID: "t1", ClientID: "c1", AccountID: "a1", Username: "alice", Role: account.Learner, Scopes: []string{"read"}},
	"root-admin":  {TokenID: "t2", AccountID: "a2", Username: "root", Role: account.InstanceAdmin, Scopes: []string{"admin:read", "admin:write"}},
	"root-read":   {TokenID: "t3", AccountID: "a2", Username: "root", Role: account.InstanceAdmin, Scopes: []string{"admin:read"}},
	"root-plain":  {TokenID: "t4", AccountID: "a2", Username: "root", Role: account.InstanceAdmin, Scopes: []string{"read", "write"}},
	"alice-admin": {TokenID: "t5", AccountID: "a1", Username: "alice", Role: account.Learner, Scopes: []string{"admin:read", "admin:write"}},
	"app-only":    {TokenID: "t6", ClientID: "c1", Scopes: []string{"read", "admin:read"}},
}

func TestBearerAuth(t *testing.T) {
	whoami := func(r chi.Router) {
		who := func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			WriteJSON(w, http.StatusOK, map[string]any{"ok": ok, "p": p, "refused": BearerRefused(r.Context())})
		}
		for _, path := range []string{"/whoami", "/oauth/token", "/oauth/revoke", "/oauth/authorize", "/api/admin/who",
			"/api/administrators", "/metrics"} {
			r.Get(path, who)
		}
		r.With(RequireScope("read")).Get("/read", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, 200, "ok") })
		r.With(RequireScope("read"), RequireUser).Get("/mine", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, 200, "ok") })
	}
	env := newTestServer(t, Deps{Auth: BearerAuth(oauthTestGrants), Mount: whoami})
	cases := []struct {
		name       string
		path, auth string
		wantStatus int
		wantBody   string
		wantWWW    string
	}{
		{name: "no header: no principal", path: "/whoami", wantStatus: 200, wantBody: `"ok":false`},
		{name: "valid token", path: "/whoami", auth: "Bearer alice-read", wantStatus: 200,
			wantBody: `"p":{"AccountID":"a1","Username":"alice","Role":"learner","Scopes":["read"],"AppID":"c1","TokenID":"t1"}`},
		{name: "scheme is case-insensitive", path: "/whoami", auth: "bearer alice-read", wantStatus: 200, wantBody: `"ok":true`},
		{name: "refused token on a read that needs none: 401", path: "/whoami", auth: "Bearer nope", wantStatus: 401,
			wantBody: `"code":"invalid_token"`, wantWWW: `Bearer realm="hanse", error="invalid_token"`},
		{name: "refused token, unknown route: 401 before the 404", path: "/nothing", auth: "Bearer nope", wantStatus: 401,
			wantBody: `"code":"invalid_token"`},
		{name: "refused token, admin route: marked for the admin guard", path: "/api/admin/who", auth: "Bearer nope",
			wantStatus: 200, wantBody: `"refused":true`},
		{name: "refused token, metrics: marked for the admin guard", path: "/metrics", auth: "Bearer nope",
			wantStatus: 200, wantBody: `"refused":true`},
		{name: "refused token, a path that only starts like the admin prefix", path: "/api/administrators",
			auth: "Bearer nope", wantStatus: 401, wantBody: `"code":"invalid_token"`},
		{name: "refused token, token endpoint: marked", path: "/oauth/token", auth: "Bearer nope", wantStatus: 200,
			wantBody: `"refused":true`},
		{name: "refused token, revocation endpoint: marked", path: "/oauth/revoke", auth: "Bearer nope", wantStatus: 200,
			wantBody: `"refused":true`},
		{name: "refused token, sign-in form: marked", path: "/oauth/authorize", auth: "Bearer nope", wantStatus: 200,
			wantBody: `"refused":true`},
		{name: "other scheme is ignored", path: "/whoami", auth: "Basic YTpi", wantStatus: 200, wantBody: `"refused":false`},
		{name: "guarded, no token", path: "/read", wantStatus: 401, wantBody: `"code":"unauthorized"`, wantWWW: `Bearer realm="hanse"`},
		{name: "guarded, refused token", path: "/read", auth: "Bearer nope", wantStatus: 401, wantBody: `"code":"invalid_token"`,
			wantWWW: `error="invalid_token"`},
		{name: "guarded, valid token", path: "/read", auth: "Bearer alice-read", wantStatus: 200},
		{name: "guarded, scope missing", path: "/read", auth: "Bearer root-admin", wantStatus: 403, wantBody: `"code":"insufficient_scope"`},
		{name: "user route, app token", path: "/mine", auth: "Bearer app-only", wantStatus: 403, wantBody: `"code":"user_required"`},
		{name: "user route, user token", path: "/mine", auth: "Bearer alice-read", wantStatus: 200},
		{name: "store failure", path: "/whoami", auth: "Bearer broken-store", wantStatus: 503, wantBody: `"code":"authentication_unavailable"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			res := env.do(t, "GET", tc.path, nil, h)
			if res.status != tc.wantStatus || !strings.Contains(string(res.body), tc.wantBody) ||
				!strings.Contains(res.header.Get("WWW-Authenticate"), tc.wantWWW) {
				t.Fatalf("GET %s = %d %v %s", tc.path, res.status, res.header, res.body)
			}
		})
	}
}
