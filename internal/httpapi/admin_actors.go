package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
)

// AdminActorsPath is where the actor administration routes live.
const AdminActorsPath = AdminPrefix + "/actors"

// Error codes of the actor administration API.
const (
	// CodeInvalid: a field of the command is invalid (422, with "field").
	CodeInvalid = "invalid"
	// CodeUsernameTaken: another actor has the username (409).
	CodeUsernameTaken = "username_taken"
	// CodeGone: the actor has been deleted (410).
	CodeGone = "gone"
)

// adminActorBy is who the admin API's writes are recorded as done by,
// until accounts with admin scopes exist.
const adminActorBy = "admin-token"

// CreateActorRequest is the body of POST /api/admin/actors.
type CreateActorRequest struct {
	// Kind is person, group (a learning community) or organization.
	Kind                      string `json:"kind"`
	Username                  string `json:"username"`
	Name                      string `json:"name"`
	Summary                   string `json:"summary"`
	ManuallyApprovesFollowers bool   `json:"manually_approves_followers"`
	Discoverable              bool   `json:"discoverable"`
}

// CreateActorResponse is the 201 body of POST /api/admin/actors.
type CreateActorResponse struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Username string `json:"username"`
	// IRI is the actor's ActivityPub id (also the Location header).
	IRI string `json:"iri"`
	// Handle is "username@host".
	Handle string `json:"handle"`
	// Position is the write's global position, for Hanse-Min-Position.
	Position events.Position `json:"position"`
}

// ActorWriteResponse is the 200 body of rotate-key and delete.
type ActorWriteResponse struct {
	ID       string          `json:"id"`
	Position events.Position `json:"position"`
}

// ValidationErrorBody is the 422 body: the shared error shape plus the
// offending field.
type ValidationErrorBody struct {
	Error     ValidationErrorDetail `json:"error"`
	RequestID string                `json:"request_id,omitempty"`
}

// ValidationErrorDetail is the error member of ValidationErrorBody.
type ValidationErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// adminKinds maps the API's kind names to actor kinds; the instance actor
// (Application) is not created through the API.
var adminKinds = map[string]actor.Kind{
	"person":       actor.KindPerson,
	"group":        actor.KindGroup,
	"organization": actor.KindOrganization,
}

// AdminActorRoutes returns the actor administration routes, to be added
// under AdminPrefix (Deps.Admin, behind the admin token):
//
//	POST   /actors                  create an actor (201, Location: its IRI)
//	POST   /actors/{id}/rotate-key  replace its key pair (200)
//	DELETE /actors/{id}             delete it (200)
//
// Errors: 400 malformed JSON or unknown fields, 422 invalid fields (with
// "field"), 409 username taken, 404 unknown actor, 410 deleted actor.
// Handlers decode, call cmds and map errors; u builds IRIs and handles.
func AdminActorRoutes(cmds app.ActorCommands, u urls.Scheme) func(chi.Router) {
	a := adminActors{cmds: cmds, urls: u}
	return func(r chi.Router) {
		r.Post("/actors", a.create)
		r.Post("/actors/{id}/rotate-key", a.rotateKey)
		r.Delete("/actors/{id}", a.delete)
	}
}

type adminActors struct {
	cmds app.ActorCommands
	urls urls.Scheme
}

func (a adminActors) create(w http.ResponseWriter, r *http.Request) {
	var req CreateActorRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	kind, ok := adminKinds[strings.ToLower(strings.TrimSpace(req.Kind))]
	if !ok {
		writeValidation(w, r, &app.ValidationError{Field: "kind", Reason: "must be person, group or organization"})
		return
	}
	res, err := a.cmds.Create(r.Context(), app.CreateActor{
		Kind:                      kind,
		Username:                  req.Username,
		Name:                      req.Name,
		Summary:                   req.Summary,
		ManuallyApprovesFollowers: req.ManuallyApprovesFollowers,
		Discoverable:              req.Discoverable,
		By:                        adminActorBy,
		CorrelationID:             RequestID(r.Context()),
	})
	if err != nil {
		writeActorError(w, r, err)
		return
	}
	username := actor.NormalizeUsername(req.Username) // as the actor records it
	iri := a.urls.Actor(kind, username)
	w.Header().Set("Location", iri)
	WriteJSON(w, http.StatusCreated, CreateActorResponse{
		ID: res.ActorID, Kind: kindName(kind), Username: username, IRI: iri,
		Handle: a.urls.Handle(username), Position: res.Position,
	})
}

func (a adminActors) rotateKey(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	pos, err := a.cmds.RotateKey(r.Context(), id, adminActorBy)
	if err != nil {
		writeActorError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, ActorWriteResponse{ID: id, Position: pos})
}

func (a adminActors) delete(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	pos, err := a.cmds.Delete(r.Context(), id, adminActorBy)
	if err != nil {
		writeActorError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, ActorWriteResponse{ID: id, Position: pos})
}

func kindName(k actor.Kind) string {
	for name, kind := range adminKinds {
		if kind == k {
			return name
		}
	}
	return strings.ToLower(string(k))
}

// writeActorError maps the actor commands' errors to responses.
func writeActorError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *app.ValidationError
	switch {
	case errors.As(err, &ve):
		writeValidation(w, r, ve)
	case errors.Is(err, app.ErrUsernameTaken):
		WriteError(w, r, http.StatusConflict, CodeUsernameTaken, "the username is taken")
	case errors.Is(err, app.ErrActorNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such actor")
	case errors.Is(err, app.ErrActorDeleted):
		WriteError(w, r, http.StatusGone, CodeGone, "the actor has been deleted")
	case errors.Is(err, app.ErrConflict):
		WriteError(w, r, http.StatusConflict, CodeConflict, "the actor changed meanwhile; try again")
	case r.Context().Err() != nil:
		// The client has gone; nobody reads the answer.
	default:
		slog.Default().ErrorContext(r.Context(), "admin actors", "err", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the command failed")
	}
}

func writeValidation(w http.ResponseWriter, r *http.Request, ve *app.ValidationError) {
	WriteJSON(w, http.StatusUnprocessableEntity, ValidationErrorBody{
		Error:     ValidationErrorDetail{Code: CodeInvalid, Message: ve.Error(), Field: ve.Field},
		RequestID: RequestID(r.Context()),
	})
}
