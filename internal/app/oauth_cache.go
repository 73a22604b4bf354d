package app

import (
	"container/list"
	"sync"
	"time"
)

// grantCache is a small LRU of verified tokens, keyed by token hash, whose
// entries expire after ttl.
type grantCache struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	ll  *list.List // front: most recently used
	m   map[string]*list.Element
}

type grantEntry struct {
	hash  string
	grant OAuthGrant
	until time.Time
}

func newGrantCache(max int, ttl time.Duration) *grantCache {
	return &grantCache{max: max, ttl: ttl, ll: list.New(), m: map[string]*list.Element{}}
}

func (c *grantCache) get(hash string, now time.Time) (OAuthGrant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[hash]
	if !ok {
		return OAuthGrant{}, false
	}
	e := el.Value.(*grantEntry)
	if !now.Before(e.until) {
		c.ll.Remove(el)
		delete(c.m, hash)
		return OAuthGrant{}, false
	}
	c.ll.MoveToFront(el)
	return e.grant, true
}

func (c *grantCache) put(hash string, g OAuthGrant, now time.Time) {
	if c.max <= 0 || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[hash]; ok {
		el.Value = &grantEntry{hash: hash, grant: g, until: now.Add(c.ttl)}
		c.ll.MoveToFront(el)
		return
	}
	c.m[hash] = c.ll.PushFront(&grantEntry{hash: hash, grant: g, until: now.Add(c.ttl)})
	for c.ll.Len() > c.max {
		oldest := c.ll.Back()
		c.ll.Remove(oldest)
		delete(c.m, oldest.Value.(*grantEntry).hash)
	}
}

func (c *grantCache) evict(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[hash]; ok {
		c.ll.Remove(el)
		delete(c.m, hash)
	}
}

func (c *grantCache) evictAccount(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*grantEntry); e.grant.AccountID == accountID {
			c.ll.Remove(el)
			delete(c.m, e.hash)
		}
		el = next
	}
}

func (c *grantCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
