package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/follow"
)

// Errors of the follow commands. Each also matches the domain error it
// stems from (follow.ErrNotFound, …). HTTP maps them to 404, 409 and 403.
var (
	// ErrFollowNotFound: no live relationship between the two actors.
	ErrFollowNotFound = errors.New("app: no such follow relationship")
	// ErrFollowNotPending: the follow request is no longer pending.
	ErrFollowNotPending = errors.New("app: follow request not pending")
	// ErrFollowForbidden: the activity's actor may not do this to the
	// relationship (an Undo by a stranger, an Accept not from the followee,
	// a command for the other direction).
	ErrFollowForbidden = errors.New("app: not allowed on this follow relationship")
	// ErrFollowInvalid: a follow command lacks a required field.
	ErrFollowInvalid = errors.New("app: invalid follow command")
)

// LocalActor is what the follow commands need to know of a local actor.
type LocalActor struct {
	ID string
	// IRI is the actor's ActivityPub id.
	IRI                       string
	ManuallyApprovesFollowers bool
	Deleted                   bool
}

// LocalActors finds local actors. Implementations (over the actors read
// model and the URL scheme, see federation/process.LocalActorDirectory)
// answer an error matching ErrActorNotFound for an unknown actor, and a
// deleted actor with Deleted set.
type LocalActors interface {
	// ByIRI finds the local actor with that ActivityPub id.
	ByIRI(ctx context.Context, iri string) (LocalActor, error)
	// ByID finds the local actor with that id.
	ByID(ctx context.Context, id string) (LocalActor, error)
}

// FollowResult is the outcome of a follow command.
type FollowResult struct {
	// Stream is the relationship's stream.
	Stream string
	// Position is the position of the write, or of the relationship's
	// last event when the command changed nothing (0: no event at all).
	Position events.Position
	// Changed reports whether this command appended events (or found its
	// very events, with the same derived ids, appended by a concurrent
	// identical command: the store answers such an append idempotently).
	Changed bool
	// State is the relationship after the command.
	State follow.State
}

// ReceivedFollow is a Follow from a remote actor, taken from the inbox.
type ReceivedFollow struct {
	// ActivityID is the Follow's id; the command's event ids derive from it.
	ActivityID string
	// Follower is the remote actor (the activity's actor).
	Follower string
	// Followee is the local actor's IRI (the activity's object).
	Followee          string
	RemoteInbox       string
	RemoteSharedInbox string
}

// ReceivedActivity is an Undo, Accept or Reject of a Follow taken from the
// inbox: ActivityID and Actor are the received activity's; FollowerIRI and
// FolloweeIRI name the relationship it concerns.
type ReceivedActivity struct {
	ActivityID  string
	Actor       string
	FollowerIRI string
	FolloweeIRI string
}

// RemoteTarget is the remote actor a local actor follows.
type RemoteTarget struct {
	IRI         string
	Inbox       string
	SharedInbox string
}

// Follows runs the follow commands over an event store. Every event id is
// derived (events.DerivedUUID) from what caused it — the received
// activity's id, or the relationship's stream and revision for local
// commands — so processing the same cause twice appends nothing new.
type Follows struct {
	Store    events.Store
	Registry *events.Registry
	Actors   LocalActors
	// Clock stamps the events' occurred-at; nil means time.Now.
	Clock func() time.Time
	// Origin is this instance's host, recorded for local decisions.
	Origin string
}

// NewFollows returns the follow commands over store, registering the
// follow events in registry unless they are already registered.
func NewFollows(store events.Store, registry *events.Registry, actors LocalActors, origin string) *Follows {
	if !registry.Known(follow.TypeRequested) {
		follow.Register(registry)
	}
	return &Follows{Store: store, Registry: registry, Actors: actors, Clock: time.Now, Origin: origin}
}

// activityIRI makes the id of an activity a local actor sends: a fragment
// of the actor's IRI, "{actor IRI}#{kind}/{uuid}", stable because the uuid
// derives from the activity's cause.
func activityIRI(actorIRI, kind string, cause ...string) string {
	return actorIRI + "#" + kind + "/" + events.DerivedUUID(append([]string{kind}, cause...)...).String()
}

// AcceptID is the id of the Accept a local actor sends for the Follow
// followActivityID.
func AcceptID(localActorIRI, followActivityID string) string {
	return activityIRI(localActorIRI, "accepts", followActivityID)
}

// RejectID is the id of the Reject a local actor sends for the Follow
// followActivityID.
func RejectID(localActorIRI, followActivityID string) string {
	return activityIRI(localActorIRI, "rejects", followActivityID)
}

// ReceiveFollow records a Follow of a local actor by a remote one:
// accepted at once, or pending when the local actor approves followers by
// hand. It fails with ErrActorNotFound / ErrActorDeleted for an unknown or
// deleted local actor.
func (f *Follows) ReceiveFollow(ctx context.Context, in ReceivedFollow) (FollowResult, error) {
	local, err := f.liveActor(ctx, f.Actors.ByIRI, in.Followee)
	if err != nil {
		return FollowResult{}, err
	}
	stream := follow.Stream(in.Follower, local.IRI)
	return f.run(ctx, stream, f.received(in.ActivityID, in.Follower), func(s follow.State, _ revision) ([]any, string, error) {
		evs, err := follow.ReceiveFollow(s, follow.InboundFollow{
			FollowActivityID: in.ActivityID, FollowerIRI: in.Follower, FolloweeIRI: local.IRI, LocalActorID: local.ID,
			RemoteInbox: in.RemoteInbox, RemoteSharedInbox: in.RemoteSharedInbox,
			ManuallyApprovesFollowers: local.ManuallyApprovesFollowers, AcceptActivityID: AcceptID(local.IRI, in.ActivityID),
		})
		return evs, "receive-follow\n" + in.ActivityID, err
	})
}

// ReceiveUndo records a received Undo{Follow}: only the follower may undo;
// an Undo of an unknown or ended relationship changes nothing.
func (f *Follows) ReceiveUndo(ctx context.Context, in ReceivedActivity) (FollowResult, error) {
	return f.run(ctx, follow.Stream(in.FollowerIRI, in.FolloweeIRI), f.received(in.ActivityID, in.Actor),
		func(s follow.State, _ revision) ([]any, string, error) {
			evs, err := follow.ReceiveUndo(s, in.ActivityID, in.Actor)
			return evs, "receive-undo\n" + in.ActivityID, err
		})
}

// ReceiveAccept records a received Accept{Follow} of a local actor's
// follow; only the followee may accept.
func (f *Follows) ReceiveAccept(ctx context.Context, in ReceivedActivity) (FollowResult, error) {
	return f.run(ctx, follow.Stream(in.FollowerIRI, in.FolloweeIRI), f.received(in.ActivityID, in.Actor),
		func(s follow.State, _ revision) ([]any, string, error) {
			evs, err := follow.ReceiveAccept(s, in.ActivityID, in.Actor)
			return evs, "receive-accept\n" + in.ActivityID, err
		})
}

// ReceiveReject records a received Reject{Follow} of a local actor's
// follow; only the followee may reject.
func (f *Follows) ReceiveReject(ctx context.Context, in ReceivedActivity) (FollowResult, error) {
	return f.run(ctx, follow.Stream(in.FollowerIRI, in.FolloweeIRI), f.received(in.ActivityID, in.Actor),
		func(s follow.State, _ revision) ([]any, string, error) {
			evs, err := follow.ReceiveReject(s, in.ActivityID, in.Actor)
			return evs, "receive-reject\n" + in.ActivityID, err
		})
}

// RemoveRemoteActor ends the live relationship between follower and
// followee (either may be the remote side) because the remote actor was
// deleted; cause is the Delete activity's id. ErrFollowNotFound when the
// relationship is not live.
func (f *Follows) RemoveRemoteActor(ctx context.Context, followerIRI, followeeIRI, remoteActor, cause string) (FollowResult, error) {
	stream := follow.Stream(followerIRI, followeeIRI)
	return f.run(ctx, stream, f.received(cause, remoteActor), func(s follow.State, _ revision) ([]any, string, error) {
		evs, err := follow.Remove(s, "remote actor deleted")
		return evs, "remote-deleted\n" + cause + "\n" + stream, err
	})
}

// Approve accepts a pending follow of local actor localActorID by
// followerIRI.
func (f *Follows) Approve(ctx context.Context, localActorID, followerIRI, by string) (FollowResult, error) {
	local, err := f.liveActor(ctx, f.Actors.ByID, localActorID)
	if err != nil {
		return FollowResult{}, err
	}
	return f.run(ctx, follow.Stream(followerIRI, local.IRI), f.local(by), func(s follow.State, _ revision) ([]any, string, error) {
		evs, err := follow.Approve(s, AcceptID(local.IRI, s.FollowActivityID))
		return evs, "approve\n" + s.FollowActivityID, err
	})
}

// Reject refuses a pending follow of local actor localActorID by
// followerIRI.
func (f *Follows) Reject(ctx context.Context, localActorID, followerIRI, by string) (FollowResult, error) {
	local, err := f.liveActor(ctx, f.Actors.ByID, localActorID)
	if err != nil {
		return FollowResult{}, err
	}
	return f.run(ctx, follow.Stream(followerIRI, local.IRI), f.local(by), func(s follow.State, _ revision) ([]any, string, error) {
		evs, err := follow.Reject(s, RejectID(local.IRI, s.FollowActivityID))
		return evs, "reject\n" + s.FollowActivityID, err
	})
}

// RemoveFollower ends followerIRI's (accepted or pending) follow of local
// actor localActorID.
func (f *Follows) RemoveFollower(ctx context.Context, localActorID, followerIRI, by string) (FollowResult, error) {
	local, err := f.liveActor(ctx, f.Actors.ByID, localActorID)
	if err != nil {
		return FollowResult{}, err
	}
	stream := follow.Stream(followerIRI, local.IRI)
	return f.run(ctx, stream, f.local(by), func(s follow.State, rev revision) ([]any, string, error) {
		if s.Direction == follow.Outbound {
			return nil, "", follow.ErrWrongDirection
		}
		evs, err := follow.Remove(s, "removed by the local actor")
		return evs, "remove-follower\n" + stream + "\n" + rev.String(), err
	})
}

// Follow makes local actor localActorID follow a remote actor: it records
// the Follow, which outbound delivery sends. Following an actor already
// followed (or requested) changes nothing.
func (f *Follows) Follow(ctx context.Context, localActorID string, target RemoteTarget, by string) (FollowResult, error) {
	local, err := f.liveActor(ctx, f.Actors.ByID, localActorID)
	if err != nil {
		return FollowResult{}, err
	}
	stream := follow.Stream(local.IRI, target.IRI)
	return f.run(ctx, stream, f.local(by), func(s follow.State, rev revision) ([]any, string, error) {
		// Unique per relationship and attempt, stable across retries of
		// the same decision.
		followID := activityIRI(local.IRI, "follows", stream, rev.String())
		evs, err := follow.SendFollow(s, follow.OutboundFollow{FollowActivityID: followID, FollowerIRI: local.IRI,
			FolloweeIRI: target.IRI, LocalActorID: local.ID, RemoteInbox: target.Inbox, RemoteSharedInbox: target.SharedInbox})
		return evs, "send-follow\n" + followID, err
	})
}

// Unfollow makes local actor localActorID stop following (or withdraw its
// request to) the remote actor targetIRI.
func (f *Follows) Unfollow(ctx context.Context, localActorID, targetIRI, by string) (FollowResult, error) {
	local, err := f.actor(ctx, f.Actors.ByID, localActorID)
	if err != nil {
		return FollowResult{}, err
	}
	return f.run(ctx, follow.Stream(local.IRI, targetIRI), f.local(by), func(s follow.State, _ revision) ([]any, string, error) {
		undoID := activityIRI(local.IRI, "undos", s.FollowActivityID)
		evs, err := follow.SendUndo(s, undoID)
		return evs, "send-undo\n" + undoID, err
	})
}

// Relationship loads the relationship of followerIRI and followeeIRI from
// the event store (StatusNone when there is none).
func (f *Follows) Relationship(ctx context.Context, followerIRI, followeeIRI string) (follow.State, error) {
	l, err := f.load(ctx, follow.Stream(followerIRI, followeeIRI))
	return l.state, err
}

// actor finds a local actor with find.
func (f *Follows) actor(ctx context.Context, find func(context.Context, string) (LocalActor, error), key string) (LocalActor, error) {
	if f.Actors == nil {
		return LocalActor{}, errors.New("app: follows: no local actor directory")
	}
	a, err := find(ctx, key)
	if err != nil {
		return LocalActor{}, err
	}
	if a.IRI == "" || a.ID == "" {
		return LocalActor{}, fmt.Errorf("%w: %s", ErrActorNotFound, key)
	}
	return a, nil
}

// liveActor is actor, refusing a deleted one with ErrActorDeleted.
func (f *Follows) liveActor(ctx context.Context, find func(context.Context, string) (LocalActor, error), key string) (LocalActor, error) {
	a, err := f.actor(ctx, find, key)
	if err == nil && a.Deleted {
		err = fmt.Errorf("%w: %s", ErrActorDeleted, a.ID)
	}
	return a, err
}

func (f *Follows) now() time.Time {
	if f.Clock == nil {
		return time.Now().UTC()
	}
	return f.Clock().UTC()
}

// received is the metadata of events caused by a received activity: the
// remote actor acts, from its host.
func (f *Follows) received(activityID, actorIRI string) events.Metadata {
	origin := ""
	if u, err := url.Parse(actorIRI); err == nil {
		origin = u.Host
	}
	return events.Metadata{Actor: actorIRI, CausationID: activityID, CorrelationID: activityID, OccurredAt: f.now(), Origin: origin}
}

// local is the metadata of a local decision by by.
func (f *Follows) local(by string) events.Metadata {
	return events.Metadata{Actor: by, OccurredAt: f.now(), Origin: f.Origin}
}

// revision is the stream revision a decision was made on.
type revision struct {
	exists bool
	last   uint64
}

// String is "new" for a stream without events, else the last revision.
func (r revision) String() string {
	if !r.exists {
		return "new"
	}
	return strconv.FormatUint(r.last, 10)
}

func (r revision) expected() events.ExpectedRevision {
	if !r.exists {
		return events.NoStream
	}
	return events.Exact(r.last)
}

// loadedFollow is a relationship stream folded into its state.
type loadedFollow struct {
	state    follow.State
	rev      revision
	position events.Position
}

func (f *Follows) load(ctx context.Context, stream string) (loadedFollow, error) {
	envs, err := f.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) {
		return loadedFollow{}, nil
	}
	if err != nil {
		return loadedFollow{}, fmt.Errorf("app: load %s: %w", stream, err)
	}
	var l loadedFollow
	for _, e := range envs {
		payload, err := f.Registry.Decode(e)
		if err != nil {
			return loadedFollow{}, fmt.Errorf("app: load %s: %w", stream, err)
		}
		if err := l.state.Apply(payload); err != nil {
			return loadedFollow{}, fmt.Errorf("app: load %s at revision %d: %w", stream, e.Revision, err)
		}
		l.rev, l.position = revision{exists: true, last: e.Revision}, e.Position
	}
	return l, nil
}

// followError maps the domain's refusals to the application's errors,
// keeping the domain error in the chain.
func followError(err error) error {
	switch {
	case errors.Is(err, follow.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrFollowNotFound, err)
	case errors.Is(err, follow.ErrNotPending):
		return fmt.Errorf("%w: %w", ErrFollowNotPending, err)
	case errors.Is(err, follow.ErrNotParty), errors.Is(err, follow.ErrWrongDirection):
		return fmt.Errorf("%w: %w", ErrFollowForbidden, err)
	case errors.Is(err, follow.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrFollowInvalid, err)
	}
	return err
}

// decideFunc decides on the folded relationship and the revision it was
// read at; cause names the decision, and each event's id is
// DerivedUUID(cause, event type).
type decideFunc func(s follow.State, rev revision) (payloads []any, cause string, err error)

// run loads the stream, decides, and appends with the expected revision;
// on a conflict it reloads and decides again (the domain decides nothing
// for an activity the stream already records), up to MaxConflictRetries
// times.
func (f *Follows) run(ctx context.Context, stream string, meta events.Metadata, decide decideFunc) (FollowResult, error) {
	for attempt := 0; ; attempt++ {
		l, err := f.load(ctx, stream)
		if err != nil {
			return FollowResult{}, err
		}
		payloads, cause, err := decide(l.state, l.rev)
		if err != nil {
			return FollowResult{Stream: stream, Position: l.position, State: l.state}, followError(err)
		}
		if len(payloads) == 0 {
			return FollowResult{Stream: stream, Position: l.position, State: l.state}, nil
		}
		evs := make([]events.EventData, 0, len(payloads))
		next := l.state
		for _, p := range payloads {
			ed, err := f.Registry.NewEvent(events.UUID{}, p, meta)
			if err != nil {
				return FollowResult{}, fmt.Errorf("app: %w", err)
			}
			ed.ID = events.DerivedUUID(cause, ed.Type)
			evs = append(evs, ed)
			if err := next.Apply(p); err != nil {
				return FollowResult{}, fmt.Errorf("app: %s: decided event does not apply: %w", stream, err)
			}
		}
		res, err := f.Store.Append(ctx, stream, l.rev.expected(), evs...)
		switch {
		case errors.Is(err, events.ErrWrongExpectedRevision) || errors.Is(err, events.ErrIdempotencyConflict):
			// Someone else wrote first (or these very events are already in
			// the log): decide again on the fresh state.
			if attempt < MaxConflictRetries {
				continue
			}
			return FollowResult{}, fmt.Errorf("%w: %s after %d attempts: %w", ErrConflict, stream, attempt+1, err)
		case err != nil:
			return FollowResult{}, fmt.Errorf("app: append to %s: %w", stream, err)
		}
		return FollowResult{Stream: stream, Position: res.Position, Changed: true, State: next}, nil
	}
}

// MovedFollow is one local actor's accepted follow of a remote actor that
// announced a Move (account migration) to Target.
type MovedFollow struct {
	// MoveID is the Move's id; the commands' activity and event ids derive
	// from it.
	MoveID string
	// OldIRI is the moving remote actor (the Move's actor and object).
	OldIRI       string
	LocalActorID string
	// Target is the new account.
	Target RemoteTarget
}

// MoveFollowID is the id of the Follow local actor localActorIRI sends to
// the new account of a Move moveID.
func MoveFollowID(localActorIRI, moveID, targetIRI string) string {
	return activityIRI(localActorIRI, "follows", "move", moveID, targetIRI)
}

// MoveUndoID is the id of the Undo local actor localActorIRI sends to the
// old account of a Move moveID.
func MoveUndoID(localActorIRI, moveID string) string {
	return activityIRI(localActorIRI, "undos", "move", moveID)
}

// FollowMoveTarget makes a local actor follow the new account of a Move
// (Follow id MoveFollowID). A relationship already live, or one that
// already records this Follow (it was sent and has ended since), decides
// nothing, so processing the Move again appends nothing.
func (f *Follows) FollowMoveTarget(ctx context.Context, in MovedFollow) (FollowResult, error) {
	if in.MoveID == "" || in.OldIRI == "" {
		return FollowResult{}, fmt.Errorf("%w: a Move needs its id and old actor", ErrFollowInvalid)
	}
	local, err := f.liveActor(ctx, f.Actors.ByID, in.LocalActorID)
	if err != nil {
		return FollowResult{}, err
	}
	followID := MoveFollowID(local.IRI, in.MoveID, in.Target.IRI)
	return f.run(ctx, follow.Stream(local.IRI, in.Target.IRI), f.received(in.MoveID, in.OldIRI),
		func(s follow.State, _ revision) ([]any, string, error) {
			evs, err := follow.SendFollow(s, follow.OutboundFollow{FollowActivityID: followID, FollowerIRI: local.IRI,
				FolloweeIRI: in.Target.IRI, LocalActorID: local.ID, RemoteInbox: in.Target.Inbox, RemoteSharedInbox: in.Target.SharedInbox})
			return evs, "move-follow\n" + followID, err
		})
}

// UnfollowMoveOrigin makes a local actor stop following the old account of
// a Move (Undo id MoveUndoID). A relationship that already records this
// Undo decides nothing, even if the local actor followed the old account
// again since; one that is not live is ErrFollowNotFound.
func (f *Follows) UnfollowMoveOrigin(ctx context.Context, in MovedFollow) (FollowResult, error) {
	if in.MoveID == "" || in.OldIRI == "" {
		return FollowResult{}, fmt.Errorf("%w: a Move needs its id and old actor", ErrFollowInvalid)
	}
	local, err := f.actor(ctx, f.Actors.ByID, in.LocalActorID)
	if err != nil {
		return FollowResult{}, err
	}
	undoID := MoveUndoID(local.IRI, in.MoveID)
	return f.run(ctx, follow.Stream(local.IRI, in.OldIRI), f.received(in.MoveID, in.OldIRI),
		func(s follow.State, _ revision) ([]any, string, error) {
			if s.Seen(undoID) {
				return nil, "", nil
			}
			evs, err := follow.SendUndo(s, undoID)
			return evs, "move-undo\n" + undoID, err
		})
}
