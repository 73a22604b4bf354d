package outbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
)

// RuleActorUpdate: actor.profile_updated (a community's name or
// description, through its Group actor) and account.profile_updated (a
// person's display name or bio) send Update{actor} to the actor's
// followers. Like the other rules it renders only events that occurred
// after it was first enabled, so a rebuild does not re-send old profiles.
const RuleActorUpdate = "actor-update"

// UpdateActor renders the Update of a local actor's profile, embedding its
// full current document (actorpub.ActorDocument: Mastodon replaces the
// profile with the embedded actor when the Update's actor is the object);
// its id is "{actor IRI}#updates/{tag}" (tag: the event's id), addressed
// to Public as Mastodon addresses its own.
func UpdateActor(doc *as2.Object, tag string) *as2.Object {
	a := as2.NewActivity(as2.TypeUpdate, doc.ID+"#updates/"+tag, doc.ID, as2.Embed(doc))
	a.To = []string{as2.Public}
	return a
}

// profile is a local actor's row with what its document is rendered from.
type profile struct {
	doc             actors.Actor
	deleted, erased bool
}

// same reports whether p and q render the same document.
func (p profile) same(q profile) bool {
	a, b := p.doc, q.doc
	return a.Name == b.Name && a.Summary == b.Summary && a.ManuallyApprovesFollowers == b.ManuallyApprovesFollowers &&
		a.Discoverable == b.Discoverable
}

// saveActor records actor.created: the actor's IRI and everything its
// document shows.
func (p *Projector) saveActor(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, ev *actor.Created) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (id, iri, kind, username, name, summary,
			manually_approves_followers, discoverable, public_key_pem, key_generation, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET iri = excluded.iri, kind = excluded.kind, username = excluded.username,
			name = excluded.name, summary = excluded.summary,
			manually_approves_followers = excluded.manually_approves_followers, discoverable = excluded.discoverable,
			public_key_pem = excluded.public_key_pem, key_generation = excluded.key_generation,
			created_at = excluded.created_at`, t.Name("actors")),
		ev.ActorID, p.scheme.Actor(ev.Kind, ev.Username), string(ev.Kind), ev.Username, ev.Name, ev.Summary,
		ev.ManuallyApprovesFollowers, ev.Discoverable, ev.PublicKeyPEM, ev.KeyGeneration,
		projections.FormatTime(projections.OccurredAt(e)))
	return err
}

// keyRotated records the actor's new public key (its next Update carries
// it; the rotation itself sends nothing).
func (p *Projector) keyRotated(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, ev *actor.KeyRotated) error {
	id, _ := strings.CutPrefix(e.StreamID, actor.Stream(""))
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET public_key_pem = ?, key_generation = ? WHERE id = ?`,
		t.Name("actors")), ev.PublicKeyPEM, ev.KeyGeneration, id)
	return err
}

func (p *Projector) profile(ctx context.Context, tx *sql.Tx, t projections.Tables, id string) (profile, bool, error) {
	var pr profile
	var kind, created string
	err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT kind, username, name, summary, manually_approves_followers,
		discoverable, public_key_pem, key_generation, created_at, deleted, erased FROM %s WHERE id = ?`, t.Name("actors")), id).
		Scan(&kind, &pr.doc.Username, &pr.doc.Name, &pr.doc.Summary, &pr.doc.ManuallyApprovesFollowers,
			&pr.doc.Discoverable, &pr.doc.PublicKeyPEM, &pr.doc.KeyGeneration, &created, &pr.deleted, &pr.erased)
	if errors.Is(err, sql.ErrNoRows) {
		return pr, false, nil
	}
	if err != nil {
		return pr, false, err
	}
	pr.doc.ID, pr.doc.Kind = id, actor.Kind(kind)
	if pr.doc.CreatedAt, err = projections.ParseTime(created); err != nil {
		return pr, false, fmt.Errorf("actor %s: created_at %q: %w", id, created, err)
	}
	return pr, true, nil
}

// actorProfileUpdated applies actor.profile_updated (nil fields stay).
func (p *Projector) actorProfileUpdated(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, ev *actor.ProfileUpdated) (int, error) {
	id, _ := strings.CutPrefix(e.StreamID, actor.Stream(""))
	old, ok, err := p.profile(ctx, tx, t, id)
	if err != nil || !ok {
		return 0, err
	}
	next := old
	if ev.Name != nil {
		next.doc.Name = *ev.Name
	}
	if ev.Summary != nil {
		next.doc.Summary = *ev.Summary
	}
	if ev.ManuallyApprovesFollowers != nil {
		next.doc.ManuallyApprovesFollowers = *ev.ManuallyApprovesFollowers
	}
	if ev.Discoverable != nil {
		next.doc.Discoverable = *ev.Discoverable
	}
	return p.profileChanged(ctx, tx, t, e, old, next, false)
}

// accountProfileUpdated applies account.profile_updated to the account's
// Person actor (same id): the sealed display name and bio are opened with
// the Opener. A text that no longer opens (the person was erased) shows as
// "", as in the actors read model, and nothing is sent.
func (p *Projector) accountProfileUpdated(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, ev *account.ProfileUpdated) (int, error) {
	id, _ := strings.CutPrefix(e.StreamID, account.Stream(""))
	old, ok, err := p.profile(ctx, tx, t, id)
	if err != nil || !ok {
		return 0, err
	}
	next, erased := old, false
	for _, f := range []struct {
		sealed *personal.Text
		into   *string
	}{{ev.DisplayName, &next.doc.Name}, {ev.Bio, &next.doc.Summary}} {
		if f.sealed == nil {
			continue
		}
		if f.sealed.IsZero() {
			*f.into = "" // cleared
			continue
		}
		s, err := p.opener.Open(*f.sealed)
		if errors.Is(err, personal.ErrErased) {
			s, erased = "", true
		} else if err != nil {
			return 0, fmt.Errorf("open the profile: %w", err)
		}
		*f.into = s
	}
	return p.profileChanged(ctx, tx, t, e, old, next, erased)
}

// profileChanged stores an actor's new profile and, when its document
// changed, sends Update{actor} to the actor's followers — unless the actor
// is deleted or erased, part of the profile no longer opens (silent), or
// the change predates RuleActorUpdate.
func (p *Projector) profileChanged(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, old, next profile, silent bool) (int, error) {
	if old.same(next) {
		return 0, nil
	}
	d := next.doc
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET name = ?, summary = ?, manually_approves_followers = ?,
		discoverable = ? WHERE id = ?`, t.Name("actors")), d.Name, d.Summary, d.ManuallyApprovesFollowers, d.Discoverable, d.ID); err != nil {
		return 0, err
	}
	if silent || next.deleted || next.erased || p.scheme.Actor(d.Kind, d.Username) == "" {
		return 0, nil
	}
	if fresh, err := p.ruleApplies(ctx, tx, RuleActorUpdate, e); err != nil || !fresh {
		return 0, err
	}
	followers, err := p.audience(ctx, tx, t, d.ID)
	if err != nil {
		return 0, err
	}
	return p.deliver(ctx, tx, e, d.ID, UpdateActor(actorpub.ActorDocument(p.scheme, d), e.ID.String()), followers)
}
