package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/projections/accounts"
)

// AdminAccountsPath is where the account administration routes live.
const AdminAccountsPath = AdminPrefix + "/accounts"

// DefaultAdminAccountsLimit is the page size of GET /api/admin/accounts
// without ?limit.
const DefaultAdminAccountsLimit = 50

// AdminAccountCommands is what the admin account routes need of the
// application (app.Accounts implements it).
type AdminAccountCommands interface {
	Register(ctx context.Context, in app.RegisterAccount) (app.AccountInfo, events.Position, error)
	Profile(ctx context.Context, accountID string) (app.AccountProfile, error)
	ChangeRole(ctx context.Context, accountID string, role account.Role, by app.Acting) (events.Position, error)
	Erase(ctx context.Context, accountID, reason, by string) (events.Position, error)
}

// CreateAccountRequest is the body of POST /api/admin/accounts.
type CreateAccountRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	// Password is optional: without one a strong password is generated
	// and returned once.
	Password string `json:"password,omitempty"`
	// Role defaults to learner.
	Role        string `json:"role,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Locale      string `json:"locale,omitempty"`
}

// CreateAccountResponse is the 201 body of POST /api/admin/accounts.
type CreateAccountResponse struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Role     string `json:"role"`
	// Password is the generated password, present only when none was
	// given. It is shown this once.
	Password string          `json:"password,omitempty"`
	Position events.Position `json:"position"`
}

// AdminAccountJSON is an account as administrators see it. Email is only
// in GET /accounts/{id} (read from the event store, not the read model).
type AdminAccountJSON struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Role        string `json:"role"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"display_name"`
	Bio         string `json:"bio"`
	Locale      string `json:"locale,omitempty"`
	CreatedAt   string `json:"created_at"`
	Erased      bool   `json:"erased"`
	ErasedAt    string `json:"erased_at,omitempty"`
}

// AdminAccountListJSON is one page of GET /api/admin/accounts.
type AdminAccountListJSON struct {
	Items []AdminAccountJSON `json:"items"`
	// Next is the cursor of the next page (?after=), absent on the last.
	Next string `json:"next,omitempty"`
}

// SetRoleRequest is the body of POST /api/admin/accounts/{id}/role.
type SetRoleRequest struct {
	Role string `json:"role"`
}

// SetRoleResponse answers a role change.
type SetRoleResponse struct {
	ID       string          `json:"id"`
	Role     string          `json:"role"`
	Position events.Position `json:"position"`
}

// AdminAccountRoutes returns the account administration routes, to be
// added under AdminPrefix:
//
//	POST /accounts              create an account (201; a generated password is returned once)
//	GET  /accounts              list (?after=<id>&limit=1..200, or ?username=U for one account)
//	GET  /accounts/{id}         one account, with its e-mail address
//	POST /accounts/{id}/role    {"role"}: learner, facilitator, institution_admin, instance_admin
//	POST /accounts/{id}/erase   erase the account (200; 202 when a clean-up step is left: erase again)
//
// reads wraps the list (AwaitPosition on the accounts projection); nil
// means none. The acting admin is the request's Principal, or the static
// admin token.
func AdminAccountRoutes(cmds AdminAccountCommands, reader accounts.Reader, reads func(http.Handler) http.Handler) func(chi.Router) {
	if reads == nil {
		reads = func(h http.Handler) http.Handler { return h }
	}
	h := adminAccounts{cmds: cmds, q: reader}
	return func(r chi.Router) {
		r.Post("/accounts", h.create)
		r.Method(http.MethodGet, "/accounts", reads(http.HandlerFunc(h.list)))
		r.Get("/accounts/{id}", h.get)
		r.Post("/accounts/{id}/role", h.setRole)
		r.Post("/accounts/{id}/erase", h.erase)
	}
}

type adminAccounts struct {
	cmds AdminAccountCommands
	q    accounts.Reader
}

// adminAccountActing is who an admin request acts as: the signed-in admin, or
// the static admin token.
func adminAccountActing(r *http.Request) app.Acting {
	if p, ok := PrincipalFrom(r.Context()); ok && p.AccountID != "" {
		return app.Acting{ID: p.AccountID, Admin: p.Role.Admin()}
	}
	return app.Acting{ID: adminActorBy, Admin: true}
}

func adminAccountTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (h adminAccounts) create(w http.ResponseWriter, r *http.Request) {
	var req CreateAccountRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	generated := ""
	if req.Password == "" {
		var err error
		if generated, err = app.GenerateAccountPassword(); err != nil {
			writeAccountError(w, r, err)
			return
		}
		req.Password = generated
	}
	role := account.Role(strings.TrimSpace(req.Role))
	if role == "" {
		role = account.Learner
	}
	info, pos, err := h.cmds.Register(r.Context(), app.RegisterAccount{Username: req.Username, Email: req.Email,
		Password: req.Password, Role: role, DisplayName: req.DisplayName, Locale: req.Locale, By: adminAccountActing(r).ID})
	if err != nil {
		writeAccountError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusCreated, CreateAccountResponse{ID: info.ID, Username: info.Username, Role: string(info.Role),
		Password: generated, Position: pos})
}

func (h adminAccounts) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if u := q.Get("username"); u != "" {
		out := AdminAccountListJSON{Items: []AdminAccountJSON{}}
		a, err := h.q.ByUsername(r.Context(), u)
		switch {
		case err == nil:
			out.Items = append(out.Items, adminAccountJSON(a))
		case !errors.Is(err, accounts.ErrNotFound):
			writeAdminAccountReadError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, out)
		return
	}
	limit := DefaultAdminAccountsLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > accounts.MaxPageSize {
			WriteValidationError(w, r, "limit", "must be a number from 1 to "+strconv.Itoa(accounts.MaxPageSize))
			return
		}
		limit = n
	}
	page, err := h.q.List(r.Context(), q.Get("after"), limit)
	if errors.Is(err, accounts.ErrNotFound) {
		WriteValidationError(w, r, "after", "is no account id of this listing")
		return
	}
	if err != nil {
		writeAdminAccountReadError(w, r, err)
		return
	}
	out := AdminAccountListJSON{Items: make([]AdminAccountJSON, 0, len(page.Items)), Next: page.Next}
	for _, a := range page.Items {
		out.Items = append(out.Items, adminAccountJSON(a))
	}
	WriteJSON(w, http.StatusOK, out)
}

func adminAccountJSON(a accounts.Account) AdminAccountJSON {
	return AdminAccountJSON{ID: a.ID, Username: a.Username, Role: string(a.Role), DisplayName: a.DisplayName, Bio: a.Bio,
		Locale: a.Locale, CreatedAt: adminAccountTime(a.CreatedAt), Erased: a.Erased, ErasedAt: adminAccountTime(a.ErasedAt)}
}

func writeAdminAccountReadError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	slog.Default().ErrorContext(r.Context(), "admin accounts", "err", err, "request_id", RequestID(r.Context()))
	WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the accounts could not be read")
}

func (h adminAccounts) get(w http.ResponseWriter, r *http.Request) {
	p, err := h.cmds.Profile(r.Context(), chi.URLParam(r, "id"))
	if err != nil && !errors.Is(err, app.ErrAccountErased) {
		writeAccountError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, AdminAccountJSON{ID: p.ID, Username: p.Username, Role: string(p.Role), Email: p.Email,
		DisplayName: p.DisplayName, Bio: p.Bio, Locale: p.Locale, CreatedAt: adminAccountTime(p.CreatedAt), Erased: p.Erased})
}

func (h adminAccounts) setRole(w http.ResponseWriter, r *http.Request) {
	var req SetRoleRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	role := account.Role(strings.TrimSpace(req.Role))
	pos, err := h.cmds.ChangeRole(r.Context(), id, role, adminAccountActing(r))
	if err != nil {
		writeAccountError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, SetRoleResponse{ID: id, Role: string(role), Position: pos})
}

func (h adminAccounts) erase(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	pos, err := h.cmds.Erase(r.Context(), id, account.ReasonAdmin, adminAccountActing(r).ID)
	writeErasure(w, r, id, pos, err)
}
