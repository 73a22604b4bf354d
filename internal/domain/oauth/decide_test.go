package oauth_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/internal/domain/oauth"
)

var (
	t0       = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	verifier = strings.Repeat("v", 20) + "-._~" + strings.Repeat("0", 25) // 49 characters
	chal     = oauth.S256(verifier)

	registered = oauth.AppRegistered{ClientID: "c1", Name: "Tusky", Website: "https://tusky.example",
		RedirectURIs: []string{"https://tusky.example/cb", oauth.OOB}, Scopes: []string{"read", "write:statuses", "follow"},
		SecretHash: oauth.Hash("secret")}
	issued = oauth.CodeIssued{CodeHash: "h1", ClientID: "c1", AccountID: "a1", RedirectURI: "https://tusky.example/cb",
		Scopes: []string{"read"}, CodeChallenge: chal, CodeChallengeMethod: oauth.MethodS256, ExpiresAt: t0.Add(10 * time.Minute)}
	issuedNoPKCE = func() oauth.CodeIssued { c := issued; c.CodeChallenge, c.CodeChallengeMethod = "", ""; return c }()
	redeemed     = oauth.CodeRedeemed{TokenID: "t0", TokenHash: "th0"}
	userToken    = oauth.TokenIssued{TokenID: "t1", TokenHash: "th1", ClientID: "c1", AccountID: "a1", Scopes: []string{"read"}}
	pat          = oauth.TokenIssued{TokenID: "t2", TokenHash: "th2", AccountID: "a1", Scopes: []string{"read"}, Name: "CLI"}
	revoked      = oauth.TokenRevoked{TokenID: "t1", Reason: oauth.RevokedByOwner}
)

func app(t *testing.T, given ...any) oauth.App {
	t.Helper()
	a, err := oauth.FoldApp(given...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func code(t *testing.T, given ...any) oauth.Code {
	t.Helper()
	c, err := oauth.FoldCode(given...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func token(t *testing.T, given ...any) oauth.Token {
	t.Helper()
	tk, err := oauth.FoldToken(given...)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// check compares a decision's outcome: a field error on wantField, an
// error matching wantErr, or the wanted event.
func check(t *testing.T, got any, err error, want any, wantErr error, wantField string) {
	t.Helper()
	var fe *oauth.FieldError
	switch {
	case wantField != "":
		if !errors.As(err, &fe) || fe.Field != wantField {
			t.Fatalf("err = %v, want a FieldError on %s", err, wantField)
		}
	case wantErr != nil:
		if !errors.Is(err, wantErr) {
			t.Fatalf("err = %v, want %v", err, wantErr)
		}
	default:
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
	}
}

func TestRegisterApp(t *testing.T) {
	base := oauth.NewApp{ClientID: "c1", SecretHash: oauth.Hash("secret"), Name: " Tusky ", Website: "https://tusky.example",
		RedirectURIs: []string{"https://tusky.example/cb\n" + oauth.OOB}, Scopes: []string{"read write:statuses", "follow read"}}
	with := func(mod func(*oauth.NewApp)) oauth.NewApp { in := base; mod(&in); return in }
	cases := []struct {
		name      string
		given     []any
		in        oauth.NewApp
		want      oauth.AppRegistered
		wantErr   error
		wantField string
	}{
		{name: "registers, splitting and de-duplicating", in: base, want: registered},
		{name: "default scope read, no website, custom scheme",
			in: with(func(in *oauth.NewApp) {
				in.Scopes, in.Website, in.RedirectURIs = nil, "", []string{"org.joinmastodon.app://callback"}
			}),
			want: oauth.AppRegistered{ClientID: "c1", Name: "Tusky", RedirectURIs: []string{"org.joinmastodon.app://callback"},
				Scopes: []string{"read"}, SecretHash: oauth.Hash("secret")}},
		{name: "already registered", given: []any{registered}, in: base, wantErr: oauth.ErrAppExists},
		{name: "no name", in: with(func(in *oauth.NewApp) { in.Name = "  " }), wantField: "client_name"},
		{name: "name too long", in: with(func(in *oauth.NewApp) { in.Name = strings.Repeat("ä", 61) }), wantField: "client_name"},
		{name: "control character", in: with(func(in *oauth.NewApp) { in.Name = "a\x07b" }), wantField: "client_name"},
		{name: "website not http", in: with(func(in *oauth.NewApp) { in.Website = "javascript:alert(1)" }), wantField: "website"},
		{name: "no redirect URI", in: with(func(in *oauth.NewApp) { in.RedirectURIs = []string{" "} }), wantField: "redirect_uris"},
		{name: "relative redirect URI", in: with(func(in *oauth.NewApp) { in.RedirectURIs = []string{"/cb"} }), wantField: "redirect_uris"},
		{name: "fragment", in: with(func(in *oauth.NewApp) { in.RedirectURIs = []string{"https://a.example/cb#x"} }), wantField: "redirect_uris"},
		{name: "javascript scheme", in: with(func(in *oauth.NewApp) { in.RedirectURIs = []string{"javascript:alert(1)"} }), wantField: "redirect_uris"},
		{name: "http without host", in: with(func(in *oauth.NewApp) { in.RedirectURIs = []string{"https:///cb"} }), wantField: "redirect_uris"},
		{name: "unknown scope", in: with(func(in *oauth.NewApp) { in.Scopes = []string{"read everything"} }), wantField: "scopes"},
		{name: "no client id", in: with(func(in *oauth.NewApp) { in.ClientID = "" }), wantField: "client_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oauth.RegisterApp(app(t, tc.given...), tc.in)
			check(t, got, err, tc.want, tc.wantErr, tc.wantField)
		})
	}
}

func TestCheckAuthorization(t *testing.T) {
	req := func(redirect, scopes, challenge, method string) oauth.AuthorizationRequest {
		return oauth.AuthorizationRequest{RedirectURI: redirect, Scopes: oauth.ParseScopes(scopes),
			CodeChallenge: challenge, CodeChallengeMethod: method}
	}
	cb := "https://tusky.example/cb"
	cases := []struct {
		name    string
		given   []any
		in      oauth.AuthorizationRequest
		want    []string
		wantErr error
	}{
		{name: "PKCE, default scope", given: []any{registered}, in: req(cb, "", chal, "S256"), want: []string{"read"}},
		{name: "narrower scopes granted by broader ones", given: []any{registered},
			in: req(oauth.OOB, "read:statuses write:statuses follow", "", ""), want: []string{"read:statuses", "write:statuses", "follow"}},
		{name: "unknown application", in: req(cb, "", "", ""), wantErr: oauth.ErrAppNotFound},
		{name: "redirect URI not registered", given: []any{registered}, in: req("https://evil.example/cb", "", "", ""),
			wantErr: oauth.ErrRedirectURINotRegistered},
		{name: "redirect URI prefix of a registered one", given: []any{registered}, in: req("https://tusky.example/c", "", "", ""),
			wantErr: oauth.ErrRedirectURINotRegistered},
		{name: "scope not granted to the app", given: []any{registered}, in: req(cb, "read write", "", ""),
			wantErr: oauth.ErrScopeNotGranted},
		{name: "admin scope not granted", given: []any{registered}, in: req(cb, "admin:read", "", ""), wantErr: oauth.ErrInvalidScope},
		{name: "unknown scope", given: []any{registered}, in: req(cb, "read:everything", "", ""), wantErr: oauth.ErrUnknownScope},
		{name: "plain refused", given: []any{registered}, in: req(cb, "", verifier, "plain"), wantErr: oauth.ErrChallengeMethod},
		{name: "challenge without method means plain", given: []any{registered}, in: req(cb, "", chal, ""), wantErr: oauth.ErrChallengeMethod},
		{name: "method without challenge", given: []any{registered}, in: req(cb, "", "", "S256"), wantErr: oauth.ErrChallengeMissing},
		{name: "malformed challenge", given: []any{registered}, in: req(cb, "", chal[:42]+"=", "S256"), wantErr: oauth.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oauth.CheckAuthorization(app(t, tc.given...), tc.in)
			check(t, got, err, tc.want, tc.wantErr, "")
		})
	}
}

func TestIssueCode(t *testing.T) {
	in := oauth.NewCode{CodeHash: "h1", AccountID: "a1", ExpiresAt: issued.ExpiresAt,
		AuthorizationRequest: oauth.AuthorizationRequest{RedirectURI: issued.RedirectURI, CodeChallenge: chal, CodeChallengeMethod: "S256"}}
	with := func(mod func(*oauth.NewCode)) oauth.NewCode { c := in; mod(&c); return c }
	cases := []struct {
		name      string
		app       []any
		code      []any
		in        oauth.NewCode
		want      oauth.CodeIssued
		wantErr   error
		wantField string
	}{
		{name: "issues with PKCE", app: []any{registered}, in: in, want: issued},
		{name: "issues without PKCE", app: []any{registered},
			in: with(func(c *oauth.NewCode) { c.CodeChallenge, c.CodeChallengeMethod = "", "" }), want: issuedNoPKCE},
		{name: "code exists", app: []any{registered}, code: []any{issued}, in: in, wantErr: oauth.ErrCodeExists},
		{name: "no account", app: []any{registered}, in: with(func(c *oauth.NewCode) { c.AccountID = "" }), wantField: "code"},
		{name: "unknown app", in: in, wantErr: oauth.ErrAppNotFound},
		{name: "redirect URI not registered", app: []any{registered},
			in: with(func(c *oauth.NewCode) { c.RedirectURI = "https://evil.example/" }), wantErr: oauth.ErrRedirectURINotRegistered},
		{name: "scope not granted", app: []any{registered},
			in: with(func(c *oauth.NewCode) { c.Scopes = []string{"write"} }), wantErr: oauth.ErrScopeNotGranted},
		{name: "plain PKCE refused", app: []any{registered},
			in: with(func(c *oauth.NewCode) { c.CodeChallenge, c.CodeChallengeMethod = verifier, "plain" }), wantErr: oauth.ErrChallengeMethod},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oauth.IssueCode(app(t, tc.app...), code(t, tc.code...), tc.in)
			check(t, got, err, tc.want, tc.wantErr, tc.wantField)
		})
	}
}

func TestRedeemCode(t *testing.T) {
	ok := oauth.Redemption{ClientID: "c1", RedirectURI: "https://tusky.example/cb", CodeVerifier: verifier,
		Now: t0.Add(time.Minute), TokenID: "t1", TokenHash: "th1"}
	with := func(mod func(*oauth.Redemption)) oauth.Redemption { r := ok; mod(&r); return r }
	type outcome struct {
		Redeemed oauth.CodeRedeemed
		Token    oauth.TokenIssued
	}
	cases := []struct {
		name    string
		given   []any
		in      oauth.Redemption
		want    outcome
		wantErr error
	}{
		{name: "redeems with the right verifier", given: []any{issued}, in: ok,
			want: outcome{oauth.CodeRedeemed{TokenID: "t1", TokenHash: "th1"}, userToken}},
		{name: "redeems without PKCE", given: []any{issuedNoPKCE}, in: with(func(r *oauth.Redemption) { r.CodeVerifier = "" }),
			want: outcome{oauth.CodeRedeemed{TokenID: "t1", TokenHash: "th1"}, userToken}},
		{name: "unknown code", in: ok, wantErr: oauth.ErrCodeNotFound},
		{name: "redeemed twice", given: []any{issued, redeemed}, in: ok, wantErr: oauth.ErrCodeRedeemed},
		{name: "expired", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.Now = issued.ExpiresAt }), wantErr: oauth.ErrCodeExpired},
		{name: "other client", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.ClientID = "c2" }), wantErr: oauth.ErrCodeClientMismatch},
		{name: "other redirect URI", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.RedirectURI = oauth.OOB }),
			wantErr: oauth.ErrRedirectURIMismatch},
		{name: "PKCE mismatch", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.CodeVerifier = strings.Repeat("x", 43) }),
			wantErr: oauth.ErrVerifierMismatch},
		{name: "challenge given as verifier", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.CodeVerifier = chal }),
			wantErr: oauth.ErrVerifierMismatch},
		{name: "verifier missing", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.CodeVerifier = "" }),
			wantErr: oauth.ErrVerifierMissing},
		{name: "verifier too short", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.CodeVerifier = verifier[:42] }),
			wantErr: oauth.ErrVerifierMalformed},
		{name: "verifier too long", given: []any{issued}, in: with(func(r *oauth.Redemption) { r.CodeVerifier = strings.Repeat("a", 129) }),
			wantErr: oauth.ErrVerifierMalformed},
		{name: "verifier with a forbidden character", given: []any{issued},
			in: with(func(r *oauth.Redemption) { r.CodeVerifier = strings.Repeat("a", 42) + "+" }), wantErr: oauth.ErrVerifierMalformed},
		{name: "verifier without challenge", given: []any{issuedNoPKCE}, in: ok, wantErr: oauth.ErrVerifierUnexpected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, tk, err := oauth.RedeemCode(code(t, tc.given...), tc.in)
			check(t, outcome{r, tk}, err, tc.want, tc.wantErr, "")
			if tc.wantErr != nil && !errors.Is(err, oauth.ErrInvalidGrant) {
				t.Errorf("err = %v, not an invalid grant", err)
			}
		})
	}
}

func TestIssueTokens(t *testing.T) {
	later := t0.Add(24 * time.Hour)
	appToken := oauth.TokenIssued{TokenID: "t3", TokenHash: "th3", ClientID: "c1", Scopes: []string{"read"}}
	cases := []struct {
		name      string
		personal  bool
		app       []any
		token     []any
		in        oauth.NewToken
		want      oauth.TokenIssued
		wantErr   error
		wantField string
	}{
		{name: "client credentials, default scope", app: []any{registered},
			in: oauth.NewToken{TokenID: "t3", TokenHash: "th3", Now: t0}, want: appToken},
		{name: "account token after registration", app: []any{registered},
			in:   oauth.NewToken{TokenID: "t1", TokenHash: "th1", AccountID: "a1", Scopes: []string{"read"}, Now: t0},
			want: userToken},
		{name: "app token scope not granted", app: []any{registered},
			in: oauth.NewToken{TokenID: "t3", TokenHash: "th3", Scopes: []string{"read", "write:accounts"}, Now: t0}, wantErr: oauth.ErrScopeNotGranted},
		{name: "app token of an unknown app", in: oauth.NewToken{TokenID: "t3", TokenHash: "th3", Now: t0}, wantErr: oauth.ErrAppNotFound},
		{name: "token stream taken", app: []any{registered}, token: []any{userToken},
			in: oauth.NewToken{TokenID: "t3", TokenHash: "th1", Now: t0}, wantErr: oauth.ErrTokenExists},
		{name: "personal access token", personal: true,
			in:   oauth.NewToken{TokenID: "t2", TokenHash: "th2", AccountID: "a1", Name: " CLI ", Now: t0},
			want: pat},
		{name: "personal token with expiry and admin scope", personal: true,
			in: oauth.NewToken{TokenID: "t2", TokenHash: "th2", AccountID: "a1", Name: "CLI", Scopes: []string{"admin:read"},
				ExpiresAt: &later, Now: t0},
			want: oauth.TokenIssued{TokenID: "t2", TokenHash: "th2", AccountID: "a1", Name: "CLI", Scopes: []string{"admin:read"}, ExpiresAt: &later}},
		{name: "personal token without name", personal: true,
			in: oauth.NewToken{TokenID: "t2", TokenHash: "th2", AccountID: "a1", Now: t0}, wantField: "name"},
		{name: "personal token with unknown scope", personal: true,
			in: oauth.NewToken{TokenID: "t2", TokenHash: "th2", AccountID: "a1", Name: "x", Scopes: []string{"root"}, Now: t0}, wantField: "scopes"},
		{name: "personal token expiring in the past", personal: true,
			in: oauth.NewToken{TokenID: "t2", TokenHash: "th2", AccountID: "a1", Name: "x", ExpiresAt: &t0, Now: t0}, wantField: "expires_at"},
		{name: "personal token without account", personal: true,
			in: oauth.NewToken{TokenID: "t2", TokenHash: "th2", Name: "x", Now: t0}, wantField: "account"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got oauth.TokenIssued
			var err error
			if tc.personal {
				got, err = oauth.IssuePersonalToken(token(t, tc.token...), tc.in)
			} else {
				got, err = oauth.IssueAppToken(app(t, tc.app...), token(t, tc.token...), tc.in)
			}
			check(t, got, err, tc.want, tc.wantErr, tc.wantField)
		})
	}
}

func TestRevokeAndCheckToken(t *testing.T) {
	soon := t0.Add(time.Hour)
	expiring := pat
	expiring.ExpiresAt = &soon
	cases := []struct {
		name     string
		given    []any
		by       oauth.Revoker
		want     oauth.TokenRevoked
		wantErr  error
		checkAt  time.Time
		checkErr error
	}{
		{name: "client revokes its token", given: []any{userToken}, by: oauth.Revoker{ClientID: "c1"},
			want: oauth.TokenRevoked{TokenID: "t1", Reason: "r"}, checkAt: t0},
		{name: "owner revokes a personal token", given: []any{pat}, by: oauth.Revoker{AccountID: "a1"},
			want: oauth.TokenRevoked{TokenID: "t2", Reason: "r"}, checkAt: t0},
		{name: "instance revokes", given: []any{userToken}, want: oauth.TokenRevoked{TokenID: "t1", Reason: "r"}, checkAt: t0},
		{name: "another client", given: []any{userToken}, by: oauth.Revoker{ClientID: "c2"}, wantErr: oauth.ErrNotTokenOwner, checkAt: t0},
		{name: "a client cannot revoke a personal token", given: []any{pat}, by: oauth.Revoker{ClientID: "c1"},
			wantErr: oauth.ErrNotTokenOwner, checkAt: t0},
		{name: "another account", given: []any{pat}, by: oauth.Revoker{AccountID: "a2"}, wantErr: oauth.ErrNotTokenOwner, checkAt: t0},
		{name: "revoked token", given: []any{userToken, revoked}, by: oauth.Revoker{ClientID: "c1"}, wantErr: oauth.ErrTokenRevoked,
			checkAt: t0, checkErr: oauth.ErrTokenRevoked},
		{name: "unknown token", wantErr: oauth.ErrTokenNotFound, checkAt: t0, checkErr: oauth.ErrTokenNotFound},
		{name: "expired token", given: []any{expiring}, by: oauth.Revoker{AccountID: "a1"},
			want: oauth.TokenRevoked{TokenID: "t2", Reason: "r"}, checkAt: soon, checkErr: oauth.ErrTokenExpired},
		{name: "token not yet expired", given: []any{expiring}, by: oauth.Revoker{AccountID: "a1"},
			want: oauth.TokenRevoked{TokenID: "t2", Reason: "r"}, checkAt: soon.Add(-time.Nanosecond)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tk := token(t, tc.given...)
			got, err := oauth.RevokeToken(tk, tc.by, "r")
			check(t, got, err, tc.want, tc.wantErr, "")
			if err := tk.Check(tc.checkAt); !errors.Is(err, tc.checkErr) || (tc.checkErr != nil && !errors.Is(err, oauth.ErrInvalidToken)) {
				t.Fatalf("Check = %v, want %v", err, tc.checkErr)
			}
		})
	}
}

func TestFoldRejectsCorruptStreams(t *testing.T) {
	if _, err := oauth.FoldApp(registered, registered); err == nil {
		t.Error("app registered twice folded")
	}
	for _, ps := range [][]any{{redeemed}, {issued, redeemed, redeemed}, {issued, issued}, {userToken}} {
		if _, err := oauth.FoldCode(ps...); err == nil {
			t.Errorf("FoldCode(%v) succeeded", ps)
		}
	}
	for _, ps := range [][]any{{revoked}, {userToken, revoked, revoked}, {userToken, userToken}, {issued}} {
		if _, err := oauth.FoldToken(ps...); err == nil {
			t.Errorf("FoldToken(%v) succeeded", ps)
		}
	}
}

func TestScopes(t *testing.T) {
	cases := []struct {
		granted string
		want    string
		ok      bool
	}{
		{"read", "read:statuses", true},
		{"read", "read", true},
		{"read", "write", false},
		{"read:statuses", "read", false},
		{"read", "readx", false},
		{"admin:read", "admin:read:accounts", true},
		{"admin:read", "admin:write", false},
		{"read write", "follow", true},
		{"read:follows write:follows", "follow", true},
		{"read", "follow", false},
		{"follow", "follow", true},
	}
	for _, c := range cases {
		if got := oauth.Grants(oauth.ParseScopes(c.granted), c.want); got != c.ok {
			t.Errorf("Grants(%q, %q) = %v, want %v", c.granted, c.want, got, c.ok)
		}
	}
	if got := oauth.ParseScopes(" read\twrite  read follow\n"); !reflect.DeepEqual(got, []string{"read", "write", "follow"}) {
		t.Errorf("ParseScopes = %q", got)
	}
	for _, s := range oauth.Scopes {
		if !oauth.KnownScope(s) {
			t.Errorf("%s not known", s)
		}
	}
	if oauth.KnownScope("admin") || oauth.KnownScope("") {
		t.Error("unknown scopes reported known")
	}
}

func TestSecretsAndPKCE(t *testing.T) {
	if !oauth.SecretMatches(oauth.Hash("s3cret"), "s3cret") || oauth.SecretMatches(oauth.Hash("s3cret"), "s3cret ") ||
		oauth.SecretMatches("", "") {
		t.Error("SecretMatches is wrong")
	}
	// RFC 7636 appendix B.
	if got := oauth.S256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("S256 = %s", got)
	}
	if !oauth.ValidChallenge(chal) || oauth.ValidChallenge(chal+"A") || oauth.ValidChallenge(strings.Repeat("=", 43)) {
		t.Error("ValidChallenge is wrong")
	}
}
