package actors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/projections"
)

// Version is the current version of the projection's tables. Version 2:
// Person actors of accounts show the account's display name and bio.
const Version = 2

// Projector builds the actors read model from the four actor.* events
// that make and change an actor. actor.username_reserved is not handled:
// actor.created carries the username, and a reservation without an actor
// (a Create that died half-way) must not show up as an actor.
//
// Made with NewWithOpener, it also shows the profile of accounts on their
// Person actor (same id): account.profile_updated sets the name and
// summary from the sealed display name and bio, and account.erased blanks
// them.
type Projector struct {
	reg    *events.Registry
	opener personal.Opener
}

// New returns the actors projector without account profiles (the account
// events are not handled).
func New() *Projector {
	reg := events.NewRegistry()
	actor.Register(reg)
	return &Projector{reg: reg}
}

// NewWithOpener returns the actors projector that also shows account
// profiles, opening their sealed fields with opener. A text whose key was
// destroyed shows as "".
func NewWithOpener(opener personal.Opener) *Projector {
	p := New()
	account.Register(p.reg)
	p.opener = opener
	return p
}

var _ projections.Projector = (*Projector)(nil)

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (p *Projector) Handles(eventType string) bool {
	switch eventType {
	case actor.TypeCreated, actor.TypeProfileUpdated, actor.TypeKeyRotated, actor.TypeDeleted:
		return true
	case account.TypeProfileUpdated, account.TypeErased:
		return p.opener != nil
	}
	return false
}

// Setup implements projections.Projector: one row per actor, looked up by
// id (primary key) and by lower-case username.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			id                          TEXT    NOT NULL PRIMARY KEY,
			kind                        TEXT    NOT NULL,
			username                    TEXT    NOT NULL,
			username_lower              TEXT    NOT NULL,
			name                        TEXT    NOT NULL,
			summary                     TEXT    NOT NULL,
			manually_approves_followers INTEGER NOT NULL,
			discoverable                INTEGER NOT NULL,
			public_key_pem              TEXT    NOT NULL,
			sealed_private_key          BLOB    NOT NULL,
			key_generation              INTEGER NOT NULL,
			created_position            INTEGER NOT NULL,
			created_at                  TEXT    NOT NULL,
			updated_at                  TEXT    NOT NULL,
			deleted_at                  TEXT
		) WITHOUT ROWID;
		CREATE INDEX %[2]s ON %[1]s (username_lower, created_position);
		CREATE INDEX %[3]s ON %[1]s (kind) WHERE deleted_at IS NULL;`,
		t.Name("actors"), t.Name("actors_username"), t.Name("actors_kind")))
	return err
}

// actorID is the actor id of an event of stream "actor-<id>".
func actorID(e events.Envelope) (string, error) {
	id, ok := strings.CutPrefix(e.StreamID, "actor-")
	if !ok || id == "" {
		return "", &projections.DecodeError{Position: e.Position, Type: e.Type,
			Err: fmt.Errorf("stream %q is not an actor stream", e.StreamID)}
	}
	return id, nil
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	table := t.Name("actors")
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		at := projections.FormatTime(projections.OccurredAt(e))
		switch ev := payload.(type) {
		case *account.ProfileUpdated, *account.Erased:
			if err := p.applyAccount(ctx, tx, table, e, ev, at); err != nil {
				return err
			}
			continue
		}
		id, err := actorID(e)
		if err != nil {
			return err
		}
		var res sql.Result
		switch ev := payload.(type) {
		case *actor.Created:
			if ev.ActorID != id {
				return &projections.DecodeError{Position: e.Position, Type: e.Type,
					Err: fmt.Errorf("actor id %q in stream %q", ev.ActorID, e.StreamID)}
			}
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				INSERT INTO %s (id, kind, username, username_lower, name, summary, manually_approves_followers,
					discoverable, public_key_pem, sealed_private_key, key_generation, created_position, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, table),
				id, string(ev.Kind), ev.Username, strings.ToLower(ev.Username), ev.Name, ev.Summary,
				ev.ManuallyApprovesFollowers, ev.Discoverable, ev.PublicKeyPEM, nonNil(ev.SealedPrivateKey),
				ev.KeyGeneration, int64(e.Position), at, at)
		case *actor.ProfileUpdated:
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				UPDATE %s SET name = coalesce(?, name), summary = coalesce(?, summary),
					manually_approves_followers = coalesce(?, manually_approves_followers),
					discoverable = coalesce(?, discoverable), updated_at = ?
				WHERE id = ?`, table),
				nullable(ev.Name), nullable(ev.Summary), nullable(ev.ManuallyApprovesFollowers), nullable(ev.Discoverable), at, id)
		case *actor.KeyRotated:
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				UPDATE %s SET public_key_pem = ?, sealed_private_key = ?, key_generation = ?, updated_at = ?
				WHERE id = ?`, table),
				ev.PublicKeyPEM, nonNil(ev.SealedPrivateKey), ev.KeyGeneration, at, id)
		case *actor.Deleted:
			res, err = tx.ExecContext(ctx, fmt.Sprintf(`
				UPDATE %s SET deleted_at = ?, updated_at = ? WHERE id = ?`, table), at, at, id)
		default:
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		if err != nil {
			return fmt.Errorf("actors: %s at position %d: %w", e.Type, e.Position, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("actors: %s at position %d for actor %s, which has no actor.created before it", e.Type, e.Position, id)
		}
	}
	return nil
}

// applyAccount shows an account's profile on its Person actor (the
// account id is the actor id). An account without actor row changes
// nothing.
func (p *Projector) applyAccount(ctx context.Context, tx *sql.Tx, table string, e events.Envelope, payload any, at string) error {
	id, ok := strings.CutPrefix(e.StreamID, "account-")
	if !ok || id == "" {
		return &projections.DecodeError{Position: e.Position, Type: e.Type,
			Err: fmt.Errorf("stream %q is not an account stream", e.StreamID)}
	}
	var err error
	switch ev := payload.(type) {
	case *account.ProfileUpdated:
		var name, summary any
		if name, err = p.open(e, ev.DisplayName); err != nil {
			return err
		}
		if summary, err = p.open(e, ev.Bio); err != nil {
			return err
		}
		if name == nil && summary == nil {
			return nil
		}
		_, err = tx.ExecContext(ctx, fmt.Sprintf(`
			UPDATE %s SET name = coalesce(?, name), summary = coalesce(?, summary), updated_at = ? WHERE id = ?`, table),
			name, summary, at, id)
	case *account.Erased:
		_, err = tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET name = '', summary = '', updated_at = ? WHERE id = ?`, table), at, id)
	}
	if err != nil {
		return fmt.Errorf("actors: %s at position %d: %w", e.Type, e.Position, err)
	}
	return nil
}

// open opens a sealed profile field (nil when the event leaves it
// unchanged). An erased subject gives ""; other failures stop the
// projection rather than blank profiles silently.
func (p *Projector) open(e events.Envelope, t *personal.Text) (any, error) {
	if t == nil {
		return nil, nil
	}
	s, err := personal.OpenOrEmpty(p.opener, *t)
	if err != nil {
		return nil, fmt.Errorf("actors: %s at position %d: open personal field: %w", e.Type, e.Position, err)
	}
	return s, nil
}

func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

const columns = `id, kind, username, name, summary, manually_approves_followers, discoverable,
	public_key_pem, sealed_private_key, key_generation, created_at, updated_at, deleted_at`

func scanActor(sc interface{ Scan(...any) error }) (Actor, error) {
	var (
		a                  Actor
		kind               string
		created, updated   string
		deleted            sql.NullString
		manually, discover bool
		gen                int64
	)
	if err := sc.Scan(&a.ID, &kind, &a.Username, &a.Name, &a.Summary, &manually, &discover,
		&a.PublicKeyPEM, &a.SealedPrivateKey, &gen, &created, &updated, &deleted); err != nil {
		return Actor{}, err
	}
	a.Kind, a.ManuallyApprovesFollowers, a.Discoverable, a.KeyGeneration = actor.Kind(kind), manually, discover, int(gen)
	var err error
	if a.CreatedAt, err = projections.ParseTime(created); err != nil {
		return Actor{}, err
	}
	if a.UpdatedAt, err = projections.ParseTime(updated); err != nil {
		return Actor{}, err
	}
	if a.DeletedAt, err = projections.ParseNullTime(deleted); err != nil {
		return Actor{}, err
	}
	return a, nil
}

func (r *reader) one(ctx context.Context, what, where string, arg any) (Actor, error) {
	var out Actor
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		var err error
		out, err = scanActor(tx.QueryRowContext(ctx,
			fmt.Sprintf(`SELECT %s FROM %s WHERE %s`, columns, t.Name("actors"), where), arg))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, what)
		}
		return err
	})
	return out, err
}

func (r *reader) ByUsername(ctx context.Context, username string) (Actor, error) {
	// The first actor.created of a username wins, should the log ever hold
	// two (reservations prevent it).
	return r.one(ctx, fmt.Sprintf("username %q", username),
		`username_lower = ? ORDER BY created_position LIMIT 1`, strings.ToLower(username))
}

func (r *reader) ByID(ctx context.Context, id string) (Actor, error) {
	return r.one(ctx, fmt.Sprintf("id %q", id), `id = ?`, id)
}

func (r *reader) InstanceActor(ctx context.Context) (Actor, error) {
	return r.ByID(ctx, actor.InstanceID)
}

func (r *reader) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(
			`SELECT kind, count(*) FROM %s WHERE deleted_at IS NULL GROUP BY kind`, t.Name("actors")))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var n int
			if err := rows.Scan(&kind, &n); err != nil {
				return err
			}
			switch actor.Kind(kind) {
			case actor.KindPerson:
				c.People = n
			case actor.KindGroup:
				c.Communities = n
			}
		}
		return rows.Err()
	})
	return c, err
}
