package postdocs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections/posts"
)

// NewPostsReader returns the Reader of the post documents over the posts
// read model r. Build that read model with posts.ActorIRIs and
// posts.PostIRIs (urls.Scheme.Actor and urls.PostIRI), so that replies to
// local posts carry inReplyTo. Errors of r other than not-found and bad
// cursors (projections.ErrNotLive among them) pass through.
func NewPostsReader(r posts.Reader) Reader { return postsReader{r: r} }

// postsReader adapts posts.Reader to Reader.
type postsReader struct {
	r posts.Reader
}

func (a postsReader) Post(ctx context.Context, id string) (Post, error) {
	p, err := a.r.Lookup(ctx, id)
	if errors.Is(err, posts.ErrNotFound) {
		return Post{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return Post{}, err
	}
	return fromPosts(p), nil
}

func (a postsReader) ByAuthor(ctx context.Context, authorID string, vs []post.Visibility, cursor string, limit int) (Page, error) {
	l, err := a.r.ByAuthor(ctx, authorID, vs, cursor, limit)
	return pageOfListing(l, err)
}

func (a postsReader) Announced(ctx context.Context, communityID string, vs []post.Visibility, cursor string, limit int) (Page, error) {
	l, err := a.r.Announced(ctx, communityID, vs, cursor, limit)
	return pageOfListing(l, err)
}

func (a postsReader) Pinned(ctx context.Context, communityID string) ([]Post, error) {
	ps, err := a.r.Pinned(ctx, communityID)
	if err != nil {
		return nil, err
	}
	out := make([]Post, 0, len(ps))
	for _, p := range ps {
		out = append(out, fromPosts(p))
	}
	return out, nil
}

func pageOfListing(l posts.Listing, err error) (Page, error) {
	if errors.Is(err, posts.ErrInvalidCursor) {
		return Page{}, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	if err != nil {
		return Page{}, err
	}
	pg := Page{Next: l.Next, Total: l.Total}
	for _, p := range l.Items {
		pg.Items = append(pg.Items, fromPosts(p))
	}
	return pg, nil
}

// fromPosts converts a post of the read model: its texts, alt texts and
// received Create go into Content; a local post's author is its AuthorID
// only.
func fromPosts(p posts.Post) Post {
	out := Post{ID: p.ID, Kind: p.Kind, AuthorID: p.AuthorID, CommunityID: p.CommunityID, InReplyToIRI: p.InReplyToIRI,
		Visibility: p.Visibility, Languages: p.Languages, Hashtags: p.Hashtags, Mentions: p.Mentions, Sensitive: p.Sensitive,
		Published: p.CreatedAt, Updated: p.EditedAt, Gone: p.GoneAt, AnnouncedAt: p.AnnouncedAt,
		Content: post.Content{ContentMap: p.ContentMap, NameMap: p.NameMap, SummaryMap: p.SummaryMap, Activity: p.Activity}}
	if !p.Local() {
		out.AuthorIRI, out.ObjectIRI = p.AuthorIRI, p.ObjectIRI
	}
	if out.Gone.IsZero() && (p.Deleted || p.Removed) {
		// Not expected (the read model records when); gone all the same.
		out.Gone = p.CreatedAt
		if !p.EditedAt.IsZero() {
			out.Gone = p.EditedAt
		}
	}
	described := false
	for _, at := range p.Attachments {
		out.Attachments = append(out.Attachments, post.Attachment{MediaID: at.MediaID, URL: at.URL, MediaType: at.MediaType})
		out.Content.Descriptions = append(out.Content.Descriptions, at.Description)
		described = described || at.Description != ""
	}
	if !described {
		out.Content.Descriptions = nil
	}
	return out
}
