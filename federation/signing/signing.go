package signing

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections/actors"
)

// Opener opens private keys sealed with the instance master key
// (secrets.Keyring implements it).
type Opener interface {
	Open(sealed, additionalData []byte) ([]byte, error)
}

// Keys hands out signers for local actors.
type Keys struct {
	actors actors.Reader
	opener Opener
	scheme urls.Scheme

	mu    sync.Mutex
	cache map[string]cached // by actor id
}

type cached struct {
	generation int
	signer     httpsig.Signer
}

// New returns a Keys over the actors read model.
func New(directory actors.Reader, opener Opener, scheme urls.Scheme) *Keys {
	return &Keys{actors: directory, opener: opener, scheme: scheme, cache: map[string]cached{}}
}

// SignerFor returns the signer of the local actor's current key. A deleted
// actor signs nothing.
func (k *Keys) SignerFor(ctx context.Context, actorID string) (httpsig.Signer, error) {
	a, err := k.actors.ByID(ctx, actorID)
	if err != nil {
		return httpsig.Signer{}, fmt.Errorf("signing: actor %s: %w", actorID, err)
	}
	return k.signerOf(a)
}

// FarewellSignerFor returns the signer of a local actor's current key even
// when the actor is deleted: its own Delete must still be signed with that
// key (delivery.FarewellSigners). The delivery workers ask for it only for
// Delete activities.
func (k *Keys) FarewellSignerFor(ctx context.Context, actorID string) (httpsig.Signer, error) {
	a, err := k.actors.ByID(ctx, actorID)
	if err != nil {
		return httpsig.Signer{}, fmt.Errorf("signing: actor %s: %w", actorID, err)
	}
	a.DeletedAt = time.Time{}
	return k.signerOf(a)
}

// InstanceSigner returns the signer of the instance actor, which signs
// authorized-fetch GETs.
func (k *Keys) InstanceSigner(ctx context.Context) (httpsig.Signer, error) {
	a, err := k.actors.InstanceActor(ctx)
	if err != nil {
		return httpsig.Signer{}, fmt.Errorf("signing: instance actor: %w", err)
	}
	return k.signerOf(a)
}

// KeyID returns the key id of an actor's current key.
func (k *Keys) KeyID(a actors.Actor) string {
	return urls.KeyID(k.scheme.Actor(a.Kind, a.Username), a.KeyGeneration)
}

func (k *Keys) signerOf(a actors.Actor) (httpsig.Signer, error) {
	if !a.DeletedAt.IsZero() {
		return httpsig.Signer{}, fmt.Errorf("signing: actor %s is deleted", a.ID)
	}
	k.mu.Lock()
	c, ok := k.cache[a.ID]
	k.mu.Unlock()
	if ok && c.generation == a.KeyGeneration {
		return c.signer, nil
	}
	pemBytes, err := k.opener.Open(a.SealedPrivateKey, actor.PrivateKeyAD(a.ID))
	if err != nil {
		return httpsig.Signer{}, fmt.Errorf("signing: open the key of %s: %w", a.ID, err)
	}
	key, err := httpsig.ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		return httpsig.Signer{}, fmt.Errorf("signing: parse the key of %s: %w", a.ID, err)
	}
	s := httpsig.Signer{KeyID: k.KeyID(a), Key: key}
	k.mu.Lock()
	k.cache[a.ID] = cached{generation: a.KeyGeneration, signer: s}
	k.mu.Unlock()
	return s, nil
}
