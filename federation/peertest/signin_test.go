package peertest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// account is Hanse's answer to POST /api/admin/accounts, with the
// password it was created with.
type account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Role     string `json:"role"`
	Position uint64 `json:"position"`
	Password string `json:"-"`
}

// createAccount creates an account with role through the admin API; its id
// is also the id of its Person actor.
func createAccount(t *testing.T, h *hanse, username, role string) account {
	t.Helper()
	a := account{Password: "correct horse battery staple " + username}
	if s := h.admin(t, "POST", "/accounts", map[string]any{"username": username, "email": username + "@example.org",
		"password": a.Password, "role": role, "display_name": strings.ToUpper(username[:1]) + username[1:]}, &a); s != http.StatusCreated {
		t.Fatalf("create account %s (%s): %d", username, role, s)
	}
	return a
}

// oauthRedirect is the redirect URI of the test's OAuth client; it is
// never visited (the test reads the code from the Location header).
const oauthRedirect = "http://127.0.0.1:9/callback"

// hiddenField matches the sign-in form's hidden inputs (the authorization
// request's parameters and the CSRF token).
var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signIn signs a person in through the real OAuth flow a Mastodon client
// uses and returns the access token: register an app (POST /api/v1/apps),
// load the authorization page (GET /oauth/authorize with a PKCE S256
// challenge; it sets the CSRF cookie and carries the form token), submit
// the credentials (POST /oauth/authorize → 302 to the redirect URI with the
// code), and redeem the code with the verifier (POST /oauth/token).
func signIn(t *testing.T, h *hanse, login, password, scope string) string {
	t.Helper()
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if s := doJSON(t, "POST", h.Base+"/api/v1/apps", "", "", map[string]any{"client_name": "peertest",
		"redirect_uris": oauthRedirect, "scopes": scope}, &app); s != http.StatusOK {
		t.Fatalf("register OAuth app: %d", s)
	}

	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	verifier := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {oauthRedirect},
		"scope": {scope}, "state": {"peertest-state"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	res, err := browser.Get(h.Base + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /oauth/authorize: %d %s", res.StatusCode, page)
	}
	form := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if form.Get("csrf") == "" {
		t.Fatalf("authorization page without a form token:\n%s", page)
	}
	form.Set("login", login)
	form.Set("password", password)
	form.Set("decision", "approve")
	res, err = browser.PostForm(h.Base+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), oauthRedirect+"?") ||
		loc.Query().Get("state") != "peertest-state" || loc.Query().Get("code") == "" {
		t.Fatalf("POST /oauth/authorize as %s: %d Location=%q %s", login, res.StatusCode, res.Header.Get("Location"), body)
	}

	res, err = http.PostForm(h.Base+"/oauth/token", url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {oauthRedirect}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	raw, _ = io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("POST /oauth/token: %d %s", res.StatusCode, raw)
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") || tok.Scope != scope {
		t.Errorf("token type %q scope %q, want Bearer %q", tok.TokenType, tok.Scope, scope)
	}
	return tok.AccessToken
}

// api calls Hanse's client API with a person's token, decodes a 2xx JSON
// answer into out and returns the status code.
func (h *hanse) api(t *testing.T, token, method, path string, body, out any) int {
	t.Helper()
	return doJSON(t, method, h.Base+path, token, "", body, out)
}
