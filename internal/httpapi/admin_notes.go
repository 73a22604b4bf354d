package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/note"
)

// NoteCommands is what the admin note routes need of the application
// (app.Notes implements it).
type NoteCommands interface {
	Publish(ctx context.Context, authorID, content, language string, visibility note.Visibility, by string) (string, events.Position, error)
	Delete(ctx context.Context, noteID, actorID, by string) (events.Position, error)
}

// PublishNoteRequest is the body of POST /api/admin/actors/{id}/notes.
type PublishNoteRequest struct {
	Content  string `json:"content"`
	Language string `json:"language,omitempty"`
	// Visibility is public (default), unlisted, followers or direct.
	Visibility string `json:"visibility,omitempty"`
}

// NoteWriteResponse answers a note command with the note id and the
// write's position (for read-your-writes).
type NoteWriteResponse struct {
	ID       string          `json:"id"`
	Position events.Position `json:"position"`
}

// Error codes of the note routes.
const (
	CodeNoteGone  = "note_deleted"
	CodeNotAuthor = "not_author"
	CodeConflict  = "conflict"
)

// AdminNoteRoutes mounts, under the admin prefix, POST /actors/{id}/notes
// (a local actor publishes a note; its followers receive Create{Note}) and
// DELETE /notes/{id} (federated as Delete{Tombstone}).
func AdminNoteRoutes(cmds NoteCommands) func(chi.Router) {
	return func(r chi.Router) {
		r.Post("/actors/{id}/notes", func(w http.ResponseWriter, r *http.Request) {
			var req PublishNoteRequest
			if !ReadJSON(w, r, &req) {
				return
			}
			visibility := note.Visibility(strings.ToLower(strings.TrimSpace(req.Visibility)))
			if visibility == "" {
				visibility = note.Public
			}
			id, pos, err := cmds.Publish(r.Context(), chi.URLParam(r, "id"), req.Content, req.Language, visibility, adminActorBy)
			if err != nil {
				writeNoteError(w, r, err)
				return
			}
			WriteJSON(w, http.StatusCreated, NoteWriteResponse{ID: id, Position: pos})
		})
		r.Delete("/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
			id := chi.URLParam(r, "id")
			pos, err := cmds.Delete(r.Context(), id, "", adminActorBy)
			if err != nil {
				writeNoteError(w, r, err)
				return
			}
			WriteJSON(w, http.StatusOK, NoteWriteResponse{ID: id, Position: pos})
		})
	}
}

// writeNoteError maps the note commands' errors to responses.
func writeNoteError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *app.ValidationError
	switch {
	case errors.As(err, &ve):
		writeValidation(w, r, ve)
	case errors.Is(err, app.ErrActorNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such local actor")
	case errors.Is(err, app.ErrActorDeleted):
		WriteError(w, r, http.StatusGone, CodeGone, "the actor has been deleted")
	case errors.Is(err, app.ErrNoteNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such note")
	case errors.Is(err, app.ErrNoteDeleted):
		WriteError(w, r, http.StatusGone, CodeNoteGone, "the note has been deleted")
	case errors.Is(err, app.ErrNotAuthor):
		WriteError(w, r, http.StatusForbidden, CodeNotAuthor, "only the author may do this")
	case errors.Is(err, app.ErrConflict):
		WriteError(w, r, http.StatusConflict, CodeConflict, "the note changed meanwhile; try again")
	case r.Context().Err() != nil:
	default:
		slog.Default().ErrorContext(r.Context(), "admin notes", "err", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the command failed")
	}
}
