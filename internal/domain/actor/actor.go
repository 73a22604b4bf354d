package actor

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InstanceID is the fixed id of the instance's Application actor. Its stream
// is Stream(InstanceID); appending its actor.created with expected revision
// NoStream is what makes the instance actor unique.
const InstanceID = "instance"

// Limits of the actor's fields.
const (
	// MaxUsernameLen is the longest username of a Person, Group or
	// Organization, in characters.
	MaxUsernameLen = 30
	// MaxInstanceUsernameLen is the longest username of the Application
	// actor, which may be the instance's host name.
	MaxInstanceUsernameLen = 253
	// MaxNameLen is the longest display name, in characters.
	MaxNameLen = 100
	// MaxSummaryLen is the longest summary (bio), in characters.
	MaxSummaryLen = 2000
)

// ReservedUsernames may not be taken by a Person, Group or Organization:
// they collide with routes or would impersonate the instance. The
// Application actor is exempt (it is the instance).
var ReservedUsernames = map[string]bool{
	"actor": true, "admin": true, "administrator": true, "inbox": true, "outbox": true,
	"users": true, "communities": true, "organizations": true, "well-known": true,
	"nodeinfo": true, "api": true, "instance": true, "root": true, "system": true,
	"webfinger": true, "hostmeta": true, "followers": true, "following": true,
	"static": true, "assets": true, "metrics": true, "readyz": true, "healthz": true,
}

// Errors of the decide functions.
var (
	// ErrInvalid matches every *FieldError.
	ErrInvalid = errors.New("actor: invalid")
	// ErrAlreadyExists: Create on a stream that already holds an actor.
	ErrAlreadyExists = errors.New("actor: already exists")
	// ErrNotFound: a command on a stream without actor.created.
	ErrNotFound = errors.New("actor: not found")
	// ErrDeleted: a command on a deleted actor, which accepts none.
	ErrDeleted = errors.New("actor: deleted")
)

// FieldError reports one invalid command field; errors.Is(err, ErrInvalid)
// holds for it.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return fmt.Sprintf("actor: %s: %s", e.Field, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidKind reports whether k is one of the four local actor kinds.
func ValidKind(k Kind) bool {
	switch k {
	case KindPerson, KindGroup, KindOrganization, KindApplication:
		return true
	}
	return false
}

// NormalizeUsername case-folds a username: usernames are unique and looked
// up case-insensitively, and stored in lower case.
func NormalizeUsername(username string) string { return strings.ToLower(username) }

// ValidateUsername checks a (normalized) username of an actor of kind k:
// 1 to 30 of a-z, 0-9 and '_', starting with a letter or digit, not a
// reserved name. The Application actor may instead carry a host name
// (letters, digits, '.', '-'; up to 253 characters) and a reserved name.
func ValidateUsername(k Kind, username string) error {
	if username == "" {
		return invalid("username", "must not be empty")
	}
	if k == KindApplication {
		if len(username) > MaxInstanceUsernameLen {
			return invalid("username", "at most %d characters", MaxInstanceUsernameLen)
		}
		if !alnum(username[0]) || !alnum(username[len(username)-1]) {
			return invalid("username", "must start and end with a letter or digit")
		}
		for i := 0; i < len(username); i++ {
			if c := username[i]; !alnum(c) && c != '_' && c != '.' && c != '-' {
				return invalid("username", "may hold only a-z, 0-9, '_', '.' and '-'")
			}
		}
		return nil
	}
	if len(username) > MaxUsernameLen {
		return invalid("username", "at most %d characters", MaxUsernameLen)
	}
	if !alnum(username[0]) {
		return invalid("username", "must start with a letter or digit")
	}
	for i := 0; i < len(username); i++ {
		if c := username[i]; !alnum(c) && c != '_' {
			return invalid("username", "may hold only a-z, 0-9 and '_'")
		}
	}
	if ReservedUsernames[username] {
		return invalid("username", "%q is reserved", username)
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func validateName(name string) error {
	if !utf8.ValidString(name) {
		return invalid("name", "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLen {
		return invalid("name", "%d characters, at most %d", n, MaxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return invalid("name", "must not contain control characters")
		}
	}
	return nil
}

func validateSummary(summary string) error {
	if !utf8.ValidString(summary) {
		return invalid("summary", "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(summary); n > MaxSummaryLen {
		return invalid("summary", "%d characters, at most %d", n, MaxSummaryLen)
	}
	for _, r := range summary {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return invalid("summary", "must not contain control characters other than line breaks and tabs")
		}
	}
	return nil
}

func validateKey(publicKeyPEM string, sealed []byte) error {
	if !strings.HasPrefix(publicKeyPEM, "-----BEGIN PUBLIC KEY-----") {
		return invalid("publicKeyPem", "must be an SPKI PEM block")
	}
	if len(sealed) == 0 {
		return invalid("sealedPrivateKey", "must not be empty")
	}
	return nil
}
