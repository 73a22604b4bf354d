package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/streams"
)

func startRunnerOpts(t testing.TB, store events.Store, dbPath string, opts projections.Options, ps ...projections.Projector) *projections.Runner {
	t.Helper()
	r, err := projections.New(store, dbPath, quiet, nil, opts, ps...)
	if err != nil {
		t.Fatalf("projections.New: %v", err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// checkStreamCounts verifies that the streams read model counts every event
// of the n appended by appendEvents over 5 streams exactly once.
func checkStreamCounts(t testing.TB, db *sql.DB, n int) {
	t.Helper()
	page, err := streams.NewReader(db).ListByKind(context.Background(), "ledger", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 5 {
		t.Fatalf("%d ledger streams, want 5", len(page.Items))
	}
	for i, s := range page.Items {
		if want := uint64(n / 5); s.Events != want || s.Revision != uint64(want-1) {
			t.Errorf("stream %d (%s): %d events at revision %d, want %d (an event applied twice or lost)",
				i, s.ID, s.Events, s.Revision, want)
		}
	}
}

// TestStolenLeaseNeverDoubleApplies runs two runners on one read-model
// database: B takes the lease over from A (B's clock runs a minute ahead,
// so A's heartbeat looks stale to it) while both receive new events. A is
// fenced off and only B applies them; once B is gone A resumes from the
// catalog. Every event is counted exactly once throughout.
func TestStolenLeaseNeverDoubleApplies(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	dbPath := filepath.Join(dir, "read.db")
	ctx := waitCtx(t)
	head := appendEvents(t, store, 0, 100, 5, nil)
	fast := projections.Options{PollInterval: 20 * time.Millisecond}
	a := startRunnerOpts(t, store, dbPath, fast, streams.New())
	if err := a.WaitFor(ctx, streams.Name, head); err != nil {
		t.Fatal(err)
	}

	ahead := fast
	ahead.Clock = func() time.Time { return time.Now().Add(time.Minute) }
	b, err := projections.New(store, dbPath, quiet, nil, ahead, streams.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("B did not take the stale lease over: %v", err)
	}
	for i := 100; i < 300; i++ {
		head = appendEvents(t, store, i, 1, 5, nil)
	}
	if err := b.WaitFor(ctx, streams.Name, head); err != nil {
		t.Fatal(err)
	}
	checkStreamCounts(t, b.DB().Reader(), 300)
	// A stopped applying: its waiters and its status say why.
	if err := a.WaitFor(ctx, streams.Name, head); !errors.Is(err, projections.ErrFenced) {
		t.Fatalf("WaitFor on the runner that lost its lease = %v, want ErrFenced", err)
	}
	lease, _, err := projections.ActiveLease(ctx, b.DB().Reader(), 0)
	if err != nil {
		t.Fatal(err)
	}
	st := statusOf(t, a, streams.Name, projections.RoleLive)
	if st.State != projections.StateFenced || st.LastError == nil || !strings.Contains(st.LastError.Message, "runner "+lease.Owner) {
		t.Fatalf("status of the fenced runner = %+v (%+v), want fenced naming runner %s", st, st.LastError, lease.Owner)
	}

	// B leaves; A takes the lease back and resumes from B's checkpoints.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 300; i < 400; i++ {
		head = appendEvents(t, store, i, 1, 5, nil)
	}
	eventually(t, "A resumed", func() bool {
		return statusOf(t, a, streams.Name, projections.RoleLive).State != projections.StateFenced
	})
	if err := a.WaitFor(ctx, streams.Name, head); err != nil {
		t.Fatalf("WaitFor after A resumed: %v", err)
	}
	checkStreamCounts(t, a.DB().Reader(), 400)
	got, err := a.Checksum(ctx, streams.Name)
	if err != nil {
		t.Fatal(err)
	}
	fresh := startRunner(t, store, filepath.Join(dir, "fresh.db"), streams.New())
	if err := fresh.WaitFor(ctx, streams.Name, head); err != nil {
		t.Fatal(err)
	}
	if want, _ := fresh.Checksum(ctx, streams.Name); got != want {
		t.Fatalf("checksum after the takeover %s, from scratch %s", got, want)
	}
}

// TestCheckpointIsCompareAndSet: when the checkpoint moved under a runner
// (another writer), its next batch rolls back and it stops with ErrFenced
// instead of applying events on top of someone else's.
func TestCheckpointIsCompareAndSet(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	dbPath := filepath.Join(dir, "read.db")
	ctx := waitCtx(t)
	head := appendEvents(t, store, 0, 10, 3, nil)
	// No polls during the test: the runner keeps its lease and does not resume.
	r := startRunnerOpts(t, store, dbPath, projections.Options{PollInterval: time.Hour}, newLedger())
	if err := r.WaitFor(ctx, "ledger", head); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE _projection_builds SET position = 15 WHERE name = 'ledger'`); err != nil {
		t.Fatal(err)
	}
	pos := appendEvents(t, store, 10, 1, 3, nil)
	err = r.WaitFor(ctx, "ledger", pos)
	if want := fmt.Sprintf("another runner moved the checkpoint of ledger v1 (generation 0) from %d to 15", head); !errors.Is(err, projections.ErrFenced) ||
		!strings.Contains(err.Error(), want) {
		t.Fatalf("WaitFor after the checkpoint moved = %v, want ErrFenced: %s", err, want)
	}
	if n := len(ledgerRows(t, r.DB().Reader(), "ledger")); n != 10 {
		t.Fatalf("%d rows, want 10: the batch must roll back", n)
	}
	if st := statusOf(t, r, "ledger", projections.RoleLive); st.State != projections.StateFenced || st.Position != head {
		t.Fatalf("status = %+v, want fenced at %d", st, head)
	}
	if err := r.Rebuild(ctx, "ledger"); !errors.Is(err, projections.ErrFenced) {
		t.Fatalf("Rebuild while fenced = %v, want ErrFenced", err)
	}
}
