package outbound

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

// Rules that render event types older than themselves; each applies only
// to events that occurred after it was first enabled (delivery.EnableRule),
// so a new projector version replaying the log does not federate history.
const (
	// RuleActorDelete: actor.deleted sends Delete{actor} to the followers.
	RuleActorDelete = "actor-delete"
	// RuleRemovedFollower: follow.removed of an inbound follow sends
	// Reject{Follow} to the former follower.
	RuleRemovedFollower = "removed-follower-reject"
)

// RemovedBecauseDeleted is the reason app.Follows.RemoveRemoteActor
// records when a remote actor was deleted; such a removal sends nothing.
const RemovedBecauseDeleted = "remote actor deleted"

// noOpener opens nothing: without an Opener no post text is rendered.
type noOpener struct{}

func (noOpener) Open(personal.Text) (string, error) { return "", personal.ErrErased }

func setupPosts(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			id           TEXT NOT NULL PRIMARY KEY,
			kind         TEXT NOT NULL,
			author_id    TEXT NOT NULL, -- local author ('' for received posts)
			author_iri   TEXT NOT NULL, -- remote author ('' for local posts)
			object_iri   TEXT NOT NULL, -- received post's id
			community_id TEXT NOT NULL,
			in_reply_to  TEXT NOT NULL,
			visibility   TEXT NOT NULL,
			meta         TEXT NOT NULL, -- JSON postMeta
			content      TEXT NOT NULL, -- JSON of the sealed personal.Text ('' once erased)
			published    TEXT NOT NULL,
			updated      TEXT NOT NULL,
			announced    INTEGER NOT NULL DEFAULT 0,
			gone         INTEGER NOT NULL DEFAULT 0
		) WITHOUT ROWID;
		CREATE INDEX %[2]s ON %[1]s (author_id) WHERE author_id <> '';
		CREATE TABLE %[3]s (
			stream  TEXT NOT NULL PRIMARY KEY,
			post_id TEXT NOT NULL,
			liker   TEXT NOT NULL,
			like_id TEXT NOT NULL,
			liked   INTEGER NOT NULL
		) WITHOUT ROWID;`, t.Name("posts"), t.Name("posts_author"), t.Name("likes")))
	return err
}

// postMeta is the unsealed part of a post the projector keeps.
type postMeta struct {
	Languages   []string          `json:"languages,omitempty"`
	Hashtags    []string          `json:"hashtags,omitempty"`
	Mentions    []string          `json:"mentions,omitempty"`
	Attachments []post.Attachment `json:"attachments,omitempty"`
	Sensitive   bool              `json:"sensitive,omitempty"`
}

// postRow is a row of the posts table.
type postRow struct {
	id, kind, authorID, authorIRI, objectIRI string
	communityID, inReplyTo, visibility       string
	meta                                     postMeta
	content                                  personal.Text
	published, updated                       time.Time
	announced, gone                          bool
}

func (r postRow) local() bool { return r.authorID != "" }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func (p *Projector) savePost(ctx context.Context, tx *sql.Tx, t projections.Tables, r postRow) error {
	meta, err := json.Marshal(r.meta)
	if err != nil {
		return err
	}
	content := ""
	if !r.content.IsZero() {
		b, err := json.Marshal(r.content)
		if err != nil {
			return err
		}
		content = string(b)
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT OR REPLACE INTO %s (id, kind, author_id, author_iri, object_iri,
		community_id, in_reply_to, visibility, meta, content, published, updated, announced, gone)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.Name("posts")),
		r.id, r.kind, r.authorID, r.authorIRI, r.objectIRI, r.communityID, r.inReplyTo, r.visibility, string(meta),
		content, formatTime(r.published), formatTime(r.updated), r.announced, r.gone)
	return err
}

func (p *Projector) loadPost(ctx context.Context, tx *sql.Tx, t projections.Tables, id string) (postRow, bool, error) {
	var r postRow
	var meta, content, published, updated string
	err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT id, kind, author_id, author_iri, object_iri, community_id,
		in_reply_to, visibility, meta, content, published, updated, announced, gone FROM %s WHERE id = ?`, t.Name("posts")), id).
		Scan(&r.id, &r.kind, &r.authorID, &r.authorIRI, &r.objectIRI, &r.communityID, &r.inReplyTo, &r.visibility,
			&meta, &content, &published, &updated, &r.announced, &r.gone)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	if err := json.Unmarshal([]byte(meta), &r.meta); err != nil {
		return r, false, fmt.Errorf("post %s: meta: %w", id, err)
	}
	if content != "" {
		if err := json.Unmarshal([]byte(content), &r.content); err != nil {
			return r, false, fmt.Errorf("post %s: content: %w", id, err)
		}
	}
	r.published, r.updated = parseTime(published), parseTime(updated)
	return r, true, nil
}

// localActor is a row of the actors table.
type localActor struct {
	iri             string
	deleted, erased bool
}

func (p *Projector) localActor(ctx context.Context, tx *sql.Tx, t projections.Tables, id string) (localActor, bool, error) {
	var a localActor
	err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT iri, deleted, erased FROM %s WHERE id = ?`, t.Name("actors")), id).
		Scan(&a.iri, &a.deleted, &a.erased)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	return a, err == nil, err
}

// postIRI returns a post's IRI and its author's actor IRI ("" when the
// post or its local author is unknown).
func (p *Projector) postIRI(ctx context.Context, tx *sql.Tx, t projections.Tables, r postRow) (iri, author string, err error) {
	if !r.local() {
		return r.objectIRI, r.authorIRI, nil
	}
	a, ok, err := p.localActor(ctx, tx, t, r.authorID)
	if err != nil || !ok {
		return "", "", err
	}
	return urls.PostIRI(a.iri, r.id), a.iri, nil
}

// parent returns the IRI of what a post answers and, when the post
// answered is known here, its author's IRI.
func (p *Projector) parent(ctx context.Context, tx *sql.Tx, t projections.Tables, inReplyTo string) (iri, author string, err error) {
	if inReplyTo == "" || strings.Contains(inReplyTo, "://") {
		return inReplyTo, "", nil
	}
	r, ok, err := p.loadPost(ctx, tx, t, inReplyTo)
	if err != nil || !ok {
		return "", "", err
	}
	return p.postIRI(ctx, tx, t, r)
}

// postData assembles what a local post is rendered from; ok is false when
// there is nothing to render (author unknown, deleted or erased; text
// erased when withContent is set).
func (p *Projector) postData(ctx context.Context, tx *sql.Tx, t projections.Tables, r postRow, withContent bool) (PostData, bool, error) {
	author, ok, err := p.localActor(ctx, tx, t, r.authorID)
	if err != nil || !ok || author.deleted || author.erased {
		return PostData{}, false, err
	}
	d := PostData{ID: r.id, Kind: post.Kind(r.kind), AuthorIRI: author.iri, Visibility: post.Visibility(r.visibility),
		Languages: r.meta.Languages, Hashtags: r.meta.Hashtags, Mentions: r.meta.Mentions, Attachments: r.meta.Attachments,
		Sensitive: r.meta.Sensitive, Published: r.published, Updated: r.updated}
	if r.communityID != "" {
		if g, ok, err := p.localActor(ctx, tx, t, r.communityID); err != nil {
			return PostData{}, false, err
		} else if ok {
			d.GroupIRI = g.iri
		}
	}
	if d.InReplyTo, _, err = p.parent(ctx, tx, t, r.inReplyTo); err != nil {
		return PostData{}, false, err
	}
	if withContent {
		ok, err := p.open(r.content, &d.Content)
		if err != nil || !ok {
			return PostData{}, false, err
		}
	}
	return d, true, nil
}

// open opens a post's sealed Content; ok is false when it was erased.
func (p *Projector) open(sealed personal.Text, c *post.Content) (bool, error) {
	if sealed.IsZero() {
		return false, nil
	}
	err := personal.OpenJSON(p.opener, sealed, c)
	if errors.Is(err, personal.ErrErased) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open the post's text: %w", err)
	}
	return true, nil
}

// postTargets returns who gets a local author's activity about a post:
// the author's followers for public, unlisted and followers-only posts,
// and the remote people mentioned and the remote author of the post
// answered for all but members-only posts (those reach the community's
// remote members through the Group's Announce).
func (p *Projector) postTargets(ctx context.Context, tx *sql.Tx, t projections.Tables, r postRow) (inboxes, actorIRIs []string, err error) {
	switch post.Visibility(r.visibility) {
	case post.Members:
		return nil, nil, nil
	case post.Public, post.Unlisted, post.Followers:
		if inboxes, err = p.audience(ctx, tx, t, r.authorID); err != nil {
			return nil, nil, err
		}
	}
	actorIRIs = slices.Clone(r.meta.Mentions)
	_, parentAuthor, err := p.parent(ctx, tx, t, r.inReplyTo)
	if err != nil {
		return nil, nil, err
	}
	if parentAuthor != "" {
		actorIRIs = append(actorIRIs, parentAuthor)
	}
	return inboxes, actorIRIs, nil
}

// group returns the Group activity frame of a post announced in its
// community; ok is false when the post is not in a known community.
func (p *Projector) group(ctx context.Context, tx *sql.Tx, t projections.Tables, r postRow, at time.Time) (GroupActivity, bool, error) {
	if r.communityID == "" {
		return GroupActivity{}, false, nil
	}
	g, ok, err := p.localActor(ctx, tx, t, r.communityID)
	if err != nil || !ok || g.deleted {
		return GroupActivity{}, false, err
	}
	iri, _, err := p.postIRI(ctx, tx, t, r)
	if err != nil || iri == "" {
		return GroupActivity{}, false, err
	}
	return GroupActivity{GroupIRI: g.iri, PostID: r.id, ObjectIRI: iri, Visibility: post.Visibility(r.visibility), At: at}, true, nil
}

func (p *Projector) applyPost(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, payload any) (int, error) {
	postID, _ := strings.CutPrefix(e.StreamID, "post-")
	switch ev := payload.(type) {
	case *post.Published:
		r := postRow{id: ev.PostID, kind: string(ev.Kind), authorID: ev.AuthorID, authorIRI: ev.AuthorIRI,
			objectIRI: ev.ObjectIRI, communityID: ev.CommunityID, inReplyTo: ev.InReplyTo, visibility: string(ev.Visibility),
			meta: postMeta{Languages: ev.Languages, Hashtags: ev.Hashtags, Mentions: ev.Mentions, Attachments: ev.Attachments,
				Sensitive: ev.Sensitive}, content: ev.Content, published: occurred(e)}
		if at := parseTime(ev.PublishedAt); !at.IsZero() {
			r.published = at
		}
		if err := p.savePost(ctx, tx, t, r); err != nil {
			return 0, err
		}
		if !r.local() {
			return 0, nil
		}
		d, ok, err := p.postData(ctx, tx, t, r, true)
		if err != nil || !ok {
			return 0, err
		}
		inboxes, actorIRIs, err := p.postTargets(ctx, tx, t, r)
		if err != nil {
			return 0, err
		}
		return p.deliverTo(ctx, tx, e, r.authorID, CreatePost(p.scheme, d), inboxes, actorIRIs)
	case *post.Edited:
		r, ok, err := p.loadPost(ctx, tx, t, postID)
		if err != nil || !ok {
			return 0, err
		}
		r.meta.Languages, r.meta.Hashtags, r.meta.Mentions, r.meta.Sensitive = ev.Languages, ev.Hashtags, ev.Mentions, ev.Sensitive
		r.content, r.updated = ev.Content, occurred(e)
		if err := p.savePost(ctx, tx, t, r); err != nil || r.gone {
			return 0, err
		}
		return p.edited(ctx, tx, t, e, r)
	case *post.Deleted, *post.Removed:
		r, ok, err := p.loadPost(ctx, tx, t, postID)
		if err != nil || !ok || r.gone {
			return 0, err
		}
		r.gone = true
		if err := p.savePost(ctx, tx, t, r); err != nil {
			return 0, err
		}
		_, removed := payload.(*post.Removed)
		return p.gone(ctx, tx, t, e, r, removed)
	case *post.Announced:
		r, ok, err := p.loadPost(ctx, tx, t, postID)
		if err != nil || !ok || r.announced {
			return 0, err
		}
		r.announced = true
		if err := p.savePost(ctx, tx, t, r); err != nil {
			return 0, err
		}
		return p.announced(ctx, tx, t, e, r)
	case *post.Liked:
		return p.liked(ctx, tx, t, e, ev.PostID, ev.Liker, true)
	case *post.LikeUndone:
		return p.liked(ctx, tx, t, e, ev.PostID, ev.Liker, false)
	}
	return 0, fmt.Errorf("unexpected payload %T", payload)
}

// edited sends a local post's Update to its audience and, when the
// community announced the post, the Group's Announce of the Update (of a
// received post: the Update as received, when the post's text keeps it).
func (p *Projector) edited(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, r postRow) (int, error) {
	var update as2.Ref
	n := 0
	if r.local() {
		d, ok, err := p.postData(ctx, tx, t, r, true)
		if err != nil || !ok {
			return 0, err
		}
		u := UpdatePost(p.scheme, d, e.ID.String())
		inboxes, actorIRIs, err := p.postTargets(ctx, tx, t, r)
		if err != nil {
			return 0, err
		}
		if n, err = p.deliverTo(ctx, tx, e, r.authorID, u, inboxes, actorIRIs); err != nil {
			return 0, err
		}
		update = as2.Embed(u)
	} else if r.announced {
		var c post.Content
		ok, err := p.open(r.content, &c)
		if err != nil || !ok {
			return 0, err
		}
		if a, err := as2.Decode([]byte(c.Activity)); err == nil && a.Type == as2.TypeUpdate && a.ActorID() == r.authorIRI {
			update = as2.Verbatim(a)
		}
	}
	if !r.announced || (update.ID == "" && update.Raw == nil) || !post.Shareable(post.Visibility(r.visibility)) {
		return n, nil
	}
	g, ok, err := p.group(ctx, tx, t, r, occurred(e))
	if err != nil || !ok {
		return n, err
	}
	followers, err := p.audience(ctx, tx, t, r.communityID)
	if err != nil {
		return 0, err
	}
	m, err := p.deliver(ctx, tx, e, r.communityID, AnnounceActivity(g, urls.AnnounceUpdate, e.ID.String(), update), followers)
	return n + m, err
}

// gone sends what a deleted or removed post needs: the local author's
// Delete to the post's audience (and to the community's remote members
// when the Group had shared it, so that Mastodon drops the boost's status
// too), and the Group's Announce{Delete} and Undo{Announce}.
func (p *Projector) gone(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, r postRow, removed bool) (int, error) {
	shared := r.announced && post.Shareable(post.Visibility(r.visibility))
	var groupFollowers []string
	if shared {
		var err error
		if groupFollowers, err = p.audience(ctx, tx, t, r.communityID); err != nil {
			return 0, err
		}
	}
	n := 0
	var del *as2.Object
	if r.local() {
		d, ok, err := p.postData(ctx, tx, t, r, false)
		if err != nil {
			return 0, err
		}
		if ok {
			del = DeletePost(d, occurred(e))
			inboxes, actorIRIs, err := p.postTargets(ctx, tx, t, r)
			if err != nil {
				return 0, err
			}
			if n, err = p.deliverTo(ctx, tx, e, r.authorID, del, append(inboxes, groupFollowers...), actorIRIs); err != nil {
				return 0, err
			}
		}
	}
	if !shared {
		return n, nil
	}
	g, ok, err := p.group(ctx, tx, t, r, occurred(e))
	if err != nil || !ok {
		return n, err
	}
	m, err := p.retract(ctx, tx, e, r.communityID, g, del, removed, groupFollowers)
	return n + m, err
}

// retract sends the Group's Announce{Delete} (of the author's Delete del
// when the author deleted a local post, else of the Group's own Delete)
// and Undo{Announce{post}} to the Group's followers.
func (p *Projector) retract(ctx context.Context, tx *sql.Tx, e events.Envelope, groupID string, g GroupActivity,
	del *as2.Object, removed bool, followers []string) (int, error) {
	inner := as2.Embed(GroupDeletePost(g))
	if del != nil && !removed {
		inner = as2.Embed(del)
	}
	n, err := p.deliver(ctx, tx, e, groupID, AnnounceActivity(g, urls.AnnounceDelete, "", inner), followers)
	if err != nil {
		return 0, err
	}
	m, err := p.deliver(ctx, tx, e, groupID, UndoAnnouncePost(g), followers)
	return n + m, err
}

// announced sends the Group's Announce{Create} (FEP-1b12: a local post's
// Create as its author sends it, a received post's Create byte for byte as
// received) and Announce{post} (Mastodon's boost) to the Group's remote
// followers.
func (p *Projector) announced(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, r postRow) (int, error) {
	if r.gone || !post.Shareable(post.Visibility(r.visibility)) {
		return 0, nil
	}
	g, ok, err := p.group(ctx, tx, t, r, occurred(e))
	if err != nil || !ok {
		return 0, err
	}
	var create, object as2.Ref
	if r.local() {
		d, ok, err := p.postData(ctx, tx, t, r, true)
		if err != nil || !ok {
			return 0, err
		}
		create, object = as2.Embed(CreatePost(p.scheme, d)), as2.Embed(PostObject(p.scheme, d))
	} else {
		var c post.Content
		ok, err := p.open(r.content, &c)
		if err != nil || !ok {
			return 0, err
		}
		object = as2.IRI(r.objectIRI)
		if a, err := as2.Decode([]byte(c.Activity)); err == nil && a.Type == as2.TypeCreate {
			create = as2.Verbatim(a)
			if inner := a.InlineObject(); inner != nil && inner.ID == r.objectIRI {
				object = as2.Verbatim(inner)
			}
		}
	}
	followers, err := p.audience(ctx, tx, t, r.communityID)
	if err != nil {
		return 0, err
	}
	n := 0
	if create.ID != "" || create.Raw != nil {
		if n, err = p.deliver(ctx, tx, e, r.communityID, AnnounceActivity(g, urls.AnnounceCreate, "", create), followers); err != nil {
			return 0, err
		}
	}
	m, err := p.deliver(ctx, tx, e, r.communityID, AnnouncePost(g, object), followers)
	return n + m, err
}

// liked sends a local person's Like (or its Undo) of a received post to
// the post's author. Likes of local posts and remote likers send nothing.
func (p *Projector) liked(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, postID, liker string, like bool) (int, error) {
	if strings.Contains(liker, "://") {
		return 0, nil
	}
	r, ok, err := p.loadPost(ctx, tx, t, postID)
	if err != nil || !ok || r.local() {
		return 0, err
	}
	a, ok, err := p.localActor(ctx, tx, t, liker)
	if err != nil || !ok || a.deleted || a.erased {
		return 0, err
	}
	if like {
		l := Like(a.iri, r.objectIRI, r.authorIRI, e.ID.String())
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT OR REPLACE INTO %s (stream, post_id, liker, like_id, liked)
			VALUES (?, ?, ?, ?, 1)`, t.Name("likes")), e.StreamID, postID, liker, l.ID); err != nil {
			return 0, err
		}
		return p.deliverTo(ctx, tx, e, liker, l, nil, []string{r.authorIRI})
	}
	var likeID string
	err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT like_id FROM %s WHERE stream = ? AND liked = 1`, t.Name("likes")),
		e.StreamID).Scan(&likeID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET liked = 0 WHERE stream = ?`, t.Name("likes")), e.StreamID); err != nil {
		return 0, err
	}
	tag, _ := strings.CutPrefix(likeID, a.iri+"#likes/")
	return p.deliverTo(ctx, tx, e, liker, UndoLike(Like(a.iri, r.objectIRI, r.authorIRI, tag)), nil, []string{r.authorIRI})
}

// ruleApplies reports whether the rule was enabled when e occurred.
func (p *Projector) ruleApplies(ctx context.Context, tx *sql.Tx, rule string, e events.Envelope) (bool, error) {
	since, err := delivery.EnableRule(ctx, tx, rule, p.clock())
	if err != nil {
		return false, err
	}
	return !occurred(e).Before(since), nil
}

// actorDeleted marks a local actor deleted and sends its Delete{actor} to
// its followers.
func (p *Projector) actorDeleted(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope) (int, error) {
	id, _ := strings.CutPrefix(e.StreamID, actor.Stream(""))
	a, ok, err := p.localActor(ctx, tx, t, id)
	if err != nil || !ok || a.deleted {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET deleted = 1 WHERE id = ?`, t.Name("actors")), id); err != nil {
		return 0, err
	}
	if fresh, err := p.ruleApplies(ctx, tx, RuleActorDelete, e); err != nil || !fresh {
		return 0, err
	}
	followers, err := p.audience(ctx, tx, t, id)
	if err != nil {
		return 0, err
	}
	return p.deliver(ctx, tx, e, id, DeleteActor(a.iri), followers)
}

// accountErased handles the erasure of a person: the Groups retract the
// person's posts they had shared (Announce{Delete} and Undo{Announce}),
// every pending delivery carrying the person's data is dropped (except the
// actor's own Delete) and the finished ones are blanked, and the posts
// table forgets the sealed texts and the actors table the profile.
func (p *Projector) accountErased(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope) (int, error) {
	id, _ := strings.CutPrefix(e.StreamID, account.Stream(""))
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET erased = 1, name = '', summary = '' WHERE id = ?`,
		t.Name("actors")), id); err != nil {
		return 0, err
	}
	a, _, err := p.localActor(ctx, tx, t, id)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT id FROM %s WHERE author_id = ? AND announced = 1 AND community_id <> ''
		ORDER BY id`, t.Name("posts")), id)
	if err != nil {
		return 0, err
	}
	var shared []string
	for rows.Next() {
		var pid string
		if err := rows.Scan(&pid); err != nil {
			rows.Close()
			return 0, err
		}
		shared = append(shared, pid)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	forget := delivery.Forget{ActorID: id}
	if a.iri != "" {
		forget.Keep = []string{DeleteActor(a.iri).ID}
	}
	n := 0
	for _, pid := range shared {
		r, ok, err := p.loadPost(ctx, tx, t, pid)
		if err != nil || !ok {
			return 0, err
		}
		g, ok, err := p.group(ctx, tx, t, r, occurred(e))
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		forget.ActivityIDs = append(forget.ActivityIDs, urls.AnnounceIRI(g.GroupIRI, pid, urls.AnnounceCreate, ""),
			urls.AnnounceIRI(g.GroupIRI, pid, urls.AnnounceObject, ""))
		forget.ActivityPrefixes = append(forget.ActivityPrefixes, urls.AnnounceIRI(g.GroupIRI, pid, urls.AnnounceUpdate, "")+"/")
		if r.gone || !post.Shareable(post.Visibility(r.visibility)) {
			continue
		}
		followers, err := p.audience(ctx, tx, t, r.communityID)
		if err != nil {
			return 0, err
		}
		m, err := p.retract(ctx, tx, e, r.communityID, g, nil, true, followers)
		if err != nil {
			return 0, err
		}
		n += m
	}
	if _, err := delivery.ForgetDeliveries(ctx, tx, forget); err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET content = '' WHERE author_id = ?`, t.Name("posts")), id)
	return n, err
}
