package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/oauth"
	"github.com/hanse-network/hanse/projections/tokens"
)

// codeFor issues a code for alice directly through the application
// service (the HTML flow has its own tests).
func (e *oauthEnv) codeFor(clientID, accountID string, pkce bool) string {
	e.t.Helper()
	in := app.OAuthAuthorization{ClientID: clientID, RedirectURI: oauthRedirect, Scopes: []string{"read"}}
	if pkce {
		in.CodeChallenge, in.CodeChallengeMethod = oauth.S256(oauthVerifier), "S256"
	}
	code, _, err := e.o.IssueCode(context.Background(), accountID, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

func TestOAuthTokenEndpoint(t *testing.T) {
	e := newOAuthEnv(t, nil)
	clientID, secret := e.registerApp(oauthRedirect, "read write")
	tokenSchema := oauthMastodonSchema(t, "Token")

	redeem := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "client_secret": {secret},
			"redirect_uri": {oauthRedirect}, "code": {code}, "code_verifier": {oauthVerifier}}
	}
	basic := func(req *http.Request) *http.Request {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		return req
	}
	cases := []struct {
		name      string
		send      func() oauthResponse
		wantScope string
		account   string
	}{
		{name: "authorization code, form, client_secret_post", account: "a1", wantScope: "read",
			send: func() oauthResponse { return e.postForm("/oauth/token", redeem(e.codeFor(clientID, "a1", true))) }},
		{name: "authorization code, JSON", account: "a1", wantScope: "read",
			send: func() oauthResponse {
				code := e.codeFor(clientID, "a1", true)
				return e.postJSON("/oauth/token", `{"grant_type":"authorization_code","client_id":"`+clientID+`","client_secret":"`+secret+
					`","redirect_uri":"`+oauthRedirect+`","code":"`+code+`","code_verifier":"`+oauthVerifier+`"}`)
			}},
		{name: "authorization code, client_secret_basic", account: "a1", wantScope: "read",
			send: func() oauthResponse {
				f := redeem(e.codeFor(clientID, "a1", true))
				f.Del("client_id")
				f.Del("client_secret")
				return e.send(nil, basic(e.request("POST", "/oauth/token", "application/x-www-form-urlencoded", f.Encode())))
			}},
		{name: "client credentials, default scope", wantScope: "read",
			send: func() oauthResponse {
				return e.postForm("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}})
			}},
		{name: "client credentials, scopes in the query", wantScope: "read write",
			send: func() oauthResponse {
				return e.send(nil, e.request("POST", "/oauth/token?grant_type=client_credentials&scope=read+write&client_id="+clientID+
					"&client_secret="+secret, "", ""))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.send()
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			oauthValidate(t, tokenSchema, res.body)
			m := res.json(t)
			if m["token_type"] != "Bearer" || m["scope"] != tc.wantScope || res.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%v %s", res.header, res.body)
			}
			if _, ok := m["refresh_token"]; ok {
				t.Error("a refresh token was issued")
			}
			p := e.get(oauthProtectedPath, oauthBearer(m["access_token"].(string))...)
			if p.status != http.StatusOK || p.json(t)["account"] != tc.account || p.json(t)["app"] != clientID {
				t.Fatalf("protected route with the new token: %d %s", p.status, p.body)
			}
		})
	}

	used := e.codeFor(clientID, "a1", true)
	if res := e.postForm("/oauth/token", redeem(used)); res.status != http.StatusOK {
		t.Fatal(res.status)
	}
	refusals := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantError  string
	}{
		{"code used twice", redeem(used), 400, "invalid_grant"},
		{"unknown code", redeem("nope"), 400, "invalid_grant"},
		{"PKCE mismatch", func() url.Values {
			f := redeem(e.codeFor(clientID, "a1", true))
			f.Set("code_verifier", strings.Repeat("x", 43))
			return f
		}(), 400, "invalid_grant"},
		{"missing verifier", func() url.Values { f := redeem(e.codeFor(clientID, "a1", true)); f.Del("code_verifier"); return f }(), 400, "invalid_grant"},
		{"wrong redirect URI", func() url.Values {
			f := redeem(e.codeFor(clientID, "a1", true))
			f.Set("redirect_uri", "https://app.example/other")
			return f
		}(), 400, "invalid_grant"},
		{"wrong secret", func() url.Values { f := redeem(e.codeFor(clientID, "a1", true)); f.Set("client_secret", "x"); return f }(), 401, "invalid_client"},
		{"unknown client", func() url.Values { f := redeem("x"); f.Set("client_id", "nobody"); return f }(), 401, "invalid_client"},
		{"no code", func() url.Values { f := redeem(""); return f }(), 400, "invalid_request"},
		{"no grant type", url.Values{"client_id": {clientID}}, 400, "invalid_request"},
		{"refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, 400, "unsupported_grant_type"},
		{"password grant", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"x"}}, 400, "unsupported_grant_type"},
		{"scope beyond the app's", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
			"scope": {"read admin:read"}}, 400, "invalid_scope"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			res := e.postForm("/oauth/token", tc.form)
			m := res.json(t)
			if res.status != tc.wantStatus || m["error"] != tc.wantError || m["error_description"] == "" {
				t.Fatalf("%d %s, want %d %s", res.status, res.body, tc.wantStatus, tc.wantError)
			}
			if tc.wantStatus == 401 && res.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("credentials given twice, differently", func(t *testing.T) {
		req := e.request("POST", "/oauth/token", "application/x-www-form-urlencoded", redeem(e.codeFor(clientID, "a1", true)).Encode())
		req.SetBasicAuth(clientID, "other")
		if res := e.send(nil, req); res.status != 400 || res.json(t)["error"] != "invalid_request" {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		if res := e.postJSON("/oauth/token", `{"grant_type":`); res.status != 400 || res.json(t)["error"] != "invalid_request" {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
}

func TestOAuthTokenRateLimit(t *testing.T) {
	e := newOAuthEnv(t, func(d *OAuthDeps) { d.Token = Limit{PerSecond: 1.0 / 3600, Burst: 1} })
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}, "client_secret": {"y"}}
	if res := e.postForm("/oauth/token", form); res.status != http.StatusUnauthorized {
		t.Fatalf("first: %d %s", res.status, res.body)
	}
	res := e.postForm("/oauth/token", form)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || res.json(t)["error"] != CodeRateLimited {
		t.Fatalf("second: %d %v %s", res.status, res.header, res.body)
	}
}

func TestOAuthRevokeEndpoint(t *testing.T) {
	e := newOAuthEnv(t, nil)
	clientID, secret := e.registerApp(oauthRedirect, "read")
	otherID, otherSecret := e.registerApp(oauthRedirect, "read")
	tok, err := e.o.IssueForAccount(context.Background(), clientID, "a1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.get(oauthProtectedPath, oauthBearer(tok.AccessToken)...); res.status != http.StatusOK {
		t.Fatalf("before: %d %s", res.status, res.body)
	}
	cases := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantError  string
	}{
		{"no token", url.Values{"client_id": {clientID}, "client_secret": {secret}}, 400, "invalid_request"},
		{"wrong secret", url.Values{"client_id": {clientID}, "client_secret": {"x"}, "token": {tok.AccessToken}}, 401, "invalid_client"},
		{"another client's token", url.Values{"client_id": {otherID}, "client_secret": {otherSecret}, "token": {tok.AccessToken}}, 403, "unauthorized_client"},
		{"unknown token", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {"nope"}}, 200, ""},
		{"the client's token", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {tok.AccessToken}}, 200, ""},
		{"again", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {tok.AccessToken}}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.postForm("/oauth/revoke", tc.form)
			m := res.json(t)
			if res.status != tc.wantStatus || (tc.wantError != "" && m["error"] != tc.wantError) || (tc.wantError == "" && len(m) != 0) {
				t.Fatalf("%d %s", res.status, res.body)
			}
		})
	}
	res := e.get(oauthProtectedPath, oauthBearer(tok.AccessToken)...)
	if res.status != http.StatusUnauthorized || !strings.Contains(res.header.Get("WWW-Authenticate"), `error="invalid_token"`) ||
		oauthErrorCode(t, res) != CodeInvalidToken {
		t.Fatalf("after revocation: %d %v %s", res.status, res.header, res.body)
	}
}

func oauthErrorCode(t *testing.T, res oauthResponse) string {
	t.Helper()
	obj, _ := res.json(t)["error"].(map[string]any)
	code, _ := obj["code"].(string)
	return code
}

func TestOAuthVerifyCredentialsAndUserinfo(t *testing.T) {
	e := newOAuthEnv(t, nil)
	clientID, secret := e.registerApp(oauthRedirect, "read profile")
	appRes := e.postForm("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}})
	appToken := appRes.json(t)["access_token"].(string)
	ctx := context.Background()
	userTok, err := e.o.IssueForAccount(ctx, clientID, "a1", []string{"profile"})
	if err != nil {
		t.Fatal(err)
	}
	pat, err := e.o.IssuePersonalToken(ctx, "a1", "cli", []string{"read"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	res := e.get("/api/v1/apps/verify_credentials", oauthBearer(appToken)...)
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	oauthValidate(t, oauthMastodonSchema(t, "Application"), res.body)
	if m := res.json(t); m["name"] != "Test App" || m["client_secret"] != nil || m["website"] != "https://app.example" {
		t.Fatalf("%s", res.body)
	}
	for name, c := range map[string]struct {
		header []string
		want   int
	}{
		"no token": {nil, 401}, "bad token": {oauthBearer("nope"), 401}, "personal token": {oauthBearer(pat.AccessToken), 404},
	} {
		if res := e.get("/api/v1/apps/verify_credentials", c.header...); res.status != c.want {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}

	res = e.get("/oauth/userinfo", oauthBearer(userTok.AccessToken)...)
	if m := res.json(t); res.status != http.StatusOK || m["preferred_username"] != "alice" || m["iss"] != e.srv.URL+"/" ||
		!strings.HasPrefix(m["sub"].(string), e.srv.URL+"/") {
		t.Fatalf("userinfo: %d %s", res.status, res.body)
	}
	if res := e.get("/oauth/userinfo", oauthBearer(appToken)...); res.status != http.StatusForbidden || oauthErrorCode(t, res) != CodeUserRequired {
		t.Fatalf("userinfo with an app token: %d %s", res.status, res.body)
	}
	writer, err := e.o.IssuePersonalToken(ctx, "a1", "writer", []string{"write:statuses"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.get("/oauth/userinfo", oauthBearer(writer.AccessToken)...); res.status != http.StatusForbidden {
		t.Fatalf("userinfo without profile scope: %d %s", res.status, res.body)
	}

	// CORS for browser clients.
	res = e.send(nil, e.request("OPTIONS", "/oauth/token", "", "", "Origin", "https://web.example",
		"Access-Control-Request-Method", "POST"))
	if res.status != http.StatusNoContent || res.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(res.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", res.status, res.header)
	}
}

func TestOAuthPersonalTokens(t *testing.T) {
	e := newOAuthEnv(t, nil)
	clientID, secret := e.registerApp(oauthRedirect, "read write")
	ctx := context.Background()
	session, err := e.o.IssueForAccount(ctx, clientID, "a1", []string{"read", "write:accounts", "write:statuses"})
	if err != nil {
		t.Fatal(err)
	}
	auth := oauthBearer(session.AccessToken)

	// Create a personal token: it is shown once, with its position.
	res := e.postJSON(MeTokensPath, `{"name":"CLI","scopes":"read write:statuses","expires_in":3600}`, auth...)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	created := res.json(t)
	if created["kind"] != "personal" || created["name"] != "CLI" || created["scope"] != "read write:statuses" ||
		created["expires_at"] == nil || created["position"] == nil || len(created["access_token"].(string)) != 43 {
		t.Fatalf("created %s", res.body)
	}
	pos := events.Position(created["position"].(float64))
	if res := e.get(oauthProtectedPath, oauthBearer(created["access_token"].(string))...); res.status != http.StatusOK {
		t.Fatalf("the new token does not work at once: %d %s", res.status, res.body)
	}

	refusals := []struct {
		name, body, field string
	}{
		{"scope the session lacks", `{"name":"x","scopes":"read admin:read"}`, "scopes"},
		{"no name", `{"scopes":"read"}`, "name"},
		{"unknown scope", `{"name":"x","scopes":"root"}`, "scopes"},
		{"negative lifetime", `{"name":"x","expires_in":-5}`, "expires_in"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			res := e.postJSON(MeTokensPath, tc.body, auth...)
			obj, _ := res.json(t)["error"].(map[string]any)
			if res.status != http.StatusUnprocessableEntity || obj["field"] != tc.field {
				t.Fatalf("%d %s", res.status, res.body)
			}
		})
	}

	// List: the session's token and the personal one, newest first.
	res = e.get(MeTokensPath+"?min_position="+oauthPos(pos), auth...)
	if res.status != http.StatusOK {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	var list []PersonalToken
	oauthDecode(t, res.body, &list)
	if len(list) != 2 || list[0].ID != created["id"] || list[0].Kind != "personal" || list[1].Kind != "application" ||
		list[1].Application == nil || list[1].Application.Name != "Test App" || strings.Contains(string(res.body), "access_token") {
		t.Fatalf("list %s", res.body)
	}

	// Another account cannot see or revoke it.
	bob, err := e.o.IssuePersonalToken(ctx, "a2", "bob", []string{"read", "write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.get(MeTokensPath+"?min_position="+oauthPos(bob.Position), oauthBearer(bob.AccessToken)...); res.status != 200 ||
		strings.Contains(string(res.body), created["id"].(string)) {
		t.Fatalf("bob's list: %d %s", res.status, res.body)
	}
	if res := e.send(nil, e.request("DELETE", MeTokensPath+"/"+created["id"].(string), "", "", oauthBearer(bob.AccessToken)...)); res.status != 404 {
		t.Fatalf("bob revokes alice's token: %d %s", res.status, res.body)
	}
	// An application's own token acts for nobody.
	appTok, err := e.o.ClientCredentials(ctx, clientID, secret, []string{"read"})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.get(MeTokensPath, oauthBearer(appTok.AccessToken)...); res.status != http.StatusForbidden || oauthErrorCode(t, res) != CodeUserRequired {
		t.Fatalf("app token: %d %s", res.status, res.body)
	}
	if res := e.get(MeTokensPath); res.status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", res.status)
	}

	// Revoke it: it stops working at once and leaves the list.
	res = e.send(nil, e.request("DELETE", MeTokensPath+"/"+created["id"].(string), "", "", auth...))
	if res.status != http.StatusOK || res.json(t)["revoked"] != true {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if res := e.get(oauthProtectedPath, oauthBearer(created["access_token"].(string))...); res.status != http.StatusUnauthorized {
		t.Fatalf("revoked token still works: %d", res.status)
	}
	del := events.Position(res.json(t)["position"].(float64))
	res = e.get(MeTokensPath+"?min_position="+oauthPos(del), auth...)
	oauthDecode(t, res.body, &list)
	if len(list) != 1 || list[0].Kind != "application" {
		t.Fatalf("after revocation: %s", res.body)
	}
	if res := e.send(nil, e.request("DELETE", MeTokensPath+"/"+created["id"].(string), "", "", auth...)); res.status != 404 {
		t.Fatalf("revoking twice: %d %s", res.status, res.body)
	}
}

// staleTokens is a tokens listing that still finds the tokens it once
// found, as a read model that has not caught up with their revocation.
type staleTokens struct {
	tokens.Reader
	mu   sync.Mutex
	seen map[string]tokens.Token
}

func (s *staleTokens) ByID(ctx context.Context, id string) (tokens.Token, error) {
	t, err := s.Reader.ByID(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.seen[id] = t
	} else if old, ok := s.seen[id]; ok && errors.Is(err, tokens.ErrNotFound) {
		return old, nil
	}
	return t, err
}

// TestOAuthRevokeRevokedToken: revoking a token revoked already answers
// 404 — it is no longer yours — also while the listing still shows it.
func TestOAuthRevokeRevokedToken(t *testing.T) {
	e := newOAuthEnv(t, func(d *OAuthDeps) { d.Tokens = &staleTokens{Reader: d.Tokens, seen: map[string]tokens.Token{}} })
	ctx := context.Background()
	session, err := e.o.IssuePersonalToken(ctx, "a1", "session", []string{"read", "write:accounts"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.o.IssuePersonalToken(ctx, "a1", "other", []string{"read"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := MeTokensPath + "/" + other.TokenID + "?min_position=" + oauthPos(other.Position)
	res := e.send(nil, e.request("DELETE", path, "", "", oauthBearer(session.AccessToken)...))
	if res.status != http.StatusOK || res.json(t)["position"].(float64) == 0 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	res = e.send(nil, e.request("DELETE", path, "", "", oauthBearer(session.AccessToken)...))
	if res.status != http.StatusNotFound || oauthErrorCode(t, res) != CodeNotFound {
		t.Fatalf("revoke again: %d %s", res.status, res.body)
	}
}
