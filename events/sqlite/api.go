package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hanse-network/hanse/events"
)

// Append implements events.Store. It validates the input, queues the append
// for the writer and returns once the transaction holding it has committed.
// If ctx ends while the append is queued, Append returns ctx.Err() and the
// outcome is unknown; a retry with the same event ids is idempotent.
func (s *Store) Append(ctx context.Context, stream string, expected events.ExpectedRevision, evs ...events.EventData) (events.AppendResult, error) {
	if err := events.ValidateAppend(stream, expected, evs); err != nil {
		return events.AppendResult{}, err
	}
	r := &request{ctx: ctx, kind: kindAppend, stream: stream, expected: expected,
		events: make([]pendingEvent, len(evs)), done: make(chan response, 1)}
	for i, e := range evs {
		meta, err := events.EncodeMetadata(e.Metadata)
		if err != nil {
			return events.AppendResult{}, fmt.Errorf("%w: event %d: %v", events.ErrInvalidEvent, i, err)
		}
		decoded, err := events.DecodeMetadata(meta)
		if err != nil {
			return events.AppendResult{}, fmt.Errorf("%w: event %d: %v", events.ErrInvalidEvent, i, err)
		}
		e.Data = append(make([]byte, 0, len(e.Data)), e.Data...) // the store keeps it (recent cache)
		r.events[i] = pendingEvent{data: e, metadata: meta, decoded: decoded}
		r.bytes += len(e.Data) + len(meta)
	}
	resp, err := s.submit(ctx, r)
	if err != nil {
		return events.AppendResult{}, err
	}
	return resp.result, resp.err
}

// DeleteStream implements events.Store (soft delete).
func (s *Store) DeleteStream(ctx context.Context, stream string, expected events.ExpectedRevision) error {
	return s.delete(ctx, kindDelete, stream, expected)
}

// TombstoneStream implements events.Store (permanent delete).
func (s *Store) TombstoneStream(ctx context.Context, stream string, expected events.ExpectedRevision) error {
	return s.delete(ctx, kindTombstone, stream, expected)
}

func (s *Store) delete(ctx context.Context, kind requestKind, stream string, expected events.ExpectedRevision) error {
	if err := events.ValidateDelete(stream, expected); err != nil {
		return err
	}
	resp, err := s.submit(ctx, &request{ctx: ctx, kind: kind, stream: stream, expected: expected,
		done: make(chan response, 1)})
	if err != nil {
		return err
	}
	return resp.err
}

// submit hands r to the writer and waits for its response.
func (s *Store) submit(ctx context.Context, r *request) (response, error) {
	if err := ctx.Err(); err != nil {
		return response{}, err
	}
	if s.isClosed() {
		return response{}, events.ErrClosed
	}
	select {
	case s.reqs <- r:
	case <-s.closing:
		return response{}, events.ErrClosed
	case <-ctx.Done():
		return response{}, ctx.Err()
	}
	select {
	case resp := <-r.done:
		return resp, nil
	case <-ctx.Done():
		return response{}, ctx.Err()
	case <-s.writerDone:
		select {
		case resp := <-r.done:
			return resp, nil
		default:
			return response{}, events.ErrClosed
		}
	}
}

// Head implements events.Store: the committed head.
func (s *Store) Head(ctx context.Context) (events.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.isClosed() {
		return 0, events.ErrClosed
	}
	return events.Position(s.head.Load()), nil
}

// envelopeColumns are read by scanEnvelopes. Text columns are read as
// BLOBs: the driver then skips a per-row type lookup, and scanEnvelopes
// shares the strings that repeat within a page.
const envelopeColumns = `position, CAST(stream AS BLOB), revision, id, CAST(type AS BLOB), data, metadata, recorded_at`

// ReadAll implements events.Store. It never returns events beyond the
// committed head.
func (s *Store) ReadAll(ctx context.Context, after events.Position, max int) ([]events.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.isClosed() {
		return nil, events.ErrClosed
	}
	if max <= 0 {
		return nil, fmt.Errorf("%w: ReadAll max %d", ErrInvalidMax, max)
	}
	return s.readAll(ctx, after, max)
}

func (s *Store) readAll(ctx context.Context, after events.Position, max int) ([]events.Envelope, error) {
	head := events.Position(s.head.Load())
	if after >= head {
		return []events.Envelope{}, nil
	}
	if uint64(max) > uint64(head-after) {
		max = int(head - after)
	}
	if evs, ok := s.recent.read(after, max); ok {
		return evs, nil
	}
	evs, err := s.queryRaw(ctx, max, `SELECT `+envelopeColumns+` FROM events
		WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`, int64(after), int64(head), int64(max))
	if err != nil {
		return nil, s.readErr(ctx, "read all", err)
	}
	return evs, nil
}

// queryRaw runs an envelope query on a read connection through the
// driver's own interface, skipping database/sql's per-value conversion and
// locking, which cost as much as SQLite itself on long reads.
func (s *Store) queryRaw(ctx context.Context, capHint int, query string, args ...int64) ([]events.Envelope, error) {
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var evs []events.Envelope
	err = conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver %T cannot query", dc)
		}
		named := make([]driver.NamedValue, len(args))
		for i, a := range args {
			named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := q.QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		evs = make([]events.Envelope, 0, capHint)
		in := interner{}
		dest := make([]driver.Value, 8)
		for {
			if err := rows.Next(dest); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			pos, _ := dest[0].(int64)
			rev, _ := dest[2].(int64)
			at, _ := dest[7].(int64)
			stream, _ := dest[1].([]byte)
			typ, _ := dest[4].([]byte)
			id, _ := dest[3].([]byte)
			data, _ := dest[5].([]byte)
			meta, _ := dest[6].([]byte)
			if !s.drv.freshBlobs {
				data = bytes.Clone(data)
			}
			e, err := envelope(pos, stream, rev, id, typ, data, meta, at, in)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
	})
	return evs, err
}

// interner shares strings that repeat within one read.
type interner map[string]string

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if in != nil && len(in) < 4096 {
		in[s] = s
	}
	return s
}

// envelope builds an Envelope from a row; it keeps data, which must be
// the caller's to give.
func envelope(pos int64, stream []byte, rev int64, id, typ, data, meta []byte, at int64, in interner) (events.Envelope, error) {
	if data == nil {
		data = []byte{}
	}
	e := events.Envelope{
		StreamID:   in.get(stream),
		Type:       in.get(typ),
		Position:   events.Position(pos),
		Revision:   uint64(rev),
		Data:       data,
		RecordedAt: time.Unix(0, at).UTC(),
	}
	if len(id) != len(e.ID) {
		return e, fmt.Errorf("event at position %d has a %d-byte id", pos, len(id))
	}
	copy(e.ID[:], id)
	m, err := decodeMetadata(meta, in)
	if err != nil {
		return e, fmt.Errorf("event at position %d: %w", pos, err)
	}
	e.Metadata = m
	return e, nil
}

// ReadStream implements events.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts events.ReadStreamOptions) ([]events.Envelope, error) {
	if err := events.ValidateStreamName(stream); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.isClosed() {
		return nil, events.ErrClosed
	}
	if opts.Max < 0 {
		return nil, fmt.Errorf("%w: ReadStream max %d", ErrInvalidMax, opts.Max)
	}
	tx, err := s.rdb.BeginTx(ctx, nil) // one snapshot for the state and the events
	if err != nil {
		return nil, s.readErr(ctx, "read stream", err)
	}
	defer tx.Rollback()
	st := noStream
	var tomb int64
	err = tx.QueryRowContext(ctx, `SELECT last_revision, deleted_before, tombstoned FROM streams WHERE name = ?`, stream).
		Scan(&st.last, &st.deletedBefore, &tomb)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: %q", events.ErrStreamNotFound, stream)
	case err != nil:
		return nil, s.readErr(ctx, "read stream", err)
	case tomb != 0:
		return nil, fmt.Errorf("%w: %q", events.ErrStreamDeleted, stream)
	case !st.live():
		return nil, fmt.Errorf("%w: %q", events.ErrStreamNotFound, stream)
	}
	from := opts.From
	if from == events.StreamEnd || from > uint64(st.last) {
		if opts.Direction == events.Forwards && from != events.StreamEnd {
			return []events.Envelope{}, nil
		}
		from = uint64(st.last)
	}
	limit := int64(-1)
	if opts.Max > 0 {
		limit = int64(opts.Max)
	}
	var rows *sql.Rows
	if opts.Direction == events.Backwards {
		if int64(from) < st.deletedBefore {
			return []events.Envelope{}, nil
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+envelopeColumns+` FROM events
			WHERE stream = ? AND revision <= ? AND revision >= ? ORDER BY revision DESC LIMIT ?`,
			stream, int64(from), st.deletedBefore, limit)
	} else {
		rows, err = tx.QueryContext(ctx, `SELECT `+envelopeColumns+` FROM events
			WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
			stream, max(int64(from), st.deletedBefore), limit)
	}
	if err != nil {
		return nil, s.readErr(ctx, "read stream", err)
	}
	evs, err := scanEnvelopes(rows, min(opts.Max, 1024))
	if err != nil {
		return nil, s.readErr(ctx, "read stream", err)
	}
	return evs, nil
}

func scanEnvelopes(rows *sql.Rows, capHint int) ([]events.Envelope, error) {
	defer rows.Close()
	evs := make([]events.Envelope, 0, capHint)
	in := interner{}
	for rows.Next() {
		var (
			pos, rev, at                int64
			stream, typ, id, data, meta sql.RawBytes // envelope copies what it keeps
		)
		if err := rows.Scan(&pos, &stream, &rev, &id, &typ, &data, &meta, &at); err != nil {
			return nil, err
		}
		e, err := envelope(pos, stream, rev, id, typ, bytes.Clone([]byte(data)), meta, at, in)
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}
