package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

// consumer reads a subscription and checks order, gaps and duplicates.
type consumer struct {
	t        *testing.T
	e        *env
	sub      events.Subscription
	last     events.Position
	seen     map[events.UUID]bool
	own      []events.Envelope
	maxBatch int
}

func newConsumer(t *testing.T, e *env, after events.Position, maxBatch int) *consumer {
	t.Helper()
	sub, err := e.s.SubscribeAll(e.ctx, after)
	if err != nil {
		t.Fatalf("SubscribeAll(%d): %v", after, err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return &consumer{t: t, e: e, sub: sub, last: after, seen: map[events.UUID]bool{}, maxBatch: maxBatch}
}

// next reads one batch and checks it.
func (c *consumer) next() {
	c.t.Helper()
	batch, err := c.sub.Next(c.e.ctx, c.maxBatch)
	if err != nil {
		c.t.Fatalf("Next: %v", err)
	}
	if len(batch) == 0 || len(batch) > c.maxBatch {
		c.t.Fatalf("Next(%d) returned %d events", c.maxBatch, len(batch))
	}
	for _, ev := range batch {
		if ev.Position <= c.last {
			c.t.Fatalf("subscription delivered position %d after %d: duplicate or out of order", ev.Position, c.last)
		}
		if c.e.h.ContiguousPositions && ev.Position != c.last+1 {
			c.t.Fatalf("subscription delivered position %d after %d: gap", ev.Position, c.last)
		}
		c.last = ev.Position
		if !c.e.own(ev) {
			continue
		}
		if c.seen[ev.ID] {
			c.t.Fatalf("subscription delivered event %s twice", ev.ID)
		}
		c.seen[ev.ID] = true
		c.own = append(c.own, ev)
	}
}

// until reads until n of the test's own events have arrived.
func (c *consumer) until(n int) {
	c.t.Helper()
	for len(c.own) < n {
		c.next()
	}
}

// checkMatchesLog compares what the subscription delivered with the log.
func (c *consumer) checkMatchesLog(after events.Position) {
	c.t.Helper()
	log := c.e.ownAfter(after)
	if len(log) != len(c.own) {
		c.t.Fatalf("subscription delivered %d of this test's events, the log holds %d", len(c.own), len(log))
	}
	for i := range log {
		if log[i].ID != c.own[i].ID || log[i].Position != c.own[i].Position {
			c.t.Fatalf("delivery %d is %s@%d, the log has %s@%d",
				i, c.own[i].ID, c.own[i].Position, log[i].ID, log[i].Position)
		}
	}
}

func testSubscriptionCatchUpToLive(t *testing.T, e *env) {
	const before, writers, perWriter = 40, 4, 60
	head0 := e.head()
	for i := range before / 4 {
		e.append(e.stream("sub", i%5), events.Any, eventsN("sub.before", 4, fmt.Sprint(i))...)
	}
	c := newConsumer(t, e, head0, 7)
	c.until(5) // part of the catch-up is consumed before the writers start

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; {
				n := 1 + (i+w)%3
				n = min(n, perWriter-i)
				if _, err := e.s.Append(e.ctx, e.stream("live", w), events.Any, eventsN("sub.live", n, fmt.Sprint(w, i))...); err != nil {
					errs <- err
					return
				}
				i += n
			}
		}()
	}
	c.until(before + writers*perWriter) // reads while the writers run
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c.checkMatchesLog(head0)

	// Live again: one more append is delivered to a caught-up subscriber.
	ev := event("sub.after", "last")
	e.append(e.stream("sub", 0), events.Any, ev)
	c.until(before + writers*perWriter + 1)
	if got := c.own[len(c.own)-1].ID; got != ev.ID {
		t.Fatalf("last delivery %s, want %s", got, ev.ID)
	}
}

func testSubscriptionFromMiddle(t *testing.T, e *env) {
	head0 := e.head()
	var results []events.AppendResult
	var ids []events.UUID
	for i := range 10 {
		ev := event("mid.item", fmt.Sprint(i))
		results = append(results, e.append(e.stream("mid"), events.Any, ev))
		ids = append(ids, ev.ID)
	}
	c := newConsumer(t, e, results[5].Position, 3)
	c.until(4)
	for i, ev := range c.own {
		if ev.ID != ids[6+i] {
			t.Fatalf("delivery %d is %s, want event %d %s", i, ev.ID, 6+i, ids[6+i])
		}
	}
	// From the start of the test, everything.
	all := newConsumer(t, e, head0, 100)
	all.until(10)
	all.checkMatchesLog(head0)
}

func testSlowConsumer(t *testing.T, e *env) {
	const writers, appends, perAppend = 3, 50, 10
	head0 := e.head()
	c := newConsumer(t, e, head0, 64)
	write := func(round int) {
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range appends {
					if _, err := e.s.Append(e.ctx, e.stream("slow", w), events.Any, eventsN("slow.item", perAppend, fmt.Sprint(round, w, i))...); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	perRound := writers * appends * perAppend
	write(0) // the consumer has read nothing yet: it is far behind
	c.until(perRound / 3)
	write(1) // it falls further behind while half-way through
	c.until(2 * perRound)
	c.checkMatchesLog(head0)
}

// blockedNext calls Next on a caught-up subscription until it fails (a
// shared store may deliver other tests' events first) and returns the error.
func blockedNext(ctx context.Context, sub events.Subscription) <-chan error {
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := sub.Next(ctx, 10); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

func waitErr(t *testing.T, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}
