package actors

import (
	"context"
	"errors"
	"time"

	"github.com/hanse-network/hanse/internal/domain/actor"
)

// Name is the projection's name.
const Name = "actors"

// ErrNotFound: no local actor has that username or id.
var ErrNotFound = errors.New("actors: not found")

// Actor is a local actor as the read model holds it.
type Actor struct {
	ID                        string
	Kind                      actor.Kind
	Username                  string
	Name                      string
	Summary                   string
	ManuallyApprovesFollowers bool
	Discoverable              bool
	PublicKeyPEM              string
	SealedPrivateKey          []byte
	KeyGeneration             int
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
	// DeletedAt is non-zero for a deleted actor (documents answer 410).
	DeletedAt time.Time
}

// Counts are the figures NodeInfo reports.
type Counts struct {
	// People is the number of local Person actors not deleted.
	People int
	// Communities is the number of local Group actors not deleted.
	Communities int
}

// Reader is the read-only query interface of the actors read model.
type Reader interface {
	// ByUsername finds an actor (deleted ones included) by username,
	// case-insensitively; ErrNotFound when there is none.
	ByUsername(ctx context.Context, username string) (Actor, error)
	// ByID finds an actor by id; ErrNotFound when there is none.
	ByID(ctx context.Context, id string) (Actor, error)
	// InstanceActor returns the instance's Application actor.
	InstanceActor(ctx context.Context) (Actor, error)
	// Counts returns the NodeInfo usage figures.
	Counts(ctx context.Context) (Counts, error)
}
