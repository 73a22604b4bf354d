// Package delivery owns the durable outbound deliveries: the
// federation_deliveries table (one row per activity and inbox, created by
// the outbound projector), federation_activities (each activity's body,
// stored once for all its deliveries; InsertActivity records an
// activity's deliveries in one statement), the per-host circuit-breaker
// table, read functions for the CLI and the admin API, and Workers, which
// sign and POST due deliveries with per-host and global concurrency limits,
// exponential backoff with jitter (Sidekiq's schedule, as Mastodon: 16
// retries over about 2.1 days, see Backoff), Retry-After, and a circuit
// breaker per host. Updates go through projections.DB.Write, reads through
// DB.Reader.
//
// A delivery's target is an inbox (TargetInbox: followers, whose inboxes
// the outbound projector knows) or a remote actor (TargetActor: a
// mentioned person, the author of a post answered or liked), which the
// workers resolve through Options.Actors to its shared inbox, else its
// inbox, when they deliver; an actor that is gone, unknown or has no inbox
// fails permanently, and an actor behind an inbox the activity already
// goes to is not sent a second copy. A deleted actor's own Delete is
// signed with its farewell signer (FarewellSigners). ForgetDeliveries
// drops the pending deliveries of an erased person and the bodies of their
// activities; EnableRule records when outbound rendering rules came into
// force (federation_outbound_rules).
package delivery
