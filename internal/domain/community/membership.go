package community

import (
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/internal/domain/fold"
)

// MembershipState is where one person's membership in a community stands.
type MembershipState string

// The membership states. A stream without events is StateNone.
const (
	// StateNone: no membership (never joined, or unbanned).
	StateNone MembershipState = "none"
	// StateRequested: asked to join an approval community.
	StateRequested MembershipState = "requested"
	// StateInvited: invited by a facilitator; may join whatever the policy.
	StateInvited MembershipState = "invited"
	// StateMember: in the community, with a Role.
	StateMember MembershipState = "member"
	// StateRejected: the join request was turned down (may ask again).
	StateRejected MembershipState = "rejected"
	// StateLeft: left, or withdrew a request or declined an invitation.
	StateLeft MembershipState = "left"
	// StateRemoved: removed by a facilitator, or the invitation was
	// revoked (may join again).
	StateRemoved MembershipState = "removed"
	// StateBanned: removed, and may neither join nor post until unbanned.
	StateBanned MembershipState = "banned"
)

// ValidMembershipState reports whether s is one of the states.
func ValidMembershipState(s MembershipState) bool {
	switch s {
	case StateNone, StateRequested, StateInvited, StateMember, StateRejected, StateLeft, StateRemoved, StateBanned:
		return true
	}
	return false
}

// Errors of the membership decisions.
var (
	// ErrAlreadyMember: a join or an invitation of someone who is a member.
	ErrAlreadyMember = errors.New("community: already a member")
	// ErrNotMember: the decision needs a member (or, for Leave, a member,
	// requester or invitee).
	ErrNotMember = errors.New("community: not a member")
	// ErrNotInvited: joining an invite-only community needs an invitation.
	ErrNotInvited = errors.New("community: the community is invite-only and the person is not invited")
	// ErrBanned: the person is banned from the community.
	ErrBanned = errors.New("community: banned from the community")
	// ErrNotBanned: an unban of someone who is not banned.
	ErrNotBanned = errors.New("community: not banned")
	// ErrNotRequested: approving or rejecting needs a pending join request.
	ErrNotRequested = errors.New("community: no pending join request")
	// ErrOwnerCannotLeave: an owner must hand over (another owner demotes
	// them) before leaving.
	ErrOwnerCannotLeave = errors.New("community: an owner cannot leave; another owner must change their role first")
	// ErrSelf: removing, banning or changing the role of oneself.
	ErrSelf = errors.New("community: cannot do this to oneself")
	// ErrNotFacilitator: the decision needs a facilitator, owner or admin.
	ErrNotFacilitator = errors.New("community: only the community's facilitators may do this")
	// ErrNotOwner: the decision needs an owner or admin.
	ErrNotOwner = errors.New("community: only the community's owners may do this")
	// ErrNotCommunityOwner: JoinAsOwner for someone other than the
	// community's creator.
	ErrNotCommunityOwner = errors.New("community: not the community's creator")
)

// Membership is one person's membership folded from its stream.
type Membership struct {
	CommunityID string
	Member      string
	// State is the membership's state; the zero value ("") of an empty
	// stream means StateNone (see Status).
	State MembershipState
	// Role is the member's role while State is StateMember.
	Role Role
	// FollowActivityID is the remote Follow of the pending request or of
	// the join, if the member came through ActivityPub.
	FollowActivityID string
}

// Status is m.State, with StateNone for an empty stream.
func (m Membership) Status() MembershipState {
	if m.State == "" {
		return StateNone
	}
	return m.State
}

// Apply folds one event payload (value or pointer, as
// events.Registry.Decode returns them) into m. An event that cannot follow
// the state means a corrupt stream and is an error.
func (m *Membership) Apply(payload any) error {
	switch e := payload.(type) {
	case *JoinRequested:
		return m.Apply(*e)
	case *MemberJoined:
		return m.Apply(*e)
	case *JoinRejected:
		return m.Apply(*e)
	case *MemberLeft:
		return m.Apply(*e)
	case *MemberInvited:
		return m.Apply(*e)
	case *MemberRemoved:
		return m.Apply(*e)
	case *MemberBanned:
		return m.Apply(*e)
	case *MemberUnbanned:
		return m.Apply(*e)
	case *RoleChanged:
		return m.Apply(*e)
	case JoinRequested:
		if err := m.transition(TypeJoinRequested, e.CommunityID, e.Member, StateRequested, StateMember, StateBanned); err != nil {
			return err
		}
		m.FollowActivityID = e.FollowActivityID
	case MemberJoined:
		if err := m.transition(TypeMemberJoined, e.CommunityID, e.Member, StateMember, StateMember, StateBanned); err != nil {
			return err
		}
		m.Role, m.FollowActivityID = e.Role, e.FollowActivityID
	case JoinRejected:
		if err := m.require(TypeJoinRejected, e.CommunityID, e.Member, StateRejected, StateRequested); err != nil {
			return err
		}
	case MemberLeft:
		if err := m.require(TypeMemberLeft, e.CommunityID, e.Member, StateLeft, StateMember, StateRequested, StateInvited); err != nil {
			return err
		}
	case MemberInvited:
		if err := m.transition(TypeMemberInvited, e.CommunityID, e.Member, StateInvited, StateMember, StateBanned); err != nil {
			return err
		}
	case MemberRemoved:
		if err := m.require(TypeMemberRemoved, e.CommunityID, e.Member, StateRemoved, StateMember, StateInvited); err != nil {
			return err
		}
	case MemberBanned:
		if err := m.transition(TypeMemberBanned, e.CommunityID, e.Member, StateBanned, StateBanned); err != nil {
			return err
		}
	case MemberUnbanned:
		if err := m.require(TypeMemberUnbanned, e.CommunityID, e.Member, StateNone, StateBanned); err != nil {
			return err
		}
	case RoleChanged:
		if m.Status() != StateMember {
			return fmt.Errorf("community: %s in state %s", TypeRoleChanged, m.Status())
		}
		if err := m.same(TypeRoleChanged, e.CommunityID, e.Member); err != nil {
			return err
		}
		m.Role = e.Role
	default:
		return fmt.Errorf("community: cannot apply %T", payload)
	}
	return nil
}

// transition moves m to next unless it is in one of the forbidden states.
func (m *Membership) transition(typ, communityID, member string, next MembershipState, forbidden ...MembershipState) error {
	for _, f := range forbidden {
		if m.Status() == f {
			return fmt.Errorf("community: %s in state %s", typ, f)
		}
	}
	return m.move(typ, communityID, member, next)
}

// require moves m to next if it is in one of the allowed states.
func (m *Membership) require(typ, communityID, member string, next MembershipState, allowed ...MembershipState) error {
	for _, a := range allowed {
		if m.Status() == a {
			return m.move(typ, communityID, member, next)
		}
	}
	return fmt.Errorf("community: %s in state %s", typ, m.Status())
}

func (m *Membership) move(typ, communityID, member string, next MembershipState) error {
	if err := m.same(typ, communityID, member); err != nil {
		return err
	}
	m.CommunityID, m.Member, m.State = communityID, member, next
	if next != StateMember {
		m.Role = ""
	}
	if next != StateRequested && next != StateMember {
		m.FollowActivityID = ""
	}
	return nil
}

// same checks that an event belongs to the membership already folded.
func (m *Membership) same(typ, communityID, member string) error {
	if m.CommunityID != "" && (m.CommunityID != communityID || m.Member != member) {
		return fmt.Errorf("community: %s for %s in %s on the membership stream of %s in %s",
			typ, member, communityID, m.Member, m.CommunityID)
	}
	return nil
}

// FoldMembership applies payloads in order to a zero Membership.
func FoldMembership(payloads ...any) (Membership, error) { return fold.Fold[Membership](payloads...) }

// Authority is what the acting person may do in a community.
type Authority int

// The authorities, from least to most.
const (
	// NoAuthority: an ordinary member or an outsider.
	NoAuthority Authority = iota
	// AsFacilitator: a facilitator (moderator) of the community.
	AsFacilitator
	// AsOwner: an owner of the community.
	AsOwner
	// AsAdmin: an institution or instance administrator, who may do
	// everything in every community.
	AsAdmin
)

// AuthorityOf is the authority of the person whose own membership is m;
// admin (an instance-wide administrator role) outranks it.
func AuthorityOf(m Membership, admin bool) Authority {
	switch {
	case admin:
		return AsAdmin
	case m.Status() != StateMember:
		return NoAuthority
	case m.Role == Owner:
		return AsOwner
	case m.Role == Facilitator:
		return AsFacilitator
	}
	return NoAuthority
}

// Actor is who decides: a local account id (or remote actor IRI) and their
// authority in the community.
type Actor struct {
	ID        string
	Authority Authority
}

func exists(c State) error {
	if !c.Exists {
		return ErrNotFound
	}
	return nil
}

// facilitated checks a facilitator's decision on community c: c exists
// (ErrNotFound) and by facilitates it, owns it or is an admin
// (ErrNotFacilitator).
func facilitated(c State, by Actor) error {
	if err := exists(c); err != nil {
		return err
	}
	return need(by, AsFacilitator)
}

func need(by Actor, a Authority) error {
	if by.Authority >= a {
		return nil
	}
	if a == AsFacilitator {
		return ErrNotFacilitator
	}
	return ErrNotOwner
}

// guardOf is the authority needed to remove or ban the person whose
// membership is m: facilitators act on members and outsiders, owners
// (and admins) also on facilitators and other owners.
func guardOf(m Membership) Authority {
	if m.Status() == StateMember && (m.Role == Facilitator || m.Role == Owner) {
		return AsOwner
	}
	return AsFacilitator
}

// Join decides member's own join of community c, given their membership m.
// followActivityID is the remote Follow that asks, if any. Open: joined
// at once. Approval: a join request (an existing request stays; a new
// Follow activity renews it). Invite-only: joined if invited, else
// ErrNotInvited. An invited person joins under every policy. A member gets
// ErrAlreadyMember, a banned person ErrBanned.
func Join(c State, m Membership, member, followActivityID string) ([]any, error) {
	if err := exists(c); err != nil {
		return nil, err
	}
	if member == "" {
		return nil, invalid("member", "must not be empty")
	}
	joined := MemberJoined{CommunityID: c.ID, Member: member, Role: Member, By: member, FollowActivityID: followActivityID}
	switch m.Status() {
	case StateBanned:
		return nil, ErrBanned
	case StateMember:
		return nil, ErrAlreadyMember
	case StateInvited:
		return []any{joined}, nil
	}
	switch c.Policy {
	case Open:
		return []any{joined}, nil
	case Approval:
		if m.Status() == StateRequested && (followActivityID == "" || followActivityID == m.FollowActivityID) {
			return nil, nil
		}
		return []any{JoinRequested{CommunityID: c.ID, Member: member, FollowActivityID: followActivityID}}, nil
	}
	return nil, ErrNotInvited
}

// JoinAsOwner decides the membership of community c's creator, as owner.
// Already the owner: nothing to do.
func JoinAsOwner(c State, m Membership) ([]any, error) {
	if err := exists(c); err != nil {
		return nil, err
	}
	if m.Member != "" && m.Member != c.OwnerID {
		return nil, ErrNotCommunityOwner
	}
	if m.Status() == StateMember && m.Role == Owner {
		return nil, nil
	}
	if m.Status() != StateNone {
		return nil, fmt.Errorf("community: owner's membership already in state %s", m.Status())
	}
	return []any{MemberJoined{CommunityID: c.ID, Member: c.OwnerID, Role: Owner, By: c.OwnerID}}, nil
}

// Leave decides member's leaving: a member leaves, a requester withdraws,
// an invitee declines. An owner may not leave (ErrOwnerCannotLeave);
// anyone else gets ErrNotMember.
func Leave(c State, m Membership, member string) ([]any, error) {
	if err := exists(c); err != nil {
		return nil, err
	}
	switch m.Status() {
	case StateMember:
		if m.Role == Owner {
			return nil, ErrOwnerCannotLeave
		}
	case StateRequested, StateInvited:
	default:
		return nil, ErrNotMember
	}
	return []any{MemberLeft{CommunityID: c.ID, Member: member}}, nil
}

// Approve decides a facilitator's approval of member's pending request.
func Approve(c State, m Membership, member string, by Actor) ([]any, error) {
	if err := facilitated(c, by); err != nil {
		return nil, err
	}
	if m.Status() != StateRequested {
		return nil, ErrNotRequested
	}
	return []any{MemberJoined{CommunityID: c.ID, Member: member, Role: Member, By: by.ID,
		FollowActivityID: m.FollowActivityID}}, nil
}

// Reject decides a facilitator's refusal of member's pending request.
func Reject(c State, m Membership, member string, by Actor) ([]any, error) {
	if err := facilitated(c, by); err != nil {
		return nil, err
	}
	if m.Status() != StateRequested {
		return nil, ErrNotRequested
	}
	return []any{JoinRejected{CommunityID: c.ID, Member: member, By: by.ID}}, nil
}

// Invite decides a facilitator's invitation of member. Someone already
// invited: nothing to do. A pending request is approved instead (the
// person asked, the facilitator agrees). Members get ErrAlreadyMember,
// banned people ErrBanned (unban first).
func Invite(c State, m Membership, member string, by Actor) ([]any, error) {
	if err := facilitated(c, by); err != nil {
		return nil, err
	}
	if member == "" {
		return nil, invalid("member", "must not be empty")
	}
	switch m.Status() {
	case StateMember:
		return nil, ErrAlreadyMember
	case StateBanned:
		return nil, ErrBanned
	case StateInvited:
		return nil, nil
	case StateRequested:
		return []any{MemberJoined{CommunityID: c.ID, Member: member, Role: Member, By: by.ID,
			FollowActivityID: m.FollowActivityID}}, nil
	}
	return []any{MemberInvited{CommunityID: c.ID, Member: member, By: by.ID}}, nil
}

// Remove decides the removal of member (or the revocation of their
// invitation). Facilitators remove members; facilitators and owners are
// removed only by owners or admins. Nobody removes themselves (they
// leave).
func Remove(c State, m Membership, member string, by Actor, reason string) ([]any, error) {
	if err := facilitated(c, by); err != nil {
		return nil, err
	}
	if member == by.ID {
		return nil, ErrSelf
	}
	if s := m.Status(); s != StateMember && s != StateInvited {
		return nil, ErrNotMember
	}
	if err := need(by, guardOf(m)); err != nil {
		return nil, err
	}
	return []any{MemberRemoved{CommunityID: c.ID, Member: member, By: by.ID, Reason: reason}}, nil
}

// Ban decides the ban of member, whatever their state (a pre-emptive ban
// of an outsider included), with the same authority rules as Remove.
// Already banned: nothing to do.
func Ban(c State, m Membership, member string, by Actor, reason string) ([]any, error) {
	if err := facilitated(c, by); err != nil {
		return nil, err
	}
	if member == "" {
		return nil, invalid("member", "must not be empty")
	}
	if member == by.ID {
		return nil, ErrSelf
	}
	if m.Status() == StateBanned {
		return nil, nil
	}
	if err := need(by, guardOf(m)); err != nil {
		return nil, err
	}
	return []any{MemberBanned{CommunityID: c.ID, Member: member, By: by.ID, Reason: reason}}, nil
}

// Unban decides lifting member's ban; afterwards they are not a member
// (StateNone) and may join again.
func Unban(c State, m Membership, member string, by Actor) ([]any, error) {
	if err := facilitated(c, by); err != nil {
		return nil, err
	}
	if m.Status() != StateBanned {
		return nil, ErrNotBanned
	}
	return []any{MemberUnbanned{CommunityID: c.ID, Member: member, By: by.ID}}, nil
}

// ChangeRole decides giving member another role. Only owners and admins
// change roles; owners do not change their own (another owner does, so a
// community always keeps an owner). The same role: nothing to do.
func ChangeRole(c State, m Membership, member string, role Role, by Actor) ([]any, error) {
	if err := exists(c); err != nil {
		return nil, err
	}
	if !ValidRole(role) {
		return nil, invalid("role", "must be member, facilitator or owner")
	}
	if err := need(by, AsOwner); err != nil {
		return nil, err
	}
	if member == by.ID && by.Authority < AsAdmin {
		return nil, ErrSelf
	}
	if m.Status() != StateMember {
		return nil, ErrNotMember
	}
	if m.Role == role {
		return nil, nil
	}
	return []any{RoleChanged{CommunityID: c.ID, Member: member, Role: role, By: by.ID}}, nil
}
