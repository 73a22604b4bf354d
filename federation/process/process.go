package process

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/federation/reactor"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/follows"
)

// Name is the processor's projection name.
const Name = "inboxprocessor"

// Version is the processor's version. It owns no tables; a new version
// re-feeds it from position 0, which appends nothing new (see the package
// doc).
const Version = 1

// FollowCommands are the follow commands the processor calls
// (*app.Follows implements them).
type FollowCommands interface {
	ReceiveFollow(ctx context.Context, in app.ReceivedFollow) (app.FollowResult, error)
	ReceiveUndo(ctx context.Context, in app.ReceivedActivity) (app.FollowResult, error)
	ReceiveAccept(ctx context.Context, in app.ReceivedActivity) (app.FollowResult, error)
	ReceiveReject(ctx context.Context, in app.ReceivedActivity) (app.FollowResult, error)
	RemoveRemoteActor(ctx context.Context, followerIRI, followeeIRI, remoteActor, cause string) (app.FollowResult, error)
	Relationship(ctx context.Context, followerIRI, followeeIRI string) (follow.State, error)
	FollowMoveTarget(ctx context.Context, in app.MovedFollow) (app.FollowResult, error)
	UnfollowMoveOrigin(ctx context.Context, in app.MovedFollow) (app.FollowResult, error)
}

// RemoteActors resolves remote actors (federation/resolve.Resolver
// implements it); the processor needs their inbox and shared inbox.
type RemoteActors interface {
	Actor(ctx context.Context, iri string) (remote.ActorFetched, error)
}

// RemoteActorsFunc adapts a function to RemoteActors.
type RemoteActorsFunc func(ctx context.Context, iri string) (remote.ActorFetched, error)

// Actor implements RemoteActors.
func (f RemoteActorsFunc) Actor(ctx context.Context, iri string) (remote.ActorFetched, error) {
	return f(ctx, iri)
}

// Relationships lists the live relationships with a remote actor
// (follows.Reader implements it).
type Relationships interface {
	WithRemote(ctx context.Context, remoteIRI string) ([]follows.Relationship, error)
}

// Deps are what the processor calls. They usually read the runner's
// read-model database, so they are bound after the runner exists (Bind).
type Deps struct {
	// Commands are the follow commands (*app.Follows).
	Commands FollowCommands
	// Remote resolves followers' inboxes (federation/resolve.Resolver).
	Remote RemoteActors
	// Relationships finds what a remote actor's Delete ends
	// (follows.Reader).
	Relationships Relationships
	// Local maps a per-actor inbox's recipient id to its IRI
	// (LocalActorDirectory).
	Local app.LocalActors
	// Keys destroys a deleted remote actor's data key
	// (internal/datakeys.Store).
	Keys KeyDestroyer
	// Erasures records a deleted remote actor's erasure (ErasureLog).
	Erasures Erasures
}

// ErrNotBound: the processor got events before Bind; the projection stops
// on the event and is retried.
var ErrNotBound = errors.New("process: inbox processor used before Bind")

// Processor is the inbox processor (see the package doc). Build it with
// New, register it with the projection runner, and Bind its Deps before
// the runner starts.
type Processor struct {
	reactor.Received
	deps atomic.Pointer[Deps]
	urls urls.Scheme
	log  *slog.Logger
	// policy, when set, keeps Follows from silenced or rejected domains
	// from creating relationships (SetPolicy).
	policy moderation.Policy
}

// SetPolicy sets the instance's moderation policy; call it before the
// runner starts.
func (p *Processor) SetPolicy(pol moderation.Policy) { p.policy = pol }

// New returns an unbound inbox processor for the instance with URL scheme
// u. A nil log discards.
func New(u urls.Scheme, log *slog.Logger) *Processor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Processor{Received: reactor.NewReceived("inbox processor", log), urls: u, log: log}
}

// Bind sets what the processor calls; every field is required.
func (p *Processor) Bind(d Deps) error {
	if d.Commands == nil || d.Remote == nil || d.Relationships == nil || d.Local == nil || d.Keys == nil || d.Erasures == nil {
		return errors.New("process: Bind needs Commands, Remote, Relationships, Local, Keys and Erasures")
	}
	p.deps.Store(&d)
	return nil
}

var _ projections.Projector = (*Processor)(nil)

// Name implements projections.Projector.
func (*Processor) Name() string { return Name }

// Version implements projections.Projector.
func (*Processor) Version() int { return Version }

// Apply implements projections.Projector: it processes each received
// activity in order. Refusals are logged and skipped; other errors stop
// the batch.
func (p *Processor) Apply(ctx context.Context, _ *sql.Tx, _ projections.Tables, batch []events.Envelope) error {
	d := p.deps.Load()
	if d == nil {
		return ErrNotBound
	}
	w := work{Processor: p, Deps: d}
	return p.Each(ctx, batch, refused, w.process)
}

// skip is a refusal found by the processor itself (not by a command).
type skip struct{ reason string }

func (s *skip) Error() string { return s.reason }

func skipf(format string, args ...any) error { return &skip{reason: fmt.Sprintf(format, args...)} }

// refused reports whether err is a refusal to log and skip rather than a
// failure.
func refused(err error) bool {
	var s *skip
	return errors.As(err, &s) ||
		errors.Is(err, app.ErrFollowNotFound) || errors.Is(err, app.ErrFollowNotPending) ||
		errors.Is(err, app.ErrFollowForbidden) || errors.Is(err, app.ErrFollowInvalid) ||
		errors.Is(err, app.ErrActorNotFound) || errors.Is(err, app.ErrActorDeleted)
}

// work is the processor with its dependencies, for one batch.
type work struct {
	*Processor
	*Deps
}

// process handles one received activity.
func (p work) process(ctx context.Context, rec *remote.ActivityReceived) error {
	act, err := as2.Decode(rec.Raw)
	if err != nil {
		return skipf("undecodable activity: %v", err)
	}
	// The inbox verified that the signer owns rec.Actor; the activity must
	// name the same actor.
	if act.ActorID() != rec.Actor {
		return skipf("activity actor %q is not the verified actor %q", act.ActorID(), rec.Actor)
	}
	if p.isLocal(rec.Actor) {
		return skipf("activity by a local actor %s", rec.Actor)
	}
	id := rec.ActivityID
	switch act.Type {
	case as2.TypeFollow:
		return p.follow(ctx, id, rec.Actor, act.ObjectID())
	case as2.TypeUndo:
		inner := act.Object.First()
		if inner.Object != nil && inner.Object.Type != as2.TypeFollow {
			return nil // Undo of a Like, Announce, …: not ours
		}
		return p.undo(ctx, id, rec, inner)
	case as2.TypeAccept, as2.TypeReject:
		inner := act.Object.First()
		if inner.Object != nil && inner.Object.Type != as2.TypeFollow {
			return nil // Accept of a Join, Offer, …
		}
		follower, followee := p.followPair(inner, rec.Actor)
		if follower == "" {
			return nil // not a response to a Follow of ours
		}
		in := app.ReceivedActivity{ActivityID: id, Actor: rec.Actor, FollowerIRI: follower, FolloweeIRI: followee}
		if act.Type == as2.TypeAccept {
			_, err = p.Commands.ReceiveAccept(ctx, in)
		} else {
			_, err = p.Commands.ReceiveReject(ctx, in)
		}
		return err
	case as2.TypeDelete:
		// Only the verified actor deleting itself counts: a Delete of
		// an actor by anyone else is ignored.
		if act.ObjectID() != rec.Actor {
			return nil // a post or another object; not ours
		}
		return p.deleteActor(ctx, rec)
	case as2.TypeMove:
		return p.move(ctx, id, rec.Actor, act)
	case as2.TypeUpdate:
		return p.update(ctx, rec, act)
	}
	return nil
}

// isLocal reports whether iri is one of this instance's URLs.
func (p *Processor) isLocal(iri string) bool {
	_, ok := p.urls.Parse(iri)
	return ok
}

// localActorIRI reports whether iri is a local actor's IRI (not a
// collection or profile page).
func (p *Processor) localActorIRI(iri string) bool {
	t, ok := p.urls.Parse(iri)
	return ok && t.Collection == "" && !t.Profile && !strings.ContainsAny(iri, "?#")
}

func (p work) follow(ctx context.Context, id, actorIRI, object string) error {
	if !p.localActorIRI(object) {
		return nil // a Follow of something else (a remote actor, a hashtag…)
	}
	if silenced, err := moderation.Silenced(ctx, p.policy, actorIRI); err != nil {
		return err
	} else if silenced {
		return skipf("Follow from silenced domain %s", moderation.HostOf(actorIRI))
	}
	ra, err := p.Remote.Actor(ctx, actorIRI)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return skipf("resolve follower %s: %v", actorIRI, err)
	}
	if ra.Inbox == "" {
		return skipf("follower %s has no inbox", actorIRI)
	}
	_, err = p.Commands.ReceiveFollow(ctx, app.ReceivedFollow{ActivityID: id, Follower: actorIRI, Followee: object,
		RemoteInbox: ra.Inbox, RemoteSharedInbox: ra.SharedInbox})
	return err
}

// undo handles Undo{Follow}: the Follow inline (Mastodon), or only its
// IRI, which must then be the Follow the relationship with the receiving
// local actor records.
func (p work) undo(ctx context.Context, id string, rec *remote.ActivityReceived, inner as2.Ref) error {
	if inner.Object != nil {
		followee := inner.Object.ObjectID()
		if !p.localActorIRI(followee) {
			return nil
		}
		if f := inner.Object.ActorID(); f != "" && f != rec.Actor {
			return skipf("Undo by %s of a Follow by %s", rec.Actor, f)
		}
		_, err := p.Commands.ReceiveUndo(ctx, app.ReceivedActivity{ActivityID: id, Actor: rec.Actor, FollowerIRI: rec.Actor, FolloweeIRI: followee})
		return err
	}
	if inner.ID == "" || rec.Recipient == "" {
		return nil // nothing to go by (shared inbox, object by IRI)
	}
	local, err := p.Local.ByID(ctx, rec.Recipient)
	if err != nil {
		return err
	}
	s, err := p.Commands.Relationship(ctx, rec.Actor, local.IRI)
	if err != nil {
		return err
	}
	if s.FollowActivityID != inner.ID {
		return nil // an Undo of something else by IRI
	}
	_, err = p.Commands.ReceiveUndo(ctx, app.ReceivedActivity{ActivityID: id, Actor: rec.Actor, FollowerIRI: rec.Actor, FolloweeIRI: local.IRI})
	return err
}

// followPair names the relationship an Accept or Reject from actorIRI
// answers: the inline Follow's actor and object, or for a Follow given by
// IRI, the local actor whose IRI the Follow's id extends
// ("{actor IRI}#follows/…", see app.Follows.Follow) and actorIRI.
// follower is "" when it is no Follow of a local actor.
func (p *Processor) followPair(inner as2.Ref, actorIRI string) (follower, followee string) {
	if inner.Object != nil && inner.Object.ActorID() != "" && inner.Object.ObjectID() != "" {
		follower, followee = inner.Object.ActorID(), inner.Object.ObjectID()
	} else if base, _, ok := strings.Cut(inner.ID, "#follows/"); ok {
		follower, followee = base, actorIRI
	}
	if !p.localActorIRI(follower) {
		return "", ""
	}
	return follower, followee
}

// deleteActor ends every live relationship with a deleted remote actor,
// then erases what this instance keeps of it (erase.go).
func (p work) deleteActor(ctx context.Context, rec *remote.ActivityReceived) error {
	id, actorIRI := rec.ActivityID, rec.Actor
	rels, err := p.Relationships.WithRemote(ctx, actorIRI)
	if err != nil {
		return err
	}
	for _, r := range rels {
		if _, err := p.Commands.RemoveRemoteActor(ctx, r.FollowerIRI, r.FolloweeIRI, actorIRI, id); err != nil && !refused(err) {
			return err
		}
	}
	return p.erase(ctx, rec)
}
