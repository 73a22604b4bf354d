package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
)

// Paths of the account routes.
const (
	VerifyCredentialsPath = "/api/v1/accounts/verify_credentials"
	UpdateCredentialsPath = "/api/v1/accounts/update_credentials"
	RegisterAccountPath   = "/api/v1/accounts"
	MyPasswordPath        = "/api/hanse/v1/me/password"
	MyErasurePath         = "/api/hanse/v1/me/erase"
	// DefaultAvatarPath and DefaultHeaderPath serve the images every
	// account shows until avatars can be uploaded.
	DefaultAvatarPath = "/static/hanse/avatar.png"
	DefaultHeaderPath = "/static/hanse/header.png"
)

// Error codes of the account routes.
const (
	CodeRegistrationsClosed = "registrations_closed"
	CodeAppTokenRequired    = "app_token_required"
	CodeEmailTaken          = "email_taken"
	CodeAccountErased       = "account_erased"
	CodeErasureIncomplete   = "erasure_incomplete"
)

// AccountCommands is what the account routes need of the application
// (app.Accounts implements it).
type AccountCommands interface {
	Register(ctx context.Context, in app.RegisterAccount) (app.AccountInfo, events.Position, error)
	Profile(ctx context.Context, accountID string) (app.AccountProfile, error)
	UpdateProfile(ctx context.Context, accountID string, displayName, bio, locale *string) (events.Position, error)
	ChangePassword(ctx context.Context, accountID, current, next string) (events.Position, error)
	CheckPassword(ctx context.Context, accountID, password string) error
	Erase(ctx context.Context, accountID, reason, by string) (events.Position, error)
}

// TokenIssuer issues an access token to a newly registered account
// through the OAuth application that registered it (app.OAuth implements
// it). Nil scopes mean the application's scopes.
type TokenIssuer interface {
	IssueForAccount(ctx context.Context, appID, accountID string, scopes []string) (app.TokenResponse, error)
}

// AccountCounts are the figures a Mastodon account shows.
type AccountCounts struct {
	Followers, Following, Statuses int
}

// AccountRoutesOptions are the dependencies of AccountRoutes.
type AccountRoutesOptions struct {
	Accounts AccountCommands
	// Tokens issues the token a registration answers with; nil disables
	// registration.
	Tokens TokenIssuer
	// Registrations opens POST /api/v1/accounts (403
	// registrations_closed otherwise).
	Registrations bool
	// PublicURL is the instance's base URL ("https://hanse.example"):
	// the default avatar and header are served under it.
	PublicURL string
	// ActorURL returns the ActivityPub IRI of the local Person with
	// username (the account's uri and url).
	ActorURL func(username string) string
	// Counts, when set, gives the follower, following and post counts;
	// nil shows zeros.
	Counts func(ctx context.Context, accountID string) (AccountCounts, error)
}

// AccountRoutes mounts the Mastodon-compatible and Hanse account routes:
//
//	GET   /api/v1/accounts/verify_credentials  the signed-in account as a CredentialAccount (scope read:accounts)
//	PATCH /api/v1/accounts/update_credentials  display_name, note, locale (form, multipart or JSON; scope write:accounts)
//	POST  /api/v1/accounts                     sign-up with an application token (scope write:accounts) → Token
//	POST  /api/hanse/v1/me/password            {"current_password","new_password"} (scope write:accounts)
//	POST  /api/hanse/v1/me/erase               {"password"}: erase your own account (scope write:accounts)
//	GET   /static/hanse/avatar.png, header.png  the default images
//
// Profiles are read from the event store (app.Accounts.Profile), so a
// write is visible to the next read without waiting for a projection.
func AccountRoutes(o AccountRoutesOptions) func(chi.Router) {
	h := &accountHandlers{o: o, base: strings.TrimRight(o.PublicURL, "/")}
	return func(r chi.Router) {
		r.With(RequireScope("read:accounts"), RequireUser).Get(VerifyCredentialsPath, h.verifyCredentials)
		r.With(RequireScope("write:accounts"), RequireUser).Patch(UpdateCredentialsPath, h.updateCredentials)
		r.With(RequireScope("write:accounts")).Post(RegisterAccountPath, h.register)
		r.With(RequireScope("write:accounts"), RequireUser).Post(MyPasswordPath, h.changePassword)
		r.With(RequireScope("write:accounts"), RequireUser).Post(MyErasurePath, h.erase)
		r.Get(DefaultAvatarPath, serveAccountImage(accountAvatarPNG))
		r.Get(DefaultHeaderPath, serveAccountImage(accountHeaderPNG))
	}
}

type accountHandlers struct {
	o    AccountRoutesOptions
	base string
}

// CredentialAccountJSON is Mastodon's CredentialAccount entity (an
// Account with source and role). Position is Hanse's: the write's
// position, on update_credentials only.
type CredentialAccountJSON struct {
	ID             string                `json:"id"`
	Username       string                `json:"username"`
	Acct           string                `json:"acct"`
	DisplayName    string                `json:"display_name"`
	Locked         bool                  `json:"locked"`
	Bot            bool                  `json:"bot"`
	Discoverable   bool                  `json:"discoverable"`
	Indexable      bool                  `json:"indexable"`
	Group          bool                  `json:"group"`
	CreatedAt      string                `json:"created_at"`
	Note           string                `json:"note"`
	URL            string                `json:"url"`
	URI            string                `json:"uri"`
	Avatar         string                `json:"avatar"`
	AvatarStatic   string                `json:"avatar_static"`
	Header         string                `json:"header"`
	HeaderStatic   string                `json:"header_static"`
	FollowersCount int                   `json:"followers_count"`
	FollowingCount int                   `json:"following_count"`
	StatusesCount  int                   `json:"statuses_count"`
	LastStatusAt   *string               `json:"last_status_at"`
	Emojis         []struct{}            `json:"emojis"`
	Fields         []MastodonField       `json:"fields"`
	Source         MastodonAccountSource `json:"source"`
	Role           MastodonRole          `json:"role"`
	Position       events.Position       `json:"position,omitempty"`
}

// MastodonField is a profile metadata pair.
type MastodonField struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	VerifiedAt *string `json:"verified_at"`
}

// MastodonAccountSource is the source member of a CredentialAccount: the
// plain-text bio and the posting defaults.
type MastodonAccountSource struct {
	Privacy             string          `json:"privacy"`
	Sensitive           bool            `json:"sensitive"`
	Language            *string         `json:"language"`
	Note                string          `json:"note"`
	Fields              []MastodonField `json:"fields"`
	FollowRequestsCount int             `json:"follow_requests_count"`
	Indexable           bool            `json:"indexable"`
	Discoverable        bool            `json:"discoverable"`
	HideCollections     bool            `json:"hide_collections"`
	AttributionDomains  []string        `json:"attribution_domains"`
}

// MastodonRole is the role of the signed-in account, in Mastodon's shape.
// Permissions is Mastodon's bitmask: "1" (administrator) for instance
// admins, "0" otherwise.
type MastodonRole struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Permissions string `json:"permissions"`
	Highlighted bool   `json:"highlighted"`
}

// credentialAccount renders an account as Mastodon's CredentialAccount.
func (h *accountHandlers) credentialAccount(ctx context.Context, p app.AccountProfile) CredentialAccountJSON {
	iri := ""
	if h.o.ActorURL != nil {
		iri = h.o.ActorURL(p.Username)
	}
	var counts AccountCounts
	if h.o.Counts != nil {
		if c, err := h.o.Counts(ctx, p.ID); err == nil {
			counts = c
		} else if ctx.Err() == nil {
			slog.Default().WarnContext(ctx, "account counts", "account", p.ID, "err", err)
		}
	}
	var language *string
	if p.Locale != "" {
		language = &p.Locale
	}
	permissions := "0"
	if p.Role == account.InstanceAdmin {
		permissions = "1"
	}
	avatar, header := h.base+DefaultAvatarPath, h.base+DefaultHeaderPath
	return CredentialAccountJSON{
		ID: p.ID, Username: p.Username, Acct: p.Username, DisplayName: p.DisplayName,
		CreatedAt: p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), Note: accountNoteHTML(p.Bio), URL: iri, URI: iri,
		Avatar: avatar, AvatarStatic: avatar, Header: header, HeaderStatic: header,
		FollowersCount: counts.Followers, FollowingCount: counts.Following, StatusesCount: counts.Statuses,
		Emojis: []struct{}{}, Fields: []MastodonField{},
		Source: MastodonAccountSource{Privacy: "public", Language: language, Note: p.Bio, Fields: []MastodonField{},
			AttributionDomains: []string{}},
		Role: MastodonRole{ID: string(p.Role), Name: string(p.Role), Permissions: permissions, Highlighted: p.Role.Admin()},
	}
}

// accountNoteHTML renders a plain-text bio as Mastodon's HTML note: paragraphs
// split at blank lines, line breaks as <br>, everything escaped.
func accountNoteHTML(bio string) string {
	bio = strings.TrimSpace(strings.ReplaceAll(bio, "\r\n", "\n"))
	if bio == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(bio, "\n\n") {
		if para = strings.TrimSpace(para); para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

func (h *accountHandlers) verifyCredentials(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	prof, err := h.o.Accounts.Profile(r.Context(), p.AccountID)
	if err != nil {
		writeAccountError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, h.credentialAccount(r.Context(), prof))
}

// accountParams are the parameters of a form, multipart or JSON body.
// Nested JSON objects flatten to Rails' names ("source": {"language"} →
// "source[language]"); JSON null counts as absent.
type accountParams map[string]string

// readAccountParams reads the body's parameters. On failure it writes the
// error (415, 413 or 400) and returns false.
func readAccountParams(w http.ResponseWriter, r *http.Request) (accountParams, bool) {
	out := accountParams{}
	mt := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			WriteError(w, r, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "malformed Content-Type")
			return nil, false
		}
	}
	fail := func(err error) (accountParams, bool) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			WriteError(w, r, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit))
		} else {
			WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "invalid request body: "+err.Error())
		}
		return nil, false
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var raw map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return fail(err)
		}
		if err := flattenAccountJSON(out, "", raw); err != nil {
			return fail(err)
		}
	case mt == "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return fail(err)
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				out[k] = v[0]
			}
		}
	case mt == "application/x-www-form-urlencoded" || mt == "":
		if err := r.ParseForm(); err != nil {
			return fail(err)
		}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				out[k] = v[0]
			}
		}
	default:
		WriteError(w, r, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send a form, multipart form or JSON, not "+mt)
		return nil, false
	}
	return out, true
}

func flattenAccountJSON(out accountParams, prefix string, raw map[string]json.RawMessage) error {
	for k, v := range raw {
		name := k
		if prefix != "" {
			name = prefix + "[" + k + "]"
		}
		v = bytes.TrimSpace(v)
		switch {
		case len(v) == 0 || string(v) == "null":
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			out[name] = s
		case v[0] == '{':
			if prefix != "" {
				continue // deeper nesting is nothing Hanse reads
			}
			var inner map[string]json.RawMessage
			if err := json.Unmarshal(v, &inner); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := flattenAccountJSON(out, name, inner); err != nil {
				return err
			}
		case v[0] == '[':
			// Arrays (fields_attributes, …) are nothing Hanse reads.
		default:
			out[name] = string(v) // numbers and booleans as text
		}
	}
	return nil
}

// ptr returns a pointer to the parameter's value, nil when it is absent.
func (p accountParams) ptr(names ...string) *string {
	for _, n := range names {
		if v, ok := p[n]; ok {
			return &v
		}
	}
	return nil
}

// accountTruthy reads Mastodon's boolean parameters.
func accountTruthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// updateCredentials changes display_name, note (the bio, plain text) and
// locale (also source[language]). Other Mastodon parameters (avatar,
// header, fields_attributes, locked, bot, …) are accepted and ignored:
// Hanse has no such settings yet.
func (h *accountHandlers) updateCredentials(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	params, ok := readAccountParams(w, r)
	if !ok {
		return
	}
	pos, err := h.o.Accounts.UpdateProfile(r.Context(), p.AccountID, params.ptr("display_name"), params.ptr("note"),
		params.ptr("locale", "source[language]"))
	if err != nil {
		writeAccountError(w, r, accountFieldNames(err, map[string]string{"bio": "note"}))
		return
	}
	prof, err := h.o.Accounts.Profile(r.Context(), p.AccountID)
	if err != nil {
		writeAccountError(w, r, err)
		return
	}
	out := h.credentialAccount(r.Context(), prof)
	out.Position = pos
	WriteJSON(w, http.StatusOK, out)
}

// RegisterAccountResponse is the answer to a sign-up: Mastodon's Token
// entity for the new account, and the write's position.
type RegisterAccountResponse struct {
	app.TokenResponse
	Position events.Position `json:"position"`
}

// register is Mastodon's sign-up: username, email, password, agreement,
// locale. It needs an application's own token (no account).
func (h *accountHandlers) register(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if !h.o.Registrations || h.o.Tokens == nil {
		WriteError(w, r, http.StatusForbidden, CodeRegistrationsClosed, "registrations are closed on this instance: ask an administrator for an account")
		return
	}
	if p.AccountID != "" || p.AppID == "" {
		WriteError(w, r, http.StatusForbidden, CodeAppTokenRequired,
			"sign-up needs an application's own token (grant_type=client_credentials), not an account's")
		return
	}
	params, ok := readAccountParams(w, r)
	if !ok {
		return
	}
	if !accountTruthy(params["agreement"]) {
		WriteValidationError(w, r, "agreement", "must be accepted (agreement=true)")
		return
	}
	info, pos, err := h.o.Accounts.Register(r.Context(), app.RegisterAccount{Username: params["username"], Email: params["email"],
		Password: params["password"], Role: account.Learner, Locale: params["locale"], By: "app:" + p.AppID})
	if err != nil {
		writeAccountError(w, r, err)
		return
	}
	tok, err := h.o.Tokens.IssueForAccount(r.Context(), p.AppID, info.ID, nil)
	if err != nil {
		slog.Default().ErrorContext(r.Context(), "token for a new account", "account", info.ID, "err", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, CodeInternal,
			"the account was created but no token could be issued: sign in through /oauth/authorize")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, RegisterAccountResponse{TokenResponse: tok, Position: pos})
}

// ChangePasswordRequest is the body of POST /api/hanse/v1/me/password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// AccountWriteResponse answers an account write with its position.
type AccountWriteResponse struct {
	ID       string          `json:"id"`
	Position events.Position `json:"position"`
}

func (h *accountHandlers) changePassword(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var req ChangePasswordRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	pos, err := h.o.Accounts.ChangePassword(r.Context(), p.AccountID, req.CurrentPassword, req.NewPassword)
	if errors.Is(err, app.ErrInvalidCredentials) {
		WriteValidationError(w, r, "current_password", "does not match the account's password")
		return
	}
	if err != nil {
		writeAccountError(w, r, accountFieldNames(err, map[string]string{"password": "new_password"}))
		return
	}
	WriteJSON(w, http.StatusOK, AccountWriteResponse{ID: p.AccountID, Position: pos})
}

// EraseAccountRequest is the body of POST /api/hanse/v1/me/erase.
type EraseAccountRequest struct {
	Password string `json:"password"`
}

// EraseAccountResponse answers an erasure. Complete is false when the
// erasure is recorded (the account is gone, its data key destroyed) but
// a later clean-up step failed; an administrator completes it by erasing
// again (the answer is then 202).
type EraseAccountResponse struct {
	ID       string          `json:"id"`
	Position events.Position `json:"position"`
	Complete bool            `json:"complete"`
}

// erase is the person's own account deletion, confirmed with the
// password.
func (h *accountHandlers) erase(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var req EraseAccountRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if err := h.o.Accounts.CheckPassword(r.Context(), p.AccountID, req.Password); err != nil {
		if errors.Is(err, app.ErrInvalidCredentials) {
			WriteValidationError(w, r, "password", "does not match the account's password")
			return
		}
		writeAccountError(w, r, err)
		return
	}
	pos, err := h.o.Accounts.Erase(r.Context(), p.AccountID, account.ReasonSelf, p.AccountID)
	writeErasure(w, r, p.AccountID, pos, err)
}

// writeErasure answers Erase: 200 when complete, 202 when recorded with a
// step left to retry, an error otherwise.
func writeErasure(w http.ResponseWriter, r *http.Request, id string, pos events.Position, err error) {
	switch {
	case err == nil:
		WriteJSON(w, http.StatusOK, EraseAccountResponse{ID: id, Position: pos, Complete: true})
	case pos != 0:
		slog.Default().ErrorContext(r.Context(), "erasure incomplete: run the erasure again", "account", id, "err", err,
			"request_id", RequestID(r.Context()))
		WriteJSON(w, http.StatusAccepted, EraseAccountResponse{ID: id, Position: pos})
	default:
		writeAccountError(w, r, err)
	}
}

// accountFieldNames renames the field of a validation error to the
// request's parameter names.
func accountFieldNames(err error, names map[string]string) error {
	var ve *app.ValidationError
	if errors.As(err, &ve) {
		if n, ok := names[ve.Field]; ok {
			return &app.ValidationError{Field: n, Reason: ve.Reason}
		}
	}
	return err
}

// writeAccountError maps the account commands' errors to responses.
func writeAccountError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *app.ValidationError
	switch {
	case errors.As(err, &ve):
		WriteValidationError(w, r, ve.Field, ve.Reason)
	case errors.Is(err, app.ErrUsernameTaken):
		WriteError(w, r, http.StatusConflict, CodeUsernameTaken, "the username is taken")
	case errors.Is(err, app.ErrEmailTaken):
		WriteError(w, r, http.StatusConflict, CodeEmailTaken, "an account with this e-mail address exists")
	case errors.Is(err, app.ErrAccountNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such account")
	case errors.Is(err, app.ErrAccountErased):
		WriteError(w, r, http.StatusGone, CodeAccountErased, "the account has been erased")
	case errors.Is(err, app.ErrAccountForbidden):
		WriteError(w, r, http.StatusForbidden, CodeForbidden, "your role does not allow this")
	case errors.Is(err, app.ErrInvalidCredentials):
		WriteError(w, r, http.StatusUnauthorized, CodeUnauthorized, "wrong login or password")
	case errors.Is(err, app.ErrConflict):
		WriteError(w, r, http.StatusConflict, CodeConflict, "the account changed meanwhile; try again")
	case r.Context().Err() != nil:
	default:
		slog.Default().ErrorContext(r.Context(), "accounts", "err", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the command failed")
	}
}

// The default images: a grey silhouette on a light background (avatar,
// 120×120) and a plain band (header, 600×200), made once.
var (
	accountAvatarPNG = sync.OnceValue(func() []byte {
		const n = 120
		img := image.NewRGBA(image.Rect(0, 0, n, n))
		bg, fg := color.RGBA{0xe8, 0xec, 0xf1, 0xff}, color.RGBA{0x9a, 0xa5, 0xb1, 0xff}
		for y := range n {
			for x := range n {
				c := bg
				hx, hy := x-n/2, y-n*2/5 // head
				bx, by := x-n/2, y-n     // shoulders
				if hx*hx+hy*hy <= (n/5)*(n/5) || bx*bx+by*by <= (n*2/5)*(n*2/5) {
					c = fg
				}
				img.SetRGBA(x, y, c)
			}
		}
		return encodeAccountPNG(img)
	})
	accountHeaderPNG = sync.OnceValue(func() []byte {
		img := image.NewRGBA(image.Rect(0, 0, 600, 200))
		for y := range 200 {
			for x := range 600 {
				img.SetRGBA(x, y, color.RGBA{0x3b, 0x5b, 0x7a + uint8(y/8), 0xff})
			}
		}
		return encodeAccountPNG(img)
	})
)

func encodeAccountPNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // an in-memory image always encodes
	}
	return b.Bytes()
}

var accountImageModified = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func serveAccountImage(body func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeContent(w, r, "", accountImageModified, bytes.NewReader(body()))
	}
}
