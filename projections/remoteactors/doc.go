// Package remoteactors is the read model of remote actors: the latest
// document fetched for each remote actor IRI (inboxes, shared inbox, public
// key), an index from key id to actor, and whether the actor is gone (410
// or a Delete). It is built from federation.remote_actor_fetched and
// federation.remote_actor_gone; federation/resolve reads it as its cache,
// and delivery reads inboxes from it.
package remoteactors
