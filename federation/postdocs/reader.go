package postdocs

import (
	"context"
	"errors"
	"time"

	"github.com/hanse-network/hanse/internal/domain/post"
)

// Errors a Reader answers.
var (
	// ErrNotFound: no such post.
	ErrNotFound = errors.New("postdocs: post not found")
	// ErrBadCursor: a cursor the Reader did not issue.
	ErrBadCursor = errors.New("postdocs: invalid cursor")
)

// Post is a post as its documents need it. Texts are opened: a read model
// over the sealed post.Content gives them decrypted, and empty once the
// author was erased.
type Post struct {
	ID   string
	Kind post.Kind
	// AuthorID is a local author's account id (its Person actor's id);
	// AuthorIRI and ObjectIRI are set for received posts instead.
	AuthorID             string
	AuthorIRI, ObjectIRI string
	// CommunityID is the community the post is in ("" for none).
	CommunityID string
	// InReplyToIRI is the IRI of the post answered ("" for none).
	InReplyToIRI string
	Visibility   post.Visibility
	Languages    []string
	// Content holds the texts per language (plain text for local posts)
	// and, for received posts, the Create as received.
	Content     post.Content
	Hashtags    []string
	Mentions    []string
	Attachments []post.Attachment
	Sensitive   bool
	Published   time.Time
	Updated     time.Time
	// Gone is when the post was deleted or removed (zero while it lives).
	Gone time.Time
	// AnnouncedAt is when its community shared it (zero: not shared).
	AnnouncedAt time.Time
}

// Local reports whether a local person wrote the post.
func (p Post) Local() bool { return p.AuthorID != "" }

// Page is one page of posts, newest first.
type Page struct {
	Items []Post
	// Next is the cursor of the next page ("" on the last one).
	Next string
	// Total is the number of posts in the whole list.
	Total int
}

// Reader is the query interface the post documents read (a posts read
// model implements it, or an adapter over one). Every list takes a cursor
// ("" for the first page) and a limit (0 asks only for Total).
type Reader interface {
	// Post returns the post with that id, gone ones included; ErrNotFound
	// when there is none.
	Post(ctx context.Context, id string) (Post, error)
	// ByAuthor lists a local author's posts of the given visibilities that
	// are not gone, newest first.
	ByAuthor(ctx context.Context, authorID string, visibilities []post.Visibility, cursor string, limit int) (Page, error)
	// Announced lists the posts of the given visibilities a community
	// shared and that are not gone, the latest shared first.
	Announced(ctx context.Context, communityID string, visibilities []post.Visibility, cursor string, limit int) (Page, error)
	// Pinned lists a community's pinned posts that are not gone, in
	// pinning order (a short list: communities pin a handful).
	Pinned(ctx context.Context, communityID string) ([]Post, error)
}
