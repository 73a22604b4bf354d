package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/storetest"
)

func TestContractWithoutRecentCache(t *testing.T) {
	h := harness()
	h.Open = func(t testing.TB) events.Store { return openTemp(t, Options{RecentEvents: -1}) }
	storetest.Run(t, h)
}

func ev(payload string) events.EventData {
	return events.EventData{ID: events.NewUUID(), Type: "test.happened", Data: []byte(`"` + payload + `"`)}
}

// heldWriter holds the writer after it took a batch's first request, so
// that a test can queue more requests in a known order.
type heldWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	batches []int
}

func newHeldWriter() *heldWriter {
	return &heldWriter{entered: make(chan struct{}), release: make(chan struct{})}
}

func (h *heldWriter) hooks() *testHooks {
	return &testHooks{
		beforeCollect: func() {
			h.once.Do(func() {
				close(h.entered)
				<-h.release
			})
		},
		afterCommit: func(n int) {
			h.mu.Lock()
			h.batches = append(h.batches, n)
			h.mu.Unlock()
		},
	}
}

func (h *heldWriter) batchSizes() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.batches...)
}

// await polls cond until it holds.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type outcome struct {
	res events.AppendResult
	err error
}

// queue starts op and waits until the writer's queue holds n requests.
func queue(t *testing.T, s *Store, n int, op func() outcome) <-chan outcome {
	t.Helper()
	ch := make(chan outcome, 1)
	go func() { ch <- op() }()
	await(t, "request to be queued", func() bool { return len(s.reqs) == n })
	return ch
}

func TestGroupCommitIsolatesCallers(t *testing.T) {
	held := newHeldWriter()
	s := openTemp(t, Options{hooks: held.hooks()})
	defer s.Close()
	ctx := context.Background()
	appendOp := func(ctx context.Context, stream string, exp events.ExpectedRevision, evs ...events.EventData) func() outcome {
		return func() outcome {
			res, err := s.Append(ctx, stream, exp, evs...)
			return outcome{res, err}
		}
	}
	e0, e1, e2, e3, e4, e5, e6, e7 := ev("0"), ev("1"), ev("2"), ev("3"), ev("4"), ev("5"), ev("6"), ev("7")
	canceled, cancel := context.WithCancel(ctx)

	r0 := make(chan outcome, 1)
	go func() { r0 <- appendOp(ctx, "a-1", events.NoStream, e0)() }()
	<-held.entered
	steps := []struct {
		name string
		op   func() outcome
	}{
		{"a after r0", appendOp(ctx, "a-1", events.Exact(0), e1)},
		{"a stale", appendOp(ctx, "a-1", events.Exact(0), e2)},
		{"b new", appendOp(ctx, "b-1", events.NoStream, e3, e4)},
		{"b retry", appendOp(ctx, "b-1", events.NoStream, e3, e4)},
		{"c reuses an id of a", appendOp(ctx, "c-1", events.NoStream, e5, e0)},
		{"c new", appendOp(ctx, "c-1", events.NoStream, e6)},
		{"delete b", func() outcome { return outcome{err: s.DeleteStream(ctx, "b-1", events.Exact(1))} }},
		{"b exists?", appendOp(ctx, "b-1", events.StreamExists, e7)},
		{"caller gave up", appendOp(canceled, "d-1", events.Any, ev("d"))},
	}
	results := make([]<-chan outcome, len(steps))
	for i, st := range steps {
		results[i] = queue(t, s, i+1, st.op)
	}
	cancel()
	close(held.release)

	got := make([]outcome, len(steps))
	for i := range steps {
		got[i] = <-results[i]
	}
	first := <-r0
	if first.err != nil || first.res != (events.AppendResult{NextRevision: 0, Position: 1}) {
		t.Fatalf("r0: %+v", first)
	}
	check := func(i int, wantRes events.AppendResult, wantErr error) {
		t.Helper()
		o := got[i]
		if wantErr != nil {
			if !errors.Is(o.err, wantErr) {
				t.Errorf("%s: error %v, want %v", steps[i].name, o.err, wantErr)
			}
			return
		}
		if o.err != nil || o.res != wantRes {
			t.Errorf("%s: %+v, want %+v", steps[i].name, o, wantRes)
		}
	}
	check(0, events.AppendResult{NextRevision: 1, Position: 2}, nil)
	check(1, events.AppendResult{}, events.ErrWrongExpectedRevision)
	if a, _ := events.ActualRevision(got[1].err); a != (events.StreamState{Exists: true, Revision: 1}) {
		t.Errorf("stale append saw actual %v, want 1 (the effect of the earlier append in the batch)", a)
	}
	check(2, events.AppendResult{NextRevision: 1, Position: 4}, nil)
	check(3, events.AppendResult{NextRevision: 1, Position: 4}, nil)
	check(4, events.AppendResult{}, events.ErrIdempotencyConflict)
	check(5, events.AppendResult{NextRevision: 0, Position: 5}, nil)
	if got[6].err != nil {
		t.Errorf("delete b: %v", got[6].err)
	}
	check(7, events.AppendResult{}, events.ErrWrongExpectedRevision)
	check(8, events.AppendResult{}, context.Canceled)

	if sizes := held.batchSizes(); len(sizes) != 1 || sizes[0] != len(steps)+1 {
		t.Fatalf("batches %v, want one batch of %d requests", sizes, len(steps)+1)
	}
	if st := s.Stats(); st.Commits != 1 || st.Events != 5 {
		t.Fatalf("stats %+v, want 1 commit of 5 events", st)
	}
	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []events.UUID{e0.ID, e1.ID, e3.ID, e4.ID, e6.ID}
	if len(all) != len(wantIDs) {
		t.Fatalf("log holds %d events, want %d", len(all), len(wantIDs))
	}
	for i, e := range all {
		if e.ID != wantIDs[i] || e.Position != events.Position(i+1) {
			t.Fatalf("log[%d] = %s@%d, want %s@%d", i, e.ID, e.Position, wantIDs[i], i+1)
		}
	}
	if _, err := s.ReadStream(ctx, "d-1", events.ReadStreamOptions{}); !errors.Is(err, events.ErrStreamNotFound) {
		t.Fatalf("the abandoned append was written: %v", err)
	}
}

func TestIdempotencyAcrossStreams(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	a, b := ev("a"), ev("b")
	if _, err := s.Append(ctx, "x-1", events.NoStream, a, b); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		stream string
		evs    []events.EventData
	}{
		{"same ids, other stream", "y-1", []events.EventData{a, b}},
		{"new first id, known second id", "y-1", []events.EventData{ev("c"), b}},
		{"known ids, other order", "x-1", []events.EventData{b, a}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(ctx, tc.stream, events.Any, tc.evs...)
			if !errors.Is(err, events.ErrIdempotencyConflict) {
				t.Fatalf("got %v, want ErrIdempotencyConflict", err)
			}
		})
	}
	if _, err := s.ReadStream(ctx, "y-1", events.ReadStreamOptions{}); !errors.Is(err, events.ErrStreamNotFound) {
		t.Fatalf("conflicting append created the stream: %v", err)
	}
	if h, _ := s.Head(ctx); h != 2 {
		t.Fatalf("head %d, want 2", h)
	}
}

func TestBatchLimits(t *testing.T) {
	held := newHeldWriter()
	s := openTemp(t, Options{MaxBatchEvents: 6, hooks: held.hooks()})
	defer s.Close()
	ctx := context.Background()
	op := func(i int) func() outcome {
		return func() outcome {
			res, err := s.Append(ctx, "batch-1", events.Any, ev("x"), ev("y"), ev("z"))
			return outcome{res, err}
		}
	}
	r0 := make(chan outcome, 1)
	go func() { r0 <- op(0)() }()
	<-held.entered
	var rs []<-chan outcome
	for i := 1; i < 5; i++ {
		rs = append(rs, queue(t, s, i, op(i)))
	}
	close(held.release)
	for _, ch := range append(rs, r0) {
		if o := <-ch; o.err != nil {
			t.Fatal(o.err)
		}
	}
	if sizes := held.batchSizes(); len(sizes) != 3 || sizes[0] != 2 || sizes[1] != 2 || sizes[2] != 1 {
		t.Fatalf("batches %v, want [2 2 1] with at most 6 events each", sizes)
	}
}

func TestMaxBatchDelayGathersAppends(t *testing.T) {
	const writers = 10
	s := openTemp(t, Options{MaxBatchDelay: 300 * time.Millisecond, MaxBatchEvents: writers})
	defer s.Close()
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Append(context.Background(), "delay-1", events.Any, ev("d")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st := s.Stats(); st.Events != writers || st.Commits > 2 {
		t.Fatalf("stats %+v: %d appends should share one or two commits", st, writers)
	}
}

func TestCloseCommitsQueuedAppends(t *testing.T) {
	held := newHeldWriter()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{hooks: held.hooks()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	op := func() outcome {
		res, err := s.Append(ctx, "close-1", events.Any, ev("c"))
		return outcome{res, err}
	}
	r0 := make(chan outcome, 1)
	go func() { r0 <- op() }()
	<-held.entered
	r1 := queue(t, s, 1, op)
	r2 := queue(t, s, 2, op)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	await(t, "Close to begin", s.isClosed)
	if _, err := s.Append(ctx, "close-1", events.Any, ev("late")); !errors.Is(err, events.ErrClosed) {
		t.Fatalf("Append during Close: %v, want ErrClosed", err)
	}
	close(held.release)
	for _, ch := range []<-chan outcome{r0, r1, r2} {
		if o := <-ch; o.err != nil {
			t.Fatalf("queued append: %v", o.err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.ReadStream(ctx, "close-1", events.ReadStreamOptions{})
	if err != nil || len(got) != 3 {
		t.Fatalf("after reopen the stream holds %d events (%v), want 3", len(got), err)
	}
}

func TestOpenRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestDurabilitySettings(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	var mode string
	var sync, version int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q (%v), want wal", mode, err)
	}
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("writer synchronous = %d (%v), want 2 (FULL)", sync, err)
	}
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("user_version %d (%v), want %d", version, err, schemaVersion)
	}
	if _, err := s.rdb.ExecContext(ctx, "DELETE FROM events"); err == nil {
		t.Fatal("the read pool accepted a write")
	}
}

func TestClockAndReturnedCopies(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := openTemp(t, Options{Clock: func() time.Time { return at }})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "copy-1", events.NoStream, ev("original")); err != nil {
		t.Fatal(err)
	}
	first, err := s.ReadAll(ctx, 0, 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("ReadAll: %v %v", first, err)
	}
	if !first[0].RecordedAt.Equal(at) {
		t.Fatalf("RecordedAt %v, want the clock's %v", first[0].RecordedAt, at)
	}
	first[0].Data[1] = 'X' // a caller scribbling on its copy
	again, err := s.ReadAll(ctx, 0, 10)
	if err != nil || string(again[0].Data) != `"original"` {
		t.Fatalf("a caller's change leaked into the store: %s (%v)", again[0].Data, err)
	}
}

// TestDriverBlobsAreFresh backs driverSpec.freshBlobs: reads keep the
// driver's BLOB slices, so a driver that reused one buffer per column
// would make earlier events of a page show later events' data.
func TestDriverBlobsAreFresh(t *testing.T) {
	s := openTemp(t, Options{RecentEvents: -1})
	defer s.Close()
	ctx := context.Background()
	var want []string
	batch := make([]events.EventData, 50)
	for i := range batch {
		payload := fmt.Sprintf(`{"n":%03d}`, i)
		want = append(want, payload)
		batch[i] = events.EventData{ID: events.NewUUID(), Type: "fresh.checked", Data: []byte(payload)}
	}
	if _, err := s.Append(ctx, "fresh-1", events.NoStream, batch...); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func() ([]events.Envelope, error){
		func() ([]events.Envelope, error) { return s.ReadAll(ctx, 0, 100) },
		func() ([]events.Envelope, error) { return s.ReadStream(ctx, "fresh-1", events.ReadStreamOptions{}) },
	} {
		got, err := read()
		if err != nil || len(got) != len(want) {
			t.Fatalf("read %d events, %v", len(got), err)
		}
		for i, e := range got {
			if string(e.Data) != want[i] {
				t.Fatalf("event %d reads %s, want %s", i, e.Data, want[i])
			}
		}
	}
}

// TestWriterSurvivesPanic: a bug in the writer fails the batch with an
// error instead of crashing the process or leaving callers waiting, and
// the store keeps working.
func TestWriterSurvivesPanic(t *testing.T) {
	var armed atomic.Bool
	armed.Store(true)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil)) // the error log is expected
	s := openTemp(t, Options{Logger: quiet, hooks: &testHooks{afterCommit: func(int) {
		if armed.CompareAndSwap(true, false) {
			panic("injected")
		}
	}}})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "panic-1", events.NoStream, ev("a")); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("append during a writer panic: %v, want an internal error", err)
	}
	// The batch had committed before the panic: the event is there, and
	// positions continue after it.
	res, err := s.Append(ctx, "panic-1", events.Any, ev("b"))
	if err != nil {
		t.Fatalf("append after the panic: %v", err)
	}
	got, err := s.ReadAll(ctx, 0, 10)
	if err != nil || len(got) != 2 || res.Position != 2 || got[1].Revision != 1 {
		t.Fatalf("log after the panic: %v %v, result %+v", got, err, res)
	}
}

// TestAppendCopiesCallerData: a caller reusing its buffer after Append
// must not change the recorded event.
func TestAppendCopiesCallerData(t *testing.T) {
	s := openTemp(t, Options{})
	defer s.Close()
	ctx := context.Background()
	buf := []byte(`"before"`)
	if _, err := s.Append(ctx, "copy-2", events.NoStream, events.EventData{ID: events.NewUUID(), Type: "copy.made", Data: buf}); err != nil {
		t.Fatal(err)
	}
	copy(buf, `"AFTER!"`)
	got, err := s.ReadAll(ctx, 0, 1)
	if err != nil || string(got[0].Data) != `"before"` {
		t.Fatalf("recorded data %s (%v), want \"before\"", got[0].Data, err)
	}
}
