package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

func testContextCancellation(t *testing.T, e *env) {
	head0 := e.head()
	stream := e.stream("ctx")
	canceled, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err := e.s.Append(canceled, stream, events.NoStream, event("ctx.item", "x"))
	expectErr(t, "Append with a canceled context", err, context.Canceled)
	_, err = e.s.ReadStream(e.ctx, stream, events.ReadStreamOptions{})
	expectErr(t, "ReadStream after a canceled append", err, events.ErrStreamNotFound)
	if n := len(e.ownAfter(head0)); n != 0 {
		t.Fatalf("a canceled append wrote %d events", n)
	}

	e.append(stream, events.NoStream, event("ctx.item", "y"))
	_, err = e.s.ReadStream(canceled, stream, events.ReadStreamOptions{})
	expectErr(t, "ReadStream with a canceled context", err, context.Canceled)
	_, err = e.s.ReadAll(canceled, head0, 10)
	expectErr(t, "ReadAll with a canceled context", err, context.Canceled)
	expectErr(t, "DeleteStream with a canceled context", e.s.DeleteStream(canceled, stream, events.Any), context.Canceled)
	if got := e.readStream(stream, events.ReadStreamOptions{}); len(got) != 1 {
		t.Fatalf("stream has %d events after a canceled delete, want 1", len(got))
	}

	// A caught-up subscription's Next ends with its context.
	head := e.head()
	sub, err := e.s.SubscribeAll(e.ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	short, cancelShort := context.WithTimeout(e.ctx, 50*time.Millisecond)
	defer cancelShort()
	for {
		batch, err := sub.Next(short, 10)
		if err != nil {
			expectErr(t, "Next past its deadline", err, context.DeadlineExceeded)
			break
		}
		for _, ev := range batch {
			if e.own(ev) {
				t.Fatalf("unexpected own event %s", ev.ID)
			}
		}
	}
	// The subscription is still usable afterwards.
	ev := event("ctx.item", "z")
	e.append(stream, events.Any, ev)
	c := &consumer{t: t, e: e, sub: sub, last: head, seen: map[events.UUID]bool{}, maxBatch: 10}
	c.until(1)
	if c.own[0].ID != ev.ID {
		t.Fatalf("delivered %s, want %s", c.own[0].ID, ev.ID)
	}

	// Close while Next blocks.
	sub2, err := e.s.SubscribeAll(e.ctx, e.head())
	if err != nil {
		t.Fatal(err)
	}
	done := blockedNext(e.ctx, sub2)
	if err := sub2.Close(); err != nil {
		t.Fatalf("Subscription.Close: %v", err)
	}
	expectErr(t, "Next blocked during Close", waitErr(t, "Next after Close", done), events.ErrClosed)
	_, err = sub2.Next(e.ctx, 10)
	expectErr(t, "Next after Close", err, events.ErrClosed)
}

func testClosedStore(t *testing.T, e *env) {
	stream := e.stream("closed")
	e.append(stream, events.NoStream, event("closed.item", "x"))
	head := e.head()
	sub, err := e.s.SubscribeAll(e.ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	done := blockedNext(e.ctx, sub)
	if err := e.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	expectErr(t, "Next blocked while the store closed", waitErr(t, "Next after store Close", done), events.ErrClosed)
	_, err = e.s.Append(e.ctx, stream, events.Any, event("closed.item", "y"))
	expectErr(t, "Append after Close", err, events.ErrClosed)
	_, err = e.s.ReadStream(e.ctx, stream, events.ReadStreamOptions{})
	expectErr(t, "ReadStream after Close", err, events.ErrClosed)
	_, err = e.s.ReadAll(e.ctx, 0, 10)
	expectErr(t, "ReadAll after Close", err, events.ErrClosed)
	_, err = e.s.Head(e.ctx)
	expectErr(t, "Head after Close", err, events.ErrClosed)
	_, err = e.s.SubscribeAll(e.ctx, 0)
	expectErr(t, "SubscribeAll after Close", err, events.ErrClosed)
	expectErr(t, "DeleteStream after Close", e.s.DeleteStream(e.ctx, stream, events.Any), events.ErrClosed)
	if err := sub.Close(); err != nil {
		t.Fatalf("Subscription.Close after store Close: %v", err)
	}
}

func testReopenDurability(t *testing.T, e *env) {
	if e.h.Reopen == nil {
		t.Skip("this store cannot be reopened")
	}
	head0 := e.head()
	kept := e.stream("keep")
	soft := e.stream("keep", 1)
	tomb := e.stream("keep", 2)
	keptEvents := eventsN("keep.item", 5, "k")
	res := e.append(kept, events.NoStream, keptEvents...)
	e.append(soft, events.NoStream, event("keep.item", "s"))
	e.append(tomb, events.NoStream, event("keep.item", "t"))
	if err := e.s.DeleteStream(e.ctx, soft, events.Any); err != nil {
		t.Fatal(err)
	}
	if err := e.s.TombstoneStream(e.ctx, tomb, events.Any); err != nil {
		t.Fatal(err)
	}
	before := e.ownAfter(head0)
	headBefore := e.head()

	e.s = e.h.Reopen(t, e.s)
	if e.s == nil {
		t.Fatal("Reopen returned nil")
	}
	if h := e.head(); h < headBefore {
		t.Fatalf("Head after reopen %d, before %d", h, headBefore)
	}
	after := e.ownAfter(head0)
	if len(after) != len(before) {
		t.Fatalf("after reopen the log holds %d of this test's events, before %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Position != b.Position || a.Revision != b.Revision || a.StreamID != b.StreamID ||
			!a.RecordedAt.Equal(b.RecordedAt) || string(a.Data) != string(b.Data) {
			t.Fatalf("event %d changed across reopen: %+v, was %+v", i, a, b)
		}
	}
	got := e.readStream(kept, events.ReadStreamOptions{})
	for i, ev := range got {
		sameEvent(t, keptEvents[i], ev)
	}
	_, err := e.s.ReadStream(e.ctx, soft, events.ReadStreamOptions{})
	expectErr(t, "soft-deleted stream after reopen", err, events.ErrStreamNotFound)
	_, err = e.s.ReadStream(e.ctx, tomb, events.ReadStreamOptions{})
	expectErr(t, "tombstoned stream after reopen", err, events.ErrStreamDeleted)
	_, err = e.s.Append(e.ctx, tomb, events.Any, event("keep.item", "t2"))
	expectErr(t, "append to tombstoned stream after reopen", err, events.ErrStreamDeleted)
	if again := e.append(kept, events.NoStream, keptEvents...); again != res {
		t.Fatalf("idempotent retry after reopen returned %+v, want %+v", again, res)
	}
	next := e.append(kept, events.Exact(4), event("keep.item", "after"))
	if next.NextRevision != 5 || next.Position <= headBefore {
		t.Fatalf("append after reopen: %+v, head before reopen %d", next, headBefore)
	}
	if r := e.append(soft, events.NoStream, event("keep.item", "s2")); r.NextRevision != 1 {
		t.Fatalf("recreating the soft-deleted stream after reopen gave revision %d, want 1", r.NextRevision)
	}
	c := newConsumer(t, e, head0, 50)
	c.until(len(before) + 2)
}
