package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestOAuthEndToEnd drives the whole flow as a Mastodon client would, with
// golang.org/x/oauth2 as the client library: discover the endpoints,
// register an app, send the person to the authorization page, sign in and
// approve with a PKCE challenge, exchange the code, call a route guarded
// by RequireScope("read"), revoke the token, and see 401.
func TestOAuthEndToEnd(t *testing.T) {
	e := newOAuthEnv(t, nil)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())

	// Discovery (RFC 8414).
	meta := e.get("/.well-known/oauth-authorization-server").json(t)
	endpoint := oauth2.Endpoint{AuthURL: meta["authorization_endpoint"].(string), TokenURL: meta["token_endpoint"].(string)}

	// Registration.
	reg := e.postJSON("/api/v1/apps", `{"client_name":"e2e","redirect_uris":"`+oauthRedirect+`","scopes":"read write"}`)
	if reg.status != http.StatusOK {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	app := reg.json(t)
	conf := &oauth2.Config{ClientID: app["client_id"].(string), ClientSecret: app["client_secret"].(string),
		Endpoint: endpoint, RedirectURL: oauthRedirect, Scopes: []string{"read"}}

	// Authorization with PKCE S256.
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier))
	browser := e.browser()
	req, err := http.NewRequest("GET", authURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := e.send(browser, req)
	if page.status != http.StatusOK || !strings.Contains(string(page.body), "e2e") {
		t.Fatalf("authorization page: %d %s", page.status, page.body)
	}
	form := oauthHiddenFields(page.body)
	form.Set("login", "alice")
	form.Set("password", "alice-password")
	form.Set("decision", "approve")
	res := e.submit(browser, form)
	loc, err := url.Parse(res.header.Get("Location"))
	if res.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), oauthRedirect+"?") ||
		loc.Query().Get("state") != "state-123" {
		t.Fatalf("approval: %d Location=%q", res.status, res.header.Get("Location"))
	}
	code := loc.Query().Get("code")

	// Without the verifier the code is refused (a refused redemption does
	// not spend the code).
	if _, err := conf.Exchange(ctx, code); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("exchange without verifier: %v", err)
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken != "" || !tok.Expiry.IsZero() || tok.Extra("scope") != "read" {
		t.Fatalf("token %+v", tok)
	}
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("second exchange: %v", err)
	}

	// The second exchange revoked the token of the first (RFC 6749
	// §4.1.2); authorize again for a fresh one.
	page = e.send(browser, mustRequest(t, "GET", conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier))))
	form = oauthHiddenFields(page.body)
	form.Set("login", "alice")
	form.Set("password", "alice-password")
	form.Set("decision", "approve")
	loc, _ = url.Parse(e.submit(browser, form).header.Get("Location"))
	tok, err = conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}

	// A route guarded by RequireScope("read").
	client := conf.Client(ctx, tok)
	call := func() (*http.Response, string) {
		t.Helper()
		r, err := client.Get(e.srv.URL + oauthProtectedPath)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return r, string(b)
	}
	if r, body := call(); r.StatusCode != http.StatusOK || !strings.Contains(body, `"account":"a1"`) {
		t.Fatalf("protected route: %d %s", r.StatusCode, body)
	}

	// Revoke (RFC 7009), then the token is refused at once.
	rev := e.postForm("/oauth/revoke", url.Values{"client_id": {conf.ClientID}, "client_secret": {conf.ClientSecret},
		"token": {tok.AccessToken}})
	if rev.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", rev.status, rev.body)
	}
	r, body := call()
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("after revocation: %d %v %s", r.StatusCode, r.Header, body)
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
