package remoteactors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name.
const Name = "remoteactors"

// Version is the current version of the projection's tables.
const Version = 1

// ErrNotFound: no document of that actor (or key id) has been recorded.
var ErrNotFound = errors.New("remoteactors: not found")

// Actor is the latest recorded state of a remote actor. For an actor known
// only as gone, the document fields are empty.
type Actor struct {
	remote.ActorFetched
	// GoneAt is non-zero when the actor was last recorded as gone.
	GoneAt time.Time
	// Position is the position of the event that last changed the row.
	Position events.Position
}

// Gone reports whether the actor is deleted.
func (a Actor) Gone() bool { return !a.GoneAt.IsZero() }

// Reader is the read-only query interface of the remote actors read model.
type Reader interface {
	// ByIRI returns the actor with that IRI; ErrNotFound when none was
	// recorded.
	ByIRI(ctx context.Context, iri string) (Actor, error)
	// ByKeyID returns the actor whose latest document carries that key id;
	// ErrNotFound when none does.
	ByKeyID(ctx context.Context, keyID string) (Actor, error)
}

// Projector builds the read model.
type Projector struct{ reg *events.Registry }

// New returns the remote actors projector.
func New() *Projector {
	reg := events.NewRegistry()
	remote.Register(reg)
	return &Projector{reg: reg}
}

var _ projections.Projector = (*Projector)(nil)

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(eventType string) bool {
	return eventType == remote.TypeActorFetched || eventType == remote.TypeActorGone
}

// Setup implements projections.Projector: one row per IRI, indexed by key
// id.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			iri            TEXT    NOT NULL PRIMARY KEY,
			document       TEXT    NOT NULL,
			key_id         TEXT    NOT NULL,
			fetched_at     TEXT    NOT NULL,
			gone_at        TEXT,
			position       INTEGER NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[2]s ON %[1]s (key_id, position) WHERE key_id <> '';`,
		t.Name("actors"), t.Name("actors_key")))
	return err
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	table := t.Name("actors")
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		switch ev := payload.(type) {
		case *remote.ActorFetched:
			if ev.IRI == "" {
				return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: errors.New("empty IRI")}
			}
			// The whole payload is kept as the document: the reader returns it
			// unchanged, and Raw is the actor document as fetched.
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`
				INSERT INTO %s (iri, document, key_id, fetched_at, gone_at, position) VALUES (?, ?, ?, ?, NULL, ?)
				ON CONFLICT (iri) DO UPDATE SET document = excluded.document, key_id = excluded.key_id,
					fetched_at = excluded.fetched_at, gone_at = NULL, position = excluded.position`, table),
				ev.IRI, string(e.Data), ev.KeyID, projections.FormatTime(ev.FetchedAt), int64(e.Position))
		case *remote.ActorGone:
			if ev.IRI == "" {
				return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: errors.New("empty IRI")}
			}
			// A gone actor keeps its last document (its key still checks a
			// Delete signed before it went), but leaves the key index.
			_, err = tx.ExecContext(ctx, fmt.Sprintf(`
				INSERT INTO %s (iri, document, key_id, fetched_at, gone_at, position) VALUES (?, '{}', '', ?, ?, ?)
				ON CONFLICT (iri) DO UPDATE SET key_id = '', gone_at = excluded.gone_at, position = excluded.position`, table),
				ev.IRI, projections.FormatTime(ev.GoneAt), projections.FormatTime(ev.GoneAt), int64(e.Position))
		default:
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		if err != nil {
			return fmt.Errorf("remoteactors: %s at position %d: %w", e.Type, e.Position, err)
		}
	}
	return nil
}
