package resolve

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/remoteactors"
)

// Errors of the resolver; every failure wraps one of them or a fetch error
// (test with errors.Is).
var (
	// ErrGone: the actor was deleted (its server answered 410, or it is a
	// deleted local actor).
	ErrGone = errors.New("resolve: actor gone")
	// ErrNotFound: the actor or key does not exist (404, unknown local actor,
	// no such key in the document).
	ErrNotFound = errors.New("resolve: not found")
	// ErrInvalidDocument: the fetched document is not a usable actor or key
	// document, or claims an id of another origin.
	ErrInvalidDocument = errors.New("resolve: invalid document")
	// ErrKeyOwner: the key's owner is not the actor document it came from.
	ErrKeyOwner = errors.New("resolve: key owner mismatch")
	// ErrLocal: a local IRI that cannot be answered (no local directory).
	ErrLocal = errors.New("resolve: local IRI")
	// ErrRefreshTooSoon: the actor was fetched less than RefreshInterval ago.
	ErrRefreshTooSoon = errors.New("resolve: refetched too recently")
)

// Recorder records fetched actor documents as events (app.Remote
// implements it).
type Recorder interface {
	RecordRemoteActor(ctx context.Context, a remote.ActorFetched) (events.Position, bool, error)
	RecordRemoteActorGone(ctx context.Context, g remote.ActorGone) (events.Position, bool, error)
}

// Defaults of Options.
const (
	DefaultFreshFor        = 24 * time.Hour
	DefaultCacheSize       = 4096
	DefaultRefreshInterval = time.Minute
)

// Options configure a Resolver. Client, Recorder and Scheme are required.
type Options struct {
	// Client fetches documents (guarded, size-capped).
	Client *fetch.Client
	// Signer returns the signer for authorized-fetch GETs (the instance
	// actor's, signing.Keys.InstanceSigner); nil or failing: unsigned GETs.
	Signer func(ctx context.Context) (httpsig.Signer, error)
	// Recorder records every fetched document.
	Recorder Recorder
	// Directory is the remote actors read model; nil: only the LRU caches.
	Directory remoteactors.Reader
	// Local is the local actors read model, answering this instance's IRIs;
	// nil: local IRIs are refused with ErrLocal.
	Local actors.Reader
	// Scheme is this instance's URL scheme (what counts as local).
	Scheme urls.Scheme
	// FreshFor is how long a fetched document is used without refetching
	// (default 24 h).
	FreshFor time.Duration
	// CacheSize bounds the in-process LRU (default 4096 actors).
	CacheSize int
	// RefreshInterval is the least time between two fetches of one actor
	// forced by Refresh/RefreshKey (bad signatures must not make us fetch
	// in a loop); 0 means 1 minute, negative means no limit.
	RefreshInterval time.Duration
	// PlainHTTPPeers lets ResolveHandle query WebFinger over http when the
	// handle's host carries a port and this instance runs on http (local
	// test federations).
	PlainHTTPPeers bool
	// Clock is the current time (default time.Now).
	Clock func() time.Time
	// Logger logs recorder failures; nil discards.
	Logger *slog.Logger
	// Policy is the instance's moderation: nothing is fetched from, or
	// answered about, a rejected domain (moderation.ErrDomainBlocked).
	Policy moderation.Policy
}

// Resolver resolves remote actors and keys. It is safe for concurrent use.
type Resolver struct {
	o      Options
	cache  *lru
	flight flight
}

// New returns a Resolver.
func New(o Options) *Resolver {
	if o.FreshFor <= 0 {
		o.FreshFor = DefaultFreshFor
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Resolver{o: o, cache: newLRU(o.CacheSize)}
}

func (r *Resolver) now() time.Time { return r.o.Clock().UTC() }

// Actor returns the actor document of iri: from the LRU or the read model
// while fresh, else fetched (and recorded). A 410 records the actor gone and
// gives ErrGone. A local IRI is answered from the actors read model.
func (r *Resolver) Actor(ctx context.Context, iri string) (remote.ActorFetched, error) {
	return r.actor(ctx, iri, false)
}

// Refresh refetches iri unless it was fetched less than RefreshInterval
// ago (ErrRefreshTooSoon), e.g. after a signature failed with its cached
// key.
func (r *Resolver) Refresh(ctx context.Context, iri string) (remote.ActorFetched, error) {
	return r.actor(ctx, iri, true)
}

func (r *Resolver) actor(ctx context.Context, iri string, refresh bool) (remote.ActorFetched, error) {
	if t, ok := r.o.Scheme.Parse(iri); ok {
		return r.local(ctx, iri, t)
	}
	if err := moderation.RefuseURL(ctx, r.o.Policy, iri); err != nil {
		return remote.ActorFetched{}, err
	}
	now := r.now()
	e, cached := r.current(ctx, iri)
	if cached && !refresh {
		if e.gone {
			return remote.ActorFetched{}, fmt.Errorf("%w: %s", ErrGone, iri)
		}
		if now.Sub(e.at) < r.o.FreshFor {
			return e.actor, nil
		}
	}
	if refresh && r.o.RefreshInterval > 0 && !e.fetched.IsZero() && now.Sub(e.fetched) < r.o.RefreshInterval {
		return remote.ActorFetched{}, fmt.Errorf("%w: %s", ErrRefreshTooSoon, iri)
	}
	a, err := r.flight.do(iri, func() (remote.ActorFetched, error) { return r.fetchActor(ctx, iri) })
	if err != nil && cached && !e.gone && e.actor.IRI != "" && !errors.Is(err, ErrGone) && !errors.Is(err, ErrNotFound) &&
		!errors.Is(err, ErrInvalidDocument) {
		// The server is unreachable: a stale document beats none.
		r.o.Logger.Debug("resolve: using stale actor document", "iri", iri, "error", err)
		return e.actor, nil
	}
	return a, err
}

// get fetches a document, signed with the instance key when there is one.
func (r *Resolver) get(ctx context.Context, rawURL string) ([]byte, fetch.Meta, error) {
	if err := moderation.RefuseURL(ctx, r.o.Policy, rawURL); err != nil {
		return nil, fetch.Meta{}, err
	}
	opts := fetch.GetOptions{Accept: fetch.AcceptActivityJSON, AcceptContentType: fetch.IsActivityJSON}
	if r.o.Signer != nil {
		if s, err := r.o.Signer(ctx); err == nil {
			opts.Signer = &s
		} else {
			r.o.Logger.Warn("resolve: no instance signer, fetching unsigned", "error", err)
		}
	}
	raw, meta, err := r.o.Client.Get(ctx, rawURL, opts)
	if err != nil {
		var fe *fetch.Error
		if errors.As(err, &fe) && errors.Is(err, fetch.ErrStatus) {
			switch fe.StatusCode {
			case 410:
				return nil, meta, fmt.Errorf("%w: %s: %w", ErrGone, rawURL, err)
			case 404:
				return nil, meta, fmt.Errorf("%w: %s: %w", ErrNotFound, rawURL, err)
			}
		}
		return nil, meta, err
	}
	return raw, meta, nil
}

// fetchActor fetches and records iri's document.
func (r *Resolver) fetchActor(ctx context.Context, iri string) (remote.ActorFetched, error) {
	raw, meta, err := r.get(ctx, iri)
	if errors.Is(err, ErrGone) {
		r.markGone(ctx, iri)
		return remote.ActorFetched{}, err
	}
	if err != nil {
		return remote.ActorFetched{}, err
	}
	a, err := r.parseActor(raw, iri, meta.URL)
	if err != nil {
		return remote.ActorFetched{}, err
	}
	r.remember(ctx, a)
	return a, nil
}

// remember caches and records a fetched actor document.
func (r *Resolver) remember(ctx context.Context, a remote.ActorFetched) {
	now := r.now()
	r.cache.put(a.IRI, entry{actor: a, at: a.FetchedAt, fetched: now})
	if _, _, err := r.o.Recorder.RecordRemoteActor(ctx, a); err != nil {
		r.o.Logger.Warn("resolve: recording remote actor failed", "iri", a.IRI, "error", err)
	}
}

func (r *Resolver) markGone(ctx context.Context, iri string) {
	now := r.now()
	r.cache.put(iri, entry{gone: true, at: now, fetched: now})
	if _, _, err := r.o.Recorder.RecordRemoteActorGone(ctx, remote.ActorGone{IRI: iri, GoneAt: now}); err != nil {
		r.o.Logger.Warn("resolve: recording remote actor gone failed", "iri", iri, "error", err)
	}
}

// origin is scheme://host of a URL, lower-cased.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// parseActor decodes an actor document fetched from iri (final URL
// finalURL): its id must be iri, on the origin it was served from.
func (r *Resolver) parseActor(raw []byte, iri, finalURL string) (remote.ActorFetched, error) {
	o, err := as2.Decode(raw)
	if err != nil {
		return remote.ActorFetched{}, fmt.Errorf("%w: %s: %w", ErrInvalidDocument, iri, err)
	}
	if o.Profile == nil || o.Profile.Inbox == "" {
		return remote.ActorFetched{}, fmt.Errorf("%w: %s is a %s, not an actor with an inbox", ErrInvalidDocument, iri, o.Type)
	}
	if o.ID != iri {
		return remote.ActorFetched{}, fmt.Errorf("%w: document at %s has id %q", ErrInvalidDocument, iri, o.ID)
	}
	if finalURL != "" && origin(finalURL) != origin(iri) {
		return remote.ActorFetched{}, fmt.Errorf("%w: %s was served by %s", ErrInvalidDocument, iri, origin(finalURL))
	}
	a := remote.ActorFetched{IRI: o.ID, Type: o.Type, PreferredUsername: o.Profile.PreferredUsername, Name: o.Name,
		Inbox: o.Profile.Inbox, SharedInbox: o.Profile.SharedInbox, Outbox: o.Profile.Outbox,
		Followers: o.Profile.Followers, FetchedAt: r.now(), Raw: append([]byte(nil), raw...)}
	if len(o.URL) > 0 {
		a.URL = o.URL[0].Href
	}
	for _, k := range o.Profile.PublicKeys {
		if k.ID != "" && k.PEM != "" && (k.Owner == "" || k.Owner == o.ID) {
			a.KeyID, a.PublicKeyPEM = k.ID, k.PEM
			break
		}
	}
	return a, nil
}

// local answers a local IRI from the actors read model.
func (r *Resolver) local(ctx context.Context, iri string, t urls.Target) (remote.ActorFetched, error) {
	a, err := r.localActor(ctx, iri, t)
	if err != nil {
		return remote.ActorFetched{}, err
	}
	id := r.o.Scheme.Actor(a.Kind, a.Username)
	return remote.ActorFetched{IRI: id, Type: string(a.Kind), PreferredUsername: a.Username, Name: a.Name,
		Inbox: r.o.Scheme.Collection(id, urls.Inbox), SharedInbox: r.o.Scheme.SharedInbox(),
		Outbox: r.o.Scheme.Collection(id, urls.Outbox), Followers: r.o.Scheme.Collection(id, urls.Followers),
		KeyID: urls.KeyID(id, a.KeyGeneration), PublicKeyPEM: a.PublicKeyPEM, FetchedAt: a.UpdatedAt}, nil
}

func (r *Resolver) localActor(ctx context.Context, iri string, t urls.Target) (actors.Actor, error) {
	if r.o.Local == nil {
		return actors.Actor{}, fmt.Errorf("%w: %s (no local directory)", ErrLocal, iri)
	}
	if t.Collection != "" || t.Profile {
		return actors.Actor{}, fmt.Errorf("%w: %s is not an actor IRI", ErrNotFound, iri)
	}
	var a actors.Actor
	var err error
	if t.Kind == actor.KindApplication {
		a, err = r.o.Local.InstanceActor(ctx)
	} else {
		a, err = r.o.Local.ByUsername(ctx, t.Username)
	}
	if errors.Is(err, actors.ErrNotFound) || (err == nil && a.Kind != t.Kind) {
		return actors.Actor{}, fmt.Errorf("%w: local actor %s", ErrNotFound, iri)
	}
	if err != nil {
		return actors.Actor{}, fmt.Errorf("resolve: local actor %s: %w", iri, err)
	}
	if !a.DeletedAt.IsZero() {
		return actors.Actor{}, fmt.Errorf("%w: local actor %s", ErrGone, iri)
	}
	return a, nil
}

// stripFragment returns the key id without its fragment (the actor IRI
// for "<actor>#main-key").
func stripFragment(keyID string) string {
	if i := strings.IndexByte(keyID, '#'); i >= 0 {
		return keyID[:i]
	}
	return keyID
}

// KeyResolver resolves a signature's key id to a public key whose owner
// is the actor document that lists it; use it as httpsig.Verifier.Resolve.
func (r *Resolver) KeyResolver(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
	return r.key(ctx, keyID, false)
}

// RefreshKey is KeyResolver after refetching the key's actor (subject to
// RefreshInterval): the inbox calls it once when a signature does not
// verify with the cached key, since the remote may have rotated it.
func (r *Resolver) RefreshKey(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
	return r.key(ctx, keyID, true)
}

// CachedKey resolves keyID from what is cached only (LRU and read model),
// ignoring staleness and the gone flag, without fetching: the key that can
// still check a Delete sent by an actor whose documents now answer 410.
func (r *Resolver) CachedKey(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
	iri, ok := r.cache.owner(keyID)
	if !ok {
		iri = stripFragment(keyID)
	}
	var a remote.ActorFetched
	if e, ok := r.cache.get(iri); ok && e.actor.IRI != "" {
		a = e.actor
	} else if r.o.Directory != nil {
		d, err := r.o.Directory.ByIRI(ctx, iri)
		if err != nil {
			return httpsig.PublicKey{}, fmt.Errorf("%w: no cached key %s: %w", ErrNotFound, keyID, err)
		}
		a = d.ActorFetched
	}
	if a.IRI == "" || len(a.Raw) == 0 {
		return httpsig.PublicKey{}, fmt.Errorf("%w: no cached key %s", ErrNotFound, keyID)
	}
	return keyOf(a, keyID)
}

// keyOf picks key keyID from actor a's document; its owner must be a.
func keyOf(a remote.ActorFetched, keyID string) (httpsig.PublicKey, error) {
	pk, err := httpsig.PublicKeyFromDocument(a.Raw, keyID)
	if err != nil {
		return httpsig.PublicKey{}, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if pk.Owner != a.IRI {
		return httpsig.PublicKey{}, fmt.Errorf("%w: key %s is owned by %q, listed by %s", ErrKeyOwner, keyID, pk.Owner, a.IRI)
	}
	return pk, nil
}

func (r *Resolver) key(ctx context.Context, keyID string, refresh bool) (httpsig.PublicKey, error) {
	if t, ok := r.o.Scheme.Parse(keyID); ok {
		return r.localKey(ctx, keyID, t)
	}
	iri, known := r.cache.owner(keyID)
	if !known && strings.Contains(keyID, "#") {
		iri, known = stripFragment(keyID), true
	}
	if !known && r.o.Directory != nil {
		if a, err := r.o.Directory.ByKeyID(ctx, keyID); err == nil {
			iri, known = a.IRI, true
		}
	}
	if !known {
		return r.keyDocument(ctx, keyID)
	}
	a, err := r.actor(ctx, iri, refresh)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	return keyOf(a, keyID)
}

// keyDocument resolves a key id that is a document of its own: either the
// actor itself (a sender using its actor IRI as key id) or a key document
// whose owner names the actor, which must list the same key.
func (r *Resolver) keyDocument(ctx context.Context, keyID string) (httpsig.PublicKey, error) {
	if _, err := url.Parse(keyID); err != nil || origin(keyID) == "" {
		return httpsig.PublicKey{}, fmt.Errorf("%w: key id %q is not a URL", ErrNotFound, keyID)
	}
	raw, meta, err := r.get(ctx, keyID)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	if a, err := r.parseActor(raw, keyID, meta.URL); err == nil {
		r.remember(ctx, a)
		return keyOf(a, keyID)
	}
	pk, err := httpsig.PublicKeyFromDocument(raw, keyID)
	if err != nil {
		return httpsig.PublicKey{}, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	if pk.Owner == "" || pk.Owner == keyID {
		return httpsig.PublicKey{}, fmt.Errorf("%w: key document %s names no owner", ErrInvalidDocument, keyID)
	}
	if origin(pk.Owner) != origin(keyID) || origin(meta.URL) != origin(keyID) {
		return httpsig.PublicKey{}, fmt.Errorf("%w: key %s claims owner %s of another origin", ErrKeyOwner, keyID, pk.Owner)
	}
	owner, err := r.actor(ctx, pk.Owner, false)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	listed, err := keyOf(owner, keyID)
	if err != nil {
		return httpsig.PublicKey{}, fmt.Errorf("%w: owner %s does not list key %s: %w", ErrKeyOwner, pk.Owner, keyID, err)
	}
	if eq, ok := listed.Key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pk.Key) {
		return httpsig.PublicKey{}, fmt.Errorf("%w: owner %s lists another key under %s", ErrKeyOwner, pk.Owner, keyID)
	}
	r.cache.setOwner(keyID, owner.IRI)
	return listed, nil
}

// localKey answers a key id of this instance from the actors read model.
func (r *Resolver) localKey(ctx context.Context, keyID string, t urls.Target) (httpsig.PublicKey, error) {
	a, err := r.localActor(ctx, stripFragment(keyID), t)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	iri := r.o.Scheme.Actor(a.Kind, a.Username)
	if urls.KeyID(iri, a.KeyGeneration) != keyID {
		return httpsig.PublicKey{}, fmt.Errorf("%w: %s is not the current key of %s", ErrNotFound, keyID, iri)
	}
	k, err := httpsig.ParsePublicKeyPEM([]byte(a.PublicKeyPEM))
	if err != nil {
		return httpsig.PublicKey{}, fmt.Errorf("resolve: local key %s: %w", keyID, err)
	}
	return httpsig.PublicKey{ID: keyID, Owner: iri, Key: k}, nil
}
