package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/oauth"
)

// AccountAuthenticator is what OAuth needs of the accounts feature
// (Accounts implements it). Info must be strongly consistent (read the
// account's stream, not a read model): Verify relies on it for tokens
// issued an instant ago.
type AccountAuthenticator interface {
	// Authenticate checks a login (username or e-mail) and password;
	// ErrInvalidCredentials when they do not match a live account.
	Authenticate(ctx context.Context, login, password string) (AccountInfo, error)
	// Info returns an account; ErrAccountNotFound or ErrAccountErased.
	Info(ctx context.Context, accountID string) (AccountInfo, error)
}

// Defaults of OAuth.
const (
	// DefaultOAuthCodeTTL is how long an authorization code may be
	// redeemed (Doorkeeper's, hence Mastodon's, default).
	DefaultOAuthCodeTTL = 10 * time.Minute
	// DefaultOAuthCacheTTL bounds how long Verify trusts what it cached
	// about a token (revocation elsewhere, an erasure or a role change
	// take effect within this time; revocation through the same OAuth
	// value at once).
	DefaultOAuthCacheTTL = 10 * time.Second
	// DefaultOAuthCacheSize caps the cached tokens.
	DefaultOAuthCacheSize = 10000
	// TokenTypeBearer is the only token type.
	TokenTypeBearer = "Bearer"
)

// OAuthError is a refusal in OAuth's terms: Code is an error code of
// RFC 6749 §5.2 (or RFC 6750's invalid_token), Description a sentence for
// error_description, Err the cause. errors.Is(err, ErrOAuthInvalidGrant)
// and the like match by Code.
type OAuthError struct {
	Code        string
	Description string
	Err         error
}

// Error implements error.
func (e *OAuthError) Error() string {
	if e.Description == "" {
		return "app: oauth " + e.Code
	}
	return "app: oauth " + e.Code + ": " + e.Description
}

// Unwrap returns the cause.
func (e *OAuthError) Unwrap() error { return e.Err }

// Is matches another OAuthError with the same Code and no description
// (the sentinels below).
func (e *OAuthError) Is(target error) bool {
	t, ok := target.(*OAuthError)
	return ok && t.Description == "" && t.Err == nil && t.Code == e.Code
}

// OAuth refusals, matched with errors.Is.
var (
	ErrOAuthInvalidRequest     = &OAuthError{Code: "invalid_request"}
	ErrOAuthInvalidClient      = &OAuthError{Code: "invalid_client"}
	ErrOAuthInvalidGrant       = &OAuthError{Code: "invalid_grant"}
	ErrOAuthInvalidScope       = &OAuthError{Code: "invalid_scope"}
	ErrOAuthUnauthorizedClient = &OAuthError{Code: "unauthorized_client"}
	ErrOAuthInvalidToken       = &OAuthError{Code: "invalid_token"}
)

// Errors of the OAuth commands that are not OAuth refusals.
var (
	// ErrOAuthAppNotFound: no application has that client id. The
	// authorization endpoint shows an error page (never redirects).
	ErrOAuthAppNotFound = errors.New("app: no such OAuth application")
	// ErrOAuthRedirectURI: the redirect URI is not one the application
	// registered. The authorization endpoint shows an error page.
	ErrOAuthRedirectURI = errors.New("app: redirect_uri is not registered for the OAuth application")
	// ErrOAuthTokenNotFound: no (live) token is known by that hash.
	ErrOAuthTokenNotFound = errors.New("app: no such token")
	// ErrOAuthNotTokenOwner: the token belongs to another account.
	ErrOAuthNotTokenOwner = errors.New("app: the token belongs to another account")
)

func oauthError(code string, err error) error {
	desc := err.Error()
	// Domain messages read "oauth: <category>: <reason>"; keep the reason.
	for _, prefix := range []string{"oauth: invalid grant: ", "oauth: invalid scope: ", "oauth: invalid request: ",
		"oauth: invalid token: ", "oauth: "} {
		if len(desc) > len(prefix) && desc[:len(prefix)] == prefix {
			desc = desc[len(prefix):]
			break
		}
	}
	return &OAuthError{Code: code, Description: desc, Err: err}
}

// OAuthApp is a registered application as callers see it.
type OAuthApp struct {
	// ClientID is also the application's id.
	ClientID     string
	Name         string
	Website      string
	RedirectURIs []string
	Scopes       []string
}

// OAuthAppCredentials is a newly registered application with its secret,
// which is shown this once and never stored.
type OAuthAppCredentials struct {
	OAuthApp
	ClientSecret string
}

// RegisterOAuthApp is the input of RegisterApp (POST /api/v1/apps).
type RegisterOAuthApp struct {
	Name    string
	Website string
	// RedirectURIs may hold several URIs per entry, separated by white
	// space.
	RedirectURIs []string
	// Scopes requested; none means "read".
	Scopes []string
}

// OAuthAuthorization is an authorization request (GET/POST
// /oauth/authorize).
type OAuthAuthorization struct {
	ClientID            string
	RedirectURI         string
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
}

// RedeemOAuthCode is a token request with grant_type authorization_code.
type RedeemOAuthCode struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
	Code         string
	CodeVerifier string
}

// IssueOAuthToken is the input of IssueToken. ClientID "" issues a
// personal access token (Name required); AccountID "" an application's
// own token.
type IssueOAuthToken struct {
	ClientID  string
	AccountID string
	Scopes    []string
	Name      string
	ExpiresAt *time.Time
}

// TokenResponse is a new access token: its JSON form is Mastodon's Token
// entity. The token itself is shown this once and never stored.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope"`
	CreatedAt   int64  `json:"created_at"`
	// TokenID identifies the token (revocation, listings).
	TokenID   string          `json:"-"`
	Scopes    []string        `json:"-"`
	ExpiresAt *time.Time      `json:"-"`
	Position  events.Position `json:"-"`
}

// OAuthGrant is what a valid token grants: who acts, through which
// application, with which scopes.
type OAuthGrant struct {
	TokenID string
	// ClientID is "" for a personal access token.
	ClientID string
	// AccountID is "" for an application's own token; Username and Role
	// are then empty too.
	AccountID string
	Username  string
	Role      account.Role
	Scopes    []string
	ExpiresAt *time.Time
}

// OAuth is the application service of OAuth clients, codes and tokens.
// Set the fields (or use NewOAuth) before the first call.
type OAuth struct {
	Store    events.Store
	Registry *events.Registry
	Accounts AccountAuthenticator
	// Origin is this instance's host, recorded in the events' metadata.
	Origin string
	// Clock defaults to time.Now; NewID (token ids, event ids) to
	// events.NewUUID; Random (secrets, codes, tokens) to crypto/rand.
	Clock  func() time.Time
	NewID  func() events.UUID
	Random io.Reader
	// CodeTTL is the lifetime of authorization codes
	// (DefaultOAuthCodeTTL when 0).
	CodeTTL time.Duration

	cacheOnce sync.Once
	cache     *grantCache
}

// NewOAuth returns the OAuth commands over store, registering the OAuth
// events in registry unless they are already registered.
func NewOAuth(store events.Store, registry *events.Registry, accounts AccountAuthenticator, origin string) *OAuth {
	if !registry.Known(oauth.TypeAppRegistered) {
		oauth.Register(registry)
	}
	return &OAuth{Store: store, Registry: registry, Accounts: accounts, Origin: origin, Clock: time.Now,
		NewID: events.NewUUID, Random: rand.Reader, CodeTTL: DefaultOAuthCodeTTL}
}

func (o *OAuth) now() time.Time {
	if o.Clock == nil {
		return time.Now().UTC()
	}
	return o.Clock().UTC()
}

func (o *OAuth) id() events.UUID {
	if o.NewID == nil {
		return events.NewUUID()
	}
	return o.NewID()
}

// secret returns 256 random bits, base64url without padding (43
// characters, the shape of Mastodon's client ids, secrets and tokens).
func (o *OAuth) secret() (string, error) {
	r := o.Random
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("app: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (o *OAuth) grants() *grantCache {
	o.cacheOnce.Do(func() {
		if o.cache == nil {
			o.cache = newGrantCache(DefaultOAuthCacheSize, DefaultOAuthCacheTTL)
		}
	})
	return o.cache
}

// validClientID tells whether s can be a client id at all (so that no
// request text reaches a stream name unchecked).
func validClientID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// read folds a stream's payloads into apply and returns the revision of
// its last event; exists is false for a stream without events.
func (o *OAuth) read(ctx context.Context, stream string, apply func(any) error) (rev uint64, exists bool, err error) {
	envs, err := o.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) || errors.Is(err, events.ErrInvalidStreamName) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("app: read %s: %w", stream, err)
	}
	for _, e := range envs {
		p, err := o.Registry.Decode(e)
		if err != nil {
			return 0, false, fmt.Errorf("app: read %s: %w", stream, err)
		}
		if err := apply(p); err != nil {
			return 0, false, fmt.Errorf("app: read %s at revision %d: %w", stream, e.Revision, err)
		}
		rev = e.Revision
	}
	return rev, len(envs) > 0, nil
}

func (o *OAuth) loadApp(ctx context.Context, clientID string) (oauth.App, error) {
	var a oauth.App
	if !validClientID(clientID) {
		return a, nil
	}
	_, _, err := o.read(ctx, oauth.AppStream(clientID), a.Apply)
	return a, err
}

func (o *OAuth) loadCode(ctx context.Context, codeHash string) (oauth.Code, error) {
	var c oauth.Code
	_, _, err := o.read(ctx, oauth.CodeStream(codeHash), c.Apply)
	return c, err
}

func (o *OAuth) loadToken(ctx context.Context, tokenHash string) (oauth.Token, uint64, error) {
	var t oauth.Token
	rev, _, err := o.read(ctx, oauth.TokenStream(tokenHash), t.Apply)
	return t, rev, err
}

// append writes one event to stream.
func (o *OAuth) append(ctx context.Context, stream string, expected events.ExpectedRevision, actor string, payload any) (events.AppendResult, error) {
	data, err := o.Registry.NewEvent(o.id(), payload, events.Metadata{Actor: actor, CorrelationID: o.id().String(),
		OccurredAt: o.now(), Origin: o.Origin})
	if err != nil {
		return events.AppendResult{}, fmt.Errorf("app: %w", err)
	}
	res, err := o.Store.Append(ctx, stream, expected, data)
	if err != nil {
		return events.AppendResult{}, fmt.Errorf("app: append to %s: %w", stream, err)
	}
	return res, nil
}

func appView(a oauth.App) OAuthApp {
	return OAuthApp{ClientID: a.ClientID, Name: a.Name, Website: a.Website, RedirectURIs: a.RedirectURIs, Scopes: a.Scopes}
}

// oauthDomainError maps the domain's refusals to the application's.
func oauthDomainError(err error) error {
	var fe *oauth.FieldError
	switch {
	case errors.As(err, &fe):
		return &ValidationError{Field: fe.Field, Reason: fe.Reason}
	case errors.Is(err, oauth.ErrAppNotFound):
		return ErrOAuthAppNotFound
	case errors.Is(err, oauth.ErrRedirectURINotRegistered):
		return ErrOAuthRedirectURI
	case errors.Is(err, oauth.ErrInvalidScope):
		return oauthError("invalid_scope", err)
	case errors.Is(err, oauth.ErrInvalidRequest):
		return oauthError("invalid_request", err)
	case errors.Is(err, oauth.ErrInvalidGrant):
		return oauthError("invalid_grant", err)
	case errors.Is(err, oauth.ErrInvalidToken):
		return oauthError("invalid_token", err)
	}
	return err
}

// RegisterApp registers a client: a new client id and secret (returned
// once; only the secret's hash is recorded). Field errors are
// *ValidationError naming the API parameter.
func (o *OAuth) RegisterApp(ctx context.Context, in RegisterOAuthApp) (OAuthAppCredentials, events.Position, error) {
	clientID, err := o.secret()
	if err != nil {
		return OAuthAppCredentials{}, 0, err
	}
	secret, err := o.secret()
	if err != nil {
		return OAuthAppCredentials{}, 0, err
	}
	ev, err := oauth.RegisterApp(oauth.App{}, oauth.NewApp{ClientID: clientID, SecretHash: oauth.Hash(secret),
		Name: in.Name, Website: in.Website, RedirectURIs: in.RedirectURIs, Scopes: in.Scopes})
	if err != nil {
		return OAuthAppCredentials{}, 0, oauthDomainError(err)
	}
	res, err := o.append(ctx, oauth.AppStream(clientID), events.NoStream, "", ev)
	if err != nil {
		return OAuthAppCredentials{}, 0, err
	}
	a, _ := oauth.FoldApp(ev)
	return OAuthAppCredentials{OAuthApp: appView(a), ClientSecret: secret}, res.Position, nil
}

// App returns a registered application; ErrOAuthAppNotFound otherwise.
func (o *OAuth) App(ctx context.Context, clientID string) (OAuthApp, error) {
	a, err := o.loadApp(ctx, clientID)
	if err != nil {
		return OAuthApp{}, err
	}
	if !a.Exists {
		return OAuthApp{}, ErrOAuthAppNotFound
	}
	return appView(a), nil
}

// AuthenticateClient checks a client's credentials (constant time);
// ErrOAuthInvalidClient when the client is unknown or the secret wrong.
func (o *OAuth) AuthenticateClient(ctx context.Context, clientID, secret string) (OAuthApp, error) {
	a, err := o.authenticate(ctx, clientID, secret)
	if err != nil {
		return OAuthApp{}, err
	}
	return appView(a), nil
}

func (o *OAuth) authenticate(ctx context.Context, clientID, secret string) (oauth.App, error) {
	a, err := o.loadApp(ctx, clientID)
	if err != nil {
		return oauth.App{}, err
	}
	if !a.Exists || !oauth.SecretMatches(a.SecretHash, secret) {
		return oauth.App{}, &OAuthError{Code: "invalid_client", Description: "client authentication failed"}
	}
	return a, nil
}

// CheckAuthorization validates an authorization request and returns the
// application and the scopes to ask the person for. ErrOAuthAppNotFound
// and ErrOAuthRedirectURI must not be answered with a redirect; the
// OAuthErrors (invalid_scope, invalid_request) may be sent to the
// redirect URI.
func (o *OAuth) CheckAuthorization(ctx context.Context, in OAuthAuthorization) (OAuthApp, []string, error) {
	a, err := o.loadApp(ctx, in.ClientID)
	if err != nil {
		return OAuthApp{}, nil, err
	}
	scopes, err := oauth.CheckAuthorization(a, authorizationRequest(in))
	if err != nil {
		return OAuthApp{}, nil, oauthDomainError(err)
	}
	return appView(a), scopes, nil
}

func authorizationRequest(in OAuthAuthorization) oauth.AuthorizationRequest {
	return oauth.AuthorizationRequest{RedirectURI: in.RedirectURI, Scopes: in.Scopes,
		CodeChallenge: in.CodeChallenge, CodeChallengeMethod: in.CodeChallengeMethod}
}

// IssueCode issues an authorization code for accountID, which approved
// the request (the caller authenticated the person). The code is returned
// once; only its hash is recorded. It expires after CodeTTL.
func (o *OAuth) IssueCode(ctx context.Context, accountID string, in OAuthAuthorization) (string, events.Position, error) {
	a, err := o.loadApp(ctx, in.ClientID)
	if err != nil {
		return "", 0, err
	}
	code, err := o.secret()
	if err != nil {
		return "", 0, err
	}
	ttl := o.CodeTTL
	if ttl <= 0 {
		ttl = DefaultOAuthCodeTTL
	}
	hash := oauth.Hash(code)
	ev, err := oauth.IssueCode(a, oauth.Code{}, oauth.NewCode{CodeHash: hash, AccountID: accountID,
		AuthorizationRequest: authorizationRequest(in), ExpiresAt: o.now().Add(ttl)})
	if err != nil {
		return "", 0, oauthDomainError(err)
	}
	res, err := o.append(ctx, oauth.CodeStream(hash), events.NoStream, accountID, ev)
	if err != nil {
		return "", 0, err
	}
	return code, res.Position, nil
}

// RedeemCode exchanges an authorization code for an access token of the
// account that approved it (RFC 6749 §4.1.3, PKCE S256 per RFC 7636 §4.6).
// The client must authenticate (ErrOAuthInvalidClient). Every problem with
// the code is ErrOAuthInvalidGrant; a code presented a second time also
// revokes the token issued for it the first time (RFC 6749 §4.1.2).
//
// The code's redemption is appended with expected revision 0 before the
// token is issued, so two concurrent redemptions cannot both succeed; if
// issuing the token then fails, the code is spent and the client starts
// over.
func (o *OAuth) RedeemCode(ctx context.Context, in RedeemOAuthCode) (TokenResponse, error) {
	if _, err := o.authenticate(ctx, in.ClientID, in.ClientSecret); err != nil {
		return TokenResponse{}, err
	}
	if in.Code == "" || in.RedirectURI == "" {
		return TokenResponse{}, &OAuthError{Code: "invalid_request", Description: "code and redirect_uri are required"}
	}
	codeHash := oauth.Hash(in.Code)
	c, err := o.loadCode(ctx, codeHash)
	if err != nil {
		return TokenResponse{}, err
	}
	value, err := o.secret()
	if err != nil {
		return TokenResponse{}, err
	}
	now := o.now()
	redeemed, issued, err := oauth.RedeemCode(c, oauth.Redemption{ClientID: in.ClientID, RedirectURI: in.RedirectURI,
		CodeVerifier: in.CodeVerifier, Now: now, TokenID: o.id().String(), TokenHash: oauth.Hash(value)})
	if errors.Is(err, oauth.ErrCodeRedeemed) {
		o.revokeReplayed(ctx, c.Redemption.TokenHash)
	}
	if err != nil {
		return TokenResponse{}, oauthDomainError(err)
	}
	if _, err := o.append(ctx, oauth.CodeStream(codeHash), events.Exact(0), c.AccountID, redeemed); err != nil {
		if errors.Is(err, events.ErrWrongExpectedRevision) {
			// Redeemed concurrently: this is the second presentation.
			if again, lerr := o.loadCode(ctx, codeHash); lerr == nil && again.Redeemed {
				o.revokeReplayed(ctx, again.Redemption.TokenHash)
			}
			return TokenResponse{}, oauthDomainError(oauth.ErrCodeRedeemed)
		}
		return TokenResponse{}, err
	}
	return o.issue(ctx, value, issued, now)
}

// revokeReplayed revokes the token issued for a code that was presented
// again; best effort (the refusal of the replay does not depend on it).
func (o *OAuth) revokeReplayed(ctx context.Context, tokenHash string) {
	if tokenHash == "" {
		return
	}
	t, rev, err := o.loadToken(ctx, tokenHash)
	if err != nil {
		return
	}
	ev, err := oauth.RevokeToken(t, oauth.Revoker{}, oauth.RevokedCodeReplayed)
	if err != nil {
		return
	}
	if _, err := o.append(ctx, oauth.TokenStream(tokenHash), events.Exact(rev), "", ev); err == nil {
		o.grants().evict(tokenHash)
	}
}

// issue appends a decided token_issued and returns the response.
func (o *OAuth) issue(ctx context.Context, value string, ev oauth.TokenIssued, now time.Time) (TokenResponse, error) {
	res, err := o.append(ctx, oauth.TokenStream(ev.TokenHash), events.NoStream, ev.AccountID, ev)
	if err != nil {
		return TokenResponse{}, err
	}
	return TokenResponse{AccessToken: value, TokenType: TokenTypeBearer, Scope: oauth.JoinScopes(ev.Scopes),
		CreatedAt: now.Unix(), TokenID: ev.TokenID, Scopes: ev.Scopes, ExpiresAt: ev.ExpiresAt, Position: res.Position}, nil
}

// ClientCredentials issues an application's own token (grant_type
// client_credentials): the client authenticates; scopes default to "read"
// and must be granted by the application's.
func (o *OAuth) ClientCredentials(ctx context.Context, clientID, clientSecret string, scopes []string) (TokenResponse, error) {
	if _, err := o.authenticate(ctx, clientID, clientSecret); err != nil {
		return TokenResponse{}, err
	}
	return o.IssueToken(ctx, IssueOAuthToken{ClientID: clientID, Scopes: scopes})
}

// IssueForAccount issues a token of accountID to the application appID
// without an authorization code: the account was just registered through
// that application (POST /api/v1/accounts with an app token). No scopes
// means the application's. The account is not looked up here; Verify
// checks it on every use.
func (o *OAuth) IssueForAccount(ctx context.Context, appID, accountID string, scopes []string) (TokenResponse, error) {
	if accountID == "" {
		return TokenResponse{}, &ValidationError{Field: "account", Reason: "must not be empty"}
	}
	if len(scopes) == 0 {
		a, err := o.App(ctx, appID)
		if err != nil {
			return TokenResponse{}, err
		}
		scopes = a.Scopes
	}
	return o.IssueToken(ctx, IssueOAuthToken{ClientID: appID, AccountID: accountID, Scopes: scopes})
}

// IssuePersonalToken issues a personal access token of accountID: no
// application, a name, scopes (default "read"), an optional expiry.
func (o *OAuth) IssuePersonalToken(ctx context.Context, accountID, name string, scopes []string, expiresAt *time.Time) (TokenResponse, error) {
	return o.IssueToken(ctx, IssueOAuthToken{AccountID: accountID, Name: name, Scopes: scopes, ExpiresAt: expiresAt})
}

// IssueToken issues a token without authenticating anyone: an
// application's own token (AccountID ""), an account's token for an
// application, or a personal access token (ClientID ""). Callers
// authenticate first. The token is returned once; only its hash is
// recorded.
func (o *OAuth) IssueToken(ctx context.Context, in IssueOAuthToken) (TokenResponse, error) {
	value, err := o.secret()
	if err != nil {
		return TokenResponse{}, err
	}
	now := o.now()
	nt := oauth.NewToken{TokenID: o.id().String(), TokenHash: oauth.Hash(value), AccountID: in.AccountID,
		Scopes: in.Scopes, Name: in.Name, ExpiresAt: in.ExpiresAt, Now: now}
	var ev oauth.TokenIssued
	if in.ClientID == "" {
		ev, err = oauth.IssuePersonalToken(oauth.Token{}, nt)
	} else {
		var a oauth.App
		if a, err = o.loadApp(ctx, in.ClientID); err != nil {
			return TokenResponse{}, err
		}
		ev, err = oauth.IssueAppToken(a, oauth.Token{}, nt)
	}
	if err != nil {
		return TokenResponse{}, oauthDomainError(err)
	}
	return o.issue(ctx, value, ev, now)
}

// Revoke revokes a token on behalf of the client it was issued to
// (RFC 7009): the client authenticates (ErrOAuthInvalidClient); an unknown
// or already revoked token is no error; a token of another client (or a
// personal access token) is ErrOAuthUnauthorizedClient.
func (o *OAuth) Revoke(ctx context.Context, clientID, clientSecret, token string) error {
	if _, err := o.authenticate(ctx, clientID, clientSecret); err != nil {
		return err
	}
	_, err := o.revoke(ctx, oauth.Hash(token), oauth.Revoker{ClientID: clientID}, oauth.RevokedByClient)
	switch {
	case errors.Is(err, oauth.ErrTokenNotFound), errors.Is(err, oauth.ErrTokenRevoked):
		return nil
	case errors.Is(err, oauth.ErrNotTokenOwner):
		return &OAuthError{Code: "unauthorized_client", Description: "you are not authorized to revoke this token", Err: err}
	}
	return err
}

// RevokeOwned revokes the token with hash tokenHash on behalf of the
// account it acts for (a listing of one's own tokens names them by hash).
// ErrOAuthTokenNotFound, ErrOAuthNotTokenOwner; an already revoked token
// gives position 0 and no error.
func (o *OAuth) RevokeOwned(ctx context.Context, tokenHash, accountID string) (events.Position, error) {
	if accountID == "" {
		return 0, ErrOAuthNotTokenOwner
	}
	pos, err := o.revoke(ctx, tokenHash, oauth.Revoker{AccountID: accountID}, oauth.RevokedByOwner)
	switch {
	case errors.Is(err, oauth.ErrTokenNotFound):
		return 0, ErrOAuthTokenNotFound
	case errors.Is(err, oauth.ErrNotTokenOwner):
		return 0, ErrOAuthNotTokenOwner
	case errors.Is(err, oauth.ErrTokenRevoked):
		return 0, nil
	}
	return pos, err
}

// revoke decides and appends a revocation, retrying on a concurrent
// write, and evicts the token from the cache. Domain errors come back
// unchanged.
func (o *OAuth) revoke(ctx context.Context, tokenHash string, by oauth.Revoker, reason string) (events.Position, error) {
	for attempt := 0; ; attempt++ {
		t, rev, err := o.loadToken(ctx, tokenHash)
		if err != nil {
			return 0, err
		}
		ev, err := oauth.RevokeToken(t, by, reason)
		if err != nil {
			return 0, err
		}
		res, err := o.append(ctx, oauth.TokenStream(tokenHash), events.Exact(rev), by.AccountID, ev)
		if errors.Is(err, events.ErrWrongExpectedRevision) && attempt < MaxConflictRetries {
			continue
		}
		if err != nil {
			return 0, err
		}
		o.grants().evict(tokenHash)
		return res.Position, nil
	}
}

// Verify returns what a bearer token grants. It reads the token's stream
// from the event store (a token works the instant it was issued) behind a
// small cache (DefaultOAuthCacheTTL; revocation through this value evicts
// at once). Unknown, revoked and expired tokens, and tokens of erased or
// unknown accounts, are ErrOAuthInvalidToken; other errors are failures
// of the store or the accounts.
func (o *OAuth) Verify(ctx context.Context, token string) (OAuthGrant, error) {
	if token == "" {
		return OAuthGrant{}, &OAuthError{Code: "invalid_token", Description: "no token"}
	}
	now := o.now()
	hash := oauth.Hash(token)
	if g, ok := o.grants().get(hash, now); ok {
		if g.ExpiresAt != nil && !now.Before(*g.ExpiresAt) {
			o.grants().evict(hash)
			return OAuthGrant{}, oauthError("invalid_token", oauth.ErrTokenExpired)
		}
		return g, nil
	}
	t, _, err := o.loadToken(ctx, hash)
	if err != nil {
		return OAuthGrant{}, err
	}
	if err := t.Check(now); err != nil {
		return OAuthGrant{}, oauthError("invalid_token", err)
	}
	g := OAuthGrant{TokenID: t.TokenID, ClientID: t.ClientID, AccountID: t.AccountID, Scopes: t.Scopes, ExpiresAt: t.ExpiresAt}
	if t.AccountID != "" {
		if o.Accounts == nil {
			return OAuthGrant{}, errors.New("app: OAuth has no AccountAuthenticator")
		}
		info, err := o.Accounts.Info(ctx, t.AccountID)
		switch {
		case errors.Is(err, ErrAccountErased), errors.Is(err, ErrAccountNotFound), err == nil && info.Erased:
			return OAuthGrant{}, &OAuthError{Code: "invalid_token", Description: "the account no longer exists", Err: err}
		case err != nil:
			return OAuthGrant{}, fmt.Errorf("app: verify token: %w", err)
		}
		g.Username, g.Role = info.Username, info.Role
	}
	o.grants().put(hash, g, now)
	return g, nil
}

// ForgetAccount drops everything Verify cached about accountID's tokens,
// so that an erasure or a role change made through this process applies
// at once.
func (o *OAuth) ForgetAccount(accountID string) { o.grants().evictAccount(accountID) }
