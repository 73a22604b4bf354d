package remoteactors

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

// NewReader returns a Reader over the read-model database.
func NewReader(db *projections.DB) Reader { return &reader{db: db.Reader()} }

type reader struct{ db *sql.DB }

var _ Reader = (*reader)(nil)

func (r *reader) one(ctx context.Context, what, where string, arg any) (Actor, error) {
	var out Actor
	err := projections.ReadLive(ctx, r.db, Name, func(tx *sql.Tx, t projections.Tables) error {
		var (
			doc  string
			gone sql.NullString
			pos  int64
		)
		err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT document, gone_at, position FROM %s WHERE %s`,
			t.Name("actors"), where), arg).Scan(&doc, &gone, &pos)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, what)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(doc), &out.ActorFetched); err != nil {
			return fmt.Errorf("remoteactors: stored document of %s: %w", what, err)
		}
		if out.GoneAt, err = projections.ParseNullTime(gone); err != nil {
			return err
		}
		out.Position = events.Position(pos)
		return nil
	})
	return out, err
}

func (r *reader) ByIRI(ctx context.Context, iri string) (Actor, error) {
	a, err := r.one(ctx, fmt.Sprintf("actor %q", iri), `iri = ?`, iri)
	if err == nil && a.IRI == "" {
		a.IRI = iri // known only as gone
	}
	return a, err
}

func (r *reader) ByKeyID(ctx context.Context, keyID string) (Actor, error) {
	if keyID == "" {
		return Actor{}, fmt.Errorf("%w: empty key id", ErrNotFound)
	}
	return r.one(ctx, fmt.Sprintf("key %q", keyID), `key_id = ? ORDER BY position DESC LIMIT 1`, keyID)
}
