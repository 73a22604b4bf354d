package as2

// NewActivity returns an activity of type typ with the given id, by actor,
// about object (use IRI or Embed). Addressing is left to the caller.
func NewActivity(typ, id, actor string, object Ref) *Object {
	a := &Object{ID: id, Type: typ, Kind: KindActivity, Actor: Refs{IRI(actor)}}
	if object.ID != "" || object.Object != nil || len(object.Raw) > 0 {
		a.Object = Refs{object}
	}
	return a
}

// NewOrderedCollection returns an OrderedCollection with its total and the
// IRI of its first page (Mastodon's shape for outbox, followers, featured).
func NewOrderedCollection(id string, totalItems int, first string) *Object {
	c := &Object{ID: id, Type: TypeOrderedCollection, Kind: KindCollection,
		Collection: &Collection{TotalItems: Int(totalItems)}}
	if first != "" {
		c.Collection.First = Refs{IRI(first)}
	}
	return c
}

// NewOrderedCollectionPage returns one page of an OrderedCollection: its
// items and the IRIs of the collection and of the next and previous pages
// ("" for none).
func NewOrderedCollectionPage(id, partOf string, items Refs, next, prev string) *Object {
	c := &Collection{PartOf: Refs{IRI(partOf)}, Items: items}
	if next != "" {
		c.Next = Refs{IRI(next)}
	}
	if prev != "" {
		c.Prev = Refs{IRI(prev)}
	}
	return &Object{ID: id, Type: TypeOrderedCollectionPage, Kind: KindCollection, Collection: c}
}

// Int returns a pointer to n, for the optional counts.
func Int(n int) *int { return &n }
