package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/oauth"
	"github.com/hanse-network/hanse/projections/tokens"
)

// MeTokensPath is where the signed-in account lists, creates and revokes
// its tokens.
const MeTokensPath = "/api/hanse/v1/me/tokens"

// MaxTokenLifetime caps expires_in of a personal access token (10 years).
const MaxTokenLifetime = 10 * 365 * 24 * time.Hour

// PersonalToken is one token of the signed-in account as GET
// /api/hanse/v1/me/tokens lists it.
type PersonalToken struct {
	ID string `json:"id"`
	// Kind is "personal" (a personal access token) or "application" (a
	// token an application obtained through OAuth).
	Kind        string            `json:"kind"`
	Name        string            `json:"name,omitempty"`
	Application *TokenApplication `json:"application,omitempty"`
	Scopes      []string          `json:"scopes"`
	CreatedAt   time.Time         `json:"created_at"`
	ExpiresAt   *time.Time        `json:"expires_at"`
	AccessToken string            `json:"access_token,omitempty"`
	TokenType   string            `json:"token_type,omitempty"`
	Scope       string            `json:"scope,omitempty"`
	Position    events.Position   `json:"position,omitempty"`
}

// TokenApplication names a token's application.
type TokenApplication struct {
	ClientID string `json:"client_id"`
	Name     string `json:"name"`
	Website  string `json:"website,omitempty"`
}

// CreatePersonalTokenRequest is the body of POST /api/hanse/v1/me/tokens.
type CreatePersonalTokenRequest struct {
	Name string `json:"name"`
	// Scopes is space separated; default "read". Each must be granted by
	// the token that makes the request.
	Scopes string `json:"scopes,omitempty"`
	// ExpiresIn is the lifetime in seconds; 0 or absent: no expiry.
	ExpiresIn int64 `json:"expires_in,omitempty"`
}

// RevokedTokenResponse answers DELETE /api/hanse/v1/me/tokens/{id}. A
// token revoked already answers 404 instead: it is no longer the
// caller's.
type RevokedTokenResponse struct {
	ID      string `json:"id"`
	Revoked bool   `json:"revoked"`
	// Position is the revocation's.
	Position events.Position `json:"position"`
}

func personalTokenJSON(t tokens.Token) PersonalToken {
	out := PersonalToken{ID: t.ID, Kind: "personal", Name: t.Name, Scopes: t.Scopes, CreatedAt: t.CreatedAt.UTC()}
	if !t.Personal() {
		out.Kind = "application"
		out.Application = &TokenApplication{ClientID: t.ClientID, Name: t.AppName, Website: t.AppWebsite}
	}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt.UTC()
		out.ExpiresAt = &e
	}
	return out
}

// personalTokenRoutes: GET, POST /api/hanse/v1/me/tokens and DELETE
// /api/hanse/v1/me/tokens/{id}.
func (h *oauthHandlers) personalTokenRoutes(r chi.Router) {
	read := func(next http.Handler) http.Handler { return next }
	if h.d.Waiter != nil {
		read = AwaitPosition(h.d.Waiter, tokens.Name, 0)
	}
	r.With(RequireScope("read:accounts"), RequireUser, read).Get(MeTokensPath, h.listTokens)
	r.With(RequireScope("write:accounts"), RequireUser).Post(MeTokensPath, h.createToken)
	r.With(RequireScope("write:accounts"), RequireUser, read).Delete(MeTokensPath+"/{id}", h.deleteToken)
}

func (h *oauthHandlers) listTokens(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	list, err := h.d.Tokens.ByAccount(r.Context(), p.AccountID, tokens.MaxPageSize)
	if err != nil {
		writeOAuthInternal(w, r, "list tokens", err)
		return
	}
	now := time.Now()
	out := []PersonalToken{}
	for _, t := range list {
		if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
			continue
		}
		out = append(out, personalTokenJSON(t))
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, out)
}

func (h *oauthHandlers) createToken(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var req CreatePersonalTokenRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	scopes := oauth.ParseScopes(req.Scopes)
	if len(scopes) == 0 {
		scopes = []string{oauth.DefaultScope}
	}
	for _, s := range scopes {
		if oauth.KnownScope(s) && !p.HasScope(s) {
			WriteValidationError(w, r, "scopes", "the token you use does not grant "+s+", so a new token cannot have it")
			return
		}
	}
	var expires *time.Time
	switch {
	case req.ExpiresIn < 0 || time.Duration(req.ExpiresIn)*time.Second > MaxTokenLifetime:
		WriteValidationError(w, r, "expires_in", "must be between 1 and "+strconv.FormatInt(int64(MaxTokenLifetime/time.Second), 10)+" seconds")
		return
	case req.ExpiresIn > 0:
		e := time.Now().Add(time.Duration(req.ExpiresIn) * time.Second).UTC()
		expires = &e
	}
	tok, err := h.d.OAuth.IssuePersonalToken(r.Context(), p.AccountID, req.Name, scopes, expires)
	var ve *app.ValidationError
	switch {
	case errors.As(err, &ve):
		WriteValidationError(w, r, ve.Field, ve.Reason)
		return
	case err != nil:
		writeOAuthInternal(w, r, "create token", err)
		return
	}
	out := PersonalToken{ID: tok.TokenID, Kind: "personal", Name: req.Name, Scopes: tok.Scopes,
		CreatedAt: time.Unix(tok.CreatedAt, 0).UTC(), ExpiresAt: tok.ExpiresAt, AccessToken: tok.AccessToken,
		TokenType: tok.TokenType, Scope: tok.Scope, Position: tok.Position}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusCreated, out)
}

func (h *oauthHandlers) deleteToken(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	id := chi.URLParam(r, "id")
	t, err := h.d.Tokens.ByID(r.Context(), id)
	switch {
	case errors.Is(err, tokens.ErrNotFound) || err == nil && t.AccountID != p.AccountID:
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "you have no token with this id")
		return
	case err != nil:
		writeOAuthInternal(w, r, "revoke token", err)
		return
	}
	pos, err := h.d.OAuth.RevokeOwned(r.Context(), t.Hash, p.AccountID)
	switch {
	// A token revoked already (position 0; the listing may not show it
	// yet) is no longer yours either.
	case errors.Is(err, app.ErrOAuthTokenNotFound), errors.Is(err, app.ErrOAuthNotTokenOwner), err == nil && pos == 0:
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "you have no token with this id")
		return
	case err != nil:
		writeOAuthInternal(w, r, "revoke token", err)
		return
	}
	WriteJSON(w, http.StatusOK, RevokedTokenResponse{ID: id, Revoked: true, Position: pos})
}
