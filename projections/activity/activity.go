package activity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name.
const Name = "activity"

// Version is the current version of the projection's tables.
const Version = 1

// Projector builds the activity feed. It handles every event type.
type Projector struct{}

// New returns the activity projector.
func New() *Projector { return &Projector{} }

var _ projections.Projector = (*Projector)(nil)

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector: the feed records every event.
func (*Projector) Handles(string) bool { return true }

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			position       INTEGER NOT NULL PRIMARY KEY,
			event_id       TEXT    NOT NULL,
			stream_id      TEXT    NOT NULL,
			type           TEXT    NOT NULL,
			revision       INTEGER NOT NULL,
			occurred_at    TEXT    NOT NULL,
			recorded_at    TEXT    NOT NULL,
			actor          TEXT    NOT NULL,
			correlation_id TEXT    NOT NULL
		);
		CREATE INDEX %[2]s ON %[1]s (type, position);
		CREATE INDEX %[3]s ON %[1]s (stream_id, position);`,
		t.Name("entries"), t.Name("entries_type"), t.Name("entries_stream")))
	return err
}

// formatTime stores a time, or "" for a missing one.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return projections.FormatTime(t)
}

// insertChunk is the number of rows per INSERT statement. The SQLite
// driver (modernc.org/sqlite) compiles a statement on every execution, so
// one statement per event spends much of its time in the SQL parser; its
// parameter binding is quadratic in the number of parameters, so chunks
// stay small.
const insertChunk = 16

func insertSQL(table string, rows int) string {
	var b strings.Builder
	// OR FAIL instead of the default ABORT: SQLite then needs no statement
	// journal for the multi-row statement. A failure fails the whole batch
	// transaction anyway.
	b.WriteString("INSERT OR FAIL INTO ")
	b.WriteString(table)
	b.WriteString(" (position, event_id, stream_id, type, revision, occurred_at, recorded_at, actor, correlation_id) VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// Apply implements projections.Projector: one row per event, inserted
// insertChunk rows per statement.
func (*Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	table := t.Name("entries")
	full := insertSQL(table, insertChunk)
	args := make([]any, 0, insertChunk*9)
	for start := 0; start < len(batch); start += insertChunk {
		chunk := batch[start:min(start+insertChunk, len(batch))]
		args = args[:0]
		for _, e := range chunk {
			args = append(args, int64(e.Position), e.ID.String(), e.StreamID, e.Type, int64(e.Revision),
				formatTime(e.Metadata.OccurredAt), formatTime(e.RecordedAt), e.Metadata.Actor, e.Metadata.CorrelationID)
		}
		q := full
		if len(chunk) < insertChunk {
			q = insertSQL(table, len(chunk))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("positions %d-%d: %w", chunk[0].Position, chunk[len(chunk)-1].Position, err)
		}
	}
	return nil
}

// Entry is one event of the feed.
type Entry struct {
	Position      events.Position `json:"position"`
	EventID       string          `json:"event_id"`
	StreamID      string          `json:"stream"`
	Type          string          `json:"type"`
	Revision      uint64          `json:"revision"`
	OccurredAt    time.Time       `json:"occurred_at,omitzero"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Actor         string          `json:"actor,omitempty"`
	CorrelationID string          `json:"correlation_id,omitempty"`
}

// Limits of a Filter.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Filter selects a page of the feed. With After set (and Before not) the
// page runs forwards from After, oldest first; otherwise it runs backwards
// from Before (or from the newest event), newest first.
type Filter struct {
	// StreamPrefix keeps events whose stream id starts with it ("" = all).
	StreamPrefix string
	// Type keeps events of this exact type ("" = all).
	Type string
	// Before keeps events with positions < Before (0 = no bound).
	Before events.Position
	// After keeps events with positions > After (0 = no bound).
	After events.Position
	// Limit caps the page: 0 means DefaultLimit, at most MaxLimit.
	Limit int
}

// Page is one page of the feed. Next, when not 0, is the cursor of the
// following page in the same direction (pass it as Before, or as After for
// forward pages); 0 means there are no more events.
type Page struct {
	Items []Entry
	Next  events.Position
	// Forward tells the page's direction (oldest first).
	Forward bool
}

// ErrInvalidFilter: a filter field is out of range.
var ErrInvalidFilter = errors.New("activity: invalid filter")

// Validate checks the filter's fields.
func (f Filter) Validate() error {
	switch {
	case f.Limit < 0 || f.Limit > MaxLimit:
		return fmt.Errorf("%w: limit %d, want 1 to %d", ErrInvalidFilter, f.Limit, MaxLimit)
	case len(f.StreamPrefix) > events.MaxStreamNameBytes:
		return fmt.Errorf("%w: stream prefix longer than %d bytes", ErrInvalidFilter, events.MaxStreamNameBytes)
	case f.Type != "" && events.ValidateTypeName(f.Type) != nil:
		return fmt.Errorf("%w: %q is not an event type name", ErrInvalidFilter, f.Type)
	case f.Before != 0 && f.After != 0 && f.After >= f.Before:
		return fmt.Errorf("%w: after %d is not below before %d", ErrInvalidFilter, f.After, f.Before)
	case uint64(f.Before) > 1<<63-1 || uint64(f.After) > 1<<63-1:
		return fmt.Errorf("%w: position out of range", ErrInvalidFilter)
	}
	return nil
}

// Reader is the read-only query interface of the activity feed.
type Reader interface {
	// List returns one page of the feed. It returns an error matching
	// ErrInvalidFilter for a bad filter and projections.ErrNotLive before
	// the feed exists.
	List(ctx context.Context, f Filter) (Page, error)
}

// NewReader returns a Reader over a read-model database (its reader pool).
func NewReader(db *sql.DB) Reader { return &reader{db: db} }

type reader struct{ db *sql.DB }

func (r *reader) List(ctx context.Context, f Filter) (Page, error) {
	if err := f.Validate(); err != nil {
		return Page{}, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	forward := f.After != 0 && f.Before == 0
	page := Page{Items: []Entry{}, Forward: forward}
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		q := fmt.Sprintf(`SELECT position, event_id, stream_id, type, revision, occurred_at, recorded_at, actor, correlation_id
			FROM %s WHERE 1 = 1`, t.Name("entries"))
		var args []any
		if f.Before != 0 {
			q += ` AND position < ?`
			args = append(args, int64(f.Before))
		}
		if f.After != 0 {
			q += ` AND position > ?`
			args = append(args, int64(f.After))
		}
		if f.Type != "" {
			q += ` AND type = ?`
			args = append(args, f.Type)
		}
		if f.StreamPrefix != "" {
			// A byte-range test the (stream_id, position) index can serve:
			// every id with the prefix sorts below prefix+0xFF.
			q += ` AND stream_id >= ? AND stream_id < ?`
			args = append(args, f.StreamPrefix, f.StreamPrefix+"\xff")
		}
		if forward {
			q += ` ORDER BY position ASC LIMIT ?`
		} else {
			q += ` ORDER BY position DESC LIMIT ?`
		}
		args = append(args, limit+1)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e                  Entry
				pos, rev           int64
				occurred, recorded string
			)
			if err := rows.Scan(&pos, &e.EventID, &e.StreamID, &e.Type, &rev, &occurred, &recorded, &e.Actor, &e.CorrelationID); err != nil {
				return err
			}
			e.Position, e.Revision = events.Position(pos), uint64(rev)
			if e.OccurredAt, err = projections.ParseTime(occurred); err != nil {
				return err
			}
			if e.RecordedAt, err = projections.ParseTime(recorded); err != nil {
				return err
			}
			page.Items = append(page.Items, e)
		}
		return rows.Err()
	})
	if err != nil {
		return Page{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].Position
	}
	return page, nil
}
