package projections_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/projections"

	_ "modernc.org/sqlite"
)

var quiet = slog.New(slog.NewTextHandler(testLogOut(), nil))

func testLogOut() io.Writer {
	if os.Getenv("PROJ_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// openStore opens an embedded event store in dir.
func openStore(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	s, err := openStoreAt(filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatalf("open event store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type payload struct {
	N int `json:"n"`
}

func openStoreAt(path string) (*sqlite.Store, error) {
	return sqlite.Open(path, sqlite.Options{Logger: quiet})
}

// appendEvents appends n events to streams "<kind>-<i%streams>", with types
// chosen by typeOf (nil: "test.happened"), and returns the last position.
func appendEvents(t testing.TB, s events.Store, from, n, streams int, typeOf func(i int) string) events.Position {
	t.Helper()
	ctx := context.Background()
	var last events.Position
	for i := from; i < from+n; i++ {
		typ := "test.happened"
		if typeOf != nil {
			typ = typeOf(i)
		}
		data, _ := json.Marshal(payload{N: i})
		res, err := s.Append(ctx, fmt.Sprintf("ledger-%d", i%streams), events.Any, events.EventData{
			ID: events.NewUUID(), Type: typ, Data: data,
			Metadata: events.Metadata{Actor: fmt.Sprintf("actor-%d", i%3), CorrelationID: fmt.Sprintf("c-%d", i),
				OccurredAt: time.Date(2025, 1, 1, 0, 0, i%60, 0, time.UTC)},
		})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		last = res.Position
	}
	return last
}

// appendRaw appends one event with raw payload bytes.
func appendRaw(t testing.TB, s events.Store, stream, typ string, data []byte) events.Position {
	t.Helper()
	res, err := s.Append(context.Background(), stream, events.Any, events.EventData{ID: events.NewUUID(), Type: typ, Data: data})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res.Position
}

// ledger is a test projector: one row per handled event and a total per
// event type. It decodes payloads, can be told to fail on some events and
// to hold batches until released.
type ledger struct {
	name    string
	version int
	handles func(string) bool
	// shape, when "v2", adds a column so versions differ in schema.
	shape string

	mu     sync.Mutex
	failOn func(e events.Envelope) error
	delay  time.Duration // per batch
	panics bool
	// skipStream names a stream whose events Apply ignores.
	skipStream string
}

func newLedger() *ledger { return &ledger{name: "ledger", version: 1} }

func (l *ledger) Name() string { return l.name }
func (l *ledger) Version() int { return l.version }
func (l *ledger) Handles(t string) bool {
	if l.handles == nil {
		return true
	}
	return l.handles(t)
}

func (l *ledger) setFail(f func(e events.Envelope) error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failOn = f
}

func (l *ledger) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	extra := ""
	if l.shape == "v2" {
		extra = ", doubled INTEGER NOT NULL"
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %s (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, type TEXT NOT NULL, n INTEGER NOT NULL%s);
		CREATE TABLE %s (type TEXT PRIMARY KEY, events INTEGER NOT NULL, sum INTEGER NOT NULL);
		CREATE INDEX %s ON %s (stream);`,
		t.Name("entries"), extra, t.Name("totals"), t.Name("entries_stream"), t.Name("entries")))
	return err
}

func (l *ledger) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	l.mu.Lock()
	failOn, delay, panics, skip := l.failOn, l.delay, l.panics, l.skipStream
	l.mu.Unlock()
	if panics {
		panic("ledger told to panic")
	}
	for _, e := range batch {
		if e.StreamID == skip {
			continue
		}
		if failOn != nil {
			if err := failOn(e); err != nil {
				return err
			}
		}
		var p payload
		if err := projections.DecodeJSON(e, &p); err != nil {
			return err
		}
		var err error
		if l.shape == "v2" {
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (position, stream, type, n, doubled) VALUES (?, ?, ?, ?, ?)`,
				t.Name("entries")), int64(e.Position), e.StreamID, e.Type, p.N, 2*p.N)
		} else {
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (position, stream, type, n) VALUES (?, ?, ?, ?)`,
				t.Name("entries")), int64(e.Position), e.StreamID, e.Type, p.N)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (type, events, sum) VALUES (?, 1, ?)
			ON CONFLICT (type) DO UPDATE SET events = events + 1, sum = sum + excluded.sum`, t.Name("totals")), e.Type, p.N); err != nil {
			return err
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

var errBoom = errors.New("boom")

// newRunner creates a runner with a short poll interval over store.
func newRunner(t testing.TB, store events.Store, dbPath string, ps ...projections.Projector) *projections.Runner {
	t.Helper()
	r, err := projections.New(store, dbPath, quiet, nil, projections.Options{PollInterval: 50 * time.Millisecond}, ps...)
	if err != nil {
		t.Fatalf("projections.New: %v", err)
	}
	return r
}

func startRunner(t testing.TB, store events.Store, dbPath string, ps ...projections.Projector) *projections.Runner {
	t.Helper()
	r := newRunner(t, store, dbPath, ps...)
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func waitCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ledgerRows reads the live ledger entries as "position:type:n".
func ledgerRows(t testing.TB, db *sql.DB, name string) []string {
	t.Helper()
	var out []string
	err := projections.ReadLive(context.Background(), db, name, func(tx *sql.Tx, tb projections.Tables) error {
		rows, err := tx.Query(fmt.Sprintf(`SELECT position, type, n FROM %s ORDER BY position`, tb.Name("entries")))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var pos, n int64
			var typ string
			if err := rows.Scan(&pos, &typ, &n); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%d:%s:%d", pos, typ, n))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("read ledger: %v", err)
	}
	return out
}

func statusOf(t testing.TB, r *projections.Runner, name string, role projections.Role) projections.Status {
	t.Helper()
	sts, err := r.Status(context.Background())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, s := range sts {
		if s.Name == name && s.Role == role {
			return s
		}
	}
	t.Fatalf("no %s build of %s in %+v", role, name, sts)
	return projections.Status{}
}

// eventually polls cond until it holds or the deadline passes (for state
// written by another goroutine at its own pace, like the catalog copy).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gatedStore holds back subscriptions that start at position 0 (rebuilds)
// until its gate is opened, without holding any read-model transaction.
type gatedStore struct {
	events.Store
	gate chan struct{}
}

func gate(s events.Store) *gatedStore { return &gatedStore{Store: s, gate: make(chan struct{})} }

func (g *gatedStore) SubscribeAll(ctx context.Context, after events.Position) (events.Subscription, error) {
	sub, err := g.Store.SubscribeAll(ctx, after)
	if err != nil || after != events.Start {
		return sub, err
	}
	return &gatedSub{Subscription: sub, gate: g.gate}, nil
}

type gatedSub struct {
	events.Subscription
	gate chan struct{}
}

func (g *gatedSub) Next(ctx context.Context, max int) ([]events.Envelope, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Subscription.Next(ctx, max)
}
