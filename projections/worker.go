package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hanse-network/hanse/events"
)

// applyError marks an error returned (or a panic raised) by a projector's
// Apply, as opposed to an error of the database or the event store.
type applyError struct{ err error }

func (e *applyError) Error() string { return e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

type readResult struct {
	evs []events.Envelope
	err error
}

// work feeds build b until ctx ends or a projector error stops it.
// Errors of the store or the database are retried with backoff.
func (s *slot) work(ctx context.Context, b *build) {
	defer close(b.done)
	backoff := 100 * time.Millisecond
	for {
		s.mu.Lock()
		before := b.position
		s.mu.Unlock()
		err := s.feed(ctx, b)
		if ctx.Err() != nil {
			return
		}
		var ee *EventError
		switch {
		case errors.As(err, &ee):
			s.send(ctx, slotCmd{kind: evFailed, build: b, failure: ee})
			return
		case errors.Is(err, ErrFenced):
			s.r.fenceAll(err)
			return
		}
		s.mu.Lock()
		progressed := b.position > before
		s.mu.Unlock()
		if progressed {
			backoff = 100 * time.Millisecond
		}
		s.r.log.Warn("projections: feed interrupted; retrying", "projection", s.name,
			"build", b.tables.String(), "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// feed subscribes from b's checkpoint and applies batches, reading the
// next batches while the current one is applied.
func (s *slot) feed(ctx context.Context, b *build) error {
	s.mu.Lock()
	pos := b.position
	reported := b.state == StateLive
	s.mu.Unlock()
	var head events.Position
	if !reported {
		h, err := s.r.store.Head(ctx)
		if err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		if pos >= h {
			s.send(ctx, slotCmd{kind: evCaughtUp, build: b})
			reported = true
		}
		head = h
	}
	sub, err := s.r.store.SubscribeAll(ctx, pos)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	results := make(chan readResult, s.r.opts.ReadAhead)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			evs, err := sub.Next(rctx, s.r.opts.BatchSize)
			select {
			case results <- readResult{evs: evs, err: err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		_ = sub.Close()
		<-readerDone
	}()
	handled := make([]events.Envelope, 0, s.r.opts.BatchSize)
	var (
		batch    []events.Envelope
		deferred *readResult // a read taken while coalescing, handled next round
	)
	for {
		var rr readResult
		if deferred != nil {
			rr, deferred = *deferred, nil
		} else {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case rr = <-results:
			}
		}
		if rr.err != nil {
			return fmt.Errorf("read events: %w", rr.err)
		}
		// Coalesce reads that are already waiting into one transaction, up
		// to BatchSize events: fewer, larger commits while catching up.
		batch = append(batch[:0], rr.evs...)
	coalesce:
		for len(batch) < s.r.opts.BatchSize {
			select {
			case more := <-results:
				if more.err != nil || len(batch)+len(more.evs) > s.r.opts.BatchSize {
					deferred = &more
					break coalesce
				}
				batch = append(batch, more.evs...)
			default:
				break coalesce
			}
		}
		evs := batch
		for len(evs) > 0 && evs[0].Position <= pos { // defensive: never apply twice
			evs = evs[1:]
		}
		if len(evs) == 0 {
			continue
		}
		if err := s.apply(ctx, b, pos, evs, &handled); err != nil {
			return err
		}
		pos = evs[len(evs)-1].Position
		if !reported {
			if pos >= head {
				s.send(ctx, slotCmd{kind: evCaughtUp, build: b})
				reported = true
			} else if head, err = s.r.store.Head(ctx); err != nil {
				return fmt.Errorf("read head: %w", err)
			}
		}
	}
}

// apply applies one batch read after checkpoint from: the handled events
// and the new checkpoint in one transaction (a checkpoint-only transaction
// when the projector handles none of them). When the projector fails, the
// batch is applied again one event per transaction to find, and stop
// before, the failing event.
func (s *slot) apply(ctx context.Context, b *build, from events.Position, evs []events.Envelope, buf *[]events.Envelope) error {
	handled := (*buf)[:0]
	for _, e := range evs {
		if b.proj.Handles(e.Type) {
			handled = append(handled, e)
		}
	}
	*buf = handled[:0]
	last := evs[len(evs)-1].Position
	start := time.Now()
	err := s.commit(ctx, b, handled, from, last)
	if len(handled) > 0 {
		s.r.m.batch.WithLabelValues(s.name).Observe(time.Since(start).Seconds())
	}
	if err == nil {
		s.advance(b, last, len(evs))
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ae *applyError
	if !errors.As(err, &ae) {
		return err
	}
	cp := from
	for i := range handled {
		e := handled[i]
		if err := s.commit(ctx, b, handled[i:i+1], cp, e.Position); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.As(err, &ae) {
				return &EventError{Projection: s.name, Position: e.Position, Type: e.Type, StreamID: e.StreamID, Err: ae.err}
			}
			return err
		}
		cp = e.Position
		s.advance(b, cp, 0)
	}
	if cp < last {
		if err := s.commit(ctx, b, nil, cp, last); err != nil {
			return err
		}
	}
	s.r.log.Warn("projections: batch failed but each event applied alone", "projection", s.name, "err", ae.err)
	s.advance(b, last, len(evs))
	return nil
}

// commit moves b's checkpoint from from to to and runs Apply on batch (if
// any) in one transaction. The checkpoint is compare-and-set: if it is no
// longer from, or the lease is no longer this runner's, another runner
// took over and commit fails with an error matching ErrFenced.
func (s *slot) commit(ctx context.Context, b *build, batch []events.Envelope, from, to events.Position) (err error) {
	fromDB, err := posToDB(from)
	if err != nil {
		return err
	}
	toDB, err := posToDB(to)
	if err != nil {
		return err
	}
	tx, err := s.r.db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("begin batch: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := s.r.db.checkLeaseTx(ctx, tx); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE _projection_builds SET position = ? WHERE id = ? AND position = ?`, toDB, b.id, fromDB)
	if err != nil {
		return fmt.Errorf("store checkpoint: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store checkpoint: %w", err)
	} else if n != 1 {
		cur, ok, err := buildPosition(ctx, tx, b.id)
		switch {
		case err != nil:
			return fmt.Errorf("store checkpoint: %w", err)
		case !ok:
			return fmt.Errorf("%w: build %s no longer exists in the catalog", ErrFenced, b.tables)
		}
		return fmt.Errorf("%w: another runner moved the checkpoint of %s from %d to %d", ErrFenced, b.tables, from, cur)
	}
	if len(batch) > 0 {
		if err := s.safeApply(ctx, tx, b, batch); err != nil {
			return &applyError{err: err}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	return nil
}

func (s *slot) safeApply(ctx context.Context, tx *sql.Tx, b *build, batch []events.Envelope) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("projector panicked: %v", p)
		}
	}()
	return b.proj.Apply(ctx, tx, b.tables, batch)
}

// advance records that b has applied everything up to pos and wakes the
// waiters of the live build.
func (s *slot) advance(b *build, pos events.Position, processed int) {
	s.mu.Lock()
	b.position = pos
	b.processed += uint64(processed)
	role := b.role
	if b == s.live {
		s.broadcastLocked()
	}
	var recovered []int64
	if len(b.retryReqs) > 0 && b.lastErr != nil && pos >= b.lastErr.Position {
		recovered, b.retryReqs = b.retryReqs, nil
	}
	switchNow := b == s.pending && s.switchAt != 0 && pos >= s.switchAt
	if switchNow {
		s.switchAt = 0
	}
	s.mu.Unlock()
	if len(recovered) > 0 {
		go s.send(s.runCtx, slotCmd{kind: evRecovered, build: b, requestIDs: recovered})
	}
	if switchNow { // reached the old live build's checkpoint: switch now
		go s.send(s.runCtx, slotCmd{kind: evCaughtUp, build: b})
	}
	if processed > 0 {
		s.r.m.events.WithLabelValues(s.name).Add(float64(processed))
	}
	s.r.m.position.WithLabelValues(s.name, string(role)).Set(float64(pos))
}
