package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
)

// Errors of the actor commands; HTTP maps them to 409, 404 and 422/400.
var (
	ErrUsernameTaken = errors.New("app: username taken")
	ErrActorNotFound = errors.New("app: actor not found")
	ErrActorDeleted  = errors.New("app: actor deleted")
)

// ValidationError reports one invalid command field.
type ValidationError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *ValidationError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// CreateActor is the command that creates a local actor.
type CreateActor struct {
	Kind                      actor.Kind
	Username                  string
	Name                      string
	Summary                   string
	ManuallyApprovesFollowers bool
	Discoverable              bool
	// By identifies who acts (recorded as the events' actor metadata).
	By string
	// CorrelationID ties the events to the request; optional.
	CorrelationID string
}

// CreateActorResult reports the new actor and the write's position (for
// read-your-writes).
type CreateActorResult struct {
	ActorID  string
	Position events.Position
}

// ActorCommands is the application service for local actors.
type ActorCommands interface {
	// Create reserves the username and creates the actor with a new
	// RSA-2048 key pair whose private key is sealed with the master key.
	Create(ctx context.Context, cmd CreateActor) (CreateActorResult, error)
	// RotateKey replaces the actor's key pair.
	RotateKey(ctx context.Context, actorID, by string) (events.Position, error)
	// Delete marks the actor deleted.
	Delete(ctx context.Context, actorID, by string) (events.Position, error)
	// EnsureInstanceActor creates the instance's Application actor with the
	// given username unless it exists, and returns its id.
	EnsureInstanceActor(ctx context.Context, username string) (string, events.Position, error)
}
