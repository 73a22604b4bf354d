package app

import (
	"context"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
)

// RotateKey replaces the actor's key pair with a new one (key generation
// + 1); the new private key is sealed for the actor like the first.
func (a *Actors) RotateKey(ctx context.Context, actorID, by string) (events.Position, error) {
	l, err := a.load(ctx, actorID)
	if err != nil {
		return 0, err
	}
	// Refuse early, before spending a key generation on nothing.
	if err := l.state.Live(); err != nil {
		return 0, domainError(actorID, err)
	}
	publicPEM, sealed, err := a.newKey(actorID)
	if err != nil {
		return 0, err
	}
	return a.change(ctx, actorID, by, func(s actor.State) (any, error) {
		ev, err := actor.RotateKey(s, publicPEM, sealed)
		if err != nil {
			return nil, err
		}
		return ev, nil
	})
}

// Delete marks the actor deleted; ErrActorDeleted if it already is. The
// instance actor cannot be deleted (*ValidationError).
func (a *Actors) Delete(ctx context.Context, actorID, by string) (events.Position, error) {
	return a.change(ctx, actorID, by, func(s actor.State) (any, error) {
		ev, err := actor.Delete(s, "")
		if err != nil {
			return nil, err
		}
		return ev, nil
	})
}

// UpdateProfile changes the profile fields p carries (nil: unchanged). A
// change to the current values appends nothing and returns the position of
// the actor's last event.
func (a *Actors) UpdateProfile(ctx context.Context, actorID string, p actor.ProfileUpdated, by string) (events.Position, error) {
	return a.change(ctx, actorID, by, func(s actor.State) (any, error) {
		ev, changed, err := actor.UpdateProfile(s, p)
		if err != nil || !changed {
			return nil, err
		}
		return ev, nil
	})
}
