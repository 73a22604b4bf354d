package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
)

type requestKind uint8

const (
	kindAppend requestKind = iota
	kindDelete
	kindTombstone
)

// pendingEvent is an event of an append with its metadata already encoded
// (by the caller's goroutine, so that the writer does not have to).
type pendingEvent struct {
	data     events.EventData
	metadata []byte
	decoded  events.Metadata // metadata as a reader will decode it
}

// request is one write waiting for the writer goroutine.
type request struct {
	ctx      context.Context
	kind     requestKind
	stream   string
	expected events.ExpectedRevision
	events   []pendingEvent
	bytes    int
	done     chan response // buffered; the writer sends exactly once
}

type response struct {
	result events.AppendResult
	err    error
}

// streamState is a row of the streams table.
type streamState struct {
	last          int64 // revision of the last event; -1 when none
	deletedBefore int64 // soft delete: revisions below are hidden
	tombstoned    bool
}

var noStream = streamState{last: -1}

func (st streamState) live() bool { return st.last >= 0 && st.last >= st.deletedBefore }

func (st streamState) softDeleted() bool { return st.last >= 0 && st.last < st.deletedBefore }

// actual is the state reported to callers: a soft-deleted stream does not exist.
func (st streamState) actual() events.StreamState {
	if !st.live() {
		return events.StreamState{}
	}
	return events.StreamState{Exists: true, Revision: uint64(st.last)}
}

// satisfies applies an expected revision with EventStoreDB's rules: a
// soft-deleted stream counts as absent, but (as in EventStoreDB) also
// accepts its last revision.
func (st streamState) satisfies(e events.ExpectedRevision) bool {
	if e.Satisfies(st.actual()) {
		return true
	}
	r, ok := e.ExactRevision()
	return ok && st.softDeleted() && uint64(st.last) == r
}

// writer is the state owned by the writer goroutine.
type writer struct {
	conn     *sql.Conn
	insEvent *sql.Stmt
	getEvent *sql.Stmt
	getStrm  *sql.Stmt
	begin    *sql.Stmt
	commit   *sql.Stmt
	rollback *sql.Stmt
	nextPos  uint64
	streams  map[string]streamState // committed stream states (a cache)
	dirty    map[string]streamState // states changed by the open batch
	// insertSQLs caches multi-row INSERT statements by row count.
	insertSQLs map[int]string
	// planned holds the ids of the events the fast path has queued in the
	// open batch but not inserted yet.
	planned map[events.UUID]struct{}
}

const maxCachedStreams = 100_000

func (w *writer) init(ctx context.Context, conn *sql.Conn, head uint64) error {
	w.conn = conn
	w.nextPos = head + 1
	w.streams = map[string]streamState{}
	w.dirty = map[string]streamState{}
	prep := func(q string) *sql.Stmt {
		st, e := conn.PrepareContext(ctx, q)
		if e != nil {
			panic(fmt.Errorf("prepare %q: %w", q, e)) // recovered below
		}
		return st
	}
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err, _ = r.(error)
			}
		}()
		w.insEvent = prep(`INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		w.getEvent = prep(`SELECT stream, revision, position FROM events WHERE id = ?`)
		w.getStrm = prep(`SELECT last_revision, deleted_before, tombstoned FROM streams WHERE name = ?`)
		w.begin = prep("BEGIN IMMEDIATE")
		w.commit = prep("COMMIT")
		w.rollback = prep("ROLLBACK")
	}()
	return err
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.insEvent, w.getEvent, w.getStrm, w.begin, w.commit, w.rollback} {
		if st != nil {
			st.Close()
		}
	}
}

// stream returns a stream's state as seen by the open batch.
func (w *writer) stream(ctx context.Context, name string) (streamState, error) {
	if st, ok := w.dirty[name]; ok {
		return st, nil
	}
	if st, ok := w.streams[name]; ok {
		return st, nil
	}
	st := noStream
	var tomb int64
	err := w.getStrm.QueryRowContext(ctx, name).Scan(&st.last, &st.deletedBefore, &tomb)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return noStream, nil
	case err != nil:
		return st, fmt.Errorf("read stream state: %w", err)
	}
	st.tombstoned = tomb != 0
	return st, nil
}

func (s *Store) exec(ctx context.Context, q string) error {
	_, err := s.wconn.ExecContext(ctx, q)
	return err
}

// writeLoop is the single writer: it takes every queued request, applies
// them in order in one transaction, commits (one fsync), publishes the new
// head and only then acknowledges each caller.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	var carry *request
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-s.reqs:
			case <-s.closing:
				// Commit what was queued before Close, then stop.
				select {
				case first = <-s.reqs:
				default:
					return
				}
			}
		}
		if h := s.opts.hooks; h != nil && h.beforeCollect != nil {
			h.beforeCollect()
		}
		var batch []*request
		batch, carry = s.collect(first)
		s.commit(batch)
	}
}

// collect gathers the requests already queued behind first, up to the
// batch limits, waiting up to MaxBatchDelay for more. A request that does
// not fit is returned as carry for the next batch.
func (s *Store) collect(first *request) (batch []*request, carry *request) {
	batch = append(batch, first)
	n, size := len(first.events), first.bytes
	var deadline <-chan time.Time
	if d := s.opts.MaxBatchDelay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	for n < s.opts.MaxBatchEvents && size < s.opts.MaxBatchBytes {
		var r *request
		select {
		case r = <-s.reqs:
		default:
			if deadline == nil {
				return batch, nil
			}
			select {
			case r = <-s.reqs:
			case <-deadline:
				return batch, nil
			case <-s.closing:
				return batch, nil
			}
		}
		if n+len(r.events) > s.opts.MaxBatchEvents || size+r.bytes > s.opts.MaxBatchBytes {
			return batch, r
		}
		batch = append(batch, r)
		n += len(r.events)
		size += r.bytes
	}
	return batch, nil
}

// commit applies a batch in one transaction. Each request gets its own
// result or error; an error of the transaction itself fails all of them.
func (s *Store) commit(batch []*request) {
	ctx := context.Background()
	w := &s.w
	results := make([]response, len(batch))
	var envs []events.Envelope
	now := s.opts.Clock().UTC()
	answered := false // every request gets exactly one response
	fail := func(err error) {
		answered = true
		_, _ = w.rollback.ExecContext(ctx)
		s.log.Error("event store batch failed", "requests", len(batch), "err", err)
		w.dirty = map[string]streamState{}
		w.streams = map[string]streamState{}
		// If the commit failed after all (an I/O error reported late), its
		// events are in the log: continue after them, never reuse positions.
		var head sql.NullInt64
		if qErr := w.conn.QueryRowContext(ctx, "SELECT max(position) FROM events").Scan(&head); qErr == nil &&
			uint64(head.Int64) > s.head.Load() {
			s.publish(events.Position(head.Int64))
		}
		w.nextPos = s.head.Load() + 1
		for _, r := range batch {
			r.done <- response{err: fmt.Errorf("sqlite: commit: %w", err)}
		}
	}
	defer func() {
		// A bug must neither crash the process nor leave callers waiting.
		if p := recover(); p != nil && !answered {
			answered = true
			fail(fmt.Errorf("internal error: %v", p))
		}
	}()
	startPos := w.nextPos
	if _, err := w.begin.ExecContext(ctx); err != nil {
		fail(err)
		return
	}
	wrote, fatal := s.applyBatch(ctx, batch, results, now, &envs, true)
	if errors.Is(fatal, errSlowPath) {
		// An event id of the batch is already in the log or repeats within
		// the batch (an idempotent retry, usually): redo the batch one
		// request at a time, which sorts out who gets which answer.
		if _, err := w.rollback.ExecContext(ctx); err != nil {
			fail(err)
			return
		}
		w.dirty = map[string]streamState{}
		w.nextPos = startPos
		envs = envs[:0]
		clear(results)
		if _, err := w.begin.ExecContext(ctx); err != nil {
			fail(err)
			return
		}
		wrote, fatal = s.applyBatch(ctx, batch, results, now, &envs, false)
	}
	if fatal != nil {
		fail(fatal)
		return
	}
	if err := w.flushStreams(ctx); err != nil {
		fail(fmt.Errorf("write stream state: %w", err))
		return
	}
	end := w.commit
	if !wrote {
		end = w.rollback
	}
	if _, err := end.ExecContext(ctx); err != nil {
		fail(err)
		return
	}
	if len(w.dirty) > 0 {
		if len(w.streams)+len(w.dirty) > maxCachedStreams {
			w.streams = map[string]streamState{}
		}
		for name, st := range w.dirty {
			w.streams[name] = st
		}
		w.dirty = map[string]streamState{}
	}
	if wrote {
		s.stats.commits.Add(1)
	}
	if len(envs) > 0 {
		s.stats.events.Add(uint64(len(envs)))
		s.recent.add(envs)
		s.publish(envs[len(envs)-1].Position)
	}
	if h := s.opts.hooks; h != nil && h.afterCommit != nil {
		h.afterCommit(len(batch))
	}
	answered = true
	for i, r := range batch {
		r.done <- results[i]
	}
}

// errSlowPath tells commit to redo a batch one request at a time.
var errSlowPath = errors.New("sqlite: event id conflict in batch")

// applyBatch applies every request of a batch inside the open transaction,
// filling results. fast inserts all events of the batch with a few
// multi-row statements (the driver parses every statement it executes, so
// one statement per event would cost more than the fsync); it returns
// errSlowPath when an event id is already taken, and then the slow path
// (fast false) inserts request by request.
func (s *Store) applyBatch(ctx context.Context, batch []*request, results []response, now time.Time, envs *[]events.Envelope, fast bool) (wrote bool, fatal error) {
	var rows []any
	if fast {
		s.w.planned = make(map[events.UUID]struct{})
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err // the caller has given up: do not write
			continue
		}
		switch {
		case r.kind != kindAppend:
			results[i].err, fatal = s.applyDelete(ctx, r)
		case fast:
			results[i].result, results[i].err, fatal = s.plan(ctx, r, now, envs, &rows)
		default:
			results[i].result, results[i].err, fatal = s.apply(ctx, r, now, envs)
		}
		if fatal != nil {
			return false, fatal
		}
		wrote = wrote || results[i].err == nil
	}
	if err := s.w.insertRows(ctx, rows); err != nil {
		if isUniqueID(err) {
			return false, errSlowPath
		}
		return false, fmt.Errorf("insert events: %w", err)
	}
	return wrote, nil
}

// eventColumns is the number of columns insertRows writes per event.
const eventColumns = 8

// maxRowsPerInsert keeps a multi-row INSERT well below SQLite's limit of
// 32,766 bound parameters.
const maxRowsPerInsert = 256

// insertRows inserts events given as flat column values, maxRowsPerInsert
// rows per statement.
func (w *writer) insertRows(ctx context.Context, rows []any) error {
	for len(rows) > 0 {
		n := min(len(rows)/eventColumns, maxRowsPerInsert)
		if _, err := w.conn.ExecContext(ctx, w.insertSQL(n), rows[:n*eventColumns]...); err != nil {
			return err
		}
		rows = rows[n*eventColumns:]
	}
	return nil
}

// insertSQL returns (and caches) the INSERT statement for n events.
func (w *writer) insertSQL(n int) string {
	if q, ok := w.insertSQLs[n]; ok {
		return q
	}
	var b strings.Builder
	b.WriteString("INSERT OR FAIL INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?)")
	}
	if w.insertSQLs == nil {
		w.insertSQLs = map[int]string{}
	}
	w.insertSQLs[n] = b.String()
	return w.insertSQLs[n]
}

// flushStreams writes the stream states changed by the open batch, many
// rows per statement.
func (w *writer) flushStreams(ctx context.Context) error {
	const columns, perStatement = 4, 256
	args := make([]any, 0, min(len(w.dirty), perStatement)*columns)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		n := len(args) / columns
		q := "INSERT OR FAIL INTO streams (name, last_revision, deleted_before, tombstoned) VALUES " +
			strings.Repeat("(?,?,?,?),", n-1) + "(?,?,?,?)" +
			` ON CONFLICT (name) DO UPDATE SET last_revision = excluded.last_revision,
			deleted_before = excluded.deleted_before, tombstoned = excluded.tombstoned`
		_, err := w.conn.ExecContext(ctx, q, args...)
		args = args[:0]
		return err
	}
	for name, st := range w.dirty {
		tomb := 0
		if st.tombstoned {
			tomb = 1
		}
		args = append(args, name, st.last, st.deletedBefore, tomb)
		if len(args) == perStatement*columns {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// plan is apply for the fast path: it checks the request against the
// stream's state and queues its rows for insertRows instead of inserting.
func (s *Store) plan(ctx context.Context, r *request, now time.Time, envs *[]events.Envelope, rows *[]any) (res events.AppendResult, err, fatal error) {
	w := &s.w
	st, fatal := w.stream(ctx, r.stream)
	if fatal != nil {
		return res, nil, fatal
	}
	if st.tombstoned {
		return res, fmt.Errorf("%w: %q", events.ErrStreamDeleted, r.stream), nil
	}
	if !st.satisfies(r.expected) {
		if _, queued := w.planned[r.events[0].data.ID]; queued {
			// A retry of an append queued earlier in this batch: only the
			// slow path, which inserts as it goes, can recognise it.
			return res, nil, errSlowPath
		}
		res, found, err, fatal := s.idempotent(ctx, r)
		if found || fatal != nil {
			return res, err, fatal
		}
		return res, &events.WrongExpectedRevisionError{Stream: r.stream, Expected: r.expected, Actual: st.actual()}, nil
	}
	rev := st.last + 1
	nanos := now.UnixNano()
	for i, e := range r.events {
		id := e.data.ID
		w.planned[id] = struct{}{}
		*rows = append(*rows, int64(w.nextPos), r.stream, rev+int64(i), id[:],
			e.data.Type, e.data.Data, e.metadata, nanos)
		*envs = append(*envs, s.envelope(r, e, uint64(rev)+uint64(i), w.nextPos, nanos))
		w.nextPos++
	}
	st.last = rev + int64(len(r.events)) - 1
	w.dirty[r.stream] = st
	return events.AppendResult{NextRevision: uint64(st.last), Position: events.Position(w.nextPos - 1)}, nil, nil
}

// envelope is the recorded form of event e of request r.
func (s *Store) envelope(r *request, e pendingEvent, revision, position uint64, nanos int64) events.Envelope {
	return events.Envelope{
		ID:         e.data.ID,
		StreamID:   r.stream,
		Revision:   revision,
		Position:   events.Position(position),
		Type:       e.data.Type,
		Data:       e.data.Data,
		Metadata:   e.decoded,
		RecordedAt: time.Unix(0, nanos).UTC(),
	}
}

// apply writes one append inside the open transaction. err is the caller's
// own error (nothing of this request written); fatal fails the whole batch.
func (s *Store) apply(ctx context.Context, r *request, now time.Time, envs *[]events.Envelope) (res events.AppendResult, err, fatal error) {
	w := &s.w
	st, fatal := w.stream(ctx, r.stream)
	if fatal != nil {
		return res, nil, fatal
	}
	if st.tombstoned {
		return res, fmt.Errorf("%w: %q", events.ErrStreamDeleted, r.stream), nil
	}
	if !st.satisfies(r.expected) {
		// A retry of an append that already succeeded is no conflict.
		res, found, err, fatal := s.idempotent(ctx, r)
		if found || fatal != nil {
			return res, err, fatal
		}
		return res, &events.WrongExpectedRevisionError{Stream: r.stream, Expected: r.expected, Actual: st.actual()}, nil
	}
	multi := len(r.events) > 1
	if multi {
		if err := s.exec(ctx, "SAVEPOINT append"); err != nil {
			return res, nil, err
		}
	}
	startPos := w.nextPos
	rev := st.last + 1
	nanos := now.UnixNano()
	for i, e := range r.events {
		id := e.data.ID
		_, err := w.insEvent.ExecContext(ctx, int64(w.nextPos), r.stream, rev+int64(i), id[:],
			e.data.Type, e.data.Data, e.metadata, nanos)
		if err != nil {
			if multi {
				if rbErr := s.exec(ctx, "ROLLBACK TO append; RELEASE append"); rbErr != nil {
					return res, nil, rbErr
				}
			}
			w.nextPos = startPos
			if !isUniqueID(err) {
				return res, nil, fmt.Errorf("insert event: %w", err)
			}
			res, found, err, fatal := s.idempotent(ctx, r)
			if found || fatal != nil {
				return res, err, fatal
			}
			return res, fmt.Errorf("%w: an event id of this append is already in the log", events.ErrIdempotencyConflict), nil
		}
		w.nextPos++
	}
	if multi {
		if err := s.exec(ctx, "RELEASE append"); err != nil {
			return res, nil, err
		}
	}
	st.last = rev + int64(len(r.events)) - 1
	w.dirty[r.stream] = st
	for i, e := range r.events {
		*envs = append(*envs, s.envelope(r, e, uint64(rev)+uint64(i), startPos+uint64(i), nanos))
	}
	return events.AppendResult{NextRevision: uint64(st.last), Position: events.Position(w.nextPos - 1)}, nil, nil
}

// idempotent checks whether r repeats an append that is already in the log:
// found is false when r's first event id is unknown; otherwise the original
// result is returned, or ErrIdempotencyConflict when the ids sit elsewhere.
func (s *Store) idempotent(ctx context.Context, r *request) (res events.AppendResult, found bool, err, fatal error) {
	var firstRev int64
	for i, e := range r.events {
		var stream string
		var rev, pos int64
		id := e.data.ID
		qErr := s.w.getEvent.QueryRowContext(ctx, id[:]).Scan(&stream, &rev, &pos)
		switch {
		case errors.Is(qErr, sql.ErrNoRows):
			if i == 0 {
				return res, false, nil, nil
			}
			return res, true, fmt.Errorf("%w: event %s was not part of the earlier append", events.ErrIdempotencyConflict, id), nil
		case qErr != nil:
			return res, false, nil, fmt.Errorf("look up event id: %w", qErr)
		}
		if i == 0 {
			firstRev = rev
		}
		if stream != r.stream || rev != firstRev+int64(i) {
			return res, true, fmt.Errorf("%w: event %s is at %s@%d", events.ErrIdempotencyConflict, id, stream, rev), nil
		}
		res = events.AppendResult{NextRevision: uint64(rev), Position: events.Position(pos)}
	}
	return res, true, nil, nil
}

// applyDelete soft-deletes or tombstones a stream inside the open transaction.
func (s *Store) applyDelete(ctx context.Context, r *request) (err, fatal error) {
	w := &s.w
	st, fatal := w.stream(ctx, r.stream)
	if fatal != nil {
		return nil, fatal
	}
	if st.tombstoned {
		return fmt.Errorf("%w: %q", events.ErrStreamDeleted, r.stream), nil
	}
	if !st.satisfies(r.expected) {
		return &events.WrongExpectedRevisionError{Stream: r.stream, Expected: r.expected, Actual: st.actual()}, nil
	}
	switch r.kind {
	case kindTombstone:
		st.tombstoned = true
	case kindDelete:
		if st.last < 0 {
			// As in EventStoreDB: a stream that never had events cannot
			// be soft-deleted, whatever the expected revision.
			return &events.WrongExpectedRevisionError{Stream: r.stream, Expected: r.expected, Actual: st.actual()}, nil
		}
		if !st.live() {
			return nil, nil // already soft-deleted: nothing more to hide
		}
		st.deletedBefore = st.last + 1
	}
	w.dirty[r.stream] = st
	return nil, nil
}

// isUniqueID reports a violation of the uniqueness of event ids. Both
// drivers pass SQLite's own message through.
func isUniqueID(err error) bool {
	return strings.Contains(err.Error(), "UNIQUE constraint failed: events.id")
}
