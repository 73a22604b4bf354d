package process

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// KeyDestroyer destroys a subject's data key for ever
// (internal/datakeys.Store implements it). Destroying a key twice, or a
// key that never existed, must succeed, and must keep the subject from
// ever getting a key again.
type KeyDestroyer interface {
	Destroy(ctx context.Context, subject string) error
}

// Erasures records the erasure of remote actors in the log (ErasureLog
// implements it). Recording an actor's erasure again appends nothing.
type Erasures interface {
	RecordErased(ctx context.Context, actorIRI, activityID string, at time.Time) (events.Position, error)
}

// maxSubjectBytes is the longest subject the key store accepts
// (internal/datakeys.MaxSubjectBytes); an actor IRI beyond it cannot have
// a key, so there is nothing to destroy.
const maxSubjectBytes = 2048

// erase forgets a remote actor that deleted itself: its data key is
// destroyed first (every text sealed under its IRI becomes unreadable),
// then federation.remote_actor_erased is recorded so read models purge
// what they keep of it. Both steps are idempotent, so the runner's retries
// and a rebuild of the processor repeat them harmlessly.
func (p work) erase(ctx context.Context, rec *remote.ActivityReceived) error {
	iri := rec.Actor
	if len(iri) > maxSubjectBytes || !utf8.ValidString(iri) || strings.ContainsRune(iri, 0) {
		return skipf("actor IRI of %d bytes cannot name a data key", len(iri))
	}
	if err := p.Keys.Destroy(ctx, iri); err != nil {
		return fmt.Errorf("process: destroy the data key of %s: %w", iri, err)
	}
	at := rec.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := p.Erasures.RecordErased(ctx, iri, rec.ActivityID, at); err != nil {
		return err
	}
	p.log.Info("remote actor erased", "actor", iri, "activity", rec.ActivityID)
	return nil
}

// ErasureLog appends federation.remote_actor_erased to the actor's
// erasure stream (remote.ErasureStream), once per actor: the event id
// derives from the actor's IRI and the stream must not exist yet, so a
// second erasure (another Delete of the same actor, a redelivery, a
// rebuild) appends nothing.
type ErasureLog struct {
	Store    events.Store
	Registry *events.Registry
}

// NewErasureLog returns the erasure log over store, registering the remote
// events in registry unless they are already registered.
func NewErasureLog(store events.Store, registry *events.Registry) *ErasureLog {
	if !registry.Known(remote.TypeActivityReceived) {
		remote.Register(registry)
	}
	return &ErasureLog{Store: store, Registry: registry}
}

// RecordErased implements Erasures: it returns the position of the
// actor's erasure, recorded now or before. at is when the erasure
// happened (the Delete's reception); activityID, the Delete's id, becomes
// the correlation id.
func (l *ErasureLog) RecordErased(ctx context.Context, actorIRI, activityID string, at time.Time) (events.Position, error) {
	if actorIRI == "" {
		return 0, errors.New("process: erasure of an actor without IRI")
	}
	origin := ""
	if u, err := url.Parse(actorIRI); err == nil {
		origin = u.Host
	}
	ev, err := l.Registry.NewEvent(events.DerivedUUID(remote.TypeActorErased, actorIRI), remote.ActorErased{ActorIRI: actorIRI},
		events.Metadata{Actor: actorIRI, Origin: origin, OccurredAt: at.UTC(), CorrelationID: activityID})
	if err != nil {
		return 0, fmt.Errorf("process: %w", err)
	}
	stream := remote.ErasureStream(actorIRI)
	res, err := l.Store.Append(ctx, stream, events.NoStream, ev)
	if errors.Is(err, events.ErrWrongExpectedRevision) {
		// Erased before (by an earlier call whose append the store
		// does not recall as the same): report that erasure.
		envs, rerr := l.Store.ReadStream(ctx, stream, events.ReadStreamOptions{Direction: events.Forwards, Max: 1})
		if rerr != nil || len(envs) == 0 {
			return 0, fmt.Errorf("process: record erasure of %s: %w", actorIRI, err)
		}
		return envs[0].Position, nil
	}
	if err != nil {
		return 0, fmt.Errorf("process: record erasure of %s: %w", actorIRI, err)
	}
	return res.Position, nil
}
