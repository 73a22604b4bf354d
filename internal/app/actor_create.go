package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
)

// Create reserves the username and creates the actor (see ActorCommands).
//
// Two appends, each with expected revision NoStream: actor.username_reserved
// (carrying the new actor id) to actor.UsernameStream(username), then
// actor.created to actor.Stream(id). The first makes the username unique;
// losing it gives ErrUsernameTaken.
//
// Retry safety: if a process dies between the two appends, the username is
// reserved for an actor id whose stream is empty. A later Create of the same
// username finds that reservation, sees the actor stream empty, and completes
// it: it creates its actor under the reserved id (the orphan was never
// visible anywhere, since only actor.created makes an actor). If two Creates
// race to complete one reservation, the actor stream's NoStream decides and
// the loser gets ErrUsernameTaken. A Create retried with the same ids (same
// NewID sequence) is idempotent: the store recognises the event ids.
//
// Kind Application is refused: the one Application actor is made by
// EnsureInstanceActor.
func (a *Actors) Create(ctx context.Context, cmd CreateActor) (CreateActorResult, error) {
	if cmd.Kind == actor.KindApplication {
		return CreateActorResult{}, &ValidationError{Field: "kind",
			Reason: "the only Application actor is the instance actor, created at start"}
	}
	return a.create(ctx, a.id().String(), cmd, false)
}

// create is Create for a given actor id; instance marks the instance
// actor, for which losing a race means "already there", not "taken".
func (a *Actors) create(ctx context.Context, id string, cmd CreateActor, instance bool) (CreateActorResult, error) {
	in := actor.NewActor{ID: id, Kind: cmd.Kind, Username: cmd.Username, Name: cmd.Name, Summary: cmd.Summary,
		ManuallyApprovesFollowers: cmd.ManuallyApprovesFollowers, Discoverable: cmd.Discoverable}
	if err := actor.CheckNew(in); err != nil {
		return CreateActorResult{}, domainError(id, err)
	}
	reservation, err := actor.ReserveUsername(cmd.Kind, cmd.Username, id)
	if err != nil {
		return CreateActorResult{}, domainError(id, err)
	}
	// The key is made before anything is written, so that a failing
	// generator leaves no reservation behind; it is sealed once the actor
	// id is final (an orphaned reservation may lend its id).
	publicPEM, privatePEM, err := a.generateKey()
	if err != nil {
		return CreateActorResult{}, err
	}
	correlationID := a.correlation(cmd.CorrelationID)
	reservationID, createdID := a.id(), a.id()

	ev, err := a.Registry.NewEvent(reservationID, reservation, a.meta(cmd.By, correlationID))
	if err != nil {
		return CreateActorResult{}, fmt.Errorf("app: %w", err)
	}
	_, err = a.Store.Append(ctx, actor.UsernameStream(reservation.Username), events.NoStream, ev)
	switch {
	case errors.Is(err, events.ErrWrongExpectedRevision):
		owner, err := a.adoptable(ctx, reservation.Username, id, instance)
		if err != nil {
			return CreateActorResult{}, err
		}
		id, in.ID = owner, owner
	case err != nil:
		return CreateActorResult{}, fmt.Errorf("app: reserve username %q: %w", reservation.Username, err)
	}

	in.PublicKeyPEM = publicPEM
	if in.SealedPrivateKey, err = a.seal(id, privatePEM); err != nil {
		return CreateActorResult{}, err
	}
	created, err := actor.Create(actor.State{}, in)
	if err != nil {
		return CreateActorResult{}, domainError(id, err)
	}
	meta := a.meta(cmd.By, correlationID)
	meta.CausationID = reservationID.String()
	ev, err = a.Registry.NewEvent(createdID, created, meta)
	if err != nil {
		return CreateActorResult{}, fmt.Errorf("app: %w", err)
	}
	res, err := a.Store.Append(ctx, actor.Stream(id), events.NoStream, ev)
	switch {
	case errors.Is(err, events.ErrWrongExpectedRevision) && instance:
		l, err := a.load(ctx, id)
		if err != nil {
			return CreateActorResult{}, err
		}
		return CreateActorResult{ActorID: id, Position: l.position}, nil
	case errors.Is(err, events.ErrWrongExpectedRevision):
		// Another Create completed the same orphaned reservation first.
		return CreateActorResult{}, fmt.Errorf("%w: %q", ErrUsernameTaken, reservation.Username)
	case err != nil:
		return CreateActorResult{}, fmt.Errorf("app: create actor %s: %w", id, err)
	}
	return CreateActorResult{ActorID: id, Position: res.Position}, nil
}

// adoptable decides what to do when username is already reserved: it
// returns the actor id to create under (the reservation's own, when it is
// ours or an orphan whose actor stream is empty), or ErrUsernameTaken.
func (a *Actors) adoptable(ctx context.Context, username, id string, instance bool) (string, error) {
	envs, err := a.Store.ReadStream(ctx, actor.UsernameStream(username), events.ReadStreamOptions{Direction: events.Forwards, Max: 1})
	if err != nil {
		return "", fmt.Errorf("app: read reservation of %q: %w", username, err)
	}
	if len(envs) == 0 {
		return "", fmt.Errorf("app: read reservation of %q: empty stream", username)
	}
	payload, err := a.Registry.Decode(envs[0])
	if err != nil {
		return "", fmt.Errorf("app: read reservation of %q: %w", username, err)
	}
	r, ok := payload.(*actor.UsernameReserved)
	if !ok {
		return "", fmt.Errorf("app: reservation stream of %q starts with %s", username, envs[0].Type)
	}
	if r.ActorID == id {
		return id, nil // our own reservation: a retry, or a concurrent EnsureInstanceActor
	}
	if instance || r.ActorID == actor.InstanceID {
		// The instance actor's id is fixed: it cannot take another actor's
		// reservation, nor can an ordinary actor take the instance's.
		return "", fmt.Errorf("%w: %q", ErrUsernameTaken, username)
	}
	l, err := a.load(ctx, r.ActorID)
	if err != nil {
		return "", err
	}
	if l.state.Exists {
		return "", fmt.Errorf("%w: %q", ErrUsernameTaken, username)
	}
	return r.ActorID, nil
}

// EnsureInstanceActor creates the instance's Application actor (id
// actor.InstanceID) with the given username unless it exists, and returns
// its id and the position of its last event. It is idempotent and safe to
// call concurrently and on every start. An existing instance actor keeps
// its username even if a different one is given (a host rename is not
// supported by ActivityPub).
func (a *Actors) EnsureInstanceActor(ctx context.Context, username string) (string, events.Position, error) {
	l, err := a.load(ctx, actor.InstanceID)
	if err != nil {
		return "", 0, err
	}
	if l.state.Exists {
		return actor.InstanceID, l.position, nil
	}
	res, err := a.create(ctx, actor.InstanceID, CreateActor{Kind: actor.KindApplication, Username: username,
		ManuallyApprovesFollowers: true, By: SystemActor}, true)
	if err != nil {
		return "", 0, err
	}
	return res.ActorID, res.Position, nil
}
