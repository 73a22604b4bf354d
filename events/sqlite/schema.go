package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] upgrades a database at schema version i to version i+1.
// The schema version lives in PRAGMA user_version. Append new steps, never
// edit old ones.
var migrations = []string{
	// 0 → 1: the log of all events and the per-stream state.
	`CREATE TABLE events (
		position    INTEGER PRIMARY KEY,
		stream      TEXT    NOT NULL,
		revision    INTEGER NOT NULL,
		id          BLOB    NOT NULL UNIQUE,
		type        TEXT    NOT NULL,
		data        BLOB    NOT NULL,
		metadata    BLOB    NOT NULL,
		recorded_at INTEGER NOT NULL,
		UNIQUE (stream, revision)
	);
	CREATE TABLE streams (
		name           TEXT    PRIMARY KEY,
		last_revision  INTEGER NOT NULL,
		deleted_before INTEGER NOT NULL DEFAULT 0,
		tombstoned     INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;`,
}

// schemaVersion is the version this build writes.
var schemaVersion = len(migrations)

// migrate brings the database on conn up to schemaVersion, one transaction
// per step. It refuses databases written by a newer build.
func migrate(ctx context.Context, conn *sql.Conn) (from int, err error) {
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&from); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if from > schemaVersion {
		return from, fmt.Errorf("%w: database schema version %d is newer than this build's %d",
			ErrSchemaTooNew, from, schemaVersion)
	}
	for v := from; v < schemaVersion; v++ {
		if err := migrateStep(ctx, conn, v); err != nil {
			return from, err
		}
	}
	return from, nil
}

func migrateStep(ctx context.Context, conn *sql.Conn, v int) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate to schema %d: %w", v+1, err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
		return fmt.Errorf("migrate to schema %d: %w", v+1, err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return fmt.Errorf("migrate to schema %d: %w", v+1, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrate to schema %d: %w", v+1, err)
	}
	return nil
}
