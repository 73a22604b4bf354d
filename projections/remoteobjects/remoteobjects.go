package remoteobjects

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// Name is the projection's name.
const Name = "remoteobjects"

// Version is the current version of the projection's tables.
const Version = 1

// Reaction kinds stored in the reactions table.
const (
	kindLike     = "like"
	kindAnnounce = "announce"
)

// Projector builds the remote objects read model from
// federation.activity_received events.
type Projector struct{ reg *events.Registry }

// New returns the remote objects projector.
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
func (*Projector) Handles(eventType string) bool { return eventType == remote.TypeActivityReceived }

// Setup implements projections.Projector: one row per object id, and one
// row per (kind, actor, object) reaction, which makes a re-sent Like or
// Announce idempotent, as Mastodon keeps one favourite per account.
func (*Projector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
		CREATE TABLE %[1]s (
			id               TEXT    NOT NULL PRIMARY KEY,
			type             TEXT    NOT NULL,
			attributed_to    TEXT    NOT NULL,
			actor            TEXT    NOT NULL,
			content          TEXT    NOT NULL,
			name             TEXT    NOT NULL,
			url              TEXT    NOT NULL,
			in_reply_to      TEXT    NOT NULL,
			published        TEXT    NOT NULL,
			visibility       TEXT    NOT NULL,
			activity_id      TEXT    NOT NULL,
			edited_at        TEXT    NOT NULL,
			deleted_at       TEXT    NOT NULL,
			created_position INTEGER NOT NULL,
			updated_position INTEGER NOT NULL
		) WITHOUT ROWID;
		CREATE INDEX %[2]s ON %[1]s (attributed_to, created_position);
		CREATE TABLE %[3]s (
			kind        TEXT    NOT NULL,
			actor       TEXT    NOT NULL,
			object_id   TEXT    NOT NULL,
			activity_id TEXT    NOT NULL,
			position    INTEGER NOT NULL,
			PRIMARY KEY (kind, actor, object_id)
		) WITHOUT ROWID;
		CREATE INDEX %[4]s ON %[3]s (activity_id);
		CREATE INDEX %[5]s ON %[3]s (object_id, kind);`,
		t.Name("objects"), t.Name("objects_author"), t.Name("reactions"), t.Name("reactions_activity"), t.Name("reactions_object")))
	return err
}

// Apply implements projections.Projector. Activities that break the
// ownership rules, or whose raw JSON cannot be read, change nothing: they
// are remote input, not a fault of the log.
func (p *Projector) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	for _, e := range batch {
		payload, err := projections.DecodeRegistered(p.reg, e)
		if err != nil {
			return err
		}
		ev, ok := payload.(*remote.ActivityReceived)
		if !ok {
			return &projections.DecodeError{Position: e.Position, Type: e.Type, Err: fmt.Errorf("unexpected payload %T", payload)}
		}
		var act node
		if json.Unmarshal(ev.Raw, &act) != nil || ev.Actor == "" {
			continue
		}
		a := applier{ctx: ctx, tx: tx, t: t, e: e, ev: ev, act: &act, at: projections.FormatTime(projections.OccurredAt(e))}
		if err := a.apply(); err != nil {
			return fmt.Errorf("remoteobjects: %s %s at position %d: %w", ev.Type, ev.ActivityID, e.Position, err)
		}
	}
	return nil
}

// applier applies one received activity.
type applier struct {
	ctx context.Context
	tx  *sql.Tx
	t   projections.Tables
	e   events.Envelope
	ev  *remote.ActivityReceived
	act *node
	at  string
}

func (a *applier) exec(query string, args ...any) error {
	_, err := a.tx.ExecContext(a.ctx, query, args...)
	return err
}

func (a *applier) apply() error {
	typ := a.ev.Type
	if typ == "" {
		typ = a.act.Type.primary()
	}
	ref := a.act.object()
	switch typ {
	case "Create":
		return a.create(ref)
	case "Update":
		return a.update(ref)
	case "Delete":
		return a.delete(ref)
	case "Like":
		return a.react(kindLike, ref)
	case "Announce":
		return a.react(kindAnnounce, ref)
	case "Undo":
		return a.undo(ref)
	}
	// EmojiReact, Dislike and everything else: not part of this model.
	return nil
}

// ownedContent returns the inline content object of ref when its
// attributedTo names the activity's actor.
func (a *applier) ownedContent(ref objectRef) (*node, string, bool) {
	obj := ref.Inline
	if obj == nil || ref.ID == "" || !obj.AttributedTo.has(a.ev.Actor) {
		return nil, "", false
	}
	typ, ok := obj.Type.in(contentTypes)
	return obj, typ, ok
}

func (a *applier) create(ref objectRef) error {
	obj, typ, ok := a.ownedContent(ref)
	if !ok {
		return nil
	}
	// A re-sent or second Create of a known id (even a deleted one) does
	// not overwrite it: edits come as Updates.
	return a.exec(fmt.Sprintf(`
		INSERT INTO %s (id, type, attributed_to, actor, content, name, url, in_reply_to, published, visibility,
			activity_id, edited_at, deleted_at, created_position, updated_position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, ?)
		ON CONFLICT (id) DO NOTHING`, a.t.Name("objects")),
		ref.ID, typ, a.ev.Actor, a.ev.Actor, obj.content(), obj.name(), obj.URL.first(), obj.InReplyTo.first(),
		normTime(string(obj.Published)), string(visibility(obj, a.act, a.ev.Actor)), a.ev.ActivityID,
		int64(a.e.Position), int64(a.e.Position))
}

func (a *applier) update(ref objectRef) error {
	obj, typ, ok := a.ownedContent(ref)
	if !ok {
		return nil
	}
	edited := normTime(string(obj.Updated))
	if edited == "" {
		edited = a.at
	}
	// Unknown: stored as new. Known: only its owner's Update applies, and
	// never to a deleted object. Type, published, reply target and
	// visibility stay as created (Mastodon does not let edits change them).
	return a.exec(fmt.Sprintf(`
		INSERT INTO %s (id, type, attributed_to, actor, content, name, url, in_reply_to, published, visibility,
			activity_id, edited_at, deleted_at, created_position, updated_position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)
		ON CONFLICT (id) DO UPDATE SET content = excluded.content, name = excluded.name, url = excluded.url,
			activity_id = excluded.activity_id, edited_at = excluded.edited_at, updated_position = excluded.updated_position
		WHERE attributed_to = excluded.attributed_to AND deleted_at = ''`, a.t.Name("objects")),
		ref.ID, typ, a.ev.Actor, a.ev.Actor, obj.content(), obj.name(), obj.URL.first(), obj.InReplyTo.first(),
		normTime(string(obj.Published)), string(visibility(obj, a.act, a.ev.Actor)), a.ev.ActivityID, edited,
		int64(a.e.Position), int64(a.e.Position))
}

func (a *applier) delete(ref objectRef) error {
	if ref.ID == "" {
		return nil
	}
	set := fmt.Sprintf(`UPDATE %s SET content = '', name = '', deleted_at = ?, activity_id = ?, updated_position = ?
		WHERE attributed_to = ? AND deleted_at = ''`, a.t.Name("objects"))
	args := []any{a.at, a.ev.ActivityID, int64(a.e.Position), a.ev.Actor}
	if ref.ID != a.ev.Actor { // one object; else the actor deleted itself: all its objects
		set += ` AND id = ?`
		args = append(args, ref.ID)
	}
	return a.exec(set, args...)
}

func (a *applier) react(kind string, ref objectRef) error {
	if ref.ID == "" {
		return nil
	}
	if ref.Inline != nil {
		if _, relay := ref.Inline.Type.in(activityTypes); relay {
			return nil // an Announce of an activity relays it; it is no boost
		}
	}
	return a.exec(fmt.Sprintf(`
		INSERT INTO %s (kind, actor, object_id, activity_id, position) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, actor, object_id) DO UPDATE SET activity_id = excluded.activity_id, position = excluded.position`,
		a.t.Name("reactions")), kind, a.ev.Actor, ref.ID, a.ev.ActivityID, int64(a.e.Position))
}

func (a *applier) undo(ref objectRef) error {
	table := a.t.Name("reactions")
	if in := ref.Inline; in != nil {
		var kind string
		switch t, _ := in.Type.in(map[string]bool{"Like": true, "Announce": true}); t {
		case "Like":
			kind = kindLike
		case "Announce":
			kind = kindAnnounce
		default:
			return nil // Undo of a Follow, Block, EmojiReact, …: not ours
		}
		if len(in.Actor) > 0 && !in.Actor.has(a.ev.Actor) {
			return nil // undoing someone else's reaction
		}
		if target := in.object().ID; target != "" {
			return a.exec(fmt.Sprintf(`DELETE FROM %s WHERE kind = ? AND actor = ? AND object_id = ?`, table),
				kind, a.ev.Actor, target)
		}
		if ref.ID == "" {
			return nil
		}
		return a.exec(fmt.Sprintf(`DELETE FROM %s WHERE kind = ? AND actor = ? AND activity_id = ?`, table),
			kind, a.ev.Actor, ref.ID)
	}
	if ref.ID == "" {
		return nil
	}
	return a.exec(fmt.Sprintf(`DELETE FROM %s WHERE actor = ? AND activity_id = ?`, table), a.ev.Actor, ref.ID)
}
