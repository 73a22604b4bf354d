package esdbtest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hanse-network/hanse/events/esdb/esdbtest"
)

// These tests drive the double with the real client library and check the
// server behaviours it claims to imitate.

func setup(t *testing.T, opts esdbtest.Options) (*esdbtest.FakeServer, *esdb.Client, context.Context) {
	t.Helper()
	srv, err := esdbtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cfg, err := esdb.ParseConnectionString(srv.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return srv, c, ctx
}

func data(typ string) esdb.EventData {
	return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(`{"a":1}`)}
}

func readAll(t *testing.T, c *esdb.Client, ctx context.Context, opts esdb.ReadAllOptions, n uint64) ([]*esdb.RecordedEvent, error) {
	t.Helper()
	rs, err := c.ReadAll(ctx, opts, n)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev.OriginalEvent())
	}
}

func TestLogShape(t *testing.T) {
	_, c, ctx := setup(t, esdbtest.Options{})
	for i := range 3 {
		ev := data("thing.done")
		ev.Data = []byte(`{"pad":"` + strings.Repeat("x", i*40) + `"}`)
		if _, err := c.AppendToStream(ctx, "thing-1", esdb.AppendToStreamOptions{}, ev); err != nil {
			t.Fatal(err)
		}
	}
	all, err := readAll(t, c, ctx, esdb.ReadAllOptions{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 4 || !strings.HasPrefix(all[0].StreamID, "$") || !strings.HasPrefix(all[0].EventType, "$") {
		t.Fatalf("$all should start with system events, got %d events, first %v", len(all), all[0])
	}
	if all[0].Position.Commit == 0 {
		t.Fatal("the first event sits at position 0, where the epoch record belongs")
	}
	gaps := map[uint64]bool{}
	for i, ev := range all {
		if ev.Position.Commit != ev.Position.Prepare {
			t.Fatalf("commit %d != prepare %d", ev.Position.Commit, ev.Position.Prepare)
		}
		if i > 0 {
			gap := ev.Position.Commit - all[i-1].Position.Commit
			if gap <= 1 {
				t.Fatalf("contiguous positions %d, %d", all[i-1].Position.Commit, ev.Position.Commit)
			}
			gaps[gap] = true
		}
	}
	if len(gaps) < 3 {
		t.Fatalf("gaps do not vary: %v", gaps)
	}
	// Forwards from a position includes it, backwards excludes it.
	p := all[2].Position
	fwd, err := readAll(t, c, ctx, esdb.ReadAllOptions{From: p}, 1)
	if err != nil || len(fwd) != 1 || fwd[0].Position != p {
		t.Fatalf("forwards from %v: %v %v", p, fwd, err)
	}
	bwd, err := readAll(t, c, ctx, esdb.ReadAllOptions{From: p, Direction: esdb.Backwards}, 1)
	if err != nil || len(bwd) != 1 || bwd[0].Position != all[1].Position {
		t.Fatalf("backwards from %v: %v %v", p, bwd, err)
	}
	// A position inside a record is refused.
	_, err = readAll(t, c, ctx, esdb.ReadAllOptions{From: esdb.Position{Commit: p.Commit + 1, Prepare: p.Commit + 1}}, 1)
	if st, ok := status.FromError(errors.Unwrap(err)); !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("read from inside a record: %v, want InvalidArgument", err)
	}
	// A subscription from there is confirmed, then fails the same way.
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Position{Commit: p.Commit + 1, Prepare: p.Commit + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ev := sub.Recv()
	if ev.SubscriptionDropped == nil {
		t.Fatalf("subscription from inside a record delivered %+v", ev)
	}
	if st, ok := status.FromError(ev.SubscriptionDropped.Error); !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("subscription from inside a record: %v, want InvalidArgument", ev.SubscriptionDropped.Error)
	}
}

func TestSubscriptionStartIsExclusive(t *testing.T) {
	_, c, ctx := setup(t, esdbtest.Options{})
	all, err := readAll(t, c, ctx, esdb.ReadAllOptions{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		from esdb.AllPosition
		want uint64
	}{
		{"start", esdb.Start{}, all[0].Position.Commit},
		{"position 0 skips the first event", esdb.Position{}, all[1].Position.Commit},
		{"an event's position", all[0].Position, all[1].Position.Commit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: tc.from})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			for {
				ev := sub.Recv()
				if ev.SubscriptionDropped != nil {
					t.Fatal(ev.SubscriptionDropped.Error)
				}
				if ev.EventAppeared != nil {
					if got := ev.EventAppeared.OriginalEvent().Position.Commit; got != tc.want {
						t.Fatalf("first event at %d, want %d", got, tc.want)
					}
					return
				}
			}
		})
	}
}

func TestFilteredSubscriptionDropAndCaughtUp(t *testing.T) {
	srv, c, ctx := setup(t, esdbtest.Options{})
	if _, err := c.AppendToStream(ctx, "user-1", esdb.AppendToStreamOptions{}, data("user.joined")); err != nil {
		t.Fatal(err)
	}
	srv.EmitSystemEvents(100)
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{Filter: esdb.ExcludeSystemEventsFilter(), From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var seen, checkpoints int
	for caughtUp := false; !caughtUp; {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			t.Fatal(ev.SubscriptionDropped.Error)
		case ev.EventAppeared != nil:
			if typ := ev.EventAppeared.OriginalEvent().EventType; strings.HasPrefix(typ, "$") {
				t.Fatalf("filtered subscription delivered %s", typ)
			}
			seen++
		case ev.CheckPointReached != nil:
			checkpoints++
		case ev.CaughtUp != nil:
			caughtUp = true
		}
	}
	if seen != 1 || checkpoints == 0 {
		t.Fatalf("saw %d events and %d checkpoints, want 1 and some", seen, checkpoints)
	}
	if n := srv.DropSubscriptions(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	for {
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			if st, ok := status.FromError(ev.SubscriptionDropped.Error); !ok || st.Code() != codes.Unavailable {
				t.Fatalf("drop error %v, want Unavailable", ev.SubscriptionDropped.Error)
			}
			return
		}
	}
}

func TestDeletesAndIdempotency(t *testing.T) {
	_, c, ctx := setup(t, esdbtest.Options{})
	ev := data("order.placed")
	first, err := c.AppendToStream(ctx, "order-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.AppendToStream(ctx, "order-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev)
	if err != nil || *again != *first {
		t.Fatalf("idempotent append = %+v, %v; want %+v", again, err, first)
	}
	_, err = c.DeleteStream(ctx, "order-1", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(4)})
	if st, ok := status.FromError(errors.Unwrap(errors.Unwrap(err))); !ok || st.Code() != codes.FailedPrecondition ||
		st.Message() != "Delete failed due to WrongExpectedVersion. Stream: order-1, Expected version: 4, Actual version: 0" {
		t.Fatalf("stale delete: %v", err)
	}
	if _, err := c.DeleteStream(ctx, "order-1", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(0)}); err != nil {
		t.Fatal(err)
	}
	rs, err := c.ReadStream(ctx, "order-1", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.Recv()
	if e, ok := esdb.FromError(err); ok || e.Code() != esdb.ErrorCodeResourceNotFound {
		t.Fatalf("read of soft-deleted stream: %v", err)
	}
	meta, err := readAll(t, c, ctx, esdb.ReadAllOptions{From: esdb.End{}, Direction: esdb.Backwards}, 1)
	if err != nil || meta[0].StreamID != "$$order-1" || meta[0].EventType != "$metadata" {
		t.Fatalf("soft delete should end $all with a $metadata event in $$order-1, got %v %v", meta, err)
	}
	if _, err := c.TombstoneStream(ctx, "order-1", esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AppendToStream(ctx, "order-1", esdb.AppendToStreamOptions{}, data("order.placed"))
	if e, ok := esdb.FromError(err); ok || e.Code() != esdb.ErrorCodeStreamDeleted {
		t.Fatalf("append to tombstoned stream: %v", err)
	}
}

func TestStopResumeKeepsData(t *testing.T) {
	srv, c, ctx := setup(t, esdbtest.Options{})
	if _, err := c.AppendToStream(ctx, "kept-1", esdb.AppendToStreamOptions{}, data("kept.item")); err != nil {
		t.Fatal(err)
	}
	before := srv.LastPosition()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.LastPosition() != before {
		t.Fatal("restart lost data")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs, err := c.ReadStream(ctx, "kept-1", esdb.ReadStreamOptions{}, 10)
		if err == nil {
			ev, err := rs.Recv()
			rs.Close()
			if err == nil && ev.OriginalEvent().EventType == "kept.item" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream not readable after restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling the client's reconnection
	}
}
