// Package community is the domain of learning communities and their
// memberships. It owns two aggregates:
//
//   - the community itself (stream Stream(id), the id of its Group actor):
//     name, description, topics, languages, location, membership policy
//     and visibility, decided by Create and Update;
//   - one membership per (community, member) (stream MembershipStream):
//     none → requested / invited → member → left / removed / banned, with
//     the member's role (member, facilitator, owner), decided by Join,
//     JoinAsOwner, Leave, Approve, Reject, Invite, Remove, Ban, Unban and
//     ChangeRole.
//
// The decisions are pure: who acts, and with what Authority in the
// community (computed by the application layer from the acting person's
// own membership, or from an instance-wide admin role), is passed in.
package community
