package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
)

// buildRow is one row of _projection_builds as the runner needs it.
type buildRow struct {
	id         int64
	version    int
	generation int
	role       Role
	state      State
	position   events.Position
	requestID  int64
	lastErr    *ErrorInfo
	createdAt  time.Time
	liveAt     time.Time
}

func posToDB(p events.Position) (int64, error) {
	if uint64(p) > math.MaxInt64 {
		return 0, fmt.Errorf("projections: position %d does not fit the catalog", p)
	}
	return int64(p), nil
}

// checkLeaseTx fails with an error matching ErrFenced unless the runner
// writing through d still holds the lease. Every write of a runner checks it
// inside its (IMMEDIATE) transaction, so a runner whose lease was taken over
// changes neither the catalog nor a read model.
func (d *DB) checkLeaseTx(ctx context.Context, tx *sql.Tx) error {
	if d.owner == "" {
		return nil
	}
	var (
		owner, host string
		pid         int
	)
	err := tx.QueryRowContext(ctx, `SELECT owner, pid, host FROM _projection_lease WHERE id = 1`).Scan(&owner, &pid, &host)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: the read-model lease was taken over and released meanwhile", ErrFenced)
	case err != nil:
		return fmt.Errorf("projections: check lease: %w", err)
	case owner != d.owner:
		return fmt.Errorf("%w: runner %s (pid %d on %s) holds the read-model lease", ErrFenced, owner, pid, host)
	}
	return nil
}

// write runs fn in one transaction after checking the lease (checkLeaseTx).
func (d *DB) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := d.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("projections: %s: %w", what, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if err := d.checkLeaseTx(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if errors.Is(err, ErrFenced) {
			return err
		}
		return fmt.Errorf("projections: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections: %s: %w", what, err)
	}
	return nil
}

func (d *DB) loadBuilds(ctx context.Context, name string) ([]buildRow, error) {
	rows, err := d.w.QueryContext(ctx, `
		SELECT id, version, generation, role, state, position, request_id,
		       error_position, error_type, error_stream, error_text, error_at, created_at, live_at
		FROM _projection_builds WHERE name = ? ORDER BY id`, name)
	if err != nil {
		return nil, fmt.Errorf("projections: load builds of %s: %w", name, err)
	}
	defer rows.Close()
	var out []buildRow
	for rows.Next() {
		var (
			b                           buildRow
			role, state                 string
			pos                         int64
			req, errPos, errAt, liveAt  sql.NullInt64
			created                     int64
			errType, errStream, errText sql.NullString
		)
		if err := rows.Scan(&b.id, &b.version, &b.generation, &role, &state, &pos, &req,
			&errPos, &errType, &errStream, &errText, &errAt, &created, &liveAt); err != nil {
			return nil, fmt.Errorf("projections: load builds of %s: %w", name, err)
		}
		b.role, b.state, b.position, b.requestID = Role(role), State(state), events.Position(pos), req.Int64
		b.createdAt, b.liveAt = time.UnixMilli(created).UTC(), fromMS(liveAt)
		if errPos.Valid {
			b.lastErr = &ErrorInfo{Position: events.Position(errPos.Int64), Type: errType.String,
				StreamID: errStream.String, Message: errText.String, At: fromMS(errAt)}
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

type schemaObject struct{ kind, name string }

func schemaObjects(ctx context.Context, tx *sql.Tx) (map[schemaObject]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, name FROM sqlite_schema`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[schemaObject]bool{}
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.kind, &o.name); err != nil {
			return nil, err
		}
		out[o] = true
	}
	return out, rows.Err()
}

// dropPrefixed drops every table and view whose name starts with prefix
// (indexes and triggers go with their tables). Used for orphans of a build
// whose catalog row does not exist.
func dropPrefixed(ctx context.Context, tx *sql.Tx, prefix string) error {
	rows, err := tx.QueryContext(ctx,
		`SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') AND substr(name, 1, ?) = ?`,
		len(prefix), prefix)
	if err != nil {
		return err
	}
	var objs []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.kind, &o.name); err != nil {
			rows.Close()
			return err
		}
		objs = append(objs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range objs {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP %s IF EXISTS "%s"`, strings.ToUpper(o.kind), o.name)); err != nil {
			return err
		}
	}
	return nil
}

// createBuild registers a new build of p and runs its Setup, in one
// transaction: either the catalog row and all tables exist, or nothing.
func (d *DB) createBuild(ctx context.Context, p Projector, role Role, state State, requestID int64) (buildRow, error) {
	name, version := p.Name(), p.Version()
	tx, err := d.beginWrite(ctx)
	if err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", name, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if err := d.checkLeaseTx(ctx, tx); err != nil {
		return buildRow{}, err
	}
	var generation int
	if err := tx.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(generation) + 1, 0) FROM _projection_builds WHERE name = ? AND version = ?`,
		name, version).Scan(&generation); err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", name, err)
	}
	t := Tables{projection: name, version: version, generation: generation}
	if err := dropPrefixed(ctx, tx, t.Prefix()); err != nil {
		return buildRow{}, fmt.Errorf("projections: drop orphan tables of %s: %w", t, err)
	}
	now := d.now()
	var req any
	if requestID != 0 {
		req = requestID
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO _projection_builds (name, version, generation, role, state, request_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		name, version, generation, string(role), string(state), req, ms(now), ms(now))
	if err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", t, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", t, err)
	}
	before, err := schemaObjects(ctx, tx)
	if err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", t, err)
	}
	if err := p.Setup(ctx, tx, t); err != nil {
		return buildRow{}, fmt.Errorf("%w: %s: %w", ErrSetup, t, err)
	}
	after, err := schemaObjects(ctx, tx)
	if err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", t, err)
	}
	for o := range before {
		if !after[o] {
			return buildRow{}, fmt.Errorf("%w: %s: Setup removed %s %q", ErrSetup, t, o.kind, o.name)
		}
	}
	prefix := t.Prefix()
	for o := range after {
		if before[o] || strings.HasPrefix(o.name, "sqlite_") {
			continue
		}
		suffix, ok := strings.CutPrefix(o.name, prefix)
		if !ok {
			return buildRow{}, fmt.Errorf("%w: %s: Setup created %s %q outside its namespace %q (use Tables.Name)",
				ErrSetup, t, o.kind, o.name, prefix+"*")
		}
		if !tableSuffixPattern.MatchString(suffix) {
			return buildRow{}, fmt.Errorf("%w: %s: %s name %q: suffix must be 1-63 of a-z, 0-9, '_', starting with a letter",
				ErrSetup, t, o.kind, o.name)
		}
		if o.kind != "table" && o.kind != "view" {
			continue
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO _projection_tables (name, build_id, suffix, kind) VALUES (?, ?, ?, ?)`,
			o.name, id, suffix, o.kind); err != nil {
			return buildRow{}, fmt.Errorf("projections: record tables of %s: %w", t, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", t, err)
	}
	return buildRow{id: id, version: version, generation: generation, role: role, state: state,
		requestID: requestID, createdAt: now.UTC()}, nil
}

// dropBuildTx drops a build's tables and its catalog rows.
func dropBuildTx(ctx context.Context, tx *sql.Tx, id int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, kind FROM _projection_tables WHERE build_id = ? ORDER BY kind = 'table', name`, id)
	if err != nil {
		return err
	}
	var objs []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.name, &o.kind); err != nil {
			rows.Close()
			return err
		}
		objs = append(objs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range objs {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP %s IF EXISTS "%s"`, strings.ToUpper(o.kind), o.name)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM _projection_tables WHERE build_id = ?`, id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM _projection_builds WHERE id = ?`, id)
	return err
}

func (d *DB) dropBuild(ctx context.Context, id int64) error {
	return d.write(ctx, "drop build", func(tx *sql.Tx) error { return dropBuildTx(ctx, tx, id) })
}

// switchBehindError: the pending build has not reached the live build's
// checkpoint, so switching would lose writes that waiters already saw.
type switchBehindError struct{ pending, live events.Position }

func (e *switchBehindError) Error() string {
	return fmt.Sprintf("projections: pending build at position %d is behind the live build at %d", e.pending, e.live)
}

// buildPosition reads a build's checkpoint; ok is false when the build is gone.
func buildPosition(ctx context.Context, tx *sql.Tx, id int64) (pos events.Position, ok bool, err error) {
	var p int64
	err = tx.QueryRowContext(ctx, `SELECT position FROM _projection_builds WHERE id = ?`, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return events.Position(p), err == nil, err
}

// switchLive makes build newID the live build of its projection, drops the
// old live build (oldID, 0 for none) and finishes the rebuild request with
// result(position), all in one transaction, and returns the new live
// build's checkpoint. It refuses (*switchBehindError) while the new build's
// checkpoint is behind the old one's: read-your-writes must hold across the
// switch.
func (d *DB) switchLive(ctx context.Context, oldID, newID int64, requestID int64, result func(events.Position) string) (events.Position, error) {
	var pos events.Position
	err := d.write(ctx, "switch live build", func(tx *sql.Tx) error {
		var ok bool
		var err error
		if pos, ok, err = buildPosition(ctx, tx, newID); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: the pending build %d no longer exists in the catalog", ErrFenced, newID)
		}
		if oldID != 0 {
			livePos, ok, err := buildPosition(ctx, tx, oldID)
			if err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%w: the live build %d no longer exists in the catalog", ErrFenced, oldID)
			}
			if pos < livePos {
				return &switchBehindError{pending: pos, live: livePos}
			}
			if err := dropBuildTx(ctx, tx, oldID); err != nil {
				return err
			}
		}
		now := ms(d.now())
		if _, err := tx.ExecContext(ctx,
			`UPDATE _projection_builds SET role = 'live', state = ?, live_at = ?, updated_at = ?, request_id = NULL WHERE id = ?`,
			string(StateLive), now, now, newID); err != nil {
			return err
		}
		if requestID != 0 {
			return d.finishRequestTx(ctx, tx, requestID, true, result(pos))
		}
		return nil
	})
	return pos, err
}

// setState persists a build's state and, when failure is non-nil, its error.
func (d *DB) setState(ctx context.Context, id int64, state State, failure *ErrorInfo) error {
	now := ms(d.now())
	return d.write(ctx, "record state", func(tx *sql.Tx) error {
		if failure == nil {
			_, err := tx.ExecContext(ctx, `UPDATE _projection_builds SET state = ?, updated_at = ? WHERE id = ?`,
				string(state), now, id)
			return err
		}
		pos, err := posToDB(failure.Position)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE _projection_builds SET state = ?, error_position = ?, error_type = ?, error_stream = ?,
			       error_text = ?, error_at = ?, updated_at = ? WHERE id = ?`,
			string(state), pos, failure.Type, failure.StreamID, failure.Message, ms(failure.At), now, id)
		return err
	})
}

func (d *DB) finishRequestTx(ctx context.Context, tx *sql.Tx, id int64, ok bool, result string) error {
	now := ms(d.now())
	_, err := tx.ExecContext(ctx,
		`UPDATE _projection_requests SET done_at = ?, ok = ?, result = ?, taken_at = COALESCE(taken_at, ?) WHERE id = ?`,
		now, ok, result, now, id)
	if err != nil {
		return fmt.Errorf("projections: finish request %d: %w", id, err)
	}
	return nil
}

func (d *DB) finishRequest(ctx context.Context, id int64, ok bool, result string) error {
	if id == 0 {
		return nil
	}
	tx, err := d.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("projections: finish request %d: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if err := d.finishRequestTx(ctx, tx, id, ok, result); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *DB) takeRequests(ctx context.Context) ([]pendingRequest, error) {
	reqs, err := d.openRequests(ctx)
	if err != nil || len(reqs) == 0 {
		return nil, err
	}
	now := ms(d.now())
	err = d.write(ctx, "take requests", func(tx *sql.Tx) error {
		for _, r := range reqs {
			if _, err := tx.ExecContext(ctx, `UPDATE _projection_requests SET taken_at = ? WHERE id = ?`, now, r.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reqs, nil
}

// releaseUnfinishedRequests makes requests taken by a runner that died
// without finishing them visible again, except rebuilds whose pending build
// still exists (the new runner resumes that build and finishes them).
func (d *DB) releaseUnfinishedRequests(ctx context.Context) error {
	_, err := d.w.ExecContext(ctx, `
		UPDATE _projection_requests SET taken_at = NULL
		WHERE done_at IS NULL AND taken_at IS NOT NULL
		  AND id NOT IN (SELECT request_id FROM _projection_builds WHERE request_id IS NOT NULL)`)
	if err != nil {
		return fmt.Errorf("projections: release requests: %w", err)
	}
	return nil
}

// lease handling

func (d *DB) acquireLease(ctx context.Context, l Lease, ttl time.Duration) error {
	tx, err := d.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("projections: acquire lease: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	var (
		cur       Lease
		started   int64
		heartbeat int64
	)
	err = tx.QueryRowContext(ctx, `SELECT owner, pid, host, started_at, heartbeat_at FROM _projection_lease WHERE id = 1`).
		Scan(&cur.Owner, &cur.PID, &cur.Host, &started, &heartbeat)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("projections: acquire lease: %w", err)
	default:
		cur.StartedAt, cur.Heartbeat = time.UnixMilli(started).UTC(), time.UnixMilli(heartbeat).UTC()
		sameHostDead := cur.Host == l.Host && processGone(cur.PID)
		if age := d.now().Sub(cur.Heartbeat); cur.Owner != l.Owner && age <= ttl && !sameHostDead {
			return &ActiveRunnerError{Lease: cur, Age: age}
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO _projection_lease (id, owner, pid, host, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
		    started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
		l.Owner, l.PID, l.Host, ms(l.StartedAt), ms(d.now())); err != nil {
		return fmt.Errorf("projections: acquire lease: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections: acquire lease: %w", err)
	}
	return nil
}

// renewLease refreshes the heartbeat; it reports false when another runner
// took the lease over.
func (d *DB) renewLease(ctx context.Context, owner string) (bool, error) {
	res, err := d.w.ExecContext(ctx, `UPDATE _projection_lease SET heartbeat_at = ? WHERE id = 1 AND owner = ?`,
		ms(d.now()), owner)
	if err != nil {
		return false, fmt.Errorf("projections: renew lease: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (d *DB) releaseLease(ctx context.Context, owner string) error {
	if _, err := d.w.ExecContext(ctx, `DELETE FROM _projection_lease WHERE id = 1 AND owner = ?`, owner); err != nil {
		return fmt.Errorf("projections: release lease: %w", err)
	}
	return nil
}

// statusUpdate is what the runner persists about a build every tick. It
// carries no position: only the worker's batch transaction writes a
// checkpoint.
type statusUpdate struct {
	id         int64
	head       events.Position
	lagEvents  uint64
	lagSeconds float64
	rate       float64
}

func (d *DB) persistStatus(ctx context.Context, ups []statusUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	now := ms(d.now())
	return d.write(ctx, "persist status", func(tx *sql.Tx) error {
		for _, u := range ups {
			head, err := posToDB(u.head)
			if err != nil {
				return err
			}
			lag := int64(min(u.lagEvents, math.MaxInt64))
			if _, err := tx.ExecContext(ctx, `
				UPDATE _projection_builds SET head = ?, lag_events = ?, lag_seconds = ?, rate = ?, updated_at = ?
				WHERE id = ?`,
				head, lag, u.lagSeconds, u.rate, now, u.id); err != nil {
				return err
			}
		}
		return nil
	})
}
