// Package postdocs serves local posts to the fediverse: GET {author actor
// IRI}/posts/{id} answers the AS2 Note or Article (exactly the object
// federation/outbound delivers inside Create, rendered by
// outbound.PostObject) or, for browsers, an HTML page, with Vary: Accept;
// GET …/posts/{id}/activity answers that Create. Only public and unlisted
// posts are served: followers-only, members-only and direct posts answer
// 404 like unknown ones, for AS2 and HTML alike (requests are not
// authenticated, so nothing may leak). A deleted or removed post, or one
// whose author is gone, answers 410 with a Tombstone.
//
// It also provides two collections of actor documents
// (actorpub.Options.Collections): Handler.Outbox — a Group's outbox lists
// the Announce{Create} of the posts its community shared, a person's the
// Create of their public and unlisted posts followed by their notes — and
// Handler.Featured, a Group's pinned posts embedded (Mastodon reads a
// featured collection of embedded objects).
//
// Posts come from a Reader, the query interface this package defines; a
// posts read model implements it (or an adapter over one). Actors come
// from the actors read model.
package postdocs
