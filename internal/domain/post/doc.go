// Package post owns posts: Notes and Articles written by local people or
// received from other servers, into a community or not, and the decisions
// about them — publishing (text limits, languages, hashtags, attachments,
// visibility, replies inheriting their parent's community and thread),
// edits and deletions by the author, removal by a community's
// facilitators, the community's Announce, boosts by remote actors and
// their withdrawal (Unboost), thread locks and pins. A like is its own
// small aggregate (LikeStream).
//
// The text a person wrote is personal data: it travels in the events only
// as Content sealed under the author's data key. The decide functions are
// pure; the sealer is passed in.
package post
