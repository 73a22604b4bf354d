package sqlite

import (
	"context"
	"fmt"
	"sync"

	"github.com/hanse-network/hanse/events"
)

// subscriptionPage caps one catch-up read.
const subscriptionPage = 1024

// SubscribeAll implements events.Store. The subscription reads stored
// events page by page up to the committed head and then waits for the
// writer's commit notification; catch-up and live delivery are the same
// read, so the hand-over can have no gap or duplicate, and a slow consumer
// simply reads older events from the database.
func (s *Store) SubscribeAll(ctx context.Context, after events.Position) (events.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.isClosed() {
		return nil, events.ErrClosed
	}
	return &subscription{s: s, last: after, closed: make(chan struct{})}, nil
}

type subscription struct {
	s         *Store
	mu        sync.Mutex // serialises Next
	last      events.Position
	closed    chan struct{}
	closeOnce sync.Once
}

// Next implements events.Subscription.
func (sub *subscription) Next(ctx context.Context, max int) ([]events.Envelope, error) {
	if max <= 0 {
		return nil, fmt.Errorf("%w: Next max %d", ErrInvalidMax, max)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for {
		select {
		case <-sub.closed:
			return nil, events.ErrClosed
		case <-sub.s.closing:
			return nil, events.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		default:
		}
		wake := sub.s.waitChan() // before reading the head: no lost wake-up
		if events.Position(sub.s.head.Load()) > sub.last {
			evs, err := sub.s.readAll(ctx, sub.last, min(max, subscriptionPage))
			if err != nil {
				return nil, err
			}
			if len(evs) > 0 {
				sub.last = evs[len(evs)-1].Position
				return evs, nil
			}
		}
		select {
		case <-wake:
		case <-sub.closed:
			return nil, events.ErrClosed
		case <-sub.s.closing:
			return nil, events.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements events.Subscription; a blocked Next returns ErrClosed.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.closed) })
	return nil
}
