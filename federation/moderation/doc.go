// Package moderation applies the instance's moderation to federation: the
// Policy the inbox, the remote actor resolver and the delivery workers ask
// about a host (allow, silence or reject, answered from the moderation
// read model), helpers that turn a decision into the refusal each of them
// needs, and the reactor "moderationprocessor", which turns received Flag
// activities into reports and Block / Undo{Block} of a local actor into
// the moderation.actor_blocked_us / actor_unblocked_us events.
//
// What the decisions mean in Hanse:
//
//   - reject: the inbox answers 202 and drops the activity without
//     recording it, before any key is fetched (as Mastodon does for
//     suspended domains: a 4xx would make the sender retry for days, and a
//     202 reveals nothing); the resolver fetches nothing from the domain
//     (ErrDomainBlocked); the delivery workers give up deliveries to it at
//     once, as permanently failed with the reason "domain blocked".
//   - silence: activities are verified, recorded and acknowledged as
//     usual — reports and blocks from the domain are processed and nothing
//     received is lost — but they create no relationships: the inbox
//     processor skips (and logs) a Follow from a silenced domain, while an
//     Undo, Accept, Reject or Delete is still processed so that existing
//     relationships can end. Deliveries to the domain go on.
//   - allow: federate normally.
//
// In allow-list-only mode every domain not on the allow-list (nor a
// subdomain of one) is rejected. Rules match domains and their subdomains
// (see internal/domain/moderation).
//
// The processor, like the inbox processor, owns no tables and appends
// outside its transaction; that is safe because its commands derive their
// event ids (and the report's id) from the received activity and decide
// nothing for an activity already recorded, so re-feeding it appends
// nothing new. It does not consult the policy: what it records depends on
// the log alone.
package moderation
