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
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return buildRow{}, fmt.Errorf("projections: create build of %s: %w", name, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
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
	now := time.Now()
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
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections: drop build: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if err := dropBuildTx(ctx, tx, id); err != nil {
		return fmt.Errorf("projections: drop build: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections: drop build: %w", err)
	}
	return nil
}

// switchLive makes build newID the live build of its projection, drops the
// old live build (oldID, 0 for none) and finishes the rebuild request, all in
// one transaction.
func (d *DB) switchLive(ctx context.Context, oldID, newID int64, requestID int64, result string) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections: switch live build: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if oldID != 0 {
		if err := dropBuildTx(ctx, tx, oldID); err != nil {
			return fmt.Errorf("projections: switch live build: %w", err)
		}
	}
	now := ms(time.Now())
	if _, err := tx.ExecContext(ctx,
		`UPDATE _projection_builds SET role = 'live', state = ?, live_at = ?, updated_at = ?, request_id = NULL WHERE id = ?`,
		string(StateLive), now, now, newID); err != nil {
		return fmt.Errorf("projections: switch live build: %w", err)
	}
	if requestID != 0 {
		if err := finishRequestTx(ctx, tx, requestID, true, result); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections: switch live build: %w", err)
	}
	return nil
}

// setState persists a build's state and, when failure is non-nil, its error.
func (d *DB) setState(ctx context.Context, id int64, state State, failure *ErrorInfo) error {
	now := ms(time.Now())
	var err error
	if failure != nil {
		var pos int64
		if pos, err = posToDB(failure.Position); err != nil {
			return err
		}
		_, err = d.w.ExecContext(ctx, `
			UPDATE _projection_builds SET state = ?, error_position = ?, error_type = ?, error_stream = ?,
			       error_text = ?, error_at = ?, updated_at = ? WHERE id = ?`,
			string(state), pos, failure.Type, failure.StreamID, failure.Message, ms(failure.At), now, id)
	} else {
		_, err = d.w.ExecContext(ctx, `UPDATE _projection_builds SET state = ?, updated_at = ? WHERE id = ?`,
			string(state), now, id)
	}
	if err != nil {
		return fmt.Errorf("projections: record state: %w", err)
	}
	return nil
}

func finishRequestTx(ctx context.Context, tx *sql.Tx, id int64, ok bool, result string) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE _projection_requests SET done_at = ?, ok = ?, result = ?, taken_at = COALESCE(taken_at, ?) WHERE id = ?`,
		ms(time.Now()), ok, result, ms(time.Now()), id)
	if err != nil {
		return fmt.Errorf("projections: finish request %d: %w", id, err)
	}
	return nil
}

func (d *DB) finishRequest(ctx context.Context, id int64, ok bool, result string) error {
	if id == 0 {
		return nil
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections: finish request %d: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if err := finishRequestTx(ctx, tx, id, ok, result); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *DB) takeRequests(ctx context.Context) ([]pendingRequest, error) {
	reqs, err := d.openRequests(ctx)
	if err != nil || len(reqs) == 0 {
		return nil, err
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projections: take requests: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	now := ms(time.Now())
	for _, r := range reqs {
		if _, err := tx.ExecContext(ctx, `UPDATE _projection_requests SET taken_at = ? WHERE id = ?`, now, r.id); err != nil {
			return nil, fmt.Errorf("projections: take requests: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("projections: take requests: %w", err)
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
	tx, err := d.w.BeginTx(ctx, nil)
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
		if cur.Owner != l.Owner && time.Since(cur.Heartbeat) <= ttl && !sameHostDead {
			return &ActiveRunnerError{Lease: cur}
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO _projection_lease (id, owner, pid, host, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
		    started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
		l.Owner, l.PID, l.Host, ms(l.StartedAt), ms(time.Now())); err != nil {
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
		ms(time.Now()), owner)
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

// statusUpdate is what the runner persists about a build every tick.
type statusUpdate struct {
	id         int64
	position   events.Position
	head       events.Position
	lagEvents  uint64
	lagSeconds float64
	rate       float64
}

func (d *DB) persistStatus(ctx context.Context, ups []statusUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections: persist status: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	now := ms(time.Now())
	for _, u := range ups {
		pos, err := posToDB(u.position)
		if err != nil {
			return err
		}
		head, err := posToDB(u.head)
		if err != nil {
			return err
		}
		lag := int64(min(u.lagEvents, math.MaxInt64))
		if _, err := tx.ExecContext(ctx, `
			UPDATE _projection_builds SET position = MAX(position, ?), head = ?, lag_events = ?, lag_seconds = ?,
			       rate = ?, updated_at = ? WHERE id = ?`,
			pos, head, lag, u.lagSeconds, u.rate, now, u.id); err != nil {
			return fmt.Errorf("projections: persist status: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections: persist status: %w", err)
	}
	return nil
}
