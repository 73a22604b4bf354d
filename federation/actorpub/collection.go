package actorpub

import (
	"context"
	"errors"
	"net/url"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/projections/actors"
)

// ErrBadCursor is returned by a Page for a cursor it did not issue; the
// handler answers 400.
var ErrBadCursor = errors.New("actorpub: invalid collection cursor")

// Page lists one collection of owner: at most limit items starting at
// cursor ("" for the first page). limit 0 asks only for Total. Items are
// IRIs (as2.IRI), inline objects (as2.Embed) or verbatim JSON (Ref.Raw);
// Next and Prev are opaque cursors of the neighbouring pages ("" for
// none). A cursor the Page cannot read must give ErrBadCursor.
type Page func(ctx context.Context, owner actors.Actor, cursor string, limit int) (PageResult, error)

// PageResult is one page of a collection.
type PageResult struct {
	Items      as2.Refs
	Next, Prev string
	// Total is the number of items in the whole collection.
	Total int
}

// Empty is the Page of a collection with no items.
func Empty(context.Context, actors.Actor, string, int) (PageResult, error) {
	return PageResult{}, nil
}

// Limits of collection paging.
const (
	// DefaultPageSize is the number of items per page unless Options say
	// otherwise.
	DefaultPageSize = 20
	// MaxPageSize caps Options.PageSize.
	MaxPageSize = 100
	// MaxCursorBytes bounds the cursor a client may send.
	MaxCursorBytes = 512
)

// Query parameters of collection pages.
const (
	pageParam   = "page"
	cursorParam = "cursor"
)

// firstPage returns the IRI of the first page of collection id.
func firstPage(id string) string { return id + "?" + pageParam + "=true" }

// pageIRI returns the IRI of the page of collection id at cursor.
func pageIRI(id, cursor string) string {
	if cursor == "" {
		return firstPage(id)
	}
	return id + "?" + url.Values{pageParam: {"true"}, cursorParam: {cursor}}.Encode()
}

// collectionDocument is the OrderedCollection id with its total and first
// page.
func collectionDocument(id string, total int) *as2.Object {
	return as2.NewOrderedCollection(id, max(total, 0), firstPage(id))
}

// pageDocument is the OrderedCollectionPage of collection id at cursor.
func pageDocument(id, cursor string, res PageResult, limit int) *as2.Object {
	items := res.Items
	if len(items) > limit {
		items = items[:limit]
	}
	var next, prev string
	if res.Next != "" {
		next = pageIRI(id, res.Next)
	}
	if res.Prev != "" {
		prev = pageIRI(id, res.Prev)
	}
	o := as2.NewOrderedCollectionPage(pageIRI(id, cursor), id, items, next, prev)
	o.Collection.TotalItems = as2.Int(max(res.Total, 0))
	return o
}
