package media

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/fold"
	"github.com/hanse-network/hanse/internal/domain/personal"
)

// Event type names; part of the stored log, never rename them.
const (
	TypeUploaded = "media.uploaded"
	TypeDeleted  = "media.deleted"
	// TypeOwnerIndexed is appended to OwnerStream on every upload.
	TypeOwnerIndexed = "media.owner_indexed"
)

// The allowed media types.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	GIF  = "image/gif"
	WebP = "image/webp"
	PDF  = "application/pdf"
	Text = "text/plain"
)

// AllowedTypes lists the media types Hanse accepts.
var AllowedTypes = []string{PNG, JPEG, GIF, WebP, PDF, Text}

// Allowed reports whether mediaType may be uploaded.
func Allowed(mediaType string) bool {
	for _, t := range AllowedTypes {
		if t == mediaType {
			return true
		}
	}
	return false
}

// IsImage reports whether mediaType is an image type.
func IsImage(mediaType string) bool { return strings.HasPrefix(mediaType, "image/") }

// MaxDescriptionChars is the longest alt text.
const MaxDescriptionChars = 1500

// Errors of the media decisions.
var (
	ErrNotFound      = errors.New("media: not found")
	ErrAlreadyExists = errors.New("media: already exists")
	ErrDeleted       = errors.New("media: deleted")
)

// FieldError reports an invalid input field.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return "media: " + e.Field + ": " + e.Reason }

// Stream is the file's stream: "media-<id>".
func Stream(id string) string { return "media-" + id }

// OwnerStream is the index of an account's uploads: "media_owner-<id>".
func OwnerStream(ownerID string) string { return "media_owner-" + ownerID }

// Uploaded records a stored file.
type Uploaded struct {
	MediaID   string `json:"mediaId"`
	OwnerID   string `json:"ownerId"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	// SHA256 is the hex digest of the bytes.
	SHA256 string `json:"sha256"`
	// Description (alt text) sealed under the owner's data key.
	Description personal.Text `json:"description"`
}

// Deleted records that the file was deleted (erasure of its owner, say).
type Deleted struct {
	Reason string `json:"reason,omitempty"`
}

// OwnerIndexed lists one upload in its owner's index stream. It is
// appended before the file's own Uploaded, so an erasure always finds
// the files of uploads that crashed halfway.
type OwnerIndexed struct {
	MediaID string `json:"mediaId"`
}

// Register declares the media events in r.
func Register(r *events.Registry) {
	events.Register[Uploaded](r, TypeUploaded, 1, nil)
	events.Register[Deleted](r, TypeDeleted, 1, nil)
	events.Register[OwnerIndexed](r, TypeOwnerIndexed, 1, nil)
}

// State is a file folded from its stream.
type State struct {
	Exists    bool
	ID        string
	OwnerID   string
	MediaType string
	Size      int64
	Deleted   bool
}

// Apply folds one event payload into s.
func (s *State) Apply(payload any) error {
	switch e := payload.(type) {
	case *Uploaded:
		return s.Apply(*e)
	case *Deleted:
		return s.Apply(*e)
	case Uploaded:
		if s.Exists {
			return fmt.Errorf("media: %s applied to existing file %s", TypeUploaded, s.ID)
		}
		*s = State{Exists: true, ID: e.MediaID, OwnerID: e.OwnerID, MediaType: e.MediaType, Size: e.Size}
	case Deleted:
		if !s.Exists {
			return fmt.Errorf("media: %s before %s", TypeDeleted, TypeUploaded)
		}
		s.Deleted = true
	default:
		return fmt.Errorf("media: cannot apply %T", payload)
	}
	return nil
}

// Fold applies payloads in order to a zero State.
func Fold(payloads ...any) (State, error) { return fold.Fold[State](payloads...) }

// Live returns nil for an uploaded file that was not deleted.
func (s State) Live() error {
	switch {
	case !s.Exists:
		return ErrNotFound
	case s.Deleted:
		return fmt.Errorf("%w: %s", ErrDeleted, s.ID)
	}
	return nil
}

// NewUpload is the input of Upload: what the store wrote.
type NewUpload struct {
	ID, OwnerID, MediaType string
	Size                   int64
	SHA256                 string
	Description            string
}

// Upload decides the record of a stored file, sealing its alt text under
// the owner's data key.
func Upload(s State, in NewUpload, sealer personal.Sealer) (Uploaded, error) {
	switch {
	case s.Exists:
		return Uploaded{}, fmt.Errorf("%w: %s", ErrAlreadyExists, s.ID)
	case in.ID == "":
		return Uploaded{}, &FieldError{Field: "id", Reason: "must not be empty"}
	case in.OwnerID == "":
		return Uploaded{}, &FieldError{Field: "owner", Reason: "must not be empty"}
	case !Allowed(in.MediaType):
		return Uploaded{}, &FieldError{Field: "file", Reason: "type " + in.MediaType + " is not allowed"}
	case in.Size <= 0:
		return Uploaded{}, &FieldError{Field: "file", Reason: "must not be empty"}
	case len(in.SHA256) != 64:
		return Uploaded{}, &FieldError{Field: "sha256", Reason: "must be a hex SHA-256 digest"}
	}
	desc := strings.TrimSpace(in.Description)
	if err := CheckDescription(desc); err != nil {
		return Uploaded{}, err
	}
	sealed, err := sealer.Seal(in.OwnerID, desc)
	if err != nil {
		return Uploaded{}, fmt.Errorf("media: seal description: %w", err)
	}
	return Uploaded{MediaID: in.ID, OwnerID: in.OwnerID, MediaType: in.MediaType, Size: in.Size, SHA256: in.SHA256,
		Description: sealed}, nil
}

// CheckDescription validates an alt text: valid UTF-8, at most
// MaxDescriptionChars characters, no control characters other than tab
// and line breaks.
func CheckDescription(desc string) error {
	if !utf8.ValidString(desc) {
		return &FieldError{Field: "description", Reason: "must be valid UTF-8"}
	}
	if n := utf8.RuneCountInString(desc); n > MaxDescriptionChars {
		return &FieldError{Field: "description", Reason: fmt.Sprintf("must be at most %d characters", MaxDescriptionChars)}
	}
	for _, r := range desc {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return &FieldError{Field: "description", Reason: fmt.Sprintf("must not contain control character %U", r)}
		}
	}
	return nil
}

// Delete decides the deletion of the file folded into s.
func Delete(s State, reason string) (Deleted, error) {
	if err := s.Live(); err != nil {
		return Deleted{}, err
	}
	return Deleted{Reason: reason}, nil
}
