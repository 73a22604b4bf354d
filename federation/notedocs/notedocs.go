package notedocs

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/note"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/notes"
)

// NotesSegment is the path segment between an actor IRI and a note id.
const NotesSegment = "/notes/"

// activitySuffix ends the IRI of a note's Create activity.
const activitySuffix = "/activity"

// Options are the optional settings of the handler.
type Options struct {
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
}

// Handler serves note documents and the outbox. Build it with New; it is
// safe for concurrent use.
type Handler struct {
	urls   urls.Scheme
	actors actors.Reader
	notes  notes.Reader
	log    *slog.Logger
}

// New returns the handler of the instance with URL scheme u.
func New(u urls.Scheme, a actors.Reader, n notes.Reader, o Options) *Handler {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{urls: u, actors: a, notes: n, log: log}
}

// Patterns are the route patterns (chi syntax) Register mounts: a note and
// its Create under every kind's actor path.
func Patterns() []string {
	var out []string
	for _, prefix := range urls.ActorPrefixes() {
		out = append(out, prefix+"{username}"+NotesSegment+"{id}", prefix+"{username}"+NotesSegment+"{id}"+activitySuffix)
	}
	return out
}

// Register mounts the handler on m at every pattern of Patterns, for GET
// and HEAD.
func (h *Handler) Register(m actorpub.Mux) {
	for _, p := range Patterns() {
		m.Method(http.MethodGet, p, h)
		m.Method(http.MethodHead, p, h)
	}
}

// Visibilities are the visibilities the outbox lists.
var Visibilities = []note.Visibility{note.Public, note.Unlisted}

// Outbox is the actorpub.Page of an actor's outbox: the Create activities
// of its public and unlisted notes, newest first, embedded.
func (h *Handler) Outbox(ctx context.Context, owner actors.Actor, cursor string, limit int) (actorpub.PageResult, error) {
	p, err := h.notes.ByAuthor(ctx, owner.ID, Visibilities, cursor, min(limit, notes.MaxPageSize))
	if errors.Is(err, notes.ErrBadCursor) {
		return actorpub.PageResult{}, actorpub.ErrBadCursor
	}
	if err != nil {
		return actorpub.PageResult{}, err
	}
	iri := h.urls.Actor(owner.Kind, owner.Username)
	res := actorpub.PageResult{Total: p.Total, Next: p.Next}
	for _, n := range p.Items {
		res.Items = append(res.Items, as2.Embed(outbound.CreateNote(data(n, iri))))
	}
	return res, nil
}

// Count is the number of local notes not deleted (NodeInfo's localPosts).
func (h *Handler) Count(ctx context.Context) (int, error) { return h.notes.Count(ctx) }

func data(n notes.Note, authorIRI string) outbound.NoteData {
	return outbound.NoteData{ID: n.ID, AuthorIRI: authorIRI, Content: n.Content, Language: n.Language,
		Visibility: n.Visibility, Published: n.Published}
}

// errNotFound: no such note to show.
var errNotFound = errors.New("notedocs: no such note")

// ServeHTTP answers GET and HEAD of a note or its Create activity.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		actorpub.WriteMethodNotAllowed(w, r)
		return
	}
	w.Header().Set("Vary", "Accept")
	n, author, isActivity, err := h.lookup(r.Context(), r.URL.Path)
	if err != nil {
		actorpub.WriteReadError(w, r, h.log, err, "note", errNotFound, notes.ErrNotFound, actors.ErrNotFound)
		return
	}
	authorIRI := h.urls.Actor(author.Kind, author.Username)
	d := data(n, authorIRI)
	noteIRI := outbound.NoteIRI(authorIRI, n.ID)
	asJSON := actorpub.WantsActivityJSON(r)
	if !n.DeletedAt.IsZero() {
		if asJSON || isActivity {
			id, former := noteIRI, as2.TypeNote
			if isActivity {
				id, former = noteIRI+activitySuffix, as2.TypeCreate
			}
			actorpub.WriteDocument(w, r, h.log, http.StatusGone, func() ([]byte, error) {
				return actorpub.Tombstone(id, former, n.DeletedAt)
			})
			return
		}
		actorpub.WritePage(w, r, h.log, http.StatusGone, pageTemplate, notePage{IRI: noteIRI, Gone: true})
		return
	}
	if isActivity {
		actorpub.WriteDocument(w, r, h.log, http.StatusOK, func() ([]byte, error) { return as2.Encode(outbound.CreateNote(d)) })
		return
	}
	if asJSON {
		actorpub.WriteDocument(w, r, h.log, http.StatusOK, func() ([]byte, error) { return as2.Encode(outbound.NoteObject(d)) })
		return
	}
	actorpub.WritePage(w, r, h.log, http.StatusOK, pageTemplate, notePage{IRI: noteIRI, AuthorIRI: authorIRI,
		Author: h.urls.Handle(author.Username), Content: template.HTML(outbound.ContentHTML(n.Content)),
		Language: n.Language, Published: n.Published.UTC().Format(time.RFC3339)})
}

// lookup finds the note of path and its author. Notes of another
// actor, of an actor of another kind than the path says, and direct and
// followers-only notes are errNotFound.
func (h *Handler) lookup(ctx context.Context, path string) (notes.Note, actors.Actor, bool, error) {
	path, isActivity := strings.CutSuffix(path, activitySuffix)
	i := strings.LastIndex(path, NotesSegment)
	if i < 0 {
		return notes.Note{}, actors.Actor{}, false, errNotFound
	}
	actorPath, id := path[:i], path[i+len(NotesSegment):]
	t, ok := urls.ParsePath(actorPath)
	if !ok || id == "" || strings.Contains(id, "/") || t.Collection != "" || t.Profile || t.Kind == actor.KindApplication {
		return notes.Note{}, actors.Actor{}, false, errNotFound
	}
	a, err := h.actors.ByUsername(ctx, t.Username)
	if err != nil {
		return notes.Note{}, actors.Actor{}, false, err
	}
	if a.Kind != t.Kind {
		return notes.Note{}, actors.Actor{}, false, errNotFound
	}
	n, err := h.notes.ByID(ctx, id)
	if err != nil {
		return notes.Note{}, actors.Actor{}, false, err
	}
	if n.AuthorID != a.ID || (n.Visibility != note.Public && n.Visibility != note.Unlisted) {
		return notes.Note{}, actors.Actor{}, false, errNotFound
	}
	if !a.DeletedAt.IsZero() && n.DeletedAt.IsZero() {
		n.DeletedAt = a.DeletedAt // the author's deletion took the note with it
	}
	return n, a, isActivity, nil
}

var pageTemplate = template.Must(template.New("note").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Gone}}Gone{{else}}Note by @{{.Author}}{{end}}</title>
<link rel="alternate" type="application/activity+json" href="{{.IRI}}">
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}</style>
</head>
<body>
<main>
{{- if .Gone}}
<h1>Gone</h1>
<p>This note has been deleted.</p>
{{- else}}
<p><a href="{{.AuthorIRI}}">@{{.Author}}</a> · <time datetime="{{.Published}}">{{.Published}}</time></p>
<article{{if .Language}} lang="{{.Language}}"{{end}}>{{.Content}}</article>
{{- end}}
</main>
</body>
</html>
`))

// notePage is the data of pageTemplate. Content is outbound.ContentHTML's
// output: escaped text in <p> and <br> only.
type notePage struct {
	IRI, AuthorIRI, Author, Language, Published string
	Content                                     template.HTML
	Gone                                        bool
}
