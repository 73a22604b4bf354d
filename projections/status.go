package projections

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/hanse-network/hanse/events"
)

// State is the health state of a build.
type State string

// States of a build.
const (
	// StateCatchingUp: the live build is behind the head of the log.
	StateCatchingUp State = "catching-up"
	// StateLive: the live build has caught up and follows new events.
	StateLive State = "live"
	// StateRebuilding: a pending build is being built beside the live one.
	StateRebuilding State = "rebuilding"
	// StateFailed: the build stopped on an event and waits for a retry.
	StateFailed State = "failed"
	// StateFrozen: the live build's version is no longer registered; it keeps
	// serving its last state until the pending build replaces it.
	StateFrozen State = "frozen"
	// StateStopped: no runner is feeding the build (the runner was closed).
	StateStopped State = "stopped"
	// StateFenced (reported by Runner.Status only): another runner took over
	// the read-model database, so this runner stopped feeding the build;
	// LastError says why. It resumes from the catalog once it holds the
	// lease again.
	StateFenced State = "fenced"
)

// Role tells whether a build is the one queries read.
type Role string

// Roles of a build.
const (
	// RoleLive: queries read this build.
	RoleLive Role = "live"
	// RolePending: the build is being built and replaces the live one once
	// it has caught up.
	RolePending Role = "pending"
)

// ErrorInfo describes the event a build failed on or, in state fenced, why
// the runner stopped feeding it (Position is then the build's checkpoint).
type ErrorInfo struct {
	Position events.Position `json:"position"`
	Type     string          `json:"type"`
	StreamID string          `json:"stream"`
	Message  string          `json:"message"`
	At       time.Time       `json:"at"`
}

// Status is the health of one build of a projection.
type Status struct {
	// ID identifies the build in the catalog; ids are never reused.
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Version    int             `json:"version"`
	Generation int             `json:"generation"`
	Role       Role            `json:"role"`
	State      State           `json:"state"`
	Position   events.Position `json:"position"`
	Head       events.Position `json:"head"`
	// LagEvents is Head - Position: a count of events for the embedded store
	// (dense positions), a distance in log positions for EventStoreDB.
	LagEvents uint64 `json:"lag_events"`
	// LagSeconds is how long ago the oldest event not yet applied was
	// recorded (0 when caught up).
	LagSeconds float64 `json:"lag_seconds"`
	// Rate is the number of events processed per second recently.
	Rate      float64    `json:"rate"`
	LastError *ErrorInfo `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	LiveAt    time.Time  `json:"live_at,omitzero"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Statuses reads the health of every build recorded in the catalog of the
// read-model database, ordered by name and role (live first). It works from
// any process; the figures are as fresh as the running runner's last update
// (about a second), see Lease.
func Statuses(ctx context.Context, db *sql.DB) ([]Status, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT id, name, version, generation, role, state, position, head, lag_events, lag_seconds, rate,
		       error_position, error_type, error_stream, error_text, error_at, created_at, live_at, updated_at
		FROM _projection_builds ORDER BY name, role = 'pending', id`)
	if err != nil {
		return nil, fmt.Errorf("projections: read catalog: %w", err)
	}
	defer rows.Close()
	var out []Status
	for rows.Next() {
		var (
			s                           Status
			role, state                 string
			pos, head, lag              int64
			errPos, errAt, created, upd sql.NullInt64
			liveAt                      sql.NullInt64
			errType, errStream, errText sql.NullString
		)
		if err := rows.Scan(&s.ID, &s.Name, &s.Version, &s.Generation, &role, &state, &pos, &head, &lag,
			&s.LagSeconds, &s.Rate, &errPos, &errType, &errStream, &errText, &errAt, &created, &liveAt, &upd); err != nil {
			return nil, fmt.Errorf("projections: read catalog: %w", err)
		}
		s.Role, s.State = Role(role), State(state)
		s.Position, s.Head, s.LagEvents = events.Position(pos), events.Position(head), uint64(lag)
		s.CreatedAt, s.LiveAt, s.UpdatedAt = fromMS(created), fromMS(liveAt), fromMS(upd)
		if errPos.Valid {
			s.LastError = &ErrorInfo{
				Position: events.Position(errPos.Int64), Type: errType.String, StreamID: errStream.String,
				Message: errText.String, At: fromMS(errAt),
			}
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: read catalog: %w", err)
	}
	return out, nil
}

// Lease is the claim a running runner holds on a read-model database. The
// runner renews it about once a second; a lease whose heartbeat is older
// than the lease TTL belongs to a dead process and can be taken over.
type Lease struct {
	Owner     string    `json:"owner"`
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	StartedAt time.Time `json:"started_at"`
	Heartbeat time.Time `json:"heartbeat"`
}

// DefaultLeaseTTL is how old a lease heartbeat may be before the lease
// counts as abandoned.
const DefaultLeaseTTL = 5 * time.Second

// ActiveLease returns the lease of the runner active on the database, and
// false when no runner renewed its lease within ttl (0: DefaultLeaseTTL).
func ActiveLease(ctx context.Context, db *sql.DB, ttl time.Duration) (Lease, bool, error) {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	var (
		l         Lease
		started   sql.NullInt64
		heartbeat sql.NullInt64
	)
	err := db.QueryRowContext(ctx,
		`SELECT owner, pid, host, started_at, heartbeat_at FROM _projection_lease WHERE id = 1`).
		Scan(&l.Owner, &l.PID, &l.Host, &started, &heartbeat)
	if err == sql.ErrNoRows {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("projections: read lease: %w", err)
	}
	l.StartedAt, l.Heartbeat = fromMS(started), fromMS(heartbeat)
	host, _ := os.Hostname()
	if time.Since(l.Heartbeat) > ttl || l.Host == host && processGone(l.PID) {
		return l, false, nil
	}
	return l, true, nil
}
