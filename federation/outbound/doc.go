// Package outbound is the outbound federation projector: a
// projections.Projector named "outbound" that turns events into
// ActivityPub activities and durable delivery records, in the same
// transaction as its checkpoint, so a crash loses no delivery.
//
//   - follow.* events keep its own table of follow relationships (accepted
//     inbound followers with inbox and shared inbox per local actor); it
//     reads no other read model.
//   - follow.accepted / follow.rejected of an inbound relationship send
//     Accept{Follow} / Reject{Follow} to the follower's inbox;
//     follow.requested / follow.undone of an outbound one send Follow /
//     Undo{Follow} to the followee's inbox.
//   - note.published (public, unlisted, followers) sends Create{Note} to
//     every accepted follower, one delivery per shared inbox; note.deleted
//     sends Delete{Tombstone} to the followers of the moment.
//   - follow.removed of an inbound follow (a community removed or banned a
//     member, a person removed a follower) sends Reject{Follow}, as
//     Mastodon's "remove follower"; not when the remote actor was deleted.
//   - actor.deleted sends Delete{actor} ("{actor IRI}#delete") to the
//     actor's followers; the delivery workers sign it with the deleted
//     actor's key (delivery.FarewellSigners).
//   - actor.profile_updated (a community's name or description through
//     its Group, app.Communities.Update) and account.profile_updated (a
//     person's display name or bio, opened with the Options.Opener) send
//     Update{Group|Person} ("{actor IRI}#updates/{event id}", to Public)
//     with the actor's full current document to its followers, so that
//     Mastodon refreshes the profile. The document is
//     actorpub.ActorDocument, the one the actor's IRI serves, rendered
//     from the projector's own actors table (actor.created,
//     actor.key_rotated and the profile events keep it; key rotations send
//     nothing by themselves). An unchanged document, a deleted or erased
//     actor, or a text that no longer opens sends nothing.
//
// Posts and FEP-1b12 Groups (posts.go, postrender.go). The projector keeps
// a table of posts (with their sealed text, which it opens with the
// Options.Opener only to render) and of likes:
//
//   - post.published by a local author sends Create{Note|Article}
//     (PostObject: contentMap per language, content the first language,
//     name/nameMap for Articles, summary + sensitive, Hashtag and Mention
//     tags, Document attachments with their alt text, inReplyTo, audience
//     = the Group, to/cc by visibility, see PostAddressing) to the
//     author's followers (public, unlisted, followers-only), the remote
//     people mentioned and the remote author of the post answered
//     (delivery.TargetActor: the workers resolve their inboxes). A post
//     into a local community is not sent to the Group (it is local); the
//     Group's Announce carries it to the community's remote members, and
//     members-only posts go nowhere else. Direct posts go to the mentioned
//     only.
//   - post.edited sends Update to the same audience, and the Group's
//     Announce{Update} when the community shared the post.
//   - post.announced sends the Group's Announce{Create} (a local post's
//     Create; a received post's Create as received, kept in its sealed
//     text) and Announce{post} (the Mastodon-compatible boost of the
//     object itself) to the Group's remote followers.
//   - post.deleted / post.removed send the local author's Delete{Tombstone}
//     to the post's audience and, when the post was shared, to the Group's
//     followers too; the Group sends Announce{Delete} (of the author's
//     Delete, or of its own Delete{post} for removals and received posts)
//     and Undo{Announce{post}}.
//   - post.liked / post.like_undone by a local person of a received post
//     send Like / Undo{Like} to the post's author.
//   - account.erased: the Groups retract the person's shared posts, every
//     pending delivery that carries the person's data is dropped (except
//     the actor's own Delete), finished ones keep no body, and the posts
//     table forgets the sealed texts. Posts of an erased or deleted author,
//     and texts that no longer open, render nothing.
//
// Rules that apply to event types older than themselves (actor.deleted,
// follow.removed, the profile updates) only render events that occurred after the rule was
// first enabled (delivery.EnableRule, at the projector's first Setup), so a
// new version replaying the log does not federate history.
//
// Activity ids are stable IRIs derived from the event ("{note
// IRI}/activity", "{note IRI}#delete", "{actor IRI}#accepts/{hash}", the
// ids the follow events carry, "{post IRI}/activity", "{post
// IRI}#updates/{event id}", the Group's urls.AnnounceIRI), and the JSON
// rendered with as2.Encode is stored once per activity, with all its
// deliveries recorded in one statement (delivery.InsertActivity), so every
// retry sends identical bytes.
//
// Why a rebuild never sends anything twice: the delivery records live in
// federation_deliveries (package delivery), a table outside the
// projector's versioned namespace, which the runner neither drops nor
// rebuilds. Its key is unique on (activity id, inbox) and records are
// inserted with INSERT OR IGNORE; since ids and bodies are derived from the
// events, replaying the log from position 0 (a rebuild or a new version)
// finds every record already there and adds none. Only the projector's own
// tables (actors, follows, notes, posts, likes) are rebuilt. The delivery tables must
// exist before the runner starts (delivery.EnsureSchema), because the
// runner lets Setup create only tables of its own namespace.
//
// The package also renders Note documents and serves them (NoteHandler)
// and the outbox collection (OutboxPage).
package outbound
