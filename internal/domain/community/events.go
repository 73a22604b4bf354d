package community

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/hanse-network/hanse/events"
)

// Event type names; part of the stored log, never rename them.
const (
	TypeCreated = "community.created"
	TypeUpdated = "community.updated"

	// Membership events, in the membership's own stream.
	TypeJoinRequested  = "community.join_requested"
	TypeMemberJoined   = "community.member_joined"
	TypeJoinRejected   = "community.join_rejected"
	TypeMemberLeft     = "community.member_left"
	TypeMemberInvited  = "community.member_invited"
	TypeMemberRemoved  = "community.member_removed"
	TypeMemberBanned   = "community.member_banned"
	TypeMemberUnbanned = "community.member_unbanned"
	TypeRoleChanged    = "community.role_changed"
)

// Membership policy: who may join.
type Policy string

// The membership policies.
const (
	// Open: anyone joins at once (a remote Follow is a join).
	Open Policy = "open"
	// Approval: a facilitator approves each join request.
	Approval Policy = "approval"
	// InviteOnly: only invited people may join.
	InviteOnly Policy = "invite"
)

// Visibility: who sees the community and its posts.
type Visibility string

// The community visibilities.
const (
	// Public: listed in the directory; posts are public.
	Public Visibility = "public"
	// Members: not listed; posts are addressed to members only.
	Members Visibility = "members"
)

// Role of a member.
type Role string

// Member roles, from least to most privileged.
const (
	Member      Role = "member"
	Facilitator Role = "facilitator" // moderator
	Owner       Role = "owner"
)

// Stream is the community's stream: "community-<id>". The community id is
// the id of its Group actor.
func Stream(id string) string { return "community-" + id }

// MembershipStream is the stream of one person's membership in a
// community: "membership-<community id>-<hash of member>". One small
// stream per member keeps every decision about a member cheap however
// large the community grows.
func MembershipStream(communityID, member string) string {
	h := sha256.Sum256([]byte(member))
	return "membership-" + communityID + "-" + hex.EncodeToString(h[:12])
}

// Location is where a community meets or belongs.
type Location struct {
	City    string `json:"city,omitempty"`
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	// Latitude and Longitude are optional (both or neither).
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
}

// Created records a new community; its Group actor (same id) is created
// by the same command.
type Created struct {
	CommunityID string `json:"communityId"`
	Username    string `json:"username"`
	// Name and Description are institutional texts, not personal data.
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Topics      []string   `json:"topics,omitempty"`    // hashtags without '#'
	Languages   []string   `json:"languages,omitempty"` // BCP 47
	Location    *Location  `json:"location,omitempty"`
	Policy      Policy     `json:"policy"`
	Visibility  Visibility `json:"visibility"`
	// OwnerID is the local account that created it (also gets a
	// membership stream with role owner).
	OwnerID string `json:"ownerId"`
}

// Updated replaces the fields it carries (nil: unchanged).
type Updated struct {
	Name        *string     `json:"name,omitempty"`
	Description *string     `json:"description,omitempty"`
	Topics      *[]string   `json:"topics,omitempty"`
	Languages   *[]string   `json:"languages,omitempty"`
	Location    *Location   `json:"location,omitempty"`
	Policy      *Policy     `json:"policy,omitempty"`
	Visibility  *Visibility `json:"visibility,omitempty"`
}

// Every membership event names the community and the member. Member is a
// local account id, or a remote actor IRI (it contains "://"). By is who
// decided (the member, a facilitator, an owner; "" for the system).

// JoinRequested: the member asked to join an approval community (a
// remote Follow of it carries FollowActivityID so that approval can
// Accept it).
type JoinRequested struct {
	CommunityID      string `json:"communityId"`
	Member           string `json:"member"`
	FollowActivityID string `json:"followActivityId,omitempty"`
}

// MemberJoined: the member is in, with a role (owner for the creator).
type MemberJoined struct {
	CommunityID      string `json:"communityId"`
	Member           string `json:"member"`
	Role             Role   `json:"role"`
	By               string `json:"by,omitempty"`
	FollowActivityID string `json:"followActivityId,omitempty"`
}

// JoinRejected: a facilitator turned down a request.
type JoinRejected struct {
	CommunityID string `json:"communityId"`
	Member      string `json:"member"`
	By          string `json:"by"`
}

// MemberLeft: the member left (a remote Undo(Follow) is a leave).
type MemberLeft struct {
	CommunityID string `json:"communityId"`
	Member      string `json:"member"`
}

// MemberInvited: a facilitator invited someone; the invitee may then join
// an invite-only community.
type MemberInvited struct {
	CommunityID string `json:"communityId"`
	Member      string `json:"member"`
	By          string `json:"by"`
}

// MemberRemoved: a facilitator removed the member (may rejoin).
type MemberRemoved struct {
	CommunityID string `json:"communityId"`
	Member      string `json:"member"`
	By          string `json:"by"`
	Reason      string `json:"reason,omitempty"`
}

// MemberBanned: removed and may not rejoin or post until unbanned.
type MemberBanned struct {
	CommunityID string `json:"communityId"`
	Member      string `json:"member"`
	By          string `json:"by"`
	Reason      string `json:"reason,omitempty"`
}

// MemberUnbanned lifts a ban (the person is not a member afterwards).
type MemberUnbanned struct {
	CommunityID string `json:"communityId"`
	Member      string `json:"member"`
	By          string `json:"by"`
}

// RoleChanged: an owner gave a member another role.
type RoleChanged struct {
	CommunityID string `json:"communityId"`
	Member      string `json:"member"`
	Role        Role   `json:"role"`
	By          string `json:"by"`
}

// Register declares the community and membership events in r.
func Register(r *events.Registry) {
	events.Register[Created](r, TypeCreated, 1, nil)
	events.Register[Updated](r, TypeUpdated, 1, nil)
	events.Register[JoinRequested](r, TypeJoinRequested, 1, nil)
	events.Register[MemberJoined](r, TypeMemberJoined, 1, nil)
	events.Register[JoinRejected](r, TypeJoinRejected, 1, nil)
	events.Register[MemberLeft](r, TypeMemberLeft, 1, nil)
	events.Register[MemberInvited](r, TypeMemberInvited, 1, nil)
	events.Register[MemberRemoved](r, TypeMemberRemoved, 1, nil)
	events.Register[MemberBanned](r, TypeMemberBanned, 1, nil)
	events.Register[MemberUnbanned](r, TypeMemberUnbanned, 1, nil)
	events.Register[RoleChanged](r, TypeRoleChanged, 1, nil)
}
