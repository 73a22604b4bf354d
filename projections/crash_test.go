package projections_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

const crashChildEnv = "HANSE_PROJECTIONS_CRASH_CHILD"

// prefill appends n events in big appends (500 events each) and returns
// the head.
func prefill(t testing.TB, s events.Store, n int) events.Position {
	t.Helper()
	ctx := context.Background()
	var head events.Position
	batch := make([]events.EventData, 0, 500)
	types := []string{"test.a", "test.b", "test.c"}
	for i := 0; i < n; i++ {
		batch = append(batch, events.EventData{ID: events.NewUUID(), Type: types[i%3],
			Data: []byte(`{"n":` + strconv.Itoa(i) + `}`), Metadata: events.Metadata{Actor: "bench"}})
		if len(batch) == cap(batch) || i == n-1 {
			res, err := s.Append(ctx, fmt.Sprintf("fill-%d", i/500%50), events.Any, batch...)
			if err != nil {
				t.Fatalf("prefill: %v", err)
			}
			head = res.Position
			batch = batch[:0]
		}
	}
	return head
}

// TestCrashDuringBatch kills a child process that applies a slow
// projection at random moments and checks after each kill that the read
// model holds exactly the effects of the events up to its checkpoint. It
// runs 20 rounds, 200 with HANSE_LONG_TESTS=1, or HANSE_CRASH_ROUNDS.
func TestCrashDuringBatch(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		runCrashChild(t, dir)
		return
	}
	rounds := 20
	if os.Getenv("HANSE_LONG_TESTS") == "1" {
		rounds = 200
	}
	if v, err := strconv.Atoi(os.Getenv("HANSE_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	dir := t.TempDir()
	store, err := openStoreErr(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The child applies at most 100 events per 10 ms and lives 20-250 ms a
	// round, so with 1000 events a round most kills land while it is behind.
	total := max(20000, 1000*rounds)
	if raceEnabled {
		total = 200 * rounds // the race detector slows the projection down ~10x
	}
	prefill(t, store, total)
	expected, err := store.ReadAll(context.Background(), 0, total)
	if err != nil || len(expected) != total {
		t.Fatalf("ReadAll: %d events, %v", len(expected), err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "read.db")
	var last events.Position
	killedMidway := 0
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringBatch$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(out)
			ok := false
			for sc.Scan() {
				if sc.Text() == "crash-child-ready" {
					ok = true
					break
				}
			}
			ready <- ok
			for sc.Scan() { // drain
			}
		}()
		select {
		case ok := <-ready:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("round %d: child exited before it was ready", round)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("round %d: child not ready", round)
		}
		time.Sleep(time.Duration(20+rand.IntN(230)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v", err)
		}
		_ = cmd.Wait()

		pos := checkReadModel(t, dbPath, expected)
		if pos < last {
			t.Fatalf("round %d: checkpoint went back from %d to %d", round, last, pos)
		}
		if pos > 0 && pos < events.Position(total) {
			killedMidway++
		}
		t.Logf("round %d: killed at checkpoint %d", round, pos)
		last = pos
	}
	if killedMidway < rounds/2 {
		t.Fatalf("only %d of %d kills landed while the projection was behind", killedMidway, rounds)
	}
	// Finish in-process and compare with a build from scratch.
	store = openStore(t, dir)
	r := startRunner(t, store, dbPath, newLedger())
	if err := r.WaitSettled(waitCtx(t), "ledger"); err != nil {
		t.Fatal(err)
	}
	after, err := r.Checksum(context.Background(), "ledger")
	if err != nil {
		t.Fatal(err)
	}
	fresh := startRunner(t, store, filepath.Join(dir, "fresh.db"), newLedger())
	if err := fresh.WaitSettled(waitCtx(t), "ledger"); err != nil {
		t.Fatal(err)
	}
	if want, _ := fresh.Checksum(context.Background(), "ledger"); want != after {
		t.Fatalf("checksum after crashes %s, from scratch %s", after, want)
	}
}

func openStoreErr(dir string) (events.Store, error) {
	return openStoreAt(filepath.Join(dir, "events.db"))
}

// checkReadModel verifies that the ledger holds exactly the effects of
// events 1..checkpoint and returns the checkpoint.
func checkReadModel(t *testing.T, dbPath string, expected []events.Envelope) events.Position {
	t.Helper()
	ctx := context.Background()
	db, err := projections.OpenDB(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var checkpoint events.Position
	err = projections.ReadLive(ctx, db.Reader(), "ledger", func(tx *sql.Tx, tb projections.Tables) error {
		var cp int64
		if err := tx.QueryRow(`SELECT position FROM _projection_builds WHERE name = 'ledger' AND role = 'live'`).Scan(&cp); err != nil {
			return err
		}
		checkpoint = events.Position(cp)
		rows, err := tx.Query(fmt.Sprintf(`SELECT position, type, n FROM %s ORDER BY position`, tb.Name("entries")))
		if err != nil {
			return err
		}
		defer rows.Close()
		i := 0
		wantTotals := map[string][2]int64{}
		for rows.Next() {
			var pos, n int64
			var typ string
			if err := rows.Scan(&pos, &typ, &n); err != nil {
				return err
			}
			if i >= len(expected) || events.Position(pos) != expected[i].Position || typ != expected[i].Type || n != int64(i) {
				return fmt.Errorf("row %d = (%d, %s, %d), want event %d", i, pos, typ, n, i+1)
			}
			tot := wantTotals[typ]
			wantTotals[typ] = [2]int64{tot[0] + 1, tot[1] + n}
			i++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if events.Position(i) != checkpoint {
			return fmt.Errorf("%d rows but checkpoint %d: partial or missing effects", i, checkpoint)
		}
		trows, err := tx.Query(fmt.Sprintf(`SELECT type, events, sum FROM %s`, tb.Name("totals")))
		if err != nil {
			return err
		}
		defer trows.Close()
		seen := 0
		for trows.Next() {
			var typ string
			var n, sum int64
			if err := trows.Scan(&typ, &n, &sum); err != nil {
				return err
			}
			if w := wantTotals[typ]; w[0] != n || w[1] != sum {
				return fmt.Errorf("totals[%s] = (%d, %d), want %v", typ, n, sum, w)
			}
			seen++
		}
		if seen != len(wantTotals) {
			return fmt.Errorf("%d totals rows, want %d", seen, len(wantTotals))
		}
		return trows.Err()
	})
	if err != nil {
		t.Fatalf("read model after kill: %v", err)
	}
	return checkpoint
}

// runCrashChild applies the ledger slowly until it is killed.
func runCrashChild(t *testing.T, dir string) {
	store, err := openStoreErr(dir)
	if err != nil {
		t.Fatal(err)
	}
	l := newLedger()
	l.delay = 10 * time.Millisecond
	r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil,
		projections.Options{BatchSize: 100, PollInterval: 20 * time.Millisecond, LeaseTTL: time.Millisecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("crash-child-ready")
	_ = r.WaitSettled(context.Background(), "ledger")
	select {} // wait for the kill
}
