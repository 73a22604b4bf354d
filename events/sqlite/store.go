package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanse-network/hanse/events"

	_ "modernc.org/sqlite" // registers the pure-Go driver "sqlite"
)

// Errors specific to the embedded store.
var (
	// ErrSchemaTooNew: the database was written by a newer build of Hanse.
	ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this build")
	// ErrLocked: another process has the database open for writing.
	ErrLocked = errors.New("sqlite: database is locked by another process")
	// ErrInvalidMax: a read or Next was called with max ≤ 0.
	ErrInvalidMax = errors.New("sqlite: max must be positive")
)

// Options tune the embedded store. The zero value is ready to use.
type Options struct {
	// MaxBatchEvents caps the events the writer commits in one transaction
	// (default 10 000). One append is never split across transactions.
	MaxBatchEvents int
	// MaxBatchBytes caps the payload bytes of one transaction (default 16 MiB).
	MaxBatchBytes int
	// MaxBatchDelay is how long the writer waits for more appends before
	// committing a batch. 0 (the default) commits as soon as the writer is
	// free: appends that arrive during a commit form the next batch. With
	// many concurrent writers that gives about half of them per commit (the
	// other half waits for the commit in flight); a delay of a few hundred
	// microseconds lets both halves share a commit, at the price of that
	// much latency for every append (see docs/performance.md).
	MaxBatchDelay time.Duration
	// ReadConnections is the size of the read-only connection pool
	// (default: GOMAXPROCS, at least 2).
	ReadConnections int
	// RecentEvents is how many recently committed events are kept in memory
	// to serve live subscribers without a database read (default 8192;
	// negative disables the cache).
	RecentEvents int
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
	// Clock stamps Envelope.RecordedAt (default time.Now).
	Clock func() time.Time

	// driver selects the database/sql driver; "" means modernc.org/sqlite.
	// Only the driver benchmark changes it.
	driver string
	// hooks let tests observe and hold the writer.
	hooks *testHooks
}

// testHooks are called by the writer goroutine.
type testHooks struct {
	beforeCollect func()             // after taking a batch's first request
	afterCommit   func(requests int) // after a batch's transaction ended
}

// Stats counts the writer's work since Open.
type Stats struct {
	// Commits is the number of transactions that wrote something; with
	// synchronous=FULL each costs one fsync of the WAL.
	Commits uint64
	// Events is the number of events written.
	Events uint64
}

func (o *Options) withDefaults() {
	if o.MaxBatchEvents <= 0 {
		o.MaxBatchEvents = 10_000
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 16 << 20
	}
	if o.ReadConnections <= 0 {
		o.ReadConnections = max(2, runtime.GOMAXPROCS(0))
	}
	if o.RecentEvents == 0 {
		o.RecentEvents = 8192
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

// Store is the embedded event store. It implements events.Store; all
// methods are safe for concurrent use.
type Store struct {
	path string
	opts Options
	log  *slog.Logger
	drv  driverSpec

	lock  *os.File
	wdb   *sql.DB   // exactly one connection, owned by the writer goroutine
	wconn *sql.Conn // that connection
	rdb   *sql.DB   // read-only pool
	w     writer    // writer-goroutine state and prepared statements

	reqs       chan *request
	closing    chan struct{}
	closeOnce  sync.Once
	closeErr   error
	writerDone chan struct{}

	// head is the committed head: the position of the last event whose
	// transaction has committed. Readers never look beyond it.
	head     atomic.Uint64
	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced after every commit
	recent   *recentCache
	stats    struct{ commits, events atomic.Uint64 }
}

var _ events.Store = (*Store)(nil)

// Open opens the store in the SQLite file at path, creating the file and
// its directory if missing and migrating the schema to this build's version.
// Only one process may have a store open at a time.
func Open(path string, opts Options) (*Store, error) {
	opts.withDefaults()
	drv, err := lookupDriver(opts.driver)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{
		path:       path,
		opts:       opts,
		drv:        drv,
		log:        opts.Logger.With("component", "events/sqlite", "path", path),
		lock:       lock,
		reqs:       make(chan *request, 256),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		notify:     make(chan struct{}),
		recent:     newRecentCache(opts.RecentEvents, 64<<20),
	}
	if err := s.open(drv); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	go s.writeLoop()
	return s, nil
}

func (s *Store) open(drv driverSpec) error {
	ctx := context.Background()
	var err error
	if s.wdb, err = sql.Open(drv.name, drv.dsn(s.path, false)); err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return err
	}
	var mode string
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("enable WAL: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("enable WAL: journal mode is %q", mode)
	}
	// FULL: in WAL mode NORMAL does not sync the WAL on every commit, so an
	// acknowledged append could be lost on power failure.
	if _, err := s.wconn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return fmt.Errorf("set synchronous: %w", err)
	}
	// The writer's multi-row INSERTs keep a statement journal; in memory it
	// costs no system calls. A larger page cache keeps a batch's pages from
	// spilling to the WAL before COMMIT.
	for _, pragma := range []string{"PRAGMA temp_store = MEMORY", "PRAGMA cache_size = -32768"} {
		if _, err := s.wconn.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("%s: %w", pragma, err)
		}
	}
	from, err := migrate(ctx, s.wconn)
	if err != nil {
		return err
	}
	switch {
	case from == 0:
		s.log.Debug("event store created", "schema", schemaVersion)
	case from != schemaVersion:
		s.log.Info("event store schema migrated", "from", from, "to", schemaVersion)
	}
	var head sql.NullInt64
	if err := s.wconn.QueryRowContext(ctx, "SELECT max(position) FROM events").Scan(&head); err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	s.head.Store(uint64(head.Int64))
	if err := s.w.init(ctx, s.wconn, uint64(head.Int64)); err != nil {
		return err
	}
	if s.rdb, err = sql.Open(drv.roName, drv.dsn(s.path, true)); err != nil {
		return err
	}
	s.rdb.SetMaxOpenConns(s.opts.ReadConnections)
	s.rdb.SetMaxIdleConns(s.opts.ReadConnections)
	if err := s.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("open read pool: %w", err)
	}
	return nil
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.stats.commits.Load(), Events: s.stats.events.Load()}
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close stops accepting appends, commits those already queued, waits for
// the writer, and closes the database. Subscriptions end with ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.writerDone
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	s.w.close()
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// readErr maps errors of a read that raced with Close to ErrClosed.
func (s *Store) readErr(ctx context.Context, op string, err error) error {
	if s.isClosed() {
		return events.ErrClosed
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// waitChan returns the channel that is closed after the next commit.
func (s *Store) waitChan() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// publish makes a commit visible: first the head, then the wake-up.
func (s *Store) publish(head events.Position) {
	s.head.Store(uint64(head))
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}
