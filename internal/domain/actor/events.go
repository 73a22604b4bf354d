package actor

import (
	"strings"

	"github.com/hanse-network/hanse/events"
)

// Event type names. They are part of the stored log: never rename them.
const (
	TypeCreated        = "actor.created"
	TypeProfileUpdated = "actor.profile_updated"
	TypeKeyRotated     = "actor.key_rotated"
	TypeDeleted        = "actor.deleted"
	// TypeUsernameReserved is written to the username's own stream
	// (UsernameStream) with expected revision NoStream, which makes
	// usernames unique per host across every kind of actor.
	TypeUsernameReserved = "actor.username_reserved"
)

// Kind is the ActivityStreams actor type.
type Kind string

// The kinds of local actors.
const (
	KindPerson       Kind = "Person"
	KindGroup        Kind = "Group"
	KindOrganization Kind = "Organization"
	KindApplication  Kind = "Application"
)

// Stream is the stream of actor id: "actor-<id>".
func Stream(id string) string { return "actor-" + id }

// UsernameStream is the reservation stream of a username (case-folded).
func UsernameStream(username string) string { return "username-" + strings.ToLower(username) }

// Created records a new local actor with its first key pair.
type Created struct {
	ActorID                   string `json:"actorId"`
	Kind                      Kind   `json:"kind"`
	Username                  string `json:"username"`
	Name                      string `json:"name,omitempty"`
	Summary                   string `json:"summary,omitempty"`
	ManuallyApprovesFollowers bool   `json:"manuallyApprovesFollowers,omitempty"`
	Discoverable              bool   `json:"discoverable,omitempty"`
	// PublicKeyPEM is the RSA-2048 public key, SPKI PEM.
	PublicKeyPEM string `json:"publicKeyPem"`
	// SealedPrivateKey is the PKCS#8 private key sealed with the instance's
	// master key (AES-256-GCM); never stored in clear. Opened (with
	// additional data PrivateKeyAD(ActorID)) it is a "PRIVATE KEY" PEM block.
	SealedPrivateKey []byte `json:"sealedPrivateKey"`
	// KeyGeneration numbers the actor's key pairs, 1 for the first; the
	// key id is "<actor IRI>#main-key" for 1 and "#key-<n>" after rotation.
	KeyGeneration int `json:"keyGeneration"`
}

// ProfileUpdated replaces the profile fields it carries (nil: unchanged).
type ProfileUpdated struct {
	Name                      *string `json:"name,omitempty"`
	Summary                   *string `json:"summary,omitempty"`
	ManuallyApprovesFollowers *bool   `json:"manuallyApprovesFollowers,omitempty"`
	Discoverable              *bool   `json:"discoverable,omitempty"`
}

// KeyRotated replaces the actor's key pair.
type KeyRotated struct {
	PublicKeyPEM     string `json:"publicKeyPem"`
	SealedPrivateKey []byte `json:"sealedPrivateKey"`
	KeyGeneration    int    `json:"keyGeneration"`
}

// Deleted marks the actor gone; its documents answer 410 with a Tombstone.
type Deleted struct {
	Reason string `json:"reason,omitempty"`
}

// UsernameReserved claims a username for an actor.
type UsernameReserved struct {
	Username string `json:"username"`
	ActorID  string `json:"actorId"`
}

// Register declares the actor events in r.
func Register(r *events.Registry) {
	events.Register[Created](r, TypeCreated, 1, nil)
	events.Register[ProfileUpdated](r, TypeProfileUpdated, 1, nil)
	events.Register[KeyRotated](r, TypeKeyRotated, 1, nil)
	events.Register[Deleted](r, TypeDeleted, 1, nil)
	events.Register[UsernameReserved](r, TypeUsernameReserved, 1, nil)
}
