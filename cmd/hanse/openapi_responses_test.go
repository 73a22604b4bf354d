package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/hanse-network/hanse/internal/httpapi"
)

// contractClient sends requests to a running server and validates every
// response against the OpenAPI document (responseValidator). GET and HEAD
// requests send the newest position any write answered as
// Hanse-Min-Position, so reads see the flow's writes.
type contractClient struct {
	t        *testing.T
	base     string
	v        *responseValidator
	hc       *http.Client
	position uint64
	requests int
}

// rawBody is a request body sent as is.
type rawBody struct {
	contentType string
	data        []byte
}

// reply is one response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// anyStatus as the wanted status accepts every documented one.
const anyStatus = 0

// exchange performs one request (body: nil, url.Values as a form,
// multipartBody, rawBody, or anything else as JSON) and returns the
// response with what the validator found wrong with it.
func (c *contractClient) exchange(method, path, token string, body any, header http.Header) (reply, error) {
	c.t.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		r, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case multipartBody:
		r, contentType = bytes.NewReader(b.data), b.contentType
	case rawBody:
		r, contentType = bytes.NewReader(b.data), b.contentType
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if (method == http.MethodGet || method == http.MethodHead) && c.position > 0 {
		req.Header.Set(httpapi.MinPositionHeader, strconv.FormatUint(c.position, 10))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	c.requests++
	var problems []error
	if res.Header.Get("X-Request-Id") == "" {
		problems = append(problems, fmt.Errorf("%s %s → %d: no X-Request-Id header", method, path, res.StatusCode))
	}
	problems = append(problems, c.v.check(method, req.URL.EscapedPath(), res.StatusCode, res.Header, raw))
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); res.StatusCode < 300 && isJSON(mt) {
		var pos struct {
			Position uint64 `json:"position"`
		}
		if json.Unmarshal(raw, &pos) == nil && pos.Position > c.position {
			c.position = pos.Position
		}
	}
	return reply{status: res.StatusCode, header: res.Header, body: raw}, errors.Join(problems...)
}

// send performs one request, reports a response that breaks the
// document, checks the status (unless want is anyStatus) and decodes a
// wanted 2xx JSON answer into out.
func (c *contractClient) send(method, path, token string, body any, header http.Header, want int, out any) reply {
	c.t.Helper()
	r, err := c.exchange(method, path, token, body, header)
	if err != nil {
		c.t.Errorf("contract: %v", err)
	}
	if want != anyStatus && r.status != want {
		c.t.Errorf("%s %s: status %d, want %d; body %s", method, path, r.status, want, clip(r.body))
		return r
	}
	if out != nil && r.status < 300 {
		if err := json.Unmarshal(r.body, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, clip(r.body))
		}
	}
	return r
}

// do is send without extra headers.
func (c *contractClient) do(method, path, token string, body any, want int, out any) reply {
	c.t.Helper()
	return c.send(method, path, token, body, nil, want, out)
}

// routerError sends a request no operation documents (an unknown path or
// method) and checks the status, the code and that the body is an Error.
func (c *contractClient) routerError(method, path string, want int, code string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	c.requests++
	if err := c.v.checkError(res.Header.Get("Content-Type"), raw); err != nil {
		c.t.Errorf("contract: %s %s → %d: %v", method, path, res.StatusCode, err)
	}
	if res.StatusCode != want || errorCode(raw) != code {
		c.t.Errorf("%s %s: %d %s, want %d %s", method, path, res.StatusCode, clip(raw), want, code)
	}
}

// errorCode returns the code of an error body (either shape).
func errorCode(body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var code string
	if json.Unmarshal(e.Error, &code) == nil {
		return code
	}
	var inner struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(e.Error, &inner)
	return inner.Code
}

// wantCode checks an error answer's code.
func (c *contractClient) wantCode(r reply, code string) {
	c.t.Helper()
	if got := errorCode(r.body); got != code {
		c.t.Errorf("error code %q, want %q; body %s", got, code, clip(r.body))
	}
}

// registeredApp is a client registered through POST /api/v1/apps.
type registeredApp struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

var codeRE = regexp.MustCompile(`<code[^>]*>([^<]+)</code>`)

// authorizeForm opens the sign-in form and returns its hidden fields.
func (c *contractClient) authorizeForm(app registeredApp, scopes, verifier string) url.Values {
	c.t.Helper()
	conf := &oauth2.Config{ClientID: app.ClientID, RedirectURL: "urn:ietf:wg:oauth:2.0:oob", Scopes: strings.Fields(scopes),
		Endpoint: oauth2.Endpoint{AuthURL: c.base + "/oauth/authorize"}}
	u, err := url.Parse(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		c.t.Fatal(err)
	}
	page := c.do("GET", "/oauth/authorize?"+u.RawQuery, "", nil, http.StatusOK, nil)
	form := url.Values{}
	for _, m := range hiddenField.FindAllSubmatch(page.body, -1) {
		form.Set(string(m[1]), htmlUnescape(string(m[2])))
	}
	return form
}

// signIn signs a person in as a Mastodon client does — authorization
// page, form, code exchange with PKCE — every step validated.
func (c *contractClient) signIn(app registeredApp, login, password, scopes string) string {
	c.t.Helper()
	verifier := oauth2.GenerateVerifier()
	form := c.authorizeForm(app, scopes, verifier)
	form.Set("login", login)
	form.Set("password", password)
	form.Set("decision", "approve")
	done := c.do("POST", "/oauth/authorize", "", form, http.StatusOK, nil)
	code := codeRE.FindSubmatch(done.body)
	if code == nil {
		c.t.Fatalf("authorize: no code in %s", clip(done.body))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.do("POST", "/oauth/token", "", url.Values{"grant_type": {"authorization_code"},
		"code": {strings.TrimSpace(string(code[1]))}, "redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "code_verifier": {verifier}}, http.StatusOK, &tok)
	if tok.AccessToken == "" {
		c.t.Fatalf("sign-in of %s: no token", login)
	}
	return tok.AccessToken
}

// uploadWithoutFile is a multipart form with a description but no file.
func uploadWithoutFile(t *testing.T) multipartBody {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("description", "nothing attached"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return multipartBody{data: buf.Bytes(), contentType: w.FormDataContentType()}
}

// unknownID is a well-formed id nothing has.
const unknownID = "00000000-0000-4000-8000-000000000000"

// TestOpenAPIResponsesMatchTheServer drives a real server through the
// API's main flows — applications and sign-in, credentials, personal
// tokens, communities, posts, timelines, media, administration, erasure,
// rate limits — and validates every response, success or error, against
// internal/httpapi/openapi.json: an undocumented status, a missing
// documented header, an undocumented content type, a body that breaks its
// schema or has members the schema does not describe fails.
func TestOpenAPIResponsesMatchTheServer(t *testing.T) {
	const adminToken = "openapi-admin-token-0123456789"
	in := startServe(t, map[string]string{"HANSE_ADMIN_TOKEN": adminToken},
		"--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--media-max-mb", "1", "--post-rate", "25")
	waitReady(t, in.base)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &contractClient{t: t, base: in.base, v: loadResponseValidator(t), hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	defer func() {
		t.Logf("%d responses validated; operations and statuses covered:\n%s", c.requests, strings.Join(c.v.covered(), "\n"))
	}()
	big := func(field string) url.Values { return url.Values{field: {strings.Repeat("x", 1<<20+1)}} }

	// The document itself, and the OAuth metadata.
	c.do("GET", httpapi.OpenAPIPath, "", nil, http.StatusOK, nil)
	c.do("GET", "/.well-known/oauth-authorization-server", "", nil, http.StatusOK, nil)

	// Administration: accounts.
	const password = "correct horse battery staple"
	var fenna, lars, mia struct {
		ID       string `json:"id"`
		Password string `json:"password"`
	}
	c.do("POST", "/api/admin/accounts", adminToken, map[string]any{"username": "fenna", "email": "fenna@example.org",
		"password": password, "role": "facilitator", "display_name": "Fenna", "locale": "de"}, http.StatusCreated, &fenna)
	c.do("POST", "/api/admin/accounts", adminToken, map[string]any{"username": "lars", "email": "lars@example.org",
		"password": password}, http.StatusCreated, &lars)
	c.do("POST", "/api/admin/accounts", adminToken, map[string]any{"username": "mia", "email": "mia@example.org"},
		http.StatusCreated, &mia) // a generated password
	c.wantCode(c.do("POST", "/api/admin/accounts", adminToken, map[string]any{"username": "fenna",
		"email": "other@example.org", "password": password}, http.StatusConflict, nil), "username_taken")
	c.wantCode(c.do("POST", "/api/admin/accounts", adminToken, map[string]any{"username": "",
		"email": "x@example.org"}, http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/admin/accounts", "", map[string]any{"username": "x", "email": "x@example.org"},
		http.StatusUnauthorized, nil), "unauthorized")
	c.wantCode(c.do("POST", "/api/admin/accounts", adminToken, rawBody{"application/json", []byte(`{"username":`)},
		http.StatusBadRequest, nil), "bad_request")
	c.do("GET", "/api/admin/accounts?limit=2", adminToken, nil, http.StatusOK, nil)
	c.do("GET", "/api/admin/accounts?username=fenna", adminToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/admin/accounts?limit=0", adminToken, nil, http.StatusUnprocessableEntity, nil),
		"validation_failed")
	c.wantCode(c.do("GET", "/api/admin/accounts?after=nope", adminToken, nil, http.StatusUnprocessableEntity, nil),
		"validation_failed")
	c.do("GET", "/api/admin/accounts/"+fenna.ID, adminToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/admin/accounts/"+unknownID, adminToken, nil, http.StatusNotFound, nil), "not_found")
	c.do("POST", "/api/admin/accounts/"+mia.ID+"/role", adminToken, map[string]string{"role": "facilitator"},
		http.StatusOK, nil)
	c.wantCode(c.do("POST", "/api/admin/accounts/"+mia.ID+"/role", adminToken, map[string]string{"role": "pope"},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/admin/accounts/"+unknownID+"/role", adminToken, map[string]string{"role": "learner"},
		http.StatusNotFound, nil), "not_found")

	// Applications and sign-in.
	var app registeredApp
	c.do("POST", "/api/v1/apps", "", url.Values{"client_name": {"contract test"},
		"redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write follow"},
		"website": {"https://example.org/app"}}, http.StatusOK, &app)
	c.wantCode(c.do("POST", "/api/v1/apps", "", map[string]any{"client_name": "no redirect"},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/v1/apps", "", rawBody{"application/xml", []byte("<app/>")}, http.StatusBadRequest, nil),
		"bad_request")
	fennaToken := c.signIn(app, "fenna", password, "read write follow")
	larsToken := c.signIn(app, "lars", password, "read write")
	c.wantCode(c.do("POST", "/oauth/token", "", url.Values{"grant_type": {"authorization_code"}, "code": {"nonsense"},
		"redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
		"code_verifier": {oauth2.GenerateVerifier()}}, http.StatusBadRequest, nil), "invalid_grant")
	c.wantCode(c.do("POST", "/oauth/token", "", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.ClientID}, "client_secret": {"wrong"}}, http.StatusUnauthorized, nil), "invalid_client")
	c.wantCode(c.do("POST", "/oauth/token", "", url.Values{"grant_type": {"refresh_token"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}}, http.StatusBadRequest, nil), "unsupported_grant_type")
	c.wantCode(c.do("POST", "/oauth/token", "", url.Values{"client_id": {app.ClientID}}, http.StatusBadRequest, nil),
		"invalid_request")
	var appToken, writeApp struct {
		AccessToken string `json:"access_token"`
	}
	c.do("POST", "/oauth/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}, "scope": {"read"}}, http.StatusOK, &appToken)
	c.do("POST", "/oauth/token", "", map[string]string{"grant_type": "client_credentials", "client_id": app.ClientID,
		"client_secret": app.ClientSecret, "scope": "write"}, http.StatusOK, &writeApp) // JSON works too
	c.do("GET", "/api/v1/apps/verify_credentials", appToken.AccessToken, nil, http.StatusOK, nil)
	c.do("GET", "/api/v1/apps/verify_credentials", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/v1/apps/verify_credentials", "", nil, http.StatusUnauthorized, nil), "unauthorized")
	c.do("GET", "/oauth/userinfo", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("POST", "/oauth/userinfo", appToken.AccessToken, nil, http.StatusForbidden, nil), "user_required")
	c.wantCode(c.do("POST", "/oauth/userinfo", fennaToken, big("x"), http.StatusRequestEntityTooLarge, nil), "body_too_large")

	// The sign-in form's errors.
	c.do("GET", "/oauth/authorize?response_type=code&client_id=unknown&redirect_uri=urn:ietf:wg:oauth:2.0:oob",
		"", nil, http.StatusBadRequest, nil)
	form := c.authorizeForm(app, "read", oauth2.GenerateVerifier())
	form.Set("login", "fenna")
	form.Set("password", "not her password")
	form.Set("decision", "approve")
	c.do("POST", "/oauth/authorize", "", form, http.StatusUnauthorized, nil)

	// Sign-up (closed here).
	c.wantCode(c.do("POST", "/api/v1/accounts", writeApp.AccessToken, url.Values{"username": {"neu"},
		"email": {"neu@example.org"}, "password": {password}, "agreement": {"true"}, "locale": {"de"}},
		http.StatusForbidden, nil), "registrations_closed")
	c.wantCode(c.do("POST", "/api/v1/accounts", appToken.AccessToken, url.Values{"username": {"neu"}},
		http.StatusForbidden, nil), "insufficient_scope")

	// Credentials and password.
	c.do("GET", "/api/v1/accounts/verify_credentials", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/v1/accounts/verify_credentials", "", nil, http.StatusUnauthorized, nil), "unauthorized")
	c.wantCode(c.do("GET", "/api/v1/accounts/verify_credentials", "no-such-token-0123456789", nil,
		http.StatusUnauthorized, nil), "invalid_token")
	c.do("PATCH", "/api/v1/accounts/update_credentials", fennaToken, map[string]string{"display_name": "Fenna Deich",
		"note": "Imkerin am Deich"}, http.StatusOK, nil)
	c.do("PATCH", "/api/v1/accounts/update_credentials", fennaToken, url.Values{"display_name": {"Fenna D."},
		"source[language]": {"de"}}, http.StatusOK, nil)
	c.wantCode(c.do("PATCH", "/api/v1/accounts/update_credentials", fennaToken, map[string]string{
		"display_name": strings.Repeat("x", 101)}, http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("PATCH", "/api/v1/accounts/update_credentials", fennaToken, rawBody{"application/xml", []byte("<x/>")},
		http.StatusUnsupportedMediaType, nil), "unsupported_media_type")
	c.wantCode(c.do("PATCH", "/api/v1/accounts/update_credentials", appToken.AccessToken,
		map[string]string{"note": "x"}, http.StatusForbidden, nil), "insufficient_scope")
	c.wantCode(c.do("POST", "/api/hanse/v1/me/password", fennaToken, map[string]string{"current_password": "wrong password!",
		"new_password": "another horse battery"}, http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/me/password", fennaToken, map[string]string{"current_password": password,
		"new_password": "short"}, http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/me/password", writeApp.AccessToken, map[string]string{"current_password": "x",
		"new_password": "y"}, http.StatusForbidden, nil), "user_required")

	// Personal access tokens.
	var pat struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	c.do("POST", "/api/hanse/v1/me/tokens", fennaToken, map[string]any{"name": "backup script", "scopes": "read",
		"expires_in": 3600}, http.StatusCreated, &pat)
	c.wantCode(c.do("POST", "/api/hanse/v1/me/tokens", fennaToken, map[string]any{"name": "negative", "expires_in": -1},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/me/tokens", fennaToken, map[string]any{"name": "x", "unknown": true},
		http.StatusBadRequest, nil), "bad_request")
	c.do("GET", "/api/hanse/v1/me/tokens", fennaToken, nil, http.StatusOK, nil)
	c.do("GET", "/api/v1/accounts/verify_credentials", pat.AccessToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/v1/apps/verify_credentials", pat.AccessToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("POST", "/api/hanse/v1/communities", pat.AccessToken, map[string]any{"username": "nope",
		"name": "Nope"}, http.StatusForbidden, nil), "insufficient_scope")
	c.wantCode(c.do("GET", "/api/hanse/v1/me/tokens", appToken.AccessToken, nil, http.StatusForbidden, nil), "user_required")
	c.wantCode(c.do("POST", "/oauth/revoke", "", url.Values{"token": {pat.AccessToken}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}}, http.StatusForbidden, nil), "unauthorized_client")
	c.do("DELETE", "/api/hanse/v1/me/tokens/"+pat.ID, fennaToken, nil, http.StatusOK, nil)
	// A revoked token is no longer yours.
	c.wantCode(c.do("DELETE", "/api/hanse/v1/me/tokens/"+pat.ID, fennaToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("DELETE", "/api/hanse/v1/me/tokens/"+unknownID, fennaToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("GET", "/api/v1/accounts/verify_credentials", pat.AccessToken, nil, http.StatusUnauthorized, nil),
		"invalid_token")

	// Communities.
	var deich, zirkel struct {
		ID string `json:"id"`
	}
	comm := func(id string) string { return "/api/hanse/v1/communities/" + id }
	c.do("POST", "/api/hanse/v1/communities", fennaToken, map[string]any{"username": "imkerei",
		"name": "Imkerei am Deich", "description": "Bienen und Honig", "topics": []string{"bienen", "#Honig"},
		"languages": []string{"de"}, "location": map[string]any{"city": "Husum", "country": "de",
			"latitude": 54.48, "longitude": 9.05}}, http.StatusCreated, &deich)
	c.do("POST", "/api/hanse/v1/communities", fennaToken, map[string]any{"username": "lesezirkel",
		"name": "Lesezirkel", "policy": "invite", "visibility": "members"}, http.StatusCreated, &zirkel)
	c.wantCode(c.do("POST", "/api/hanse/v1/communities", "", map[string]any{"username": "anon", "name": "Anon"},
		http.StatusUnauthorized, nil), "unauthorized")
	c.wantCode(c.do("POST", "/api/hanse/v1/communities", larsToken, map[string]any{"username": "larsclub",
		"name": "Lars"}, http.StatusForbidden, nil), "forbidden_role")
	c.wantCode(c.do("POST", "/api/hanse/v1/communities", fennaToken, map[string]any{"username": "no spaces",
		"name": "X"}, http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/communities", fennaToken, map[string]any{"username": "imkerei",
		"name": "Again"}, http.StatusConflict, nil), "username_taken")
	c.wantCode(c.do("POST", "/api/hanse/v1/communities", fennaToken, rawBody{"text/plain", []byte("hello")},
		http.StatusUnsupportedMediaType, nil), "unsupported_media_type")
	c.wantCode(c.do("POST", "/api/hanse/v1/communities", fennaToken, map[string]any{"username": "big",
		"name": "Big", "description": strings.Repeat("x", 1<<20+1)}, http.StatusRequestEntityTooLarge, nil), "body_too_large")
	c.do("PATCH", comm(deich.ID), fennaToken, map[string]any{"description": "Bienen, Honig, Wachs"}, http.StatusOK, nil)
	c.do("PATCH", comm(deich.ID), fennaToken, rawBody{"application/json", []byte(`{"location":null}`)}, http.StatusOK, nil)
	c.wantCode(c.do("PATCH", comm(deich.ID), fennaToken, rawBody{"application/json", []byte(`{"location":{"planet":"mars"}}`)},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("PATCH", comm(deich.ID), fennaToken, map[string]any{"policy": "lottery"},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("PATCH", comm(deich.ID), larsToken, map[string]any{"name": "Mine"}, http.StatusForbidden, nil), "not_owner")
	c.wantCode(c.do("PATCH", comm(unknownID), fennaToken, map[string]any{"name": "x"}, http.StatusNotFound, nil), "not_found")
	c.do("GET", "/api/hanse/v1/communities", "", nil, http.StatusOK, nil)
	c.do("GET", "/api/hanse/v1/communities?topic=bienen&order=newest&limit=5", larsToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/hanse/v1/communities?limit=0", "", nil, http.StatusBadRequest, nil), "bad_request")
	c.wantCode(c.do("GET", "/api/hanse/v1/communities?order=random", "", nil, http.StatusBadRequest, nil), "bad_request")
	c.wantCode(c.do("GET", "/api/hanse/v1/communities?cursor=zzz", "", nil, http.StatusBadRequest, nil), "bad_request")
	c.do("GET", comm(deich.ID), fennaToken, nil, http.StatusOK, nil)
	c.do("GET", comm("imkerei"), "", nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", comm(zirkel.ID), larsToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("GET", comm("no-such-community"), "", nil, http.StatusNotFound, nil), "not_found")
	var joined struct {
		State string `json:"state"`
	}
	c.do("POST", comm(deich.ID)+"/members", larsToken, nil, http.StatusOK, &joined)
	c.do("POST", comm(deich.ID)+"/members", larsToken, nil, http.StatusOK, nil) // changes nothing
	c.wantCode(c.do("POST", comm(zirkel.ID)+"/members", larsToken, nil, http.StatusForbidden, nil), "not_invited")
	c.wantCode(c.do("POST", comm(unknownID)+"/members", larsToken, nil, http.StatusNotFound, nil), "not_found")
	c.do("GET", comm(deich.ID)+"/members", larsToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", comm(deich.ID)+"/members", "", nil, http.StatusUnauthorized, nil), "unauthorized")
	c.do("GET", comm(deich.ID)+"/members?state=all", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", comm(deich.ID)+"/members?state=all", larsToken, nil, http.StatusForbidden, nil), "not_facilitator")
	c.wantCode(c.do("GET", comm(deich.ID)+"/members?role=king", fennaToken, nil, http.StatusBadRequest, nil), "bad_request")
	c.wantCode(c.do("GET", comm("nope")+"/members", fennaToken, nil, http.StatusNotFound, nil), "not_found")
	c.do("POST", comm(zirkel.ID)+"/invitations", fennaToken, map[string]string{"member": lars.ID}, http.StatusCreated, nil)
	c.wantCode(c.do("POST", comm(zirkel.ID)+"/invitations", fennaToken, map[string]string{"member": ""},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", comm(zirkel.ID)+"/invitations", fennaToken, map[string]string{"member": "nobody"},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", comm(zirkel.ID)+"/invitations", larsToken, map[string]string{"member": mia.ID},
		http.StatusForbidden, nil), "not_facilitator")
	c.wantCode(c.do("POST", comm(deich.ID)+"/invitations", fennaToken, map[string]string{"member": lars.ID},
		http.StatusConflict, nil), "already_member")
	c.wantCode(c.do("POST", comm(unknownID)+"/invitations", fennaToken, map[string]string{"member": lars.ID},
		http.StatusNotFound, nil), "not_found")
	c.do("GET", comm(zirkel.ID), larsToken, nil, http.StatusOK, nil) // an invitee sees it
	c.do("POST", comm(zirkel.ID)+"/members", larsToken, nil, http.StatusOK, nil)
	c.do("DELETE", comm(zirkel.ID)+"/members/me", larsToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("DELETE", comm(zirkel.ID)+"/members/me", fennaToken, nil, http.StatusConflict, nil), "owner_cannot_leave")
	c.do("PUT", comm(deich.ID)+"/members/"+lars.ID+"/role", fennaToken, map[string]string{"role": "facilitator"},
		http.StatusOK, nil)
	c.do("PUT", comm(deich.ID)+"/members/"+lars.ID+"/role", fennaToken, map[string]string{"role": "member"}, http.StatusOK, nil)
	c.do("GET", comm(deich.ID)+"/audit", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", comm(deich.ID)+"/audit", larsToken, nil, http.StatusForbidden, nil), "not_facilitator")
	c.wantCode(c.do("GET", comm(deich.ID)+"/audit", "", nil, http.StatusUnauthorized, nil), "unauthorized")
	c.wantCode(c.do("GET", comm("nope")+"/audit", fennaToken, nil, http.StatusNotFound, nil), "not_found")

	// An approval community: requests, approval, rejection, bans.
	miaToken := c.signIn(app, "mia", mia.Password, "read write")
	var werkstatt struct {
		ID string `json:"id"`
	}
	c.do("POST", "/api/hanse/v1/communities", fennaToken, map[string]any{"username": "werkstatt", "name": "Werkstatt",
		"policy": "approval"}, http.StatusCreated, &werkstatt)
	w := comm(werkstatt.ID)
	c.do("POST", w+"/members", miaToken, nil, http.StatusOK, &joined)
	if joined.State != "requested" {
		t.Errorf("joining an approval community: state %q, want requested", joined.State)
	}
	c.do("POST", w+"/members", larsToken, nil, http.StatusOK, nil)
	c.do("GET", w+"/members?state=requested", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", w+"/members?state=bogus", fennaToken, nil, http.StatusBadRequest, nil), "bad_request")
	c.do("POST", w+"/members/"+mia.ID+"/approve", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("POST", w+"/members/"+mia.ID+"/approve", fennaToken, nil, http.StatusConflict, nil), "not_requested")
	c.wantCode(c.do("POST", w+"/members/"+lars.ID+"/approve", miaToken, nil, http.StatusForbidden, nil), "not_facilitator")
	c.wantCode(c.do("POST", comm(unknownID)+"/members/"+lars.ID+"/approve", fennaToken, nil, http.StatusNotFound, nil),
		"not_found")
	c.do("POST", w+"/members/"+lars.ID+"/reject", fennaToken, nil, http.StatusOK, nil)
	c.do("POST", w+"/members/"+lars.ID+"/ban", fennaToken, map[string]string{"reason": "spam"}, http.StatusOK, nil)
	c.wantCode(c.do("POST", w+"/members", larsToken, nil, http.StatusForbidden, nil), "banned")
	c.wantCode(c.do("POST", w+"/members/"+fenna.ID+"/ban", fennaToken, nil, http.StatusConflict, nil), "not_on_yourself")
	c.do("POST", w+"/members/"+url.PathEscape("https://remote.example/users/troll")+"/ban", fennaToken, nil,
		http.StatusOK, nil) // a remote actor's IRI, percent-encoded
	c.do("POST", w+"/members/"+lars.ID+"/unban", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("POST", w+"/members/"+lars.ID+"/unban", fennaToken, nil, http.StatusConflict, nil), "not_banned")
	c.wantCode(c.do("DELETE", w+"/members/me", larsToken, nil, http.StatusForbidden, nil), "not_member")
	c.wantCode(c.do("POST", w+"/members/"+lars.ID+"/remove", fennaToken, nil, http.StatusForbidden, nil), "not_member")
	c.do("POST", w+"/members/"+mia.ID+"/remove", fennaToken, map[string]string{"reason": "inactive"}, http.StatusOK, nil)
	c.wantCode(c.do("PUT", w+"/members/"+mia.ID+"/role", fennaToken, map[string]string{"role": "emperor"},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.do("GET", w+"/audit?limit=3", fennaToken, nil, http.StatusOK, nil)

	// Media.
	var media struct {
		ID string `json:"id"`
	}
	mediaPath := func(id string) string { return "/api/hanse/v1/media/" + id }
	c.do("POST", "/api/hanse/v1/media", fennaToken, upload(t, pngPixel, "wabe.png", "Eine Wabe"), http.StatusCreated, &media)
	c.do("GET", mediaPath(media.ID), "", nil, http.StatusOK, nil)
	c.do("HEAD", mediaPath(media.ID), "", nil, http.StatusOK, nil)
	c.send("GET", mediaPath(media.ID), "", nil, http.Header{"If-None-Match": {`"` + media.ID + `"`}}, http.StatusNotModified, nil)
	c.send("GET", mediaPath(media.ID), "", nil, http.Header{"Range": {"bytes=0-7"}}, http.StatusPartialContent, nil)
	c.send("GET", mediaPath(media.ID), "", nil, http.Header{"Range": {"bytes=99999-"}}, http.StatusRequestedRangeNotSatisfiable, nil)
	c.wantCode(c.do("GET", mediaPath("no-such-file"), "", nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("POST", "/api/hanse/v1/media", fennaToken, map[string]string{"file": "x"},
		http.StatusUnsupportedMediaType, nil), "unsupported_media_type")
	c.wantCode(c.do("POST", "/api/hanse/v1/media", fennaToken, upload(t, []byte("\x00\x01\x02binary"), "x.bin", ""),
		http.StatusUnsupportedMediaType, nil), "unsupported_media_type")
	c.wantCode(c.do("POST", "/api/hanse/v1/media", fennaToken, uploadWithoutFile(t), http.StatusUnprocessableEntity, nil),
		"validation_failed")
	tooBig := append(append([]byte{}, pngPixel...), bytes.Repeat([]byte{0}, 1<<20)...)
	c.wantCode(c.do("POST", "/api/hanse/v1/media", fennaToken, upload(t, tooBig, "big.png", ""),
		http.StatusRequestEntityTooLarge, nil), "media_too_large")
	c.wantCode(c.do("POST", "/api/hanse/v1/media", "", upload(t, pngPixel, "wabe.png", ""), http.StatusUnauthorized, nil),
		"unauthorized")

	// Posts.
	var note, article, reply1, secret struct {
		ID       string `json:"id"`
		Position uint64 `json:"position"`
	}
	post := func(id string) string { return "/api/hanse/v1/posts/" + id }
	c.do("POST", "/api/hanse/v1/posts", fennaToken, map[string]any{"community_id": deich.ID,
		"content": "Die Linden blühen #bienen", "language": "de", "media_ids": []string{media.ID},
		"descriptions": []string{"Eine Wabe im Licht"}}, http.StatusCreated, &note)
	articleBody := map[string]any{"kind": "Article", "language": "de", "summary": "Eine Anleitung",
		"name_map":    map[string]string{"de": "Honig schleudern", "en": "Extracting honey"},
		"content_map": map[string]string{"de": "Erst entdeckeln, dann schleudern.", "en": "Uncap first, then spin."}}
	once := http.Header{"Idempotency-Key": {"article-1"}}
	c.send("POST", "/api/hanse/v1/posts", larsToken, articleBody, once, http.StatusCreated, &article)
	var again struct {
		ID       string `json:"id"`
		Position uint64 `json:"position"`
	}
	c.send("POST", "/api/hanse/v1/posts", larsToken, articleBody, once, http.StatusCreated, &again)
	if again != article {
		t.Errorf("the same Idempotency-Key answered %+v, then %+v", article, again)
	}
	c.wantCode(c.send("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x"},
		http.Header{"Idempotency-Key": {strings.Repeat("k", 129)}}, http.StatusBadRequest, nil), "bad_request")
	c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"in_reply_to": note.ID, "content": "Bei uns auch!"},
		http.StatusCreated, &reply1)
	c.do("POST", "/api/hanse/v1/posts", fennaToken, map[string]any{"content": "@lars hallo", "visibility": "direct"},
		http.StatusCreated, nil)
	c.do("POST", "/api/hanse/v1/posts", fennaToken, map[string]any{"community_id": zirkel.ID, "content": "Nur für uns"},
		http.StatusCreated, &secret)
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": ""},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x", "visibility": "secret"},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x",
		"content_map": map[string]string{"de": "y"}}, http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x", "media_ids": []string{"nope"}},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x", "community_id": zirkel.ID},
		http.StatusForbidden, nil), "not_member")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x", "community_id": "nope"},
		http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x", "colour": "red"},
		http.StatusBadRequest, nil), "bad_request")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", appToken.AccessToken, map[string]any{"content": "x"},
		http.StatusForbidden, nil), "insufficient_scope")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", writeApp.AccessToken, map[string]any{"content": "x"},
		http.StatusForbidden, nil), "forbidden")
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x", "in_reply_to": unknownID},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.do("GET", post(note.ID), "", nil, http.StatusOK, nil)
	c.do("GET", post(article.ID), larsToken, nil, http.StatusOK, nil)
	c.do("GET", post(secret.ID), fennaToken, nil, http.StatusOK, nil) // the read model has it now
	// A post hidden from the caller answers as one that does not exist.
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": "x", "in_reply_to": secret.ID},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	c.wantCode(c.do("GET", post(secret.ID), larsToken, nil, http.StatusNotFound, nil), "not_found") // no longer a member
	c.wantCode(c.do("GET", post(unknownID), "", nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("GET", post(note.ID)+"?min_position=soon", "", nil, http.StatusBadRequest, nil), "bad_request")
	c.do("PATCH", post(note.ID), fennaToken, map[string]any{"content": "Die Linden blühen wieder #bienen",
		"language": "de"}, http.StatusOK, nil)
	c.wantCode(c.do("PATCH", post(note.ID), larsToken, map[string]any{"content": "Meins"}, http.StatusForbidden, nil),
		"not_author")
	c.wantCode(c.do("PATCH", post("nope"), fennaToken, map[string]any{"content": "x"}, http.StatusNotFound, nil), "not_found")
	c.do("POST", post(note.ID)+"/like", larsToken, nil, http.StatusOK, nil)
	c.do("POST", post(note.ID)+"/like", larsToken, nil, http.StatusOK, nil) // changes nothing
	c.do("DELETE", post(note.ID)+"/like", larsToken, nil, http.StatusOK, nil)
	c.do("DELETE", post(note.ID)+"/like", fennaToken, nil, http.StatusOK, nil) // a no-op without a like
	c.do("POST", post(note.ID)+"/like", larsToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("POST", post(secret.ID)+"/like", larsToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("POST", post("nope")+"/like", fennaToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("DELETE", post("nope")+"/like", fennaToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("DELETE", post(secret.ID)+"/like", larsToken, nil, http.StatusNotFound, nil), "not_found")
	c.do("GET", post(note.ID)+"/replies", "", nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", post(secret.ID)+"/replies", larsToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("GET", post(unknownID)+"/replies", "", nil, http.StatusNotFound, nil), "not_found")
	c.do("POST", post(note.ID)+"/pin", fennaToken, nil, http.StatusOK, nil)
	c.do("POST", post(note.ID)+"/pin", fennaToken, nil, http.StatusOK, nil) // changes nothing
	c.wantCode(c.do("POST", post(note.ID)+"/pin", larsToken, nil, http.StatusForbidden, nil), "not_facilitator")
	c.wantCode(c.do("POST", post(reply1.ID)+"/pin", fennaToken, nil, http.StatusConflict, nil), "not_thread_root")
	c.wantCode(c.do("POST", post("nope")+"/pin", fennaToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("POST", post(article.ID)+"/lock", fennaToken, nil, http.StatusConflict, nil), "not_in_community")
	c.wantCode(c.do("POST", post(reply1.ID)+"/lock", fennaToken, nil, http.StatusConflict, nil), "not_thread_root")
	c.do("POST", post(note.ID)+"/lock", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"in_reply_to": note.ID, "content": "Noch was"},
		http.StatusConflict, nil), "thread_locked")
	c.do("POST", post(note.ID)+"/unlock", fennaToken, nil, http.StatusOK, nil)
	c.do("POST", post(note.ID)+"/unlock", fennaToken, nil, http.StatusOK, nil) // changes nothing

	// Timelines.
	c.do("GET", "/api/hanse/v1/timelines/home?limit=5", larsToken, nil, http.StatusOK, nil)
	c.do("GET", "/api/hanse/v1/timelines/home?limit=1000", fennaToken, nil, http.StatusOK, nil) // lowered to the maximum
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/home", "", nil, http.StatusUnauthorized, nil), "unauthorized")
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/home?since_id=nope", fennaToken, nil, http.StatusBadRequest, nil),
		"bad_cursor")
	c.do("GET", "/api/hanse/v1/timelines/public", "", nil, http.StatusOK, nil)
	c.do("HEAD", "/api/hanse/v1/timelines/public", "", nil, http.StatusOK, nil)
	c.do("GET", "/api/hanse/v1/timelines/public?local=true&limit=1", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/public?limit=abc", "", nil, http.StatusBadRequest, nil), "bad_request")
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/public?local=maybe", "", nil, http.StatusBadRequest, nil), "bad_request")
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/public?max_id="+unknownID, "", nil, http.StatusBadRequest, nil),
		"bad_cursor")
	// An unknown token is refused even on a read that needs none (as on
	// Mastodon); without one the read is anonymous.
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/public", "no-such-token-0123456789", nil, http.StatusUnauthorized, nil),
		"invalid_token")
	c.wantCode(c.do("GET", post(note.ID), "no-such-token-0123456789", nil, http.StatusUnauthorized, nil), "invalid_token")
	c.wantCode(c.do("GET", "/api/v1/apps/verify_credentials", "no-such-token-0123456789", nil, http.StatusUnauthorized, nil),
		"invalid_token")
	c.do("GET", "/api/hanse/v1/timelines/tag/bienen", "", nil, http.StatusOK, nil)
	c.do("GET", "/api/hanse/v1/timelines/tag/%C3%A4%20b", "", nil, http.StatusOK, nil)
	c.do("GET", comm(deich.ID)+"/timeline", "", nil, http.StatusOK, nil)
	c.do("GET", comm(zirkel.ID)+"/timeline", larsToken, nil, http.StatusOK, nil) // nothing a non-member may see
	c.do("GET", comm(unknownID)+"/timeline", "", nil, http.StatusOK, nil)        // documented: an empty page
	c.do("GET", comm(deich.ID)+"/featured", larsToken, nil, http.StatusOK, nil)
	c.do("GET", comm("nope")+"/featured", "", nil, http.StatusOK, nil)

	// Unpin, remove and delete; the gone post answers 410.
	c.do("POST", post(note.ID)+"/unpin", fennaToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("POST", post(reply1.ID)+"/remove", larsToken, map[string]string{"reason": "x"},
		http.StatusForbidden, nil), "not_facilitator")
	c.do("POST", post(reply1.ID)+"/remove", fennaToken, map[string]string{"reason": "off topic"}, http.StatusOK, nil)
	c.wantCode(c.do("POST", post("nope")+"/remove", fennaToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("POST", post(reply1.ID)+"/like", fennaToken, nil, http.StatusGone, nil), "post_gone")
	c.wantCode(c.do("PATCH", post(reply1.ID), larsToken, map[string]any{"content": "edited"}, http.StatusGone, nil), "post_gone")
	c.wantCode(c.do("DELETE", post(note.ID), larsToken, nil, http.StatusForbidden, nil), "not_author")
	c.do("DELETE", post(article.ID), larsToken, nil, http.StatusOK, nil)
	c.wantCode(c.do("DELETE", post(article.ID), larsToken, nil, http.StatusGone, nil), "post_gone")
	c.wantCode(c.do("GET", post(article.ID), "", nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("DELETE", post(unknownID), larsToken, nil, http.StatusNotFound, nil), "not_found")

	// Unknown routes answer Errors too.
	c.routerError("GET", "/api/hanse/v1/nothing-here", http.StatusNotFound, "not_found")
	c.routerError("PUT", "/api/hanse/v1/posts", http.StatusMethodNotAllowed, "method_not_allowed")

	// Bodies beyond the cap: the router's Error, except on the OAuth
	// endpoints, which answer in their own formats.
	c.wantCode(c.do("POST", "/api/v1/apps", "", big("client_name"), http.StatusRequestEntityTooLarge, nil), "body_too_large")
	c.wantCode(c.do("POST", "/oauth/token", "", big("code"), http.StatusRequestEntityTooLarge, nil), "invalid_request")
	c.wantCode(c.do("POST", "/oauth/revoke", "", big("token"), http.StatusBadRequest, nil), "invalid_request")
	if r := c.do("POST", "/oauth/authorize", "", big("login"), http.StatusRequestEntityTooLarge, nil); !strings.HasPrefix(
		r.header.Get("Content-Type"), "text/html") {
		t.Errorf("an oversized sign-in form: Content-Type %q, want the HTML page", r.header.Get("Content-Type"))
	}

	// Administrative reads.
	for _, path := range []string{"/api/admin/activity?limit=5", "/api/admin/deliveries", "/api/admin/domain-blocks",
		"/api/admin/allowed-domains", "/api/admin/allowlist-mode", "/api/admin/reports"} {
		c.do("GET", path, adminToken, nil, http.StatusOK, nil)
	}
	c.wantCode(c.do("GET", "/api/admin/activity?limit=-1", adminToken, nil, http.StatusBadRequest, nil), "invalid_query")
	c.wantCode(c.do("GET", "/api/admin/accounts", fennaToken, nil, http.StatusForbidden, nil), "forbidden")
	c.wantCode(c.do("GET", "/api/admin/accounts", "not-the-admin-token", nil, http.StatusUnauthorized, nil), "unauthorized")

	// Rate limits answer 429 with Retry-After: publishing (--post-rate 25).
	limited := func(what string, next func(i int) reply) {
		t.Helper()
		for i := 0; i < 40; i++ {
			if r := next(i); r.status == http.StatusTooManyRequests {
				c.wantCode(r, "rate_limited")
				return
			}
		}
		t.Errorf("%s: no 429 after 40 requests", what)
	}
	limited("publishing", func(i int) reply {
		return c.do("POST", "/api/hanse/v1/posts", larsToken, map[string]any{"content": fmt.Sprintf("Nummer %d", i)},
			anyStatus, nil)
	})

	// Erasure: by the person (wrong password first), by an administrator.
	c.wantCode(c.do("POST", "/api/hanse/v1/me/erase", miaToken, map[string]string{"password": "not her password"},
		http.StatusUnprocessableEntity, nil), "validation_failed")
	if r := c.do("POST", "/api/hanse/v1/me/erase", miaToken, map[string]string{"password": mia.Password}, anyStatus,
		nil); r.status != http.StatusOK && r.status != http.StatusAccepted {
		t.Errorf("self-erasure: %d %s", r.status, r.body)
	}
	c.wantCode(c.do("GET", "/api/v1/accounts/verify_credentials", miaToken, nil, http.StatusUnauthorized, nil), "invalid_token")
	var erased struct {
		Erased bool `json:"erased"`
	}
	c.do("GET", "/api/admin/accounts/"+mia.ID, adminToken, nil, http.StatusOK, &erased)
	if !erased.Erased {
		t.Error("an erased account is not shown as erased")
	}
	if r := c.do("POST", "/api/admin/accounts/"+lars.ID+"/erase", adminToken, nil, anyStatus, nil); r.status != http.StatusOK &&
		r.status != http.StatusAccepted {
		t.Errorf("erasure by an administrator: %d %s", r.status, r.body)
	}
	c.wantCode(c.do("POST", "/api/admin/accounts/"+unknownID+"/erase", adminToken, nil, http.StatusNotFound, nil), "not_found")
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/home", larsToken, nil, http.StatusUnauthorized, nil), "invalid_token")

	// The OAuth token is revoked; errors of the revocation endpoint.
	c.wantCode(c.do("POST", "/oauth/revoke", "", url.Values{"client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}}, http.StatusBadRequest, nil), "invalid_request")
	c.wantCode(c.do("POST", "/oauth/revoke", "", url.Values{"token": {fennaToken}, "client_id": {app.ClientID},
		"client_secret": {"wrong"}}, http.StatusUnauthorized, nil), "invalid_client")
	c.do("POST", "/oauth/revoke", "", url.Values{"token": {fennaToken}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}}, http.StatusOK, nil)
	c.wantCode(c.do("GET", "/api/hanse/v1/timelines/home", fennaToken, nil, http.StatusUnauthorized, nil), "invalid_token")

	// Application registration is rate-limited too (10 in 5 minutes per
	// client address).
	limited("application registration", func(int) reply {
		return c.do("POST", "/api/v1/apps", "", map[string]any{"client_name": "flood",
			"redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}, anyStatus, nil)
	})
	if c.requests < 40 {
		t.Errorf("only %d requests validated", c.requests)
	}
}
