package httpapi

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/projectiontest"
	"github.com/hanse-network/hanse/projections/tokens"
)

// oauthFakeAccounts is an in-memory app.AccountAuthenticator.
type oauthFakeAccounts struct {
	mu       sync.Mutex
	byID     map[string]app.AccountInfo
	password map[string]string // username → password
	fail     error
}

func newOAuthFakeAccounts() *oauthFakeAccounts {
	return &oauthFakeAccounts{
		byID: map[string]app.AccountInfo{
			"a1": {ID: "a1", Username: "alice", Role: account.Learner},
			"a2": {ID: "a2", Username: "root", Role: account.InstanceAdmin},
		},
		password: map[string]string{"alice": "alice-password", "root": "root-password"},
	}
}

func (f *oauthFakeAccounts) Authenticate(_ context.Context, login, password string) (app.AccountInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return app.AccountInfo{}, f.fail
	}
	for _, a := range f.byID {
		if a.Username == login && f.password[login] == password && !a.Erased {
			return a, nil
		}
	}
	return app.AccountInfo{}, app.ErrInvalidCredentials
}

func (f *oauthFakeAccounts) Info(_ context.Context, id string) (app.AccountInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.byID[id]
	if !ok {
		return app.AccountInfo{}, app.ErrAccountNotFound
	}
	return a, nil
}

// oauthEnv is a router with the OAuth routes over a real embedded store,
// the tokens read model, and a route guarded by RequireScope("read").
type oauthEnv struct {
	t        *testing.T
	srv      *httptest.Server
	o        *app.OAuth
	accounts *oauthFakeAccounts
	runner   *projections.Runner
	store    events.Store
}

const oauthProtectedPath = "/api/test/protected"

func newOAuthEnv(t *testing.T, mod func(*OAuthDeps)) *oauthEnv {
	t.Helper()
	pe := projectiontest.Open(t)
	e := &oauthEnv{t: t, accounts: newOAuthFakeAccounts(), store: pe.Store}
	e.o = app.NewOAuth(pe.Store, events.NewRegistry(), e.accounts, "hanse.example")
	e.runner = pe.Runner("read.db", tokens.New())
	var handler http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	deps := OAuthDeps{OAuth: e.o, Accounts: e.accounts, PublicURL: e.srv.URL, Tokens: tokens.NewReader(e.runner.DB()),
		Waiter: e.runner, FormKey: []byte("0123456789abcdef0123456789abcdef")}
	if mod != nil {
		mod(&deps)
	}
	handler = NewRouter(Deps{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:   BearerAuth(e.o),
		Mount: func(r chi.Router) {
			OAuthRoutes(deps)(r)
			r.With(RequireScope("read")).Get(oauthProtectedPath, func(w http.ResponseWriter, r *http.Request) {
				p, _ := PrincipalFrom(r.Context())
				WriteJSON(w, http.StatusOK, map[string]any{"account": p.AccountID, "app": p.AppID, "scopes": p.Scopes})
			})
		},
	})
	return e
}

// browser returns a client with a cookie jar that does not follow
// redirects.
func (e *oauthEnv) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type oauthResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r oauthResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return m
}

func (e *oauthEnv) send(c *http.Client, req *http.Request) oauthResponse {
	e.t.Helper()
	if c == nil {
		c = e.srv.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return oauthResponse{status: res.StatusCode, header: res.Header, body: b}
}

func (e *oauthEnv) request(method, path, contentType string, body string, header ...string) *http.Request {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func (e *oauthEnv) postForm(path string, form url.Values, header ...string) oauthResponse {
	e.t.Helper()
	return e.send(nil, e.request("POST", path, "application/x-www-form-urlencoded", form.Encode(), header...))
}

func (e *oauthEnv) postJSON(path, body string, header ...string) oauthResponse {
	e.t.Helper()
	return e.send(nil, e.request("POST", path, "application/json", body, header...))
}

func (e *oauthEnv) get(path string, header ...string) oauthResponse {
	e.t.Helper()
	return e.send(nil, e.request("GET", path, "", "", header...))
}

func oauthBearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// registerApp registers an application over HTTP and returns its id and
// secret.
func (e *oauthEnv) registerApp(redirect, scopes string) (clientID, secret string) {
	e.t.Helper()
	res := e.postForm("/api/v1/apps", url.Values{"client_name": {"Test App"}, "redirect_uris": {redirect}, "scopes": {scopes},
		"website": {"https://app.example"}})
	if res.status != http.StatusOK {
		e.t.Fatalf("POST /api/v1/apps = %d %s", res.status, res.body)
	}
	m := res.json(e.t)
	return m["client_id"].(string), m["client_secret"].(string)
}

var oauthHiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// oauthHiddenFields extracts the hidden inputs of an HTML form.
func oauthHiddenFields(page []byte) url.Values {
	v := url.Values{}
	for _, m := range oauthHiddenInput.FindAllStringSubmatch(string(page), -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// oauthMastodonSchema compiles a schema of Mastodon's OpenAPI document in
// ../shared (skipping the test when it is not there).
func oauthMastodonSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "schemas", "mastodon-api", "openapi.json")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("Mastodon OpenAPI document not found at %s (expected ../shared beside the repository): %v", path, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("mastodon.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mastodon.json#/components/schemas/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func oauthValidate(t *testing.T, s *jsonschema.Schema, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("%s\ndoes not validate: %v", body, err)
	}
}

func oauthDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
}

func oauthPos(p events.Position) string { return strconv.FormatUint(uint64(p), 10) }
