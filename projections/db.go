package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DriverName is the database/sql driver the read-model database is opened
// with. The caller registers it (cmd/hanse imports modernc.org/sqlite); the
// DSN parameters used (_pragma, _txlock) are modernc.org/sqlite's.
const DriverName = "sqlite"

// DB is an open read-model database: a writer pool of one connection whose
// transactions begin IMMEDIATE (so a projector's statements never meet a
// busy database half-way through a batch), and a query-only reader pool.
type DB struct {
	path string
	w    *sql.DB
	r    *sql.DB
	now  func() time.Time
	// owner is the lease owner id of the runner writing through this DB
	// (empty for other processes): every catalog write and batch checks,
	// inside its transaction, that this owner still holds the lease.
	owner string
}

// OpenDB opens (creating if needed) the read-model database at path, in WAL
// mode with synchronous=NORMAL, and creates the catalog tables.
func OpenDB(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("projections: invalid read-model database path %q", path)
	}
	base := url.Values{}
	base.Add("_pragma", "busy_timeout(10000)")
	base.Add("_pragma", "journal_mode(WAL)")
	base.Add("_pragma", "synchronous(NORMAL)")
	// Statement journals and sorts in memory: the file is disposable anyway.
	base.Add("_pragma", "temp_store(MEMORY)")
	// Deleted rows are overwritten, not just unlinked: read models purge an
	// erased person's data, and it must not linger in free pages.
	base.Add("_pragma", "secure_delete(ON)")
	wq := url.Values{}
	for k, v := range base {
		wq[k] = append([]string(nil), v...)
	}
	// 64 MiB page cache for the one writer: index pages of big rebuilds
	// stay cached.
	wq.Add("_pragma", "cache_size(-65536)")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open(DriverName, path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("projections: open read-model database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := ensureCatalog(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	rq := base
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open(DriverName, path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("projections: open read-model database: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("projections: open read-model database: %w", err)
	}
	return &DB{path: path, w: w, r: r, now: time.Now}, nil
}

// Path is the file the database was opened from.
func (d *DB) Path() string { return d.path }

// Write runs fn in a transaction of the writer connection, for state that
// lives beside the read models but is changed by workers rather than by
// events — for example the attempts of outbound deliveries, whose records
// an outbound projector creates. It shares SQLite's single writer with the
// projectors, so fn must be short. Tables written here must not be
// projector-versioned tables (a rebuild would drop them).
func (d *DB) Write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("projections: begin write: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections: commit write: %w", err)
	}
	return nil
}

// Reader is the query-only pool that read-model queries use.
func (d *DB) Reader() *sql.DB { return d.r }

// Close closes both pools.
func (d *DB) Close() error {
	return errors.Join(d.r.Close(), d.w.Close())
}

const catalogSchema = `
CREATE TABLE IF NOT EXISTS _projection_builds (
	id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: stale writes cannot hit a new build
	name           TEXT    NOT NULL,
	version        INTEGER NOT NULL,
	generation     INTEGER NOT NULL,
	role           TEXT    NOT NULL CHECK (role IN ('live', 'pending')),
	state          TEXT    NOT NULL,
	position       INTEGER NOT NULL DEFAULT 0,
	head           INTEGER NOT NULL DEFAULT 0,
	lag_events     INTEGER NOT NULL DEFAULT 0,
	lag_seconds    REAL    NOT NULL DEFAULT 0,
	rate           REAL    NOT NULL DEFAULT 0,
	error_position INTEGER,
	error_type     TEXT,
	error_stream   TEXT,
	error_text     TEXT,
	error_at       INTEGER,
	request_id     INTEGER,
	created_at     INTEGER NOT NULL,
	live_at        INTEGER,
	updated_at     INTEGER NOT NULL,
	UNIQUE (name, version, generation)
);
CREATE UNIQUE INDEX IF NOT EXISTS _projection_builds_role ON _projection_builds (name, role);
CREATE TABLE IF NOT EXISTS _projection_tables (
	name     TEXT    NOT NULL PRIMARY KEY,
	build_id INTEGER NOT NULL,
	suffix   TEXT    NOT NULL,
	kind     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS _projection_tables_build ON _projection_tables (build_id);
CREATE TABLE IF NOT EXISTS _projection_requests (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT    NOT NULL,
	kind         TEXT    NOT NULL CHECK (kind IN ('retry', 'rebuild')),
	requested_at INTEGER NOT NULL,
	taken_at     INTEGER,
	done_at      INTEGER,
	ok           INTEGER,
	result       TEXT
);
CREATE TABLE IF NOT EXISTS _projection_lease (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	owner        TEXT    NOT NULL,
	pid          INTEGER NOT NULL,
	host         TEXT    NOT NULL,
	started_at   INTEGER NOT NULL,
	heartbeat_at INTEGER NOT NULL
);
`

func ensureCatalog(ctx context.Context, w *sql.DB) error {
	if _, err := w.ExecContext(ctx, catalogSchema); err != nil {
		return fmt.Errorf("projections: create catalog: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// ReadLive runs fn in one read transaction with the tables of name's live
// build. The live pointer is resolved inside the transaction, so a
// blue/green switch (which drops the old tables) never breaks a running
// query: the transaction keeps reading its snapshot. db is the reader pool
// (DB.Reader or any *sql.DB on the read-model file). It returns ErrNotLive
// when the projection has no live build.
func ReadLive(ctx context.Context, db *sql.DB, name string, fn func(tx *sql.Tx, t Tables) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("projections: begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	var version, generation int
	err = tx.QueryRowContext(ctx,
		`SELECT version, generation FROM _projection_builds WHERE name = ? AND role = 'live'`, name).
		Scan(&version, &generation)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotLive, name)
	}
	if err != nil {
		return fmt.Errorf("projections: resolve live build of %s: %w", name, err)
	}
	return fn(tx, Tables{projection: name, version: version, generation: generation})
}

// beginWrite starts a transaction on the writer connection that the end of
// ctx does not tear down. database/sql discards a connection whose
// transaction's context ends while a statement may still run on it; the
// discarded SQLite connection then keeps the write lock until that
// statement finishes, and the next writer meets SQLITE_BUSY. The
// statements inside still take ctx (and are interrupted by it), and the
// transaction ends by Commit or Rollback as usual.
func (d *DB) beginWrite(ctx context.Context) (*sql.Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.w.BeginTx(context.WithoutCancel(ctx), nil)
}
