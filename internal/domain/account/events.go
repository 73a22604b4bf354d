package account

import (
	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

// Event type names; part of the stored log, never rename them.
const (
	TypeRegistered      = "account.registered"
	TypeProfileUpdated  = "account.profile_updated"
	TypePasswordChanged = "account.password_changed"
	TypeRoleChanged     = "account.role_changed"
	TypeErased          = "account.erased"
	// TypeEmailReserved is written to EmailStream(digest) with expected
	// revision NoStream: one account per e-mail address.
	TypeEmailReserved = "account.email_reserved"
)

// Role is what an account may do on its instance.
type Role string

// The roles, from least to most privileged.
const (
	// Learner: joins communities, posts, follows.
	Learner Role = "learner"
	// Facilitator: may also create and run communities.
	Facilitator Role = "facilitator"
	// InstitutionAdmin: may also manage every community of the instance.
	InstitutionAdmin Role = "institution_admin"
	// InstanceAdmin: everything, including the admin API and admin:* scopes.
	InstanceAdmin Role = "instance_admin"
)

// Stream is the account's stream: "account-<id>". The account id is the
// id of the account's Person actor.
func Stream(id string) string { return "account-" + id }

// EmailStream is the reservation stream of an e-mail address, named by
// its keyed digest (EmailDigest in the app layer), never by the address.
func EmailStream(digest string) string { return "account_email-" + digest }

// Registered records a new local account. Its Person actor (same id) is
// created by the same command with empty name and summary: the profile
// lives here, sealed.
type Registered struct {
	AccountID string `json:"accountId"`
	Username  string `json:"username"`
	Role      Role   `json:"role"`
	// Email is the address, sealed under the account's data key.
	Email personal.Text `json:"email"`
	// EmailDigest is a keyed digest (HMAC-SHA-256 under a key derived from
	// the master key) of the normalised address: lookups and uniqueness
	// without the address.
	EmailDigest string `json:"emailDigest"`
	// PasswordHash is a PHC string ("$argon2id$v=19$m=…").
	PasswordHash string `json:"passwordHash"`
	// Locale is the preferred language (BCP 47), optional.
	Locale string `json:"locale,omitempty"`
}

// ProfileUpdated replaces the profile fields it carries (nil: unchanged).
// The texts are sealed under the account's data key.
type ProfileUpdated struct {
	DisplayName *personal.Text `json:"displayName,omitempty"`
	Bio         *personal.Text `json:"bio,omitempty"`
	Locale      *string        `json:"locale,omitempty"`
}

// PasswordChanged replaces the password hash.
type PasswordChanged struct {
	PasswordHash string `json:"passwordHash"`
}

// RoleChanged sets a new role.
type RoleChanged struct {
	Role Role `json:"role"`
}

// Erased records that the account and its personal data were erased: the
// data key is destroyed, read models purge the person's rows and media,
// and the Person actor is deleted (federated Delete). The username stays
// reserved, as on Mastodon, so nobody can take over the handle.
type Erased struct {
	// Reason is "self" (the person deleted the account) or "admin".
	Reason string `json:"reason"`
}

// EmailReserved claims an e-mail digest for an account.
type EmailReserved struct {
	AccountID string `json:"accountId"`
}

// Register declares the account events in r.
func Register(r *events.Registry) {
	events.Register[Registered](r, TypeRegistered, 1, nil)
	events.Register[ProfileUpdated](r, TypeProfileUpdated, 1, nil)
	events.Register[PasswordChanged](r, TypePasswordChanged, 1, nil)
	events.Register[RoleChanged](r, TypeRoleChanged, 1, nil)
	events.Register[Erased](r, TypeErased, 1, nil)
	events.Register[EmailReserved](r, TypeEmailReserved, 1, nil)
}
