package posts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/media"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name; Version the shape of its tables.
const (
	Name    = "posts"
	Version = 2
)

// Timeline source prefixes.
const (
	SourceAccount   = "account:"
	SourceIRI       = "iri:"
	SourceCommunity = "community:"
)

// Option configures the projector.
type Option func(*options)

type options struct {
	actorIRI func(kind actor.Kind, username string) string
	postIRI  func(authorIRI, postID string) string
}

// ActorIRIs gives the IRI of a local actor (federation/urls.Scheme.Actor).
// With it, the projector records every local actor's IRI (from
// actor.created), and local posts carry their author's IRI and also
// enter the timeline source "iri:<author's IRI>" (so that follows of a
// local actor by IRI work); direct posts become visible to the local
// people they mention, and followers-only posts to followers by IRI. It
// must be deterministic.
func ActorIRIs(f func(kind actor.Kind, username string) string) Option {
	return func(o *options) { o.actorIRI = f }
}

// PostIRIs gives the IRI of a local post from its author's actor IRI and
// its id (federation/urls.PostIRI). With it and ActorIRIs, a reply to a
// local post records the IRI of the post it answers (Post.InReplyToIRI);
// replies to IRIs and to received posts record it without. It must be
// deterministic.
func PostIRIs(f func(authorIRI, postID string) string) Option {
	return func(o *options) { o.postIRI = f }
}

func makeOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Projector builds the posts read model.
type Projector struct {
	reg    *events.Registry
	opener personal.Opener
	opts   options
}

var _ projections.Projector = (*Projector)(nil)

// New returns the posts projector; opener opens the sealed texts.
func New(opener personal.Opener, opts ...Option) *Projector {
	reg := events.NewRegistry()
	actor.Register(reg)
	post.Register(reg)
	media.Register(reg)
	account.Register(reg)
	follow.Register(reg)
	community.Register(reg)
	remote.Register(reg)
	return &Projector{reg: reg, opener: opener, opts: makeOptions(opts)}
}

var handled = map[string]bool{}

func init() {
	for _, t := range []string{
		actor.TypeCreated,
		post.TypePublished, post.TypeEdited, post.TypeDeleted, post.TypeRemoved, post.TypeAnnounced,
		post.TypeThreadLocked, post.TypeThreadUnlocked, post.TypePinned, post.TypeUnpinned,
		post.TypeBoosted, post.TypeUnboosted, post.TypeLiked, post.TypeLikeUndone,
		media.TypeUploaded, media.TypeDeleted,
		account.TypeErased, remote.TypeActorErased,
		follow.TypeRequested, follow.TypeAccepted, follow.TypeRejected, follow.TypeUndone, follow.TypeRemoved,
		community.TypeMemberJoined, community.TypeMemberLeft, community.TypeMemberRemoved, community.TypeMemberBanned,
	} {
		handled[t] = true
	}
}

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(t string) bool { return handled[t] }

// tables names the build's tables.
type tables struct {
	posts, likes, tags, attachments, timeline, subs, follows, mentions, media, actors string
	// version is the build's version: queries of this binary may meet a
	// live build of an earlier version while a new one builds.
	version int
}

func tablesOf(t projections.Tables) tables {
	return tables{version: t.Version(), posts: t.Name("posts"), likes: t.Name("likes"), tags: t.Name("tags"), attachments: t.Name("attachments"),
		timeline: t.Name("timeline"), subs: t.Name("subscriptions"), follows: t.Name("follows"),
		mentions: t.Name("mentions"), media: t.Name("media"), actors: t.Name("actors")}
}

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	n := tablesOf(t)
	_, err := tx.ExecContext(ctx, strings.NewReplacer(
		"{posts}", n.posts, "{likes}", n.likes, "{tags}", n.tags, "{attachments}", n.attachments,
		"{timeline}", n.timeline, "{subs}", n.subs, "{follows}", n.follows, "{mentions}", n.mentions,
		"{media}", n.media, "{actors}", n.actors, "{p}", t.Prefix()).Replace(`
		CREATE TABLE {posts} (
			seq          INTEGER NOT NULL PRIMARY KEY,
			id           TEXT    NOT NULL,
			kind         TEXT    NOT NULL,
			author_id    TEXT    NOT NULL,
			author_iri   TEXT    NOT NULL,
			object_iri   TEXT    NOT NULL,
			url          TEXT    NOT NULL,
			community_id TEXT    NOT NULL,
			in_reply_to  TEXT    NOT NULL,
			-- the IRI of the post answered ('' when not known)
			in_reply_to_iri TEXT NOT NULL,
			root_id      TEXT    NOT NULL,
			visibility   TEXT    NOT NULL,
			languages    TEXT    NOT NULL,
			hashtags     TEXT    NOT NULL,
			mentions     TEXT    NOT NULL,
			content_json TEXT    NOT NULL,
			-- a received post's Create as received ('' once deleted or erased)
			activity     TEXT    NOT NULL,
			sensitive    INTEGER NOT NULL,
			created_at   TEXT    NOT NULL,
			edited_at    TEXT,
			deleted      INTEGER NOT NULL DEFAULT 0,
			removed      INTEGER NOT NULL DEFAULT 0,
			-- when the post was first deleted, removed or erased
			gone_at      TEXT,
			-- the position and time of post.announced (0 and NULL: not shared)
			announced_seq INTEGER NOT NULL DEFAULT 0,
			announced_at TEXT,
			like_count   INTEGER NOT NULL DEFAULT 0,
			reply_count  INTEGER NOT NULL DEFAULT 0,
			boost_count  INTEGER NOT NULL DEFAULT 0,
			pinned       INTEGER NOT NULL DEFAULT 0,
			-- the position of post.pinned while pinned (0 otherwise)
			pinned_seq   INTEGER NOT NULL DEFAULT 0,
			locked       INTEGER NOT NULL DEFAULT 0
		);
		-- No partial indexes: with them, SQLite (built with STAT4)
		-- re-prepares every statement whose bound values it compares
		-- with the indexes' conditions, on every new binding.
		CREATE UNIQUE INDEX {p}posts_id ON {posts} (id);
		CREATE INDEX {p}posts_visibility ON {posts} (visibility, seq);
		CREATE INDEX {p}posts_author ON {posts} (author_id, seq);
		CREATE INDEX {p}posts_announced ON {posts} (community_id, announced_seq);
		CREATE INDEX {p}posts_reply ON {posts} (in_reply_to, seq);
		CREATE INDEX {p}posts_root ON {posts} (root_id, seq);
		CREATE INDEX {p}posts_pinned ON {posts} (community_id, pinned, seq);

		CREATE TABLE {likes} (
			post_id TEXT    NOT NULL,
			liker   TEXT    NOT NULL,
			seq     INTEGER NOT NULL,
			PRIMARY KEY (post_id, liker)
		) WITHOUT ROWID;
		CREATE INDEX {p}likes_liker ON {likes} (liker);
		CREATE INDEX {p}likes_seq ON {likes} (post_id, seq);

		CREATE TABLE {tags} (
			tag     TEXT    NOT NULL,
			seq     INTEGER NOT NULL,
			post_id TEXT    NOT NULL,
			PRIMARY KEY (tag, seq)
		) WITHOUT ROWID;
		CREATE INDEX {p}tags_post ON {tags} (post_id);

		CREATE TABLE {attachments} (
			post_id     TEXT    NOT NULL,
			idx         INTEGER NOT NULL,
			media_id    TEXT    NOT NULL,
			url         TEXT    NOT NULL,
			media_type  TEXT    NOT NULL,
			description TEXT    NOT NULL,
			PRIMARY KEY (post_id, idx)
		) WITHOUT ROWID;

		CREATE TABLE {timeline} (
			source  TEXT    NOT NULL,
			seq     INTEGER NOT NULL,
			post_id TEXT    NOT NULL,
			PRIMARY KEY (source, seq)
		) WITHOUT ROWID;
		CREATE INDEX {p}timeline_post ON {timeline} (post_id, seq);

		CREATE TABLE {subs} (
			person TEXT NOT NULL,
			source TEXT NOT NULL,
			PRIMARY KEY (person, source)
		) WITHOUT ROWID;
		CREATE INDEX {p}subscriptions_source ON {subs} (source);

		CREATE TABLE {follows} (
			stream   TEXT NOT NULL PRIMARY KEY,
			person   TEXT NOT NULL,
			followee TEXT NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX {p}follows_person ON {follows} (person);

		CREATE TABLE {mentions} (
			post_id TEXT NOT NULL,
			iri     TEXT NOT NULL,
			PRIMARY KEY (post_id, iri)
		) WITHOUT ROWID;

		CREATE TABLE {media} (
			media_id    TEXT NOT NULL PRIMARY KEY,
			owner_id    TEXT NOT NULL,
			description TEXT NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX {p}media_owner ON {media} (owner_id);

		CREATE TABLE {actors} (
			id  TEXT NOT NULL PRIMARY KEY,
			iri TEXT NOT NULL
		) WITHOUT ROWID;`))
	return err
}

// applier applies one batch inside the runner's transaction.
type applier struct {
	ctx  context.Context
	tx   *sql.Tx
	n    tables
	p    *Projector
	e    events.Envelope
	stmt map[string]*sql.Stmt
}

// exec runs a statement whose text contains table placeholders, prepared
// once per batch.
func (a *applier) exec(query string, args ...any) (sql.Result, error) {
	st, ok := a.stmt[query]
	if !ok {
		var err error
		st, err = a.tx.PrepareContext(a.ctx, a.sql(query))
		if err != nil {
			return nil, err
		}
		a.stmt[query] = st
	}
	return st.ExecContext(a.ctx, args...)
}

func (a *applier) queryRow(query string, args ...any) *sql.Row {
	return a.tx.QueryRowContext(a.ctx, a.sql(query), args...)
}

func (a *applier) sql(query string) string {
	return strings.NewReplacer("{posts}", a.n.posts, "{likes}", a.n.likes, "{tags}", a.n.tags,
		"{attachments}", a.n.attachments, "{timeline}", a.n.timeline, "{subs}", a.n.subs, "{follows}", a.n.follows,
		"{mentions}", a.n.mentions, "{media}", a.n.media, "{actors}", a.n.actors).Replace(query)
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	a := &applier{ctx: ctx, tx: tx, n: tablesOf(t), p: p, stmt: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range a.stmt {
			st.Close()
		}
	}()
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		a.e = e
		if err := a.apply(payload); err != nil {
			return fmt.Errorf("posts: %s at position %d: %w", e.Type, e.Position, err)
		}
	}
	return nil
}

// streamID is the id in the envelope's stream name after prefix.
func (a *applier) streamID(prefix string) string {
	id, _ := strings.CutPrefix(a.e.StreamID, prefix)
	return id
}

func (a *applier) apply(payload any) error {
	switch ev := payload.(type) {
	case *actor.Created:
		if a.p.opts.actorIRI == nil {
			return nil
		}
		_, err := a.exec(`INSERT OR REPLACE INTO {actors} (id, iri) VALUES (?, ?)`, ev.ActorID, a.p.opts.actorIRI(ev.Kind, ev.Username))
		return err
	case *post.Published:
		return a.published(ev)
	case *post.Edited:
		return a.edited(a.streamID("post-"), ev)
	case *post.Deleted:
		return a.gone(a.streamID("post-"), "deleted")
	case *post.Removed:
		return a.gone(a.streamID("post-"), "removed")
	case *post.ThreadLocked:
		return a.flag(a.streamID("post-"), "locked", 1)
	case *post.ThreadUnlocked:
		return a.flag(a.streamID("post-"), "locked", 0)
	case *post.Announced:
		_, err := a.exec(`UPDATE {posts} SET announced_seq = ?, announced_at = ? WHERE id = ? AND announced_seq = 0`,
			int64(a.e.Position), projections.FormatTime(projections.OccurredAt(a.e)), a.streamID("post-"))
		return err
	case *post.Pinned:
		_, err := a.exec(`UPDATE {posts} SET pinned = 1, pinned_seq = ? WHERE id = ?`, int64(a.e.Position), a.streamID("post-"))
		return err
	case *post.Unpinned:
		_, err := a.exec(`UPDATE {posts} SET pinned = 0, pinned_seq = 0 WHERE id = ?`, a.streamID("post-"))
		return err
	case *post.Boosted:
		return a.boosted(a.streamID("post-"), ev)
	case *post.Unboosted:
		return a.unboosted(a.streamID("post-"), ev)
	case *post.Liked:
		return a.liked(ev.PostID, ev.Liker)
	case *post.LikeUndone:
		return a.unliked(ev.PostID, ev.Liker)
	case *media.Uploaded:
		desc, err := personal.OpenOrEmpty(a.p.opener, ev.Description)
		if err != nil {
			return err
		}
		_, err = a.exec(`INSERT OR REPLACE INTO {media} (media_id, owner_id, description) VALUES (?, ?, ?)`, ev.MediaID, ev.OwnerID, desc)
		return err
	case *media.Deleted:
		_, err := a.exec(`DELETE FROM {media} WHERE media_id = ?`, a.streamID("media-"))
		return err
	case *account.Erased:
		return a.erased(a.streamID("account-"))
	case *remote.ActorErased:
		return a.remoteErased(ev.ActorIRI)
	case *follow.Requested:
		if ev.Direction != follow.Outbound {
			return nil
		}
		_, err := a.exec(`INSERT OR REPLACE INTO {follows} (stream, person, followee) VALUES (?, ?, ?)`, a.e.StreamID, ev.LocalActorID, ev.FolloweeIRI)
		return err
	case *follow.Accepted:
		_, err := a.exec(`INSERT OR IGNORE INTO {subs} (person, source) SELECT person, ? || followee FROM {follows} WHERE stream = ?`, SourceIRI, a.e.StreamID)
		return err
	case *follow.Rejected, *follow.Undone, *follow.Removed:
		_, err := a.exec(`DELETE FROM {subs} WHERE (person, source) IN (SELECT person, ? || followee FROM {follows} WHERE stream = ?)`, SourceIRI, a.e.StreamID)
		return err
	case *community.MemberJoined:
		_, err := a.exec(`INSERT OR IGNORE INTO {subs} (person, source) VALUES (?, ?)`, ev.Member, SourceCommunity+ev.CommunityID)
		return err
	case *community.MemberLeft:
		return a.unsubscribe(ev.Member, SourceCommunity+ev.CommunityID)
	case *community.MemberRemoved:
		return a.unsubscribe(ev.Member, SourceCommunity+ev.CommunityID)
	case *community.MemberBanned:
		return a.unsubscribe(ev.Member, SourceCommunity+ev.CommunityID)
	}
	return &projections.DecodeError{Position: a.e.Position, Type: a.e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
}

func (a *applier) unsubscribe(person, source string) error {
	_, err := a.exec(`DELETE FROM {subs} WHERE person = ? AND source = ?`, person, source)
	return err
}

// texts is what content_json holds: a post's text without its alt texts
// (they are in attachments) and without the raw activity.
type texts struct {
	ContentMap map[string]string `json:"contentMap,omitempty"`
	NameMap    map[string]string `json:"nameMap,omitempty"`
	SummaryMap map[string]string `json:"summaryMap,omitempty"`
}

// open decrypts a post's Content; an erased author gives ok false.
func (a *applier) open(t personal.Text) (post.Content, bool, error) {
	var c post.Content
	err := personal.OpenJSON(a.p.opener, t, &c)
	if errors.Is(err, personal.ErrErased) {
		return post.Content{}, false, nil
	}
	if err != nil {
		return post.Content{}, false, err
	}
	return c, true, nil
}

// contentJSON is the stored text of c ("" for an erased author).
func contentJSON(c post.Content, ok bool) (string, error) {
	if !ok {
		return "", nil
	}
	b, err := json.Marshal(texts{ContentMap: c.ContentMap, NameMap: c.NameMap, SummaryMap: c.SummaryMap})
	return string(b), err
}

func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (a *applier) published(ev *post.Published) error {
	c, ok, err := a.open(ev.Content)
	if err != nil {
		return err
	}
	content, err := contentJSON(c, ok)
	if err != nil {
		return err
	}
	authorIRI := ev.AuthorIRI
	if ev.AuthorID != "" {
		if authorIRI, err = a.actorIRI(ev.AuthorID); err != nil {
			return err
		}
	}
	created := projections.OccurredAt(a.e)
	if ev.PublishedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, ev.PublishedAt); err == nil {
			created = t
		}
	}
	replyIRI, err := a.parentIRI(ev.InReplyTo)
	if err != nil {
		return err
	}
	seq := int64(a.e.Position)
	if _, err := a.exec(`INSERT INTO {posts} (seq, id, kind, author_id, author_iri, object_iri, url, community_id,
			in_reply_to, in_reply_to_iri, root_id, visibility, languages, hashtags, mentions, content_json, activity,
			sensitive, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		seq, ev.PostID, string(ev.Kind), ev.AuthorID, authorIRI, ev.ObjectIRI, ev.URL, ev.CommunityID, ev.InReplyTo,
		replyIRI, ev.RootID, string(ev.Visibility), strings.Join(ev.Languages, ","), jsonList(ev.Hashtags),
		jsonList(ev.Mentions), content, c.Activity, boolInt(ev.Sensitive), projections.FormatTime(created)); err != nil {
		return err
	}
	if err := a.indexTexts(ev.PostID, seq, ev.Hashtags, ev.Mentions); err != nil {
		return err
	}
	for i, at := range ev.Attachments {
		desc := ""
		if ok && i < len(c.Descriptions) {
			desc = c.Descriptions[i]
		}
		if _, err := a.exec(`INSERT INTO {attachments} (post_id, idx, media_id, url, media_type, description)
				VALUES (?, ?, ?, ?, ?, CASE WHEN ? <> '' THEN ? ELSE coalesce((SELECT description FROM {media} WHERE media_id = ? AND ? <> ''), '') END)`,
			ev.PostID, i, at.MediaID, at.URL, at.MediaType, desc, desc, at.MediaID, at.MediaID); err != nil {
			return err
		}
	}
	if ev.InReplyTo != "" {
		if _, err := a.exec(`UPDATE {posts} SET reply_count = reply_count + 1 WHERE id = ?`, ev.InReplyTo); err != nil {
			return err
		}
	}
	sources := []string{}
	if ev.AuthorID != "" {
		sources = append(sources, SourceAccount+ev.AuthorID)
	}
	if authorIRI != "" {
		sources = append(sources, SourceIRI+authorIRI)
	}
	if ev.CommunityID != "" {
		sources = append(sources, SourceCommunity+ev.CommunityID)
	}
	for _, s := range sources {
		if _, err := a.exec(`INSERT INTO {timeline} (source, seq, post_id) VALUES (?, ?, ?)`, s, seq, ev.PostID); err != nil {
			return err
		}
	}
	return nil
}

// parentIRI is the IRI of the post inReplyTo names: an IRI itself, a
// received post's object IRI, or (with PostIRIs) a local post's IRI; ""
// when unknown.
func (a *applier) parentIRI(inReplyTo string) (string, error) {
	if inReplyTo == "" || strings.Contains(inReplyTo, "://") {
		return inReplyTo, nil
	}
	var authorID, authorIRI, objectIRI string
	err := a.queryRow(`SELECT author_id, author_iri, object_iri FROM {posts} WHERE id = ?`, inReplyTo).
		Scan(&authorID, &authorIRI, &objectIRI)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", err
	case objectIRI != "":
		return objectIRI, nil
	case authorID != "" && authorIRI != "" && a.p.opts.postIRI != nil:
		return a.p.opts.postIRI(authorIRI, inReplyTo), nil
	}
	return "", nil
}

// actorIRI is the recorded IRI of local actor id ("" if unknown).
func (a *applier) actorIRI(id string) (string, error) {
	var iri string
	err := a.queryRow(`SELECT iri FROM {actors} WHERE id = ?`, id).Scan(&iri)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return iri, err
}

// indexTexts writes a post's hashtag and mention rows.
func (a *applier) indexTexts(postID string, seq int64, hashtags, mentions []string) error {
	for _, tag := range hashtags {
		if _, err := a.exec(`INSERT OR IGNORE INTO {tags} (tag, seq, post_id) VALUES (?, ?, ?)`, tag, seq, postID); err != nil {
			return err
		}
	}
	for _, m := range mentions {
		if _, err := a.exec(`INSERT OR IGNORE INTO {mentions} (post_id, iri) VALUES (?, ?)`, postID, m); err != nil {
			return err
		}
	}
	return nil
}

// live reads the seq of a post that is neither deleted nor removed.
func (a *applier) live(id string) (seq int64, ok bool, err error) {
	err = a.queryRow(`SELECT seq FROM {posts} WHERE id = ? AND deleted = 0 AND removed = 0`, id).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return seq, err == nil, err
}

func (a *applier) edited(id string, ev *post.Edited) error {
	seq, ok, err := a.live(id)
	if err != nil || !ok {
		return err // an erased author's post stays empty
	}
	c, opened, err := a.open(ev.Content)
	if err != nil {
		return err
	}
	content, err := contentJSON(c, opened)
	if err != nil {
		return err
	}
	if _, err := a.exec(`UPDATE {posts} SET content_json = ?, languages = ?, hashtags = ?, mentions = ?, sensitive = ?,
			edited_at = ? WHERE id = ?`, content, strings.Join(ev.Languages, ","), jsonList(ev.Hashtags),
		jsonList(ev.Mentions), boolInt(ev.Sensitive), projections.FormatTime(projections.OccurredAt(a.e)), id); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM {tags} WHERE post_id = ?`, `DELETE FROM {mentions} WHERE post_id = ?`} {
		if _, err := a.exec(q, id); err != nil {
			return err
		}
	}
	if err := a.indexTexts(id, seq, ev.Hashtags, ev.Mentions); err != nil {
		return err
	}
	if opened {
		for i, d := range c.Descriptions {
			if _, err := a.exec(`UPDATE {attachments} SET description = ? WHERE post_id = ? AND idx = ?`, d, id, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// gone marks a post deleted (its text and received activity purged) or
// removed, records when it went first, and takes it out of timelines, tags
// and its parent's reply count.
func (a *applier) gone(id, column string) error {
	_, ok, err := a.live(id)
	if err != nil {
		return err
	}
	if ok {
		if _, err := a.exec(`UPDATE {posts} SET reply_count = reply_count - 1
				WHERE id = (SELECT in_reply_to FROM {posts} WHERE id = ?)`, id); err != nil {
			return err
		}
	}
	for _, q := range []string{`DELETE FROM {timeline} WHERE post_id = ?`, `DELETE FROM {tags} WHERE post_id = ?`} {
		if _, err := a.exec(q, id); err != nil {
			return err
		}
	}
	at := projections.FormatTime(projections.OccurredAt(a.e))
	if column == "removed" {
		_, err = a.exec(`UPDATE {posts} SET removed = 1, gone_at = coalesce(gone_at, ?) WHERE id = ?`, at, id)
		return err
	}
	for _, q := range []string{`DELETE FROM {mentions} WHERE post_id = ?`, `DELETE FROM {attachments} WHERE post_id = ?`} {
		if _, err := a.exec(q, id); err != nil {
			return err
		}
	}
	_, err = a.exec(`UPDATE {posts} SET deleted = 1, content_json = '', activity = '', hashtags = '[]', mentions = '[]',
		gone_at = coalesce(gone_at, ?) WHERE id = ?`, at, id)
	return err
}

func (a *applier) flag(id, column string, v int) error {
	_, err := a.exec(`UPDATE {posts} SET `+column+` = ? WHERE id = ?`, v, id)
	return err
}

func (a *applier) boosted(id string, ev *post.Boosted) error {
	_, ok, err := a.live(id)
	if err != nil || !ok {
		return err
	}
	if _, err := a.exec(`UPDATE {posts} SET boost_count = boost_count + 1 WHERE id = ?`, id); err != nil {
		return err
	}
	_, err = a.exec(`INSERT OR IGNORE INTO {timeline} (source, seq, post_id) VALUES (?, ?, ?)`, SourceIRI+ev.BoosterIRI, int64(a.e.Position), id)
	return err
}

// unboosted takes out the timeline row a booster's boost had added (not
// the post's own row when the booster is its author) and counts the boost
// no more.
func (a *applier) unboosted(id string, ev *post.Unboosted) error {
	res, err := a.exec(`DELETE FROM {timeline} WHERE source = ? AND post_id = ?
		AND seq <> coalesce((SELECT seq FROM {posts} WHERE id = ?), 0)`, SourceIRI+ev.BoosterIRI, id, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err = a.exec(`UPDATE {posts} SET boost_count = boost_count - 1 WHERE id = ? AND boost_count > 0`, id)
	return err
}

func (a *applier) liked(postID, liker string) error {
	res, err := a.exec(`INSERT OR IGNORE INTO {likes} (post_id, liker, seq) VALUES (?, ?, ?)`, postID, liker, int64(a.e.Position))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err = a.exec(`UPDATE {posts} SET like_count = like_count + 1 WHERE id = ?`, postID)
	return err
}

func (a *applier) unliked(postID, liker string) error {
	res, err := a.exec(`DELETE FROM {likes} WHERE post_id = ? AND liker = ?`, postID, liker)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err = a.exec(`UPDATE {posts} SET like_count = like_count - 1 WHERE id = ?`, postID)
	return err
}

// step is one statement of an erasure.
type step struct {
	q    string
	args []any
}

func (a *applier) run(steps []step) error {
	for _, s := range steps {
		if _, err := a.exec(s.q, s.args...); err != nil {
			return err
		}
	}
	return nil
}

// erased purges everything of account id: its posts and likes
// (purgeAuthor), its subscriptions and follows, the subscriptions to it,
// and its media descriptions.
func (a *applier) erased(id string) error {
	if err := a.purgeAuthor(`author_id = ?`, id, id); err != nil {
		return err
	}
	return a.run([]step{
		{`DELETE FROM {subs} WHERE person = ? OR source = ? OR source = '` + SourceIRI + `' || (SELECT iri FROM {actors} WHERE id = ?)`,
			[]any{id, SourceAccount + id, id}},
		{`DELETE FROM {follows} WHERE person = ?`, []any{id}},
		{`DELETE FROM {media} WHERE owner_id = ?`, []any{id}},
	})
}

// remoteErased purges everything of the remote actor iri, which deleted
// itself (federation.remote_actor_erased): its received posts and its
// likes (purgeAuthor, as for an erased local account), and the
// subscriptions to it (local people following it) or by it (a remote
// member of a community).
func (a *applier) remoteErased(iri string) error {
	if iri == "" {
		return nil
	}
	if err := a.purgeAuthor(`author_id = '' AND author_iri = ?`, iri, iri); err != nil {
		return err
	}
	return a.run([]step{{`DELETE FROM {subs} WHERE person = ? OR source = ?`, []any{iri, SourceIRI + iri}}})
}

// purgeAuthor purges the posts of one author and what the author liked.
// own is the condition on {posts} columns selecting the author's posts
// with one parameter, author: a local account (author_id = ?) or a remote
// actor (author_id = ” AND author_iri = ?). The posts lose their text,
// activity, tags, mentions, attachments, likes and timeline rows and
// become deleted (their parents count them as replies no more); liker's
// likes of other posts are taken back.
func (a *applier) purgeAuthor(own string, author any, liker string) error {
	ownIDs := `SELECT id FROM {posts} WHERE ` + own
	child := strings.NewReplacer("author_id", "c.author_id", "author_iri", "c.author_iri").Replace(own)
	return a.run([]step{
		{`UPDATE {posts} SET reply_count = reply_count - (SELECT count(*) FROM {posts} c
			WHERE c.in_reply_to = {posts}.id AND ` + child + ` AND c.deleted = 0 AND c.removed = 0)
			WHERE id IN (SELECT in_reply_to FROM {posts} WHERE ` + own + ` AND deleted = 0 AND removed = 0 AND in_reply_to <> '')`,
			[]any{author, author}},
		{`DELETE FROM {timeline} WHERE post_id IN (` + ownIDs + `)`, []any{author}},
		{`DELETE FROM {tags} WHERE post_id IN (` + ownIDs + `)`, []any{author}},
		{`DELETE FROM {mentions} WHERE post_id IN (` + ownIDs + `)`, []any{author}},
		{`DELETE FROM {attachments} WHERE post_id IN (` + ownIDs + `)`, []any{author}},
		{`DELETE FROM {likes} WHERE post_id IN (` + ownIDs + `)`, []any{author}},
		{`UPDATE {posts} SET like_count = like_count - 1 WHERE id IN (SELECT post_id FROM {likes} WHERE liker = ?)`, []any{liker}},
		{`DELETE FROM {likes} WHERE liker = ?`, []any{liker}},
		{`UPDATE {posts} SET content_json = '', activity = '', hashtags = '[]', mentions = '[]', deleted = 1, like_count = 0,
			gone_at = coalesce(gone_at, ?) WHERE ` + own, []any{projections.FormatTime(projections.OccurredAt(a.e)), author}},
	})
}
