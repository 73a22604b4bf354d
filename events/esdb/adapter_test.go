package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/esdb"
	"github.com/hanse-network/hanse/events/esdb/esdbtest"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var streamSeq atomic.Int64

func uniqueStream(kind string) string {
	return fmt.Sprintf("%s-%d_%d", kind, time.Now().UnixNano()%1e9, streamSeq.Add(1))
}

func newEvent(typ string, n int) events.EventData {
	return events.EventData{
		ID:       events.NewUUID(),
		Type:     typ,
		Data:     []byte(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata: events.Metadata{CorrelationID: "c", OccurredAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
}

func newEvents(typ string, n int) []events.EventData {
	out := make([]events.EventData, n)
	for i := range out {
		out[i] = newEvent(typ, i)
	}
	return out
}

func mustAppend(t testing.TB, s events.Store, stream string, exp events.ExpectedRevision, evs ...events.EventData) events.AppendResult {
	t.Helper()
	res, err := s.Append(testCtx(t), stream, exp, evs...)
	if err != nil {
		t.Fatalf("Append(%s, %s): %v", stream, exp, err)
	}
	return res
}

// drain reads n events from sub, failing on a duplicate, a position out of
// order or a system event.
func drain(t testing.TB, sub events.Subscription, after events.Position, n int) []events.Envelope {
	t.Helper()
	ctx := testCtx(t)
	var got []events.Envelope
	last := after
	for len(got) < n {
		batch, err := sub.Next(ctx, min(50, n-len(got)))
		if err != nil {
			t.Fatalf("Next after %d of %d events: %v", len(got), n, err)
		}
		for _, ev := range batch {
			if ev.Position <= last {
				t.Fatalf("position %d delivered after %d", ev.Position, last)
			}
			if strings.HasPrefix(ev.Type, "$") || strings.HasPrefix(ev.StreamID, "$") {
				t.Fatalf("system event %s in %s delivered", ev.Type, ev.StreamID)
			}
			last = ev.Position
			got = append(got, ev)
		}
	}
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
	return got
}

func sameIDs(t testing.TB, got []events.Envelope, want []events.EventData) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("event %d is %s, want %s", i, got[i].ID, want[i].ID)
		}
	}
}

// TestErrorMapping checks how EventStoreDB's answers become the contract's
// errors, including the cases where the server's answer differs from the
// contract (corrupted idempotency, StreamExists on a soft-deleted stream).
func TestErrorMapping(t *testing.T) {
	srv := startFake(t, esdbtest.Options{MaxAppendSize: 4096})
	s := openStore(t, srv.ConnectionString(), esdb.Options{})
	ctx := testCtx(t)

	// Fixtures: an existing stream with 2 events, a soft-deleted one (last
	// revision 1) and a tombstoned one.
	existing := uniqueStream("existing")
	first := newEvents("fixture.made", 2)
	mustAppend(t, s, existing, events.NoStream, first...)
	soft := uniqueStream("soft")
	mustAppend(t, s, soft, events.NoStream, newEvents("fixture.made", 2)...)
	if err := s.DeleteStream(ctx, soft, events.Any); err != nil {
		t.Fatal(err)
	}
	tomb := uniqueStream("tomb")
	mustAppend(t, s, tomb, events.NoStream, newEvent("fixture.made", 0))
	if err := s.TombstoneStream(ctx, tomb, events.Any); err != nil {
		t.Fatal(err)
	}
	absent := uniqueStream("absent")
	big := newEvent("fixture.made", 0)
	big.Data = []byte(`"` + strings.Repeat("x", 5000) + `"`)

	wrong := func(actual events.StreamState) error {
		return &events.WrongExpectedRevisionError{Actual: actual}
	}
	noStream := events.StreamState{}
	at := func(rev uint64) events.StreamState { return events.StreamState{Exists: true, Revision: rev} }

	cases := []struct {
		name string
		op   func() error
		want error // a *WrongExpectedRevisionError compares Actual only
	}{
		{"append exact too high", func() error {
			_, err := s.Append(ctx, existing, events.Exact(5), newEvent("x.y", 0))
			return err
		}, wrong(at(1))},
		{"append exact too low", func() error {
			_, err := s.Append(ctx, existing, events.Exact(0), newEvent("x.y", 0))
			return err
		}, wrong(at(1))},
		{"append no-stream to existing", func() error {
			_, err := s.Append(ctx, existing, events.NoStream, newEvent("x.y", 0))
			return err
		}, wrong(at(1))},
		{"append stream-exists to absent", func() error {
			_, err := s.Append(ctx, absent, events.StreamExists, newEvent("x.y", 0))
			return err
		}, wrong(noStream)},
		{"append exact to absent", func() error {
			_, err := s.Append(ctx, absent, events.Exact(0), newEvent("x.y", 0))
			return err
		}, wrong(noStream)},
		{"append stream-exists to soft-deleted (server says StreamDeleted)", func() error {
			_, err := s.Append(ctx, soft, events.StreamExists, newEvent("x.y", 0))
			return err
		}, wrong(noStream)},
		{"append any to tombstoned", func() error {
			_, err := s.Append(ctx, tomb, events.Any, newEvent("x.y", 0))
			return err
		}, events.ErrStreamDeleted},
		{"append stream-exists to tombstoned", func() error {
			_, err := s.Append(ctx, tomb, events.StreamExists, newEvent("x.y", 0))
			return err
		}, events.ErrStreamDeleted},
		{"append any repeating one id (server says wrong version)", func() error {
			_, err := s.Append(ctx, existing, events.Any, first[0], newEvent("x.y", 0))
			return err
		}, events.ErrIdempotencyConflict},
		{"append stream-exists repeating one id", func() error {
			_, err := s.Append(ctx, existing, events.StreamExists, first[0], newEvent("x.y", 0))
			return err
		}, events.ErrIdempotencyConflict},
		{"append exact repeating one id", func() error {
			_, err := s.Append(ctx, existing, events.Exact(0), first[1], newEvent("x.y", 0))
			return err
		}, events.ErrIdempotencyConflict},
		{"append over the server's MaxAppendSize", func() error {
			_, err := s.Append(ctx, existing, events.Any, big)
			return err
		}, events.ErrAppendTooLarge},
		{"delete exact stale", func() error { return s.DeleteStream(ctx, existing, events.Exact(0)) }, wrong(at(1))},
		{"delete no-stream on existing", func() error { return s.DeleteStream(ctx, existing, events.NoStream) }, wrong(at(1))},
		{"delete absent (server refuses)", func() error { return s.DeleteStream(ctx, absent, events.Any) }, wrong(noStream)},
		{"delete stream-exists on soft-deleted", func() error { return s.DeleteStream(ctx, soft, events.StreamExists) }, wrong(noStream)},
		{"delete tombstoned", func() error { return s.DeleteStream(ctx, tomb, events.Any) }, events.ErrStreamDeleted},
		{"tombstone exact stale", func() error { return s.TombstoneStream(ctx, existing, events.Exact(3)) }, wrong(at(1))},
		{"tombstone tombstoned", func() error { return s.TombstoneStream(ctx, tomb, events.Exact(0)) }, events.ErrStreamDeleted},
		{"read absent", func() error {
			_, err := s.ReadStream(ctx, absent, events.ReadStreamOptions{})
			return err
		}, events.ErrStreamNotFound},
		{"read soft-deleted", func() error {
			_, err := s.ReadStream(ctx, soft, events.ReadStreamOptions{Direction: events.Backwards, From: events.StreamEnd})
			return err
		}, events.ErrStreamNotFound},
		{"read tombstoned", func() error {
			_, err := s.ReadStream(ctx, tomb, events.ReadStreamOptions{})
			return err
		}, events.ErrStreamDeleted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			var want *events.WrongExpectedRevisionError
			if errors.As(tc.want, &want) {
				var got *events.WrongExpectedRevisionError
				if !errors.As(err, &got) {
					t.Fatalf("got %v, want a wrong-expected-revision error with actual %s", err, want.Actual)
				}
				if got.Actual != want.Actual {
					t.Fatalf("actual state %s, want %s (%v)", got.Actual, want.Actual, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Nothing refused was written.
	got, err := s.ReadStream(ctx, existing, events.ReadStreamOptions{})
	if err != nil || len(got) != 2 {
		t.Fatalf("existing stream after refused operations: %d events, %v", len(got), err)
	}
}

// TestUnavailable checks that an unreachable server is reported as
// ErrUnavailable, promptly, by Open and by operations.
func TestUnavailable(t *testing.T) {
	srv := startFake(t, esdbtest.Options{})
	url := srv.ConnectionString() + "&maxDiscoverAttempts=2&discoveryInterval=10"
	s := openStore(t, url, esdb.Options{})
	srv.Stop()
	ctx := testCtx(t)
	_, err := s.Append(ctx, uniqueStream("down"), events.Any, newEvent("x.y", 0))
	if !errors.Is(err, esdb.ErrUnavailable) {
		t.Fatalf("Append to a stopped server: %v, want ErrUnavailable", err)
	}
	_, err = s.Head(ctx)
	if !errors.Is(err, esdb.ErrUnavailable) {
		t.Fatalf("Head on a stopped server: %v, want ErrUnavailable", err)
	}
	start := time.Now()
	_, err = esdb.Open(ctx, url, esdb.Options{})
	if !errors.Is(err, esdb.ErrUnavailable) {
		t.Fatalf("Open of a stopped server: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open took %v to fail", d)
	}
	// The server comes back: the same Store works again.
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err = s.Append(ctx, uniqueStream("up"), events.Any, newEvent("x.y", 0))
		if err == nil {
			break
		}
		if !errors.Is(err, esdb.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Append after the server came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling a recovering connection
	}
}

// TestResubscribeAfterDrop drops the server side of a live subscription in
// the middle of a stream of appends: the subscription must resume after the
// last event it received, without gap or duplicate.
func TestResubscribeAfterDrop(t *testing.T) {
	srv := startFake(t, esdbtest.Options{})
	s := openStore(t, srv.ConnectionString(), esdb.Options{})
	ctx := testCtx(t)
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubscribeAll(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	stream := uniqueStream("drop")
	var want []events.EventData
	var got []events.Envelope
	last := head
	for round := range 5 {
		batch := newEvents("drop.round", 7)
		want = append(want, batch...)
		mustAppend(t, s, stream, events.Any, batch...)
		part := drain(t, sub, last, 3)
		got = append(got, part...)
		last = part[len(part)-1].Position
		if n := srv.DropSubscriptions(); n != 1 {
			t.Fatalf("round %d: dropped %d subscriptions, want 1", round, n)
		}
		part = drain(t, sub, last, 4)
		got = append(got, part...)
		last = part[len(part)-1].Position
	}
	// One more event proves the last drop was repaired too.
	tail := newEvent("drop.tail", 0)
	want = append(want, tail)
	mustAppend(t, s, stream, events.Any, tail)
	got = append(got, drain(t, sub, last, 1)...)
	sameIDs(t, got, want)
	st := srv.Stats()
	if st.Subscriptions < 6 {
		t.Fatalf("server saw %d subscriptions, want at least 6 (one per drop)", st.Subscriptions)
	}
}

// TestSubscriptionSurvivesRestart stops the server long enough for the
// client library to give up, then brings it back: the Store replaces the
// dead client and the subscription delivers everything exactly once.
func TestSubscriptionSurvivesRestart(t *testing.T) {
	srv := startFake(t, esdbtest.Options{})
	url := srv.ConnectionString() + "&maxDiscoverAttempts=2&discoveryInterval=10"
	s := openStore(t, url, esdb.Options{RetryDelay: 5 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond})
	ctx := testCtx(t)
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubscribeAll(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	stream := uniqueStream("restart")
	before := newEvents("restart.before", 10)
	mustAppend(t, s, stream, events.NoStream, before...)
	got := drain(t, sub, head, 10)

	srv.Stop()
	// Wait until the Store has replaced the client that gave up: the
	// subscription keeps retrying while the server is down.
	deadline := time.Now().Add(20 * time.Second)
	for esdb.ClientReplacements(s) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the Store never replaced the dead client")
		}
		time.Sleep(10 * time.Millisecond) // polling the adapter's retry loop
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	after := newEvents("restart.after", 10)
	for {
		_, err := s.Append(ctx, stream, events.Exact(9), after...)
		if err == nil {
			break
		}
		if !errors.Is(err, esdb.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Append after restart: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling a recovering connection
	}
	got = append(got, drain(t, sub, got[len(got)-1].Position, 10)...)
	sameIDs(t, got, append(before, after...))
}

// TestSlowConsumerServerDrops lets the server drop a subscriber that does
// not read (as EventStoreDB does when its live buffer overflows) and checks
// that a late consumer still gets every event once, in order, whether the
// adapter's buffer fills by count or by bytes.
func TestSlowConsumerServerDrops(t *testing.T) {
	cases := []struct {
		name string
		opts esdb.Options
		pad  int
	}{
		{"count cap", esdb.Options{SubscriptionBuffer: 8}, 0},
		{"byte cap", esdb.Options{SubscriptionBufferBytes: 10_000}, 3000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, esdbtest.Options{LiveBufferSize: 4})
			s := openStore(t, srv.ConnectionString(), tc.opts)
			ctx := testCtx(t)
			head, err := s.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := s.SubscribeAll(ctx, head)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			stream := uniqueStream("slow")
			var want []events.EventData
			for range 40 {
				batch := newEvents("slow.item", 25)
				for i := range batch {
					batch[i].Data = []byte(`{"pad":"` + strings.Repeat("p", tc.pad) + `"}`)
				}
				want = append(want, batch...)
				mustAppend(t, s, stream, events.Any, batch...)
			}
			got := drain(t, sub, head, len(want))
			sameIDs(t, got, want)
			if st := srv.Stats(); st.SlowConsumerDrops == 0 {
				t.Fatalf("the server never dropped the slow subscriber (stats %+v): the test did not exercise resubscription", st)
			}
		})
	}
}

// TestSystemEventsFiltered surrounds user events with system events: reads,
// Head and subscriptions must show only the user events.
func TestSystemEventsFiltered(t *testing.T) {
	srv := startFake(t, esdbtest.Options{})
	s := openStore(t, srv.ConnectionString(), esdb.Options{ReadBatch: 16})
	ctx := testCtx(t)

	// A fresh server's log starts with system events only.
	if h, err := s.Head(ctx); err != nil || h != events.Start {
		t.Fatalf("Head of a log with only system events = %d, %v; want Start", h, err)
	}
	if all, err := s.ReadAll(ctx, events.Start, 10); err != nil || len(all) != 0 {
		t.Fatalf("ReadAll of a log with only system events = %d events, %v", len(all), err)
	}
	sub, err := s.SubscribeAll(ctx, events.Start)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	a, b := uniqueStream("sys"), uniqueStream("sys")
	var want []events.EventData
	e1 := newEvent("sys.first", 1)
	want = append(want, e1)
	r1 := mustAppend(t, s, a, events.NoStream, e1)
	srv.EmitSystemEvents(300) // more than several pages
	if h, err := s.Head(ctx); err != nil || h != r1.Position {
		t.Fatalf("Head with 300 system events after the last user event = %d, %v; want %d", h, err, r1.Position)
	}
	e2 := newEvent("sys.second", 2)
	want = append(want, e2)
	mustAppend(t, s, b, events.NoStream, e2)
	if err := s.DeleteStream(ctx, b, events.Any); err != nil { // writes $metadata to $$b
		t.Fatal(err)
	}
	e3 := newEvent("sys.third", 3)
	want = append(want, e3)
	mustAppend(t, s, b, events.NoStream, e3)                      // recreation rewrites $$b
	if err := s.TombstoneStream(ctx, a, events.Any); err != nil { // $streamDeleted in a
		t.Fatal(err)
	}
	srv.EmitSystemEvents(50)
	e4 := newEvent("sys.fourth", 4)
	want = append(want, e4)
	r4 := mustAppend(t, s, uniqueStream("sys"), events.NoStream, e4)
	srv.EmitSystemEvents(5)

	// ReadAll one event at a time across runs of system events.
	var got []events.Envelope
	after := events.Start
	for {
		page, err := s.ReadAll(ctx, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[0].Position
	}
	sameIDs(t, got, want)
	if h, err := s.Head(ctx); err != nil || h != r4.Position {
		t.Fatalf("Head = %d, %v; want %d", h, err, r4.Position)
	}
	sameIDs(t, drain(t, sub, events.Start, len(want)), want)
}

// TestPositionsWithGaps checks that positions are commit positions with
// gaps and that positions between events (EventStoreDB refuses them as read
// or subscription starts) still mean "strictly after".
func TestPositionsWithGaps(t *testing.T) {
	srv := startFake(t, esdbtest.Options{})
	s := openStore(t, srv.ConnectionString(), esdb.Options{})
	ctx := testCtx(t)
	stream := uniqueStream("gaps")
	evs := newEvents("gap.item", 6)
	evs[3].Data = []byte(`{"n":3,"pad":"` + strings.Repeat("p", 300) + `"}`) // a wider gap
	exp := events.NoStream
	for i, e := range evs {
		mustAppend(t, s, stream, exp, e)
		exp = events.Exact(uint64(i))
	}
	recorded, err := s.ReadStream(ctx, stream, events.ReadStreamOptions{})
	if err != nil || len(recorded) != len(evs) {
		t.Fatalf("ReadStream: %d events, %v", len(recorded), err)
	}
	gaps := map[events.Position]bool{}
	for i := 1; i < len(recorded); i++ {
		gap := recorded[i].Position - recorded[i-1].Position
		if gap <= 1 {
			t.Fatalf("positions %d and %d are contiguous", recorded[i-1].Position, recorded[i].Position)
		}
		gaps[gap] = true
	}
	if len(gaps) < 2 {
		t.Fatalf("all gaps are equal (%v): the double should vary them", gaps)
	}
	cases := []struct {
		name  string
		after events.Position
		want  int // index of the first event expected
	}{
		{"exact event position", recorded[1].Position, 2},
		{"one before an event", recorded[3].Position - 1, 3},
		{"one after an event", recorded[3].Position + 1, 4},
		{"middle of a gap", (recorded[4].Position + recorded[5].Position) / 2, 5},
		{"before everything", 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ReadAll(ctx, tc.after, 2)
			if err != nil {
				t.Fatalf("ReadAll(%d): %v", tc.after, err)
			}
			if len(page) == 0 || page[0].ID != evs[tc.want].ID {
				t.Fatalf("ReadAll(%d) starts with %v, want event %d", tc.after, page, tc.want)
			}
			sub, err := s.SubscribeAll(ctx, tc.after)
			if err != nil {
				t.Fatalf("SubscribeAll(%d): %v", tc.after, err)
			}
			defer sub.Close()
			first := drain(t, sub, tc.after, 1)
			if first[0].ID != evs[tc.want].ID {
				t.Fatalf("SubscribeAll(%d) starts with %s, want event %d", tc.after, first[0].ID, tc.want)
			}
		})
	}
	// Past the end: nothing now, and nothing later either.
	beyond := recorded[len(recorded)-1].Position + 1_000_000
	if page, err := s.ReadAll(ctx, beyond, 5); err != nil || len(page) != 0 {
		t.Fatalf("ReadAll past the end = %d events, %v", len(page), err)
	}
}

// TestIdempotentRetryWithoutPosition makes the server answer duplicates
// without a position (as older servers did): the adapter must still report
// the original result.
func TestIdempotentRetryWithoutPosition(t *testing.T) {
	srv := startFake(t, esdbtest.Options{IdempotentNoPosition: true})
	s := openStore(t, srv.ConnectionString(), esdb.Options{})
	stream := uniqueStream("idem")
	evs := newEvents("idem.item", 3)
	first := mustAppend(t, s, stream, events.NoStream, evs...)
	mustAppend(t, s, stream, events.Exact(2), newEvent("idem.item", 9))
	for _, exp := range []events.ExpectedRevision{events.NoStream, events.Any, events.StreamExists} {
		if again := mustAppend(t, s, stream, exp, evs...); again != first {
			t.Fatalf("retry with %s = %+v, want %+v", exp, again, first)
		}
	}
}
