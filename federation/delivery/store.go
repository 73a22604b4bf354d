package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hanse-network/hanse/projections"
)

// Table names. They do not start with a projector's prefix: the runner
// never versions, rebuilds or drops them.
const (
	// Table holds one row per (activity, inbox).
	Table = "federation_deliveries"
	// ActivitiesTable holds the body of each activity, once, for all its
	// deliveries.
	ActivitiesTable = "federation_activities"
	// HostsTable holds the circuit-breaker state of each remote host.
	HostsTable = "federation_delivery_hosts"
	// RulesTable records when each outbound rendering rule was first
	// enabled (see EnableRule).
	RulesTable = "federation_outbound_rules"
)

// schema creates the delivery tables; every statement is idempotent.
const schema = `
CREATE TABLE IF NOT EXISTS federation_deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	activity_id     TEXT    NOT NULL,
	activity_type   TEXT    NOT NULL,
	inbox           TEXT    NOT NULL,
	host            TEXT    NOT NULL,
	actor_id        TEXT    NOT NULL, -- the local actor whose key signs
	event_position  INTEGER NOT NULL, -- the event that caused the delivery
	state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_status     INTEGER,
	last_error      TEXT,
	created_at      INTEGER NOT NULL, -- unix ms
	next_attempt_at INTEGER NOT NULL, -- unix ms; due when <= now
	last_attempt_at INTEGER,
	done_at         INTEGER,
	target          TEXT    NOT NULL DEFAULT 'inbox' CHECK (target IN ('inbox', 'actor')), -- what inbox names
	resolved_inbox  TEXT,             -- for target 'actor': the inbox it was resolved to
	UNIQUE (activity_id, inbox)
);
CREATE INDEX IF NOT EXISTS federation_deliveries_due ON federation_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS federation_deliveries_state_host ON federation_deliveries (state, host, id);
CREATE TABLE IF NOT EXISTS federation_activities (
	id          INTEGER PRIMARY KEY,
	activity_id TEXT    NOT NULL UNIQUE,
	body        BLOB    NOT NULL -- the exact bytes POSTed on every attempt of every delivery
);
CREATE TABLE IF NOT EXISTS federation_delivery_hosts (
	host                 TEXT    NOT NULL PRIMARY KEY,
	circuit              TEXT    NOT NULL CHECK (circuit IN ('closed', 'open', 'half-open')),
	consecutive_failures INTEGER NOT NULL,
	opens                INTEGER NOT NULL, -- times opened since the last success
	open_until           INTEGER,          -- unix ms
	last_error           TEXT,
	updated_at           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS federation_outbound_rules (
	rule       TEXT    NOT NULL PRIMARY KEY,
	enabled_at INTEGER NOT NULL -- unix ms
) WITHOUT ROWID;
`

// migrations add the columns of later versions to a table created by an
// earlier one (CREATE TABLE IF NOT EXISTS leaves it as it was).
var migrations = []struct{ table, column, ddl string }{
	{Table, "target", `ALTER TABLE federation_deliveries ADD COLUMN target TEXT NOT NULL DEFAULT 'inbox' CHECK (target IN ('inbox', 'actor'))`},
	{Table, "resolved_inbox", `ALTER TABLE federation_deliveries ADD COLUMN resolved_inbox TEXT`},
}

// CreateTables creates the delivery tables in tx unless they exist.
func CreateTables(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("delivery: create tables: %w", err)
	}
	for _, m := range migrations {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, m.table, m.column).
			Scan(&n); err != nil {
			return fmt.Errorf("delivery: inspect %s: %w", m.table, err)
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, m.ddl); err != nil {
				return fmt.Errorf("delivery: add %s.%s: %w", m.table, m.column, err)
			}
		}
	}
	return moveBodies(ctx, tx)
}

// moveBodies migrates a deliveries table of a version that stored the
// body with every delivery: each activity's body (from its latest
// delivery, none for an activity whose bodies were blanked) moves to
// federation_activities, and the column goes.
func moveBodies(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = 'body'`, Table).
		Scan(&n); err != nil {
		return fmt.Errorf("delivery: inspect %s: %w", Table, err)
	}
	if n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT OR IGNORE INTO federation_activities (activity_id, body)
		SELECT activity_id, body FROM federation_deliveries WHERE id IN (
			SELECT max(id) FROM federation_deliveries WHERE length(body) > 0 GROUP BY activity_id)
		ORDER BY id`); err != nil {
		return fmt.Errorf("delivery: move the activity bodies: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE federation_deliveries DROP COLUMN body`); err != nil {
		return fmt.Errorf("delivery: drop %s.body: %w", Table, err)
	}
	return nil
}

// EnsureSchema creates the delivery tables in the read-model database
// unless they exist. Call it after projections.New and before the runner
// starts: the runner refuses a Setup that creates tables outside the
// projector's namespace, so the outbound projector's Setup only finds them.
func EnsureSchema(ctx context.Context, db *projections.DB) error {
	return db.Write(ctx, func(tx *sql.Tx) error { return CreateTables(ctx, tx) })
}

// TablesExist reports whether the delivery tables exist, in their current
// shape (in tx).
func TablesExist(ctx context.Context, tx *sql.Tx) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN (?, ?, ?, ?)`,
		Table, ActivitiesTable, HostsTable, RulesTable).Scan(&n)
	if err != nil || n != 4 {
		return false, err
	}
	var target, body int
	err = tx.QueryRowContext(ctx, `SELECT coalesce(sum(name = 'target'), 0), coalesce(sum(name = 'body'), 0)
		FROM pragma_table_info(?)`, Table).Scan(&target, &body)
	return target == 1 && body == 0, err
}

// State is the state of a delivery.
type State string

// Delivery states.
const (
	Pending   State = "pending"
	Delivered State = "delivered"
	Failed    State = "failed"
)

// ValidState reports whether s is one of the three states.
func ValidState(s State) bool { return s == Pending || s == Delivered || s == Failed }

// Target says what a delivery's Inbox names.
type Target string

// Delivery targets.
const (
	// TargetInbox: Inbox is the inbox URL to POST to (known followers).
	TargetInbox Target = "inbox"
	// TargetActor: Inbox is a remote actor's IRI, whose inbox the workers
	// resolve when they deliver (its shared inbox preferred), through
	// Options.Actors. Used where the projector cannot know the inbox: a
	// mentioned person, a parent post's author, a liked post's author. An
	// actor that cannot be resolved (gone, not found, no inbox) fails the
	// delivery permanently.
	TargetActor Target = "actor"
)

// Record is a delivery to create: activity Body (rendered once, sent
// byte for byte on every attempt) to Inbox, signed by local actor ActorID.
// InsertActivity records many deliveries of one activity at once.
type Record struct {
	ActivityID   string
	ActivityType string
	Inbox        string
	// Target says what Inbox names; "" is TargetInbox.
	Target        Target
	ActorID       string
	Body          []byte
	EventPosition uint64
	CreatedAt     time.Time
}

// Activity is a rendered activity to deliver: what all its deliveries
// share.
type Activity struct {
	// ID is the activity's id; Type its type (a Delete is signed with the
	// farewell signer when its actor is deleted).
	ID, Type string
	// ActorID is the local actor whose key signs.
	ActorID string
	// Body is the activity JSON, sent byte for byte on every attempt.
	Body []byte
	// EventPosition is the event that caused the deliveries.
	EventPosition uint64
	CreatedAt     time.Time
}

// Recipient is where a delivery goes.
type Recipient struct {
	// Inbox is an inbox URL, or an actor IRI for TargetActor.
	Inbox string
	// Target says what Inbox names; "" is TargetInbox.
	Target Target
}

// HostOf returns the lower-case host (with port) of an inbox URL.
func HostOf(inbox string) (string, error) {
	u, err := url.Parse(inbox)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("delivery: invalid inbox URL %q", inbox)
	}
	return strings.ToLower(u.Host), nil
}

// Insert adds r unless a delivery of the same activity to the same inbox
// exists (INSERT OR IGNORE on the unique key), and reports whether it was
// added. The row is due at once. It is InsertActivity with one recipient.
func Insert(ctx context.Context, tx *sql.Tx, r Record) (bool, error) {
	n, err := InsertActivity(ctx, tx, Activity{ID: r.ActivityID, Type: r.ActivityType, ActorID: r.ActorID, Body: r.Body,
		EventPosition: r.EventPosition, CreatedAt: r.CreatedAt}, []Recipient{{Inbox: r.Inbox, Target: r.Target}})
	return n == 1, err
}

// InsertActivity records one delivery of a to each recipient, due at
// once and numbered in the order of to, skipping recipients the activity
// already goes to (INSERT OR IGNORE on the unique (activity, inbox) key, so
// replays add nothing), and returns the number of deliveries added. The
// body is stored once per activity, in federation_activities, when a
// delivery is added: an activity stored before keeps its first body, so
// all its deliveries send the same bytes (one forgotten by
// ForgetDeliveries gets a body again only with a new delivery). Every
// recipient is checked before anything is written.
//
// The recipients go to SQLite as one JSON array, read by json_each: one
// short statement, whatever their number (the pure-Go driver parses each
// statement's text again and binds parameters in quadratic time).
func InsertActivity(ctx context.Context, tx *sql.Tx, a Activity, to []Recipient) (int, error) {
	if len(to) == 0 {
		return 0, nil
	}
	rows := make([][3]string, len(to))
	for i, r := range to {
		host, err := HostOf(r.Inbox)
		if err == nil && !utf8.ValidString(r.Inbox) { // JSON would not carry it unchanged
			err = fmt.Errorf("delivery: invalid inbox URL %q", r.Inbox)
		}
		if err != nil {
			return 0, err
		}
		target := r.Target
		if target == "" {
			target = TargetInbox
		}
		if target != TargetInbox && target != TargetActor {
			return 0, fmt.Errorf("delivery: unknown target %q", target)
		}
		rows[i] = [3]string{r.Inbox, host, string(target)}
	}
	list, err := json.Marshal(rows)
	if err != nil {
		return 0, fmt.Errorf("delivery: insert deliveries of %s: %w", a.ID, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO federation_deliveries
		(activity_id, activity_type, actor_id, event_position, created_at, next_attempt_at, inbox, host, target)
		SELECT ?, ?, ?, ?, ?, 0, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`,
		a.ID, a.Type, a.ActorID, int64(a.EventPosition), a.CreatedAt.UnixMilli(), list)
	if err != nil {
		return 0, fmt.Errorf("delivery: insert deliveries of %s: %w", a.ID, err)
	}
	added, err := res.RowsAffected()
	if err != nil || added == 0 {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO federation_activities (activity_id, body) VALUES (?, ?)`,
		a.ID, a.Body); err != nil {
		return 0, fmt.Errorf("delivery: store the body of %s: %w", a.ID, err)
	}
	return int(added), nil
}

// Delivery is one stored delivery with its attempts so far.
type Delivery struct {
	ID           int64  `json:"id"`
	ActivityID   string `json:"activity_id"`
	ActivityType string `json:"activity_type"`
	Inbox        string `json:"inbox"`
	Host         string `json:"host"`
	ActorID      string `json:"actor_id"`
	// Target says what Inbox names (an inbox, or an actor to resolve);
	// ResolvedInbox is the inbox an actor target was last resolved to.
	Target        Target    `json:"target"`
	ResolvedInbox string    `json:"resolved_inbox,omitempty"`
	EventPosition uint64    `json:"event_position"`
	State         State     `json:"state"`
	Attempts      int       `json:"attempts"`
	LastStatus    int       `json:"last_status,omitempty"`
	LastError     string    `json:"last_error,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	DoneAt        time.Time `json:"done_at,omitzero"`
	// Body is the activity JSON; List leaves it empty.
	Body []byte `json:"-"`
}

// Filter selects deliveries for List.
type Filter struct {
	// State, when set, keeps only deliveries in that state.
	State State
	// Host, when set, keeps only deliveries to that host.
	Host string
	// AfterID pages: only deliveries with a larger id.
	AfterID int64
	// Limit bounds the result (default 100, at most 1000).
	Limit int
}

// ErrInvalidFilter reports a Filter that cannot be used.
var ErrInvalidFilter = errors.New("delivery: invalid filter")

const columns = `id, activity_id, activity_type, inbox, host, actor_id, event_position, state, attempts,
	coalesce(last_status, 0), coalesce(last_error, ''), created_at, next_attempt_at, coalesce(last_attempt_at, 0),
	coalesce(done_at, 0), target, coalesce(resolved_inbox, '')`

func scanDelivery(sc interface{ Scan(...any) error }, withBody bool) (Delivery, error) {
	var d Delivery
	var created, next, last, done int64
	var pos int64
	dest := []any{&d.ID, &d.ActivityID, &d.ActivityType, &d.Inbox, &d.Host, &d.ActorID, &pos, &d.State, &d.Attempts,
		&d.LastStatus, &d.LastError, &created, &next, &last, &done, &d.Target, &d.ResolvedInbox}
	if withBody {
		dest = append(dest, &d.Body)
	}
	if err := sc.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	d.EventPosition = uint64(pos)
	d.CreatedAt, d.NextAttemptAt = msTime(created), msTime(next)
	d.LastAttemptAt, d.DoneAt = msTime(last), msTime(done)
	return d, nil
}

func msTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// List returns deliveries matching f in id order. db is the read-model
// reader pool (projections.DB.Reader or any connection to the file). Before
// the tables exist it returns no deliveries.
func List(ctx context.Context, db *sql.DB, f Filter) ([]Delivery, error) {
	if f.State != "" && !ValidState(f.State) {
		return nil, fmt.Errorf("%w: state %q (want pending, delivered or failed)", ErrInvalidFilter, f.State)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	q := `SELECT ` + columns + ` FROM federation_deliveries WHERE id > ?`
	args := []any{f.AfterID}
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, string(f.State))
	}
	if f.Host != "" {
		q += ` AND host = ?`
		args = append(args, strings.ToLower(f.Host))
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil
		}
		return nil, fmt.Errorf("delivery: list: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows, false)
		if err != nil {
			return nil, fmt.Errorf("delivery: list: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Get returns one delivery with its activity's body (empty once
// forgotten, see ForgetDeliveries).
func Get(ctx context.Context, db *sql.DB, id int64) (Delivery, error) {
	d, err := scanDelivery(db.QueryRowContext(ctx, `SELECT `+columns+`, coalesce((SELECT body FROM federation_activities a
		WHERE a.activity_id = federation_deliveries.activity_id), X'') FROM federation_deliveries WHERE id = ?`, id), true)
	if err != nil {
		return Delivery{}, fmt.Errorf("delivery: get %d: %w", id, err)
	}
	return d, nil
}

// Counts returns the number of deliveries per state.
func Counts(ctx context.Context, db *sql.DB) (map[State]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT state, count(*) FROM federation_deliveries GROUP BY state`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return map[State]int{}, nil
		}
		return nil, fmt.Errorf("delivery: counts: %w", err)
	}
	defer rows.Close()
	out := map[State]int{}
	for rows.Next() {
		var s State
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// Circuit is the breaker state of a host.
type Circuit string

// Circuit states.
const (
	// Closed: deliveries flow.
	Closed Circuit = "closed"
	// Open: the host failed too often; nothing is sent until OpenUntil.
	Open Circuit = "open"
	// HalfOpen: the pause ended; one probe delivery is allowed.
	HalfOpen Circuit = "half-open"
)

// Host is the breaker state of one remote host.
type Host struct {
	Host                string    `json:"host"`
	Circuit             Circuit   `json:"circuit"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	Opens               int       `json:"opens"`
	OpenUntil           time.Time `json:"open_until,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Hosts returns the breaker state of every host that has failed since its
// last success (hosts in good health have no row).
func Hosts(ctx context.Context, db *sql.DB) ([]Host, error) {
	rows, err := db.QueryContext(ctx, `SELECT host, circuit, consecutive_failures, opens, coalesce(open_until, 0),
		coalesce(last_error, ''), updated_at FROM federation_delivery_hosts ORDER BY host`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil
		}
		return nil, fmt.Errorf("delivery: hosts: %w", err)
	}
	defer rows.Close()
	var out []Host
	for rows.Next() {
		var h Host
		var until, updated int64
		if err := rows.Scan(&h.Host, &h.Circuit, &h.ConsecutiveFailures, &h.Opens, &until, &h.LastError, &updated); err != nil {
			return nil, err
		}
		h.OpenUntil, h.UpdatedAt = msTime(until), msTime(updated)
		out = append(out, h)
	}
	return out, rows.Err()
}

// saveHost writes (or, for a healthy host, deletes) a host's breaker row.
func saveHost(ctx context.Context, tx *sql.Tx, h Host) error {
	if h.Circuit == Closed && h.ConsecutiveFailures == 0 {
		_, err := tx.ExecContext(ctx, `DELETE FROM federation_delivery_hosts WHERE host = ?`, h.Host)
		return err
	}
	var until any
	if !h.OpenUntil.IsZero() {
		until = h.OpenUntil.UnixMilli()
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO federation_delivery_hosts (host, circuit, consecutive_failures, opens, open_until, last_error, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (host) DO UPDATE SET circuit = excluded.circuit, consecutive_failures = excluded.consecutive_failures,
			opens = excluded.opens, open_until = excluded.open_until, last_error = excluded.last_error,
			updated_at = excluded.updated_at`,
		h.Host, string(h.Circuit), h.ConsecutiveFailures, h.Opens, until, h.LastError, h.UpdatedAt.UnixMilli())
	return err
}

// attempt is the recorded result of one delivery attempt.
type attempt struct {
	id       int64
	state    State
	status   int
	err      string
	at       time.Time
	next     time.Time // for Pending
	attempts int
	resolved string // an actor target's inbox, "" when not resolved
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// recordAttempts stores the outcomes of attempts and the hosts' breaker
// states, in one transaction.
func recordAttempts(ctx context.Context, db *projections.DB, batch []record) error {
	return db.Write(ctx, func(tx *sql.Tx) error {
		for _, r := range batch {
			a := r.a
			var status, errText, done any
			if a.status != 0 {
				status = a.status
			}
			if a.err != "" {
				errText = a.err
			}
			if a.state != Pending {
				done = a.at.UnixMilli()
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE federation_deliveries SET state = ?, attempts = ?, last_status = ?, last_error = ?,
					last_attempt_at = ?, next_attempt_at = ?, done_at = ?, resolved_inbox = coalesce(?, resolved_inbox)
				WHERE id = ?`,
				string(a.state), a.attempts, status, errText, a.at.UnixMilli(), a.next.UnixMilli(), done, nullable(a.resolved),
				a.id); err != nil {
				return fmt.Errorf("delivery: record attempt of %d: %w", a.id, err)
			}
			if r.host != nil {
				if err := saveHost(ctx, tx, *r.host); err != nil {
					return fmt.Errorf("delivery: save host %s: %w", r.host.Host, err)
				}
			}
		}
		return nil
	})
}
