package notes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/note"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name; Version the shape of its tables.
const (
	Name    = "notes"
	Version = 1
)

// MaxPageSize caps the limit of ByAuthor.
const MaxPageSize = 200

// Errors of the Reader.
var (
	// ErrNotFound: no note has that id.
	ErrNotFound = errors.New("notes: not found")
	// ErrBadCursor: a cursor the Reader did not issue.
	ErrBadCursor = errors.New("notes: invalid cursor")
)

// Note is one local note as the read model holds it.
type Note struct {
	ID         string
	AuthorID   string
	Content    string // plain text; empty once deleted
	Language   string
	Visibility note.Visibility
	InReplyTo  string
	// Published is when note.published occurred (the writer's occurred-at,
	// else the store's recorded-at): the time outbound renders.
	Published time.Time
	// Position is the log position of note.published; pages are ordered
	// by it, newest first.
	Position events.Position
	// DeletedAt is non-zero for a deleted note.
	DeletedAt time.Time
}

// Page is one page of an author's notes.
type Page struct {
	Items []Note
	// Next is the cursor of the next page, "" on the last one.
	Next string
	// Total counts every note of the query, across all pages.
	Total int
}

// Reader is the read-only query interface of the notes read model.
type Reader interface {
	// ByID returns a note (deleted ones included); ErrNotFound when there
	// is none.
	ByID(ctx context.Context, id string) (Note, error)
	// ByAuthor lists the notes of authorID that are not deleted and have
	// one of visibilities, newest first: at most limit (1..MaxPageSize)
	// from cursor ("" for the first page). limit 0 returns only Total.
	ByAuthor(ctx context.Context, authorID string, visibilities []note.Visibility, cursor string, limit int) (Page, error)
	// Count returns the number of local notes not deleted (NodeInfo's
	// localPosts), of every visibility.
	Count(ctx context.Context) (int, error)
}

// Projector builds the notes read model.
type Projector struct{ reg *events.Registry }

var _ projections.Projector = (*Projector)(nil)

// New returns the notes projector.
func New() *Projector {
	reg := events.NewRegistry()
	note.Register(reg)
	return &Projector{reg: reg}
}

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(t string) bool { return t == note.TypePublished || t == note.TypeDeleted }

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			id           TEXT    NOT NULL PRIMARY KEY,
			author_id    TEXT    NOT NULL,
			content      TEXT    NOT NULL,
			language     TEXT    NOT NULL,
			visibility   TEXT    NOT NULL,
			in_reply_to  TEXT    NOT NULL,
			published_at TEXT    NOT NULL,
			position     INTEGER NOT NULL,
			deleted_at   TEXT
		) WITHOUT ROWID;
		CREATE INDEX %[2]s ON %[1]s (author_id, position) WHERE deleted_at IS NULL;`,
		t.Name("notes"), t.Name("notes_author")))
	return err
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	table := t.Name("notes")
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		var res sql.Result
		switch ev := payload.(type) {
		case *note.Published:
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				INSERT INTO %s (id, author_id, content, language, visibility, in_reply_to, published_at, position)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, table),
				ev.NoteID, ev.AuthorID, ev.Content, ev.Language, string(ev.Visibility), ev.InReplyTo,
				projections.FormatTime(projections.OccurredAt(e)), int64(e.Position))
		case *note.Deleted:
			id, _ := strings.CutPrefix(e.StreamID, "note-")
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				UPDATE %s SET deleted_at = ?, content = '' WHERE id = ? AND deleted_at IS NULL`, table),
				projections.FormatTime(projections.OccurredAt(e)), id)
		default:
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		if err != nil {
			return fmt.Errorf("notes: %s at position %d: %w", e.Type, e.Position, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("notes: %s at position %d on stream %s, which holds no live note", e.Type, e.Position, e.StreamID)
		}
	}
	return nil
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

const columns = `id, author_id, content, language, visibility, in_reply_to, published_at, position, deleted_at`

func scan(sc interface{ Scan(...any) error }) (Note, error) {
	var (
		n          Note
		visibility string
		published  string
		pos        int64
		deleted    sql.NullString
	)
	if err := sc.Scan(&n.ID, &n.AuthorID, &n.Content, &n.Language, &visibility, &n.InReplyTo, &published, &pos, &deleted); err != nil {
		return Note{}, err
	}
	n.Visibility, n.Position = note.Visibility(visibility), events.Position(pos)
	var err error
	if n.Published, err = projections.ParseTime(published); err != nil {
		return Note{}, err
	}
	if n.DeletedAt, err = projections.ParseNullTime(deleted); err != nil {
		return Note{}, err
	}
	return n, nil
}

func (r *reader) ByID(ctx context.Context, id string) (Note, error) {
	var out Note
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		var err error
		out, err = scan(tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE id = ?`, columns, t.Name("notes")), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		return err
	})
	return out, err
}

// Cursors are the decimal position of the last note of the previous page.
func parseCursor(c string) (int64, error) {
	if c == "" {
		return -1, nil
	}
	v, err := strconv.ParseInt(c, 10, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 10) != c {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return v, nil
}

func (r *reader) ByAuthor(ctx context.Context, authorID string, visibilities []note.Visibility, cursor string, limit int) (Page, error) {
	if limit < 0 || limit > MaxPageSize {
		return Page{}, fmt.Errorf("notes: limit %d outside 0..%d", limit, MaxPageSize)
	}
	before, err := parseCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	var page Page
	if len(visibilities) == 0 {
		return page, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(visibilities)), ", ")
	args := []any{authorID}
	for _, v := range visibilities {
		args = append(args, string(v))
	}
	err = projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		where := fmt.Sprintf(`author_id = ? AND deleted_at IS NULL AND visibility IN (%s)`, in)
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, t.Name("notes"), where), args...).
			Scan(&page.Total); err != nil {
			return err
		}
		if limit == 0 {
			return nil
		}
		q := fmt.Sprintf(`SELECT %s FROM %s WHERE %s`, columns, t.Name("notes"), where)
		qargs := append([]any(nil), args...)
		if before >= 0 {
			q += ` AND position < ?`
			qargs = append(qargs, before)
		}
		q += ` ORDER BY position DESC LIMIT ?`
		qargs = append(qargs, limit+1)
		notes, err := projections.QueryAll(ctx, tx, scan, q, qargs...)
		page.Items = append(page.Items, notes...)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = strconv.FormatInt(int64(page.Items[limit-1].Position), 10)
	}
	return page, nil
}

func (r *reader) Count(ctx context.Context) (int, error) {
	var n int
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		return tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE deleted_at IS NULL`, t.Name("notes"))).Scan(&n)
	})
	return n, err
}
