package projections

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"

	_ "modernc.org/sqlite"
)

// tiny is a minimal projector for tests of unexported machinery.
type tiny struct{}

func (tiny) Name() string        { return "tiny" }
func (tiny) Version() int        { return 1 }
func (tiny) Handles(string) bool { return true }
func (tiny) Setup(ctx context.Context, tx *sql.Tx, t Tables) error {
	_, err := tx.ExecContext(ctx, `CREATE TABLE `+t.Name("rows")+` (n INTEGER)`)
	return err
}
func (tiny) Apply(context.Context, *sql.Tx, Tables, []events.Envelope) error { return nil }

// TestStaleStatusCannotMoveANewBuild replays the race of a status snapshot
// taken before a pending build was replaced and written after: build ids
// are never reused and persistStatus never moves a checkpoint, so the new
// build keeps its own checkpoint (0) and a crash cannot make it skip events.
func TestStaleStatusCannotMoveANewBuild(t *testing.T) {
	ctx := context.Background()
	db, err := OpenDB(ctx, filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.owner = "me"
	if err := db.acquireLease(ctx, Lease{Owner: "me", PID: 1, Host: "h", StartedAt: time.Now()}, time.Second); err != nil {
		t.Fatal(err)
	}
	position := func(id int64) events.Position {
		t.Helper()
		var p int64
		if err := db.w.QueryRowContext(ctx, `SELECT position FROM _projection_builds WHERE id = ?`, id).Scan(&p); err != nil {
			t.Fatal(err)
		}
		return events.Position(p)
	}
	live, err := db.createBuild(ctx, tiny{}, RoleLive, StateLive, 0)
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.createBuild(ctx, tiny{}, RolePending, StateRebuilding, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE _projection_builds SET position = 500 WHERE id = ?`, first.id); err != nil {
		t.Fatal(err)
	}
	stale := []statusUpdate{{id: first.id, head: 500}, {id: live.id, head: 500}}
	if err := db.dropBuild(ctx, first.id); err != nil {
		t.Fatal(err)
	}
	second, err := db.createBuild(ctx, tiny{}, RolePending, StateRebuilding, 0)
	if err != nil {
		t.Fatal(err)
	}
	if second.id == first.id || second.id <= live.id {
		t.Fatalf("new build got id %d (replaced build %d, live %d): ids must never be reused", second.id, first.id, live.id)
	}
	if err := db.persistStatus(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if p := position(second.id); p != 0 {
		t.Fatalf("new build's checkpoint = %d after a stale status write, want 0", p)
	}
	if p := position(live.id); p != 0 {
		t.Fatalf("persistStatus moved the live checkpoint to %d", p)
	}
}

// TestCommandAfterSlotStopped: a command that reaches a slot whose
// goroutine has exited returns ErrClosed instead of waiting forever.
func TestCommandAfterSlotStopped(t *testing.T) {
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r, err := New(store, filepath.Join(dir, "read.db"), nil, nil, Options{}, tiny{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The slot goroutines stop while the runner still counts as started:
	// the window between command's state check and its send.
	r.cancel()
	r.wg.Wait()
	for _, cmd := range []func(context.Context, string) error{r.Rebuild, r.Retry} {
		done := make(chan error, 1)
		go func() { done <- cmd(context.Background(), "tiny") }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("command after the slot stopped = %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("command after the slot stopped hangs")
		}
	}
}

func TestDBWriteCommitsOrRollsBack(t *testing.T) {
	ctx := context.Background()
	db, err := OpenDB(ctx, filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE IF NOT EXISTS side (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO side VALUES ('rolled back')`); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want the function's error", err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO side VALUES ('kept')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, err := db.Reader().QueryContext(ctx, `SELECT k FROM side ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if len(keys) != 1 || keys[0] != "kept" {
		t.Fatalf("rows %v, want only the committed one", keys)
	}
}
