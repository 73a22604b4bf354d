package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

func liveVersion(t testing.TB, db *sql.DB, name string) projections.Tables {
	t.Helper()
	var got projections.Tables
	if err := projections.ReadLive(context.Background(), db, name, func(_ *sql.Tx, tb projections.Tables) error {
		got = tb
		return nil
	}); err != nil {
		t.Fatalf("ReadLive: %v", err)
	}
	return got
}

func objectsWithPrefix(t testing.TB, db *sql.DB, prefix string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE substr(name, 1, ?) = ?`, len(prefix), prefix).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVersionBumpIsBlueGreen(t *testing.T) {
	for _, keepOld := range []bool{false, true} {
		t.Run(fmt.Sprintf("old version registered=%v", keepOld), func(t *testing.T) {
			dir := t.TempDir()
			store := openStore(t, dir)
			dbPath := filepath.Join(dir, "read.db")
			appendEvents(t, store, 0, 200, 5, nil)
			r1 := newRunner(t, store, dbPath, newLedger())
			if err := r1.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := r1.WaitSettled(waitCtx(t), "ledger"); err != nil {
				t.Fatal(err)
			}
			if err := r1.Close(); err != nil {
				t.Fatal(err)
			}
			head := appendEvents(t, store, 200, 50, 5, nil)

			v2 := &ledger{name: "ledger", version: 2, shape: "v2"}
			ps := []projections.Projector{v2}
			if keepOld {
				ps = append(ps, newLedger())
			}
			gated := gate(store)
			r2 := startRunner(t, gated, dbPath, ps...)
			reader := r2.DB().Reader()
			ctx := waitCtx(t)

			// The v1 build keeps serving while v2 is held back.
			if tb := liveVersion(t, reader, "ledger"); tb.Version() != 1 {
				t.Fatalf("live version during rebuild = %d, want 1", tb.Version())
			}
			pending := statusOf(t, r2, "ledger", projections.RolePending)
			if pending.Version != 2 || pending.State != projections.StateRebuilding {
				t.Fatalf("pending = %+v", pending)
			}
			// With the old version live, WaitFor must succeed (it may take a
			// while on a busy machine); with it frozen, it must time out.
			wait := ctx
			if !keepOld {
				short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
				wait = short
			}
			err := r2.WaitFor(wait, "ledger", head)
			if keepOld {
				// The old version is registered: it stays live and follows new events.
				if err != nil {
					t.Fatalf("WaitFor with old version live = %v", err)
				}
				if n := len(ledgerRows(t, reader, "ledger")); n != 250 {
					t.Fatalf("old build rows = %d, want 250", n)
				}
			} else {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("WaitFor with frozen old build = %v, want deadline exceeded", err)
				}
				if st := statusOf(t, r2, "ledger", projections.RoleLive); st.State != projections.StateFrozen || st.Position != 200 {
					t.Fatalf("old live build = %+v, want frozen at 200", st)
				}
				if n := len(ledgerRows(t, reader, "ledger")); n != 200 {
					t.Fatalf("frozen build rows = %d, want 200", n)
				}
			}

			// Across the switch, every answer is complete: at least the old
			// build's rows before it, all 250 after it. A read transaction open
			// across the switch keeps its snapshot of the old tables.
			floor := 200
			if keepOld {
				floor = 250
			}
			countRows := func(tx *sql.Tx, tb projections.Tables) (int, error) {
				var n int
				err := tx.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s`, tb.Name("entries"))).Scan(&n)
				return n, err
			}
			inTx, switched, heldDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				heldDone <- projections.ReadLive(ctx, reader, "ledger", func(tx *sql.Tx, tb projections.Tables) error {
					before, err := countRows(tx, tb)
					if err != nil {
						return err
					}
					close(inTx)
					select {
					case <-switched:
					case <-ctx.Done():
						return ctx.Err()
					}
					after, err := countRows(tx, tb)
					if err != nil || after != before || tb.Version() != 1 {
						return fmt.Errorf("after the switch the open transaction read %d rows of v%d (%v), before %d", after, tb.Version(), err, before)
					}
					return nil
				})
			}()
			readV1, polled := make(chan struct{}), make(chan error, 1)
			go func() {
				seenV1 := false
				for {
					var n, version int
					err := projections.ReadLive(ctx, reader, "ledger", func(tx *sql.Tx, tb projections.Tables) error {
						version = tb.Version()
						var err error
						n, err = countRows(tx, tb)
						return err
					})
					switch {
					case err != nil:
						polled <- err
						return
					case version == 1 && n < floor, version == 2 && n != 250:
						polled <- fmt.Errorf("incomplete answer: %d rows of v%d", n, version)
						return
					case version == 1 && !seenV1:
						seenV1 = true
						close(readV1)
					case version == 2:
						polled <- nil // read v1, then v2: the polls straddled the switch
						return
					}
				}
			}()
			for _, c := range []chan struct{}{inTx, readV1} {
				select {
				case <-c:
				case err := <-polled:
					t.Fatalf("reader before the switch: %v", err)
				case <-ctx.Done():
					t.Fatal("readers did not start")
				}
			}
			close(gated.gate)
			if err := r2.WaitSettled(ctx, "ledger"); err != nil {
				t.Fatalf("WaitSettled: %v", err)
			}
			close(switched)
			if err := <-heldDone; err != nil {
				t.Fatalf("read transaction across the switch: %v", err)
			}
			if err := <-polled; err != nil {
				t.Fatalf("reader across the switch: %v", err)
			}
			if err := r2.WaitFor(ctx, "ledger", head); err != nil {
				t.Fatal(err)
			}
			if tb := liveVersion(t, reader, "ledger"); tb.Version() != 2 || tb.Prefix() != "ledger_v2_" {
				t.Fatalf("live after switch = %v", tb)
			}
			if n := len(ledgerRows(t, reader, "ledger")); n != 250 {
				t.Fatalf("v2 rows = %d, want 250", n)
			}
			if n := objectsWithPrefix(t, reader, "ledger_v1_"); n != 0 {
				t.Fatalf("%d objects of v1 left after the switch", n)
			}
			sts, _ := r2.Status(ctx)
			if len(sts) != 1 || sts[0].Version != 2 || sts[0].State != projections.StateLive {
				t.Fatalf("statuses after switch = %+v", sts)
			}
		})
	}
}

// TestRebuildReproducesChecksum is the read-model determinism test: the
// state built incrementally while events arrive, two blue/green rebuilds,
// and a build from scratch in a fresh database all have one checksum.
func TestRebuildReproducesChecksum(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	dbPath := filepath.Join(dir, "read.db")
	r := startRunner(t, store, dbPath, newLedger())
	ctx := waitCtx(t)
	typeOf := func(i int) string { return []string{"test.a", "test.b", "test.c"}[i%3] }
	for chunk := 0; chunk < 10; chunk++ {
		pos := appendEvents(t, store, chunk*30, 30, 7, typeOf)
		if err := r.WaitFor(ctx, "ledger", pos); err != nil {
			t.Fatal(err)
		}
	}
	incremental, err := r.Checksum(ctx, "ledger")
	if err != nil {
		t.Fatal(err)
	}
	for gen := 1; gen <= 2; gen++ {
		if err := r.Rebuild(ctx, "ledger"); err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		if err := r.WaitSettled(ctx, "ledger"); err != nil {
			t.Fatalf("WaitSettled: %v", err)
		}
		if tb := liveVersion(t, r.DB().Reader(), "ledger"); tb.Generation() != gen {
			t.Fatalf("live generation = %d, want %d", tb.Generation(), gen)
		}
		rebuilt, err := r.Checksum(ctx, "ledger")
		if err != nil {
			t.Fatal(err)
		}
		if rebuilt != incremental {
			t.Fatalf("rebuild %d checksum %s differs from incremental %s", gen, rebuilt, incremental)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	fresh := startRunner(t, store, filepath.Join(dir, "fresh.db"), newLedger())
	if err := fresh.WaitSettled(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	scratch, err := fresh.Checksum(ctx, "ledger")
	if err != nil {
		t.Fatal(err)
	}
	if scratch != incremental {
		t.Fatalf("from-scratch checksum %s differs from incremental %s", scratch, incremental)
	}

	// The checksum sees a one-value change.
	raw, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE ledger_v1r2_totals SET sum = sum + 1 WHERE type = 'test.b'`); err != nil {
		t.Fatal(err)
	}
	db, err := projections.OpenDB(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tampered, err := projections.Checksum(ctx, db.Reader(), "ledger")
	if err != nil {
		t.Fatal(err)
	}
	if tampered == incremental {
		t.Fatal("checksum unchanged after a row changed")
	}
}

func TestRebuildReplacesPendingRebuild(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	appendEvents(t, store, 0, 50, 3, nil)
	gated := gate(store)
	r := startRunner(t, gated, filepath.Join(dir, "read.db"), newLedger())
	ctx := waitCtx(t)
	// The first build starts at 0 too: let it through, then hold rebuilds.
	close(gated.gate)
	if err := r.WaitSettled(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	gated.gate = make(chan struct{})
	if err := r.Rebuild(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	live := statusOf(t, r, "ledger", projections.RoleLive)
	first := statusOf(t, r, "ledger", projections.RolePending)
	if err := r.Rebuild(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	second := statusOf(t, r, "ledger", projections.RolePending)
	if second.ID <= first.ID || first.ID <= live.ID || second.Position != 0 {
		t.Fatalf("second pending build = %+v, first %+v, live %+v: want a new build", second, first, live)
	}
	sts, err := projections.Statuses(ctx, r.DB().Reader())
	if err != nil || len(sts) != 2 || sts[0].ID != live.ID || sts[1].ID != second.ID {
		t.Fatalf("catalog holds %+v (%v), want the live build and the second pending one", sts, err)
	}
	close(gated.gate)
	if err := r.WaitSettled(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, r, "ledger", projections.RoleLive); st.ID != second.ID {
		t.Fatalf("live build %d, want the second pending build %d", st.ID, second.ID)
	}
	if tb := liveVersion(t, r.DB().Reader(), "ledger"); tb.Generation() != 1 {
		t.Fatalf("live = %v", tb)
	}
	if n := len(ledgerRows(t, r.DB().Reader(), "ledger")); n != 50 {
		t.Fatalf("rows = %d", n)
	}
}

// heldStore holds subscriptions from position 0 opened after arm at a
// limit the test raises, and reports each such subscription.
type heldStore struct {
	events.Store
	subscribed chan struct{}

	mu     sync.Mutex
	armed  bool
	limit  events.Position
	raised chan struct{}
}

func newHeldStore(s events.Store) *heldStore {
	return &heldStore{Store: s, subscribed: make(chan struct{}, 1), raised: make(chan struct{})}
}

func (h *heldStore) arm(limit events.Position) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.limit = true, limit
}

func (h *heldStore) raise(limit events.Position) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.limit = limit
	close(h.raised)
	h.raised = make(chan struct{})
}

func (h *heldStore) SubscribeAll(ctx context.Context, after events.Position) (events.Subscription, error) {
	sub, err := h.Store.SubscribeAll(ctx, after)
	h.mu.Lock()
	armed := h.armed
	h.mu.Unlock()
	if err != nil || after != events.Start || !armed {
		return sub, err
	}
	select {
	case h.subscribed <- struct{}{}:
	default:
	}
	return &heldSub{Subscription: sub, h: h}, nil
}

type heldSub struct {
	events.Subscription
	h   *heldStore
	pos events.Position
}

func (s *heldSub) Next(ctx context.Context, max int) ([]events.Envelope, error) {
	for {
		s.h.mu.Lock()
		limit, raised := s.h.limit, s.h.raised
		s.h.mu.Unlock()
		if limit > s.pos {
			max = min(max, int(limit-s.pos)) // positions are dense in the embedded store
			break
		}
		select {
		case <-raised:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	evs, err := s.Subscription.Next(ctx, max)
	if len(evs) > 0 {
		s.pos = evs[len(evs)-1].Position
	}
	return evs, err
}

// TestSwitchWaitsForLivePosition: a pending build that reached the head it
// read is still behind the live build when events arrived meanwhile; the
// switch waits until it has caught up with the live build, so a read after
// WaitFor never loses a write.
func TestSwitchWaitsForLivePosition(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	appendEvents(t, store, 0, 50, 3, nil)
	held := newHeldStore(store)
	r := newRunner(t, held, filepath.Join(dir, "read.db"), newLedger())
	switches := make(chan error, 8)
	projections.OnSwitch(r, func(_ string, err error) { switches <- err })
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx := waitCtx(t)
	if err := r.WaitSettled(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	held.arm(0)
	if err := r.Rebuild(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	select { // the pending build has read the head (50) and subscribed
	case <-held.subscribed:
	case <-ctx.Done():
		t.Fatal("the pending build did not subscribe")
	}
	head := appendEvents(t, store, 50, 10, 3, nil)
	if err := r.WaitFor(ctx, "ledger", head); err != nil {
		t.Fatal(err)
	}
	held.raise(50)
	nextSwitch := func() error {
		t.Helper()
		select {
		case err := <-switches:
			return err
		case <-ctx.Done():
			t.Fatal("no switch attempt")
			return nil
		}
	}
	if err := nextSwitch(); err == nil {
		t.Fatal("switched to a pending build at position 50 while the live build was at 60")
	}
	if n := len(ledgerRows(t, r.DB().Reader(), "ledger")); n != 60 {
		t.Fatalf("live rows after the refused switch = %d, want 60", n)
	}
	held.raise(events.Position(1 << 62))
	if err := r.WaitSettled(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	if err := nextSwitch(); err != nil {
		t.Fatalf("switch once caught up: %v", err)
	}
	if tb := liveVersion(t, r.DB().Reader(), "ledger"); tb.Generation() != 1 {
		t.Fatalf("live = %v, want generation 1", tb)
	}
	if n := len(ledgerRows(t, r.DB().Reader(), "ledger")); n != 60 {
		t.Fatalf("rows after the switch = %d, want 60", n)
	}
}
