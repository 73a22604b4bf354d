package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/events"
)

func testAppendAndRead(t *testing.T, e *env) {
	head0 := e.head()
	stream := e.stream("order")
	evs := eventsN("order.placed", 3, "a")
	res := e.append(stream, events.NoStream, evs...)
	if res.NextRevision != 2 {
		t.Fatalf("NextRevision = %d, want 2", res.NextRevision)
	}
	if res.Position <= head0 {
		t.Fatalf("Position %d not after the head %d read before the append", res.Position, head0)
	}
	got := e.readStream(stream, events.ReadStreamOptions{})
	if len(got) != 3 {
		t.Fatalf("ReadStream returned %d events, want 3", len(got))
	}
	for i, g := range got {
		sameEvent(t, evs[i], g)
		if g.StreamID != stream || g.Revision != uint64(i) {
			t.Fatalf("event %d: stream %q revision %d, want %q %d", i, g.StreamID, g.Revision, stream, i)
		}
		if g.RecordedAt.IsZero() {
			t.Fatalf("event %d has no RecordedAt", i)
		}
		if i > 0 && g.Position <= got[i-1].Position {
			t.Fatalf("positions not increasing: %d then %d", got[i-1].Position, g.Position)
		}
		if e.h.ContiguousPositions && g.Position != res.Position-2+events.Position(i) {
			t.Fatalf("event %d at position %d, want %d", i, g.Position, res.Position-2+events.Position(i))
		}
	}
	if got[2].Position != res.Position {
		t.Fatalf("last event at position %d, AppendResult.Position %d", got[2].Position, res.Position)
	}
	more := event("order.shipped", "b")
	res2 := e.append(stream, events.Exact(2), more)
	if res2.NextRevision != 3 || res2.Position <= res.Position {
		t.Fatalf("second append: %+v after %+v", res2, res)
	}
	own := e.ownAfter(head0)
	if len(own) != 4 {
		t.Fatalf("ReadAll shows %d of this test's events, want 4", len(own))
	}
	sameEvent(t, more, own[3])
}

func testExpectedRevision(t *testing.T, e *env) {
	type state struct {
		name   string
		events int
	}
	states := []state{{"absent", 0}, {"one-event", 1}, {"three-events", 3}}
	exps := []struct {
		name string
		exp  events.ExpectedRevision
	}{
		{"any", events.Any},
		{"no-stream", events.NoStream},
		{"stream-exists", events.StreamExists},
		{"exact-0", events.Exact(0)},
		{"exact-2", events.Exact(2)},
		{"exact-7", events.Exact(7)},
	}
	n := 0
	for _, st := range states {
		for _, x := range exps {
			n++
			t.Run(st.name+"/"+x.name, func(t *testing.T) {
				stream := e.stream("exp", n)
				if st.events > 0 {
					e.append(stream, events.NoStream, eventsN("thing.happened", st.events, "setup")...)
				}
				actual := events.StreamState{Exists: st.events > 0}
				if st.events > 0 {
					actual.Revision = uint64(st.events - 1)
				}
				wantOK := x.exp.Satisfies(actual)
				res, err := e.s.Append(e.ctx, stream, x.exp, event("thing.happened", "probe"))
				if wantOK {
					if err != nil {
						t.Fatalf("Append with %s on %s: %v", x.exp, actual, err)
					}
					if res.NextRevision != uint64(st.events) {
						t.Fatalf("NextRevision = %d, want %d", res.NextRevision, st.events)
					}
					return
				}
				var wrong *events.WrongExpectedRevisionError
				if !errors.As(err, &wrong) || !errors.Is(err, events.ErrWrongExpectedRevision) {
					t.Fatalf("Append with %s on %s: got %v, want *WrongExpectedRevisionError", x.exp, actual, err)
				}
				if wrong.Stream != stream || wrong.Expected != x.exp || wrong.Actual != actual {
					t.Fatalf("error carries stream %q expected %s actual %s, want %q %s %s",
						wrong.Stream, wrong.Expected, wrong.Actual, stream, x.exp, actual)
				}
				if got, ok := events.ActualRevision(err); !ok || got != actual {
					t.Fatalf("ActualRevision = %v %v", got, ok)
				}
				if st.events == 0 {
					_, err := e.s.ReadStream(e.ctx, stream, events.ReadStreamOptions{})
					expectErr(t, "ReadStream after refused append", err, events.ErrStreamNotFound)
				} else if got := e.readStream(stream, events.ReadStreamOptions{}); len(got) != st.events {
					t.Fatalf("stream has %d events after a refused append, want %d", len(got), st.events)
				}
			})
		}
	}
}

func testIdempotentRetry(t *testing.T, e *env) {
	stream := e.stream("idem")
	a, b := event("idem.done", "a"), event("idem.done", "b")
	first := e.append(stream, events.NoStream, a, b)

	again := e.append(stream, events.NoStream, a, b)
	if again != first {
		t.Fatalf("retry with the same ids returned %+v, want the original %+v", again, first)
	}
	if got := e.append(stream, events.Any, a, b); got != first {
		t.Fatalf("retry with Any returned %+v, want %+v", got, first)
	}
	e.append(stream, events.Exact(1), event("idem.done", "c"))
	if got := e.append(stream, events.NoStream, a, b); got != first {
		t.Fatalf("retry after the stream moved on returned %+v, want %+v", got, first)
	}
	if got := e.readStream(stream, events.ReadStreamOptions{}); len(got) != 3 {
		t.Fatalf("stream has %d events after retries, want 3", len(got))
	}

	_, err := e.s.Append(e.ctx, stream, events.NoStream, a, event("idem.done", "x"))
	expectErr(t, "append reusing one id of an earlier append", err, events.ErrIdempotencyConflict)
	_, err = e.s.Append(e.ctx, stream, events.NoStream, a, b, event("idem.done", "y"))
	expectErr(t, "append extending an earlier append", err, events.ErrIdempotencyConflict)
	if got := e.readStream(stream, events.ReadStreamOptions{}); len(got) != 3 {
		t.Fatalf("stream has %d events after conflicting retries, want 3", len(got))
	}
}

func testConcurrentWriters(t *testing.T, e *env) {
	const writers, appends = 8, 25
	head0 := e.head()
	shared := e.stream("shared")
	type ack struct {
		id  events.UUID
		res events.AppendResult
	}
	acks := make(chan ack, writers*appends*3)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := e.stream("writer", g)
			for i := range appends {
				exp := events.Exact(uint64(2*i - 1))
				if i == 0 {
					exp = events.NoStream
				}
				x, y := event("writer.wrote", fmt.Sprint(g, i, 0)), event("writer.wrote", fmt.Sprint(g, i, 1))
				res, err := e.s.Append(e.ctx, own, exp, x, y)
				if err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", g, i, err)
					return
				}
				acks <- ack{y.ID, res}
				z := event("shared.wrote", fmt.Sprint(g, i))
				res, err = e.s.Append(e.ctx, shared, events.Any, z)
				if err != nil {
					errs <- fmt.Errorf("writer %d shared append %d: %w", g, i, err)
					return
				}
				acks <- ack{z.ID, res}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(acks)
	for err := range errs {
		t.Fatal(err)
	}
	all := e.readAllAfter(head0)
	if e.h.ContiguousPositions {
		for i, ev := range all {
			if ev.Position != head0+events.Position(i+1) {
				t.Fatalf("log after %d has position %d at index %d: not contiguous", head0, ev.Position, i)
			}
		}
	}
	byID := map[events.UUID]events.Envelope{}
	next := map[string]uint64{}
	for _, ev := range all {
		if !e.own(ev) {
			continue
		}
		if _, dup := byID[ev.ID]; dup {
			t.Fatalf("event %s appears twice in the log", ev.ID)
		}
		byID[ev.ID] = ev
		if ev.Revision != next[ev.StreamID] {
			t.Fatalf("stream %s: revision %d at position %d, want %d (log order must follow revisions)",
				ev.StreamID, ev.Revision, ev.Position, next[ev.StreamID])
		}
		next[ev.StreamID]++
	}
	if len(byID) != writers*appends*3 {
		t.Fatalf("log holds %d of this test's events, want %d", len(byID), writers*appends*3)
	}
	if next[shared] != writers*appends {
		t.Fatalf("shared stream has %d events, want %d", next[shared], writers*appends)
	}
	for a := range acks {
		ev, ok := byID[a.id]
		if !ok {
			t.Fatalf("acknowledged event %s not in the log", a.id)
		}
		if ev.Position != a.res.Position || ev.Revision != a.res.NextRevision {
			t.Fatalf("event %s acknowledged at %+v, recorded at revision %d position %d",
				a.id, a.res, ev.Revision, ev.Position)
		}
	}
}

func testOptimisticRetries(t *testing.T, e *env) {
	const workers, increments = 6, 10
	stream := e.stream("counter")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < increments; {
				exp := events.NoStream
				last, err := e.s.ReadStream(e.ctx, stream, events.ReadStreamOptions{Direction: events.Backwards, From: events.StreamEnd, Max: 1})
				switch {
				case errors.Is(err, events.ErrStreamNotFound):
				case err != nil:
					errs <- err
					return
				default:
					exp = events.Exact(last[0].Revision)
				}
				_, err = e.s.Append(e.ctx, stream, exp, event("counter.incremented", fmt.Sprint(w, i)))
				switch {
				case errors.Is(err, events.ErrWrongExpectedRevision):
					if _, ok := events.ActualRevision(err); !ok {
						errs <- fmt.Errorf("conflict without actual revision: %w", err)
						return
					}
				case err != nil:
					errs <- err
					return
				default:
					i++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := e.readStream(stream, events.ReadStreamOptions{})
	if len(got) != workers*increments {
		t.Fatalf("counter stream has %d events, want %d", len(got), workers*increments)
	}
	seen := map[string]bool{}
	for i, ev := range got {
		if ev.Revision != uint64(i) {
			t.Fatalf("revision %d at index %d", ev.Revision, i)
		}
		if seen[string(ev.Data)] {
			t.Fatalf("payload %s written twice", ev.Data)
		}
		seen[string(ev.Data)] = true
	}
}

func testManyStreams(t *testing.T, e *env) {
	const streams, workers = 2000, 8
	head0 := e.head()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < streams; i += workers {
				if _, err := e.s.Append(e.ctx, e.stream("many", i), events.NoStream, event("many.created", fmt.Sprint(i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range e.ownAfter(head0) {
		if ev.Revision != 0 || seen[ev.StreamID] {
			t.Fatalf("stream %s: unexpected event at revision %d", ev.StreamID, ev.Revision)
		}
		seen[ev.StreamID] = true
	}
	if len(seen) != streams {
		t.Fatalf("log shows %d streams, want %d", len(seen), streams)
	}
	for i := 0; i < streams; i += 97 {
		got := e.readStream(e.stream("many", i), events.ReadStreamOptions{})
		if len(got) != 1 || string(got[0].Data) != fmt.Sprintf(`{"v":"%d"}`, i) {
			t.Fatalf("stream %d holds %v", i, got)
		}
	}
}
