package follows

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/projections"
)

// Version is the current version of the projection's tables.
const Version = 1

// Projector builds the follows read model from the five follow.* events.
// A relationship is keyed by its stream; follow.requested carries the
// pair, the later events only the stream.
//
// A follow.requested on an accepted relationship (a re-sent Follow, which
// the domain answers with a new Accept) keeps it accepted and its Since:
// the follower does not drop out of the collections for a moment.
type Projector struct {
	reg *events.Registry
}

// New returns the follows projector.
func New() *Projector {
	reg := events.NewRegistry()
	follow.Register(reg)
	return &Projector{reg: reg}
}

var _ projections.Projector = (*Projector)(nil)

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(eventType string) bool {
	switch eventType {
	case follow.TypeRequested, follow.TypeAccepted, follow.TypeRejected, follow.TypeUndone, follow.TypeRemoved:
		return true
	}
	return false
}

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			stream              TEXT    NOT NULL PRIMARY KEY,
			follower_iri        TEXT    NOT NULL,
			followee_iri        TEXT    NOT NULL,
			direction           TEXT    NOT NULL,
			local_actor_id      TEXT    NOT NULL,
			remote_iri          TEXT    NOT NULL,
			state               TEXT    NOT NULL,
			remote_inbox        TEXT    NOT NULL,
			remote_shared_inbox TEXT    NOT NULL,
			follow_activity_id  TEXT    NOT NULL,
			accept_activity_id  TEXT    NOT NULL,
			since               INTEGER NOT NULL,
			requested_position  INTEGER NOT NULL,
			updated_at          TEXT    NOT NULL
		) WITHOUT ROWID;
		CREATE UNIQUE INDEX %[2]s ON %[1]s (follower_iri, followee_iri);
		CREATE INDEX %[3]s ON %[1]s (local_actor_id, direction, state, since);
		CREATE INDEX %[4]s ON %[1]s (remote_iri);`,
		t.Name("relationships"), t.Name("relationships_pair"), t.Name("relationships_local"), t.Name("relationships_remote")))
	return err
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	table := t.Name("relationships")
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		at := projections.FormatTime(projections.OccurredAt(e))
		var res sql.Result
		switch ev := payload.(type) {
		case *follow.Requested:
			remoteIRI := ev.FollowerIRI
			if ev.Direction == follow.Outbound {
				remoteIRI = ev.FolloweeIRI
			}
			// A new request restarts an ended relationship; on an accepted
			// one (re-sent Follow) it only updates the ids and inboxes.
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				INSERT INTO %s (stream, follower_iri, followee_iri, direction, local_actor_id, remote_iri, state,
					remote_inbox, remote_shared_inbox, follow_activity_id, accept_activity_id, since, requested_position, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)
				ON CONFLICT (stream) DO UPDATE SET
					direction = excluded.direction, local_actor_id = excluded.local_actor_id,
					remote_inbox = excluded.remote_inbox, remote_shared_inbox = excluded.remote_shared_inbox,
					follow_activity_id = excluded.follow_activity_id, updated_at = excluded.updated_at,
					state = CASE WHEN state = 'accepted' THEN state ELSE excluded.state END,
					accept_activity_id = CASE WHEN state = 'accepted' THEN accept_activity_id ELSE '' END,
					since = CASE WHEN state = 'accepted' THEN since ELSE 0 END,
					requested_position = excluded.requested_position`, table),
				e.StreamID, ev.FollowerIRI, ev.FolloweeIRI, string(ev.Direction), ev.LocalActorID, remoteIRI,
				string(follow.StatusPending), ev.RemoteInbox, ev.RemoteSharedInbox, ev.FollowActivityID, int64(e.Position), at)
		case *follow.Accepted:
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				UPDATE %s SET accept_activity_id = ?, updated_at = ?,
					since = CASE WHEN state = 'accepted' THEN since ELSE ? END, state = 'accepted'
				WHERE stream = ?`, table), ev.AcceptActivityID, at, int64(e.Position), e.StreamID)
		case *follow.Rejected:
			res, err = p.end(ctx, tx, table, e, follow.StatusRejected, at)
		case *follow.Undone:
			res, err = p.end(ctx, tx, table, e, follow.StatusUndone, at)
		case *follow.Removed:
			res, err = p.end(ctx, tx, table, e, follow.StatusRemoved, at)
		default:
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		if err != nil {
			return fmt.Errorf("follows: %s at position %d: %w", e.Type, e.Position, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("follows: %s at position %d on stream %s, which has no %s before it", e.Type, e.Position, e.StreamID, follow.TypeRequested)
		}
	}
	return nil
}

func (*Projector) end(ctx context.Context, tx *sql.Tx, table string, e events.Envelope, s follow.Status, at string) (sql.Result, error) {
	return tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET state = ?, since = 0, updated_at = ? WHERE stream = ?`, table),
		string(s), at, e.StreamID)
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

const columns = `follower_iri, followee_iri, direction, local_actor_id, remote_iri, state, remote_inbox,
	remote_shared_inbox, follow_activity_id, accept_activity_id, since, updated_at`

func scan(sc interface{ Scan(...any) error }) (Relationship, error) {
	var (
		r                Relationship
		direction, state string
		since            int64
		updated          string
	)
	if err := sc.Scan(&r.FollowerIRI, &r.FolloweeIRI, &direction, &r.LocalActorID, &r.RemoteIRI, &state, &r.RemoteInbox,
		&r.RemoteSharedInbox, &r.FollowActivityID, &r.AcceptActivityID, &since, &updated); err != nil {
		return Relationship{}, err
	}
	r.Direction, r.State, r.Since = follow.Direction(direction), follow.Status(state), events.Position(since)
	var err error
	r.UpdatedAt, err = projections.ParseTime(updated)
	return r, err
}

func (r *reader) list(ctx context.Context, query string, args ...any) ([]Relationship, error) {
	var out []Relationship
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		rels, err := projections.QueryAll(ctx, tx, scan, fmt.Sprintf(query, columns, t.Name("relationships")), args...)
		out = append(out, rels...)
		return err
	})
	return out, err
}

// page lists accepted relationships of one direction, newest first. The
// cursor is the Since position of the last item of the previous page.
func (r *reader) page(ctx context.Context, localActorID string, d follow.Direction, cursor string, limit int) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		return Page{}, fmt.Errorf("follows: limit %d, want 1..%d", limit, MaxPageSize)
	}
	before := int64(1) << 62
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != cursor {
			return Page{}, fmt.Errorf("%w: %q", ErrBadCursor, cursor)
		}
		before = n
	}
	items, err := r.list(ctx, `SELECT %s FROM %s
		WHERE local_actor_id = ? AND direction = ? AND state = 'accepted' AND since < ?
		ORDER BY since DESC LIMIT ?`, localActorID, string(d), before, limit+1)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(items) > limit {
		items = items[:limit]
		p.Next = strconv.FormatInt(int64(items[limit-1].Since), 10)
	}
	p.Items = items
	return p, nil
}

func (r *reader) Followers(ctx context.Context, localActorID, cursor string, limit int) (Page, error) {
	return r.page(ctx, localActorID, follow.Inbound, cursor, limit)
}

func (r *reader) Following(ctx context.Context, localActorID, cursor string, limit int) (Page, error) {
	return r.page(ctx, localActorID, follow.Outbound, cursor, limit)
}

func (r *reader) Pending(ctx context.Context, localActorID string) ([]Relationship, error) {
	return r.list(ctx, `SELECT %s FROM %s
		WHERE local_actor_id = ? AND direction = 'inbound' AND state = 'pending'
		ORDER BY requested_position LIMIT ?`, localActorID, MaxPending)
}

func (r *reader) Counts(ctx context.Context, localActorID string) (Counts, error) {
	var c Counts
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT direction, state, count(*) FROM %s
			WHERE local_actor_id = ? AND state IN ('accepted', 'pending') GROUP BY direction, state`,
			t.Name("relationships")), localActorID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d, s string
			var n int
			if err := rows.Scan(&d, &s, &n); err != nil {
				return err
			}
			switch {
			case d == string(follow.Inbound) && s == string(follow.StatusAccepted):
				c.Followers = n
			case d == string(follow.Outbound) && s == string(follow.StatusAccepted):
				c.Following = n
			case d == string(follow.Inbound) && s == string(follow.StatusPending):
				c.Pending = n
			}
		}
		return rows.Err()
	})
	return c, err
}

func (r *reader) Relationship(ctx context.Context, followerIRI, followeeIRI string) (Relationship, error) {
	items, err := r.list(ctx, `SELECT %s FROM %s WHERE follower_iri = ? AND followee_iri = ?`, followerIRI, followeeIRI)
	if err != nil {
		return Relationship{}, err
	}
	if len(items) == 0 {
		return Relationship{}, fmt.Errorf("%w: %s → %s", ErrNotFound, followerIRI, followeeIRI)
	}
	return items[0], nil
}

func (r *reader) WithRemote(ctx context.Context, remoteIRI string) ([]Relationship, error) {
	return r.list(ctx, `SELECT %s FROM %s WHERE remote_iri = ? AND state IN ('pending', 'accepted')
		ORDER BY requested_position LIMIT ?`, remoteIRI, MaxWithRemote)
}
