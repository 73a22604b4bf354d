package app

import (
	"context"
	"errors"

	"github.com/hanse-network/hanse/internal/domain/community"
)

// Acting is who performs a command on behalf of a signed-in person: the
// local account id, and whether the account's role lets it moderate every
// community of the instance (institution or instance admin).
type Acting struct {
	ID    string
	Admin bool
}

// Errors shared by the community and post commands; HTTP maps them to
// 404, 403 and 409.
var (
	ErrCommunityNotFound = errors.New("app: community not found")
	ErrNotMember         = errors.New("app: not a member of the community")
	ErrBanned            = errors.New("app: banned from the community")
	ErrNotFacilitator    = errors.New("app: only the community's facilitators may do this")
	ErrNotOwner          = errors.New("app: only the community's owners may do this")
)

// CommunityGate is what the post commands ask of communities
// (Communities implements it).
type CommunityGate interface {
	// CanPost returns nil when author (a local account id or a remote
	// actor IRI) may post into the community now: a member not banned,
	// or anyone not banned in an open community. Otherwise
	// ErrCommunityNotFound, ErrBanned or ErrNotMember.
	CanPost(ctx context.Context, communityID, author string) error
	// CanModerate returns nil when by is a facilitator or owner of the
	// community, or an admin; ErrNotFacilitator otherwise.
	CanModerate(ctx context.Context, communityID string, by Acting) error
	// Visibility returns the community's visibility.
	Visibility(ctx context.Context, communityID string) (community.Visibility, error)
	// Membership returns member's membership state in the community
	// (community.StateNone when they never joined); ErrCommunityNotFound
	// when there is no such community. Posts.Like asks it before a
	// member likes a members-only post.
	Membership(ctx context.Context, communityID, member string) (community.MembershipState, error)
}

// AccountPurger removes what a feature stores outside the event log about
// an account (media files, say) when the account is erased.
type AccountPurger interface {
	PurgeAccount(ctx context.Context, accountID string) error
}
