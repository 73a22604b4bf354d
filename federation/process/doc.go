// Package process is the inbox processor: the reactor that turns received
// activities (federation.activity_received events, recorded by the inbox
// before it answers 202) into follow commands, plus the glue the follows
// slice gives the rest of federation — the local actor directory the
// commands need (LocalActorDirectory), and the followers and following
// collections for actor documents (FollowersPage, FollowingPage).
//
// The processor is a projections.Projector named "inboxprocessor" that
// owns no tables: the runner's checkpoint is what makes processing
// resumable, so a restart goes on after the last activity handled. It
// handles Follow of a local actor, Undo{Follow}, Accept{Follow} and
// Reject{Follow} of a local actor's Follow, Delete of a remote actor by
// itself (every relationship with it ends, and the actor is erased: its
// data key is destroyed, so every text sealed under its IRI is unreadable
// for ever, and federation.remote_actor_erased tells the read models to
// purge it; see erase.go), Move of a remote actor (local
// actors with an accepted follow of it follow its new account and unfollow
// the old one, once the new account lists the old in alsoKnownAs; see
// move.go), and Update of the sending actor's own document (a profile
// change: recorded through the resolver, which refetches the actor instead
// of trusting a changed key; see update.go); everything else is a no-op —
// the activity is recorded already. A domain refusal (unknown or deleted local
// actor, an Undo by a stranger, an Accept not from the followee) is logged
// and skipped. An error of the event store is returned: the projection
// stops on that event and is retried (by the runner at start, or `hanse
// projections retry inboxprocessor`).
//
// Its effects — appends to the event store — happen outside the
// projector's read-model transaction, which Projector.Apply otherwise
// forbids. That is safe here because every command derives its event ids
// from the received activity (events.DerivedUUID) and the follow domain
// decides nothing for an activity a relationship already records (and the
// resolver ignores an actor Update older than the document it holds; a
// destroyed key stays destroyed, and an actor's erasure is recorded once,
// in a stream of its own). So when
// the runner rolls back a batch and re-applies it event by event after a
// failure, or a crash loses the checkpoint of a batch whose commands were
// appended, or a rebuild feeds the processor from position 0, processing an
// activity again appends nothing new.
package process
