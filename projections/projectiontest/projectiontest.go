package projectiontest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/projections"

	_ "modernc.org/sqlite" // the read-model database's driver (projections.DriverName)
)

// Timeout bounds every wait for a projection to reach a position.
const Timeout = 10 * time.Second

// RebuildTimeout bounds RebuildTwiceSameChecksum as a whole.
const RebuildTimeout = 30 * time.Second

// Quiet is a logger that discards everything.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Env is one test's event store, in its own temporary directory. Its
// methods fail the test on any error.
type Env struct {
	t testing.TB
	// Dir is the temporary directory holding the event store and the
	// read-model databases of Runner and Start.
	Dir string
	// Store is the event store, closed at the end of the test.
	Store *sqlite.Store
	// Registry encodes the payloads given to Record; it starts empty, so
	// register the domain's event types on it first.
	Registry *events.Registry
	// Head is the position of the last event appended through Env (0 if
	// none).
	Head events.Position
}

// Open opens an event store in a fresh temporary directory of t.
func Open(t testing.TB) *Env {
	t.Helper()
	return open(t, nil)
}

// OpenTicking opens an event store like Open that records events at
// start+1s, start+2s, … (Envelope.RecordedAt).
func OpenTicking(t testing.TB, start time.Time) *Env {
	t.Helper()
	clock := start
	return open(t, func() time.Time { clock = clock.Add(time.Second); return clock })
}

func open(t testing.TB, clock func() time.Time) *Env {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: Quiet, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &Env{t: t, Dir: dir, Store: store, Registry: events.NewRegistry()}
}

// Append appends ed to stream (any revision) and returns its position.
func (e *Env) Append(stream string, ed events.EventData) events.Position {
	e.t.Helper()
	res, err := e.Store.Append(context.Background(), stream, events.Any, ed)
	if err != nil {
		e.t.Fatal(err)
	}
	e.Head = res.Position
	return res.Position
}

// Record encodes payload with Registry under a new event ID and meta, and
// appends it to stream.
func (e *Env) Record(stream string, payload any, meta events.Metadata) events.Position {
	e.t.Helper()
	ed, err := e.Registry.NewEvent(events.NewUUID(), payload, meta)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.Append(stream, ed)
}

// AppendUnrelated appends an event no read model under test handles (a
// community.created on community-1), which projectors must skip.
func (e *Env) AppendUnrelated() events.Position {
	e.t.Helper()
	return e.Append("community-1", events.EventData{ID: events.NewUUID(), Type: "community.created", Data: []byte(`{}`)})
}

// Runner creates and starts a runner of projectors over Store, with its
// read-model database in file dbFile of Dir; it is closed at the end of the
// test.
func (e *Env) Runner(dbFile string, projectors ...projections.Projector) *projections.Runner {
	e.t.Helper()
	r, err := projections.New(e.Store, filepath.Join(e.Dir, dbFile), Quiet, nil, projections.Options{}, projectors...)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close() })
	return r
}

// Start starts a runner of projectors with its database in "read.db" and
// waits until all of them have reached Head (settled, if nothing was
// appended).
func (e *Env) Start(projectors ...projections.Projector) *projections.Runner {
	e.t.Helper()
	r := e.Runner("read.db", projectors...)
	e.WaitAll(r, e.Head)
	return r
}

// WaitAll waits until every projection of r has reached pos (with pos 0:
// until each has settled).
func (e *Env) WaitAll(r *projections.Runner, pos events.Position) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	for _, name := range r.Names() {
		var err error
		if pos == 0 {
			err = r.WaitSettled(ctx, name)
		} else {
			err = r.WaitFor(ctx, name, pos)
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

// Await waits, at most Timeout, until projection name of r has reached pos
// and returns WaitFor's error (for tests that expect a failure).
func Await(r *projections.Runner, name string, pos events.Position) error {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	return r.WaitFor(ctx, name, pos)
}

// RebuildTwiceSameChecksum records the checksum of projection name, then
// twice rebuilds it and waits until the rebuild is live, and fails t unless
// the checksum stays the same. If check is not nil it runs after each
// rebuild has settled, with its number (1, 2), before the checksum is
// compared. It returns the checksum.
func RebuildTwiceSameChecksum(t testing.TB, r *projections.Runner, name string, check func(rebuild int)) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), RebuildTimeout)
	defer cancel()
	before, err := r.Checksum(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if err := r.Rebuild(ctx, name); err != nil {
			t.Fatal(err)
		}
		if err := r.WaitSettled(ctx, name); err != nil {
			t.Fatal(err)
		}
		if check != nil {
			check(i)
		}
		if after, err := r.Checksum(ctx, name); err != nil || after != before {
			t.Fatalf("%s: checksum after rebuild %d = %s (%v), before %s", name, i, after, err, before)
		}
	}
	return before
}
