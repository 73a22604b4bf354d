package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// Remote records what other servers told this instance: verified inbox
// activities and fetched remote actor documents (the remote.* events).
// Set the fields (or use NewRemote) before the first call; a nil Clock
// means time.Now.
type Remote struct {
	Store    events.Store
	Registry *events.Registry
	Clock    func() time.Time
	// Origin is this instance's host. The events' metadata names the remote
	// host they came from; Origin is used only when that host is unknown.
	Origin string
}

// NewRemote returns the remote commands over store, registering the remote
// events in registry unless they are already registered.
func NewRemote(store events.Store, registry *events.Registry, origin string) *Remote {
	if !registry.Known(remote.TypeActivityReceived) {
		remote.Register(registry)
	}
	return &Remote{Store: store, Registry: registry, Clock: time.Now, Origin: origin}
}

func (r *Remote) now() time.Time {
	if r.Clock == nil {
		return time.Now().UTC()
	}
	return r.Clock().UTC()
}

// meta is the metadata of an event about iri: the acting actor is the
// remote actor, the origin its host.
func (r *Remote) meta(actorIRI string) events.Metadata {
	origin := r.Origin
	if u, err := url.Parse(actorIRI); err == nil && u.Host != "" {
		origin = u.Host
	}
	return events.Metadata{Actor: actorIRI, OccurredAt: r.now(), Origin: origin}
}

// RecordActivity appends federation.activity_received to
// remote.ActivityStream(a.ActivityID) with expected revision NoStream. An
// activity received before (a redelivery, a concurrent duplicate, or a
// retry of a call whose outcome was unknown) appends nothing and reports
// duplicate true with the position of the first recording. It returns
// only once the event is durable. A zero ReceivedAt is set to now.
//
// The append comes first, without reading the stream: a new activity (the
// common case) costs one append and no read, and the NoStream conflict is
// what detects a duplicate. The event id is therefore fresh for every
// call (the store's own retries of one append reuse it): an id derived
// from the activity alone would make a redelivery the store's silent
// idempotent no-op, indistinguishable from a new recording. Exactly-once
// rests on the stream, whose NoStream append succeeds once per activity.
func (r *Remote) RecordActivity(ctx context.Context, a remote.ActivityReceived) (pos events.Position, duplicate bool, err error) {
	if a.ActivityID == "" || a.Actor == "" {
		return 0, false, &ValidationError{Field: "activity", Reason: "activity id and actor are required"}
	}
	stream := remote.ActivityStream(a.ActivityID)
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = r.now()
	}
	meta := r.meta(a.Actor)
	meta.CorrelationID = a.ActivityID
	ev, err := r.Registry.NewEvent(events.NewUUID(), a, meta)
	if err != nil {
		return 0, false, fmt.Errorf("app: %w", err)
	}
	res, err := r.Store.Append(ctx, stream, events.NoStream, ev)
	switch {
	case errors.Is(err, events.ErrWrongExpectedRevision), errors.Is(err, events.ErrIdempotencyConflict):
		p, ok, rerr := r.first(ctx, stream)
		if rerr != nil {
			return 0, false, rerr
		}
		if !ok {
			return 0, false, fmt.Errorf("app: record activity %s: %w", a.ActivityID, err)
		}
		return p, true, nil
	case err != nil:
		return 0, false, fmt.Errorf("app: record activity %s: %w", a.ActivityID, err)
	}
	return res.Position, false, nil
}

// first returns the position of the first event of stream, if any.
func (r *Remote) first(ctx context.Context, stream string) (events.Position, bool, error) {
	envs, err := r.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards, Max: 1})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("app: read %s: %w", stream, err)
	}
	if len(envs) == 0 {
		return 0, false, nil
	}
	return envs[0].Position, true, nil
}

// last returns the last event of stream (ok false when there is none).
func (r *Remote) last(ctx context.Context, stream string) (events.Envelope, bool, error) {
	envs, err := r.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Backwards, From: events.StreamEnd, Max: 1})
	if errors.Is(err, events.ErrStreamNotFound) || errors.Is(err, events.ErrStreamDeleted) {
		return events.Envelope{}, false, nil
	}
	if err != nil {
		return events.Envelope{}, false, fmt.Errorf("app: read %s: %w", stream, err)
	}
	if len(envs) == 0 {
		return events.Envelope{}, false, nil
	}
	return envs[0], true, nil
}

// RecordRemoteActor appends federation.remote_actor_fetched to
// remote.ActorStream(a.IRI) unless the stream's last event already holds
// the same document (same sha256 of Raw): an unchanged document recorded
// again adds nothing, and changed reports false. The event id derives from
// the IRI, the document's hash and the stream revision it follows, so a
// retried append is idempotent; a concurrent writer makes it re-read and
// decide again.
func (r *Remote) RecordRemoteActor(ctx context.Context, a remote.ActorFetched) (pos events.Position, changed bool, err error) {
	if a.IRI == "" || len(a.Raw) == 0 {
		return 0, false, &ValidationError{Field: "actor", Reason: "IRI and raw document are required"}
	}
	if a.FetchedAt.IsZero() {
		a.FetchedAt = r.now()
	}
	sum := sha256.Sum256(a.Raw)
	hash := hex.EncodeToString(sum[:])
	return r.appendActor(ctx, a.IRI, "fetched:"+hash, a, func(payload any) bool {
		f, ok := payload.(*remote.ActorFetched)
		if !ok {
			return false
		}
		s := sha256.Sum256(f.Raw)
		return bytes.Equal(s[:], sum[:])
	})
}

// RecordRemoteActorGone appends federation.remote_actor_gone to the actor's
// stream unless its last event already says so (changed false then).
func (r *Remote) RecordRemoteActorGone(ctx context.Context, g remote.ActorGone) (pos events.Position, changed bool, err error) {
	if g.IRI == "" {
		return 0, false, &ValidationError{Field: "iri", Reason: "required"}
	}
	if g.GoneAt.IsZero() {
		g.GoneAt = r.now()
	}
	return r.appendActor(ctx, g.IRI, "gone", g, func(payload any) bool {
		_, ok := payload.(*remote.ActorGone)
		return ok
	})
}

// appendActor appends payload to iri's actor stream unless same says the
// stream's last event already records it.
func (r *Remote) appendActor(ctx context.Context, iri, what string, payload any, same func(any) bool) (events.Position, bool, error) {
	stream := remote.ActorStream(iri)
	for attempt := 0; ; attempt++ {
		last, ok, err := r.last(ctx, stream)
		if err != nil {
			return 0, false, err
		}
		expected, after := events.NoStream, "none"
		if ok {
			prev, err := r.Registry.Decode(last)
			if err != nil {
				return 0, false, fmt.Errorf("app: remote actor %s: %w", iri, err)
			}
			if same(prev) {
				return last.Position, false, nil
			}
			expected, after = events.Exact(last.Revision), fmt.Sprint(last.Revision)
		}
		ev, err := r.Registry.NewEvent(events.DerivedUUID("remote-actor", iri, what, after), payload, r.meta(iri))
		if err != nil {
			return 0, false, fmt.Errorf("app: %w", err)
		}
		res, err := r.Store.Append(ctx, stream, expected, ev)
		if errors.Is(err, events.ErrWrongExpectedRevision) {
			if attempt < MaxConflictRetries {
				continue
			}
			return 0, false, fmt.Errorf("%w: remote actor %s after %d attempts: %w", ErrConflict, iri, attempt+1, err)
		}
		if err != nil {
			return 0, false, fmt.Errorf("app: record remote actor %s: %w", iri, err)
		}
		return res.Position, true, nil
	}
}
