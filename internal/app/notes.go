package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/note"
)

// Errors of the note commands; HTTP maps them to 404, 410 and 403.
var (
	ErrNoteNotFound = errors.New("app: note not found")
	ErrNoteDeleted  = errors.New("app: note deleted")
	ErrNotAuthor    = errors.New("app: only the author may do this")
)

// Notes is the application service for notes. Set the fields (or use
// NewNotes) before the first call; nil Clock and NewID default to
// time.Now and events.NewUUID.
type Notes struct {
	Store    events.Store
	Registry *events.Registry
	Clock    func() time.Time
	// NewID makes note ids and event ids.
	NewID func() events.UUID
	// Origin is this instance's host, recorded in the events' metadata.
	Origin string
}

// NewNotes returns the note commands over store, registering the actor and
// note events in registry unless they are already registered.
func NewNotes(store events.Store, registry *events.Registry, origin string) *Notes {
	if !registry.Known(actor.TypeCreated) {
		actor.Register(registry)
	}
	if !registry.Known(note.TypePublished) {
		note.Register(registry)
	}
	return &Notes{Store: store, Registry: registry, Clock: time.Now, NewID: events.NewUUID, Origin: origin}
}

func (n *Notes) id() events.UUID {
	if n.NewID == nil {
		return events.NewUUID()
	}
	return n.NewID()
}

func (n *Notes) meta(by, correlationID string) events.Metadata {
	now := time.Now
	if n.Clock != nil {
		now = n.Clock
	}
	return events.Metadata{Actor: by, CorrelationID: correlationID, OccurredAt: now().UTC(), Origin: n.Origin}
}

// Publish publishes a note by the local actor authorID and returns its id
// and the write's position. The author must be a live local actor; content
// is 1-5,000 characters of plain text; language is an optional BCP 47 tag;
// visibility is public, unlisted, followers or direct. by is recorded as
// the acting actor.
func (n *Notes) Publish(ctx context.Context, authorID, content, language string, visibility note.Visibility, by string) (string, events.Position, error) {
	author, err := n.loadActor(ctx, authorID)
	if err != nil {
		return "", 0, err
	}
	noteID := n.id().String()
	ev, err := note.Publish(note.State{}, note.NewNote{ID: noteID, Content: content, Language: language,
		Visibility: visibility}, author)
	if err != nil {
		return "", 0, noteError(authorID, noteID, err)
	}
	data, err := n.Registry.NewEvent(n.id(), ev, n.meta(by, n.id().String()))
	if err != nil {
		return "", 0, fmt.Errorf("app: %w", err)
	}
	// The note id is new, so NoStream cannot conflict except with a retry
	// of this very append (same event id: idempotent).
	res, err := n.Store.Append(ctx, note.Stream(noteID), events.NoStream, data)
	if err != nil {
		return "", 0, fmt.Errorf("app: publish note %s: %w", noteID, err)
	}
	return noteID, res.Position, nil
}

// Delete deletes a note on behalf of actorID, which must be its author; an
// empty actorID acts for the author (an administrator's removal, recorded
// with by as the acting actor). It returns the write's position.
func (n *Notes) Delete(ctx context.Context, noteID, actorID, by string) (events.Position, error) {
	eventID, correlationID := n.id(), n.id().String()
	return retryConflicts("note "+noteID, func() (events.Position, error) {
		s, rev, err := n.loadNote(ctx, noteID)
		if err != nil {
			return 0, err
		}
		who := actorID
		if who == "" {
			who = s.AuthorID
		}
		ev, err := note.Delete(s, who)
		if err != nil {
			return 0, noteError(who, noteID, err)
		}
		data, err := n.Registry.NewEvent(eventID, ev, n.meta(by, correlationID))
		if err != nil {
			return 0, fmt.Errorf("app: %w", err)
		}
		res, err := n.Store.Append(ctx, note.Stream(noteID), events.Exact(rev), data)
		return appended(res, err, "delete note "+noteID)
	})
}

// loadActor folds actor id's stream (a zero state when it does not exist).
func (n *Notes) loadActor(ctx context.Context, id string) (actor.State, error) {
	envs, err := n.Store.ReadStream(ctx, actor.Stream(id), events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) || errors.Is(err, events.ErrInvalidStreamName) {
		return actor.State{}, nil
	}
	if err != nil {
		return actor.State{}, fmt.Errorf("app: load actor %s: %w", id, err)
	}
	var s actor.State
	for _, e := range envs {
		p, err := n.Registry.Decode(e)
		if err != nil {
			return actor.State{}, fmt.Errorf("app: load actor %s: %w", id, err)
		}
		if err := s.Apply(p); err != nil {
			return actor.State{}, fmt.Errorf("app: load actor %s: %w", id, err)
		}
	}
	return s, nil
}

// loadNote folds note id's stream and returns the revision of its last
// event.
func (n *Notes) loadNote(ctx context.Context, id string) (note.State, uint64, error) {
	envs, err := n.Store.ReadStream(ctx, note.Stream(id), events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) || errors.Is(err, events.ErrInvalidStreamName) {
		return note.State{}, 0, nil
	}
	if err != nil {
		return note.State{}, 0, fmt.Errorf("app: load note %s: %w", id, err)
	}
	var s note.State
	var rev uint64
	for _, e := range envs {
		p, err := n.Registry.Decode(e)
		if err != nil {
			return note.State{}, 0, fmt.Errorf("app: load note %s: %w", id, err)
		}
		if err := s.Apply(p); err != nil {
			return note.State{}, 0, fmt.Errorf("app: load note %s: %w", id, err)
		}
		rev = e.Revision
	}
	return s, rev, nil
}

// noteError maps the note domain's errors to the application's.
func noteError(actorID, noteID string, err error) error {
	var fe *note.FieldError
	switch {
	case errors.As(err, &fe):
		return &ValidationError{Field: fe.Field, Reason: fe.Reason}
	case errors.Is(err, actor.ErrDeleted):
		return fmt.Errorf("%w: %s", ErrActorDeleted, actorID)
	case errors.Is(err, note.ErrAuthorNotLive):
		return fmt.Errorf("%w: %s", ErrActorNotFound, actorID)
	case errors.Is(err, note.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrNoteNotFound, noteID)
	case errors.Is(err, note.ErrDeleted):
		return fmt.Errorf("%w: %s", ErrNoteDeleted, noteID)
	case errors.Is(err, note.ErrNotAuthor):
		return fmt.Errorf("%w: %s", ErrNotAuthor, noteID)
	}
	return err
}
