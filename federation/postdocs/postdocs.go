package postdocs

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections/actors"
)

// Options are the optional settings of the handler.
type Options struct {
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
}

// Handler serves post documents, and the outbox and featured pages of
// actor documents. Build it with New; it is safe for concurrent use.
type Handler struct {
	urls   urls.Scheme
	actors actors.Reader
	posts  Reader
	log    *slog.Logger
}

// New returns the handler of the instance with URL scheme u, reading
// actors from a and posts from p.
func New(u urls.Scheme, a actors.Reader, p Reader, o Options) *Handler {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{urls: u, actors: a, posts: p, log: log}
}

// Patterns are the route patterns (chi syntax) Register mounts: a post and
// its Create under every kind's actor path.
func Patterns() []string {
	var out []string
	for _, prefix := range urls.ActorPrefixes() {
		p := prefix + "{username}" + urls.PostsSegment + "{id}"
		out = append(out, p, p+urls.ActivitySuffix)
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

// Shown are the visibilities whose posts are served to anyone; the others
// answer 404 like unknown posts, since requests are not authenticated.
var Shown = []post.Visibility{post.Public, post.Unlisted}

func shown(v post.Visibility) bool { return v == post.Public || v == post.Unlisted }

// errNotFound: no such post to show.
var errNotFound = errors.New("postdocs: no such post")

// ServeHTTP answers GET and HEAD of a post ({actor IRI}/posts/{id}) or its
// Create (…/activity): the AS2 document (exactly what outbound delivers,
// application/activity+json) when Accept names an AS2 media type, else an
// HTML page; Vary: Accept. Followers-only, members-only and direct posts
// answer 404 like unknown ones; a deleted or removed post (or one whose
// author is gone) answers 410 with a Tombstone or an HTML notice.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		actorpub.WriteMethodNotAllowed(w, r)
		return
	}
	w.Header().Set("Vary", "Accept")
	p, author, isActivity, err := h.lookup(r.Context(), r.URL.Path)
	if err != nil {
		actorpub.WriteReadError(w, r, h.log, err, "post", errNotFound, ErrNotFound, actors.ErrNotFound)
		return
	}
	authorIRI := h.urls.Actor(author.Kind, author.Username)
	postIRI := urls.PostIRI(authorIRI, p.ID)
	asJSON := actorpub.WantsActivityJSON(r)
	if !p.Gone.IsZero() {
		if asJSON || isActivity {
			id, former := postIRI, formerType(p.Kind)
			if isActivity {
				id, former = urls.PostActivityIRI(authorIRI, p.ID), as2.TypeCreate
			}
			actorpub.WriteDocument(w, r, h.log, http.StatusGone, func() ([]byte, error) {
				return actorpub.Tombstone(id, former, p.Gone)
			})
			return
		}
		actorpub.WritePage(w, r, h.log, http.StatusGone, pageTemplate, page{IRI: postIRI, Gone: true})
		return
	}
	d, err := h.data(r.Context(), p, authorIRI)
	if err != nil {
		h.log.ErrorContext(r.Context(), "postdocs: read", "err", err, "path", r.URL.Path)
		actorpub.WriteError(w, http.StatusInternalServerError, actorpub.CodeInternal, "the post could not be read")
		return
	}
	if isActivity {
		actorpub.WriteDocument(w, r, h.log, http.StatusOK, func() ([]byte, error) {
			return as2.Encode(outbound.CreatePost(h.urls, d))
		})
		return
	}
	if asJSON {
		actorpub.WriteDocument(w, r, h.log, http.StatusOK, func() ([]byte, error) {
			return as2.Encode(outbound.PostObject(h.urls, d))
		})
		return
	}
	actorpub.WritePage(w, r, h.log, http.StatusOK, pageTemplate, pageOf(h.urls, d, author))
}

func formerType(k post.Kind) string {
	if k == post.Article {
		return as2.TypeArticle
	}
	return as2.TypeNote
}

// lookup finds the post of path and its author: posts of another actor,
// under another kind's path, by a remote author, and not shown
// visibilities are errNotFound.
func (h *Handler) lookup(ctx context.Context, path string) (Post, actors.Actor, bool, error) {
	target, ok := urls.ParsePostPath(path)
	if !ok {
		return Post{}, actors.Actor{}, false, errNotFound
	}
	a, err := h.actors.ByUsername(ctx, target.Author.Username)
	if err != nil {
		return Post{}, actors.Actor{}, false, err
	}
	if a.Kind != target.Author.Kind {
		return Post{}, actors.Actor{}, false, errNotFound
	}
	p, err := h.posts.Post(ctx, target.ID)
	if err != nil {
		return Post{}, actors.Actor{}, false, err
	}
	if !p.Local() || p.AuthorID != a.ID || !shown(p.Visibility) {
		return Post{}, actors.Actor{}, false, errNotFound
	}
	if !a.DeletedAt.IsZero() && p.Gone.IsZero() {
		p.Gone = a.DeletedAt // the author's deletion took the post with it
	}
	return p, a, target.Activity, nil
}

// data assembles what outbound renders a local post from.
func (h *Handler) data(ctx context.Context, p Post, authorIRI string) (outbound.PostData, error) {
	d := outbound.PostData{ID: p.ID, Kind: p.Kind, AuthorIRI: authorIRI, InReplyTo: p.InReplyToIRI,
		Visibility: p.Visibility, Languages: p.Languages, Content: p.Content, Hashtags: p.Hashtags, Mentions: p.Mentions,
		Attachments: p.Attachments, Sensitive: p.Sensitive, Published: p.Published, Updated: p.Updated}
	d.Content.Activity = ""
	if p.CommunityID != "" {
		g, err := h.actors.ByID(ctx, p.CommunityID)
		switch {
		case err == nil:
			d.GroupIRI = h.urls.Actor(g.Kind, g.Username)
		case !errors.Is(err, actors.ErrNotFound):
			return outbound.PostData{}, err
		}
	}
	return d, nil
}

// object returns a post as a collection item: a local post's object
// rendered, a received post's object as received (or its IRI).
func (h *Handler) object(ctx context.Context, p Post) (as2.Ref, error) {
	if !p.Local() {
		if a, err := as2.Decode([]byte(p.Content.Activity)); err == nil {
			if o := a.InlineObject(); o != nil && o.ID == p.ObjectIRI {
				return as2.Verbatim(o), nil
			}
		}
		return as2.IRI(p.ObjectIRI), nil
	}
	author, err := h.actors.ByID(ctx, p.AuthorID)
	if err != nil {
		return as2.Ref{}, err
	}
	d, err := h.data(ctx, p, h.urls.Actor(author.Kind, author.Username))
	if err != nil {
		return as2.Ref{}, err
	}
	return as2.Embed(outbound.PostObject(h.urls, d)), nil
}

// announce returns the Group's Announce{Create} of a shared post, as
// outbound sent it (a received post's Create as received).
func (h *Handler) announce(ctx context.Context, groupIRI string, p Post) (as2.Ref, error) {
	g := outbound.GroupActivity{GroupIRI: groupIRI, PostID: p.ID, Visibility: p.Visibility, At: p.AnnouncedAt}
	if !p.Local() {
		g.ObjectIRI = p.ObjectIRI
		if a, err := as2.Decode([]byte(p.Content.Activity)); err == nil && a.Type == as2.TypeCreate {
			return as2.Embed(outbound.AnnounceActivity(g, urls.AnnounceCreate, "", as2.Verbatim(a))), nil
		}
		return as2.Embed(outbound.AnnouncePost(g, as2.IRI(p.ObjectIRI))), nil
	}
	author, err := h.actors.ByID(ctx, p.AuthorID)
	if err != nil {
		return as2.Ref{}, err
	}
	d, err := h.data(ctx, p, h.urls.Actor(author.Kind, author.Username))
	if err != nil {
		return as2.Ref{}, err
	}
	g.ObjectIRI = d.IRI()
	return as2.Embed(outbound.AnnounceActivity(g, urls.AnnounceCreate, "", as2.Embed(outbound.CreatePost(h.urls, d)))), nil
}

// Outbox returns the actorpub.Page of the outbox collection:
//
//   - a Group's: the Announce{Create} of the public and unlisted posts
//     its community shared, the latest shared first (members-only posts
//     are never listed);
//   - anyone else's: the Create of their public and unlisted posts,
//     newest first, followed by the items of notes (the notes' outbox,
//     notedocs.Handler.Outbox; nil for none).
//
// Cursors are "p:…" within the posts and "n:…" within the notes.
func (h *Handler) Outbox(notes actorpub.Page) actorpub.Page {
	return func(ctx context.Context, owner actors.Actor, cursor string, limit int) (actorpub.PageResult, error) {
		return h.mergedOutbox(ctx, owner, notes, cursor, limit)
	}
}

// listing is the posts part of an outbox: a Group's announces, anyone
// else's own posts, each rendered as the activity that shared it.
func (h *Handler) listing(ctx context.Context, owner actors.Actor, cursor string, limit int) (Page, func(Post) (as2.Ref, error), error) {
	iri := h.urls.Actor(owner.Kind, owner.Username)
	if owner.Kind == actor.KindGroup {
		pg, err := h.posts.Announced(ctx, owner.ID, Shown, cursor, limit)
		return pg, func(p Post) (as2.Ref, error) { return h.announce(ctx, iri, p) }, err
	}
	pg, err := h.posts.ByAuthor(ctx, owner.ID, Shown, cursor, limit)
	return pg, func(p Post) (as2.Ref, error) {
		d, err := h.data(ctx, p, iri)
		if err != nil {
			return as2.Ref{}, err
		}
		return as2.Embed(outbound.CreatePost(h.urls, d)), nil
	}, err
}

// mergedOutbox pages through the owner's posts part (see listing), then
// the notes the owner published through the admin API. Cursors are
// "p:<posts cursor>" and "n:<notes cursor>".
func (h *Handler) mergedOutbox(ctx context.Context, owner actors.Actor, notes actorpub.Page, cursor string,
	limit int) (actorpub.PageResult, error) {
	if notes == nil {
		notes = actorpub.Empty
	}
	phase, inner := "p", ""
	if cursor != "" {
		var ok bool
		if phase, inner, ok = strings.Cut(cursor, ":"); !ok || (phase != "p" && phase != "n") {
			return actorpub.PageResult{}, actorpub.ErrBadCursor
		}
	}
	noteTotal, err := notes(ctx, owner, "", 0)
	if err != nil {
		return actorpub.PageResult{}, err
	}
	postCursor := ""
	if phase == "p" {
		postCursor = inner
	}
	pg, render, err := h.listing(ctx, owner, postCursor, limit)
	if errors.Is(err, ErrBadCursor) {
		return actorpub.PageResult{}, actorpub.ErrBadCursor
	}
	if err != nil {
		return actorpub.PageResult{}, err
	}
	res := actorpub.PageResult{Total: pg.Total + noteTotal.Total}
	if limit <= 0 {
		return res, nil
	}
	noteCursor := inner
	if phase == "p" {
		for _, p := range pg.Items {
			ref, err := render(p)
			if err != nil {
				return actorpub.PageResult{}, err
			}
			res.Items = append(res.Items, ref)
		}
		if pg.Next != "" {
			res.Next = "p:" + pg.Next
			return res, nil
		}
		if len(res.Items) >= limit {
			if noteTotal.Total > 0 {
				res.Next = "n:"
			}
			return res, nil
		}
		noteCursor = ""
	}
	np, err := notes(ctx, owner, noteCursor, limit-len(res.Items))
	if err != nil {
		return actorpub.PageResult{}, err
	}
	res.Items = append(res.Items, np.Items...)
	if np.Next != "" {
		res.Next = "n:" + np.Next
	}
	return res, nil
}

// Featured returns the actorpub.Page of the featured collection: a
// Group's pinned posts (public and unlisted ones, embedded), empty for
// everyone else. The cursor is the offset.
func (h *Handler) Featured() actorpub.Page {
	return func(ctx context.Context, owner actors.Actor, cursor string, limit int) (actorpub.PageResult, error) {
		if owner.Kind != actor.KindGroup {
			return actorpub.PageResult{}, nil
		}
		offset := 0
		if cursor != "" {
			n, err := strconv.Atoi(cursor)
			if err != nil || n < 0 || strconv.Itoa(n) != cursor {
				return actorpub.PageResult{}, actorpub.ErrBadCursor
			}
			offset = n
		}
		pinned, err := h.posts.Pinned(ctx, owner.ID)
		if err != nil {
			return actorpub.PageResult{}, err
		}
		var items []Post
		for _, p := range pinned {
			if shown(p.Visibility) && p.Gone.IsZero() {
				items = append(items, p)
			}
		}
		res := actorpub.PageResult{Total: len(items)}
		if limit <= 0 || offset >= len(items) {
			return res, nil
		}
		end := min(offset+limit, len(items))
		for _, p := range items[offset:end] {
			ref, err := h.object(ctx, p)
			if err != nil {
				return actorpub.PageResult{}, err
			}
			res.Items = append(res.Items, ref)
		}
		if end < len(items) {
			res.Next = strconv.Itoa(end)
		}
		return res, nil
	}
}

var pageTemplate = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="{{if .Language}}{{.Language}}{{else}}en{{end}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Gone}}Gone{{else if .Name}}{{.Name}}{{else}}Post by @{{.Author}}{{end}}</title>
<link rel="alternate" type="application/activity+json" href="{{.IRI}}">
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}</style>
</head>
<body>
<main>
{{- if .Gone}}
<h1>Gone</h1>
<p>This post has been deleted.</p>
{{- else}}
<p><a href="{{.AuthorIRI}}">@{{.Author}}</a>{{if .Group}} in <a href="{{.GroupIRI}}">{{.Group}}</a>{{end}} · <time datetime="{{.Published}}">{{.Published}}</time></p>
<article>
{{- if .Name}}
<h1>{{.Name}}</h1>
{{- end}}
{{- if .Summary}}
<details><summary>{{.Summary}}</summary>
{{.Content}}
</details>
{{- else}}
{{.Content}}
{{- end}}
{{- range .Attachments}}
<p><a href="{{.URL}}">{{if .Name}}{{.Name}}{{else}}{{.URL}}{{end}}</a></p>
{{- end}}
</article>
{{- end}}
</main>
</body>
</html>
`))

// page is the data of pageTemplate. Content is outbound.ContentHTML's
// output: escaped text in <p> and <br> only.
type page struct {
	IRI, AuthorIRI, Author, GroupIRI, Group string
	Language, Published, Name, Summary      string
	Content                                 template.HTML
	Attachments                             []as2.Attachment
	Gone                                    bool
}

func pageOf(u urls.Scheme, d outbound.PostData, author actors.Actor) page {
	o := outbound.PostObject(u, d)
	p := page{IRI: d.IRI(), AuthorIRI: d.AuthorIRI, Author: u.Handle(author.Username), GroupIRI: d.GroupIRI,
		Published: d.Published.UTC().Format(time.RFC3339), Name: o.Name, Summary: o.Summary,
		Content: template.HTML(o.Content), Attachments: o.Attachment}
	if t, ok := u.Parse(d.GroupIRI); ok && d.GroupIRI != "" {
		p.Group = t.Username
	}
	for _, l := range d.Languages {
		if _, ok := o.ContentMap[l]; ok {
			p.Language = l
			break
		}
	}
	return p
}
