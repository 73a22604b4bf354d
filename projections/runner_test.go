package projections_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/projections"
)

func TestCatchUpThenLiveAndReadYourWrites(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	head := appendEvents(t, store, 0, 250, 7, nil)
	r := startRunner(t, store, filepath.Join(dir, "read.db"), newLedger())
	ctx := waitCtx(t)
	if err := r.WaitFor(ctx, "ledger", head); err != nil {
		t.Fatalf("WaitFor catch-up: %v", err)
	}
	if err := r.WaitSettled(ctx, "ledger"); err != nil {
		t.Fatalf("WaitSettled: %v", err)
	}
	if got := ledgerRows(t, r.DB().Reader(), "ledger"); len(got) != 250 {
		t.Fatalf("rows after catch-up = %d, want 250", len(got))
	}
	// Live: every write is visible once WaitFor returns.
	for i := 250; i < 300; i++ {
		pos := appendEvents(t, store, i, 1, 7, nil)
		if err := r.WaitFor(ctx, "ledger", pos); err != nil {
			t.Fatalf("WaitFor live %d: %v", i, err)
		}
		rows := ledgerRows(t, r.DB().Reader(), "ledger")
		if want := fmt.Sprintf("%d:test.happened:%d", pos, i); rows[len(rows)-1] != want {
			t.Fatalf("last row = %s, want %s", rows[len(rows)-1], want)
		}
	}
	st := statusOf(t, r, "ledger", projections.RoleLive)
	if st.State != projections.StateLive || st.Position != 300 || st.Head != 300 || st.LagEvents != 0 {
		t.Fatalf("status = %+v, want live at 300", st)
	}
}

// awaitBlocked waits until a WaitFor or WaitSettled call reports (through
// the OnWait hook) that it is about to block.
func awaitBlocked(t testing.TB, blocked <-chan string, name string) {
	t.Helper()
	select {
	case got := <-blocked:
		if got != name {
			t.Fatalf("a waiter of %q blocked, want %q", got, name)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no waiter of %q blocked", name)
	}
}

func TestWaitForBoundsAndErrors(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	r := newRunner(t, store, filepath.Join(dir, "read.db"), newLedger())
	blocked := make(chan string, 64)
	projections.OnWait(r, func(name string) {
		select {
		case blocked <- name:
		default:
		}
	})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.WaitFor(ctx, "ledger", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor beyond head = %v, want deadline exceeded", err)
	}
	if err := r.WaitFor(context.Background(), "nope", 1); !errors.Is(err, projections.ErrUnknownProjection) {
		t.Fatalf("WaitFor unknown = %v", err)
	}
	if err := r.WaitFor(context.Background(), "ledger", 0); err != nil {
		t.Fatalf("WaitFor(0) = %v", err)
	}
	for len(blocked) > 0 {
		<-blocked
	}
	// A waiter blocked on a future position is woken by the commit.
	done := make(chan error, 1)
	go func() { done <- r.WaitFor(waitCtx(t), "ledger", 3) }()
	awaitBlocked(t, blocked, "ledger")
	appendEvents(t, store, 0, 3, 1, nil)
	if err := <-done; err != nil {
		t.Fatalf("WaitFor woken = %v", err)
	}
	for len(blocked) > 0 {
		<-blocked
	}
	// Close wakes blocked waiters with ErrClosed.
	go func() { done <- r.WaitFor(context.Background(), "ledger", 1000) }()
	awaitBlocked(t, blocked, "ledger")
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, projections.ErrClosed) {
		t.Fatalf("WaitFor after Close = %v, want ErrClosed", err)
	}
}

// TestConcurrentCloseWaitsForTheFirst: every Close returns only once the
// runner is closed, with the first Close's result.
func TestConcurrentCloseWaitsForTheFirst(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	head := appendEvents(t, store, 0, 20, 3, nil)
	r := startRunner(t, store, filepath.Join(dir, "read.db"), newLedger())
	if err := r.WaitFor(waitCtx(t), "ledger", head); err != nil {
		t.Fatal(err)
	}
	const closers = 4
	errs := make(chan error, closers)
	for range closers {
		go func() {
			err := r.Close()
			if err == nil && r.DB().Reader().Ping() == nil {
				err = errors.New("Close returned while the read-model database was still open")
			}
			errs <- err
		}()
	}
	for range closers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close after Close = %v", err)
	}
	if err := r.Rebuild(context.Background(), "ledger"); !errors.Is(err, projections.ErrClosed) {
		t.Fatalf("Rebuild after Close = %v, want ErrClosed", err)
	}
}

// TestClockIsInjected: recorded times and lag in seconds come from
// Options.Clock.
func TestClockIsInjected(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet, Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	appendEvents(t, store, 0, 5, 1, nil)
	bad := appendEvents(t, store, 5, 1, 1, func(int) string { return "test.poison" })
	l := newLedger()
	l.setFail(func(e events.Envelope) error {
		if e.Type == "test.poison" {
			return errBoom
		}
		return nil
	})
	now := t0.Add(90 * time.Second)
	r := startRunnerOpts(t, store, filepath.Join(dir, "read.db"),
		projections.Options{PollInterval: 20 * time.Millisecond, Clock: func() time.Time { return now }}, l)
	ctx := waitCtx(t)
	if err := r.WaitFor(ctx, "ledger", bad); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("WaitFor = %v, want ErrFailed", err)
	}
	check := func(src string, st projections.Status) bool {
		t.Helper()
		ok := st.LagSeconds == 90 && st.LagEvents == 1 && st.CreatedAt.Equal(now) &&
			st.LastError != nil && st.LastError.At.Equal(now)
		if ok && src == "catalog" {
			ok = st.UpdatedAt.Equal(now)
		}
		return ok
	}
	if st := statusOf(t, r, "ledger", projections.RoleLive); !check("runner", st) {
		t.Fatalf("Status = %+v (%+v), want lag 90s and times at %v", st, st.LastError, now)
	}
	var last projections.Status
	eventually(t, "catalog status at the injected time", func() bool {
		sts, err := projections.Statuses(ctx, r.DB().Reader())
		if err != nil || len(sts) != 1 {
			return false
		}
		last = sts[0]
		return check("catalog", last)
	})
	lease, _, err := projections.ActiveLease(ctx, r.DB().Reader(), 0)
	if err != nil || !lease.Heartbeat.Equal(now) || !lease.StartedAt.Equal(now) {
		t.Fatalf("lease = %+v (%v), want heartbeat and start at %v", lease, err, now)
	}
}

func TestRestartResumesFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	dbPath := filepath.Join(dir, "read.db")
	appendEvents(t, store, 0, 120, 5, nil)
	r := newRunner(t, store, dbPath, newLedger())
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitFor(waitCtx(t), "ledger", 120); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sts, err := statusesAt(t, dbPath)
	if err != nil || len(sts) != 1 || sts[0].State != projections.StateStopped || sts[0].Position != 120 {
		t.Fatalf("catalog after Close = %+v, %v; want stopped at 120", sts, err)
	}
	head := appendEvents(t, store, 120, 30, 5, nil)
	r2 := startRunner(t, store, dbPath, newLedger())
	if err := r2.WaitFor(waitCtx(t), "ledger", head); err != nil {
		t.Fatal(err)
	}
	rows := ledgerRows(t, r2.DB().Reader(), "ledger")
	if len(rows) != 150 { // a replayed event would violate the primary key and fail the projection
		t.Fatalf("rows = %d, want 150", len(rows))
	}
	if st := statusOf(t, r2, "ledger", projections.RoleLive); st.Generation != 0 || st.Version != 1 {
		t.Fatalf("restart made a new build: %+v", st)
	}
}

func statusesAt(t testing.TB, dbPath string) ([]projections.Status, error) {
	t.Helper()
	db, err := projections.OpenDB(context.Background(), dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return projections.Statuses(context.Background(), db.Reader())
}

func TestSkipsUndeclaredTypes(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	typeOf := func(i int) string {
		if i%3 == 0 {
			return "test.kept"
		}
		return "other.ignored"
	}
	head := appendEvents(t, store, 0, 90, 4, typeOf)
	l := newLedger()
	l.handles = func(t string) bool { return t == "test.kept" }
	r := startRunner(t, store, filepath.Join(dir, "read.db"), l)
	if err := r.WaitFor(waitCtx(t), "ledger", head); err != nil {
		t.Fatal(err)
	}
	rows := ledgerRows(t, r.DB().Reader(), "ledger")
	if len(rows) != 30 {
		t.Fatalf("rows = %d, want 30 (only test.kept)", len(rows))
	}
	for _, row := range rows {
		if !slices.Contains([]string{"test.kept"}, splitType(row)) {
			t.Fatalf("unexpected row %s", row)
		}
	}
	// The checkpoint covers skipped events too (committed by the worker).
	if sts, err := projections.Statuses(context.Background(), r.DB().Reader()); err != nil || len(sts) != 1 || sts[0].Position != head {
		t.Fatalf("catalog = %+v (%v), want the checkpoint at %d", sts, err, head)
	}
}

func splitType(row string) string {
	parts := strings.Split(row, ":")
	return parts[1]
}
