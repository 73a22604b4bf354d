package follow

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/hanse-network/hanse/events"
)

// Event type names; never rename them.
const (
	TypeRequested = "follow.requested"
	TypeAccepted  = "follow.accepted"
	TypeRejected  = "follow.rejected"
	TypeUndone    = "follow.undone"
	TypeRemoved   = "follow.removed"
)

// Direction tells who follows whom.
type Direction string

const (
	// Inbound: a remote actor follows a local one.
	Inbound Direction = "inbound"
	// Outbound: a local actor follows a remote one.
	Outbound Direction = "outbound"
)

// Stream is the relationship's stream, keyed by the pair of actor IRIs.
func Stream(followerIRI, followeeIRI string) string {
	h := sha256.Sum256([]byte(followerIRI + "\n" + followeeIRI))
	return "follow-" + hex.EncodeToString(h[:16])
}

// Requested records a Follow (received for Inbound, sent for Outbound).
type Requested struct {
	Direction Direction `json:"direction"`
	// LocalActorID is the local side (the followee for Inbound, the
	// follower for Outbound).
	LocalActorID string `json:"localActorId"`
	FollowerIRI  string `json:"followerIri"`
	FolloweeIRI  string `json:"followeeIri"`
	// FollowActivityID is the Follow activity's id (Accept/Reject/Undo
	// refer to it).
	FollowActivityID string `json:"followActivityId"`
	// RemoteInbox and RemoteSharedInbox address the remote side.
	RemoteInbox       string `json:"remoteInbox,omitempty"`
	RemoteSharedInbox string `json:"remoteSharedInbox,omitempty"`
	// PendingApproval is true when the local followee approves followers
	// by hand (Inbound only).
	PendingApproval bool `json:"pendingApproval,omitempty"`
}

// Accepted records the acceptance (sent for Inbound, received for Outbound).
type Accepted struct {
	AcceptActivityID string `json:"acceptActivityId"`
}

// Rejected records a refusal (sent for Inbound, received for Outbound).
type Rejected struct {
	RejectActivityID string `json:"rejectActivityId"`
}

// Undone records that the follower withdrew (Undo{Follow}).
type Undone struct {
	UndoActivityID string `json:"undoActivityId"`
}

// Removed records that the local followee removed an accepted follower (or
// a block ended the relationship).
type Removed struct {
	Reason string `json:"reason,omitempty"`
}

// Register declares the follow events in r.
func Register(r *events.Registry) {
	events.Register[Requested](r, TypeRequested, 1, nil)
	events.Register[Accepted](r, TypeAccepted, 1, nil)
	events.Register[Rejected](r, TypeRejected, 1, nil)
	events.Register[Undone](r, TypeUndone, 1, nil)
	events.Register[Removed](r, TypeRemoved, 1, nil)
}
