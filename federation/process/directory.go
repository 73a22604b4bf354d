package process

import (
	"context"
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/projections/actors"
)

// LocalActorDirectory implements app.LocalActors over the actors read
// model and the URL scheme.
type LocalActorDirectory struct {
	Actors actors.Reader
	URLs   urls.Scheme
}

var _ app.LocalActors = LocalActorDirectory{}

// ByIRI finds the local actor with that IRI; app.ErrActorNotFound for an
// IRI that is not a local actor's (another host, a collection, a profile
// page, an unknown username).
func (d LocalActorDirectory) ByIRI(ctx context.Context, iri string) (app.LocalActor, error) {
	t, ok := d.URLs.Parse(iri)
	if !ok || t.Collection != "" || t.Profile {
		return app.LocalActor{}, fmt.Errorf("%w: %s is no local actor IRI", app.ErrActorNotFound, iri)
	}
	var a actors.Actor
	var err error
	if t.Username == "" {
		a, err = d.Actors.InstanceActor(ctx)
	} else {
		a, err = d.Actors.ByUsername(ctx, t.Username)
	}
	if err != nil {
		return app.LocalActor{}, d.lookupError(iri, err)
	}
	la := d.local(a)
	if la.IRI != iri {
		// Another kind's path with this username, or a different spelling.
		return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, iri)
	}
	return la, nil
}

// ByID finds the local actor with that id.
func (d LocalActorDirectory) ByID(ctx context.Context, id string) (app.LocalActor, error) {
	a, err := d.Actors.ByID(ctx, id)
	if err != nil {
		return app.LocalActor{}, d.lookupError(id, err)
	}
	return d.local(a), nil
}

func (d LocalActorDirectory) local(a actors.Actor) app.LocalActor {
	return app.LocalActor{ID: a.ID, IRI: d.URLs.Actor(a.Kind, a.Username),
		ManuallyApprovesFollowers: a.ManuallyApprovesFollowers, Deleted: !a.DeletedAt.IsZero()}
}

func (LocalActorDirectory) lookupError(key string, err error) error {
	if errors.Is(err, actors.ErrNotFound) {
		return fmt.Errorf("%w: %s", app.ErrActorNotFound, key)
	}
	return fmt.Errorf("process: look up local actor %s: %w", key, err)
}
