// Package posts is the posts read model: every post (local and received)
// with its decrypted text, counts of likes, replies and boosts, pins and
// thread locks; likes; hashtags; attachments with their alt texts; and the
// timelines — one index of (source, position, post) rows where a source is
// "account:<id>" (a local author), "iri:<actor IRI>" (a remote author, a
// booster, or a local author's actor IRI) or "community:<id>" — plus each
// person's subscriptions to sources, fed by accepted outbound follows and
// community memberships; and, given ActorIRIs, the IRIs of local actors
// (from actor.created), so that local posts carry their author's IRI and
// direct posts reach the local people they mention.
//
// A boost (post.boosted) adds a row under the booster's source;
// post.unboosted takes that row out again (never the post's own row when
// the booster wrote it), so the post leaves the home timelines of people
// who follow only the booster.
//
// For documents that apply their own visibility rule (ActivityPub objects,
// Tombstones, outbox and featured collections) it also keeps a received
// post's Create as received, when a post went (deleted, removed, or its
// author erased), the IRI of the post answered (with PostIRIs), when the
// community shared a post (post.announced) and the pinning order; Lookup,
// ByAuthor, Announced and Pinned serve them (federation/postdocs reads
// them through postdocs.NewPostsReader).
//
// Timelines of several sources (home) are read as a UNION ALL of one
// index-ordered, limited query per source, merged newest first; see
// BenchmarkHomeTimeline (100,000 posts, 10,000 members).
//
// Who may see a post is decided in one place, visibility.go: public posts
// appear everywhere, unlisted ones everywhere but in public and tag
// timelines, followers-only posts only for the author and the author's
// followers, members-only posts for the community's members, direct
// posts for the author and the people mentioned. Deleted and removed
// posts never appear.
//
// Text is personal data: the projector opens it with a personal.Opener,
// stores "" for an erased subject, and on account.erased purges the
// person's posts (text, received activity, tags, attachments, timeline
// rows), likes and subscriptions, so that a rebuild shows nothing of them
// either. federation.remote_actor_erased (a remote actor that deleted
// itself) purges a remote author's received posts and likes the same way.
package posts
