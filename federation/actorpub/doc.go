// Package actorpub publishes the documents of local actors at their IRIs
// (federation/urls): the ActivityStreams actor document for ActivityPub
// clients and a small HTML profile page for everyone else (content
// negotiation on Accept), a Tombstone (410) for deleted actors, and the
// actors' outbox, followers, following and featured collections as
// OrderedCollections paged with ?page=true.
//
// Collections are paged generically: each is a Page function that lists one
// actor's items from a cursor, so later features only plug their read
// models in; until then they are empty. It reads the actors read model
// (projections/actors) and writes nothing.
package actorpub
