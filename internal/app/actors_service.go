package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
)

// ErrConflict: a command lost the optimistic-concurrency race more than
// MaxConflictRetries times in a row. It also matches
// events.ErrWrongExpectedRevision. HTTP maps it to 409.
var ErrConflict = errors.New("app: concurrent modification, try again")

// MaxConflictRetries is how often a command reloads and decides again after
// a wrong-expected-revision conflict before it gives up with ErrConflict.
const MaxConflictRetries = 3

// SystemActor is the acting actor recorded for what the instance does by
// itself (the instance actor's creation).
const SystemActor = "system"

// RSAKeyBits is the size of the actors' RSA keys (what Mastodon uses).
const RSAKeyBits = 2048

// Sealer encrypts secrets at rest with the instance's master key, binding
// them to additionalData (internal/secrets.Keyring implements it; app takes
// the interface because it may not import that package).
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
}

// KeyGenerator makes an actor's key pair. Tests inject a fixed key, since
// generating RSA-2048 keys is slow.
type KeyGenerator func() (*rsa.PrivateKey, error)

// GenerateRSAKey is the default KeyGenerator: a new RSA-2048 key.
func GenerateRSAKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, RSAKeyBits)
	if err != nil {
		return nil, fmt.Errorf("app: generate RSA key: %w", err)
	}
	return k, nil
}

// EncodeKeyPair returns the SPKI "PUBLIC KEY" PEM of k's public key (the
// actor document's publicKeyPem) and the PKCS#8 "PRIVATE KEY" PEM of k,
// which is what actors' sealed private keys hold once opened.
func EncodeKeyPair(k *rsa.PrivateKey) (publicPEM string, privatePEM []byte, err error) {
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", nil, fmt.Errorf("app: encode public key: %w", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", nil, fmt.Errorf("app: encode private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}), nil
}

// Actors implements ActorCommands over an event store. Set the fields (or
// use NewActors) before the first call; nil Keys, Clock and NewID default
// to GenerateRSAKey, time.Now and events.NewUUID.
type Actors struct {
	Store    events.Store
	Registry *events.Registry
	// Sealer seals private keys; the additional data is
	// actor.PrivateKeyAD(actor id), so a sealed key only opens for its actor.
	Sealer Sealer
	Keys   KeyGenerator
	Clock  func() time.Time
	// NewID makes actor ids and event ids. A retry that is given the same
	// ids is idempotent (the store recognises the event ids).
	NewID func() events.UUID
	// Origin is this instance's host, recorded in the events' metadata.
	Origin string
}

var _ ActorCommands = (*Actors)(nil)

// NewActors returns the actor commands over store, registering the actor
// events in registry unless they are already registered, with the default
// key generator, clock and id generator.
func NewActors(store events.Store, registry *events.Registry, sealer Sealer, origin string) *Actors {
	if !registry.Known(actor.TypeCreated) {
		actor.Register(registry)
	}
	return &Actors{Store: store, Registry: registry, Sealer: sealer, Keys: GenerateRSAKey,
		Clock: time.Now, NewID: events.NewUUID, Origin: origin}
}

func (a *Actors) now() time.Time {
	if a.Clock == nil {
		return time.Now().UTC()
	}
	return a.Clock().UTC()
}

func (a *Actors) id() events.UUID {
	if a.NewID == nil {
		return events.NewUUID()
	}
	return a.NewID()
}

func (a *Actors) meta(by, correlationID string) events.Metadata {
	return events.Metadata{Actor: by, CorrelationID: correlationID, OccurredAt: a.now(), Origin: a.Origin}
}

func (a *Actors) correlation(given string) string {
	if given != "" {
		return given
	}
	return a.id().String()
}

// newKey generates a key pair and seals its private key for actor id.
func (a *Actors) newKey(id string) (publicPEM string, sealed []byte, err error) {
	publicPEM, privatePEM, err := a.generateKey()
	if err != nil {
		return "", nil, err
	}
	sealed, err = a.seal(id, privatePEM)
	return publicPEM, sealed, err
}

// generateKey makes a key pair with the KeyGenerator, PEM-encoded.
func (a *Actors) generateKey() (publicPEM string, privatePEM []byte, err error) {
	gen := a.Keys
	if gen == nil {
		gen = GenerateRSAKey
	}
	k, err := gen()
	if err != nil {
		return "", nil, err
	}
	if k == nil || k.N == nil || k.N.BitLen() < RSAKeyBits {
		return "", nil, fmt.Errorf("app: key generator must make RSA keys of at least %d bits", RSAKeyBits)
	}
	return EncodeKeyPair(k)
}

// seal seals a private key for actor id (additional data
// actor.PrivateKeyAD(id)).
func (a *Actors) seal(id string, privatePEM []byte) ([]byte, error) {
	if a.Sealer == nil {
		return nil, errors.New("app: no sealer for private keys")
	}
	sealed, err := a.Sealer.Seal(privatePEM, actor.PrivateKeyAD(id))
	if err != nil {
		return nil, fmt.Errorf("app: seal private key: %w", err)
	}
	return sealed, nil
}

// loaded is an actor stream folded into its state.
type loaded struct {
	state    actor.State
	revision uint64          // of the last event; meaningful when state.Exists
	position events.Position // of the last event
}

// load reads and folds actor id's stream; a missing stream gives a zero
// state without error.
func (a *Actors) load(ctx context.Context, id string) (loaded, error) {
	envs, err := a.Store.ReadStream(ctx, actor.Stream(id), events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) {
		return loaded{}, nil
	}
	if err != nil {
		return loaded{}, fmt.Errorf("app: load actor %s: %w", id, err)
	}
	var l loaded
	for _, e := range envs {
		payload, err := a.Registry.Decode(e)
		if err != nil {
			return loaded{}, fmt.Errorf("app: load actor %s: %w", id, err)
		}
		if err := l.state.Apply(payload); err != nil {
			return loaded{}, fmt.Errorf("app: load actor %s at revision %d: %w", id, e.Revision, err)
		}
		l.revision, l.position = e.Revision, e.Position
	}
	return l, nil
}

// domainError maps the domain's errors to the application's.
func domainError(id string, err error) error {
	var fe *actor.FieldError
	switch {
	case errors.As(err, &fe):
		return &ValidationError{Field: fe.Field, Reason: fe.Reason}
	case errors.Is(err, actor.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrActorNotFound, id)
	case errors.Is(err, actor.ErrDeleted):
		return fmt.Errorf("%w: %s", ErrActorDeleted, id)
	}
	return err
}

// change runs one command on an existing actor: load, decide, append with
// the expected revision; on a conflict it reloads and decides again, up to
// MaxConflictRetries times. decide returns the event payload, or nil for
// no change (then the position of the actor's last event is returned). The
// event id is made once, so every attempt appends the same event id.
func (a *Actors) change(ctx context.Context, id, by string, decide func(actor.State) (any, error)) (events.Position, error) {
	eventID := a.id()
	correlationID := a.id().String()
	return retryConflicts("actor "+id, func() (events.Position, error) {
		l, err := a.load(ctx, id)
		if err != nil {
			return 0, err
		}
		payload, err := decide(l.state)
		if err != nil {
			return 0, domainError(id, err)
		}
		if payload == nil {
			return l.position, nil
		}
		ev, err := a.Registry.NewEvent(eventID, payload, a.meta(by, correlationID))
		if err != nil {
			return 0, fmt.Errorf("app: %w", err)
		}
		res, err := a.Store.Append(ctx, actor.Stream(id), events.Exact(l.revision), ev)
		return appended(res, err, "append to actor "+id)
	})
}
