// Package resolve owns remote actor resolution: it fetches remote actor
// documents with the guarded federation client (GETs signed with the
// instance actor's key), records every fetched document as an event
// (federation.remote_actor_fetched, or remote_actor_gone for a 410),
// caches them through the remoteactors read model and an in-process LRU,
// and turns signature key ids into verified public keys for the inbox's
// httpsig.Verifier, refetching once when a remote actor rotated its key.
// Documents that remote servers push (the object of an Update{Person|…},
// Resolver.Update) are recorded the same way when their keys are the known
// ones; a pushed key change is never trusted: the actor is refetched.
// Local IRIs are answered from the actors read model, never over HTTP. It
// also resolves user@host handles to actor IRIs with WebFinger.
package resolve
