package projections_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/hanse-network/hanse/projections"
)

// heldSetup is a ledger whose Setup waits until release is closed.
type heldSetup struct {
	*ledger
	entered, release chan struct{}
}

func (h heldSetup) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	close(h.entered)
	<-h.release
	return h.ledger.Setup(ctx, tx, t)
}

// TestStartedOnlyOnceEveryProjectionIsSetUp: Started is false before
// Start, during a Start still setting up a projection (and answers at once
// then, without waiting for it), true once Start returned, and false again
// after Close — what a readiness check needs, since the read models' tables
// exist only after set-up.
func TestStartedOnlyOnceEveryProjectionIsSetUp(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	held := heldSetup{ledger: newLedger(), entered: make(chan struct{}), release: make(chan struct{})}
	other := newLedger()
	other.name = "other"
	r := newRunner(t, store, filepath.Join(dir, "read.db"), held, other)
	t.Cleanup(func() { _ = r.Close() })
	if r.Started() {
		t.Fatal("Started before Start")
	}
	started := make(chan error, 1)
	go func() { started <- r.Start(context.Background()) }()
	select {
	case <-held.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not set up the ledger")
	}
	answered := make(chan bool, 1)
	go func() { answered <- r.Started() }()
	select {
	case s := <-answered:
		if s {
			t.Fatal("Started while a projection is still being set up")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Started waited for the Start in progress")
	}
	close(held.release)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if !r.Started() {
		t.Fatal("not Started after Start returned")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.Started() {
		t.Fatal("Started after Close")
	}
}
