package httpapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/internal/domain/oauth"
)

const oauthRedirect = "https://app.example/callback"

func TestOAuthRegisterApp(t *testing.T) {
	e := newOAuthEnv(t, func(d *OAuthDeps) { d.Register = PerMinute(1000) })
	credential := oauthMastodonSchema(t, "CredentialApplication")
	cases := []struct {
		name          string
		send          func() oauthResponse
		wantRedirects []string
		wantScopes    string
	}{
		{name: "form, several URIs in one string, default scope",
			send: func() oauthResponse {
				return e.postForm("/api/v1/apps", url.Values{"client_name": {"Tusky"}, "redirect_uris": {oauthRedirect + "\n" + oauth.OOB}})
			},
			wantRedirects: []string{oauthRedirect, oauth.OOB}, wantScopes: "read"},
		{name: "form with Rails array parameters",
			send: func() oauthResponse {
				return e.postForm("/api/v1/apps", url.Values{"client_name": {"Tusky"},
					"redirect_uris[]": {oauthRedirect, "https://app.example/other"}, "scopes": {"read write follow"}})
			},
			wantRedirects: []string{oauthRedirect, "https://app.example/other"}, wantScopes: "read write follow"},
		{name: "JSON with an array",
			send: func() oauthResponse {
				return e.postJSON("/api/v1/apps", `{"client_name":"Ivory","redirect_uris":["`+oauthRedirect+`"],"scopes":"read push","website":"https://ivory.example"}`)
			},
			wantRedirects: []string{oauthRedirect}, wantScopes: "read push"},
		{name: "query string",
			send: func() oauthResponse {
				return e.send(nil, e.request("POST", "/api/v1/apps?client_name=Q&redirect_uris="+url.QueryEscape(oauth.OOB)+"&scopes=read+write", "", ""))
			},
			wantRedirects: []string{oauth.OOB}, wantScopes: "read write"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.send()
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			oauthValidate(t, credential, res.body)
			m := res.json(t)
			var uris []string
			for _, u := range m["redirect_uris"].([]any) {
				uris = append(uris, u.(string))
			}
			var scopes []string
			for _, s := range m["scopes"].([]any) {
				scopes = append(scopes, s.(string))
			}
			if strings.Join(uris, " ") != strings.Join(tc.wantRedirects, " ") || m["redirect_uri"] != strings.Join(tc.wantRedirects, "\n") ||
				strings.Join(scopes, " ") != tc.wantScopes || m["id"] != m["client_id"] || len(m["client_secret"].(string)) != 43 {
				t.Fatalf("got %s", res.body)
			}
			if res.header.Get("Cache-Control") != "no-store" {
				t.Error("credentials may be cached")
			}
		})
	}

	invalid := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no name", url.Values{"redirect_uris": {oauthRedirect}}, "client_name"},
		{"no redirect URI", url.Values{"client_name": {"x"}}, "redirect_uris"},
		{"relative redirect URI", url.Values{"client_name": {"x"}, "redirect_uris": {"/cb"}}, "redirect_uris"},
		{"unknown scope", url.Values{"client_name": {"x"}, "redirect_uris": {oauthRedirect}, "scopes": {"read root"}}, "scopes"},
		{"bad website", url.Values{"client_name": {"x"}, "redirect_uris": {oauthRedirect}, "website": {"ftp://x"}}, "website"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			res := e.postForm("/api/v1/apps", tc.form)
			m := res.json(t)
			errObj, _ := m["error"].(map[string]any)
			if res.status != http.StatusUnprocessableEntity || errObj["code"] != CodeValidation || errObj["field"] != tc.field {
				t.Fatalf("got %d %s, want 422 on %s", res.status, res.body, tc.field)
			}
		})
	}
	if res := e.postJSON("/api/v1/apps", `{"client_name":{"x":1}}`); res.status != http.StatusBadRequest {
		t.Errorf("object parameter: %d %s", res.status, res.body)
	}
	if res := e.send(nil, e.request("POST", "/api/v1/apps", "text/plain", "x")); res.status != http.StatusBadRequest {
		t.Errorf("text body: %d %s", res.status, res.body)
	}
}

func TestOAuthRegisterAppRateLimit(t *testing.T) {
	e := newOAuthEnv(t, func(d *OAuthDeps) { d.Register = Limit{PerSecond: 1.0 / 3600, Burst: 2} })
	form := url.Values{"client_name": {"x"}, "redirect_uris": {oauthRedirect}}
	for i := range 2 {
		if res := e.postForm("/api/v1/apps", form); res.status != http.StatusOK {
			t.Fatalf("registration %d: %d %s", i, res.status, res.body)
		}
	}
	res := e.postForm("/api/v1/apps", form)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || !strings.Contains(string(res.body), CodeRateLimited) {
		t.Fatalf("third registration: %d %v %s", res.status, res.header, res.body)
	}
}

func TestOAuthMetadata(t *testing.T) {
	e := newOAuthEnv(t, nil)
	res := e.get("/.well-known/oauth-authorization-server")
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	oauthValidate(t, oauthMastodonSchema(t, "DiscoverOauthServerConfigurationResponse"), res.body)
	m := res.json(t)
	base := e.srv.URL
	for k, want := range map[string]string{"issuer": base + "/", "authorization_endpoint": base + "/oauth/authorize",
		"token_endpoint": base + "/oauth/token", "revocation_endpoint": base + "/oauth/revoke",
		"app_registration_endpoint": base + "/api/v1/apps", "userinfo_endpoint": base + "/oauth/userinfo"} {
		if m[k] != want {
			t.Errorf("%s = %v, want %s", k, m[k], want)
		}
	}
	joined := func(k string) string {
		var out []string
		for _, v := range m[k].([]any) {
			out = append(out, v.(string))
		}
		return strings.Join(out, " ")
	}
	if joined("code_challenge_methods_supported") != "S256" || joined("response_types_supported") != "code" ||
		joined("grant_types_supported") != "authorization_code client_credentials" ||
		joined("token_endpoint_auth_methods_supported") != "client_secret_basic client_secret_post" ||
		!strings.Contains(joined("scopes_supported"), "profile") || !strings.Contains(joined("scopes_supported"), "admin:write:reports") {
		t.Fatalf("metadata %s", res.body)
	}
}

// authorize drives GET /oauth/authorize in browser c and returns the
// page's form fields.
func (e *oauthEnv) authorize(c *http.Client, q url.Values) (oauthResponse, url.Values) {
	e.t.Helper()
	res := e.send(c, e.request("GET", "/oauth/authorize?"+q.Encode(), "", ""))
	return res, oauthHiddenFields(res.body)
}

func (e *oauthEnv) submit(c *http.Client, form url.Values) oauthResponse {
	e.t.Helper()
	return e.send(c, e.request("POST", "/oauth/authorize", "application/x-www-form-urlencoded", form.Encode()))
}

func oauthAuthorizeQuery(clientID string, mod func(url.Values)) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {oauthRedirect},
		"scope": {"read write:statuses"}, "state": {"xyz"}, "code_challenge": {oauth.S256(oauthVerifier)},
		"code_challenge_method": {"S256"}}
	if mod != nil {
		mod(q)
	}
	return q
}

var oauthVerifier = strings.Repeat("verifier", 6) // 48 characters

func TestOAuthAuthorizePage(t *testing.T) {
	e := newOAuthEnv(t, nil)
	clientID, _ := e.registerApp(oauthRedirect+" "+oauth.OOB, "read write")

	res, fields := e.authorize(e.browser(), oauthAuthorizeQuery(clientID, nil))
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", res.status, res.body)
	}
	page := string(res.body)
	for _, want := range []string{"Test App", "read", "write:statuses", `name="password"`, `value="approve"`, `value="deny"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script")
	}
	if fields.Get("csrf") == "" || fields.Get("client_id") != clientID || fields.Get("state") != "xyz" {
		t.Errorf("hidden fields %v", fields)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == oauthCSRFCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.SameSite != http.SameSiteStrictMode || !cookie.HttpOnly {
		t.Errorf("CSRF cookie %+v", cookie)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if res.header.Get(h) != want {
			t.Errorf("%s = %q", h, res.header.Get(h))
		}
	}
	if !strings.Contains(res.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP %q", res.header.Get("Content-Security-Policy"))
	}

	// Never a redirect for an unknown client or an unregistered redirect URI.
	errorPages := []struct {
		name string
		q    url.Values
	}{
		{"unknown client", oauthAuthorizeQuery("no-such-client", nil)},
		{"no client", oauthAuthorizeQuery("", nil)},
		{"unregistered redirect URI", oauthAuthorizeQuery(clientID, func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") })},
		{"redirect URI with extra path", oauthAuthorizeQuery(clientID, func(q url.Values) { q.Set("redirect_uri", oauthRedirect+"/x") })},
		{"several URIs and none given", oauthAuthorizeQuery(clientID, func(q url.Values) { q.Del("redirect_uri") })},
	}
	for _, tc := range errorPages {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := e.authorize(e.browser(), tc.q)
			if res.status != http.StatusBadRequest || res.header.Get("Location") != "" || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d Location=%q %s", res.status, res.header.Get("Location"), res.body)
			}
		})
	}

	// Other problems go back to the client.
	redirected := []struct {
		name string
		q    url.Values
		want string
	}{
		{"scope not registered", oauthAuthorizeQuery(clientID, func(q url.Values) { q.Set("scope", "read admin:read") }), "invalid_scope"},
		{"unknown scope", oauthAuthorizeQuery(clientID, func(q url.Values) { q.Set("scope", "everything") }), "invalid_scope"},
		{"plain PKCE", oauthAuthorizeQuery(clientID, func(q url.Values) {
			q.Set("code_challenge", oauthVerifier)
			q.Set("code_challenge_method", "plain")
		}), "invalid_request"},
		{"token response type", oauthAuthorizeQuery(clientID, func(q url.Values) { q.Set("response_type", "token") }), "unsupported_response_type"},
		{"no response type", oauthAuthorizeQuery(clientID, func(q url.Values) { q.Del("response_type") }), "invalid_request"},
	}
	for _, tc := range redirected {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := e.authorize(e.browser(), tc.q)
			loc, err := url.Parse(res.header.Get("Location"))
			if res.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), oauthRedirect+"?") ||
				loc.Query().Get("error") != tc.want || loc.Query().Get("state") != "xyz" || loc.Query().Get("error_description") == "" {
				t.Fatalf("%d Location=%q", res.status, res.header.Get("Location"))
			}
		})
	}
	t.Run("out-of-band errors are shown, not redirected", func(t *testing.T) {
		res, _ := e.authorize(e.browser(), oauthAuthorizeQuery(clientID, func(q url.Values) {
			q.Set("redirect_uri", oauth.OOB)
			q.Set("scope", "admin:write")
		}))
		if res.status != http.StatusBadRequest || res.header.Get("Location") != "" || !strings.Contains(string(res.body), "invalid_scope") {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
}

func TestOAuthAuthorizeSubmit(t *testing.T) {
	e := newOAuthEnv(t, func(d *OAuthDeps) { d.SignIn = Limit{PerSecond: 1.0 / 3600, Burst: 3} })
	clientID, secret := e.registerApp(oauthRedirect+" "+oauth.OOB, "read write")

	form := func(c *http.Client, mod func(url.Values)) url.Values {
		_, f := e.authorize(c, oauthAuthorizeQuery(clientID, mod))
		f.Set("login", "alice")
		f.Set("password", "alice-password")
		f.Set("decision", "approve")
		return f
	}

	t.Run("no CSRF cookie", func(t *testing.T) {
		f := form(e.browser(), nil)
		res := e.submit(e.browser(), f) // another browser: no cookie
		if res.status != http.StatusForbidden || res.header.Get("Location") != "" {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("parameters changed after signing", func(t *testing.T) {
		c := e.browser()
		f := form(c, nil)
		f.Set("scope", "read write")
		if res := e.submit(c, f); res.status != http.StatusForbidden {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("forged form token", func(t *testing.T) {
		c := e.browser()
		f := form(c, nil)
		f.Set("csrf", "9999999999."+base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
		if res := e.submit(c, f); res.status != http.StatusForbidden {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("deny", func(t *testing.T) {
		c := e.browser()
		f := form(c, nil)
		f.Set("decision", "deny")
		f.Del("password")
		res := e.submit(c, f)
		loc, _ := url.Parse(res.header.Get("Location"))
		if res.status != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "xyz" ||
			loc.Query().Get("code") != "" {
			t.Fatalf("%d %q", res.status, res.header.Get("Location"))
		}
	})
	t.Run("wrong password shows the form again", func(t *testing.T) {
		c := e.browser()
		f := form(c, nil)
		f.Set("password", "wrong")
		res := e.submit(c, f)
		if res.status != http.StatusUnauthorized || !strings.Contains(string(res.body), "Wrong login or password") ||
			!strings.Contains(string(res.body), `value="alice"`) || oauthHiddenFields(res.body).Get("csrf") == "" {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("approve redirects with code and state", func(t *testing.T) {
		c := e.browser()
		res := e.submit(c, form(c, nil))
		loc, err := url.Parse(res.header.Get("Location"))
		if res.status != http.StatusFound || err != nil || loc.Query().Get("state") != "xyz" || len(loc.Query().Get("code")) != 43 {
			t.Fatalf("%d %q", res.status, res.header.Get("Location"))
		}
		tok := e.postForm("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
			"client_secret": {secret}, "redirect_uri": {oauthRedirect}, "code": {loc.Query().Get("code")}, "code_verifier": {oauthVerifier}})
		if tok.status != http.StatusOK || tok.json(t)["scope"] != "read write:statuses" {
			t.Fatalf("token: %d %s", tok.status, tok.body)
		}
	})
	t.Run("out of band shows the code", func(t *testing.T) {
		c := e.browser()
		res := e.submit(c, form(c, func(q url.Values) { q.Set("redirect_uri", oauth.OOB) }))
		if res.status != http.StatusOK || res.header.Get("Location") != "" || !strings.Contains(string(res.body), "Authorization code") {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
	t.Run("sign-in attempts are rate limited", func(t *testing.T) {
		// Three sign-ins were attempted above (one wrong; denying signs in
		// nobody); the next is refused for the client address, whatever
		// the password.
		c := e.browser()
		res := e.submit(c, form(c, nil))
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" ||
			!strings.Contains(string(res.body), "Too many sign-in attempts") {
			t.Fatalf("%d %v %s", res.status, res.header, res.body)
		}
	})
}

func TestOAuthSignInLimitPerLogin(t *testing.T) {
	e := newOAuthEnv(t, nil)
	clientID, _ := e.registerApp(oauthRedirect, "read write")
	// Drive the routes directly, so that requests come from several client
	// addresses.
	r := chi.NewRouter()
	OAuthRoutes(OAuthDeps{OAuth: e.o, Accounts: e.accounts, PublicURL: e.srv.URL, SignIn: Limit{PerSecond: 1.0 / 3600, Burst: 2}})(r)
	serve := func(req *http.Request, ip string) *httptest.ResponseRecorder {
		req.RemoteAddr = ip + ":40000"
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	attempt := func(ip, login string) int {
		get := serve(httptest.NewRequest("GET", "/oauth/authorize?"+oauthAuthorizeQuery(clientID, nil).Encode(), nil), ip)
		f := oauthHiddenFields(get.Body.Bytes())
		f.Set("login", login)
		f.Set("password", "wrong")
		f.Set("decision", "approve")
		post := httptest.NewRequest("POST", "/oauth/authorize", strings.NewReader(f.Encode()))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range get.Result().Cookies() {
			post.AddCookie(c)
		}
		rec := serve(post, ip)
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		return rec.Code
	}
	got := []int{attempt("10.0.0.1", "alice"), attempt("10.0.0.2", "Alice"), attempt("10.0.0.3", "alice"), attempt("10.0.0.4", "bob")}
	want := []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusUnauthorized}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v (the login is limited across addresses, case-insensitively)", got, want)
	}
}
