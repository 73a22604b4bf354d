package outbound

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"strings"
	"time"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/note"
)

// NoteData is what a Note document is rendered from.
type NoteData struct {
	ID         string
	AuthorIRI  string
	Content    string // plain text
	Language   string
	Visibility note.Visibility
	Published  time.Time
}

// NoteIRI returns the IRI of note id by the actor authorIRI:
// "{actor IRI}/notes/{id}".
func NoteIRI(authorIRI, id string) string { return authorIRI + "/notes/" + id }

// ContentHTML renders plain text as escaped HTML: paragraphs at blank
// lines, <br> at single line breaks.
func ContentHTML(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Trim(para, "\n")
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// Addressing returns to and cc of a note by visibility: public → to
// Public, cc followers; unlisted → to followers, cc Public; followers → to
// followers. Direct notes get none (they are not rendered here).
func Addressing(v note.Visibility, followersIRI string) (to, cc []string) {
	switch v {
	case note.Public:
		return []string{as2.Public}, []string{followersIRI}
	case note.Unlisted:
		return []string{followersIRI}, []string{as2.Public}
	case note.Followers:
		return []string{followersIRI}, nil
	}
	return nil, nil
}

// NoteObject renders a note as an AS2 Note.
func NoteObject(n NoteData) *as2.Object {
	iri := NoteIRI(n.AuthorIRI, n.ID)
	to, cc := Addressing(n.Visibility, n.AuthorIRI+"/"+string(urls.Followers))
	o := &as2.Object{ID: iri, Type: as2.TypeNote, Kind: as2.KindObject, AttributedTo: as2.Refs{as2.IRI(n.AuthorIRI)},
		Content: ContentHTML(n.Content), MediaType: "", URL: []as2.Link{{Href: iri}}, To: to, CC: cc,
		Published: n.Published.UTC()}
	if n.Language != "" {
		o.ContentMap = as2.Map{n.Language: o.Content}
	}
	return o
}

// CreateNote renders Create{Note}; its id is "{note IRI}/activity".
func CreateNote(n NoteData) *as2.Object {
	obj := NoteObject(n)
	a := as2.NewActivity(as2.TypeCreate, obj.ID+"/activity", n.AuthorIRI, as2.Embed(obj))
	a.To, a.CC, a.Published = obj.To, obj.CC, obj.Published
	return a
}

// DeleteNote renders Delete{Tombstone}; its id is "{note IRI}#delete".
func DeleteNote(n NoteData, deleted time.Time) *as2.Object {
	iri := NoteIRI(n.AuthorIRI, n.ID)
	to, cc := Addressing(n.Visibility, n.AuthorIRI+"/"+string(urls.Followers))
	tomb := &as2.Object{ID: iri, Type: as2.TypeTombstone, Deleted: deleted.UTC()}
	a := as2.NewActivity(as2.TypeDelete, iri+"#delete", n.AuthorIRI, as2.Embed(tomb))
	a.To, a.CC = to, cc
	return a
}

// hash16 is a short stable digest for derived activity ids.
func hash16(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(h[:16])
}

// followObject is the Follow embedded by id, actor and object.
func followObject(id, follower, followee string) *as2.Object {
	return as2.NewActivity(as2.TypeFollow, id, follower, as2.IRI(followee))
}

// FollowID returns the Follow activity id a local actor uses when the
// event carries none: "{actor IRI}#follows/{hash}".
func FollowID(followerIRI, followeeIRI string) string {
	return followerIRI + "#follows/" + hash16(followerIRI, followeeIRI)
}
