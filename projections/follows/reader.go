package follows

import (
	"context"
	"errors"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/follow"
)

// Name is the projection's name.
const Name = "follows"

// Limits of the queries.
const (
	// MaxPageSize caps the limit of Followers and Following.
	MaxPageSize = 200
	// MaxPending caps the requests Pending returns.
	MaxPending = 500
	// MaxWithRemote caps the relationships WithRemote returns.
	MaxWithRemote = 1000
)

// Errors of the Reader.
var (
	// ErrNotFound: no relationship between the two actors.
	ErrNotFound = errors.New("follows: not found")
	// ErrBadCursor: a cursor the Reader did not issue.
	ErrBadCursor = errors.New("follows: invalid cursor")
)

// Relationship is one follow relationship as the read model holds it.
type Relationship struct {
	FollowerIRI string
	FolloweeIRI string
	Direction   follow.Direction
	// LocalActorID is the local side (followee when Inbound, follower when
	// Outbound).
	LocalActorID string
	// RemoteIRI is the remote side (follower when Inbound, followee when
	// Outbound).
	RemoteIRI         string
	State             follow.Status
	RemoteInbox       string
	RemoteSharedInbox string
	FollowActivityID  string
	AcceptActivityID  string
	// Since is the position of the event that accepted the follow (0 while
	// it was never accepted); pages are ordered by it, newest first.
	Since events.Position
	// UpdatedAt is when the last event of the relationship occurred.
	UpdatedAt time.Time
}

// Page is one page of followers or followings.
type Page struct {
	Items []Relationship
	// Next is the cursor of the next page, "" on the last one.
	Next string
}

// Counts are a local actor's relationship figures.
type Counts struct {
	// Followers counts accepted inbound relationships.
	Followers int
	// Following counts accepted outbound relationships.
	Following int
	// Pending counts inbound requests waiting for approval.
	Pending int
}

// Reader is the read-only query interface of the follows read model.
type Reader interface {
	// Followers lists the accepted followers of a local actor, newest
	// first: at most limit (1..MaxPageSize) from cursor ("" for the
	// first page).
	Followers(ctx context.Context, localActorID, cursor string, limit int) (Page, error)
	// Following lists the remote actors a local actor follows (accepted),
	// newest first.
	Following(ctx context.Context, localActorID, cursor string, limit int) (Page, error)
	// Pending lists the inbound follow requests waiting for the local
	// actor's approval, oldest first (at most MaxPending).
	Pending(ctx context.Context, localActorID string) ([]Relationship, error)
	// Counts returns the actor's followers, following and pending counts.
	Counts(ctx context.Context, localActorID string) (Counts, error)
	// Relationship returns the relationship of follower and followee, in
	// whatever state; ErrNotFound when there never was one.
	Relationship(ctx context.Context, followerIRI, followeeIRI string) (Relationship, error)
	// WithRemote lists the live (pending or accepted) relationships with a
	// remote actor, in either direction (at most MaxWithRemote).
	WithRemote(ctx context.Context, remoteIRI string) ([]Relationship, error)
}
