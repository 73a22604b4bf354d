package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/oauth"
)

//go:embed oauth_templates/*.html
var oauthTemplateFiles embed.FS

var oauthTemplates = template.Must(template.ParseFS(oauthTemplateFiles, "oauth_templates/*.html"))

// The authorization form's CSRF protection: a random nonce in a
// SameSite=Strict cookie, and a form token that signs (HMAC-SHA-256) the
// nonce, an expiry and every parameter of the authorization request. A
// form posted from elsewhere lacks the cookie; a form whose parameters were
// changed fails the signature.
const (
	oauthCSRFCookie = "hanse_oauth_csrf"
	oauthFormTTL    = 30 * time.Minute
	// maxStateBytes bounds the client's state parameter.
	maxStateBytes = 1024
)

// oauthAuthorizeParams are the parameters of an authorization request,
// in the order the form token signs them.
var oauthAuthorizeParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state",
	"code_challenge", "code_challenge_method"}

type oauthFormSigner struct {
	key []byte
	now func() time.Time
	ttl time.Duration
}

func (s oauthFormSigner) mac(nonce string, exp int64, values []string) []byte {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "hanse-oauth-form/1;%d:%s;%d;", len(nonce), nonce, exp)
	for _, v := range values {
		fmt.Fprintf(m, "%d:%s;", len(v), v)
	}
	return m.Sum(nil)
}

// sign returns the form token "expiry.signature".
func (s oauthFormSigner) sign(nonce string, values []string) string {
	exp := s.now().Add(s.ttl).Unix()
	return strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(s.mac(nonce, exp, values))
}

// verify checks a form token against the cookie's nonce and the posted
// parameters.
func (s oauthFormSigner) verify(nonce string, values []string, token string) bool {
	expText, sig, ok := strings.Cut(token, ".")
	if !ok || nonce == "" {
		return false
	}
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil || s.now().Unix() > exp {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(got, s.mac(nonce, exp, values))
}

// csrfNonce returns the request's CSRF cookie, or makes a new one and
// sets it.
func (h *oauthHandlers) csrfNonce(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(oauthCSRFCookie); err == nil && len(c.Value) == 43 {
		return c.Value, nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	nonce := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: oauthCSRFCookie, Value: nonce, Path: "/oauth/authorize",
		MaxAge: int(oauthFormTTL / time.Second), HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
	return nonce, nil
}

// htmlHeaders make a page uncacheable, unframeable and script-free.
func htmlHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// No form-action: browsers would apply it to the redirect to the
	// client's redirect URI after the form is posted.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
}

func renderOAuthPage(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var b strings.Builder
	if err := oauthTemplates.ExecuteTemplate(&b, name, data); err != nil {
		slog.Default().ErrorContext(r.Context(), "oauth page", "err", err, "request_id", RequestID(r.Context()))
		status, b = http.StatusInternalServerError, strings.Builder{}
		b.WriteString("<!DOCTYPE html><title>Error</title><p>The page could not be rendered.</p>")
	}
	htmlHeaders(w)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

type oauthErrorPage struct{ Title, Message string }

// errorPage shows an error as HTML: what the authorization endpoint does
// whenever it must not (or cannot) redirect.
func errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	renderOAuthPage(w, r, status, "error", oauthErrorPage{Title: title, Message: message})
}

// authorizeRequest is a parsed authorization request whose client and
// redirect URI are known to be valid.
type authorizeRequest struct {
	values    url.Values // the oauthAuthorizeParams as received
	app       app.OAuthApp
	redirect  string
	authz     app.OAuthAuthorization
	scopes    []string // to grant, once checked
	redirectU *url.URL
}

// loadAuthorizeRequest validates the client and the redirect URI; when
// either is wrong it shows an error page (never a redirect) and returns
// false.
func (h *oauthHandlers) loadAuthorizeRequest(w http.ResponseWriter, r *http.Request, v url.Values) (*authorizeRequest, bool) {
	clientID := v.Get("client_id")
	if clientID == "" {
		errorPage(w, r, http.StatusBadRequest, "Invalid request", "The application did not say who it is (client_id is missing).")
		return nil, false
	}
	a, err := h.d.OAuth.App(r.Context(), clientID)
	switch {
	case errors.Is(err, app.ErrOAuthAppNotFound):
		errorPage(w, r, http.StatusBadRequest, "Unknown application",
			"No application with this client_id is registered here. Go back to the application and try again.")
		return nil, false
	case err != nil:
		slog.Default().ErrorContext(r.Context(), "oauth authorize", "err", err, "request_id", RequestID(r.Context()))
		errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
		return nil, false
	}
	redirect := v.Get("redirect_uri")
	if redirect == "" && len(a.RedirectURIs) == 1 {
		redirect = a.RedirectURIs[0]
	}
	registered := false
	for _, u := range a.RedirectURIs {
		registered = registered || u == redirect
	}
	if !registered {
		errorPage(w, r, http.StatusBadRequest, "Invalid redirect URI",
			"The redirect URI is not one the application registered, so you are not sent there.")
		return nil, false
	}
	ru, err := url.Parse(redirect)
	if err != nil {
		errorPage(w, r, http.StatusBadRequest, "Invalid redirect URI", "The redirect URI cannot be parsed.")
		return nil, false
	}
	if len(v.Get("state")) > maxStateBytes {
		errorPage(w, r, http.StatusBadRequest, "Invalid request", "The state parameter is too long.")
		return nil, false
	}
	values := url.Values{}
	for _, k := range oauthAuthorizeParams {
		values.Set(k, v.Get(k))
	}
	values.Set("redirect_uri", redirect)
	return &authorizeRequest{values: values, app: a, redirect: redirect, redirectU: ru,
		authz: app.OAuthAuthorization{ClientID: clientID, RedirectURI: redirect, Scopes: oauth.ParseScopes(v.Get("scope")),
			CodeChallenge: v.Get("code_challenge"), CodeChallengeMethod: v.Get("code_challenge_method")}}, true
}

// check validates the rest of the request; a problem is sent to the
// client's redirect URI (RFC 6749 §4.1.2.1) and check returns false.
func (h *oauthHandlers) check(w http.ResponseWriter, r *http.Request, req *authorizeRequest) bool {
	switch rt := req.values.Get("response_type"); rt {
	case "code":
	case "":
		h.redirectError(w, r, req, "invalid_request", "response_type is required")
		return false
	default:
		h.redirectError(w, r, req, "unsupported_response_type", "response_type must be code")
		return false
	}
	_, scopes, err := h.d.OAuth.CheckAuthorization(r.Context(), req.authz)
	var oe *app.OAuthError
	switch {
	case errors.As(err, &oe):
		h.redirectError(w, r, req, oe.Code, oe.Description)
		return false
	case err != nil:
		slog.Default().ErrorContext(r.Context(), "oauth authorize", "err", err, "request_id", RequestID(r.Context()))
		errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
		return false
	}
	req.scopes = scopes
	return true
}

// redirectTo sends the browser to the client's redirect URI with params
// added to its query (and state), or, for the out-of-band URI, shows them.
func (h *oauthHandlers) redirectTo(w http.ResponseWriter, r *http.Request, req *authorizeRequest, params url.Values) {
	if state := req.values.Get("state"); state != "" {
		params.Set("state", state)
	}
	u := *req.redirectU
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (h *oauthHandlers) redirectError(w http.ResponseWriter, r *http.Request, req *authorizeRequest, code, description string) {
	if req.redirect == oauth.OOB {
		errorPage(w, r, http.StatusBadRequest, "Authorization failed", description+" ("+code+")")
		return
	}
	h.redirectTo(w, r, req, url.Values{"error": {code}, "error_description": {description}})
}

type scopeView struct{ Name, Description string }

type hiddenField struct{ Name, Value string }

type authorizePage struct {
	Title, AppName, AppWebsite, RedirectHost string
	Scopes                                   []scopeView
	Hidden                                   []hiddenField
	Login, Message                           string
}

// scopeDescriptions explain the broad scopes; the granular ones are
// described from their parts.
var scopeDescriptions = map[string]string{
	"read":        "read everything your account can see",
	"write":       "post, change and delete on your behalf",
	"follow":      "follow, unfollow, block and mute",
	"push":        "receive push notifications",
	"profile":     "know who you are (your username)",
	"admin:read":  "read administrative data of the instance",
	"admin:write": "take administrative actions on the instance",
}

func describeScope(s string) string {
	if d, ok := scopeDescriptions[s]; ok {
		return d
	}
	parts := strings.Split(s, ":")
	what := strings.ReplaceAll(parts[len(parts)-1], "_", " ")
	switch {
	case strings.HasPrefix(s, "admin:read:"):
		return "read administrative data: " + what
	case strings.HasPrefix(s, "admin:write:"):
		return "administer " + what
	case strings.HasPrefix(s, "read:"):
		return "read your " + what
	case strings.HasPrefix(s, "write:"):
		return "change your " + what
	}
	return s
}

// showForm renders the sign-in and consent form.
func (h *oauthHandlers) showForm(w http.ResponseWriter, r *http.Request, req *authorizeRequest, status int, login, message string) {
	nonce, err := h.csrfNonce(w, r)
	if err != nil {
		errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
		return
	}
	values := make([]string, len(oauthAuthorizeParams))
	hidden := make([]hiddenField, 0, len(oauthAuthorizeParams)+1)
	for i, k := range oauthAuthorizeParams {
		values[i] = req.values.Get(k)
		hidden = append(hidden, hiddenField{k, values[i]})
	}
	hidden = append(hidden, hiddenField{"csrf", h.forms.sign(nonce, values)})
	page := authorizePage{Title: "Authorize " + req.app.Name, AppName: req.app.Name, AppWebsite: req.app.Website,
		RedirectHost: req.redirectU.Host, Hidden: hidden, Login: login, Message: message}
	if page.RedirectHost == "" {
		page.RedirectHost = "the application"
	}
	for _, s := range req.scopes {
		page.Scopes = append(page.Scopes, scopeView{s, describeScope(s)})
	}
	renderOAuthPage(w, r, status, "authorize", page)
}

// authorizeForm: GET /oauth/authorize. force_login is accepted and
// ignored (there are no browser sessions: the form always asks for the
// password); lang is accepted and ignored (the page is in English).
func (h *oauthHandlers) authorizeForm(w http.ResponseWriter, r *http.Request) {
	req, ok := h.loadAuthorizeRequest(w, r, r.URL.Query())
	if !ok || !h.check(w, r, req) {
		return
	}
	h.showForm(w, r, req, http.StatusOK, "", "")
}

// authorizeSubmit: POST /oauth/authorize (login, password, decision).
func (h *oauthHandlers) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			errorPage(w, r, http.StatusRequestEntityTooLarge, "Invalid request", "The form is too large.")
			return
		}
		errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	form := r.PostForm
	req, ok := h.loadAuthorizeRequest(w, r, form)
	if !ok {
		return
	}
	values := make([]string, len(oauthAuthorizeParams))
	for i, k := range oauthAuthorizeParams {
		values[i] = form.Get(k)
	}
	cookie, _ := r.Cookie(oauthCSRFCookie)
	if cookie == nil || !h.forms.verify(cookie.Value, values, form.Get("csrf")) {
		errorPage(w, r, http.StatusForbidden, "Form expired",
			"This form expired or was not sent from this site. Go back to the application and start again.")
		return
	}
	if !h.check(w, r, req) {
		return
	}
	switch form.Get("decision") {
	case "deny":
		h.redirectError(w, r, req, "access_denied", "the person denied the request")
		return
	case "approve":
	default:
		h.showForm(w, r, req, http.StatusBadRequest, form.Get("login"), "Choose Authorize or Deny.")
		return
	}
	login := strings.TrimSpace(form.Get("login"))
	if ok, wait := h.signInIP.Allow(ClientIP(r)); !ok {
		h.tooManyAttempts(w, r, req, login, wait)
		return
	}
	if ok, wait := h.signInID.Allow(strings.ToLower(login)); !ok {
		h.tooManyAttempts(w, r, req, login, wait)
		return
	}
	info, err := h.d.Accounts.Authenticate(r.Context(), login, form.Get("password"))
	switch {
	case errors.Is(err, app.ErrInvalidCredentials), errors.Is(err, app.ErrAccountErased), errors.Is(err, app.ErrAccountNotFound),
		err == nil && (info.Erased || info.ID == ""):
		h.showForm(w, r, req, http.StatusUnauthorized, login, "Wrong login or password.")
		return
	case err != nil:
		slog.Default().ErrorContext(r.Context(), "oauth sign-in", "err", err, "request_id", RequestID(r.Context()))
		errorPage(w, r, http.StatusServiceUnavailable, "Something went wrong", "Signing in is not possible right now. Please try again later.")
		return
	}
	code, _, err := h.d.OAuth.IssueCode(r.Context(), info.ID, req.authz)
	var oe *app.OAuthError
	switch {
	case errors.As(err, &oe):
		h.redirectError(w, r, req, oe.Code, oe.Description)
		return
	case err != nil:
		slog.Default().ErrorContext(r.Context(), "oauth authorize", "err", err, "request_id", RequestID(r.Context()))
		errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
		return
	}
	if req.redirect == oauth.OOB {
		ttl := h.d.OAuth.CodeTTL
		if ttl <= 0 {
			ttl = app.DefaultOAuthCodeTTL
		}
		renderOAuthPage(w, r, http.StatusOK, "code", struct {
			AppName, Code string
			Minutes       int
		}{req.app.Name, code, int(ttl / time.Minute)})
		return
	}
	h.redirectTo(w, r, req, url.Values{"code": {code}})
}

func (h *oauthHandlers) tooManyAttempts(w http.ResponseWriter, r *http.Request, req *authorizeRequest, login string, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	h.showForm(w, r, req, http.StatusTooManyRequests, login,
		"Too many sign-in attempts. Try again in "+retryAfterSeconds(wait)+" seconds.")
}
