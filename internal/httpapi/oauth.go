package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/oauth"
	"github.com/hanse-network/hanse/projections/tokens"
)

// Default rate limits of the OAuth endpoints, per client address (sign-in
// also per login name).
var (
	// DefaultSignInLimit: 5 sign-in attempts a minute, bursts of 10.
	DefaultSignInLimit = Limit{PerSecond: 5.0 / 60, Burst: 10}
	// DefaultTokenLimit: 30 token or revocation requests a minute, bursts of 30.
	DefaultTokenLimit = PerMinute(30)
	// DefaultRegisterLimit: 10 application registrations every 5 minutes.
	DefaultRegisterLimit = Limit{PerSecond: 10.0 / 300, Burst: 10}
)

// OAuthDeps is what OAuthRoutes needs.
type OAuthDeps struct {
	// OAuth is the application service (required).
	OAuth *app.OAuth
	// Accounts authenticates the sign-in form (app.Accounts); OAuth's
	// Accounts when nil.
	Accounts app.AccountAuthenticator
	// PublicURL is the instance's public base URL, e.g.
	// "https://hanse.example" (required; must be valid).
	PublicURL string
	// Tokens, when non-nil, adds the personal-token routes under
	// /api/hanse/v1/me/tokens.
	Tokens tokens.Reader
	// Waiter, when non-nil, gives the token listing read-your-writes
	// (AwaitPosition on the "tokens" projection).
	Waiter PositionWaiter
	// FormKey signs the authorization form (CSRF); at least 32 bytes. Nil
	// means a random key per process: forms then do not survive a restart,
	// and several nodes behind one name need a shared key.
	FormKey []byte
	// SignIn limits sign-in attempts per client address and per login
	// name; Token the token and revocation endpoints per client address;
	// Register application registration per client address. Zero values
	// mean the defaults above.
	SignIn, Token, Register Limit
	// ServiceDocumentation is the metadata's service_documentation
	// (PublicURL + OpenAPIPath when empty).
	ServiceDocumentation string
	// Clock defaults to time.Now (form expiry).
	Clock func() time.Time
}

// oauthHandlers serves the OAuth routes.
type oauthHandlers struct {
	d        OAuthDeps
	base     string
	urls     urls.Scheme
	forms    oauthFormSigner
	signInIP *KeyedLimiter
	signInID *KeyedLimiter
	token    *KeyedLimiter
	register *KeyedLimiter
	secure   bool
}

func limitOrDefault(l, def Limit) Limit {
	if l == (Limit{}) {
		return def
	}
	return l
}

// OAuthRoutes mounts the Mastodon-compatible OAuth 2.0 endpoints:
//
//	POST /api/v1/apps                              register a client (CredentialApplication)
//	GET  /api/v1/apps/verify_credentials           the token's application
//	GET  /oauth/authorize, POST /oauth/authorize   sign-in and consent page (HTML)
//	POST /oauth/token                              authorization_code (PKCE S256) and client_credentials
//	POST /oauth/revoke                             RFC 7009
//	GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
//	GET  /oauth/userinfo                           OpenID-style claims of the signed-in account
//	/api/hanse/v1/me/tokens                        personal access tokens (when Tokens is set)
//
// Routes that need a token expect BearerAuth to run before them
// (Deps.Auth). It panics when PublicURL is not a valid URL.
func OAuthRoutes(d OAuthDeps) func(chi.Router) {
	if d.OAuth == nil {
		panic("httpapi: OAuthRoutes: OAuth is required")
	}
	if d.Accounts == nil {
		d.Accounts = d.OAuth.Accounts
	}
	if d.Accounts == nil {
		panic("httpapi: OAuthRoutes: Accounts is required")
	}
	scheme, err := urls.New(d.PublicURL)
	if err != nil {
		panic(fmt.Sprintf("httpapi: OAuthRoutes: public URL: %v", err))
	}
	key := d.FormKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(fmt.Sprintf("httpapi: OAuthRoutes: form key: %v", err))
		}
	}
	now := d.Clock
	if now == nil {
		now = time.Now
	}
	signIn := limitOrDefault(d.SignIn, DefaultSignInLimit)
	h := &oauthHandlers{
		d: d, base: strings.TrimSuffix(scheme.Base(), "/"), urls: scheme,
		forms:    oauthFormSigner{key: key, now: now, ttl: oauthFormTTL},
		signInIP: NewKeyedLimiter(signIn, 0), signInID: NewKeyedLimiter(signIn, 0),
		token:    NewKeyedLimiter(limitOrDefault(d.Token, DefaultTokenLimit), 0),
		register: NewKeyedLimiter(limitOrDefault(d.Register, DefaultRegisterLimit), 0),
		secure:   strings.HasPrefix(scheme.Base(), "https:"),
	}
	return func(r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(oauthCORS)
			r.With(LimitWith(h.register, ClientIP, WriteRateLimited)).Post("/api/v1/apps", h.createApp)
			r.With(RequireScope("")).Get("/api/v1/apps/verify_credentials", h.verifyApp)
			r.With(LimitWith(h.token, ClientIP, writeOAuthRateLimited)).Method(http.MethodPost, "/oauth/token", oauthBodyLimit(h.issueToken))
			r.With(LimitWith(h.token, ClientIP, writeOAuthRateLimited)).Method(http.MethodPost, "/oauth/revoke", oauthBodyLimit(h.revoke))
			r.Get("/.well-known/oauth-authorization-server", h.metadata)
			r.With(RequireScope(""), RequireUser).Get("/oauth/userinfo", h.userinfo)
			r.With(RequireScope(""), RequireUser).Post("/oauth/userinfo", h.userinfo)
			for _, p := range []string{"/api/v1/apps", "/api/v1/apps/verify_credentials", "/oauth/token", "/oauth/revoke",
				"/.well-known/oauth-authorization-server", "/oauth/userinfo"} {
				r.Options(p, oauthPreflight)
			}
		})
		r.Get("/oauth/authorize", h.authorizeForm)
		r.Method(http.MethodPost, "/oauth/authorize", oauthBodyLimit(h.authorizeSubmit))
		if d.Tokens != nil {
			h.personalTokenRoutes(r)
		}
	}
}

// oauthBodyLimit caps the body of an OAuth endpoint at
// DefaultMaxBodyBytes (whatever the router's cap) but leaves refusing a
// larger one to the endpoint, so that it answers in its own format —
// OAuth's JSON error, the sign-in page — rather than with the router's
// generic Error: a body declared larger reads as an *http.MaxBytesError
// at once (and the connection is closed), any other stops with one at
// the cap.
func oauthBodyLimit(h http.HandlerFunc) http.Handler {
	const max = DefaultMaxBodyBytes
	return &bodyLimited{max: max, next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.ContentLength > max:
			w.Header().Set("Connection", "close")
			r.Body = tooLargeBody{limit: max}
		case r.Body != nil && r.Body != http.NoBody:
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		h(w, r)
	})}
}

// tooLargeBody stands for a body declared larger than limit: reading it
// fails at once.
type tooLargeBody struct{ limit int64 }

func (b tooLargeBody) Read([]byte) (int, error) { return 0, &http.MaxBytesError{Limit: b.limit} }

func (tooLargeBody) Close() error { return nil }

// oauthCORS lets browser clients (Mastodon web apps) call the OAuth
// endpoints: any origin, no cookies, as Mastodon does.
func oauthCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Expose-Headers", "Retry-After")
		}
		next.ServeHTTP(w, r)
	})
}

// oauthPreflight answers a CORS preflight request.
func oauthPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "3600")
	w.WriteHeader(http.StatusNoContent)
}

// oauthParams are the parameters of a Mastodon API or OAuth request,
// merged from the query and the body (form, multipart or JSON). Rails-style
// array names ("redirect_uris[]") count as the plain name.
type oauthParams map[string][]string

func (p oauthParams) get(name string) string {
	if v := p[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (p oauthParams) list(name string) []string { return p[name] }

func (p oauthParams) add(name string, values ...string) {
	name = strings.TrimSuffix(name, "[]")
	p[name] = append(p[name], values...)
}

// maxParamsMemory bounds a multipart form held in memory.
const maxParamsMemory = 1 << 20

// readOAuthParams reads the query's and the body's parameters; a body
// parameter replaces the query's values of the same name.
func readOAuthParams(r *http.Request) (oauthParams, error) {
	body := oauthParams{}
	mt := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, fmt.Errorf("malformed Content-Type")
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var raw map[string]json.RawMessage
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		for k, v := range raw {
			vals, err := oauthJSONParam(v)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", k, err)
			}
			body.add(k, vals...)
		}
	case mt == "multipart/form-data":
		if err := r.ParseMultipartForm(maxParamsMemory); err != nil {
			return nil, err
		}
		for k, v := range r.MultipartForm.Value {
			body.add(k, v...)
		}
	case mt == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, v := range r.PostForm {
			body.add(k, v...)
		}
	case mt == "":
	default:
		return nil, fmt.Errorf("unsupported Content-Type %s: send a form or JSON", mt)
	}
	out := oauthParams{}
	for k, v := range r.URL.Query() {
		out.add(k, v...)
	}
	for k, v := range body {
		out[k] = v
	}
	return out, nil
}

// oauthJSONParam turns a JSON value into parameter values: a string, an array
// of strings, a number or a boolean.
func oauthJSONParam(v json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err == nil {
		return list, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return []string{n.String()}, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return []string{fmt.Sprint(b)}, nil
	}
	if string(v) == "null" {
		return nil, nil
	}
	return nil, errors.New("must be a string, an array of strings, a number or a boolean")
}

// writeParamsError answers a request whose parameters could not be read
// (Hanse's error format).
func writeParamsError(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit))
		return
	}
	WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid parameters: "+err.Error())
}

// oauthApplication is Mastodon's CredentialApplication entity (and,
// without the client credentials, its Application).
type oauthApplication struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	Website               *string  `json:"website"`
	Scopes                []string `json:"scopes"`
	RedirectURI           string   `json:"redirect_uri"`
	RedirectURIs          []string `json:"redirect_uris"`
	VapidKey              string   `json:"vapid_key"`
	ClientID              string   `json:"client_id,omitempty"`
	ClientSecret          string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt *int64   `json:"client_secret_expires_at,omitempty"`
	// Position is the registration's log position (Hanse's
	// read-your-writes convention).
	Position events.Position `json:"position,omitempty"`
}

func oauthApplicationOf(a app.OAuthApp) oauthApplication {
	out := oauthApplication{ID: a.ClientID, Name: a.Name, Scopes: a.Scopes,
		RedirectURI: strings.Join(a.RedirectURIs, "\n"), RedirectURIs: a.RedirectURIs}
	if a.Website != "" {
		w := a.Website
		out.Website = &w
	}
	return out
}

// createApp: POST /api/v1/apps.
func (h *oauthHandlers) createApp(w http.ResponseWriter, r *http.Request) {
	p, err := readOAuthParams(r)
	if err != nil {
		writeParamsError(w, r, err)
		return
	}
	creds, pos, err := h.d.OAuth.RegisterApp(r.Context(), app.RegisterOAuthApp{Name: p.get("client_name"),
		Website: p.get("website"), RedirectURIs: p.list("redirect_uris"), Scopes: p.list("scopes")})
	var ve *app.ValidationError
	switch {
	case errors.As(err, &ve):
		WriteValidationError(w, r, ve.Field, ve.Reason)
		return
	case err != nil:
		writeOAuthInternal(w, r, "register application", err)
		return
	}
	out := oauthApplicationOf(creds.OAuthApp)
	never := int64(0)
	out.ClientID, out.ClientSecret, out.ClientSecretExpiresAt, out.Position = creds.ClientID, creds.ClientSecret, &never, pos
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, out)
}

// verifyApp: GET /api/v1/apps/verify_credentials.
func (h *oauthHandlers) verifyApp(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if p.AppID == "" {
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "a personal access token belongs to no application")
		return
	}
	a, err := h.d.OAuth.App(r.Context(), p.AppID)
	switch {
	case errors.Is(err, app.ErrOAuthAppNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "the token's application no longer exists")
	case err != nil:
		writeOAuthInternal(w, r, "verify application", err)
	default:
		WriteJSON(w, http.StatusOK, oauthApplicationOf(a))
	}
}

// oauthErrorBody is RFC 6749 §5.2's error response.
type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// writeOAuthError answers in OAuth's error format, without caching.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="hanse"`)
	}
	WriteJSON(w, status, oauthErrorBody{Error: code, ErrorDescription: description})
}

func writeOAuthRateLimited(w http.ResponseWriter, _ *http.Request, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	writeOAuthError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests; try again in "+retryAfterSeconds(wait)+" s")
}

// writeOAuthFailure maps the OAuth commands' errors to OAuth responses.
func writeOAuthFailure(w http.ResponseWriter, r *http.Request, err error) {
	var oe *app.OAuthError
	var ve *app.ValidationError
	switch {
	case errors.As(err, &oe):
		status := http.StatusBadRequest
		switch oe.Code {
		case "invalid_client":
			status = http.StatusUnauthorized
		case "unauthorized_client":
			status = http.StatusForbidden
		}
		writeOAuthError(w, status, oe.Code, oe.Description)
	case errors.As(err, &ve):
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", ve.Error())
	case errors.Is(err, app.ErrOAuthAppNotFound):
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
	case r.Context().Err() != nil:
	default:
		slog.Default().ErrorContext(r.Context(), "oauth", "err", err, "request_id", RequestID(r.Context()))
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "the request failed; try again")
	}
}

// oauthClientCredentials returns the client's id and secret from HTTP Basic
// authentication (client_secret_basic, RFC 6749 §2.3.1: form-encoded, then
// Base64) or the parameters (client_secret_post); both at once must agree.
func oauthClientCredentials(r *http.Request, p oauthParams) (id, secret string, err error) {
	id, secret = p.get("client_id"), p.get("client_secret")
	bid, bsecret, basic := r.BasicAuth()
	if !basic {
		return id, secret, nil
	}
	if u, err := url.QueryUnescape(bid); err == nil {
		bid = u
	}
	if u, err := url.QueryUnescape(bsecret); err == nil {
		bsecret = u
	}
	if (id != "" && id != bid) || (secret != "" && secret != bsecret) {
		return "", "", errors.New("client credentials given twice, differently")
	}
	return bid, bsecret, nil
}

// oauthNoStore forbid caching a response that carries a token.
func oauthNoStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// issueToken: POST /oauth/token.
func (h *oauthHandlers) issueToken(w http.ResponseWriter, r *http.Request) {
	p, err := readOAuthParams(r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "request body too large")
			return
		}
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	clientID, secret, err := oauthClientCredentials(r, p)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	var tok app.TokenResponse
	switch gt := p.get("grant_type"); gt {
	case "authorization_code":
		tok, err = h.d.OAuth.RedeemCode(r.Context(), app.RedeemOAuthCode{ClientID: clientID, ClientSecret: secret,
			RedirectURI: p.get("redirect_uri"), Code: p.get("code"), CodeVerifier: p.get("code_verifier")})
	case "client_credentials":
		tok, err = h.d.OAuth.ClientCredentials(r.Context(), clientID, secret, oauth.NormalizeScopes(p.list("scope")))
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	case "refresh_token":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type",
			"Hanse issues no refresh tokens: its access tokens do not expire")
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type",
			"grant_type must be authorization_code or client_credentials, not "+gt)
		return
	}
	if err != nil {
		writeOAuthFailure(w, r, err)
		return
	}
	oauthNoStore(w)
	WriteJSON(w, http.StatusOK, tok)
}

// revoke: POST /oauth/revoke (RFC 7009).
func (h *oauthHandlers) revoke(w http.ResponseWriter, r *http.Request) {
	p, err := readOAuthParams(r)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	clientID, secret, err := oauthClientCredentials(r, p)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	token := p.get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	if err := h.d.OAuth.Revoke(r.Context(), clientID, secret, token); err != nil {
		writeOAuthFailure(w, r, err)
		return
	}
	oauthNoStore(w)
	WriteJSON(w, http.StatusOK, struct{}{})
}

// oauthServerMetadata is RFC 8414's authorization server metadata as Mastodon
// 4.3 serves it.
type oauthServerMetadata struct {
	Issuer                            string   `json:"issuer"`
	ServiceDocumentation              string   `json:"service_documentation"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	AppRegistrationEndpoint           string   `json:"app_registration_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
}

// metadata: GET /.well-known/oauth-authorization-server.
func (h *oauthHandlers) metadata(w http.ResponseWriter, _ *http.Request) {
	doc := h.d.ServiceDocumentation
	if doc == "" {
		doc = h.base + OpenAPIPath
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	WriteJSON(w, http.StatusOK, oauthServerMetadata{
		Issuer:                            h.base + "/",
		ServiceDocumentation:              doc,
		AuthorizationEndpoint:             h.base + "/oauth/authorize",
		TokenEndpoint:                     h.base + "/oauth/token",
		AppRegistrationEndpoint:           h.base + "/api/v1/apps",
		RevocationEndpoint:                h.base + "/oauth/revoke",
		UserinfoEndpoint:                  h.base + "/oauth/userinfo",
		ScopesSupported:                   oauth.Scopes,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		CodeChallengeMethodsSupported:     []string{oauth.MethodS256},
		GrantTypesSupported:               []string{"authorization_code", "client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
	})
}

// userinfo: GET or POST /oauth/userinfo (needs the profile or read:accounts
// scope).
func (h *oauthHandlers) userinfo(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if !p.HasScope("profile") && !p.HasScope("read:accounts") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hanse", error="insufficient_scope", scope="profile"`)
		WriteError(w, r, http.StatusForbidden, CodeInsufficientScope, "the token lacks the scope profile")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, map[string]string{
		"iss":                h.base + "/",
		"sub":                h.urls.Actor(actor.KindPerson, p.Username),
		"name":               p.Username,
		"preferred_username": p.Username,
		"profile":            h.urls.Profile(p.Username),
	})
}

// writeOAuthInternal logs err and answers 500 (a failure of the server, not the
// client).
func writeOAuthInternal(w http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		return
	}
	slog.Default().ErrorContext(r.Context(), what, "err", err, "request_id", RequestID(r.Context()))
	WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the request failed")
}
