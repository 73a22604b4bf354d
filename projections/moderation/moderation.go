package moderation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/moderation"
	"github.com/hanse-network/hanse/projections"
)

// Version is the current version of the projection's tables.
const Version = 1

// Projector builds the moderation read model.
type Projector struct {
	reg *events.Registry
}

// New returns the moderation projector.
func New() *Projector {
	reg := events.NewRegistry()
	moderation.Register(reg)
	return &Projector{reg: reg}
}

var _ projections.Projector = (*Projector)(nil)

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector: the moderation.* events.
func (*Projector) Handles(eventType string) bool {
	switch eventType {
	case moderation.TypeDomainBlocked, moderation.TypeDomainUnblocked, moderation.TypeAllowlistModeSet,
		moderation.TypeDomainAllowed, moderation.TypeDomainDisallowed, moderation.TypeReportReceived,
		moderation.TypeReportResolved, moderation.TypeActorBlockedUs, moderation.TypeActorUnblockedUs:
		return true
	}
	return false
}

// Setup implements projections.Projector.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			domain          TEXT    NOT NULL PRIMARY KEY,
			severity        TEXT    NOT NULL,
			public_comment  TEXT    NOT NULL,
			private_comment TEXT    NOT NULL,
			blocked_at      TEXT    NOT NULL,
			position        INTEGER NOT NULL
		) WITHOUT ROWID;
		CREATE TABLE %[2]s (
			domain     TEXT    NOT NULL PRIMARY KEY,
			allowed_at TEXT    NOT NULL,
			position   INTEGER NOT NULL
		) WITHOUT ROWID;
		CREATE TABLE %[3]s (
			name  TEXT    NOT NULL PRIMARY KEY,
			value INTEGER NOT NULL
		) WITHOUT ROWID;
		CREATE TABLE %[4]s (
			report_id        TEXT    NOT NULL PRIMARY KEY,
			reporter_iri     TEXT    NOT NULL,
			targets          TEXT    NOT NULL,
			content          TEXT    NOT NULL,
			flag_activity_id TEXT    NOT NULL,
			received_at      TEXT    NOT NULL,
			position         INTEGER NOT NULL,
			resolved         INTEGER NOT NULL,
			resolved_by      TEXT    NOT NULL,
			resolved_note    TEXT    NOT NULL,
			resolved_at      TEXT    NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[5]s ON %[4]s (resolved, position);
		CREATE INDEX %[6]s ON %[4]s (position);
		CREATE TABLE %[7]s (
			stream            TEXT    NOT NULL PRIMARY KEY,
			remote_iri        TEXT    NOT NULL,
			local_actor_id    TEXT    NOT NULL,
			local_actor_iri   TEXT    NOT NULL,
			block_activity_id TEXT    NOT NULL,
			blocked_at        TEXT    NOT NULL,
			position          INTEGER NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[8]s ON %[7]s (local_actor_id, position);`,
		t.Name("domain_blocks"), t.Name("allowed_domains"), t.Name("settings"),
		t.Name("reports"), t.Name("reports_state"), t.Name("reports_position"),
		t.Name("actor_blocks"), t.Name("actor_blocks_local")))
	return err
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		if err := p.apply(ctx, tx, t, e, payload); err != nil {
			return fmt.Errorf("moderation: %s at position %d: %w", e.Type, e.Position, err)
		}
	}
	return nil
}

func (p *Projector) apply(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, payload any) error {
	at, pos := projections.FormatTime(projections.OccurredAt(e)), int64(e.Position)
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	switch ev := payload.(type) {
	case *moderation.DomainBlocked:
		return exec(fmt.Sprintf(`INSERT INTO %s (domain, severity, public_comment, private_comment, blocked_at, position)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (domain) DO UPDATE SET severity = excluded.severity, public_comment = excluded.public_comment,
				private_comment = excluded.private_comment, blocked_at = excluded.blocked_at, position = excluded.position`,
			t.Name("domain_blocks")), ev.Domain, string(ev.Severity), ev.PublicComment, ev.PrivateComment, at, pos)
	case *moderation.DomainUnblocked:
		return exec(fmt.Sprintf(`DELETE FROM %s WHERE domain = ?`, t.Name("domain_blocks")), ev.Domain)
	case *moderation.DomainAllowed:
		return exec(fmt.Sprintf(`INSERT INTO %s (domain, allowed_at, position) VALUES (?, ?, ?)
			ON CONFLICT (domain) DO NOTHING`, t.Name("allowed_domains")), ev.Domain, at, pos)
	case *moderation.DomainDisallowed:
		return exec(fmt.Sprintf(`DELETE FROM %s WHERE domain = ?`, t.Name("allowed_domains")), ev.Domain)
	case *moderation.AllowlistModeSet:
		v := 0
		if ev.Enabled {
			v = 1
		}
		return exec(fmt.Sprintf(`INSERT INTO %s (name, value) VALUES ('allowlist_mode', ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, t.Name("settings")), v)
	case *moderation.ReportReceived:
		targets, err := json.Marshal(ev.TargetIRIs)
		if err != nil {
			return err
		}
		return exec(fmt.Sprintf(`INSERT INTO %s (report_id, reporter_iri, targets, content, flag_activity_id, received_at,
				position, resolved, resolved_by, resolved_note, resolved_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', '', '')
			ON CONFLICT (report_id) DO NOTHING`, t.Name("reports")),
			ev.ReportID, ev.ReporterIRI, string(targets), ev.Content, ev.FlagActivityID, projections.FormatTime(ev.ReceivedAt), pos)
	case *moderation.ReportResolved:
		id, ok := strings.CutPrefix(e.StreamID, moderation.ReportStream(""))
		if !ok {
			return fmt.Errorf("on stream %s, not a report stream", e.StreamID)
		}
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET resolved = 1, resolved_by = ?, resolved_note = ?, resolved_at = ?
			WHERE report_id = ?`, t.Name("reports")), ev.By, ev.Note, at, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("report %s has no %s before it (%v)", id, moderation.TypeReportReceived, err)
		}
		return nil
	case *moderation.ActorBlockedUs:
		return exec(fmt.Sprintf(`INSERT INTO %s (stream, remote_iri, local_actor_id, local_actor_iri, block_activity_id, blocked_at, position)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (stream) DO UPDATE SET block_activity_id = excluded.block_activity_id,
				blocked_at = excluded.blocked_at, position = excluded.position`, t.Name("actor_blocks")),
			e.StreamID, ev.RemoteActorIRI, ev.LocalActorID, ev.LocalActorIRI, ev.BlockActivityID, at, pos)
	case *moderation.ActorUnblockedUs:
		return exec(fmt.Sprintf(`DELETE FROM %s WHERE stream = ?`, t.Name("actor_blocks")), e.StreamID)
	}
	return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

func (r *reader) read(ctx context.Context, fn func(tx *sql.Tx, t projections.Tables) error) error {
	return projections.ReadLive(ctx, r.db, Name, fn)
}

// parseTime reads a stored time, giving the zero time for "" and for text
// that does not parse.
func parseTime(s string) time.Time {
	t, _ := projections.ParseTime(s)
	return t
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func (r *reader) Policy(ctx context.Context, host string) (moderation.Decision, error) {
	cands := moderation.Candidates(host)
	rules := moderation.Rules{Blocks: map[string]moderation.Block{}, Allowed: map[string]bool{}}
	err := r.read(ctx, func(tx *sql.Tx, t projections.Tables) error {
		var mode int
		err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT value FROM %s WHERE name = 'allowlist_mode'`, t.Name("settings"))).Scan(&mode)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rules.AllowlistMode = mode == 1
		if len(cands) == 0 {
			return nil
		}
		args := make([]any, len(cands))
		for i, c := range cands {
			args[i] = c
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT domain, severity FROM %s WHERE domain IN (%s)`,
			t.Name("domain_blocks"), placeholders(len(cands))), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d, s string
			if err := rows.Scan(&d, &s); err != nil {
				rows.Close()
				return err
			}
			rules.Blocks[d] = moderation.Block{Severity: moderation.Severity(s)}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if !rules.AllowlistMode {
			return nil
		}
		rows, err = tx.QueryContext(ctx, fmt.Sprintf(`SELECT domain FROM %s WHERE domain IN (%s)`,
			t.Name("allowed_domains"), placeholders(len(cands))), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				return err
			}
			rules.Allowed[d] = true
		}
		return rows.Err()
	})
	if err != nil {
		return "", err
	}
	return rules.Decide(host), nil
}

func (r *reader) AllowlistMode(ctx context.Context) (bool, error) {
	var mode int
	err := r.read(ctx, func(tx *sql.Tx, t projections.Tables) error {
		err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT value FROM %s WHERE name = 'allowlist_mode'`, t.Name("settings"))).Scan(&mode)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return mode == 1, err
}

func (r *reader) DomainBlocks(ctx context.Context) ([]DomainBlock, error) {
	out := []DomainBlock{}
	err := r.read(ctx, func(tx *sql.Tx, t projections.Tables) error {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT domain, severity, public_comment, private_comment, blocked_at, position
			FROM %s ORDER BY domain LIMIT ?`, t.Name("domain_blocks")), MaxList)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b DomainBlock
			var sev, at string
			var pos int64
			if err := rows.Scan(&b.Domain, &sev, &b.PublicComment, &b.PrivateComment, &at, &pos); err != nil {
				return err
			}
			b.Severity, b.BlockedAt, b.Position = moderation.Severity(sev), parseTime(at), events.Position(pos)
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}

func (r *reader) AllowedDomains(ctx context.Context) ([]AllowedDomain, error) {
	out := []AllowedDomain{}
	err := r.read(ctx, func(tx *sql.Tx, t projections.Tables) error {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT domain, allowed_at, position FROM %s ORDER BY domain LIMIT ?`,
			t.Name("allowed_domains")), MaxList)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a AllowedDomain
			var at string
			var pos int64
			if err := rows.Scan(&a.Domain, &at, &pos); err != nil {
				return err
			}
			a.AllowedAt, a.Position = parseTime(at), events.Position(pos)
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

const reportColumns = `report_id, reporter_iri, targets, content, flag_activity_id, received_at, position,
	resolved, resolved_by, resolved_note, resolved_at`

func scanReport(sc interface{ Scan(...any) error }) (Report, error) {
	var (
		rep                  Report
		targets, recv, resAt string
		pos                  int64
		resolved             int
	)
	if err := sc.Scan(&rep.ID, &rep.ReporterIRI, &targets, &rep.Content, &rep.FlagActivityID, &recv, &pos,
		&resolved, &rep.ResolvedBy, &rep.Note, &resAt); err != nil {
		return Report{}, err
	}
	if err := json.Unmarshal([]byte(targets), &rep.TargetIRIs); err != nil {
		return Report{}, fmt.Errorf("moderation: report %s targets: %w", rep.ID, err)
	}
	rep.ReceivedAt, rep.Position, rep.Resolved, rep.ResolvedAt = parseTime(recv), events.Position(pos), resolved == 1, parseTime(resAt)
	return rep, nil
}

func (r *reader) Reports(ctx context.Context, openOnly bool, cursor string, limit int) (ReportPage, error) {
	if limit < 1 || limit > MaxPageSize {
		return ReportPage{}, fmt.Errorf("moderation: limit %d, want 1..%d", limit, MaxPageSize)
	}
	before := int64(1) << 62
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != cursor {
			return ReportPage{}, fmt.Errorf("%w: %q", ErrBadCursor, cursor)
		}
		before = n
	}
	var items []Report
	err := r.read(ctx, func(tx *sql.Tx, t projections.Tables) error {
		q := `SELECT %s FROM %s WHERE position < ? ORDER BY position DESC LIMIT ?`
		if openOnly {
			q = `SELECT %s FROM %s WHERE resolved = 0 AND position < ? ORDER BY position DESC LIMIT ?`
		}
		reps, err := projections.QueryAll(ctx, tx, scanReport, fmt.Sprintf(q, reportColumns, t.Name("reports")), before, limit+1)
		items = append(items, reps...)
		return err
	})
	if err != nil {
		return ReportPage{}, err
	}
	p := ReportPage{Items: []Report{}}
	if len(items) > limit {
		items = items[:limit]
		p.Next = strconv.FormatInt(int64(items[limit-1].Position), 10)
	}
	p.Items = append(p.Items, items...)
	return p, nil
}

func (r *reader) Report(ctx context.Context, id string) (Report, error) {
	var rep Report
	err := r.read(ctx, func(tx *sql.Tx, t projections.Tables) error {
		var err error
		rep, err = scanReport(tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE report_id = ?`,
			reportColumns, t.Name("reports")), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: report %s", ErrNotFound, id)
		}
		return err
	})
	return rep, err
}

func (r *reader) ActorBlocks(ctx context.Context, localActorID string) ([]ActorBlock, error) {
	out := []ActorBlock{}
	err := r.read(ctx, func(tx *sql.Tx, t projections.Tables) error {
		q := fmt.Sprintf(`SELECT remote_iri, local_actor_id, local_actor_iri, block_activity_id, blocked_at, position
			FROM %s ORDER BY position DESC LIMIT ?`, t.Name("actor_blocks"))
		args := []any{MaxList}
		if localActorID != "" {
			q = fmt.Sprintf(`SELECT remote_iri, local_actor_id, local_actor_iri, block_activity_id, blocked_at, position
				FROM %s WHERE local_actor_id = ? ORDER BY position DESC LIMIT ?`, t.Name("actor_blocks"))
			args = []any{localActorID, MaxList}
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b ActorBlock
			var at string
			var pos int64
			if err := rows.Scan(&b.RemoteActorIRI, &b.LocalActorID, &b.LocalActorIRI, &b.BlockActivityID, &at, &pos); err != nil {
				return err
			}
			b.BlockedAt, b.Position = parseTime(at), events.Position(pos)
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}
