package httpapi

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/datakeys"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/secrets"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/accounts"
)

// acctIssuer fakes app.OAuth's IssueForAccount.
type acctIssuer struct {
	mu    sync.Mutex
	calls []string // "appID accountID"
}

func (i *acctIssuer) IssueForAccount(_ context.Context, appID, accountID string, scopes []string) (app.TokenResponse, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls = append(i.calls, appID+" "+accountID)
	return app.TokenResponse{AccessToken: "tok-" + accountID, TokenType: "Bearer", Scope: "read write follow", CreatedAt: 1_700_000_000}, nil
}

type acctPurger struct{ fail bool }

func (p *acctPurger) PurgeAccount(context.Context, string) error {
	if p.fail {
		return errors.New("media store unavailable")
	}
	return nil
}

// acctStack is the account routes over a real store, key store, accounts
// service and accounts projection. Bearer tokens map to principals.
type acctStack struct {
	srv        *httptest.Server
	acc        *app.Accounts
	keys       *datakeys.Store
	runner     *projections.Runner
	issuer     *acctIssuer
	purger     *acctPurger
	mu         sync.Mutex
	principals map[string]Principal
}

var acctKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(filepath.Join("..", "app", "testdata", "test-key-1.pem"))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	return k.(*rsa.PrivateKey), nil
})

func newAcctStack(t *testing.T, registrations bool) *acctStack {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ring, err := secrets.NewKeyring(bytes.Repeat([]byte{9}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := datakeys.Open(filepath.Join(dir, datakeys.FileName), ring)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	reg := events.NewRegistry()
	actorCmds := app.NewActors(store, reg, ring, "127.0.0.1:8080")
	actorCmds.Keys = acctKey
	s := &acctStack{keys: keys, issuer: &acctIssuer{}, purger: &acctPurger{}, principals: map[string]Principal{}}
	s.acc = app.NewAccounts(store, reg, actorCmds, keys, keys, ring.DeriveKey(app.EmailDigestPurpose), "127.0.0.1:8080")
	s.acc.Password = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	s.acc.Purgers = []app.AccountPurger{s.purger}

	s.runner, err = projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, accounts.New(keys))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.runner.Close() })

	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				s.mu.Lock()
				p, found := s.principals[tok]
				s.mu.Unlock()
				if found {
					r = r.WithContext(WithPrincipal(r.Context(), p))
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	s.srv = httptest.NewServer(NewRouter(Deps{
		Logger: quiet, AdminToken: adminTestToken,
		Admin: AdminAccountRoutes(s.acc, accounts.NewReader(s.runner.DB()), AwaitPosition(s.runner, accounts.Name, 0)),
		Mount: func(r chi.Router) {
			r.Group(func(r chi.Router) {
				r.Use(auth)
				AccountRoutes(AccountRoutesOptions{Accounts: s.acc, Tokens: s.issuer, Registrations: registrations,
					PublicURL: "http://127.0.0.1:8080/",
					ActorURL:  func(u string) string { return "http://127.0.0.1:8080/users/" + u },
					Counts: func(context.Context, string) (AccountCounts, error) {
						return AccountCounts{Followers: 3, Following: 2, Statuses: 7}, nil
					}})(r)
			})
		},
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// user registers an account and returns a bearer token acting for it with
// scopes.
func (s *acctStack) user(t *testing.T, username string, scopes ...string) (app.AccountInfo, string) {
	t.Helper()
	info, _, err := s.acc.Register(context.Background(), app.RegisterAccount{Username: username, Email: username + "@example.org",
		Password: "correct horse battery", Locale: "de"})
	if err != nil {
		t.Fatal(err)
	}
	return info, s.token(Principal{AccountID: info.ID, Username: info.Username, Role: info.Role, Scopes: scopes, AppID: "app-1"})
}

func (s *acctStack) token(p Principal) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := fmt.Sprintf("t%d", len(s.principals))
	s.principals[tok] = p
	return tok
}

type acctResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r acctResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// code is the error code of an error body.
func (r acctResponse) code(t *testing.T) string {
	t.Helper()
	var e ErrorBody
	_ = json.Unmarshal(r.body, &e)
	if e.Error.Field != "" {
		return e.Error.Code + ":" + e.Error.Field
	}
	return e.Error.Code
}

func (s *acctStack) do(t *testing.T, method, path, token, contentType string, body io.Reader) acctResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return acctResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *acctStack) json(t *testing.T, method, path, token, body string) acctResponse {
	t.Helper()
	return s.do(t, method, path, token, "application/json", strings.NewReader(body))
}

func TestVerifyCredentials(t *testing.T) {
	s := newAcctStack(t, false)
	alice, tok := s.user(t, "alice", "read")
	if _, err := s.acc.UpdateProfile(context.Background(), alice.ID, ptrTo("Alice <3"),
		ptrTo("Ich lerne <b>Töpfern</b>.\nUnd mehr.\n\nZweiter Absatz."), nil); err != nil {
		t.Fatal(err)
	}
	sch := oauthMastodonSchema(t, "CredentialAccount")
	r := s.do(t, http.MethodGet, VerifyCredentialsPath, tok, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	oauthValidate(t, sch, r.body)
	var got CredentialAccountJSON
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": alice.ID, "username": "alice", "acct": "alice", "display_name": "Alice <3",
		"note":   "<p>Ich lerne &lt;b&gt;Töpfern&lt;/b&gt;.<br>Und mehr.</p><p>Zweiter Absatz.</p>",
		"source": "Ich lerne <b>Töpfern</b>.\nUnd mehr.\n\nZweiter Absatz.", "lang": "de",
		"url": "http://127.0.0.1:8080/users/alice", "avatar": "http://127.0.0.1:8080" + DefaultAvatarPath,
		"counts": "3 2 7", "role": "learner 0",
	}
	gotMap := map[string]any{
		"id": got.ID, "username": got.Username, "acct": got.Acct, "display_name": got.DisplayName, "note": got.Note,
		"source": got.Source.Note, "lang": *got.Source.Language, "url": got.URL, "avatar": got.Avatar,
		"counts": fmt.Sprint(got.FollowersCount, got.FollowingCount, got.StatusesCount), "role": got.Role.Name + " " + got.Role.Permissions,
	}
	for k, v := range want {
		if gotMap[k] != v {
			t.Errorf("%s = %q, want %q", k, gotMap[k], v)
		}
	}
	if got.URI != got.URL || got.Position != 0 || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("uri %q, position %d, cache %q", got.URI, got.Position, r.header.Get("Cache-Control"))
	}

	appToken := s.token(Principal{AppID: "app-1", Scopes: []string{"read"}})
	writeOnly := s.token(Principal{AccountID: alice.ID, Scopes: []string{"write"}})
	narrow := s.token(Principal{AccountID: alice.ID, Scopes: []string{"read:accounts"}})
	for _, tc := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"no token", "", http.StatusUnauthorized, CodeUnauthorized},
		{"write scope only", writeOnly, http.StatusForbidden, CodeInsufficientScope},
		{"application token", appToken, http.StatusForbidden, CodeUserRequired},
		{"read:accounts suffices", narrow, http.StatusOK, ""},
	} {
		r := s.do(t, http.MethodGet, VerifyCredentialsPath, tc.token, "", nil)
		if r.status != tc.status || (tc.code != "" && r.code(t) != tc.code) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	if _, err := s.acc.Erase(context.Background(), alice.ID, account.ReasonAdmin, "admin-token"); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, http.MethodGet, VerifyCredentialsPath, tok, "", nil); r.status != http.StatusGone || r.code(t) != CodeAccountErased {
		t.Fatalf("erased account: %d %s", r.status, r.body)
	}
}

func ptrTo(s string) *string { return &s }

func TestUpdateCredentials(t *testing.T) {
	s := newAcctStack(t, false)
	alice, tok := s.user(t, "alice", "read", "write")
	sch := oauthMastodonSchema(t, "CredentialAccount")
	multipartBody := func(fields map[string]string) (string, io.Reader) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, v := range fields {
			if err := w.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return w.FormDataContentType(), &b
	}
	cases := []struct {
		name        string
		contentType string
		body        func() (string, io.Reader)
		wantName    string
		wantBio     string
		wantLocale  string
	}{
		{name: "form", body: func() (string, io.Reader) {
			return "application/x-www-form-urlencoded", strings.NewReader(url.Values{"display_name": {"Alice"}, "note": {"Bio 1"},
				"locked": {"true"}}.Encode())
		}, wantName: "Alice", wantBio: "Bio 1", wantLocale: "de"},
		{name: "multipart, language in source", body: func() (string, io.Reader) {
			return multipartBody(map[string]string{"note": "Bio 2", "source[language]": "en", "bot": "false"})
		}, wantName: "Alice", wantBio: "Bio 2", wantLocale: "en"},
		{name: "JSON with nested source and fields Hanse ignores", body: func() (string, io.Reader) {
			return "application/json", strings.NewReader(`{"display_name":"Alice B.","note":null,"locked":false,
				"fields_attributes":[{"name":"a","value":"b"}],"source":{"language":"pt-BR","privacy":"public"}}`)
		}, wantName: "Alice B.", wantBio: "Bio 2", wantLocale: "pt-BR"},
		{name: "JSON clears the bio", body: func() (string, io.Reader) {
			return "application/json", strings.NewReader(`{"note":""}`)
		}, wantName: "Alice B.", wantBio: "", wantLocale: "pt-BR"},
	}
	var last events.Position
	for _, tc := range cases {
		ct, body := tc.body()
		r := s.do(t, http.MethodPatch, UpdateCredentialsPath, tok, ct, body)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
		}
		oauthValidate(t, sch, r.body)
		var got CredentialAccountJSON
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != tc.wantName || got.Source.Note != tc.wantBio || got.Source.Language == nil || *got.Source.Language != tc.wantLocale {
			t.Fatalf("%s: %+v", tc.name, got)
		}
		if got.Position < last {
			t.Fatalf("%s: position %d before %d", tc.name, got.Position, last)
		}
		last = got.Position
	}
	if p, _ := s.acc.Profile(context.Background(), alice.ID); p.DisplayName != "Alice B." || p.Locale != "pt-BR" {
		t.Fatalf("profile = %+v", p)
	}
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"name too long", "application/json", `{"display_name":"` + strings.Repeat("x", 101) + `"}`, 422, "validation_failed:display_name"},
		{"note too long", "application/x-www-form-urlencoded", "note=" + strings.Repeat("x", 2001), 422, "validation_failed:note"},
		{"bad locale", "application/json", `{"locale":"de_DE"}`, 422, "validation_failed:locale"},
		{"malformed JSON", "application/json", `{"display_name":`, 400, CodeBadRequest},
		{"a number is taken as text", "application/json", `{"display_name":12}`, 200, ""},
		{"XML", "application/xml", `<a/>`, 415, CodeUnsupportedMedia},
	} {
		r := s.do(t, http.MethodPatch, UpdateCredentialsPath, tok, tc.contentType, strings.NewReader(tc.body))
		if r.status != tc.status || (tc.code != "" && r.code(t) != tc.code) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	readOnly := s.token(Principal{AccountID: alice.ID, Scopes: []string{"read"}})
	if r := s.do(t, http.MethodPatch, UpdateCredentialsPath, readOnly, "application/json", strings.NewReader(`{}`)); r.status != http.StatusForbidden {
		t.Fatalf("read-only token: %d", r.status)
	}
}

func TestRegisterAccount(t *testing.T) {
	closed := newAcctStack(t, false)
	appTok := closed.token(Principal{AppID: "app-1", Scopes: []string{"read", "write"}})
	if r := closed.json(t, http.MethodPost, RegisterAccountPath, appTok, `{}`); r.status != http.StatusForbidden || r.code(t) != CodeRegistrationsClosed {
		t.Fatalf("closed: %d %s", r.status, r.body)
	}

	s := newAcctStack(t, true)
	appTok = s.token(Principal{AppID: "app-1", Scopes: []string{"read", "write"}})
	_, userTok := s.user(t, "existing", "read", "write")
	readApp := s.token(Principal{AppID: "app-1", Scopes: []string{"read"}})
	sch := oauthMastodonSchema(t, "Token")
	form := func(mod func(url.Values)) string {
		v := url.Values{"username": {"newbie"}, "email": {"newbie@example.org"}, "password": {"correct horse battery"},
			"agreement": {"true"}, "locale": {"de"}}
		if mod != nil {
			mod(v)
		}
		return v.Encode()
	}
	for _, tc := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"account token", userTok, form(nil), 403, CodeAppTokenRequired},
		{"no token", "", form(nil), 401, CodeUnauthorized},
		{"app token without write", readApp, form(nil), 403, CodeInsufficientScope},
		{"no agreement", appTok, form(func(v url.Values) { v.Del("agreement") }), 422, "validation_failed:agreement"},
		{"agreement false", appTok, form(func(v url.Values) { v.Set("agreement", "false") }), 422, "validation_failed:agreement"},
		{"bad e-mail", appTok, form(func(v url.Values) { v.Set("email", "newbie") }), 422, "validation_failed:email"},
		{"short password", appTok, form(func(v url.Values) { v.Set("password", "short") }), 422, "validation_failed:password"},
		{"reserved username", appTok, form(func(v url.Values) { v.Set("username", "admin") }), 422, "validation_failed:username"},
		{"taken username", appTok, form(func(v url.Values) { v.Set("username", "Existing") }), 409, CodeUsernameTaken},
		{"taken e-mail", appTok, form(func(v url.Values) { v.Set("email", "EXISTING@example.org") }), 409, CodeEmailTaken},
	} {
		r := s.do(t, http.MethodPost, RegisterAccountPath, tc.token, "application/x-www-form-urlencoded", strings.NewReader(tc.body))
		if r.status != tc.status || r.code(t) != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	r := s.do(t, http.MethodPost, RegisterAccountPath, appTok, "application/x-www-form-urlencoded", strings.NewReader(form(nil)))
	if r.status != http.StatusOK {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	oauthValidate(t, sch, r.body)
	var got RegisterAccountResponse
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	info, err := s.acc.Authenticate(context.Background(), "newbie@example.org", "correct horse battery")
	if err != nil || info.Role != account.Learner {
		t.Fatalf("the new account: %+v, %v", info, err)
	}
	if got.AccessToken != "tok-"+info.ID || got.TokenType != "Bearer" || got.Position == 0 {
		t.Fatalf("token answer %+v", got)
	}
	if fmt.Sprint(s.issuer.calls) != fmt.Sprint([]string{"app-1 " + info.ID}) {
		t.Fatalf("issuer calls %v", s.issuer.calls)
	}
	// JSON works too.
	r = s.json(t, http.MethodPost, RegisterAccountPath, appTok,
		`{"username":"jsonuser","email":"json@example.org","password":"correct horse battery","agreement":true}`)
	if r.status != http.StatusOK {
		t.Fatalf("JSON sign-up: %d %s", r.status, r.body)
	}
}

func TestChangePasswordAndErase(t *testing.T) {
	s := newAcctStack(t, false)
	alice, tok := s.user(t, "alice", "read", "write")
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"wrong current password", `{"current_password":"nope nope nope","new_password":"new password 123"}`, 422, "validation_failed:current_password"},
		{"short new password", `{"current_password":"correct horse battery","new_password":"short"}`, 422, "validation_failed:new_password"},
		{"unknown field", `{"current_password":"correct horse battery","new_password":"new password 123","x":1}`, 400, CodeBadRequest},
	} {
		if r := s.json(t, http.MethodPost, MyPasswordPath, tok, tc.body); r.status != tc.status || r.code(t) != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	r := s.json(t, http.MethodPost, MyPasswordPath, tok, `{"current_password":"correct horse battery","new_password":"new password 123"}`)
	if r.status != http.StatusOK || r.json(t)["position"].(float64) <= 0 {
		t.Fatalf("change password: %d %s", r.status, r.body)
	}
	if _, err := s.acc.Authenticate(context.Background(), "alice", "new password 123"); err != nil {
		t.Fatalf("new password: %v", err)
	}

	if r := s.json(t, http.MethodPost, MyErasurePath, tok, `{"password":"correct horse battery"}`); r.status != 422 || r.code(t) != "validation_failed:password" {
		t.Fatalf("erase with the old password: %d %s", r.status, r.body)
	}
	r = s.json(t, http.MethodPost, MyErasurePath, tok, `{"password":"new password 123"}`)
	if r.status != http.StatusOK || r.json(t)["complete"] != true || r.json(t)["position"].(float64) <= 0 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	if info, err := s.acc.Info(context.Background(), alice.ID); !errors.Is(err, app.ErrAccountErased) || !info.Erased {
		t.Fatalf("after erase: %+v, %v", info, err)
	}
	if r := s.json(t, http.MethodPost, MyErasurePath, tok, `{"password":"new password 123"}`); r.status != http.StatusGone {
		t.Fatalf("erase twice: %d %s", r.status, r.body)
	}

	// A failing clean-up step: the erasure is recorded, 202, not complete.
	_, bobTok := s.user(t, "bob", "write")
	s.purger.fail = true
	r = s.json(t, http.MethodPost, MyErasurePath, bobTok, `{"password":"correct horse battery"}`)
	if r.status != http.StatusAccepted || r.json(t)["complete"] != false {
		t.Fatalf("erase with a failing purger: %d %s", r.status, r.body)
	}
}

func TestDefaultImages(t *testing.T) {
	s := newAcctStack(t, false)
	for _, path := range []string{DefaultAvatarPath, DefaultHeaderPath} {
		r := s.do(t, http.MethodGet, path, "", "", nil)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
		if _, err := png.Decode(bytes.NewReader(r.body)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
}

func TestAdminAccounts(t *testing.T) {
	s := newAcctStack(t, false)
	admin := func(method, path, body string) acctResponse {
		t.Helper()
		return s.json(t, method, AdminAccountsPath+path, adminTestToken, body)
	}
	if r := s.json(t, http.MethodGet, AdminAccountsPath, "", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("without token: %d", r.status)
	}
	r := admin(http.MethodPost, "", `{"username":"Carla","email":"carla@example.org","role":"facilitator","display_name":"Carla"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created CreateAccountResponse
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	if len(created.Password) != 24 || created.Username != "carla" || created.Role != "facilitator" {
		t.Fatalf("created %+v", created)
	}
	if info, err := s.acc.Authenticate(context.Background(), "carla", created.Password); err != nil || info.ID != created.ID {
		t.Fatalf("the generated password does not sign in: %v", err)
	}
	r = admin(http.MethodPost, "", `{"username":"dora","email":"dora@example.org","password":"given password 1"}`)
	if r.status != http.StatusCreated || r.json(t)["password"] != nil || r.json(t)["role"] != "learner" {
		t.Fatalf("create with password: %d %s", r.status, r.body)
	}
	dora := r.json(t)["id"].(string)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad role", http.MethodPost, "", `{"username":"eve","email":"eve@example.org","role":"king"}`, 422, "validation_failed:role"},
		{"taken", http.MethodPost, "", `{"username":"dora","email":"dora2@example.org"}`, 409, CodeUsernameTaken},
		{"unknown field", http.MethodPost, "", `{"username":"eve","email":"eve@example.org","admin":true}`, 400, CodeBadRequest},
		{"limit 0", http.MethodGet, "?limit=0", "", 422, "validation_failed:limit"},
		{"unknown cursor", http.MethodGet, "?after=nope", "", 422, "validation_failed:after"},
		{"unknown account", http.MethodGet, "/nope", "", 404, CodeNotFound},
		{"role of unknown account", http.MethodPost, "/nope/role", `{"role":"learner"}`, 404, CodeNotFound},
		{"bad role change", http.MethodPost, "/" + dora + "/role", `{"role":"root"}`, 422, "validation_failed:role"},
		{"erase unknown", http.MethodPost, "/nope/erase", "", 404, CodeNotFound},
	} {
		if r := admin(tc.method, tc.path, tc.body); r.status != tc.status || r.code(t) != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}

	r = admin(http.MethodPost, "/"+dora+"/role", `{"role":"institution_admin"}`)
	if r.status != http.StatusOK || r.json(t)["role"] != "institution_admin" {
		t.Fatalf("role: %d %s", r.status, r.body)
	}
	pos := int64(r.json(t)["position"].(float64))

	// The list reads the projection: wait for the role change.
	r = admin(http.MethodGet, fmt.Sprintf("?limit=1&min_position=%d", pos), "")
	var page AdminAccountListJSON
	if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 || len(page.Items) != 1 || page.Items[0].Username != "carla" ||
		page.Items[0].DisplayName != "Carla" || page.Next == "" {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	r = admin(http.MethodGet, "?limit=1&after="+page.Next, "")
	page = AdminAccountListJSON{}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Items) != 1 || page.Items[0].Role != "institution_admin" || page.Next != "" {
		t.Fatalf("second page: %s", r.body)
	}
	r = admin(http.MethodGet, "?username=DORA", "")
	page = AdminAccountListJSON{}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Items) != 1 || page.Items[0].ID != dora {
		t.Fatalf("by username: %s", r.body)
	}
	r = admin(http.MethodGet, "?username=nobody", "")
	page = AdminAccountListJSON{}
	if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 || len(page.Items) != 0 {
		t.Fatalf("unknown username: %s", r.body)
	}

	r = admin(http.MethodGet, "/"+created.ID, "")
	if r.status != http.StatusOK || r.json(t)["email"] != "carla@example.org" || r.json(t)["erased"] != false {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = admin(http.MethodPost, "/"+created.ID+"/erase", "")
	if r.status != http.StatusOK || r.json(t)["complete"] != true {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	erasedAt := r.json(t)["position"]
	r = admin(http.MethodGet, "/"+created.ID, "")
	if r.status != http.StatusOK || r.json(t)["erased"] != true || r.json(t)["email"] != nil || r.json(t)["display_name"] != "" {
		t.Fatalf("get erased: %d %s", r.status, r.body)
	}
	if r := admin(http.MethodPost, "/"+created.ID+"/erase", ""); r.status != http.StatusOK || r.json(t)["position"] != erasedAt {
		t.Fatalf("erase again: %d %s", r.status, r.body)
	}
	r = admin(http.MethodGet, fmt.Sprintf("?username=carla&min_position=%d", int64(erasedAt.(float64))), "")
	page = AdminAccountListJSON{}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Items) != 1 || !page.Items[0].Erased || page.Items[0].DisplayName != "" {
		t.Fatalf("erased in the list: %s", r.body)
	}
}
