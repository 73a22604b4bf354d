package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// person is an account the run created through the admin API and signed
// in through OAuth.
type person struct {
	ID, Username, Password string
	Token                  string // OAuth access token
}

// createAccount creates an account with role ("learner", "facilitator")
// and a password of the run's own.
func (h *hanseAPI) createAccount(ctx context.Context, username, role, password string) (person, error) {
	var created struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	if err := h.admin(ctx, http.MethodPost, "/accounts", map[string]any{"username": username,
		"email": username + "@example.org", "password": password, "role": role,
		"display_name": "hanse-load " + username}, &created); err != nil {
		return person{}, fmt.Errorf("create account %s: %w", username, err)
	}
	if created.ID == "" {
		return person{}, fmt.Errorf("create account %s: answer without id", username)
	}
	return person{ID: created.ID, Username: username, Password: password}, nil
}

// bearer calls the client API as a signed-in person: path is below the
// target, hdr may add headers, a 2xx JSON answer is decoded into out.
func (h *hanseAPI) bearer(ctx context.Context, token, method, path string, hdr http.Header, body, out any) error {
	all := http.Header{"Authorization": {"Bearer " + token}}
	for k, v := range hdr {
		all[k] = v
	}
	return h.do(ctx, method, h.base.String()+path, all, body, out)
}

// oauthApp is the OAuth client application the run registers once; every
// person signs in through it.
type oauthApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// oauthRedirect is the application's redirect URI. It is never visited:
// the tool reads the code from the Location header of the sign-in form's
// answer, as a native client catching its redirect would.
const oauthRedirect = "http://127.0.0.1:9/hanse-load/callback"

// oauthScopes are the scopes the application and every person ask for:
// read for the home timeline, write to create a community, post and join.
const oauthScopes = "read write"

// registerApp registers the run's OAuth application (POST /api/v1/apps).
func (h *hanseAPI) registerApp(ctx context.Context) (oauthApp, error) {
	var app oauthApp
	if err := h.do(ctx, http.MethodPost, h.base.String()+"/api/v1/apps", nil, map[string]any{
		"client_name": "hanse-load", "redirect_uris": oauthRedirect, "scopes": oauthScopes}, &app); err != nil {
		return oauthApp{}, fmt.Errorf("register the OAuth application: %w", err)
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		return oauthApp{}, errors.New("register the OAuth application: answer without client_id or client_secret")
	}
	return app, nil
}

// hiddenField matches the sign-in form's hidden inputs (the authorization
// request's parameters and the CSRF token).
var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// maxRetryWait bounds one wait for a rate-limited sign-in step.
const maxRetryWait = time.Minute

// signIn signs p in through the OAuth flow a Mastodon client uses and
// returns the access token: GET /oauth/authorize with a PKCE S256
// challenge (the page sets the CSRF cookie and carries the form token),
// POST the credentials (302 to the redirect URI with the code), and
// redeem the code with the verifier at POST /oauth/token. A step answered
// 429 is retried, from the start, after its Retry-After.
func (h *hanseAPI) signIn(ctx context.Context, app oauthApp, p person) (string, error) {
	for {
		token, wait, err := h.signInOnce(ctx, app, p)
		if err == nil || wait == 0 {
			return token, err
		}
		select {
		case <-time.After(min(wait, maxRetryWait)):
		case <-ctx.Done():
			return "", fmt.Errorf("%w (waiting for the sign-in rate limit: %w)", ctx.Err(), err)
		}
	}
}

// signInOnce runs the flow once; a 429 is returned with its wait.
func (h *hanseAPI) signInOnce(ctx context.Context, app oauthApp, p person) (token string, wait time.Duration, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", 0, err
	}
	verifier := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	state := base64.RawURLEncoding.EncodeToString(raw[:8])

	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", 0, err
	}
	browser := &http.Client{Transport: h.client.Transport, Jar: jar, Timeout: h.client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := h.base.String()
	// send performs one step and returns its answer's status, body and
	// Location; a 429 becomes an error with its wait.
	send := func(step string, req *http.Request) (int, []byte, string, time.Duration, error) {
		res, err := browser.Do(req)
		if err != nil {
			return 0, nil, "", 0, fmt.Errorf("sign-in of %s, %s: %w", p.Username, step, err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		if err != nil {
			return 0, nil, "", 0, fmt.Errorf("sign-in of %s, %s: %w", p.Username, step, err)
		}
		if res.StatusCode == http.StatusTooManyRequests {
			wait := max(retryAfterOf(res.Header), time.Second)
			return 0, nil, "", wait, fmt.Errorf("sign-in of %s, %s: 429 (rate-limited; retry after %s)", p.Username, step, wait)
		}
		return res.StatusCode, body, res.Header.Get("Location"), 0, nil
	}

	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {oauthRedirect},
		"scope": {oauthScopes}, "state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/oauth/authorize?"+q.Encode(), nil)
	if err != nil {
		return "", 0, err
	}
	status, page, _, wait, err := send("GET /oauth/authorize", req)
	if err != nil {
		return "", wait, err
	}
	if status != http.StatusOK {
		return "", 0, fmt.Errorf("sign-in of %s, GET /oauth/authorize: %d %.200s", p.Username, status, page)
	}
	form := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if form.Get("csrf") == "" {
		return "", 0, fmt.Errorf("sign-in of %s: the authorization page has no form token", p.Username)
	}
	form.Set("login", p.Username)
	form.Set("password", p.Password)
	form.Set("decision", "approve")
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth/authorize", strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, page, location, wait, err := send("POST /oauth/authorize", req)
	if err != nil {
		return "", wait, err
	}
	loc, err := url.Parse(location)
	if status != http.StatusFound || err != nil || !strings.HasPrefix(location, oauthRedirect+"?") ||
		loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		return "", 0, fmt.Errorf("sign-in of %s, POST /oauth/authorize: %d, Location %q: %.200s", p.Username, status, location, page)
	}

	form = url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {oauthRedirect}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
		"code_verifier": {verifier}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, _, wait, err := send("POST /oauth/token", req)
	if err != nil {
		return "", wait, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return "", 0, fmt.Errorf("sign-in of %s, POST /oauth/token: %d %.200s", p.Username, status, body)
	}
	return tok.AccessToken, 0, nil
}
