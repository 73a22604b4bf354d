// Package follows is the read model of follow relationships between local
// and remote actors, built from the follow.* events: one row per
// relationship (follower, followee, direction, state, the remote side's
// inboxes, the Follow and Accept activity ids). It answers the followers
// and following collections, the pending follow requests a local actor
// must approve, the counts on profiles, and single relationships.
package follows
