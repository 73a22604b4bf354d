package posts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

// Page sizes.
const (
	DefaultLimit = 20
	MaxLimit     = 40
	// maxSourcesPerQuery bounds the arms of one UNION ALL (SQLite allows
	// 500); more sources are queried in chunks and merged.
	maxSourcesPerQuery = 200
	// maxRowsPerSource bounds the rows read from one source for one page
	// (a source full of posts hidden from the reader could otherwise make
	// a page read all of it).
	maxRowsPerSource = 1000
	// MaxListLimit bounds a page of ByAuthor and Announced.
	MaxListLimit = 100
	// MaxPinned bounds Pinned (communities pin a handful of posts).
	MaxPinned = 100
)

// Errors of the Reader.
var (
	// ErrNotFound: no such post, or the viewer may not see it.
	ErrNotFound = errors.New("posts: not found")
	// ErrBadCursor: max_id or since_id names no post.
	ErrBadCursor = errors.New("posts: max_id or since_id names no post")
	// ErrInvalidCursor: a cursor of ByAuthor or Announced the Reader did
	// not issue.
	ErrInvalidCursor = errors.New("posts: invalid cursor")
)

// Attachment is a file attached to a post.
type Attachment struct {
	// MediaID is a local upload's id; URL a remote file's address.
	MediaID     string
	URL         string
	MediaType   string
	Description string
}

// Post is one post as the read model holds it.
type Post struct {
	// Seq is the log position of post.published (or, in a timeline,
	// of the boost that brought it there); pages are ordered by it.
	Seq       events.Position
	ID        string
	Kind      post.Kind
	AuthorID  string // local author's account id
	AuthorIRI string // remote author's IRI (a local author's, with ActorIRI)
	ObjectIRI string // remote post's id
	URL       string // remote post's page
	// CommunityID, InReplyTo, RootID place the post.
	CommunityID string
	InReplyTo   string
	RootID      string
	// InReplyToIRI is the IRI of the post answered: InReplyTo when that is
	// an IRI, a received parent's object IRI, a local parent's IRI (with
	// the projector's ActorIRIs and PostIRIs options); "" for none or when
	// not known.
	InReplyToIRI string
	Visibility   post.Visibility
	Languages    []string
	// ContentMap is plain text for local posts, sanitised HTML for
	// remote ones; NameMap and SummaryMap are titles and summaries.
	ContentMap  map[string]string
	NameMap     map[string]string
	SummaryMap  map[string]string
	Hashtags    []string
	Mentions    []string
	Attachments []Attachment
	Sensitive   bool
	CreatedAt   time.Time
	EditedAt    time.Time // zero if never edited
	Deleted     bool
	Removed     bool
	// GoneAt is when the post was deleted, removed or its author erased,
	// whichever came first (zero while it lives).
	GoneAt time.Time
	// AnnouncedAt is when its community shared it (post.announced; zero:
	// not shared).
	AnnouncedAt time.Time
	// Activity is a received post's Create exactly as received (not
	// replaced by later Updates), "" once the post is deleted or its
	// author erased. Only Lookup, ByAuthor, Announced and Pinned fill it
	// in; timelines and Get leave it empty.
	Activity   string
	LikeCount  int
	ReplyCount int
	BoostCount int
	Pinned     bool
	Locked     bool
	// BoostedBy is set on a timeline entry brought in by that remote
	// actor's boost.
	BoostedBy string
}

// Local reports whether a local person wrote the post.
func (p Post) Local() bool { return p.AuthorID != "" }

// Page selects a slice of a listing, newest first: posts older than
// MaxID, newer than SinceID (post ids), at most Limit (0 means
// DefaultLimit; more than MaxLimit means MaxLimit).
type Page struct {
	MaxID, SinceID string
	Limit          int
}

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return p.Limit
}

// Like is one like of a post.
type Like struct {
	Liker string
	Seq   events.Position
}

// Reader is the read-only query interface of the posts read model.
// viewer is a local account id ("" for anonymous readers).
type Reader interface {
	// Get returns a post the viewer may see; ErrNotFound otherwise.
	Get(ctx context.Context, id, viewer string) (Post, error)
	// Lookup returns a post whatever its visibility, deleted and removed
	// ones included (for documents that apply their own addressing, such
	// as ActivityPub objects and Tombstones), with Activity; ErrNotFound
	// when unknown.
	Lookup(ctx context.Context, id string) (Post, error)
	// Replies lists a thread: for a thread's first post every later post
	// of the thread, for a reply its direct replies; ErrNotFound when the
	// viewer may not see the post itself.
	Replies(ctx context.Context, id, viewer string, page Page) ([]Post, error)
	// CommunityTimeline lists a community's posts the viewer may see.
	CommunityTimeline(ctx context.Context, communityID, viewer string, page Page) ([]Post, error)
	// HomeTimeline lists person's own posts and those of the sources the
	// person subscribes to (followed actors, joined communities), boosts
	// included, as far as the person may see them.
	HomeTimeline(ctx context.Context, person string, page Page) ([]Post, error)
	// PublicTimeline lists public posts (local ones only, with local).
	PublicTimeline(ctx context.Context, local bool, page Page) ([]Post, error)
	// TagTimeline lists the public posts with hashtag tag.
	TagTimeline(ctx context.Context, tag string, page Page) ([]Post, error)
	// Featured lists a community's pinned posts the viewer may see.
	Featured(ctx context.Context, communityID, viewer string) ([]Post, error)
	// LikedBy lists the likes of a post the viewer may see, newest first:
	// at most limit (see Page) older than position before (0: from the
	// newest).
	LikedBy(ctx context.Context, postID, viewer string, before events.Position, limit int) ([]Like, error)
	// HasLiked reports whether liker likes the post.
	HasLiked(ctx context.Context, postID, liker string) (bool, error)
	// CountLocal counts the live posts written on this instance (any
	// visibility), for NodeInfo's usage.localPosts.
	CountLocal(ctx context.Context) (int, error)

	// The following serve documents that apply their own visibility rule
	// (ActivityPub collections): they list posts of the visibilities
	// given (none: nothing) that are neither deleted nor removed, with
	// Activity. Cursors are "" for the first page or a Listing's Next;
	// any other is ErrInvalidCursor. limit 0 asks only for the Total; more
	// than MaxListLimit means MaxListLimit. While an earlier version's
	// build is live they answer projections.ErrNotLive.

	// ByAuthor lists a local author's posts, newest first.
	ByAuthor(ctx context.Context, authorID string, visibilities []post.Visibility, cursor string, limit int) (Listing, error)
	// Announced lists the posts a community shared (post.announced), the
	// latest shared first.
	Announced(ctx context.Context, communityID string, visibilities []post.Visibility, cursor string, limit int) (Listing, error)
	// Pinned lists a community's pinned posts that are neither deleted
	// nor removed, whatever their visibility, in pinning order (at most
	// MaxPinned).
	Pinned(ctx context.Context, communityID string) ([]Post, error)
}

// Listing is one page of a list of posts, with the size of the list.
type Listing struct {
	Items []Post
	// Next is the cursor of the next page ("" on the last one).
	Next string
	// Total is the number of posts in the whole list.
	Total int
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct {
	db *sql.DB
}

// query runs q in tx. (The SQLite driver prepares a statement on every
// call, so statements are not cached: what keeps queries fast is keeping
// their text short.)
func (r *reader) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(ctx, q, args...)
}

var _ Reader = (*reader)(nil)

func (r *reader) viewer(id string) viewer { return viewer{id: id} }

// read runs fn in a read transaction on the live build.
func (r *reader) read(ctx context.Context, fn func(tx *sql.Tx, n tables) error) error {
	return projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		return fn(tx, tablesOf(t))
	})
}

const columnsV1 = `p.seq, p.id, p.kind, p.author_id, p.author_iri, p.object_iri, p.url, p.community_id, p.in_reply_to,
	p.root_id, p.visibility, p.languages, p.hashtags, p.mentions, p.content_json, p.sensitive, p.created_at,
	p.edited_at, p.deleted, p.removed, p.like_count, p.reply_count, p.boost_count, p.pinned, p.locked`

// columns are the columns scanPost reads, on alias p; a version 1 build
// lacks the last three (and gives defaults).
func (n tables) columns() string {
	if n.version < 2 {
		return columnsV1 + `, '', NULL, NULL`
	}
	return columnsV1 + `, p.in_reply_to_iri, p.gone_at, p.announced_at`
}

// activity is the column of a received post's Create (” in a version 1
// build, which lacks it).
func (n tables) activity() string {
	if n.version < 2 {
		return `''`
	}
	return `p.activity`
}

// errOldBuild is the error of queries a version 1 build cannot answer.
func errOldBuild() error {
	return fmt.Errorf("%w: %s version %d is still building", projections.ErrNotLive, Name, Version)
}

// scanPost scans the columns into p, and the columns after them into
// extra.
func scanPost(sc interface{ Scan(...any) error }, p *Post, extra ...any) error {
	var (
		seq                                      int64
		kind, vis, langs, tags, mentions, text   string
		created                                  string
		edited, gone, announced                  sql.NullString
		sensitive, deleted, removed, pinned, lck int
	)
	dst := append([]any{&seq, &p.ID, &kind, &p.AuthorID, &p.AuthorIRI, &p.ObjectIRI, &p.URL, &p.CommunityID, &p.InReplyTo,
		&p.RootID, &vis, &langs, &tags, &mentions, &text, &sensitive, &created, &edited, &deleted, &removed,
		&p.LikeCount, &p.ReplyCount, &p.BoostCount, &pinned, &lck, &p.InReplyToIRI, &gone, &announced}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return err
	}
	p.Seq, p.Kind, p.Visibility = events.Position(seq), post.Kind(kind), post.Visibility(vis)
	p.Sensitive, p.Deleted, p.Removed, p.Pinned, p.Locked = sensitive == 1, deleted == 1, removed == 1, pinned == 1, lck == 1
	if langs != "" {
		p.Languages = strings.Split(langs, ",")
	}
	if err := json.Unmarshal([]byte(tags), &p.Hashtags); err != nil {
		return fmt.Errorf("posts: hashtags of %s: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(mentions), &p.Mentions); err != nil {
		return fmt.Errorf("posts: mentions of %s: %w", p.ID, err)
	}
	if text != "" {
		var t texts
		if err := json.Unmarshal([]byte(text), &t); err != nil {
			return fmt.Errorf("posts: content of %s: %w", p.ID, err)
		}
		p.ContentMap, p.NameMap, p.SummaryMap = t.ContentMap, t.NameMap, t.SummaryMap
	}
	var err error
	if p.CreatedAt, err = projections.ParseTime(created); err != nil {
		return err
	}
	for _, t := range []struct {
		s   sql.NullString
		dst *time.Time
	}{{edited, &p.EditedAt}, {gone, &p.GoneAt}, {announced, &p.AnnouncedAt}} {
		if *t.dst, err = projections.ParseNullTime(t.s); err != nil {
			return fmt.Errorf("posts: time of %s: %w", p.ID, err)
		}
	}
	return nil
}

// queryPosts runs a query selecting n.columns() and adds the
// attachments.
func (r *reader) queryPosts(ctx context.Context, tx *sql.Tx, n tables, q string, args ...any) ([]Post, error) {
	return r.queryPostsExtra(ctx, tx, n, nil, q, args...)
}

// queryPostsExtra runs a query selecting n.columns() and more columns,
// scanned into the destinations extra gives for each post (nil: none),
// and adds the attachments.
func (r *reader) queryPostsExtra(ctx context.Context, tx *sql.Tx, n tables, extra func(p *Post) []any, q string, args ...any) ([]Post, error) {
	rows, err := r.query(ctx, tx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []Post
	for rows.Next() {
		var p Post
		var dst []any
		if extra != nil {
			dst = extra(&p)
		}
		if err := scanPost(rows, &p, dst...); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, r.addAttachments(ctx, tx, n, out)
}

// addAttachments fills in the attachments of posts.
func (r *reader) addAttachments(ctx context.Context, tx *sql.Tx, n tables, posts []Post) error {
	if len(posts) == 0 {
		return nil
	}
	index := map[string][]int{}
	args := make([]any, 0, len(posts))
	for i, p := range posts {
		if _, seen := index[p.ID]; !seen {
			args = append(args, p.ID)
		}
		index[p.ID] = append(index[p.ID], i)
	}
	rows, err := r.query(ctx, tx, `SELECT post_id, media_id, url, media_type, description FROM `+n.attachments+`
		WHERE post_id IN (`+placeholders(len(args))+`) ORDER BY post_id, idx`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Attachment
		if err := rows.Scan(&id, &a.MediaID, &a.URL, &a.MediaType, &a.Description); err != nil {
			return err
		}
		for _, i := range index[id] {
			posts[i].Attachments = append(posts[i].Attachments, a)
		}
	}
	return rows.Err()
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func (r *reader) Get(ctx context.Context, id, viewerID string) (Post, error) {
	var out Post
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		cond, args := n.visible(forViewer, r.viewer(viewerID))
		ps, err := r.queryPosts(ctx, tx, n, `SELECT `+n.columns()+` FROM `+n.posts+` p WHERE p.id = ? AND `+cond,
			append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		out = ps[0]
		return nil
	})
	return out, err
}

func (r *reader) Lookup(ctx context.Context, id string) (Post, error) {
	var out Post
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		ps, err := r.queryPostsExtra(ctx, tx, n, withActivity,
			`SELECT `+n.columns()+`, `+n.activity()+` FROM `+n.posts+` p WHERE p.id = ?`, id)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		out = ps[0]
		return nil
	})
	return out, err
}

// bounds turns a page's post ids into positions: seq < max, seq > since
// (-1 when not given). seqOf maps a post id to the position it is listed
// at.
func bounds(ctx context.Context, tx *sql.Tx, page Page, seqOf string) (max, since int64, err error) {
	max, since = -1, -1
	for _, b := range []struct {
		id  string
		dst *int64
	}{{page.MaxID, &max}, {page.SinceID, &since}} {
		if b.id == "" {
			continue
		}
		var v sql.NullInt64
		if err := tx.QueryRowContext(ctx, seqOf, b.id).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, err
		}
		if !v.Valid {
			return 0, 0, fmt.Errorf("%w: %q", ErrBadCursor, b.id)
		}
		*b.dst = v.Int64
	}
	return max, since, nil
}

// window is the SQL condition and arguments for column between the
// bounds.
func window(column string, max, since int64) (string, []any) {
	var conds []string
	var args []any
	if max >= 0 {
		conds, args = append(conds, column+` < ?`), append(args, max)
	}
	if since >= 0 {
		conds, args = append(conds, column+` > ?`), append(args, since)
	}
	if len(conds) == 0 {
		return "1", nil
	}
	return strings.Join(conds, " AND "), args
}

// listPosts lists posts matching where (on alias p), visible under s,
// newest first within page.
func (r *reader) listPosts(ctx context.Context, s scope, viewerID string, page Page, where string, whereArgs ...any) ([]Post, error) {
	var out []Post
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		max, since, err := bounds(ctx, tx, page, `SELECT seq FROM `+n.posts+` WHERE id = ?`)
		if err != nil {
			return err
		}
		win, winArgs := window("p.seq", max, since)
		cond, condArgs := n.visible(s, r.viewer(viewerID))
		args := append(append(append([]any{}, whereArgs...), winArgs...), condArgs...)
		out, err = r.queryPosts(ctx, tx, n, `SELECT `+n.columns()+` FROM `+n.posts+` p WHERE `+where+` AND `+win+` AND `+cond+
			` ORDER BY p.seq DESC LIMIT ?`, append(args, page.limit())...)
		return err
	})
	return out, err
}

func (r *reader) PublicTimeline(ctx context.Context, local bool, page Page) ([]Post, error) {
	where := "1"
	if local {
		where = "p.author_id <> ''"
	}
	return r.listPosts(ctx, publicListing, "", page, where)
}

func (r *reader) CountLocal(ctx context.Context) (int, error) {
	var n int
	err := r.read(ctx, func(tx *sql.Tx, t tables) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM `+t.posts+` WHERE author_id <> '' AND deleted = 0 AND removed = 0`).Scan(&n)
	})
	return n, err
}

func (r *reader) Featured(ctx context.Context, communityID, viewerID string) ([]Post, error) {
	return r.listPosts(ctx, forViewer, viewerID, Page{Limit: MaxLimit}, "p.community_id = ? AND p.pinned = 1", communityID)
}

func (r *reader) Replies(ctx context.Context, id, viewerID string, page Page) ([]Post, error) {
	parent, err := r.Get(ctx, id, viewerID)
	if err != nil {
		return nil, err
	}
	if parent.RootID == parent.ID {
		return r.listPosts(ctx, forViewer, viewerID, page, "p.root_id = ? AND p.id <> ?", id, id)
	}
	return r.listPosts(ctx, forViewer, viewerID, page, "p.in_reply_to = ?", id)
}

func (r *reader) TagTimeline(ctx context.Context, tag string, page Page) ([]Post, error) {
	var out []Post
	tag = strings.ToLower(strings.TrimPrefix(tag, "#"))
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		max, since, err := bounds(ctx, tx, page, `SELECT seq FROM `+n.posts+` WHERE id = ?`)
		if err != nil {
			return err
		}
		win, winArgs := window("g.seq", max, since)
		cond, condArgs := n.visible(publicListing, viewer{})
		args := append(append([]any{tag}, winArgs...), condArgs...)
		out, err = r.queryPosts(ctx, tx, n, `SELECT `+n.columns()+` FROM `+n.tags+` g JOIN `+n.posts+` p ON p.id = g.post_id
			WHERE g.tag = ? AND `+win+` AND `+cond+` ORDER BY g.seq DESC LIMIT ?`, append(args, page.limit())...)
		return err
	})
	return out, err
}

func (r *reader) CommunityTimeline(ctx context.Context, communityID, viewerID string, page Page) ([]Post, error) {
	var out []Post
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		var err error
		out, err = r.sourceTimeline(ctx, tx, n, []string{SourceCommunity + communityID}, viewerID, page)
		return err
	})
	return out, err
}

func (r *reader) HomeTimeline(ctx context.Context, person string, page Page) ([]Post, error) {
	if person == "" {
		return nil, nil
	}
	var out []Post
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		sources := []string{SourceAccount + person}
		rows, err := tx.QueryContext(ctx, `SELECT source FROM `+n.subs+` WHERE person = ? ORDER BY source`, person)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			sources = append(sources, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		out, err = r.sourceTimeline(ctx, tx, n, sources, person, page)
		return err
	})
	return out, err
}

// entry is one timeline row.
type entry struct {
	seq     int64
	postID  string
	source  string
	visible bool
}

// sourceTimeline merges the timelines of sources: a UNION ALL of one
// index-ordered, limited query per source (in chunks), joined once with
// the posts to apply the visibility rule, then merged newest first with
// each post once (at its newest entry). When hidden posts leave the page
// short while some source had more rows, it asks again for more rows per
// source.
func (r *reader) sourceTimeline(ctx context.Context, tx *sql.Tx, n tables, sources []string, viewerID string, page Page) ([]Post, error) {
	limit := page.limit()
	max, since, err := bounds(ctx, tx, page, `SELECT coalesce((SELECT max(seq) FROM `+n.timeline+` WHERE post_id = ?1), (SELECT seq FROM `+n.posts+` WHERE id = ?1))`)
	if err != nil {
		return nil, err
	}
	// Read a few rows per source first (enough when the sources' posts
	// interleave), more while some source might still hold posts newer
	// than the page's oldest.
	perSource := 2*limit/len(sources) + 5
	for {
		picked, more, err := r.timelineEntries(ctx, tx, n, sources, viewerID, limit, perSource, max, since)
		if err != nil {
			return nil, err
		}
		if !more || perSource >= maxRowsPerSource {
			return r.timelinePosts(ctx, tx, n, picked)
		}
		perSource = min(perSource*4, maxRowsPerSource)
	}
}

// timelineEntries reads at most perSource rows of each source and picks
// the newest visible posts; more reports that the pick may be incomplete:
// a source returned all perSource rows and its oldest is newer than the
// page's oldest (or the page is short).
func (r *reader) timelineEntries(ctx context.Context, tx *sql.Tx, n tables, sources []string, viewerID string, limit, perSource int, max, since int64) (picked []entry, more bool, err error) {
	win, winArgs := window("seq", max, since)
	cond, condArgs := n.visible(forViewer, r.viewer(viewerID))
	arm := `SELECT * FROM (SELECT seq, post_id, source FROM ` + n.timeline + ` WHERE source = ? AND ` + win +
		` ORDER BY seq DESC LIMIT ?)`
	var entries []entry
	type tally struct {
		rows   int
		oldest int64
	}
	read := map[string]*tally{}
	for start := 0; start < len(sources); start += maxSourcesPerQuery {
		chunk := sources[start:min(start+maxSourcesPerQuery, len(sources))]
		arms := make([]string, len(chunk))
		var args []any
		for i, s := range chunk {
			arms[i] = arm
			args = append(append(append(args, s), winArgs...), perSource)
		}
		q := `SELECT e.seq, e.post_id, e.source, ` + cond + ` FROM (` + strings.Join(arms, " UNION ALL ") +
			`) e JOIN ` + n.posts + ` p ON p.id = e.post_id`
		// The condition's parameters come first in the text.
		rows, err := r.query(ctx, tx, q, append(append([]any{}, condArgs...), args...)...)
		if err != nil {
			return nil, false, err
		}
		for rows.Next() {
			var e entry
			if err := rows.Scan(&e.seq, &e.postID, &e.source, &e.visible); err != nil {
				rows.Close()
				return nil, false, err
			}
			t := read[e.source]
			if t == nil {
				t = &tally{oldest: e.seq}
				read[e.source] = t
			}
			t.rows++
			t.oldest = min(t.oldest, e.seq)
			if e.visible {
				entries = append(entries, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].seq > entries[j].seq })
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.postID] {
			continue
		}
		seen[e.postID] = true
		picked = append(picked, e)
		if len(picked) == limit {
			break
		}
	}
	for _, t := range read {
		if t.rows == perSource && (len(picked) < limit || t.oldest > picked[len(picked)-1].seq) {
			more = true
		}
	}
	return picked, more, nil
}

// timelinePosts loads the posts of picked entries, in order.
func (r *reader) timelinePosts(ctx context.Context, tx *sql.Tx, n tables, picked []entry) ([]Post, error) {
	if len(picked) == 0 {
		return nil, nil
	}
	ids := make([]any, len(picked))
	for i, e := range picked {
		ids[i] = e.postID
	}
	ps, err := r.queryPosts(ctx, tx, n, `SELECT `+n.columns()+` FROM `+n.posts+` p WHERE p.id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Post, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	out := make([]Post, 0, len(picked))
	for _, e := range picked {
		p, ok := byID[e.postID]
		if !ok {
			continue
		}
		if e.seq != int64(p.Seq) {
			p.Seq = events.Position(e.seq)
			p.BoostedBy = strings.TrimPrefix(e.source, SourceIRI)
		}
		out = append(out, p)
	}
	return out, nil
}

func (r *reader) LikedBy(ctx context.Context, postID, viewerID string, before events.Position, limit int) ([]Like, error) {
	if _, err := r.Get(ctx, postID, viewerID); err != nil {
		return nil, err
	}
	var out []Like
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		win, winArgs := "1", []any(nil)
		if before > 0 {
			win, winArgs = "seq < ?", []any{int64(before)}
		}
		rows, err := tx.QueryContext(ctx, `SELECT liker, seq FROM `+n.likes+` WHERE post_id = ? AND `+win+
			` ORDER BY seq DESC LIMIT ?`, append(append([]any{postID}, winArgs...), Page{Limit: limit}.limit())...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l Like
			var seq int64
			if err := rows.Scan(&l.Liker, &seq); err != nil {
				return err
			}
			l.Seq = events.Position(seq)
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

func (r *reader) HasLiked(ctx context.Context, postID, liker string) (bool, error) {
	var n int
	err := r.read(ctx, func(tx *sql.Tx, t tables) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM `+t.likes+` WHERE post_id = ? AND liker = ?`, postID, liker).Scan(&n)
	})
	return n > 0, err
}

// withActivity scans the column after n.columns() into the post's
// Activity.
func withActivity(p *Post) []any { return []any{&p.Activity} }

// parseCursor reads a cursor of listing: "" (from the newest, -1) or the
// positive key of the last post of the previous page.
func parseCursor(cursor string) (int64, error) {
	if cursor == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != cursor {
		return 0, fmt.Errorf("%w: %q", ErrInvalidCursor, cursor)
	}
	return n, nil
}

func (r *reader) ByAuthor(ctx context.Context, authorID string, vs []post.Visibility, cursor string, limit int) (Listing, error) {
	if authorID == "" { // received posts have no author id
		return r.listing(ctx, "p.seq", "0", nil, vs, cursor, limit)
	}
	return r.listing(ctx, "p.seq", "p.author_id = ?", []any{authorID}, vs, cursor, limit)
}

func (r *reader) Announced(ctx context.Context, communityID string, vs []post.Visibility, cursor string, limit int) (Listing, error) {
	return r.listing(ctx, "p.announced_seq", "p.community_id = ? AND p.announced_seq > 0", []any{communityID}, vs, cursor, limit)
}

// listing lists the live posts matching where (on alias p) of the
// visibilities vs, by key (a unique position column) descending, from
// after the key cursor names.
func (r *reader) listing(ctx context.Context, key, where string, whereArgs []any, vs []post.Visibility, cursor string,
	limit int) (Listing, error) {
	after, err := parseCursor(cursor)
	if err != nil {
		return Listing{}, err
	}
	limit = min(limit, MaxListLimit)
	var out Listing
	err = r.read(ctx, func(tx *sql.Tx, n tables) error {
		if n.version < 2 {
			return errOldBuild()
		}
		if len(vs) == 0 {
			return nil
		}
		args := append([]any{}, whereArgs...)
		for _, v := range vs {
			args = append(args, string(v))
		}
		cond := where + ` AND p.deleted = 0 AND p.removed = 0 AND p.visibility IN (` + placeholders(len(vs)) + `)`
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+n.posts+` p WHERE `+cond, args...).Scan(&out.Total); err != nil {
			return err
		}
		if limit <= 0 {
			return nil
		}
		if after >= 0 {
			cond, args = cond+` AND `+key+` < ?`, append(args, after)
		}
		var keys []*int64
		ps, err := r.queryPostsExtra(ctx, tx, n, func(p *Post) []any {
			k := new(int64)
			keys = append(keys, k)
			return []any{&p.Activity, k}
		}, `SELECT `+n.columns()+`, `+n.activity()+`, `+key+` FROM `+n.posts+` p WHERE `+cond+
			` ORDER BY `+key+` DESC LIMIT ?`, append(args, limit+1)...)
		if err != nil {
			return err
		}
		if len(ps) > limit {
			ps, out.Next = ps[:limit], strconv.FormatInt(*keys[limit-1], 10)
		}
		out.Items = ps
		return nil
	})
	if err != nil {
		return Listing{}, err
	}
	return out, nil
}

func (r *reader) Pinned(ctx context.Context, communityID string) ([]Post, error) {
	var out []Post
	err := r.read(ctx, func(tx *sql.Tx, n tables) error {
		if n.version < 2 {
			return errOldBuild()
		}
		var err error
		out, err = r.queryPostsExtra(ctx, tx, n, withActivity, `SELECT `+n.columns()+`, `+n.activity()+` FROM `+n.posts+
			` p WHERE p.community_id = ? AND p.pinned = 1 AND p.deleted = 0 AND p.removed = 0 ORDER BY p.pinned_seq LIMIT ?`,
			communityID, MaxPinned)
		return err
	})
	return out, err
}
