package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections/posts"
)

// Paths of the post, timeline and media API.
const (
	PostsPath     = "/api/hanse/v1/posts"
	TimelinesPath = "/api/hanse/v1/timelines"
	MediaPath     = "/api/hanse/v1/media"
	// PublicMediaPath serves uploaded files too, at the address the
	// federation documents use ("/media/{id}").
	PublicMediaPath = "/media"
)

// Error codes of the post routes (besides the shared ones).
const (
	CodePostGone         = "post_gone"
	CodeThreadLocked     = "thread_locked"
	CodeNotInCommunity   = "not_in_community"
	CodeNotThreadRoot    = "not_thread_root"
	CodeNotShareable     = "not_shareable"
	CodeNotMember        = "not_member"
	CodeBanned           = "banned"
	CodeNotFacilitator   = "not_facilitator"
	CodeBadCursor        = "bad_cursor"
	CodeMediaTooLarge    = "media_too_large"
	CodeMediaUnsupported = "unsupported_media_type"
)

// PostCommands is what the post routes need of the application
// (app.Posts implements it).
type PostCommands interface {
	Publish(ctx context.Context, cmd app.PublishPost) (string, events.Position, error)
	EditPost(ctx context.Context, cmd app.EditPost) (events.Position, error)
	Delete(ctx context.Context, postID string, by app.Acting) (events.Position, error)
	Remove(ctx context.Context, postID string, by app.Acting, reason string) (events.Position, error)
	LockThread(ctx context.Context, rootID string, by app.Acting) (events.Position, error)
	UnlockThread(ctx context.Context, rootID string, by app.Acting) (events.Position, error)
	Pin(ctx context.Context, postID string, by app.Acting) (events.Position, error)
	Unpin(ctx context.Context, postID string, by app.Acting) (events.Position, error)
	Like(ctx context.Context, postID, liker, activityID string) (events.Position, error)
	Unlike(ctx context.Context, postID, liker string) (events.Position, error)
}

// DefaultPostRate is the default per-account posting rate, Mastodon's:
// 300 posts in 3 hours, at most 30 at once.
var DefaultPostRate = Limit{PerSecond: 300.0 / (3 * 3600), Burst: 30}

// PostRoutesOptions configure PostRoutes. Commands and Reader are
// required.
type PostRoutesOptions struct {
	Commands PostCommands
	Reader   posts.Reader
	// Mentions resolves "@user" and "@user@host" in new posts to actor
	// IRIs; nil leaves mentions unresolved (plain text).
	Mentions app.MentionResolver
	// Reads wraps the GET handlers: httpapi.AwaitPosition(runner,
	// posts.Name, 0) for read-your-writes. Nil means none.
	Reads func(http.Handler) http.Handler
	// Links gives a post's ActivityPub id and its human-readable page.
	// Nil: a remote post's object IRI and URL, nothing for local posts.
	Links func(p posts.Post) (uri, url string)
	// MediaURL gives the address of a local upload; nil means
	// PublicMediaPath + "/" + id.
	MediaURL func(id string) string
	// PostRateLimit limits POST /posts (after authentication); nil means
	// DefaultPostRate per account.
	PostRateLimit func(http.Handler) http.Handler
}

// PostWriteJSON answers a post command: the post id and the write's
// position (pass it as Hanse-Min-Position to read your write).
type PostWriteJSON struct {
	ID       string          `json:"id"`
	Position events.Position `json:"position"`
}

// PostRequest is the body of POST /posts. Text comes either as a map of
// language tag to text (content_map) or as one text with its language
// (content + language; the language defaults to "und"); the same for the
// title (name_map or name) and the summary (summary_map or summary).
type PostRequest struct {
	// Kind is Note (the default) or Article.
	Kind        string `json:"kind,omitempty"`
	CommunityID string `json:"community_id,omitempty"`
	// InReplyTo is a post id (or a post's IRI).
	InReplyTo string `json:"in_reply_to,omitempty"`
	// Visibility is public (the default), unlisted, followers, direct or
	// members.
	Visibility   string            `json:"visibility,omitempty"`
	ContentMap   map[string]string `json:"content_map,omitempty"`
	Content      string            `json:"content,omitempty"`
	Language     string            `json:"language,omitempty"`
	NameMap      map[string]string `json:"name_map,omitempty"`
	Name         string            `json:"name,omitempty"`
	SummaryMap   map[string]string `json:"summary_map,omitempty"`
	Summary      string            `json:"summary,omitempty"`
	MediaIDs     []string          `json:"media_ids,omitempty"`
	Descriptions []string          `json:"descriptions,omitempty"`
	Sensitive    bool              `json:"sensitive,omitempty"`
}

// PostEditRequest is the body of PATCH /posts/{id}: the new text, which
// replaces the old one wholesale (same forms as PostRequest); sensitive
// and descriptions are kept when absent.
type PostEditRequest struct {
	ContentMap   map[string]string `json:"content_map,omitempty"`
	Content      string            `json:"content,omitempty"`
	Language     string            `json:"language,omitempty"`
	NameMap      map[string]string `json:"name_map,omitempty"`
	Name         string            `json:"name,omitempty"`
	SummaryMap   map[string]string `json:"summary_map,omitempty"`
	Summary      string            `json:"summary,omitempty"`
	Sensitive    *bool             `json:"sensitive,omitempty"`
	Descriptions []string          `json:"descriptions,omitempty"`
}

// PostReasonRequest is the optional body of POST /posts/{id}/remove.
type PostReasonRequest struct {
	Reason string `json:"reason,omitempty"`
}

// PostAuthorJSON names a post's author: a local account id, and the
// actor IRI (remote authors have only the IRI).
type PostAuthorJSON struct {
	ID  string `json:"id,omitempty"`
	IRI string `json:"iri,omitempty"`
}

// PostAttachmentJSON is a file attached to a post.
type PostAttachmentJSON struct {
	MediaID     string `json:"media_id,omitempty"`
	URL         string `json:"url"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// PostJSON is a post in the Hanse API. content_map holds HTML: a local
// post's plain text rendered as escaped paragraphs, a remote post's
// sanitised HTML; name_map and summary_map hold plain text.
type PostJSON struct {
	ID           string               `json:"id"`
	Kind         string               `json:"kind"`
	URI          string               `json:"uri,omitempty"`
	URL          string               `json:"url,omitempty"`
	Author       PostAuthorJSON       `json:"author"`
	CommunityID  string               `json:"community_id,omitempty"`
	InReplyTo    string               `json:"in_reply_to,omitempty"`
	ThreadID     string               `json:"thread_id,omitempty"`
	Visibility   string               `json:"visibility"`
	Languages    []string             `json:"languages"`
	ContentMap   map[string]string    `json:"content_map"`
	NameMap      map[string]string    `json:"name_map,omitempty"`
	SummaryMap   map[string]string    `json:"summary_map,omitempty"`
	Hashtags     []string             `json:"hashtags"`
	Mentions     []string             `json:"mentions"`
	Attachments  []PostAttachmentJSON `json:"attachments"`
	Sensitive    bool                 `json:"sensitive"`
	LikesCount   int                  `json:"likes_count"`
	RepliesCount int                  `json:"replies_count"`
	BoostsCount  int                  `json:"boosts_count"`
	CreatedAt    string               `json:"created_at"`
	EditedAt     string               `json:"edited_at,omitempty"`
	Pinned       bool                 `json:"pinned"`
	Locked       bool                 `json:"locked"`
	// BoostedBy is set on a timeline entry a remote actor's boost brought.
	BoostedBy string `json:"boosted_by,omitempty"`
}

// PostListJSON is a page of posts, newest first. Next is the max_id of
// the following page (also in the Link header), absent on the last.
type PostListJSON struct {
	Items []PostJSON `json:"items"`
	Next  string     `json:"next_max_id,omitempty"`
}

// PostRoutes mounts the post and timeline API:
//
//	POST   /api/hanse/v1/posts                       publish (scope write; rate-limited per account) → 201 {id, position}; Idempotency-Key honoured
//	GET    /api/hanse/v1/posts/{id}                  a post the caller may see (anonymous: public and unlisted)
//	PATCH  /api/hanse/v1/posts/{id}                  edit (the author; scope write)
//	DELETE /api/hanse/v1/posts/{id}                  delete (the author or an admin; scope write)
//	POST   /api/hanse/v1/posts/{id}/remove           remove {reason} (the community's facilitators; scope write)
//	POST   /api/hanse/v1/posts/{id}/lock|unlock      lock or unlock a thread (facilitators; scope write)
//	POST   /api/hanse/v1/posts/{id}/pin|unpin        feature a thread in its community (facilitators; scope write)
//	POST   /api/hanse/v1/posts/{id}/like             like (scope write); DELETE …/like withdraws it
//	GET    /api/hanse/v1/posts/{id}/replies          the thread below a post
//	GET    /api/hanse/v1/timelines/home              own posts, followed actors, joined communities (scope read)
//	GET    /api/hanse/v1/timelines/public            public posts (?local=true: local ones)
//	GET    /api/hanse/v1/timelines/tag/{tag}         public posts with a hashtag
//	GET    /api/hanse/v1/communities/{id}/timeline   a community's posts (by community id)
//	GET    /api/hanse/v1/communities/{id}/featured   its pinned posts
//
// Listings take limit (1–40, default 20), max_id and since_id (post ids)
// and answer {"items": […], "next_max_id": …} with a Link header. Reads
// need no sign-in (what anonymous readers may see), but a token must
// grant read.
func PostRoutes(o PostRoutesOptions) func(chi.Router) {
	reads := o.Reads
	if reads == nil {
		reads = func(h http.Handler) http.Handler { return h }
	}
	limit := o.PostRateLimit
	if limit == nil {
		limit = RateLimit(AccountKey, DefaultPostRate.PerSecond, DefaultPostRate.Burst)
	}
	h := &postHandlers{o: o}
	get := func(f http.HandlerFunc) http.Handler { return optionalRead(reads(f)) }
	write := requirePostScope("write")
	return func(r chi.Router) {
		r.With(write, limit).Post(PostsPath, h.publish)
		r.Method(http.MethodGet, PostsPath+"/{id}", get(h.get))
		r.With(write).Patch(PostsPath+"/{id}", h.edit)
		r.With(write).Delete(PostsPath+"/{id}", h.command(func(ctx context.Context, id string, by app.Acting) (events.Position, error) {
			return o.Commands.Delete(ctx, id, by)
		}))
		r.With(write).Post(PostsPath+"/{id}/remove", h.remove)
		r.With(write).Post(PostsPath+"/{id}/lock", h.command(o.Commands.LockThread))
		r.With(write).Post(PostsPath+"/{id}/unlock", h.command(o.Commands.UnlockThread))
		r.With(write).Post(PostsPath+"/{id}/pin", h.command(o.Commands.Pin))
		r.With(write).Post(PostsPath+"/{id}/unpin", h.command(o.Commands.Unpin))
		r.With(write).Post(PostsPath+"/{id}/like", h.like)
		r.With(write).Delete(PostsPath+"/{id}/like", h.unlike)
		r.Method(http.MethodGet, PostsPath+"/{id}/replies", get(h.replies))
		r.With(requirePostScope("read")).Method(http.MethodGet, TimelinesPath+"/home", reads(http.HandlerFunc(h.home)))
		r.Method(http.MethodGet, TimelinesPath+"/public", get(h.public))
		r.Method(http.MethodGet, TimelinesPath+"/tag/{tag}", get(h.tag))
		r.Method(http.MethodGet, CommunitiesPath+"/{id}/timeline", get(h.community))
		r.Method(http.MethodGet, CommunitiesPath+"/{id}/featured", get(h.featured))
	}
}

// requirePostScope lets a request through when it acts for an account
// whose token grants scope (RequireScope's 401/403 otherwise).
func requirePostScope(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p, _ := PrincipalFrom(r.Context()); p.AccountID == "" {
				WriteError(w, r, http.StatusForbidden, CodeForbidden, "this method needs a token that acts for an account")
				return
			}
			next.ServeHTTP(w, r)
		})
		return RequireScope(scope)(inner)
	}
}

// optionalRead lets anonymous requests through and requires the read
// scope of authenticated ones.
func optionalRead(next http.Handler) http.Handler {
	scoped := RequireScope("read")(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := PrincipalFrom(r.Context()); ok {
			scoped.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// viewerOf is the account the request reads for ("" when anonymous).
func viewerOf(r *http.Request) string {
	p, _ := PrincipalFrom(r.Context())
	return p.AccountID
}

// actingOf is who a signed-in principal acts as: institution and
// instance admins may moderate every community and delete any post.
func actingOf(r *http.Request) app.Acting {
	p, _ := PrincipalFrom(r.Context())
	return app.Acting{ID: p.AccountID, Admin: p.Role == account.InstitutionAdmin || p.Role == account.InstanceAdmin}
}

type postHandlers struct{ o PostRoutesOptions }

// texts builds a language map from a map or a single text; false when
// both are given.
func texts(m map[string]string, text, language string) (map[string]string, bool) {
	if text == "" {
		return m, true
	}
	if len(m) > 0 {
		return nil, false
	}
	if language == "" {
		language = post.Undetermined
	}
	return map[string]string{language: text}, true
}

// requestTexts reads the three language maps of a request.
func requestTexts(w http.ResponseWriter, r *http.Request, content, name, summary map[string]string,
	contentText, nameText, summaryText, language string) (c, n, s map[string]string, ok bool) {
	for _, f := range []struct {
		field string
		m     map[string]string
		text  string
		out   *map[string]string
	}{{"content", content, contentText, &c}, {"name", name, nameText, &n}, {"summary", summary, summaryText, &s}} {
		v, ok := texts(f.m, f.text, language)
		if !ok {
			WriteValidationError(w, r, f.field, "give either "+f.field+" or "+f.field+"_map, not both")
			return nil, nil, nil, false
		}
		*f.out = v
	}
	return c, n, s, true
}

// mentions resolves the handles in content to actor IRIs; handles that
// do not resolve stay plain text.
func (h *postHandlers) mentions(ctx context.Context, content map[string]string) []string {
	if h.o.Mentions == nil {
		return nil
	}
	var all []string
	for _, lang := range post.Languages(content) {
		all = append(all, content[lang])
	}
	var out []string
	for _, handle := range post.ExtractMentions(all...) {
		if len(out) == post.MaxMentions {
			break
		}
		if iri, err := h.o.Mentions.Resolve(ctx, handle); err == nil && iri != "" {
			out = append(out, iri)
		}
	}
	return out
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 128

func (h *postHandlers) publish(w http.ResponseWriter, r *http.Request) {
	var req PostRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	content, name, summary, ok := requestTexts(w, r, req.ContentMap, req.NameMap, req.SummaryMap, req.Content, req.Name, req.Summary, req.Language)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		WriteError(w, r, http.StatusBadRequest, CodeBadRequest, "Idempotency-Key is too long")
		return
	}
	kind := post.Kind(req.Kind)
	switch strings.ToLower(req.Kind) {
	case "", "note":
		kind = post.Note
	case "article":
		kind = post.Article
	}
	visibility := post.Visibility(strings.ToLower(req.Visibility))
	if visibility == "" {
		visibility = post.Public
	}
	viewer := viewerOf(r)
	if req.InReplyTo != "" {
		// A parent hidden from the caller reads as one that does not
		// exist (which the command refuses as a field error).
		err := h.mayRead(r.Context(), req.InReplyTo, viewer)
		if errors.Is(err, posts.ErrNotFound) {
			WriteValidationError(w, r, "in_reply_to", "no such post")
			return
		}
		if err != nil {
			writePostError(w, r, err)
			return
		}
	}
	id, pos, err := h.o.Commands.Publish(r.Context(), app.PublishPost{Author: actingOf(r), Kind: kind,
		CommunityID: req.CommunityID, InReplyTo: req.InReplyTo, Visibility: visibility, ContentMap: content,
		NameMap: name, SummaryMap: summary, MediaIDs: req.MediaIDs, Descriptions: req.Descriptions,
		Sensitive: req.Sensitive, Mentions: h.mentions(r.Context(), content), IdempotencyKey: key})
	if err != nil {
		writePostError(w, r, err)
		return
	}
	w.Header().Set("Location", PostsPath+"/"+id)
	WriteJSON(w, http.StatusCreated, PostWriteJSON{ID: id, Position: pos})
}

// mayRead checks that viewer may see post id before replying to it (the
// reply command does not judge the parent's visibility): a post the read
// model knows but hides from the viewer is posts.ErrNotFound. A post the
// read model does not know yet (it may lag behind a write), or knows as
// deleted or removed, is left to the command, which checks that it
// exists and is live.
func (h *postHandlers) mayRead(ctx context.Context, id, viewer string) error {
	if strings.Contains(id, "://") {
		return nil
	}
	p, err := h.o.Reader.Lookup(ctx, id)
	switch {
	case errors.Is(err, posts.ErrNotFound):
		return nil
	case err != nil:
		return err
	case p.Deleted || p.Removed:
		return nil
	}
	// Rows are never taken back, so the post is still there for Get;
	// hidden from the viewer, or deleted or removed since Lookup.
	_, err = h.o.Reader.Get(ctx, id, viewer)
	if !errors.Is(err, posts.ErrNotFound) {
		return err
	}
	if p, err = h.o.Reader.Lookup(ctx, id); err != nil || p.Deleted || p.Removed {
		return err
	}
	return posts.ErrNotFound
}

func (h *postHandlers) get(w http.ResponseWriter, r *http.Request) {
	p, err := h.o.Reader.Get(r.Context(), chi.URLParam(r, "id"), viewerOf(r))
	if err != nil {
		writePostError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, h.postJSON(p))
}

func (h *postHandlers) edit(w http.ResponseWriter, r *http.Request) {
	var req PostEditRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	content, name, summary, ok := requestTexts(w, r, req.ContentMap, req.NameMap, req.SummaryMap, req.Content, req.Name, req.Summary, req.Language)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	pos, err := h.o.Commands.EditPost(r.Context(), app.EditPost{PostID: id, By: actingOf(r), ContentMap: content,
		NameMap: name, SummaryMap: summary, Mentions: h.mentions(r.Context(), content), Sensitive: req.Sensitive,
		Descriptions: req.Descriptions})
	if err != nil {
		writePostError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, PostWriteJSON{ID: id, Position: pos})
}

// command answers a command on post {id} by the caller.
func (h *postHandlers) command(cmd func(context.Context, string, app.Acting) (events.Position, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		pos, err := cmd(r.Context(), id, actingOf(r))
		if err != nil {
			writePostError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, PostWriteJSON{ID: id, Position: pos})
	}
}

func (h *postHandlers) remove(w http.ResponseWriter, r *http.Request) {
	var req PostReasonRequest
	if r.ContentLength != 0 && !ReadJSON(w, r, &req) {
		return
	}
	id := chi.URLParam(r, "id")
	pos, err := h.o.Commands.Remove(r.Context(), id, actingOf(r), req.Reason)
	if err != nil {
		writePostError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, PostWriteJSON{ID: id, Position: pos})
}

func (h *postHandlers) like(w http.ResponseWriter, r *http.Request) {
	// The command refuses a post the caller may not see (app.Posts.Visible).
	id, viewer := chi.URLParam(r, "id"), viewerOf(r)
	pos, err := h.o.Commands.Like(r.Context(), id, viewer, "")
	if err != nil {
		writePostError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, PostWriteJSON{ID: id, Position: pos})
}

func (h *postHandlers) unlike(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	pos, err := h.o.Commands.Unlike(r.Context(), id, viewerOf(r))
	if err != nil {
		writePostError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, PostWriteJSON{ID: id, Position: pos})
}

func (h *postHandlers) postJSON(p posts.Post) PostJSON {
	out := PostJSON{ID: p.ID, Kind: string(p.Kind), Author: PostAuthorJSON{ID: p.AuthorID, IRI: p.AuthorIRI},
		CommunityID: p.CommunityID, InReplyTo: p.InReplyTo, Visibility: string(p.Visibility),
		Languages: nonNil(p.Languages), ContentMap: map[string]string{}, NameMap: p.NameMap, SummaryMap: p.SummaryMap,
		Hashtags: nonNil(p.Hashtags), Mentions: nonNil(p.Mentions), Attachments: []PostAttachmentJSON{},
		Sensitive: p.Sensitive, LikesCount: p.LikeCount, RepliesCount: p.ReplyCount, BoostsCount: p.BoostCount,
		CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339Nano), Pinned: p.Pinned, Locked: p.Locked, BoostedBy: p.BoostedBy}
	if p.RootID != p.ID {
		out.ThreadID = p.RootID
	}
	if !p.EditedAt.IsZero() {
		out.EditedAt = p.EditedAt.UTC().Format(time.RFC3339Nano)
	}
	for lang, text := range p.ContentMap {
		if p.Local() {
			text = outbound.ContentHTML(text)
		}
		out.ContentMap[lang] = text
	}
	for _, a := range p.Attachments {
		u := a.URL
		if a.MediaID != "" {
			u = h.mediaURL(a.MediaID)
		}
		out.Attachments = append(out.Attachments, PostAttachmentJSON{MediaID: a.MediaID, URL: u, Type: a.MediaType,
			Description: a.Description})
	}
	if h.o.Links != nil {
		out.URI, out.URL = h.o.Links(p)
	} else if !p.Local() {
		out.URI, out.URL = p.ObjectIRI, p.URL
		if out.URL == "" {
			out.URL = p.ObjectIRI
		}
	}
	return out
}

func (h *postHandlers) mediaURL(id string) string {
	if h.o.MediaURL != nil {
		return h.o.MediaURL(id)
	}
	return PublicMediaPath + "/" + id
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writePostError maps the post and media commands' and queries' errors
// to responses.
func writePostError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *app.ValidationError
	switch {
	case errors.As(err, &ve):
		WriteValidationError(w, r, ve.Field, ve.Reason)
	case errors.Is(err, app.ErrPostNotFound), errors.Is(err, posts.ErrNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such post")
	case errors.Is(err, app.ErrCommunityNotFound):
		WriteError(w, r, http.StatusNotFound, CodeNotFound, "no such community")
	case errors.Is(err, app.ErrMediaNotFound):
		WriteValidationError(w, r, "media_ids", "names media that is not one of your uploads")
	case errors.Is(err, app.ErrPostDeleted), errors.Is(err, app.ErrPostRemoved):
		WriteError(w, r, http.StatusGone, CodePostGone, "the post has been deleted or removed")
	case errors.Is(err, app.ErrPostParentGone):
		WriteError(w, r, http.StatusGone, CodePostGone, "the post replied to has been deleted or removed")
	case errors.Is(err, app.ErrNotAuthor):
		WriteError(w, r, http.StatusForbidden, CodeNotAuthor, "only the author may do this")
	case errors.Is(err, app.ErrBanned):
		WriteError(w, r, http.StatusForbidden, CodeBanned, "you are banned from this community")
	case errors.Is(err, app.ErrNotMember):
		WriteError(w, r, http.StatusForbidden, CodeNotMember, "only members may post into this community")
	case errors.Is(err, app.ErrNotFacilitator):
		WriteError(w, r, http.StatusForbidden, CodeNotFacilitator, "only the community's facilitators may do this")
	case errors.Is(err, app.ErrThreadLocked):
		WriteError(w, r, http.StatusConflict, CodeThreadLocked, "the thread is locked")
	case errors.Is(err, app.ErrPostNotInCommunity):
		WriteError(w, r, http.StatusConflict, CodeNotInCommunity, "the post belongs to no community")
	case errors.Is(err, app.ErrNotThreadRoot):
		WriteError(w, r, http.StatusConflict, CodeNotThreadRoot, "only the first post of a thread can be pinned or locked")
	case errors.Is(err, app.ErrPostNotShareable):
		WriteError(w, r, http.StatusConflict, CodeNotShareable, "the post's visibility does not allow this")
	case errors.Is(err, app.ErrConflict):
		WriteError(w, r, http.StatusConflict, CodeConflict, "the post changed meanwhile; try again")
	case errors.Is(err, posts.ErrBadCursor):
		WriteError(w, r, http.StatusBadRequest, CodeBadCursor, "max_id or since_id names no post")
	case errors.Is(err, app.ErrMediaTooLarge):
		WriteError(w, r, http.StatusRequestEntityTooLarge, CodeMediaTooLarge, err.Error())
	case errors.Is(err, app.ErrMediaUnsupportedType):
		WriteError(w, r, http.StatusUnsupportedMediaType, CodeMediaUnsupported,
			"allowed are PNG, JPEG, GIF, WebP, PDF and plain UTF-8 text")
	case r.Context().Err() != nil:
	default:
		slog.Default().ErrorContext(r.Context(), "posts", "err", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, CodeInternal, "the request failed")
	}
}
