package remoteobjects

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

// MaxPageSize caps the limit of ByAuthor.
const MaxPageSize = 200

// Errors of the Reader.
var (
	// ErrNotFound: no object with that id was stored.
	ErrNotFound = errors.New("remoteobjects: not found")
	// ErrBadCursor: a cursor the Reader did not issue.
	ErrBadCursor = errors.New("remoteobjects: invalid cursor")
	// ErrBadLimit: a page size outside 1..MaxPageSize.
	ErrBadLimit = errors.New("remoteobjects: invalid limit")
)

// Object is a remote object as the read model holds it. A deleted object
// keeps its id, type, owner and addressing; its content and name are
// cleared.
type Object struct {
	ID   string
	Type string
	// AttributedTo is the owner: the actor named in attributedTo that
	// created it.
	AttributedTo string
	// Actor is the actor of the Create (or Update) that stored it.
	Actor      string
	Content    string
	Name       string
	URL        string
	InReplyTo  string
	Visibility Visibility
	// Published is the object's published time; zero when absent.
	Published time.Time
	// EditedAt is when it was last updated; zero when never.
	EditedAt time.Time
	// DeletedAt is when it was deleted; zero while it is not.
	DeletedAt time.Time
	// ActivityID is the activity that last changed it.
	ActivityID string
	// Position is the position of the event that stored it first; pages
	// are ordered by it, newest first.
	Position events.Position
}

// Deleted reports whether the owner deleted the object.
func (o Object) Deleted() bool { return !o.DeletedAt.IsZero() }

// Page is one page of an author's objects.
type Page struct {
	Items []Object
	// Next is the cursor of the next page, "" on the last one.
	Next string
}

// Reader is the read-only query interface of the remote objects read
// model.
type Reader interface {
	// Object returns the object with that id, deleted or not;
	// ErrNotFound when none was stored.
	Object(ctx context.Context, id string) (Object, error)
	// ByAuthor lists an actor's objects that are not deleted, newest
	// first: at most limit (1..MaxPageSize) from cursor ("" for the first
	// page).
	ByAuthor(ctx context.Context, actorIRI, cursor string, limit int) (Page, error)
	// Likes counts the live Likes of an object (any object id, local or
	// remote).
	Likes(ctx context.Context, objectID string) (int, error)
	// Announces counts the live Announces (boosts) of an object.
	Announces(ctx context.Context, objectID string) (int, error)
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

const columns = `id, type, attributed_to, actor, content, name, url, in_reply_to, visibility, published,
	edited_at, deleted_at, activity_id, created_position`

func scan(sc interface{ Scan(...any) error }) (Object, error) {
	var (
		o                         Object
		vis, pub, edited, deleted string
		pos                       int64
	)
	if err := sc.Scan(&o.ID, &o.Type, &o.AttributedTo, &o.Actor, &o.Content, &o.Name, &o.URL, &o.InReplyTo, &vis,
		&pub, &edited, &deleted, &o.ActivityID, &pos); err != nil {
		return Object{}, err
	}
	o.Visibility, o.Position = Visibility(vis), events.Position(pos)
	var err error
	if o.Published, err = projections.ParseTime(pub); err != nil {
		return Object{}, err
	}
	if o.EditedAt, err = projections.ParseTime(edited); err != nil {
		return Object{}, err
	}
	o.DeletedAt, err = projections.ParseTime(deleted)
	return o, err
}

func (r *reader) list(ctx context.Context, query string, args ...any) ([]Object, error) {
	var out []Object
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		objs, err := projections.QueryAll(ctx, tx, scan, fmt.Sprintf(query, columns, t.Name("objects")), args...)
		out = append(out, objs...)
		return err
	})
	return out, err
}

func (r *reader) Object(ctx context.Context, id string) (Object, error) {
	items, err := r.list(ctx, `SELECT %s FROM %s WHERE id = ?`, id)
	if err != nil {
		return Object{}, err
	}
	if len(items) == 0 {
		return Object{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return items[0], nil
}

func (r *reader) ByAuthor(ctx context.Context, actorIRI, cursor string, limit int) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		return Page{}, fmt.Errorf("%w: %d, want 1..%d", ErrBadLimit, limit, MaxPageSize)
	}
	before := int64(1) << 62
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != cursor {
			return Page{}, fmt.Errorf("%w: %q", ErrBadCursor, cursor)
		}
		before = n
	}
	items, err := r.list(ctx, `SELECT %s FROM %s
		WHERE attributed_to = ? AND deleted_at = '' AND created_position < ?
		ORDER BY created_position DESC LIMIT ?`, actorIRI, before, limit+1)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(items) > limit {
		items = items[:limit]
		p.Next = strconv.FormatInt(int64(items[limit-1].Position), 10)
	}
	p.Items = items
	return p, nil
}

func (r *reader) count(ctx context.Context, kind, objectID string) (int, error) {
	var n int
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		return tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE object_id = ? AND kind = ?`,
			t.Name("reactions")), objectID, kind).Scan(&n)
	})
	return n, err
}

func (r *reader) Likes(ctx context.Context, objectID string) (int, error) {
	return r.count(ctx, kindLike, objectID)
}

func (r *reader) Announces(ctx context.Context, objectID string) (int, error) {
	return r.count(ctx, kindAnnounce, objectID)
}
