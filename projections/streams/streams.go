package streams

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
const Name = "streams"

// Version is the current version of the projection's tables.
const Version = 1

// Projector builds the streams read model. It handles every event type.
type Projector struct{}

// New returns the streams projector.
func New() *Projector { return &Projector{} }

var _ projections.Projector = (*Projector)(nil)

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector: every event updates its stream.
func (*Projector) Handles(string) bool { return true }

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			stream_id      TEXT    NOT NULL PRIMARY KEY,
			kind           TEXT    NOT NULL,
			last_type      TEXT    NOT NULL,
			revision       INTEGER NOT NULL,
			event_count    INTEGER NOT NULL,
			first_position INTEGER NOT NULL,
			last_position  INTEGER NOT NULL,
			first_at       TEXT    NOT NULL,
			last_at        TEXT    NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[2]s ON %[1]s (kind, stream_id);`,
		t.Name("streams"), t.Name("streams_kind")))
	return err
}

// Kind returns the kind of a stream: the part of its name before the
// first '-', or the whole name when it has none.
func Kind(streamID string) string {
	kind, _, _ := strings.Cut(streamID, "-")
	return kind
}

type summary struct {
	kind, lastType    string
	revision, count   uint64
	firstPos, lastPos events.Position
	firstAt, lastAt   time.Time
}

// Apply implements projections.Projector: one upsert per stream touched by
// the batch.
func (*Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	byStream := make(map[string]*summary, len(batch))
	order := make([]string, 0, len(batch))
	for _, e := range batch {
		s := byStream[e.StreamID]
		if s == nil {
			s = &summary{kind: Kind(e.StreamID), firstPos: e.Position, firstAt: e.RecordedAt}
			byStream[e.StreamID] = s
			order = append(order, e.StreamID)
		}
		s.lastType, s.revision, s.lastPos, s.lastAt = e.Type, e.Revision, e.Position, e.RecordedAt
		s.count++
	}
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf(`
		INSERT INTO %s (stream_id, kind, last_type, revision, event_count, first_position, last_position, first_at, last_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (stream_id) DO UPDATE SET
			last_type = excluded.last_type, revision = excluded.revision,
			event_count = event_count + excluded.event_count,
			last_position = excluded.last_position, last_at = excluded.last_at`, t.Name("streams")))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, id := range order {
		s := byStream[id]
		if _, err := stmt.ExecContext(ctx, id, s.kind, s.lastType, int64(s.revision), int64(s.count),
			int64(s.firstPos), int64(s.lastPos), projections.FormatTime(s.firstAt), projections.FormatTime(s.lastAt)); err != nil {
			return fmt.Errorf("stream %q: %w", id, err)
		}
	}
	return nil
}

// Stream is the summary of one stream.
type Stream struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	LastType string `json:"last_type"`
	// Revision is the revision of the stream's last event.
	Revision uint64 `json:"revision"`
	// Events counts the stream's events.
	Events        uint64          `json:"events"`
	FirstPosition events.Position `json:"first_position"`
	LastPosition  events.Position `json:"last_position"`
	// FirstAt and LastAt are when the first and last events were recorded.
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
}

// Page is one page of streams. Next, when not empty, is the cursor of the
// following page (pass it as after).
type Page struct {
	Items []Stream `json:"items"`
	Next  string   `json:"next,omitempty"`
}

// Limits of ListByKind.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

var (
	// ErrNotFound: no stream of that id has been projected.
	ErrNotFound = errors.New("streams: stream not found")
	// ErrInvalidQuery: a query parameter is out of range.
	ErrInvalidQuery = errors.New("streams: invalid query")
)

// Reader is the read-only query interface of the streams read model.
type Reader interface {
	// Get returns the summary of one stream, or ErrNotFound.
	Get(ctx context.Context, streamID string) (Stream, error)
	// ListByKind lists the streams of a kind in stream-id order, starting
	// after the cursor after ("" for the first page); limit 0 means
	// DefaultLimit, more than MaxLimit is an error.
	ListByKind(ctx context.Context, kind, after string, limit int) (Page, error)
}

// NewReader returns a Reader over a read-model database (its reader pool).
func NewReader(db *sql.DB) Reader { return &reader{db: db} }

type reader struct{ db *sql.DB }

const columns = `stream_id, kind, last_type, revision, event_count, first_position, last_position, first_at, last_at`

func scanStream(sc interface{ Scan(...any) error }) (Stream, error) {
	var (
		s                         Stream
		rev, n, firstPos, lastPos int64
		firstAt, lastAt           string
	)
	if err := sc.Scan(&s.ID, &s.Kind, &s.LastType, &rev, &n, &firstPos, &lastPos, &firstAt, &lastAt); err != nil {
		return Stream{}, err
	}
	s.Revision, s.Events = uint64(rev), uint64(n)
	s.FirstPosition, s.LastPosition = events.Position(firstPos), events.Position(lastPos)
	var err error
	if s.FirstAt, err = projections.ParseTime(firstAt); err != nil {
		return Stream{}, err
	}
	if s.LastAt, err = projections.ParseTime(lastAt); err != nil {
		return Stream{}, err
	}
	return s, nil
}

func (r *reader) Get(ctx context.Context, streamID string) (Stream, error) {
	var out Stream
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		var err error
		out, err = scanStream(tx.QueryRowContext(ctx,
			fmt.Sprintf(`SELECT %s FROM %s WHERE stream_id = ?`, columns, t.Name("streams")), streamID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNotFound, streamID)
		}
		return err
	})
	return out, err
}

func (r *reader) ListByKind(ctx context.Context, kind, after string, limit int) (Page, error) {
	switch {
	case limit < 0 || limit > MaxLimit:
		return Page{}, fmt.Errorf("%w: limit %d, want 1 to %d", ErrInvalidQuery, limit, MaxLimit)
	case limit == 0:
		limit = DefaultLimit
	}
	page := Page{Items: []Stream{}}
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		streams, err := projections.QueryAll(ctx, tx, scanStream, fmt.Sprintf(
			`SELECT %s FROM %s WHERE kind = ? AND stream_id > ? ORDER BY stream_id LIMIT ?`, columns, t.Name("streams")),
			kind, after, limit+1)
		page.Items = append(page.Items, streams...)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	return page, nil
}
