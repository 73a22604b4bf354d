package sqlite

import (
	"sync"

	"github.com/hanse-network/hanse/events"
)

// recentCache keeps the most recently committed events in memory, in
// position order, so that live subscribers and readers near the head are
// served without a database read. It holds at most maxEvents events and
// about maxBytes payload bytes.
type recentCache struct {
	mu        sync.RWMutex
	buf       []events.Envelope // buf[off:] are cached, contiguous positions
	off       int
	bytes     int
	maxEvents int
	maxBytes  int
}

func newRecentCache(maxEvents, maxBytes int) *recentCache {
	return &recentCache{maxEvents: maxEvents, maxBytes: maxBytes}
}

// add appends committed events; their positions follow the cached ones.
func (c *recentCache) add(evs []events.Envelope) {
	if c.maxEvents <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.buf) - c.off; n > 0 && c.buf[len(c.buf)-1].Position+1 != evs[0].Position {
		c.buf, c.off, c.bytes = c.buf[:0], 0, 0 // not contiguous: start over
	}
	for _, e := range evs {
		c.buf = append(c.buf, e)
		c.bytes += len(e.Data)
	}
	for len(c.buf)-c.off > c.maxEvents || (c.bytes > c.maxBytes && len(c.buf)-c.off > 1) {
		c.bytes -= len(c.buf[c.off].Data)
		c.buf[c.off] = events.Envelope{}
		c.off++
	}
	if c.off > len(c.buf)/2 && c.off > 1024 {
		c.buf = append(make([]events.Envelope, 0, 2*(len(c.buf)-c.off)), c.buf[c.off:]...)
		c.off = 0
	}
}

// read returns copies of up to max events after position after, when the
// cache holds the event right after it.
func (c *recentCache) read(after events.Position, max int) ([]events.Envelope, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.buf) == c.off {
		return nil, false
	}
	first := c.buf[c.off].Position
	last := c.buf[len(c.buf)-1].Position
	if after+1 < first || after >= last {
		return nil, false
	}
	i := c.off + int(after+1-first)
	n := min(max, len(c.buf)-i)
	out := make([]events.Envelope, n)
	for j := range out {
		e := c.buf[i+j]
		e.Data = append([]byte(nil), e.Data...) // callers may modify what they get
		if e.Data == nil {
			e.Data = []byte{}
		}
		out[j] = e
	}
	return out, true
}
