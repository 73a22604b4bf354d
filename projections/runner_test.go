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

func TestWaitForBoundsAndErrors(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	r := startRunner(t, store, filepath.Join(dir, "read.db"), newLedger())
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
	// A waiter blocked on a future position is woken by the commit.
	done := make(chan error, 1)
	go func() { done <- r.WaitFor(waitCtx(t), "ledger", 3) }()
	appendEvents(t, store, 0, 3, 1, nil)
	if err := <-done; err != nil {
		t.Fatalf("WaitFor woken = %v", err)
	}
	// Close wakes waiters with ErrClosed.
	go func() { done <- r.WaitFor(context.Background(), "ledger", 1000) }()
	time.Sleep(20 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, projections.ErrClosed) {
		t.Fatalf("WaitFor after Close = %v, want ErrClosed", err)
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
	// The checkpoint covers skipped events too (persisted by the sampler).
	eventually(t, "checkpoint persisted past skipped events", func() bool {
		sts, err := projections.Statuses(context.Background(), r.DB().Reader())
		return err == nil && len(sts) == 1 && sts[0].Position == head
	})
}

func splitType(row string) string {
	parts := strings.Split(row, ":")
	return parts[1]
}
