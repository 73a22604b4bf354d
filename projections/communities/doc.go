// Package communities is the learning communities read model: the
// community directory (name, description, topics, languages, location,
// policy, visibility, member count), each community's members with their
// role and state, every person's memberships (for "my communities" and
// home timelines), and each community's audit feed of moderation and
// membership decisions.
//
// The audit feed is fed by every community.* event and by the post
// events that moderate a community (post.removed, post.thread_locked,
// post.thread_unlocked, post.pinned, post.unpinned); a small table maps
// post ids to their community for the thread-lock events, which carry no
// community id.
//
// Nothing here is sealed personal data, but when an account is erased
// (account.erased) its member rows are deleted, its audit rows keep their
// place with "erased" instead of the account and without details, and
// later events about it show "erased" too.
package communities
