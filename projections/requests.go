package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RequestKind is what another process asks the running runner to do.
type RequestKind string

// Request kinds.
const (
	// RequestRetry resumes a failed projection at the event it failed on.
	RequestRetry RequestKind = "retry"
	// RequestRebuild builds the projection again from position 0 beside the
	// live build and switches over once it has caught up.
	RequestRebuild RequestKind = "rebuild"
)

// Request is a cross-process request recorded in the read-model database.
// The runner that holds the lease polls new requests about once a second,
// acts on them, and records the outcome.
type Request struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Kind        RequestKind `json:"kind"`
	RequestedAt time.Time   `json:"requested_at"`
	// Done is set once the runner has finished with the request: a retry is
	// done once the projection got past the failing event (or failed again),
	// a rebuild once the new build is live (or failed).
	Done   bool      `json:"done"`
	DoneAt time.Time `json:"done_at,omitzero"`
	// OK reports success; Result says what happened.
	OK     bool   `json:"ok"`
	Result string `json:"result,omitempty"`
}

// SubmitRequest records a request for the runner active on the database and
// returns its id. Use ActiveLease first: without an active runner, nobody
// acts on the request until a runner starts.
func (d *DB) SubmitRequest(ctx context.Context, kind RequestKind, name string) (int64, error) {
	if kind != RequestRetry && kind != RequestRebuild {
		return 0, fmt.Errorf("projections: unknown request kind %q", kind)
	}
	if err := ValidateName(name); err != nil {
		return 0, err
	}
	res, err := d.w.ExecContext(ctx,
		`INSERT INTO _projection_requests (name, kind, requested_at) VALUES (?, ?, ?)`,
		name, string(kind), ms(d.now()))
	if err != nil {
		return 0, fmt.Errorf("projections: submit %s request: %w", kind, err)
	}
	return res.LastInsertId()
}

// GetRequest reads a request and its outcome.
func GetRequest(ctx context.Context, db *sql.DB, id int64) (Request, error) {
	var (
		r         Request
		kind      string
		requested int64
		doneAt    sql.NullInt64
		ok        sql.NullBool
		result    sql.NullString
	)
	err := db.QueryRowContext(ctx,
		`SELECT id, name, kind, requested_at, done_at, ok, result FROM _projection_requests WHERE id = ?`, id).
		Scan(&r.ID, &r.Name, &kind, &requested, &doneAt, &ok, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, fmt.Errorf("projections: no request %d", id)
	}
	if err != nil {
		return Request{}, fmt.Errorf("projections: read request %d: %w", id, err)
	}
	r.Kind = RequestKind(kind)
	r.RequestedAt = time.UnixMilli(requested).UTC()
	r.Done, r.DoneAt = doneAt.Valid, fromMS(doneAt)
	r.OK, r.Result = ok.Bool, result.String
	return r, nil
}

type pendingRequest struct {
	id   int64
	name string
	kind RequestKind
}

func (d *DB) openRequests(ctx context.Context) ([]pendingRequest, error) {
	rows, err := d.w.QueryContext(ctx,
		`SELECT id, name, kind FROM _projection_requests WHERE taken_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("projections: poll requests: %w", err)
	}
	defer rows.Close()
	var out []pendingRequest
	for rows.Next() {
		var p pendingRequest
		var kind string
		if err := rows.Scan(&p.id, &p.name, &kind); err != nil {
			return nil, fmt.Errorf("projections: poll requests: %w", err)
		}
		p.kind = RequestKind(kind)
		out = append(out, p)
	}
	return out, rows.Err()
}
