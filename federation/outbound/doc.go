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
//
// Activity ids are stable IRIs derived from the event ("{note
// IRI}/activity", "{note IRI}#delete", "{actor IRI}#accepts/{hash}", the
// ids the follow events carry), and the JSON rendered with as2.Encode is
// stored with each delivery, so every retry sends identical bytes.
//
// Why a rebuild never sends anything twice: the delivery records live in
// federation_deliveries (package delivery), a table outside the
// projector's versioned namespace, which the runner neither drops nor
// rebuilds. Its key is unique on (activity id, inbox) and records are
// inserted with INSERT OR IGNORE; since ids and bodies are derived from the
// events, replaying the log from position 0 (a rebuild or a new version)
// finds every record already there and adds none. Only the projector's own
// tables (actors, follows, notes) are rebuilt. The delivery tables must
// exist before the runner starts (delivery.EnsureSchema), because the
// runner lets Setup create only tables of its own namespace.
//
// The package also renders Note documents and serves them (NoteHandler)
// and the outbox collection (OutboxPage).
package outbound
