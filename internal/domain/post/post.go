package post

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hanse-network/hanse/internal/domain/fold"
)

// Errors of the post decisions.
var (
	// ErrNotFound: the post does not exist.
	ErrNotFound = errors.New("post: not found")
	// ErrAlreadyExists: the post stream already holds a post.
	ErrAlreadyExists = errors.New("post: already exists")
	// ErrDeleted: the post was deleted by its author.
	ErrDeleted = errors.New("post: deleted")
	// ErrRemoved: the post was removed by a facilitator.
	ErrRemoved = errors.New("post: removed")
	// ErrNotAuthor: only the author (or, for deletion, an admin) may do this.
	ErrNotAuthor = errors.New("post: only the author may do this")
	// ErrParentGone: the post replied to was deleted or removed.
	ErrParentGone = errors.New("post: the post replied to is gone")
	// ErrThreadLocked: the thread refuses new replies.
	ErrThreadLocked = errors.New("post: the thread is locked")
	// ErrNotInCommunity: the decision needs a post of a community.
	ErrNotInCommunity = errors.New("post: not a post of a community")
	// ErrNotRoot: the decision needs the first post of a thread.
	ErrNotRoot = errors.New("post: not the first post of a thread")
	// ErrAlreadyAnnounced: the community shared the post already.
	ErrAlreadyAnnounced = errors.New("post: already announced")
	// ErrNotShareable: followers-only and direct posts are never
	// announced or boosted.
	ErrNotShareable = errors.New("post: the post's visibility does not allow sharing")
	// ErrAlreadyBoosted: the actor boosted the post already.
	ErrAlreadyBoosted = errors.New("post: already boosted by this actor")
	// ErrNotBoosted: the actor has no boost of the post to withdraw (the
	// application treats it as a no-op).
	ErrNotBoosted = errors.New("post: not boosted by this actor")
	// ErrAlreadyLocked / ErrNotLocked: the thread's lock is already in
	// the asked state.
	ErrAlreadyLocked = errors.New("post: thread already locked")
	ErrNotLocked     = errors.New("post: thread not locked")
	// ErrAlreadyPinned / ErrNotPinned: the pin is already in the asked
	// state.
	ErrAlreadyPinned = errors.New("post: already pinned")
	ErrNotPinned     = errors.New("post: not pinned")
	// ErrAlreadyLiked / ErrNotLiked: the like is already in the asked
	// state (the application treats both as no-ops).
	ErrAlreadyLiked = errors.New("post: already liked")
	ErrNotLiked     = errors.New("post: not liked")
)

// FieldError reports an invalid input field.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return "post: " + e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// State is a post folded from its stream.
type State struct {
	Exists bool
	ID     string
	Kind   Kind
	// AuthorID is a local author's account id, AuthorIRI a remote
	// author's actor IRI.
	AuthorID  string
	AuthorIRI string
	// ObjectIRI is a remote post's id.
	ObjectIRI   string
	CommunityID string
	// CommunityIRI is a received post's remote community (its Group's
	// IRI).
	CommunityIRI string
	// InReplyTo is what the post answers ("" for a thread's first post);
	// RootID the local id of the thread's first post (the post's own id
	// for roots).
	InReplyTo  string
	RootID     string
	Visibility Visibility
	Mentions   []string
	Sensitive  bool
	Deleted    bool
	Removed    bool
	Announced  bool
	Locked     bool
	Pinned     bool
	// Boosters are the actors that boosted the post, in order.
	Boosters []string
}

// Author is the author's identity as the post's data key subject: the
// local account id or the remote actor IRI.
func (s State) Author() string {
	if s.AuthorID != "" {
		return s.AuthorID
	}
	return s.AuthorIRI
}

// IsRoot reports whether the post starts a thread.
func (s State) IsRoot() bool { return s.InReplyTo == "" }

// Live returns nil for a post that exists and is neither deleted nor
// removed, else ErrNotFound, ErrDeleted or ErrRemoved.
func (s State) Live() error {
	switch {
	case !s.Exists:
		return ErrNotFound
	case s.Deleted:
		return fmt.Errorf("%w: %s", ErrDeleted, s.ID)
	case s.Removed:
		return fmt.Errorf("%w: %s", ErrRemoved, s.ID)
	}
	return nil
}

// Apply folds one event payload (value or pointer, as
// events.Registry.Decode returns them) into s.
func (s *State) Apply(payload any) error {
	if !s.Exists {
		switch payload.(type) {
		case Published, *Published:
		default:
			return fmt.Errorf("post: %T before %s", payload, TypePublished)
		}
	}
	switch e := payload.(type) {
	case *Published:
		return s.Apply(*e)
	case *Edited:
		return s.Apply(*e)
	case *Deleted:
		return s.Apply(*e)
	case *Removed:
		return s.Apply(*e)
	case *Announced:
		return s.Apply(*e)
	case *ThreadLocked:
		return s.Apply(*e)
	case *ThreadUnlocked:
		return s.Apply(*e)
	case *Pinned:
		return s.Apply(*e)
	case *Unpinned:
		return s.Apply(*e)
	case *Boosted:
		return s.Apply(*e)
	case *Unboosted:
		return s.Apply(*e)
	case Published:
		if s.Exists {
			return fmt.Errorf("post: %s applied to existing post %s", TypePublished, s.ID)
		}
		*s = State{Exists: true, ID: e.PostID, Kind: e.Kind, AuthorID: e.AuthorID, AuthorIRI: e.AuthorIRI,
			ObjectIRI: e.ObjectIRI, CommunityID: e.CommunityID, CommunityIRI: e.CommunityIRI, InReplyTo: e.InReplyTo, RootID: e.RootID,
			Visibility: e.Visibility, Mentions: e.Mentions, Sensitive: e.Sensitive}
	case Edited:
		s.Mentions, s.Sensitive = e.Mentions, e.Sensitive
	case Deleted:
		s.Deleted = true
	case Removed:
		s.Removed = true
	case Announced:
		s.Announced = true
	case ThreadLocked:
		s.Locked = true
	case ThreadUnlocked:
		s.Locked = false
	case Pinned:
		s.Pinned = true
	case Unpinned:
		s.Pinned = false
	case Boosted:
		s.Boosters = append(slices.Clip(s.Boosters), e.BoosterIRI)
	case Unboosted:
		s.Boosters = slices.DeleteFunc(slices.Clone(s.Boosters), func(b string) bool { return b == e.BoosterIRI })
		if len(s.Boosters) == 0 {
			s.Boosters = nil
		}
	default:
		return fmt.Errorf("post: cannot apply %T", payload)
	}
	return nil
}

// Fold applies payloads in order to a zero State.
func Fold(payloads ...any) (State, error) { return fold.Fold[State](payloads...) }

// LikeState is one liker's like of one post, folded from LikeStream.
type LikeState struct {
	PostID string
	Liker  string
	Liked  bool
}

// Apply folds one like event into s.
func (s *LikeState) Apply(payload any) error {
	switch e := payload.(type) {
	case *Liked:
		return s.Apply(*e)
	case *LikeUndone:
		return s.Apply(*e)
	case Liked:
		s.PostID, s.Liker, s.Liked = e.PostID, e.Liker, true
	case LikeUndone:
		s.PostID, s.Liker, s.Liked = e.PostID, e.Liker, false
	default:
		return fmt.Errorf("post: cannot apply %T to a like", payload)
	}
	return nil
}

// FoldLike applies like payloads in order to a zero LikeState.
func FoldLike(payloads ...any) (LikeState, error) { return fold.Fold[LikeState](payloads...) }
