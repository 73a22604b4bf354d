package actor

import (
	"fmt"

	"github.com/hanse-network/hanse/internal/domain/fold"
)

// State is an actor folded from the events of its stream.
type State struct {
	// Exists is true once actor.created has been applied.
	Exists                    bool
	ID                        string
	Kind                      Kind
	Username                  string
	Name                      string
	Summary                   string
	ManuallyApprovesFollowers bool
	Discoverable              bool
	PublicKeyPEM              string
	SealedPrivateKey          []byte
	KeyGeneration             int
	Deleted                   bool
}

// Apply folds one event payload (a value or pointer of the payload types of
// this package, as events.Registry.Decode returns them) into s. An unknown
// payload is an error; so is an event that cannot follow the state (for
// example a second actor.created), which means a corrupt stream.
func (s *State) Apply(payload any) error {
	switch e := payload.(type) {
	case *Created:
		return s.Apply(*e)
	case *ProfileUpdated:
		return s.Apply(*e)
	case *KeyRotated:
		return s.Apply(*e)
	case *Deleted:
		return s.Apply(*e)
	case Created:
		if s.Exists {
			return fmt.Errorf("actor: %s applied to existing actor %s", TypeCreated, s.ID)
		}
		*s = State{
			Exists: true, ID: e.ActorID, Kind: e.Kind, Username: e.Username, Name: e.Name, Summary: e.Summary,
			ManuallyApprovesFollowers: e.ManuallyApprovesFollowers, Discoverable: e.Discoverable,
			PublicKeyPEM: e.PublicKeyPEM, SealedPrivateKey: e.SealedPrivateKey, KeyGeneration: e.KeyGeneration,
		}
	case ProfileUpdated:
		if !s.Exists {
			return fmt.Errorf("actor: %s before %s", TypeProfileUpdated, TypeCreated)
		}
		if e.Name != nil {
			s.Name = *e.Name
		}
		if e.Summary != nil {
			s.Summary = *e.Summary
		}
		if e.ManuallyApprovesFollowers != nil {
			s.ManuallyApprovesFollowers = *e.ManuallyApprovesFollowers
		}
		if e.Discoverable != nil {
			s.Discoverable = *e.Discoverable
		}
	case KeyRotated:
		if !s.Exists {
			return fmt.Errorf("actor: %s before %s", TypeKeyRotated, TypeCreated)
		}
		s.PublicKeyPEM, s.SealedPrivateKey, s.KeyGeneration = e.PublicKeyPEM, e.SealedPrivateKey, e.KeyGeneration
	case Deleted:
		if !s.Exists {
			return fmt.Errorf("actor: %s before %s", TypeDeleted, TypeCreated)
		}
		s.Deleted = true
	default:
		return fmt.Errorf("actor: cannot apply %T", payload)
	}
	return nil
}

// Fold applies payloads in order to a zero State.
func Fold(payloads ...any) (State, error) { return fold.Fold[State](payloads...) }

// Live reports why s cannot take a command: ErrNotFound before
// actor.created, ErrDeleted after actor.deleted; nil otherwise.
func (s State) Live() error {
	switch {
	case !s.Exists:
		return ErrNotFound
	case s.Deleted:
		return fmt.Errorf("%w: %s", ErrDeleted, s.ID)
	}
	return nil
}

// NewActor is the input of Create. Id and key material come from the
// application layer (the domain does no I/O and no randomness).
type NewActor struct {
	ID                        string
	Kind                      Kind
	Username                  string
	Name                      string
	Summary                   string
	ManuallyApprovesFollowers bool
	Discoverable              bool
	PublicKeyPEM              string
	SealedPrivateKey          []byte
}

// Create decides the creation of an actor on the stream folded into s. The
// username is normalized (lower case) into the event. Only the actor with
// id InstanceID may be, and must be, an Application.
func Create(s State, in NewActor) (Created, error) {
	if s.Exists {
		return Created{}, fmt.Errorf("%w: %s", ErrAlreadyExists, s.ID)
	}
	if err := CheckNew(in); err != nil {
		return Created{}, err
	}
	if err := validateKey(in.PublicKeyPEM, in.SealedPrivateKey); err != nil {
		return Created{}, err
	}
	return Created{
		ActorID: in.ID, Kind: in.Kind, Username: NormalizeUsername(in.Username), Name: in.Name, Summary: in.Summary,
		ManuallyApprovesFollowers: in.ManuallyApprovesFollowers, Discoverable: in.Discoverable,
		PublicKeyPEM: in.PublicKeyPEM, SealedPrivateKey: in.SealedPrivateKey, KeyGeneration: 1,
	}, nil
}

// CheckNew validates everything of a new actor except its key material, so
// that the application can refuse bad input before generating a key.
func CheckNew(in NewActor) error {
	if in.ID == "" {
		return invalid("id", "must not be empty")
	}
	if !ValidKind(in.Kind) {
		return invalid("kind", "%q is not one of Person, Group, Organization, Application", in.Kind)
	}
	if in.Kind == KindApplication && in.ID != InstanceID {
		return invalid("kind", "the only Application actor is the instance actor")
	}
	if in.Kind != KindApplication && in.ID == InstanceID {
		return invalid("kind", "the instance actor must be an Application")
	}
	if err := ValidateUsername(in.Kind, NormalizeUsername(in.Username)); err != nil {
		return err
	}
	if err := validateName(in.Name); err != nil {
		return err
	}
	return validateSummary(in.Summary)
}

// ReserveUsername decides the reservation of a username for actor id (the
// event written to UsernameStream with expected revision NoStream).
func ReserveUsername(kind Kind, username, actorID string) (UsernameReserved, error) {
	if actorID == "" {
		return UsernameReserved{}, invalid("id", "must not be empty")
	}
	username = NormalizeUsername(username)
	if err := ValidateUsername(kind, username); err != nil {
		return UsernameReserved{}, err
	}
	return UsernameReserved{Username: username, ActorID: actorID}, nil
}

// UpdateProfile decides a profile change. Fields equal to the current
// state are dropped; changed is false when nothing is left (no event).
func UpdateProfile(s State, in ProfileUpdated) (ev ProfileUpdated, changed bool, err error) {
	if err := s.Live(); err != nil {
		return ProfileUpdated{}, false, err
	}
	if in.Name != nil {
		if err := validateName(*in.Name); err != nil {
			return ProfileUpdated{}, false, err
		}
		if *in.Name != s.Name {
			ev.Name, changed = in.Name, true
		}
	}
	if in.Summary != nil {
		if err := validateSummary(*in.Summary); err != nil {
			return ProfileUpdated{}, false, err
		}
		if *in.Summary != s.Summary {
			ev.Summary, changed = in.Summary, true
		}
	}
	if in.ManuallyApprovesFollowers != nil && *in.ManuallyApprovesFollowers != s.ManuallyApprovesFollowers {
		ev.ManuallyApprovesFollowers, changed = in.ManuallyApprovesFollowers, true
	}
	if in.Discoverable != nil && *in.Discoverable != s.Discoverable {
		ev.Discoverable, changed = in.Discoverable, true
	}
	return ev, changed, nil
}

// RotateKey decides the replacement of the actor's key pair; the key
// generation increases by one.
func RotateKey(s State, publicKeyPEM string, sealedPrivateKey []byte) (KeyRotated, error) {
	if err := s.Live(); err != nil {
		return KeyRotated{}, err
	}
	if err := validateKey(publicKeyPEM, sealedPrivateKey); err != nil {
		return KeyRotated{}, err
	}
	return KeyRotated{PublicKeyPEM: publicKeyPEM, SealedPrivateKey: sealedPrivateKey, KeyGeneration: s.KeyGeneration + 1}, nil
}

// Delete decides the deletion of the actor. The instance actor cannot be
// deleted: remote servers rely on its key.
func Delete(s State, reason string) (Deleted, error) {
	if err := s.Live(); err != nil {
		return Deleted{}, err
	}
	if s.ID == InstanceID {
		return Deleted{}, invalid("id", "the instance actor cannot be deleted")
	}
	if len(reason) > MaxSummaryLen {
		return Deleted{}, invalid("reason", "at most %d bytes", MaxSummaryLen)
	}
	return Deleted{Reason: reason}, nil
}

// PrivateKeyAD is the additional data a private key of actor id is sealed
// with, so that a sealed key copied to another actor fails to open.
func PrivateKeyAD(actorID string) []byte { return []byte(actorID) }
