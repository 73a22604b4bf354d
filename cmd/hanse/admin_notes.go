package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hanse-network/hanse/internal/config"
)

// adminNotesHelp is the part of "hanse admin"'s subcommand list about notes.
const adminNotesHelp = `  post-note      publish a note by a local actor (--actor ID --content TEXT)
  delete-note ID delete the note with id ID (followers get a Delete)`

// adminPostNoteBody mirrors httpapi's note request.
type adminPostNoteBody struct {
	Content    string `json:"content"`
	Language   string `json:"language,omitempty"`
	Visibility string `json:"visibility,omitempty"`
}

// adminPostNote is "hanse admin post-note": POST
// /api/admin/actors/{id}/notes.
func adminPostNote(ctx context.Context, env *cliEnv, args []string) error {
	c := newAdminCmd("admin post-note", "--actor ID --content TEXT [--language TAG] [--visibility V] [flags]", `
Publish a note by the local actor with id ID. Content is plain text of up
to 5,000 characters. Public and unlisted notes appear in the actor's
outbox; public, unlisted and followers-only notes are delivered to the
actor's followers; direct notes go nowhere yet.`)
	var actorID string
	var body adminPostNoteBody
	config.String(c.fs, &actorID, "actor", "", "", "`id` of the local actor who writes the note (required)")
	config.String(c.fs, &body.Content, "content", "", "", "the note's plain `text` (required)")
	config.String(c.fs, &body.Language, "language", "", "", "BCP 47 language `tag` of the content, such as de or pt-BR")
	config.Choice(c.fs, &body.Visibility, "visibility", "", "public", []string{"public", "unlisted", "followers", "direct"},
		"who may see it: public, unlisted, followers or direct")
	rest, err := c.parse(env, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", rest[0])}
	case strings.TrimSpace(actorID) == "":
		return &usageError{fs: c.fs, err: errors.New("--actor is required")}
	case strings.TrimSpace(body.Content) == "":
		return &usageError{fs: c.fs, err: errors.New("--content is required")}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	raw, err := c.call(ctx, http.MethodPost, "/api/admin/actors/"+url.PathEscape(actorID)+"/notes", payload, "", actorID)
	if err != nil {
		return err
	}
	if c.asJSON {
		return writeJSONLine(env.stdout, raw)
	}
	var res struct {
		ID       string
		Position uint64
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	_, err = fmt.Fprintf(env.stdout, "Published %s note %s by actor %s (position %d)\n", body.Visibility, res.ID, actorID, res.Position)
	return err
}

// adminDeleteNote is "hanse admin delete-note ID": DELETE
// /api/admin/notes/{id}.
func adminDeleteNote(ctx context.Context, env *cliEnv, args []string) error {
	c := newAdminCmd("admin delete-note", "ID [flags]", `
Delete the note with id ID on behalf of its author. Its IRI then answers
410 Gone, and the followers it was delivered to are sent a Delete.`)
	rest, err := c.parse(env, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0 || strings.TrimSpace(rest[0]) == "":
		return &usageError{fs: c.fs, err: errors.New("missing note id")}
	case len(rest) > 1:
		return &usageError{fs: c.fs, err: fmt.Errorf("unexpected argument %q", rest[1])}
	}
	id := rest[0]
	raw, err := c.call(ctx, http.MethodDelete, "/api/admin/notes/"+url.PathEscape(id), nil, "", "")
	if err != nil {
		return err
	}
	if c.asJSON {
		return writeJSONLine(env.stdout, raw)
	}
	var res struct{ Position uint64 }
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	_, err = fmt.Fprintf(env.stdout, "Deleted note %s (position %d)\n", id, res.Position)
	return err
}
