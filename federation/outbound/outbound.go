package outbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/note"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projector's name; Version the shape of its own tables
// (3: the actors table keeps what an actor's document shows, for
// Update{actor}).
const (
	Name    = "outbound"
	Version = 3
)

// ErrNoDeliveryTable: Setup found no delivery tables; delivery.EnsureSchema
// must run before the projection runner starts.
var ErrNoDeliveryTable = errors.New("outbound: the delivery tables are missing: call delivery.EnsureSchema(ctx, runner.DB()) before starting the runner")

// Options are the projector's optional settings.
type Options struct {
	// Notify is called after a batch that created deliveries (typically
	// delivery.Workers.Notify), and once more 100 ms later since the batch
	// commits only after Apply returns. It must not block.
	Notify func()
	// Opener opens the sealed text of posts (personal data). Without one
	// no post is rendered: posts are still recorded, nothing is sent.
	Opener personal.Opener
	// Clock is the time at which the rules that apply to older event
	// types are enabled (see delivery.EnableRule); default time.Now.
	Clock func() time.Time
}

// Projector turns events into activities and delivery records.
type Projector struct {
	scheme urls.Scheme
	reg    *events.Registry
	notify func()
	opener personal.Opener
	clock  func() time.Time
}

var _ projections.Projector = (*Projector)(nil)

// New returns the outbound projector of the instance with URL scheme s.
func New(s urls.Scheme, o Options) *Projector {
	reg := events.NewRegistry()
	actor.Register(reg)
	follow.Register(reg)
	note.Register(reg)
	post.Register(reg)
	account.Register(reg)
	if o.Opener == nil {
		o.Opener = noOpener{}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Projector{scheme: s, reg: reg, notify: o.Notify, opener: o.Opener, clock: o.Clock}
}

// Name implements projections.Projector.
func (*Projector) Name() string { return Name }

// Version implements projections.Projector.
func (*Projector) Version() int { return Version }

// Handles implements projections.Projector.
func (*Projector) Handles(t string) bool {
	switch t {
	case actor.TypeCreated, actor.TypeDeleted, account.TypeErased,
		actor.TypeProfileUpdated, actor.TypeKeyRotated, account.TypeProfileUpdated,
		follow.TypeRequested, follow.TypeAccepted, follow.TypeRejected, follow.TypeUndone, follow.TypeRemoved,
		note.TypePublished, note.TypeDeleted,
		post.TypePublished, post.TypeEdited, post.TypeDeleted, post.TypeRemoved, post.TypeAnnounced,
		post.TypeLiked, post.TypeLikeUndone:
		return true
	}
	return false
}

// Setup implements projections.Projector: the projector's own tables
// (local actors with what their documents show, follow relationships,
// notes, posts, likes), versioned as usual; it also enables the rules that
// render older event types (RuleActorDelete, RuleRemovedFollower,
// RuleActorUpdate) from now on. The
// delivery tables are not created here but must exist (see
// ErrNoDeliveryTable): the runner allows Setup to create only tables of its
// namespace, and they must outlive every rebuild.
func (p *Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	ok, err := delivery.TablesExist(ctx, tx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoDeliveryTable
	}
	for _, rule := range []string{RuleActorDelete, RuleRemovedFollower, RuleActorUpdate} {
		if _, err := delivery.EnableRule(ctx, tx, rule, p.clock()); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			id      TEXT NOT NULL PRIMARY KEY,
			iri     TEXT NOT NULL,
			deleted INTEGER NOT NULL DEFAULT 0,
			erased  INTEGER NOT NULL DEFAULT 0,
			-- what the actor document shows (actorpub.ActorDocument)
			kind                        TEXT    NOT NULL,
			username                    TEXT    NOT NULL,
			name                        TEXT    NOT NULL,
			summary                     TEXT    NOT NULL,
			manually_approves_followers INTEGER NOT NULL,
			discoverable                INTEGER NOT NULL,
			public_key_pem              TEXT    NOT NULL,
			key_generation              INTEGER NOT NULL,
			created_at                  TEXT    NOT NULL -- projections.TimeLayout
		) WITHOUT ROWID;
		CREATE TABLE %[2]s (
			stream             TEXT NOT NULL PRIMARY KEY,
			direction          TEXT NOT NULL,
			local_actor_id     TEXT NOT NULL,
			follower_iri       TEXT NOT NULL,
			followee_iri       TEXT NOT NULL,
			follow_activity_id TEXT NOT NULL,
			inbox              TEXT NOT NULL,
			shared_inbox       TEXT NOT NULL,
			state              TEXT NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[3]s ON %[2]s (local_actor_id, state) WHERE direction = 'inbound';
		CREATE TABLE %[4]s (
			id         TEXT NOT NULL PRIMARY KEY,
			author_id  TEXT NOT NULL,
			visibility TEXT NOT NULL,
			deleted    INTEGER NOT NULL DEFAULT 0
		) WITHOUT ROWID;`,
		t.Name("actors"), t.Name("follows"), t.Name("follows_actor"), t.Name("notes")))
	if err != nil {
		return err
	}
	return setupPosts(ctx, tx, t)
}

// relationship is a row of the follows table.
type relationship struct {
	direction                 follow.Direction
	localActorID              string
	followerIRI, followeeIRI  string
	followActivityID          string
	inbox, sharedInbox, state string
}

func occurred(e events.Envelope) time.Time {
	if !e.Metadata.OccurredAt.IsZero() {
		return e.Metadata.OccurredAt.UTC()
	}
	return e.RecordedAt.UTC()
}

// Apply implements projections.Projector.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	inserted := 0
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		n, err := p.apply(ctx, tx, t, e, payload)
		if err != nil {
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: err}
		}
		inserted += n
	}
	if inserted > 0 && p.notify != nil {
		p.notify()
		time.AfterFunc(100*time.Millisecond, p.notify)
	}
	return nil
}

func (p *Projector) apply(ctx context.Context, tx *sql.Tx, t projections.Tables, e events.Envelope, payload any) (int, error) {
	switch ev := payload.(type) {
	case *actor.Created:
		return 0, p.saveActor(ctx, tx, t, e, ev)
	case *actor.KeyRotated:
		return 0, p.keyRotated(ctx, tx, t, e, ev)
	case *actor.ProfileUpdated:
		return p.actorProfileUpdated(ctx, tx, t, e, ev)
	case *account.ProfileUpdated:
		return p.accountProfileUpdated(ctx, tx, t, e, ev)
	case *follow.Requested:
		if ev.Direction != follow.Inbound && ev.Direction != follow.Outbound {
			return 0, fmt.Errorf("unknown direction %q", ev.Direction)
		}
		r := relationship{direction: ev.Direction, localActorID: ev.LocalActorID, followerIRI: ev.FollowerIRI,
			followeeIRI: ev.FolloweeIRI, followActivityID: ev.FollowActivityID, inbox: ev.RemoteInbox,
			sharedInbox: ev.RemoteSharedInbox, state: "requested"}
		if r.followActivityID == "" {
			r.followActivityID = FollowID(r.followerIRI, r.followeeIRI)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`
			INSERT OR REPLACE INTO %s (stream, direction, local_actor_id, follower_iri, followee_iri, follow_activity_id,
				inbox, shared_inbox, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.Name("follows")),
			e.StreamID, string(r.direction), r.localActorID, r.followerIRI, r.followeeIRI, r.followActivityID,
			r.inbox, r.sharedInbox, r.state); err != nil {
			return 0, err
		}
		if r.direction != follow.Outbound {
			return 0, nil
		}
		a := followObject(r.followActivityID, r.followerIRI, r.followeeIRI)
		a.To = []string{r.followeeIRI}
		return p.deliver(ctx, tx, e, r.localActorID, a, []string{remoteInbox(r)})
	case *actor.Deleted:
		return p.actorDeleted(ctx, tx, t, e)
	case *account.Erased:
		return p.accountErased(ctx, tx, t, e)
	case *post.Published, *post.Edited, *post.Deleted, *post.Removed, *post.Announced, *post.Liked, *post.LikeUndone:
		return p.applyPost(ctx, tx, t, e, payload)
	case *follow.Accepted, *follow.Rejected, *follow.Undone, *follow.Removed:
		r, ok, err := p.relationship(ctx, tx, t, e.StreamID)
		if err != nil || !ok {
			return 0, err // a relationship whose request predates the log's knowledge: nothing to send
		}
		state := map[string]string{follow.TypeAccepted: "accepted", follow.TypeRejected: "rejected",
			follow.TypeUndone: "undone", follow.TypeRemoved: "removed"}[e.Type]
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET state = ? WHERE stream = ?`, t.Name("follows")),
			state, e.StreamID); err != nil {
			return 0, err
		}
		embedded := followObject(r.followActivityID, r.followerIRI, r.followeeIRI)
		var a *as2.Object
		switch ev := payload.(type) {
		case *follow.Accepted:
			if r.direction == follow.Inbound {
				a = as2.NewActivity(as2.TypeAccept, orDerived(ev.AcceptActivityID, r.followeeIRI+"#accepts/"+hash16(r.followActivityID)),
					r.followeeIRI, as2.Embed(embedded))
			}
		case *follow.Rejected:
			if r.direction == follow.Inbound {
				a = as2.NewActivity(as2.TypeReject, orDerived(ev.RejectActivityID, r.followeeIRI+"#rejects/"+hash16(r.followActivityID)),
					r.followeeIRI, as2.Embed(embedded))
			}
		case *follow.Undone:
			if r.direction == follow.Outbound {
				a = as2.NewActivity(as2.TypeUndo, orDerived(ev.UndoActivityID, r.followActivityID+"/undo"),
					r.followerIRI, as2.Embed(embedded))
			}
		case *follow.Removed:
			// The local actor removed a follower (a community removed or
			// banned a member): Reject{Follow}, as Mastodon's "remove
			// follower". A deleted remote actor needs no word.
			if r.direction == follow.Inbound && (r.state == "accepted" || r.state == "requested") && ev.Reason != RemovedBecauseDeleted {
				fresh, err := p.ruleApplies(ctx, tx, RuleRemovedFollower, e)
				if err != nil || !fresh {
					return 0, err
				}
				a = as2.NewActivity(as2.TypeReject, r.followeeIRI+"#removals/"+hash16(r.followActivityID),
					r.followeeIRI, as2.Embed(embedded))
			}
		}
		if a == nil {
			return 0, nil
		}
		remote := r.followerIRI
		if r.direction == follow.Outbound {
			remote = r.followeeIRI
		}
		a.To = []string{remote}
		return p.deliver(ctx, tx, e, r.localActorID, a, []string{remoteInbox(r)})
	case *note.Published:
		authorIRI, err := p.actorIRI(ctx, tx, t, ev.AuthorID)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT OR REPLACE INTO %s (id, author_id, visibility) VALUES (?, ?, ?)`,
			t.Name("notes")), ev.NoteID, ev.AuthorID, string(ev.Visibility)); err != nil {
			return 0, err
		}
		if ev.Visibility == note.Direct {
			return 0, nil
		}
		inboxes, err := p.audience(ctx, tx, t, ev.AuthorID)
		if err != nil {
			return 0, err
		}
		a := CreateNote(NoteData{ID: ev.NoteID, AuthorIRI: authorIRI, Content: ev.Content, Language: ev.Language,
			Visibility: ev.Visibility, Published: occurred(e)})
		return p.deliver(ctx, tx, e, ev.AuthorID, a, inboxes)
	case *note.Deleted:
		id, _ := strings.CutPrefix(e.StreamID, "note-")
		var authorID, visibility string
		err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT author_id, visibility FROM %s WHERE id = ?`, t.Name("notes")), id).
			Scan(&authorID, &visibility)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET deleted = 1 WHERE id = ?`, t.Name("notes")), id); err != nil {
			return 0, err
		}
		if note.Visibility(visibility) == note.Direct {
			return 0, nil
		}
		authorIRI, err := p.actorIRI(ctx, tx, t, authorID)
		if err != nil {
			return 0, err
		}
		inboxes, err := p.audience(ctx, tx, t, authorID)
		if err != nil {
			return 0, err
		}
		a := DeleteNote(NoteData{ID: id, AuthorIRI: authorIRI, Visibility: note.Visibility(visibility)}, occurred(e))
		return p.deliver(ctx, tx, e, authorID, a, inboxes)
	}
	return 0, fmt.Errorf("unexpected payload %T", payload)
}

func orDerived(given, derived string) string {
	if given != "" {
		return given
	}
	return derived
}

// remoteInbox is the remote side's personal inbox (its shared inbox when
// it has none).
func remoteInbox(r relationship) string {
	if r.inbox != "" {
		return r.inbox
	}
	return r.sharedInbox
}

func (p *Projector) relationship(ctx context.Context, tx *sql.Tx, t projections.Tables, stream string) (relationship, bool, error) {
	var r relationship
	var dir string
	err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT direction, local_actor_id, follower_iri, followee_iri,
		follow_activity_id, inbox, shared_inbox, state FROM %s WHERE stream = ?`, t.Name("follows")), stream).
		Scan(&dir, &r.localActorID, &r.followerIRI, &r.followeeIRI, &r.followActivityID, &r.inbox, &r.sharedInbox, &r.state)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	r.direction = follow.Direction(dir)
	return r, err == nil, err
}

func (p *Projector) actorIRI(ctx context.Context, tx *sql.Tx, t projections.Tables, id string) (string, error) {
	var iri string
	err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT iri FROM %s WHERE id = ?`, t.Name("actors")), id).Scan(&iri)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("unknown local actor %s", id)
	}
	return iri, err
}

// audience returns the inboxes of the local actor's accepted inbound
// followers, one per shared inbox (the personal inbox for followers whose
// server has none), sorted.
func (p *Projector) audience(ctx context.Context, tx *sql.Tx, t projections.Tables, actorID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`
		SELECT DISTINCT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END AS target
		FROM %s WHERE direction = 'inbound' AND local_actor_id = ? AND state = 'accepted' AND target <> ''
		ORDER BY target`, t.Name("follows")), actorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// deliver renders a once and records one delivery per inbox; existing
// (activity, inbox) rows are left alone, so replays send nothing twice.
func (p *Projector) deliver(ctx context.Context, tx *sql.Tx, e events.Envelope, actorID string, a *as2.Object, inboxes []string) (int, error) {
	return p.deliverTo(ctx, tx, e, actorID, a, inboxes, nil)
}

// deliverTo is deliver to inboxes and to remote actors whose inbox the
// delivery workers resolve (delivery.TargetActor); local actors among
// them are skipped (they read it here).
func (p *Projector) deliverTo(ctx context.Context, tx *sql.Tx, e events.Envelope, actorID string, a *as2.Object,
	inboxes, actorIRIs []string) (int, error) {
	var to []delivery.Recipient
	for _, inbox := range inboxes {
		if inbox != "" {
			to = append(to, delivery.Recipient{Inbox: inbox, Target: delivery.TargetInbox})
		}
	}
	for _, iri := range actorIRIs {
		if iri != "" && !isLocalActor(p.scheme, iri) {
			if _, err := delivery.HostOf(iri); err == nil {
				to = append(to, delivery.Recipient{Inbox: iri, Target: delivery.TargetActor})
			}
		}
	}
	if len(to) == 0 {
		return 0, nil
	}
	body, err := as2.Encode(a)
	if err != nil {
		return 0, err
	}
	return delivery.InsertActivity(ctx, tx, delivery.Activity{ID: a.ID, Type: a.Type, ActorID: actorID, Body: body,
		EventPosition: uint64(e.Position), CreatedAt: occurred(e)}, to)
}
