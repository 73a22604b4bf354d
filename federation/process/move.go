package process

import (
	"context"
	"slices"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// RemoteActorRefresher refetches a remote actor even when a cached copy is
// fresh (federation/resolve.Resolver implements it). When the Remote
// dependency implements it, a Move whose target's cached document does not
// list the old actor in alsoKnownAs is checked once more against a fresh
// copy, as the alias is typically added just before the Move.
type RemoteActorRefresher interface {
	Refresh(ctx context.Context, iri string) (remote.ActorFetched, error)
}

// move handles Move (account migration), as Mastodon does: the old actor
// (the Move's actor, which must also be its object) announces its new
// account (target); when the target's alsoKnownAs lists the old actor,
// every local actor with an accepted follow of the old actor follows the
// target and unfollows the old actor. Ids derive from the Move's id, so
// processing it again appends nothing. Local actors the old actor follows
// need nothing (the old actor's server moves its follows itself).
func (p work) move(ctx context.Context, id, oldIRI string, act *as2.Object) error {
	if obj := act.ObjectID(); obj != oldIRI {
		return skipf("Move by %s of another object %q", oldIRI, obj)
	}
	target := act.Target.First().ID
	switch {
	case target == "":
		return skipf("Move by %s without a target", oldIRI)
	case target == oldIRI:
		return skipf("Move by %s to itself", oldIRI)
	case p.isLocal(target):
		return skipf("Move by %s to a local actor %s (not supported)", oldIRI, target)
	}
	rels, err := p.Relationships.WithRemote(ctx, oldIRI)
	if err != nil {
		return err
	}
	var followers []string
	for _, r := range rels {
		if r.Direction == follow.Outbound && r.State == follow.StatusAccepted {
			followers = append(followers, r.LocalActorID)
		}
	}
	if len(followers) == 0 {
		return nil // nobody here follows the old actor; no need to fetch the target
	}
	ta, err := p.moveTarget(ctx, oldIRI, target)
	if err != nil {
		return err
	}
	for _, local := range followers {
		in := app.MovedFollow{MoveID: id, OldIRI: oldIRI, LocalActorID: local,
			Target: app.RemoteTarget{IRI: target, Inbox: ta.Inbox, SharedInbox: ta.SharedInbox}}
		if _, err := p.Commands.FollowMoveTarget(ctx, in); err != nil {
			if !refused(err) {
				return err
			}
			// This local actor keeps following the old account.
			p.log.InfoContext(ctx, "inbox processor: Move: follow of the target refused", "activity", id,
				"local_actor", local, "target", target, "reason", err)
			continue
		}
		if _, err := p.Commands.UnfollowMoveOrigin(ctx, in); err != nil && !refused(err) {
			return err
		}
	}
	return nil
}

// moveTarget resolves a Move's target and checks that it names oldIRI in
// alsoKnownAs, refetching it once (RemoteActorRefresher) if the cached
// document does not.
func (p work) moveTarget(ctx context.Context, oldIRI, target string) (remote.ActorFetched, error) {
	ta, err := p.Remote.Actor(ctx, target)
	if err == nil && !slices.Contains(alsoKnownAs(ta), oldIRI) {
		if r, ok := p.Remote.(RemoteActorRefresher); ok {
			if fresh, ferr := r.Refresh(ctx, target); ferr == nil {
				ta = fresh
			} else if ctx.Err() != nil {
				return remote.ActorFetched{}, ctx.Err()
			}
		}
	}
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return remote.ActorFetched{}, ctx.Err()
		}
		return remote.ActorFetched{}, skipf("resolve Move target %s: %v", target, err)
	case ta.IRI != "" && ta.IRI != target:
		return remote.ActorFetched{}, skipf("Move target %s resolved to another actor %s", target, ta.IRI)
	case !slices.Contains(alsoKnownAs(ta), oldIRI):
		return remote.ActorFetched{}, skipf("Move target %s does not list %s in alsoKnownAs", target, oldIRI)
	case ta.Inbox == "":
		return remote.ActorFetched{}, skipf("Move target %s has no inbox", target)
	}
	return ta, nil
}

// alsoKnownAs reads the aliases from a fetched actor's raw document (nil
// when it has none or cannot be read).
func alsoKnownAs(a remote.ActorFetched) []string {
	if len(a.Raw) == 0 {
		return nil
	}
	o, err := as2.Decode(a.Raw)
	if err != nil || o.Profile == nil {
		return nil
	}
	return o.Profile.AlsoKnownAs
}
