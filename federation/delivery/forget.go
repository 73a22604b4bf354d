package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Forget names deliveries that carry an erased person's data.
type Forget struct {
	// ActorID is the local actor whose deliveries go (its key signs them).
	ActorID string
	// ActivityIDs are further activities to forget whoever sends them (a
	// Group's Announce of the person's post).
	ActivityIDs []string
	// ActivityPrefixes forgets every activity whose id starts with one of
	// them (a Group's Announces of the edits of a post).
	ActivityPrefixes []string
	// Keep lists activities that must still go out (the actor's own
	// Delete).
	Keep []string
}

// ForgetDeliveries drops the pending deliveries f names, except those of
// the activities in f.Keep, and the bodies of their activities (the
// finished deliveries, delivered or failed, stay in the log without one),
// so that an erased person's text neither goes out any more nor lingers in
// the delivery log. It returns the number of deliveries dropped. It is
// idempotent.
func ForgetDeliveries(ctx context.Context, tx *sql.Tx, f Forget) (int64, error) {
	keep := map[string]bool{}
	for _, id := range f.Keep {
		keep[id] = true
	}
	var dropped int64
	drop := func(where string, args ...any) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT activity_id FROM federation_deliveries WHERE `+where, args...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if !keep[id] {
				ids = append(ids, id)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `DELETE FROM federation_deliveries WHERE activity_id = ? AND state = 'pending'`, id)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			dropped += n
			if _, err := tx.ExecContext(ctx, `DELETE FROM federation_activities WHERE activity_id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	}
	if f.ActorID != "" {
		if err := drop(`actor_id = ?`, f.ActorID); err != nil {
			return 0, fmt.Errorf("delivery: forget the deliveries of %s: %w", f.ActorID, err)
		}
	}
	for _, id := range f.ActivityIDs {
		if err := drop(`activity_id = ?`, id); err != nil {
			return 0, fmt.Errorf("delivery: forget the deliveries of %s: %w", id, err)
		}
	}
	for _, prefix := range f.ActivityPrefixes {
		if prefix == "" {
			continue
		}
		if err := drop(`substr(activity_id, 1, length(?1)) = ?1`, prefix); err != nil {
			return 0, fmt.Errorf("delivery: forget the deliveries of %s…: %w", prefix, err)
		}
	}
	return dropped, nil
}

// EnableRule records that the outbound rendering rule named rule is in
// force from at on, unless it was recorded before (the first time wins),
// and returns the recorded time. The outbound projector renders a rule
// that applies to events older than the rule itself only for events that
// occurred after it was enabled, so a new rule never federates history
// when a new projector version replays the log.
func EnableRule(ctx context.Context, tx *sql.Tx, rule string, at time.Time) (time.Time, error) {
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO federation_outbound_rules (rule, enabled_at) VALUES (?, ?)`,
		rule, at.UnixMilli()); err != nil {
		return time.Time{}, fmt.Errorf("delivery: enable rule %s: %w", rule, err)
	}
	var ms int64
	if err := tx.QueryRowContext(ctx, `SELECT enabled_at FROM federation_outbound_rules WHERE rule = ?`, rule).Scan(&ms); err != nil {
		return time.Time{}, fmt.Errorf("delivery: rule %s: %w", rule, err)
	}
	return time.UnixMilli(ms).UTC(), nil
}
