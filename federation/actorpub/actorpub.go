package actorpub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections/actors"
)

// Options are the optional settings of the handler.
type Options struct {
	// Collections supplies the items of outbox, followers, following and
	// featured; a collection without a Page is empty.
	Collections map[urls.Collection]Page
	// PageSize is the number of items per collection page: DefaultPageSize
	// when 0, at most MaxPageSize.
	PageSize int
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
}

// Handler serves actor documents, profile pages and collections. Build it
// with New; it is safe for concurrent use.
type Handler struct {
	urls     urls.Scheme
	actors   actors.Reader
	pages    map[urls.Collection]Page
	pageSize int
	log      *slog.Logger
}

// servedCollections are the collections this package publishes (the inbox
// only accepts POSTs, elsewhere).
var servedCollections = []urls.Collection{urls.Outbox, urls.Followers, urls.Following, urls.Featured}

// New returns the handler of the instance with URL scheme u, reading
// actors from reader.
func New(u urls.Scheme, reader actors.Reader, opts Options) *Handler {
	size := opts.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	pages := make(map[urls.Collection]Page, len(servedCollections))
	for _, c := range servedCollections {
		pages[c] = Empty
		if p := opts.Collections[c]; p != nil {
			pages[c] = p
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{urls: u, actors: reader, pages: pages, pageSize: size, log: log}
}

// Mux is the part of a router (chi.Router satisfies it) that Register
// needs.
type Mux interface {
	Method(method, pattern string, h http.Handler)
}

// Patterns are the route patterns (chi syntax) Register mounts for GET and
// HEAD; the handler parses the path itself with urls.ParsePath.
func Patterns() []string {
	var out []string
	for _, prefix := range urls.ActorPrefixes() {
		out = append(out, prefix+"{username}")
		for _, c := range servedCollections {
			out = append(out, prefix+"{username}/"+string(c))
		}
	}
	out = append(out, urls.InstanceActorPath)
	for _, c := range servedCollections {
		out = append(out, urls.InstanceActorPath+"/"+string(c))
	}
	return append(out, urls.ProfilePrefix+"{username}")
}

// Register mounts the handler on m at every pattern of Patterns, for GET
// and HEAD.
func (h *Handler) Register(m Mux) {
	for _, p := range Patterns() {
		m.Method(http.MethodGet, p, h)
		m.Method(http.MethodHead, p, h)
	}
}

// Error codes of the JSON error bodies ({"error":{"code","message"}}).
const (
	CodeNotFound    = "not_found"
	CodeBadRequest  = "bad_request"
	CodeNotReady    = "not_ready"
	CodeInternal    = "internal_error"
	CodeMethod      = "method_not_allowed"
	jsonContentType = "application/json; charset=utf-8"
)

// errWrongKind: the path names a kind the actor does not have.
var errWrongKind = errors.New("actorpub: actor has another kind")

// ServeHTTP answers GET and HEAD for the paths of urls.ParsePath:
//
//   - an actor IRI or profile URL: the AS2 actor document
//     (application/activity+json) when Accept names an AS2 media type (see
//     WantsActivityJSON), else the HTML profile page; Vary: Accept. A
//     deleted actor answers 410 with a Tombstone (or an HTML notice); an
//     actor of another kind than the path says, 404.
//   - a collection IRI: the OrderedCollection, or with ?page=true (and
//     &cursor=…) one OrderedCollectionPage, always as AS2.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		WriteMethodNotAllowed(w, r)
		return
	}
	w.Header().Set("Vary", "Accept")
	t, ok := urls.ParsePath(r.URL.Path)
	if !ok || (t.Collection != "" && h.pages[t.Collection] == nil) {
		WriteError(w, http.StatusNotFound, CodeNotFound, "no such resource: "+r.URL.Path)
		return
	}
	a, err := h.lookup(r.Context(), t)
	if err != nil {
		h.lookupError(w, r, err)
		return
	}
	iri := h.urls.Actor(a.Kind, a.Username)
	if t.Collection != "" {
		h.serveCollection(w, r, a, iri, t.Collection)
		return
	}
	asJSON := WantsActivityJSON(r)
	if !a.DeletedAt.IsZero() {
		if asJSON {
			h.writeDoc(w, r, http.StatusGone, func() ([]byte, error) { return Tombstone(iri, string(a.Kind), a.DeletedAt) })
			return
		}
		h.writePage(w, r, http.StatusGone, profilePage{Handle: h.urls.Handle(a.Username), IRI: iri, Gone: true})
		return
	}
	if asJSON {
		h.writeDoc(w, r, http.StatusOK, func() ([]byte, error) { return as2.Encode(h.Document(a)) })
		return
	}
	name := a.Name
	if name == "" {
		name = a.Username
	}
	h.writePage(w, r, http.StatusOK, profilePage{DisplayName: name, Handle: h.urls.Handle(a.Username), IRI: iri,
		KindLabel: kindLabels[a.Kind], Summary: a.Summary})
}

func (h *Handler) lookup(ctx context.Context, t urls.Target) (actors.Actor, error) {
	if t.Kind == actor.KindApplication && t.Username == "" {
		return h.actors.InstanceActor(ctx)
	}
	a, err := h.actors.ByUsername(ctx, t.Username)
	if err != nil {
		return actors.Actor{}, err
	}
	if !t.Profile && a.Kind != t.Kind {
		return actors.Actor{}, errWrongKind
	}
	if t.Profile && h.urls.Actor(a.Kind, a.Username) == "" {
		return actors.Actor{}, errWrongKind // a kind without IRIs
	}
	return a, nil
}

func (h *Handler) lookupError(w http.ResponseWriter, r *http.Request, err error) {
	WriteReadError(w, r, h.log, err, "actor", actors.ErrNotFound, errWrongKind)
}

// Document returns the AS2 actor document of a (see ActorDocument).
func (h *Handler) Document(a actors.Actor) *as2.Object { return ActorDocument(h.urls, a) }

// ActorDocument returns the AS2 actor document of a on the instance with
// URL scheme u: id, type, preferredUsername, name, summary (plain text
// rendered as HTML), url (the profile page), published, inbox, outbox,
// followers, following, featured, endpoints.sharedInbox, publicKey
// (current generation, owned by the actor), manuallyApprovesFollowers and
// discoverable. The handler serves it and the outbound projector embeds
// it in the actor's Update, so both always render the same document.
func ActorDocument(u urls.Scheme, a actors.Actor) *as2.Object {
	iri := u.Actor(a.Kind, a.Username)
	p := &as2.ActorProfile{
		PreferredUsername:         a.Username,
		Inbox:                     u.Collection(iri, urls.Inbox),
		Outbox:                    u.Collection(iri, urls.Outbox),
		Followers:                 u.Collection(iri, urls.Followers),
		Following:                 u.Collection(iri, urls.Following),
		Featured:                  u.Collection(iri, urls.Featured),
		SharedInbox:               u.SharedInbox(),
		ManuallyApprovesFollowers: a.ManuallyApprovesFollowers,
		Discoverable:              a.Discoverable,
	}
	if a.PublicKeyPEM != "" {
		p.PublicKeys = []as2.PublicKey{{ID: urls.KeyID(iri, a.KeyGeneration), Owner: iri, PEM: a.PublicKeyPEM}}
	}
	return &as2.Object{
		ID:        iri,
		Type:      string(a.Kind),
		Kind:      as2.KindActor,
		Name:      a.Name,
		Summary:   summaryHTML(a.Summary),
		URL:       []as2.Link{{Href: u.Profile(a.Username)}},
		Published: a.CreatedAt,
		Profile:   p,
	}
}

// Tombstone returns the AS2 Tombstone of the deleted object id:
// {type: Tombstone, id, formerType, deleted}.
func Tombstone(id, formerType string, deleted time.Time) ([]byte, error) {
	b, err := as2.Encode(&as2.Object{ID: id, Type: as2.TypeTombstone, Deleted: deleted})
	if err != nil {
		return nil, err
	}
	// as2 has no formerType: append it as the last member.
	end := bytes.LastIndexByte(b, '}')
	if end < 0 || formerType == "" {
		return b, nil
	}
	ft, err := json.Marshal(formerType)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(ft)+16)
	out = append(out, b[:end]...)
	out = append(out, `,"formerType":`...)
	out = append(out, ft...)
	out = append(out, b[end:]...)
	if !json.Valid(out) {
		return nil, fmt.Errorf("actorpub: tombstone of %q is not valid JSON", id)
	}
	return out, nil
}

// serveCollection answers a collection or one of its pages.
func (h *Handler) serveCollection(w http.ResponseWriter, r *http.Request, a actors.Actor, iri string, c urls.Collection) {
	id := h.urls.Collection(iri, c)
	if !a.DeletedAt.IsZero() {
		h.writeDoc(w, r, http.StatusGone, func() ([]byte, error) { return Tombstone(id, as2.TypeOrderedCollection, a.DeletedAt) })
		return
	}
	q := r.URL.Query()
	page := q.Get(pageParam)
	cursor := q.Get(cursorParam)
	if len(q[cursorParam]) > 1 || len(cursor) > MaxCursorBytes {
		WriteError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("cursor must be given once and be at most %d bytes", MaxCursorBytes))
		return
	}
	isPage := (page != "" && page != "false" && page != "0") || cursor != ""
	limit := h.pageSize
	if !isPage {
		limit = 0
	}
	res, err := h.pages[c](r.Context(), a, cursor, limit)
	switch {
	case errors.Is(err, ErrBadCursor):
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "invalid cursor")
		return
	case err != nil:
		h.lookupError(w, r, err)
		return
	}
	doc := collectionDocument(id, res.Total)
	if isPage {
		doc = pageDocument(id, cursor, res, limit)
	}
	h.writeDoc(w, r, http.StatusOK, func() ([]byte, error) { return as2.Encode(doc) })
}

// writeDoc writes the AS2 document made by encode.
func (h *Handler) writeDoc(w http.ResponseWriter, r *http.Request, status int, encode func() ([]byte, error)) {
	WriteDocument(w, r, h.log, status, encode)
}

func (h *Handler) writePage(w http.ResponseWriter, r *http.Request, status int, p profilePage) {
	WritePage(w, r, h.log, status, profileTemplate, p)
}
