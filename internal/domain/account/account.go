package account

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/fold"
	"github.com/hanse-network/hanse/internal/domain/note"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

// Limits of the account's fields.
const (
	// MaxDisplayNameLen is the longest display name, in characters.
	MaxDisplayNameLen = actor.MaxNameLen
	// MaxBioLen is the longest bio, in characters.
	MaxBioLen = actor.MaxSummaryLen
	// MaxEmailBytes is the longest e-mail address (RFC 5321's path limit).
	MaxEmailBytes = 254
)

// The reasons of Erased.
const (
	// ReasonSelf: the person deleted their own account.
	ReasonSelf = "self"
	// ReasonAdmin: an administrator erased the account.
	ReasonAdmin = "admin"
)

// PasswordHashPrefix starts every accepted password hash (a PHC string
// of argon2id).
const PasswordHashPrefix = "$argon2id$"

// Errors of the decide functions.
var (
	// ErrInvalid matches every *FieldError.
	ErrInvalid = errors.New("account: invalid")
	// ErrAlreadyExists: Create on a stream that already holds an account.
	ErrAlreadyExists = errors.New("account: already exists")
	// ErrNotFound: a command on a stream without account.registered.
	ErrNotFound = errors.New("account: not found")
	// ErrErased: a command on an erased account, which accepts none.
	ErrErased = errors.New("account: erased")
	// ErrForbidden: the acting role may not do this.
	ErrForbidden = errors.New("account: not allowed for this role")
)

// FieldError reports one invalid command field; errors.Is(err, ErrInvalid)
// holds for it.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return fmt.Sprintf("account: %s: %s", e.Field, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidRole reports whether r is one of the four roles.
func ValidRole(r Role) bool { return r.Rank() > 0 }

// Rank orders the roles: learner 1, facilitator 2, institution_admin 3,
// instance_admin 4; 0 for anything else.
func (r Role) Rank() int {
	switch r {
	case Learner:
		return 1
	case Facilitator:
		return 2
	case InstitutionAdmin:
		return 3
	case InstanceAdmin:
		return 4
	}
	return 0
}

// AtLeast reports whether r is a valid role at least as privileged as min.
func (r Role) AtLeast(min Role) bool { return r.Rank() > 0 && r.Rank() >= min.Rank() }

// Admin reports whether r may moderate every community of the instance
// (institution or instance admin): app.Acting.Admin.
func (r Role) Admin() bool { return r.AtLeast(InstitutionAdmin) }

// NormalizeUsername case-folds a username as the Person actor stores it.
func NormalizeUsername(username string) string { return actor.NormalizeUsername(username) }

// CheckUsername checks a username with the rules of Person actors (1 to
// 30 of a-z, 0-9 and '_' after case folding, not reserved).
func CheckUsername(username string) error {
	if err := actor.ValidateUsername(actor.KindPerson, NormalizeUsername(username)); err != nil {
		var fe *actor.FieldError
		if errors.As(err, &fe) {
			return &FieldError{Field: "username", Reason: fe.Reason}
		}
		return invalid("username", "%v", err)
	}
	return nil
}

// NormalizeEmail checks the syntax of a bare e-mail address (RFC 5322
// addr-spec, as net/mail parses it, with a domain holding a dot; no
// display name, no angle brackets) and returns it trimmed and in lower
// case, the form whose digest is unique.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return "", invalid("email", "must not be empty")
	case len(email) > MaxEmailBytes:
		return "", invalid("email", "at most %d bytes", MaxEmailBytes)
	case !utf8.ValidString(email):
		return "", invalid("email", "must be valid UTF-8")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "", invalid("email", "must be an address such as name@example.org")
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if at <= 0 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.HasPrefix(domain, "[") {
		return "", invalid("email", "must be an address such as name@example.org")
	}
	return strings.ToLower(email), nil
}

// CheckLocale checks an optional preferred language: "" or a BCP 47 tag.
func CheckLocale(locale string) error {
	if locale != "" && !note.ValidLanguage(locale) {
		return invalid("locale", "must be a BCP 47 language tag such as \"de\" or \"pt-BR\"")
	}
	return nil
}

// CheckDisplayName checks a display name: at most MaxDisplayNameLen
// characters of valid UTF-8 without control characters.
func CheckDisplayName(name string) error {
	return checkText("display_name", name, MaxDisplayNameLen, false)
}

// CheckBio checks a bio: at most MaxBioLen characters of valid UTF-8
// without control characters other than line breaks and tabs.
func CheckBio(bio string) error { return checkText("bio", bio, MaxBioLen, true) }

func checkText(field, s string, max int, lineBreaks bool) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "%d characters, at most %d", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(lineBreaks && (r == '\n' || r == '\r' || r == '\t')) {
			if lineBreaks {
				return invalid(field, "must not contain control characters other than line breaks and tabs")
			}
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// CheckProfile checks the plain-text profile fields of an update (nil:
// unchanged) before they are sealed.
func CheckProfile(displayName, bio, locale *string) error {
	if displayName != nil {
		if err := CheckDisplayName(*displayName); err != nil {
			return err
		}
	}
	if bio != nil {
		if err := CheckBio(*bio); err != nil {
			return err
		}
	}
	if locale != nil {
		return CheckLocale(*locale)
	}
	return nil
}

// State is an account folded from its stream.
type State struct {
	Exists      bool
	ID          string
	Username    string
	Role        Role
	Email       personal.Text
	EmailDigest string
	// PasswordHash is the current PHC string.
	PasswordHash string
	Locale       string
	DisplayName  personal.Text
	Bio          personal.Text
	Erased       bool
	ErasedReason string
}

// Apply folds one event payload (value or pointer, as
// events.Registry.Decode returns them) into s.
func (s *State) Apply(payload any) error {
	switch e := payload.(type) {
	case *Registered:
		return s.Apply(*e)
	case *ProfileUpdated:
		return s.Apply(*e)
	case *PasswordChanged:
		return s.Apply(*e)
	case *RoleChanged:
		return s.Apply(*e)
	case *Erased:
		return s.Apply(*e)
	case Registered:
		if s.Exists {
			return fmt.Errorf("account: %s applied to existing account %s", TypeRegistered, s.ID)
		}
		*s = State{Exists: true, ID: e.AccountID, Username: e.Username, Role: e.Role, Email: e.Email,
			EmailDigest: e.EmailDigest, PasswordHash: e.PasswordHash, Locale: e.Locale}
	case ProfileUpdated:
		if !s.Exists {
			return fmt.Errorf("account: %s before %s", TypeProfileUpdated, TypeRegistered)
		}
		if e.DisplayName != nil {
			s.DisplayName = *e.DisplayName
		}
		if e.Bio != nil {
			s.Bio = *e.Bio
		}
		if e.Locale != nil {
			s.Locale = *e.Locale
		}
	case PasswordChanged:
		if !s.Exists {
			return fmt.Errorf("account: %s before %s", TypePasswordChanged, TypeRegistered)
		}
		s.PasswordHash = e.PasswordHash
	case RoleChanged:
		if !s.Exists {
			return fmt.Errorf("account: %s before %s", TypeRoleChanged, TypeRegistered)
		}
		s.Role = e.Role
	case Erased:
		if !s.Exists {
			return fmt.Errorf("account: %s before %s", TypeErased, TypeRegistered)
		}
		s.Erased, s.ErasedReason = true, e.Reason
		// What the event log still holds is unreadable once the key is
		// destroyed; the state forgets it at once.
		s.Email, s.DisplayName, s.Bio, s.Locale = personal.Text{}, personal.Text{}, personal.Text{}, ""
	default:
		return fmt.Errorf("account: cannot apply %T", payload)
	}
	return nil
}

// Fold applies payloads in order to a zero State.
func Fold(payloads ...any) (State, error) { return fold.Fold[State](payloads...) }

// Live returns ErrNotFound or ErrErased unless s is a live account.
func (s State) Live() error {
	switch {
	case !s.Exists:
		return ErrNotFound
	case s.Erased:
		return fmt.Errorf("%w: %s", ErrErased, s.ID)
	}
	return nil
}

// NewAccount is the input of Create. The application layer checks and
// seals the e-mail address (NormalizeEmail) and hashes the password
// before; ids come from it too.
type NewAccount struct {
	ID       string
	Username string
	Role     Role
	// Email is the sealed normalised address; EmailDigest its keyed digest.
	Email        personal.Text
	EmailDigest  string
	PasswordHash string
	Locale       string
}

// Create decides the registration of a new account on the stream folded
// into s (account.registered). The username is stored case-folded.
func Create(s State, in NewAccount) (Registered, error) {
	if s.Exists {
		return Registered{}, fmt.Errorf("%w: %s", ErrAlreadyExists, s.ID)
	}
	if in.ID == "" {
		return Registered{}, invalid("id", "must not be empty")
	}
	if err := CheckUsername(in.Username); err != nil {
		return Registered{}, err
	}
	if !ValidRole(in.Role) {
		return Registered{}, invalid("role", "must be learner, facilitator, institution_admin or instance_admin")
	}
	if in.Email.IsZero() {
		return Registered{}, invalid("email", "must not be empty")
	}
	if in.EmailDigest == "" {
		return Registered{}, invalid("email", "has no digest")
	}
	if !strings.HasPrefix(in.PasswordHash, PasswordHashPrefix) {
		return Registered{}, invalid("password", "must be stored as an argon2id hash")
	}
	if err := CheckLocale(in.Locale); err != nil {
		return Registered{}, err
	}
	return Registered{AccountID: in.ID, Username: NormalizeUsername(in.Username), Role: in.Role, Email: in.Email,
		EmailDigest: in.EmailDigest, PasswordHash: in.PasswordHash, Locale: in.Locale}, nil
}

// UpdateProfile decides a profile change (fields nil: unchanged; the
// plain texts were checked with CheckProfile before sealing). A locale
// equal to the current one is dropped; sealed texts cannot be compared
// and are always kept. changed is false when nothing is left.
func UpdateProfile(s State, p ProfileUpdated) (ev ProfileUpdated, changed bool, err error) {
	if err := s.Live(); err != nil {
		return ProfileUpdated{}, false, err
	}
	if p.Locale != nil {
		if err := CheckLocale(*p.Locale); err != nil {
			return ProfileUpdated{}, false, err
		}
		if *p.Locale == s.Locale {
			p.Locale = nil
		}
	}
	for _, t := range []*personal.Text{p.DisplayName, p.Bio} {
		if t != nil && !t.IsZero() && t.Subject != s.ID {
			return ProfileUpdated{}, false, invalid("profile", "texts must be sealed for the account itself")
		}
	}
	if p.DisplayName == nil && p.Bio == nil && p.Locale == nil {
		return ProfileUpdated{}, false, nil
	}
	return p, true, nil
}

// ChangePassword decides a new password hash (the application checked
// the current password).
func ChangePassword(s State, hash string) (PasswordChanged, error) {
	if err := s.Live(); err != nil {
		return PasswordChanged{}, err
	}
	if !strings.HasPrefix(hash, PasswordHashPrefix) {
		return PasswordChanged{}, invalid("password", "must be stored as an argon2id hash")
	}
	return PasswordChanged{PasswordHash: hash}, nil
}

// ChangeRole decides a new role, given by an account of role by. Only
// admins change roles, and only an instance admin grants or takes away
// the instance admin role. changed is false when the role is the same.
func ChangeRole(s State, role, by Role) (ev RoleChanged, changed bool, err error) {
	if err := s.Live(); err != nil {
		return RoleChanged{}, false, err
	}
	if !ValidRole(role) {
		return RoleChanged{}, false, invalid("role", "must be learner, facilitator, institution_admin or instance_admin")
	}
	if !by.Admin() {
		return RoleChanged{}, false, fmt.Errorf("%w: %q may not change roles", ErrForbidden, by)
	}
	if (role == InstanceAdmin || s.Role == InstanceAdmin) && by != InstanceAdmin {
		return RoleChanged{}, false, fmt.Errorf("%w: only an instance admin grants or revokes %s", ErrForbidden, InstanceAdmin)
	}
	if role == s.Role {
		return RoleChanged{}, false, nil
	}
	return RoleChanged{Role: role}, true, nil
}

// Erase decides the erasure of the account; ErrErased if it already is.
func Erase(s State, reason string) (Erased, error) {
	if err := s.Live(); err != nil {
		return Erased{}, err
	}
	if reason != ReasonSelf && reason != ReasonAdmin {
		return Erased{}, invalid("reason", "must be %q or %q", ReasonSelf, ReasonAdmin)
	}
	return Erased{Reason: reason}, nil
}

// EmailHolder is an e-mail reservation stream folded: the account that
// holds the address (the last reservation wins).
type EmailHolder struct {
	AccountID string
}

// Apply folds one account.email_reserved payload into h.
func (h *EmailHolder) Apply(payload any) error {
	switch e := payload.(type) {
	case *EmailReserved:
		return h.Apply(*e)
	case EmailReserved:
		if e.AccountID == "" {
			return fmt.Errorf("account: %s without account id", TypeEmailReserved)
		}
		h.AccountID = e.AccountID
	default:
		return fmt.Errorf("account: cannot apply %T to an e-mail reservation", payload)
	}
	return nil
}

// HoldsEmail reports whether the account folded into s owns the e-mail
// address with digest: a live account registered with that digest.
// Reservations of erased accounts, and of accounts that were never
// registered with the address, may be taken over.
func HoldsEmail(s State, digest string) bool {
	return s.Exists && !s.Erased && s.EmailDigest == digest
}
