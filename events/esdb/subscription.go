package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"

	"github.com/hanse-network/hanse/events"
)

// subscription is a catch-up subscription to $all that survives drops: a
// pump goroutine reads from an EventStoreDB subscription into a bounded
// buffer and, when the server subscription ends for any reason, subscribes
// again after the last position it received.
type subscription struct {
	s      *Store
	ctx    context.Context // lifetime of the pump
	cancel context.CancelFunc
	done   chan struct{} // closed when the pump has exited

	mu     sync.Mutex
	buf    []events.Envelope
	bytes  int              // payload and metadata bytes held in buf
	cursor events.Position  // events at or before it are not delivered
	from   esdb.AllPosition // where a resubscription starts (exclusive)
	err    error            // why the subscription ended; nil while running
	closed bool
	avail  chan struct{} // signalled when buf grows or err is set
	space  chan struct{} // signalled when Next takes events out of buf
}

var _ events.Subscription = (*subscription)(nil)

// SubscribeAll implements events.Store. The first server subscription is
// made before it returns, so an unreachable server is reported at once;
// later drops are repaired in the background. ctx bounds only this setup:
// the subscription lives until its Close or Store.Close, as in the
// embedded store.
func (s *Store) SubscribeAll(ctx context.Context, after events.Position) (events.Subscription, error) {
	from, err := s.startPosition(ctx, after)
	if err != nil {
		return nil, s.mapErr(ctx, "subscribe to $all", err)
	}
	subCtx, cancel := context.WithCancel(s.base)
	sub := &subscription{
		s: s, ctx: subCtx, cancel: cancel, done: make(chan struct{}),
		cursor: after,
		from:   from,
		avail:  make(chan struct{}, 1),
		space:  make(chan struct{}, 1),
	}
	es, err := sub.subscribe(ctx)
	if err != nil {
		cancel()
		return nil, s.mapErr(ctx, "subscribe to $all", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		_ = es.Close()
		return nil, events.ErrClosed
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	go sub.run(es)
	return sub, nil
}

// startPosition returns where a subscription after p starts. A server
// subscription from a position skips the first event at or after it, so p
// must be an event's position: it is checked with a one-event read and
// resolved (see Store.resolve) when it is not.
func (s *Store) startPosition(ctx context.Context, p events.Position) (esdb.AllPosition, error) {
	if p == events.Start {
		return esdb.Start{}, nil
	}
	at := esdb.Position{Commit: uint64(p), Prepare: uint64(p)}
	aligned := false
	err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: at}, 1)
		if err != nil {
			return err
		}
		defer rs.Close()
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		aligned = ev.OriginalEvent().Position.Commit == uint64(p)
		return nil
	})
	switch {
	case err != nil && !positionRefused(err):
		return nil, err
	case err == nil && aligned:
		return at, nil
	}
	return s.resolve(ctx, p)
}

// subscribe opens a server subscription after sub.from. setup bounds the
// call; the subscription itself lives as long as sub.ctx.
func (sub *subscription) subscribe(setup context.Context) (*esdb.Subscription, error) {
	sub.mu.Lock()
	from := sub.from
	sub.mu.Unlock()
	var es *esdb.Subscription
	err := sub.s.do(setup, func(_ context.Context, c *esdb.Client) error {
		var err error
		es, err = c.SubscribeToAll(sub.ctx, esdb.SubscribeToAllOptions{
			From:   from,
			Filter: esdb.ExcludeSystemEventsFilter(),
		})
		return err
	})
	if err != nil {
		return nil, err // es may still be written by an abandoned call
	}
	return es, nil
}

// run is the pump.
func (sub *subscription) run(es *esdb.Subscription) {
	defer close(sub.done)
	log := sub.s.log
	delay := sub.s.opts.RetryDelay
	for {
		progressed, dropErr := sub.consume(es)
		_ = es.Close()
		if sub.ctx.Err() != nil {
			sub.finish(nil)
			return
		}
		if progressed {
			delay = sub.s.opts.RetryDelay
		}
		sub.mu.Lock()
		cursor := sub.cursor
		sub.mu.Unlock()
		log.Info("EventStoreDB subscription dropped; resubscribing", "after", cursor, "err", dropErr)
		// After progress the first attempt is immediate (slow-consumer drops
		// are routine); otherwise back off.
		wait := !progressed
		for {
			if wait {
				if !sub.sleep(delay) {
					sub.finish(nil)
					return
				}
				delay = min(2*delay, sub.s.opts.MaxRetryDelay)
			}
			wait = true
			var err error
			if es, err = sub.subscribe(sub.ctx); err == nil {
				break
			}
			if sub.ctx.Err() != nil || errors.Is(err, events.ErrClosed) {
				sub.finish(nil)
				return
			}
			if permanent(err) {
				log.Error("EventStoreDB refused the subscription; giving up", "after", cursor, "err", err)
				sub.finish(sub.s.mapErr(sub.ctx, "resubscribe to $all", err))
				return
			}
			log.Warn("EventStoreDB resubscription failed; retrying", "after", cursor, "delay", delay, "err", err)
		}
	}
}

// consume moves events from one server subscription into the buffer until
// the subscription drops. It reports whether any event arrived.
func (sub *subscription) consume(es *esdb.Subscription) (bool, error) {
	progressed := false
	for {
		ev := es.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			return progressed, ev.SubscriptionDropped.Error
		case ev.EventAppeared != nil:
			rec := ev.EventAppeared.OriginalEvent()
			pos := events.Position(rec.Position.Commit)
			sub.mu.Lock()
			dup := pos <= sub.cursor
			if dup {
				// Delivered before a resubscription, or not after the
				// requested start: skip, but resume after it next time.
				sub.from = esdb.Position{Commit: uint64(pos), Prepare: uint64(pos)}
			}
			sub.mu.Unlock()
			if dup {
				continue
			}
			progressed = true
			if isSystem(rec) {
				sub.advance(pos, nil)
				continue
			}
			env := sub.s.envelope(rec)
			if !sub.waitForSpace() {
				return progressed, sub.ctx.Err()
			}
			sub.advance(pos, &env)
		}
		// CaughtUp, FellBehind and checkpoints need no action: the buffer
		// hands events over whatever the server's phase.
	}
}

// advance records that everything up to pos was received, buffering env.
func (sub *subscription) advance(pos events.Position, env *events.Envelope) {
	sub.mu.Lock()
	sub.cursor = pos
	sub.from = esdb.Position{Commit: uint64(pos), Prepare: uint64(pos)}
	if env != nil {
		sub.buf = append(sub.buf, *env)
		sub.bytes += envSize(env)
	}
	sub.mu.Unlock()
	if env != nil {
		signal(sub.avail)
	}
}

// waitForSpace blocks while the buffer is full. A stalled pump stops
// reading from the server; the server may then drop the subscription, which
// run repairs once the consumer catches up.
func (sub *subscription) waitForSpace() bool {
	for {
		sub.mu.Lock()
		full := len(sub.buf) >= sub.s.opts.SubscriptionBuffer ||
			(len(sub.buf) > 0 && sub.bytes >= sub.s.opts.SubscriptionBufferBytes)
		sub.mu.Unlock()
		if !full {
			return true
		}
		select {
		case <-sub.space:
		case <-sub.ctx.Done():
			return false
		}
	}
}

func (sub *subscription) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-sub.ctx.Done():
		return false
	}
}

// finish records why the pump stopped: Close or Store.Close (err nil), or
// a refusal that retrying cannot cure.
func (sub *subscription) finish(err error) {
	if err == nil {
		err = events.ErrClosed
	}
	sub.mu.Lock()
	if sub.err == nil {
		sub.err = err
	}
	sub.mu.Unlock()
	signal(sub.avail)
	sub.s.mu.Lock()
	delete(sub.s.subs, sub)
	sub.s.mu.Unlock()
}

// envSize approximates the memory an envelope holds.
func envSize(e *events.Envelope) int {
	m := e.Metadata
	return len(e.Data) + len(e.Type) + len(e.StreamID) +
		len(m.CorrelationID) + len(m.CausationID) + len(m.Actor) + len(m.Origin) + 128
}

// permanent reports refusals that resubscribing will not cure.
func permanent(err error) bool {
	if code, ok := esdbCode(err); ok && (code == esdb.ErrorCodeAccessDenied || code == esdb.ErrorCodeUnauthenticated) {
		return true
	}
	if st, ok := grpcStatus(err); ok {
		switch st.Code() {
		case codes.PermissionDenied, codes.Unauthenticated:
			return true
		}
	}
	return false
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Next implements events.Subscription: buffered events first, then the
// error that ended the subscription.
func (sub *subscription) Next(ctx context.Context, max int) ([]events.Envelope, error) {
	if max <= 0 {
		return nil, fmt.Errorf("esdb: Next: max must be positive, got %d", max)
	}
	for {
		sub.mu.Lock()
		if sub.closed {
			sub.mu.Unlock()
			return nil, events.ErrClosed
		}
		if n := min(max, len(sub.buf)); n > 0 {
			out := make([]events.Envelope, n)
			copy(out, sub.buf)
			for i := range out {
				sub.bytes -= envSize(&out[i])
			}
			rest := copy(sub.buf, sub.buf[n:])
			clear(sub.buf[rest:])
			sub.buf = sub.buf[:rest]
			sub.mu.Unlock()
			signal(sub.space)
			return out, nil
		}
		err := sub.err
		sub.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-sub.avail:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements events.Subscription.
func (sub *subscription) Close() error {
	sub.mu.Lock()
	if sub.closed {
		sub.mu.Unlock()
		return nil
	}
	sub.closed = true
	sub.buf, sub.bytes = nil, 0
	sub.mu.Unlock()
	sub.cancel()
	signal(sub.avail)
	<-sub.done
	return nil
}
