package inbox

import (
	"bytes"
	"context"
	"strings"
	"sync"

	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// ActorSource is what the key memo needs besides Keys: the resolver's
// current copy of an actor document, with the resolver's freshness and
// gone rules (resolve.Resolver implements it).
type ActorSource interface {
	Actor(ctx context.Context, iri string) (remote.ActorFetched, error)
}

// maxMemoKeys bounds the parsed-key memo; it is cleared when full.
const maxMemoKeys = 4096

// keyMemo spares the inbox re-parsing the signer's actor document (JSON
// decoding plus PEM and PKIX parsing, most of a request's CPU) for every
// activity. It remembers, per key id, the public key together with the
// exact document it was read from, and on each request still asks the
// resolver for the actor's current document (an in-memory lookup that
// applies the resolver's freshness and gone rules, refetching when due).
// Only when that document is byte-for-byte the one remembered is the
// remembered key used, which is what resolving it again would return: the
// key of a "…#fragment" key id is read from the document of the IRI before
// the fragment, deterministically from its bytes. Anything else (another
// document, an error, a local key, a key id without a fragment, which the
// resolver may map to its owner otherwise) goes to Keys.KeyResolver.
type keyMemo struct {
	keys   Keys
	actors ActorSource
	scheme urls.Scheme

	mu  sync.RWMutex
	got map[string]memoKey
}

type memoKey struct {
	iri string
	raw []byte
	pk  httpsig.PublicKey
}

func newKeyMemo(keys Keys, actors ActorSource, scheme urls.Scheme) *keyMemo {
	return &keyMemo{keys: keys, actors: actors, scheme: scheme, got: make(map[string]memoKey)}
}

// resolve is an httpsig.Verifier.Resolve equivalent to keys.KeyResolver.
func (m *keyMemo) resolve(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
	i := strings.IndexByte(keyID, '#')
	if i <= 0 {
		return m.keys.KeyResolver(ctx, keyID)
	}
	if _, local := m.scheme.Parse(keyID); local {
		return m.keys.KeyResolver(ctx, keyID)
	}
	iri := keyID[:i]
	before, err := m.actors.Actor(ctx, iri)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	m.mu.RLock()
	k, ok := m.got[keyID]
	m.mu.RUnlock()
	if ok && k.iri == before.IRI && bytes.Equal(k.raw, before.Raw) {
		return k.pk, nil
	}
	pk, err := m.keys.KeyResolver(ctx, keyID)
	if err != nil {
		return pk, err
	}
	// Remember the key only if the document did not change meanwhile, so
	// that the key surely is the one this document lists.
	after, err := m.actors.Actor(ctx, iri)
	if err == nil && after.IRI == before.IRI && bytes.Equal(after.Raw, before.Raw) && len(after.Raw) > 0 && pk.Owner == after.IRI {
		m.mu.Lock()
		if len(m.got) >= maxMemoKeys {
			clear(m.got)
		}
		m.got[keyID] = memoKey{iri: after.IRI, raw: after.Raw, pk: pk}
		m.mu.Unlock()
	}
	return pk, nil
}
