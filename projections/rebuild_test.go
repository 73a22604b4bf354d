package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			err := r2.WaitFor(short, "ledger", head)
			cancel()
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

			// Readers never see an error or a shrinking feed across the switch.
			var stop atomic.Bool
			var wg sync.WaitGroup
			readErr := make(chan error, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				last := 0
				for !stop.Load() {
					var n int
					err := projections.ReadLive(context.Background(), reader, "ledger", func(tx *sql.Tx, tb projections.Tables) error {
						return tx.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s`, tb.Name("entries"))).Scan(&n)
					})
					if err == nil && n < last && n < 200 {
						err = fmt.Errorf("row count went from %d to %d", last, n)
					}
					if err != nil {
						readErr <- err
						return
					}
					last = n
				}
			}()
			close(gated.gate)
			if err := r2.WaitSettled(ctx, "ledger"); err != nil {
				t.Fatalf("WaitSettled: %v", err)
			}
			if err := r2.WaitFor(ctx, "ledger", head); err != nil {
				t.Fatal(err)
			}
			stop.Store(true)
			wg.Wait()
			select {
			case err := <-readErr:
				t.Fatalf("reader during switch: %v", err)
			default:
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
	first := statusOf(t, r, "ledger", projections.RolePending)
	if err := r.Rebuild(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	second := statusOf(t, r, "ledger", projections.RolePending)
	if second.CreatedAt.Before(first.CreatedAt) || second.Position != 0 {
		t.Fatalf("second pending build = %+v, first %+v", second, first)
	}
	sts, err := projections.Statuses(ctx, r.DB().Reader())
	if err != nil || len(sts) != 2 {
		t.Fatalf("catalog holds %d builds (%v), want live + one pending", len(sts), err)
	}
	close(gated.gate)
	if err := r.WaitSettled(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	if tb := liveVersion(t, r.DB().Reader(), "ledger"); tb.Generation() != 1 {
		t.Fatalf("live = %v", tb)
	}
	if n := len(ledgerRows(t, r.DB().Reader(), "ledger")); n != 50 {
		t.Fatalf("rows = %d", n)
	}
}
