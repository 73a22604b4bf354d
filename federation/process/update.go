package process

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// RemoteActorUpdater records the actor documents that Update activities
// push (federation/resolve.Resolver implements it; see its Update for what
// is trusted and when the actor is refetched instead). When the Remote
// dependency implements it, the processor handles Update{actor}; otherwise
// such Updates are skipped.
type RemoteActorUpdater interface {
	Update(ctx context.Context, iri string, doc []byte, receivedAt time.Time) (remote.ActorFetched, resolve.UpdateOutcome, error)
}

// actorTypes are the types of the actor documents an Update may carry.
var actorTypes = []string{as2.TypePerson, as2.TypeGroup, as2.TypeOrganization, as2.TypeService, as2.TypeApplication}

// isActor reports whether o is typed as an actor (one of its types is).
func isActor(o *as2.Object) bool {
	return slices.ContainsFunc(o.Types, func(t string) bool { return slices.Contains(actorTypes, t) })
}

// update handles Update of the sending actor's own document (Mastodon,
// Lemmy, GoToSocial send one when a profile changes): the document is
// recorded through the resolver, so the cached document, its keys and the
// remoteactors read model follow. The inbox verified that the signer owns
// rec.Actor, so only a document whose id is rec.Actor is taken; an Update
// of another actor is logged and skipped. An Update naming the actor by IRI
// only makes the resolver refetch it. Updates of anything else (posts,
// polls) are not the processor's.
//
// Re-processing is harmless: the resolver leaves a document recorded at
// or after the Update's receipt alone (resolve.UpdateStale).
func (p work) update(ctx context.Context, rec *remote.ActivityReceived, act *as2.Object) error {
	ref := act.Object.First()
	var doc []byte
	switch {
	case ref.Object == nil && ref.ID == rec.Actor:
		// by IRI: the resolver refetches the actor
	case ref.Object == nil || !isActor(ref.Object):
		return nil // an Update of a post, a poll, …
	case ref.Object.ID != rec.Actor:
		return skipf("Update by %s of another actor %q", rec.Actor, ref.Object.ID)
	default:
		var err error
		if doc, err = standalone(ref.Object.Raw, act.Raw); err != nil {
			return skipf("Update by %s: %v", rec.Actor, err)
		}
	}
	u, ok := p.Remote.(RemoteActorUpdater)
	if !ok {
		return skipf("Update of actor %s: no actor updater bound", rec.Actor)
	}
	a, outcome, err := u.Update(ctx, rec.Actor, doc, rec.ReceivedAt)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if remoteCaused(err) {
			return skipf("Update of actor %s: %v", rec.Actor, err)
		}
		return err
	}
	p.log.InfoContext(ctx, "inbox processor: actor updated", "activity", rec.ActivityID, "actor", rec.Actor,
		"outcome", outcome.String(), "key", a.KeyID)
	return nil
}

// remoteCaused reports whether an error of the actor updater is the remote
// side's (a bad or blocked document, a failed or paced refetch) — logged
// and skipped — rather than this instance's (the event store, the
// moderation read model), which stops the processor to be retried.
func remoteCaused(err error) bool {
	var fe *fetch.Error
	return errors.As(err, &fe) ||
		errors.Is(err, resolve.ErrInvalidDocument) || errors.Is(err, resolve.ErrGone) ||
		errors.Is(err, resolve.ErrNotFound) || errors.Is(err, resolve.ErrKeyOwner) ||
		errors.Is(err, resolve.ErrLocal) || errors.Is(err, resolve.ErrRefreshTooSoon) ||
		errors.Is(err, moderation.ErrDomainBlocked)
}

// standalone returns the embedded object obj of an activity as a document
// of its own: with the activity's @context when it has none (so that the
// recorded document reads as the fetched one would).
func standalone(obj, activity []byte) ([]byte, error) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(obj, &o); err != nil {
		return nil, err
	}
	if _, ok := o["@context"]; ok {
		return append([]byte(nil), obj...), nil
	}
	var a struct {
		Context json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(activity, &a); err != nil {
		return nil, err
	}
	if len(a.Context) == 0 {
		return append([]byte(nil), obj...), nil
	}
	o["@context"] = a.Context
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep summaries' markup as sent
	if err := enc.Encode(o); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
