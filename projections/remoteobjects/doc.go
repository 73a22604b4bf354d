// Package remoteobjects is the read model of content received from other
// servers: the objects remote actors Create and Update (notes, articles,
// pages, questions, events, videos, …), whether they were Deleted, and the
// Likes and Announces (boosts) remote actors sent, with their Undos. It is
// a pure projection over federation.activity_received events; it decodes
// each activity's raw JSON with a small tolerant decoder of its own.
//
// Ownership rules: a Create is kept only when the object's attributedTo
// names the activity's (signature-verified) actor; only an object's owner
// may Update or Delete it; a Delete whose object is the actor itself marks
// all that actor's objects deleted; only the actor of a Like or Announce
// may Undo it. EmojiReact, Dislike and other activity types are ignored, as
// are Announces of activities (group relays) and objects given only by IRI
// in a Create or Update (they would need fetching).
package remoteobjects
