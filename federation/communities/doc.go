// Package communities federates learning communities as FEP-1b12 Groups:
// the reactors that connect what other servers send with the community
// and post commands. It owns three projectors without tables, run by the
// projections runner like federation/process:
//
//   - Inbound ("communityinbox"), over received activities: posts
//     addressed to or mentioning a local community's Group become posts of
//     the community (the community gate refuses non-members and banned
//     people), replies to local posts join their threads, posts and boosts
//     by actors local people follow enter their timelines (and leave them
//     again on the booster's Undo{Announce}), and Like, Undo{Like},
//     Update and Delete reach the posts they name; a remote
//     community's Announce{Delete} removes a received post of that
//     community (one addressed to the Group that announced it, or naming
//     it as audience). Received HTML is sanitised with bluemonday's UGC
//     policy.
//   - Membership ("communitymembers"), over follow and membership events:
//     a remote Follow of a Group is a join (Communities.RemoteFollow); a
//     member's follow is accepted, a refused one rejected; approving,
//     rejecting, removing or banning a remote member accepts, rejects or
//     ends the follow; an Undo{Follow} of a Group is a leave.
//   - Announcer ("communityannouncer"), over post.published: every
//     shareable post of a community is announced by its Group
//     (Posts.Announce); federation/outbound renders the Announces.
//
// Their effects — appends through the app commands — happen outside the
// runner's transaction, which is safe because the commands derive their
// event ids from the cause (the received activity, the follow, the post)
// and decide nothing twice: replaying the log appends nothing new.
// Refusals are logged and skipped; other errors stop the projection at
// the event, which the runner retries.
package communities
