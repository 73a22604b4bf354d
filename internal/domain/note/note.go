package note

import "github.com/hanse-network/hanse/events"

// Event type names; never rename them.
const (
	TypePublished = "note.published"
	TypeDeleted   = "note.deleted"
)

// Visibility is who may see a note.
type Visibility string

// Visibilities, as Mastodon knows them.
const (
	Public    Visibility = "public"
	Unlisted  Visibility = "unlisted"
	Followers Visibility = "followers"
	Direct    Visibility = "direct"
)

// Stream is the note's stream.
func Stream(id string) string { return "note-" + id }

// Published records a new note.
type Published struct {
	NoteID     string     `json:"noteId"`
	AuthorID   string     `json:"authorId"`
	Content    string     `json:"content"`
	Language   string     `json:"language,omitempty"`
	Visibility Visibility `json:"visibility"`
	InReplyTo  string     `json:"inReplyTo,omitempty"`
}

// Deleted records the removal of a note (federated as Delete{Tombstone}).
type Deleted struct{}

// Register declares the note events in r.
func Register(r *events.Registry) {
	events.Register[Published](r, TypePublished, 1, nil)
	events.Register[Deleted](r, TypeDeleted, 1, nil)
}
