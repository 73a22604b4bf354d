package follow

import (
	"errors"
	"fmt"
	"github.com/hanse-network/hanse/internal/domain/fold"
)

// Errors of the decide functions. A refusal never changes the
// relationship; the inbox reactor logs and skips it.
var (
	// ErrInvalid: a command lacks a required field.
	ErrInvalid = errors.New("follow: invalid command")
	// ErrNotFound: the command needs a live (pending or accepted)
	// relationship and there is none.
	ErrNotFound = errors.New("follow: no such relationship")
	// ErrNotPending: the command needs a pending relationship.
	ErrNotPending = errors.New("follow: relationship is not pending")
	// ErrNotParty: the activity's actor may not do this to the
	// relationship (an Undo by someone other than the follower, an
	// Accept or Reject by someone other than the followee).
	ErrNotParty = errors.New("follow: actor is not the party that may do this")
	// ErrWrongDirection: the command applies to the other direction (say,
	// an Accept received for a relationship in which the remote side
	// follows us).
	ErrWrongDirection = errors.New("follow: wrong direction")
)

// Status is where a relationship stands.
type Status string

// The statuses of a relationship. A new Follow after StatusRejected,
// StatusUndone or StatusRemoved starts the relationship again.
const (
	// StatusNone: no Follow yet.
	StatusNone Status = ""
	// StatusPending: requested, not (yet) accepted. Inbound: waiting for
	// the local actor's approval; Outbound: waiting for the remote Accept.
	StatusPending Status = "pending"
	// StatusAccepted: the follower follows.
	StatusAccepted Status = "accepted"
	// StatusRejected: the followee refused (or, Mastodon-style, later
	// removed the follower with a Reject).
	StatusRejected Status = "rejected"
	// StatusUndone: the follower withdrew.
	StatusUndone Status = "undone"
	// StatusRemoved: the local side ended it (removed follower, deleted
	// remote actor).
	StatusRemoved Status = "removed"
)

// Live reports whether the status is pending or accepted.
func (s Status) Live() bool { return s == StatusPending || s == StatusAccepted }

// State is a relationship folded from the events of its stream.
type State struct {
	Status            Status
	Direction         Direction
	LocalActorID      string
	FollowerIRI       string
	FolloweeIRI       string
	FollowActivityID  string
	AcceptActivityID  string
	RejectActivityID  string
	UndoActivityID    string
	RemoteInbox       string
	RemoteSharedInbox string
	// seen holds every activity id the stream has recorded (Follow,
	// Accept, Reject, Undo), so that an activity processed twice decides
	// nothing the second time.
	seen map[string]bool
}

// Seen reports whether the stream already records activity id.
func (s State) Seen(id string) bool { return id != "" && s.seen[id] }

func (s *State) see(id string) {
	if id == "" {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[id] = true
}

// Apply folds one event payload (value or pointer, as events.Registry.Decode
// returns them) into s. An event that cannot follow the state is an error:
// the stream is corrupt.
func (s *State) Apply(payload any) error {
	switch e := payload.(type) {
	case *Requested:
		return s.Apply(*e)
	case *Accepted:
		return s.Apply(*e)
	case *Rejected:
		return s.Apply(*e)
	case *Undone:
		return s.Apply(*e)
	case *Removed:
		return s.Apply(*e)
	case Requested:
		if s.Direction != "" && (e.Direction != s.Direction || e.FollowerIRI != s.FollowerIRI || e.FolloweeIRI != s.FolloweeIRI) {
			return fmt.Errorf("follow: %s for %s → %s (%s) on the stream of %s → %s (%s)", TypeRequested,
				e.FollowerIRI, e.FolloweeIRI, e.Direction, s.FollowerIRI, s.FolloweeIRI, s.Direction)
		}
		seen := s.seen
		*s = State{Status: StatusPending, Direction: e.Direction, LocalActorID: e.LocalActorID,
			FollowerIRI: e.FollowerIRI, FolloweeIRI: e.FolloweeIRI, FollowActivityID: e.FollowActivityID,
			RemoteInbox: e.RemoteInbox, RemoteSharedInbox: e.RemoteSharedInbox, seen: seen}
		s.see(e.FollowActivityID)
	case Accepted:
		if s.Status != StatusPending {
			return fmt.Errorf("follow: %s in status %q", TypeAccepted, s.Status)
		}
		s.Status, s.AcceptActivityID = StatusAccepted, e.AcceptActivityID
		s.see(e.AcceptActivityID)
	case Rejected:
		if !s.Status.Live() {
			return fmt.Errorf("follow: %s in status %q", TypeRejected, s.Status)
		}
		s.Status, s.RejectActivityID = StatusRejected, e.RejectActivityID
		s.see(e.RejectActivityID)
	case Undone:
		if !s.Status.Live() {
			return fmt.Errorf("follow: %s in status %q", TypeUndone, s.Status)
		}
		s.Status, s.UndoActivityID = StatusUndone, e.UndoActivityID
		s.see(e.UndoActivityID)
	case Removed:
		if !s.Status.Live() {
			return fmt.Errorf("follow: %s in status %q", TypeRemoved, s.Status)
		}
		s.Status = StatusRemoved
	default:
		return fmt.Errorf("follow: cannot apply %T", payload)
	}
	return nil
}

// Fold applies payloads in order to a zero State.
func Fold(payloads ...any) (State, error) { return fold.Fold[State](payloads...) }

// InboundFollow is a Follow received from a remote actor for a local one.
type InboundFollow struct {
	FollowActivityID  string
	FollowerIRI       string // the remote actor
	FolloweeIRI       string // the local actor's IRI
	LocalActorID      string
	RemoteInbox       string
	RemoteSharedInbox string
	// ManuallyApprovesFollowers is the local actor's setting.
	ManuallyApprovesFollowers bool
	// AcceptActivityID is the id of the Accept to send when the follow is
	// accepted at once (derived by the caller from FollowActivityID).
	AcceptActivityID string
}

// ReceiveFollow decides on a received Follow:
//
//   - a Follow already recorded (same activity id) → no events;
//   - no live relationship, and the local actor approves by hand →
//     follow.requested with PendingApproval;
//   - no live relationship otherwise → follow.requested + follow.accepted;
//   - pending → follow.requested again with the new Follow's id (and, if
//     the actor no longer approves by hand, follow.accepted);
//   - already accepted → follow.requested (the new Follow id) +
//     follow.accepted with a new Accept id, never pending again.
//
// The last rule is the duplicate-Follow choice: Mastodon re-sends a Follow
// with a new id when it thinks the relationship is lost; it expects an
// Accept naming that new Follow, and the follower was approved already.
// Recording the new Follow id lets the outbound side render that Accept.
func ReceiveFollow(s State, in InboundFollow) ([]any, error) {
	if in.FollowActivityID == "" || in.FollowerIRI == "" || in.FolloweeIRI == "" || in.LocalActorID == "" || in.AcceptActivityID == "" {
		return nil, fmt.Errorf("%w: a received Follow needs its id, both actors, the local actor id and an accept id", ErrInvalid)
	}
	if s.Direction == Outbound {
		return nil, ErrWrongDirection
	}
	if s.Seen(in.FollowActivityID) {
		return nil, nil
	}
	pending := in.ManuallyApprovesFollowers && s.Status != StatusAccepted
	req := Requested{Direction: Inbound, LocalActorID: in.LocalActorID, FollowerIRI: in.FollowerIRI,
		FolloweeIRI: in.FolloweeIRI, FollowActivityID: in.FollowActivityID, RemoteInbox: in.RemoteInbox,
		RemoteSharedInbox: in.RemoteSharedInbox, PendingApproval: pending}
	if pending {
		return []any{req}, nil
	}
	return []any{req, Accepted{AcceptActivityID: in.AcceptActivityID}}, nil
}

// Approve decides the local actor's approval of a pending inbound follow.
// Approving an accepted follow decides nothing.
func Approve(s State, acceptActivityID string) ([]any, error) {
	if acceptActivityID == "" {
		return nil, fmt.Errorf("%w: approval needs an accept id", ErrInvalid)
	}
	if err := inbound(s); err != nil {
		return nil, err
	}
	switch s.Status {
	case StatusPending:
		return []any{Accepted{AcceptActivityID: acceptActivityID}}, nil
	case StatusAccepted:
		return nil, nil
	}
	return nil, ErrNotPending
}

// Reject decides the local actor's refusal of a pending inbound follow.
// Rejecting a rejected follow decides nothing; an accepted follower is
// removed with Remove instead.
func Reject(s State, rejectActivityID string) ([]any, error) {
	if rejectActivityID == "" {
		return nil, fmt.Errorf("%w: a refusal needs a reject id", ErrInvalid)
	}
	if err := inbound(s); err != nil {
		return nil, err
	}
	switch s.Status {
	case StatusPending:
		return []any{Rejected{RejectActivityID: rejectActivityID}}, nil
	case StatusRejected:
		return nil, nil
	}
	return nil, ErrNotPending
}

// ReceiveUndo decides on a received Undo{Follow} by actorIRI. Only the
// follower may undo. An Undo of an unknown or ended relationship, or one
// already recorded, decides nothing.
func ReceiveUndo(s State, undoActivityID, actorIRI string) ([]any, error) {
	if undoActivityID == "" || actorIRI == "" {
		return nil, fmt.Errorf("%w: an Undo needs its id and actor", ErrInvalid)
	}
	if !s.Status.Live() || s.Seen(undoActivityID) {
		return nil, nil
	}
	if actorIRI != s.FollowerIRI || s.Direction != Inbound {
		return nil, ErrNotParty
	}
	return []any{Undone{UndoActivityID: undoActivityID}}, nil
}

// Remove decides that the local side ends a live relationship: a local
// actor removes a follower, or the remote actor was deleted (either
// direction).
func Remove(s State, reason string) ([]any, error) {
	if !s.Status.Live() {
		return nil, ErrNotFound
	}
	return []any{Removed{Reason: reason}}, nil
}

// OutboundFollow is a Follow a local actor sends to a remote one.
type OutboundFollow struct {
	FollowActivityID  string
	FollowerIRI       string // the local actor's IRI
	FolloweeIRI       string // the remote actor
	LocalActorID      string
	RemoteInbox       string
	RemoteSharedInbox string
}

// SendFollow decides that a local actor follows a remote one. A pending or
// accepted relationship decides nothing (the Follow is in flight or has
// been accepted); an ended one starts again.
func SendFollow(s State, in OutboundFollow) ([]any, error) {
	if in.FollowActivityID == "" || in.FollowerIRI == "" || in.FolloweeIRI == "" || in.LocalActorID == "" || in.RemoteInbox == "" {
		return nil, fmt.Errorf("%w: a Follow needs its id, both actors, the local actor id and the remote inbox", ErrInvalid)
	}
	if s.Direction == Inbound {
		return nil, ErrWrongDirection
	}
	if s.Status.Live() || s.Seen(in.FollowActivityID) {
		return nil, nil
	}
	return []any{Requested{Direction: Outbound, LocalActorID: in.LocalActorID, FollowerIRI: in.FollowerIRI,
		FolloweeIRI: in.FolloweeIRI, FollowActivityID: in.FollowActivityID, RemoteInbox: in.RemoteInbox,
		RemoteSharedInbox: in.RemoteSharedInbox}}, nil
}

// ReceiveAccept decides on an Accept{Follow} received from actorIRI for an
// outbound follow; only the followee may accept. An Accept already recorded,
// or one for an accepted follow, decides nothing.
func ReceiveAccept(s State, acceptActivityID, actorIRI string) ([]any, error) {
	if acceptActivityID == "" || actorIRI == "" {
		return nil, fmt.Errorf("%w: an Accept needs its id and actor", ErrInvalid)
	}
	if err := outboundFrom(s, actorIRI); err != nil {
		return nil, err
	}
	if s.Seen(acceptActivityID) {
		return nil, nil
	}
	switch s.Status {
	case StatusPending:
		return []any{Accepted{AcceptActivityID: acceptActivityID}}, nil
	case StatusAccepted:
		return nil, nil
	}
	return nil, ErrNotPending
}

// ReceiveReject decides on a Reject{Follow} received from actorIRI for an
// outbound follow; only the followee may reject. It ends a pending follow
// and, as Mastodon's "remove follower" does, an accepted one; for an ended
// relationship it decides nothing.
func ReceiveReject(s State, rejectActivityID, actorIRI string) ([]any, error) {
	if rejectActivityID == "" || actorIRI == "" {
		return nil, fmt.Errorf("%w: a Reject needs its id and actor", ErrInvalid)
	}
	if err := outboundFrom(s, actorIRI); err != nil {
		return nil, err
	}
	if !s.Status.Live() || s.Seen(rejectActivityID) {
		return nil, nil
	}
	return []any{Rejected{RejectActivityID: rejectActivityID}}, nil
}

// SendUndo decides that a local actor stops following (or withdraws its
// pending request to) a remote one.
func SendUndo(s State, undoActivityID string) ([]any, error) {
	if undoActivityID == "" {
		return nil, fmt.Errorf("%w: an Undo needs its id", ErrInvalid)
	}
	if s.Status == StatusNone {
		return nil, ErrNotFound
	}
	if s.Direction != Outbound {
		return nil, ErrWrongDirection
	}
	if !s.Status.Live() {
		return nil, ErrNotFound
	}
	return []any{Undone{UndoActivityID: undoActivityID}}, nil
}

// inbound checks that s is an inbound relationship.
func inbound(s State) error {
	switch {
	case s.Status == StatusNone:
		return ErrNotFound
	case s.Direction != Inbound:
		return ErrWrongDirection
	}
	return nil
}

// outboundFrom checks that s is an outbound relationship whose followee is
// actorIRI.
func outboundFrom(s State, actorIRI string) error {
	switch {
	case s.Status == StatusNone:
		return ErrNotFound
	case s.Direction != Outbound:
		return ErrWrongDirection
	case actorIRI != s.FolloweeIRI:
		return ErrNotParty
	}
	return nil
}
