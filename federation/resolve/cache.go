package resolve

import (
	"container/list"
	"sync"
	"time"

	"github.com/hanse-network/hanse/internal/domain/remote"
)

// entry is what the in-process cache knows about one actor IRI.
type entry struct {
	actor remote.ActorFetched // the last document; IRI empty if never seen
	gone  bool
	// at is when the document was fetched (the freshness clock).
	at time.Time
	// fetched is when this process last fetched it over HTTP (zero: never),
	// which paces refetches on bad signatures.
	fetched time.Time
}

// lru is a fixed-size least-recently-used cache of actors by IRI, plus a
// map from key ids that are separate documents to their owners.
type lru struct {
	mu     sync.Mutex
	max    int
	order  *list.List // of *lruItem, front = most recent
	items  map[string]*list.Element
	owners map[string]string // key id → owner IRI
}

type lruItem struct {
	iri string
	e   entry
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}, owners: map[string]string{}}
}

func (c *lru) get(iri string) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[iri]
	if !ok {
		return entry{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem).e, true
}

func (c *lru) put(iri string, e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[iri]; ok {
		it := el.Value.(*lruItem)
		if e.fetched.IsZero() {
			e.fetched = it.e.fetched
		}
		if e.actor.IRI == "" { // gone: keep the last document for its key
			e.actor = it.e.actor
		}
		it.e = e
		c.order.MoveToFront(el)
		return
	}
	c.items[iri] = c.order.PushFront(&lruItem{iri: iri, e: e})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruItem).iri)
	}
}

func (c *lru) owner(keyID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	iri, ok := c.owners[keyID]
	return iri, ok
}

func (c *lru) setOwner(keyID, iri string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.owners) >= c.max {
		clear(c.owners) // rare: separate key documents are few
	}
	c.owners[keyID] = iri
}

// flight runs at most one fetch per IRI at a time; callers that arrive
// while one runs share its result.
type flight struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done chan struct{}
	val  remote.ActorFetched
	err  error
}

func (f *flight) do(key string, fn func() (remote.ActorFetched, error)) (remote.ActorFetched, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*call{}
	}
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		<-c.done
		return c.val, c.err
	}
	c := &call{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn()
	return c.val, c.err
}
