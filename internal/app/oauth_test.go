package app_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/oauth"
)

// fakeAccounts is an in-memory AccountAuthenticator.
type fakeAccounts struct {
	mu        sync.Mutex
	accounts  map[string]app.AccountInfo
	passwords map[string]string // login → password
	infoErr   error
	infoCalls atomic.Int64
}

func newFakeAccounts() *fakeAccounts {
	return &fakeAccounts{
		accounts: map[string]app.AccountInfo{
			"a1": {ID: "a1", Username: "alice", Role: account.Learner},
			"a2": {ID: "a2", Username: "bob", Role: account.InstanceAdmin},
		},
		passwords: map[string]string{"alice": "correct horse"},
	}
}

func (f *fakeAccounts) Authenticate(_ context.Context, login, password string) (app.AccountInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.passwords[login]; ok && p == password {
		for _, a := range f.accounts {
			if a.Username == login && !a.Erased {
				return a, nil
			}
		}
	}
	return app.AccountInfo{}, app.ErrInvalidCredentials
}

func (f *fakeAccounts) Info(_ context.Context, id string) (app.AccountInfo, error) {
	f.infoCalls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.infoErr != nil {
		return app.AccountInfo{}, f.infoErr
	}
	a, ok := f.accounts[id]
	if !ok {
		return app.AccountInfo{}, app.ErrAccountNotFound
	}
	return a, nil
}

func (f *fakeAccounts) set(id string, mod func(*app.AccountInfo)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.accounts[id]
	mod(&a)
	f.accounts[id] = a
}

type oauthEnv struct {
	*env
	o        *app.OAuth
	accounts *fakeAccounts
	mu       sync.Mutex
	now      time.Time
}

func newOAuthEnv(t *testing.T) *oauthEnv {
	t.Helper()
	e := &oauthEnv{env: newEnv(t), accounts: newFakeAccounts(), now: t0}
	e.o = app.NewOAuth(e.store, e.reg, e.accounts, "hanse.example")
	e.o.Clock = func() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
	return e
}

func (e *oauthEnv) advance(d time.Duration) { e.mu.Lock(); e.now = e.now.Add(d); e.mu.Unlock() }

const cb = "https://tusky.example/cb"

var (
	verifier  = strings.Repeat("abcdefgh", 6) // 48 characters
	challenge = oauth.S256(verifier)
)

func (e *oauthEnv) register(scopes ...string) app.OAuthAppCredentials {
	e.t.Helper()
	creds, pos, err := e.o.RegisterApp(e.ctx, app.RegisterOAuthApp{Name: "Tusky", Website: "https://tusky.example",
		RedirectURIs: []string{cb + " " + oauth.OOB}, Scopes: scopes})
	if err != nil || pos == 0 {
		e.t.Fatalf("RegisterApp: %v (position %d)", err, pos)
	}
	return creds
}

func (e *oauthEnv) code(creds app.OAuthAppCredentials, accountID string, pkce bool) string {
	e.t.Helper()
	in := app.OAuthAuthorization{ClientID: creds.ClientID, RedirectURI: cb, Scopes: []string{"read"}}
	if pkce {
		in.CodeChallenge, in.CodeChallengeMethod = challenge, "S256"
	}
	code, _, err := e.o.IssueCode(e.ctx, accountID, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// rawStream returns the concatenated payloads of a stream as stored.
func (e *oauthEnv) rawStream(stream string) []byte {
	e.t.Helper()
	envs, err := e.store.ReadStream(e.ctx, stream, events.ReadStreamOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var b []byte
	for _, env := range envs {
		b = append(b, env.Data...)
		b = append(b, '\n')
	}
	return b
}

func TestOAuthRegisterApp(t *testing.T) {
	e := newOAuthEnv(t)
	creds := e.register("read", "write:statuses")
	if creds.ClientID == "" || len(creds.ClientSecret) != 43 || creds.Name != "Tusky" ||
		strings.Join(creds.RedirectURIs, ",") != cb+","+oauth.OOB || strings.Join(creds.Scopes, " ") != "read write:statuses" {
		t.Fatalf("credentials = %+v", creds)
	}
	payloads, _ := e.read(oauth.AppStream(creds.ClientID))
	if len(payloads) != 1 {
		t.Fatalf("stream = %+v", payloads)
	}
	ev := payloads[0].(oauth.AppRegistered)
	if ev.SecretHash != oauth.Hash(creds.ClientSecret) {
		t.Errorf("secret hash %q is not the hash of the secret", ev.SecretHash)
	}
	if bytes.Contains(e.rawStream(oauth.AppStream(creds.ClientID)), []byte(creds.ClientSecret)) {
		t.Error("the client secret is stored in the clear")
	}
	got, err := e.o.App(e.ctx, creds.ClientID)
	if err != nil || got.Name != "Tusky" || got.Website != "https://tusky.example" {
		t.Fatalf("App = %+v, %v", got, err)
	}
	for _, id := range []string{"nope", "", "a b", strings.Repeat("x", 300)} {
		if _, err := e.o.App(e.ctx, id); !errors.Is(err, app.ErrOAuthAppNotFound) {
			t.Errorf("App(%q) err = %v", id, err)
		}
	}
	if _, err := e.o.AuthenticateClient(e.ctx, creds.ClientID, creds.ClientSecret); err != nil {
		t.Errorf("AuthenticateClient: %v", err)
	}
	if _, err := e.o.AuthenticateClient(e.ctx, creds.ClientID, creds.ClientSecret+"x"); !errors.Is(err, app.ErrOAuthInvalidClient) {
		t.Errorf("wrong secret: %v", err)
	}
	_, _, err = e.o.RegisterApp(e.ctx, app.RegisterOAuthApp{Name: "x", RedirectURIs: []string{"not a uri"}})
	var ve *app.ValidationError
	if !errors.As(err, &ve) || ve.Field != "redirect_uris" {
		t.Fatalf("bad redirect URI: %v", err)
	}
}

func TestOAuthCodeFlow(t *testing.T) {
	e := newOAuthEnv(t)
	creds := e.register("read", "write")
	code := e.code(creds, "a1", true)
	codeStream := oauth.CodeStream(oauth.Hash(code))

	tok, err := e.o.RedeemCode(e.ctx, app.RedeemOAuthCode{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		RedirectURI: cb, Code: code, CodeVerifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.Scope != "read" || tok.CreatedAt != t0.Unix() || tok.Position == 0 || len(tok.AccessToken) != 43 {
		t.Fatalf("token = %+v", tok)
	}
	payloads, _ := e.read(codeStream)
	if len(payloads) != 2 || payloads[1].(oauth.CodeRedeemed).TokenHash != oauth.Hash(tok.AccessToken) {
		t.Fatalf("code stream = %+v", payloads)
	}
	tokenStream := oauth.TokenStream(oauth.Hash(tok.AccessToken))
	for _, secret := range []string{code, tok.AccessToken, verifier} {
		if bytes.Contains(e.rawStream(codeStream), []byte(secret)) || bytes.Contains(e.rawStream(tokenStream), []byte(secret)) {
			t.Errorf("%q stored in the clear", secret)
		}
	}

	// The token works at once, read from the store.
	g, err := e.o.Verify(e.ctx, tok.AccessToken)
	want := app.OAuthGrant{TokenID: tok.TokenID, ClientID: creds.ClientID, AccountID: "a1", Username: "alice",
		Role: account.Learner, Scopes: []string{"read"}}
	if err != nil || g.TokenID != want.TokenID || g.ClientID != want.ClientID || g.AccountID != "a1" || g.Username != "alice" ||
		g.Role != account.Learner || strings.Join(g.Scopes, " ") != "read" {
		t.Fatalf("Verify = %+v, %v; want %+v", g, err, want)
	}

	// A replayed code is refused and revokes the token it gave.
	_, err = e.o.RedeemCode(e.ctx, app.RedeemOAuthCode{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		RedirectURI: cb, Code: code, CodeVerifier: verifier})
	var oe *app.OAuthError
	if !errors.Is(err, app.ErrOAuthInvalidGrant) || !errors.Is(err, oauth.ErrCodeRedeemed) || !errors.As(err, &oe) ||
		oe.Description != "authorization code already used" {
		t.Fatalf("replay: err = %v", err)
	}
	if _, err := e.o.Verify(e.ctx, tok.AccessToken); !errors.Is(err, app.ErrOAuthInvalidToken) {
		t.Fatalf("token of a replayed code still works: %v", err)
	}
}

func TestOAuthRedeemRefusals(t *testing.T) {
	e := newOAuthEnv(t)
	creds := e.register("read")
	other := e.register("read")
	cases := []struct {
		name    string
		pkce    bool
		mod     func(*app.RedeemOAuthCode)
		before  func()
		wantErr error
	}{
		{name: "wrong secret", mod: func(r *app.RedeemOAuthCode) { r.ClientSecret = "nope" }, wantErr: app.ErrOAuthInvalidClient},
		{name: "unknown client", mod: func(r *app.RedeemOAuthCode) { r.ClientID = "nope" }, wantErr: app.ErrOAuthInvalidClient},
		{name: "another client's code", mod: func(r *app.RedeemOAuthCode) { r.ClientID, r.ClientSecret = other.ClientID, other.ClientSecret },
			wantErr: oauth.ErrCodeClientMismatch},
		{name: "no code", mod: func(r *app.RedeemOAuthCode) { r.Code = "" }, wantErr: app.ErrOAuthInvalidRequest},
		{name: "unknown code", mod: func(r *app.RedeemOAuthCode) { r.Code = "nope" }, wantErr: oauth.ErrCodeNotFound},
		{name: "other redirect URI", mod: func(r *app.RedeemOAuthCode) { r.RedirectURI = oauth.OOB }, wantErr: oauth.ErrRedirectURIMismatch},
		{name: "expired", before: func() { e.advance(app.DefaultOAuthCodeTTL) }, wantErr: oauth.ErrCodeExpired},
		{name: "PKCE mismatch", pkce: true, mod: func(r *app.RedeemOAuthCode) { r.CodeVerifier = strings.Repeat("z", 43) },
			wantErr: oauth.ErrVerifierMismatch},
		{name: "PKCE verifier missing", pkce: true, mod: func(r *app.RedeemOAuthCode) { r.CodeVerifier = "" }, wantErr: oauth.ErrVerifierMissing},
		{name: "verifier without challenge", mod: func(r *app.RedeemOAuthCode) { r.CodeVerifier = verifier }, wantErr: oauth.ErrVerifierUnexpected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := e.code(creds, "a1", tc.pkce)
			in := app.RedeemOAuthCode{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, RedirectURI: cb, Code: code}
			if tc.pkce {
				in.CodeVerifier = verifier
			}
			if tc.mod != nil {
				tc.mod(&in)
			}
			if tc.before != nil {
				tc.before()
			}
			_, err := e.o.RedeemCode(e.ctx, in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var oe *app.OAuthError
			if !errors.As(err, &oe) || oe.Description == "" {
				t.Fatalf("err = %#v, want an OAuthError with a description", err)
			}
		})
	}
}

func TestOAuthCodeRedeemableOnceUnderConcurrency(t *testing.T) {
	e := newOAuthEnv(t)
	creds := e.register("read")
	code := e.code(creds, "a1", false)
	var wins, grants atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.o.RedeemCode(e.ctx, app.RedeemOAuthCode{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
				RedirectURI: cb, Code: code})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, app.ErrOAuthInvalidGrant):
				grants.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || grants.Load() != 7 {
		t.Fatalf("%d redemptions succeeded, %d refused; want 1 and 7", wins.Load(), grants.Load())
	}
}

func TestOAuthAuthorizationChecks(t *testing.T) {
	e := newOAuthEnv(t)
	creds := e.register("read", "write:statuses")
	cases := []struct {
		name    string
		in      app.OAuthAuthorization
		want    string
		wantErr error
	}{
		{name: "default scope", in: app.OAuthAuthorization{ClientID: creds.ClientID, RedirectURI: cb}, want: "read"},
		{name: "unknown client", in: app.OAuthAuthorization{ClientID: "nope", RedirectURI: cb}, wantErr: app.ErrOAuthAppNotFound},
		{name: "unregistered redirect URI", in: app.OAuthAuthorization{ClientID: creds.ClientID, RedirectURI: "https://evil.example/"},
			wantErr: app.ErrOAuthRedirectURI},
		{name: "scope not granted", in: app.OAuthAuthorization{ClientID: creds.ClientID, RedirectURI: cb, Scopes: []string{"write"}},
			wantErr: app.ErrOAuthInvalidScope},
		{name: "plain PKCE", in: app.OAuthAuthorization{ClientID: creds.ClientID, RedirectURI: cb, CodeChallenge: verifier,
			CodeChallengeMethod: "plain"}, wantErr: app.ErrOAuthInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, scopes, err := e.o.CheckAuthorization(e.ctx, tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (a.ClientID != creds.ClientID || strings.Join(scopes, " ") != tc.want) {
				t.Fatalf("got %+v %v", a, scopes)
			}
			if tc.wantErr != nil {
				if _, _, err := e.o.IssueCode(e.ctx, "a1", tc.in); !errors.Is(err, tc.wantErr) {
					t.Fatalf("IssueCode err = %v, want %v", err, tc.wantErr)
				}
			}
		})
	}
}

func TestOAuthAppAndAccountTokens(t *testing.T) {
	e := newOAuthEnv(t)
	creds := e.register("read", "write:accounts")

	if _, err := e.o.ClientCredentials(e.ctx, creds.ClientID, "wrong", nil); !errors.Is(err, app.ErrOAuthInvalidClient) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := e.o.ClientCredentials(e.ctx, creds.ClientID, creds.ClientSecret, []string{"write"}); !errors.Is(err, app.ErrOAuthInvalidScope) {
		t.Fatalf("scope not granted: %v", err)
	}
	appTok, err := e.o.ClientCredentials(e.ctx, creds.ClientID, creds.ClientSecret, []string{"write:accounts"})
	if err != nil || appTok.Scope != "write:accounts" {
		t.Fatalf("ClientCredentials = %+v, %v", appTok, err)
	}
	calls := e.accounts.infoCalls.Load()
	g, err := e.o.Verify(e.ctx, appTok.AccessToken)
	if err != nil || g.AccountID != "" || g.ClientID != creds.ClientID || g.Role != "" {
		t.Fatalf("app token grant = %+v, %v", g, err)
	}
	if e.accounts.infoCalls.Load() != calls {
		t.Error("an app token looked up an account")
	}

	// Registration through the app: a token for the new account with the
	// app's scopes.
	userTok, err := e.o.IssueForAccount(e.ctx, creds.ClientID, "a2", nil)
	if err != nil || userTok.Scope != "read write:accounts" {
		t.Fatalf("IssueForAccount = %+v, %v", userTok, err)
	}
	if g, err := e.o.Verify(e.ctx, userTok.AccessToken); err != nil || g.AccountID != "a2" || g.Role != account.InstanceAdmin {
		t.Fatalf("grant = %+v, %v", g, err)
	}
	if _, err := e.o.IssueForAccount(e.ctx, "nope", "a2", nil); !errors.Is(err, app.ErrOAuthAppNotFound) {
		t.Fatalf("unknown app: %v", err)
	}
}

func TestOAuthRevoke(t *testing.T) {
	e := newOAuthEnv(t)
	creds := e.register("read")
	other := e.register("read")
	tok, err := e.o.IssueForAccount(e.ctx, creds.ClientID, "a1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.Verify(e.ctx, tok.AccessToken); err != nil { // cached now
		t.Fatal(err)
	}
	if err := e.o.Revoke(e.ctx, creds.ClientID, "wrong", tok.AccessToken); !errors.Is(err, app.ErrOAuthInvalidClient) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := e.o.Revoke(e.ctx, other.ClientID, other.ClientSecret, tok.AccessToken); !errors.Is(err, app.ErrOAuthUnauthorizedClient) {
		t.Fatalf("other client: %v", err)
	}
	if err := e.o.Revoke(e.ctx, creds.ClientID, creds.ClientSecret, "unknown-token"); err != nil {
		t.Fatalf("unknown token: %v", err)
	}
	if err := e.o.Revoke(e.ctx, creds.ClientID, creds.ClientSecret, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.Verify(e.ctx, tok.AccessToken); !errors.Is(err, app.ErrOAuthInvalidToken) || !errors.Is(err, oauth.ErrTokenRevoked) {
		t.Fatalf("revoked token verified (the cache was not evicted?): %v", err)
	}
	if err := e.o.Revoke(e.ctx, creds.ClientID, creds.ClientSecret, tok.AccessToken); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
}

func TestOAuthPersonalTokens(t *testing.T) {
	e := newOAuthEnv(t)
	exp := t0.Add(time.Hour)
	pat, err := e.o.IssuePersonalToken(e.ctx, "a1", "CLI", []string{"read", "write:statuses"}, &exp)
	if err != nil || pat.Scope != "read write:statuses" || pat.ExpiresAt == nil || !pat.ExpiresAt.Equal(exp) {
		t.Fatalf("PAT = %+v, %v", pat, err)
	}
	g, err := e.o.Verify(e.ctx, pat.AccessToken)
	if err != nil || g.ClientID != "" || g.AccountID != "a1" {
		t.Fatalf("grant = %+v, %v", g, err)
	}
	_, err = e.o.IssuePersonalToken(e.ctx, "a1", "", nil, nil)
	var ve *app.ValidationError
	if !errors.As(err, &ve) || ve.Field != "name" {
		t.Fatalf("no name: %v", err)
	}
	hash := oauth.Hash(pat.AccessToken)
	if _, err := e.o.RevokeOwned(e.ctx, hash, "a2"); !errors.Is(err, app.ErrOAuthNotTokenOwner) {
		t.Fatalf("revoke by another account: %v", err)
	}
	if _, err := e.o.RevokeOwned(e.ctx, oauth.Hash("nope"), "a1"); !errors.Is(err, app.ErrOAuthTokenNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}

	// Expiry applies to cached grants too.
	e.advance(time.Hour)
	if _, err := e.o.Verify(e.ctx, pat.AccessToken); !errors.Is(err, app.ErrOAuthInvalidToken) {
		t.Fatalf("expired token verified: %v", err)
	}

	other, err := e.o.IssuePersonalToken(e.ctx, "a1", "other", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.Verify(e.ctx, other.AccessToken); err != nil {
		t.Fatal(err)
	}
	pos, err := e.o.RevokeOwned(e.ctx, oauth.Hash(other.AccessToken), "a1")
	if err != nil || pos == 0 {
		t.Fatalf("RevokeOwned = %d, %v", pos, err)
	}
	if _, err := e.o.Verify(e.ctx, other.AccessToken); !errors.Is(err, app.ErrOAuthInvalidToken) {
		t.Fatalf("revoked PAT verified: %v", err)
	}
	if pos, err := e.o.RevokeOwned(e.ctx, oauth.Hash(other.AccessToken), "a1"); err != nil || pos != 0 {
		t.Fatalf("revoking twice = %d, %v", pos, err)
	}
}

func TestOAuthVerifyAccountsAndCache(t *testing.T) {
	e := newOAuthEnv(t)
	tok, err := e.o.IssuePersonalToken(e.ctx, "a1", "CLI", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := e.o.Verify(e.ctx, tok.AccessToken); err != nil || g.Role != account.Learner {
		t.Fatalf("Verify = %+v, %v", g, err)
	}
	// Within the cache's lifetime the old role is served without a lookup.
	e.accounts.set("a1", func(a *app.AccountInfo) { a.Role = account.Facilitator })
	calls := e.accounts.infoCalls.Load()
	if g, _ := e.o.Verify(e.ctx, tok.AccessToken); g.Role != account.Learner || e.accounts.infoCalls.Load() != calls {
		t.Fatalf("not served from the cache: %+v", g)
	}
	// ForgetAccount applies the change at once…
	e.o.ForgetAccount("a1")
	if g, _ := e.o.Verify(e.ctx, tok.AccessToken); g.Role != account.Facilitator {
		t.Fatalf("after ForgetAccount role = %s", g.Role)
	}
	// …and otherwise the cache expires.
	e.accounts.set("a1", func(a *app.AccountInfo) { a.Role = account.InstanceAdmin })
	e.advance(app.DefaultOAuthCacheTTL)
	if g, _ := e.o.Verify(e.ctx, tok.AccessToken); g.Role != account.InstanceAdmin {
		t.Fatalf("after the cache TTL role = %s", g.Role)
	}

	// An erased account's tokens stop working.
	e.accounts.set("a1", func(a *app.AccountInfo) { a.Erased = true })
	e.o.ForgetAccount("a1")
	if _, err := e.o.Verify(e.ctx, tok.AccessToken); !errors.Is(err, app.ErrOAuthInvalidToken) {
		t.Fatalf("erased account's token: %v", err)
	}
	// A token of an unknown account too.
	ghost, err := e.o.IssuePersonalToken(e.ctx, "ghost", "x", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.Verify(e.ctx, ghost.AccessToken); !errors.Is(err, app.ErrOAuthInvalidToken) {
		t.Fatalf("unknown account's token: %v", err)
	}
	// A failure of the accounts is not an invalid token.
	e.accounts.set("a1", func(a *app.AccountInfo) { a.Erased = false })
	e.accounts.infoErr = errors.New("database down")
	if _, err := e.o.Verify(e.ctx, tok.AccessToken); err == nil || errors.Is(err, app.ErrOAuthInvalidToken) {
		t.Fatalf("accounts failure: %v", err)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("x", 5000), "a b\x00"} {
		if _, err := e.o.Verify(e.ctx, bad); !errors.Is(err, app.ErrOAuthInvalidToken) {
			t.Errorf("Verify(%q) = %v", bad, err)
		}
	}
}
