package note

import (
	"errors"
	"fmt"
	"github.com/hanse-network/hanse/internal/domain/fold"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hanse-network/hanse/internal/domain/actor"
)

// Limits of a note's text.
const (
	// MaxContentChars is the longest content, in characters (code points).
	MaxContentChars = 5000
	// MaxLanguageBytes bounds a language tag.
	MaxLanguageBytes = 35
)

// Errors of the note decisions.
var (
	// ErrNotFound: the note does not exist.
	ErrNotFound = errors.New("note: not found")
	// ErrDeleted: the note was deleted.
	ErrDeleted = errors.New("note: deleted")
	// ErrAlreadyExists: the note stream already holds a note.
	ErrAlreadyExists = errors.New("note: already exists")
	// ErrNotAuthor: only the author may delete a note.
	ErrNotAuthor = errors.New("note: only the author may do this")
	// ErrAuthorNotLive: the author is not a live local actor.
	ErrAuthorNotLive = errors.New("note: the author is not a live local actor")
)

// FieldError reports an invalid input field.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return "note: " + e.Field + ": " + e.Reason }

// State is a note folded from its stream.
type State struct {
	Exists     bool
	ID         string
	AuthorID   string
	Visibility Visibility
	Deleted    bool
}

// Apply folds one event payload (value or pointer, as
// events.Registry.Decode returns them) into s.
func (s *State) Apply(payload any) error {
	switch e := payload.(type) {
	case *Published:
		return s.Apply(*e)
	case *Deleted:
		return s.Apply(*e)
	case Published:
		if s.Exists {
			return fmt.Errorf("note: %s applied to existing note %s", TypePublished, s.ID)
		}
		*s = State{Exists: true, ID: e.NoteID, AuthorID: e.AuthorID, Visibility: e.Visibility}
	case Deleted:
		if !s.Exists {
			return fmt.Errorf("note: %s before %s", TypeDeleted, TypePublished)
		}
		s.Deleted = true
	default:
		return fmt.Errorf("note: cannot apply %T", payload)
	}
	return nil
}

// Fold applies payloads in order to a zero State.
func Fold(payloads ...any) (State, error) { return fold.Fold[State](payloads...) }

// NewNote is the input of Publish; the id comes from the application layer.
type NewNote struct {
	ID         string
	Content    string
	Language   string
	Visibility Visibility
}

// ValidVisibility reports whether v is one of the four visibilities.
func ValidVisibility(v Visibility) bool {
	switch v {
	case Public, Unlisted, Followers, Direct:
		return true
	}
	return false
}

// languagePattern is the syntax of a BCP 47 tag (RFC 5646 §2.1, without
// checking the registry): a 2-3 letter (or 4-8 letter) primary subtag and
// subtags of 1-8 letters and digits.
var languagePattern = regexp.MustCompile(`^(?:[A-Za-z]{2,3}|[A-Za-z]{4,8}|[xX]|[iI])(?:-[A-Za-z0-9]{1,8})*$`)

// ValidLanguage reports whether tag has the syntax of a BCP 47 language tag.
func ValidLanguage(tag string) bool {
	return len(tag) <= MaxLanguageBytes && languagePattern.MatchString(tag)
}

// CheckContent validates a note's plain-text content: 1 to MaxContentChars
// characters of valid UTF-8, not only white space, without control
// characters other than tab and line breaks.
func CheckContent(content string) error {
	switch {
	case !utf8.ValidString(content):
		return &FieldError{Field: "content", Reason: "must be valid UTF-8"}
	case strings.TrimSpace(content) == "":
		return &FieldError{Field: "content", Reason: "must not be empty"}
	case utf8.RuneCountInString(content) > MaxContentChars:
		return &FieldError{Field: "content", Reason: fmt.Sprintf("must be at most %d characters", MaxContentChars)}
	}
	for _, r := range content {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return &FieldError{Field: "content", Reason: fmt.Sprintf("must not contain control character %U", r)}
		}
	}
	return nil
}

// Publish decides the publication of a note on the stream folded into s,
// written by the local actor folded into author.
func Publish(s State, in NewNote, author actor.State) (Published, error) {
	if s.Exists {
		return Published{}, fmt.Errorf("%w: %s", ErrAlreadyExists, s.ID)
	}
	if in.ID == "" {
		return Published{}, &FieldError{Field: "id", Reason: "must not be empty"}
	}
	if err := author.Live(); err != nil {
		return Published{}, fmt.Errorf("%w: %w", ErrAuthorNotLive, err)
	}
	if err := CheckContent(in.Content); err != nil {
		return Published{}, err
	}
	if in.Language != "" && !ValidLanguage(in.Language) {
		return Published{}, &FieldError{Field: "language", Reason: "must be a BCP 47 language tag such as \"de\" or \"pt-BR\""}
	}
	if !ValidVisibility(in.Visibility) {
		return Published{}, &FieldError{Field: "visibility", Reason: "must be public, unlisted, followers or direct"}
	}
	return Published{NoteID: in.ID, AuthorID: author.ID, Content: in.Content, Language: in.Language,
		Visibility: in.Visibility}, nil
}

// Delete decides the deletion of the note folded into s by actorID, which
// must be its author.
func Delete(s State, actorID string) (Deleted, error) {
	switch {
	case !s.Exists:
		return Deleted{}, ErrNotFound
	case s.Deleted:
		return Deleted{}, fmt.Errorf("%w: %s", ErrDeleted, s.ID)
	case actorID != s.AuthorID:
		return Deleted{}, fmt.Errorf("%w: %s", ErrNotAuthor, s.ID)
	}
	return Deleted{}, nil
}
