package storetest

import (
	"errors"
	"testing"

	"github.com/hanse-network/hanse/events"
)

func testSoftDelete(t *testing.T, e *env) {
	head0 := e.head()
	stream := e.stream("soft")
	old := eventsN("soft.item", 3, "old")
	e.append(stream, events.NoStream, old...)

	err := e.s.DeleteStream(e.ctx, stream, events.Exact(1))
	var wrong *events.WrongExpectedRevisionError
	if !errors.As(err, &wrong) || wrong.Actual != (events.StreamState{Exists: true, Revision: 2}) {
		t.Fatalf("DeleteStream with a stale revision: %v, want a wrong-expected-revision error with actual 2", err)
	}
	if got := e.readStream(stream, events.ReadStreamOptions{}); len(got) != 3 {
		t.Fatalf("refused delete changed the stream: %d events", len(got))
	}
	if err := e.s.DeleteStream(e.ctx, stream, events.Exact(2)); err != nil {
		t.Fatalf("DeleteStream: %v", err)
	}
	for _, dir := range []events.Direction{events.Forwards, events.Backwards} {
		_, err = e.s.ReadStream(e.ctx, stream, events.ReadStreamOptions{Direction: dir, From: events.StreamEnd})
		expectErr(t, "ReadStream of a soft-deleted stream", err, events.ErrStreamNotFound)
	}
	_, err = e.s.Append(e.ctx, stream, events.StreamExists, event("soft.item", "x"))
	expectErr(t, "append with StreamExists to a soft-deleted stream", err, events.ErrWrongExpectedRevision)
	logged := e.ownAfter(head0)
	if len(logged) != 3 {
		t.Fatalf("log holds %d of the deleted stream's events, want 3 (events stay in the log)", len(logged))
	}

	// Recreate: revisions continue after the deleted ones.
	fresh := event("soft.item", "new")
	res := e.append(stream, events.NoStream, fresh)
	if res.NextRevision != 3 {
		t.Fatalf("recreated stream's NextRevision = %d, want 3", res.NextRevision)
	}
	got := e.readStream(stream, events.ReadStreamOptions{})
	if len(got) != 1 || got[0].ID != fresh.ID || got[0].Revision != 3 {
		t.Fatalf("recreated stream reads %v, want only the new event at revision 3", got)
	}
	got = e.readStream(stream, events.ReadStreamOptions{Direction: events.Backwards, From: events.StreamEnd})
	if len(got) != 1 || got[0].ID != fresh.ID {
		t.Fatalf("recreated stream reads backwards %v, want only the new event", got)
	}
	e.append(stream, events.Exact(3), event("soft.item", "newer"))
	if n := len(e.ownAfter(head0)); n != 5 {
		t.Fatalf("log holds %d of this test's events, want 5", n)
	}
}

func testTombstone(t *testing.T, e *env) {
	head0 := e.head()
	stream := e.stream("tomb")
	e.append(stream, events.NoStream, eventsN("tomb.item", 2, "t")...)

	err := e.s.TombstoneStream(e.ctx, stream, events.Exact(0))
	expectErr(t, "TombstoneStream with a stale revision", err, events.ErrWrongExpectedRevision)
	if got := e.readStream(stream, events.ReadStreamOptions{}); len(got) != 2 {
		t.Fatalf("refused tombstone changed the stream: %d events", len(got))
	}
	if err := e.s.TombstoneStream(e.ctx, stream, events.Exact(1)); err != nil {
		t.Fatalf("TombstoneStream: %v", err)
	}
	_, err = e.s.ReadStream(e.ctx, stream, events.ReadStreamOptions{})
	expectErr(t, "ReadStream of a tombstoned stream", err, events.ErrStreamDeleted)
	for _, exp := range []events.ExpectedRevision{events.Any, events.NoStream, events.StreamExists, events.Exact(1)} {
		_, err = e.s.Append(e.ctx, stream, exp, event("tomb.item", "again"))
		expectErr(t, "Append("+exp.String()+") to a tombstoned stream", err, events.ErrStreamDeleted)
	}
	expectErr(t, "DeleteStream of a tombstoned stream", e.s.DeleteStream(e.ctx, stream, events.Any), events.ErrStreamDeleted)
	expectErr(t, "TombstoneStream twice", e.s.TombstoneStream(e.ctx, stream, events.Any), events.ErrStreamDeleted)
	if n := len(e.ownAfter(head0)); n != 2 {
		t.Fatalf("log holds %d of the tombstoned stream's events, want 2", n)
	}

	// A soft-deleted stream can still be tombstoned.
	soft := e.stream("tomb", 2)
	e.append(soft, events.NoStream, event("tomb.item", "s"))
	if err := e.s.DeleteStream(e.ctx, soft, events.Any); err != nil {
		t.Fatal(err)
	}
	if err := e.s.TombstoneStream(e.ctx, soft, events.Any); err != nil {
		t.Fatalf("TombstoneStream of a soft-deleted stream: %v", err)
	}
	_, err = e.s.ReadStream(e.ctx, soft, events.ReadStreamOptions{})
	expectErr(t, "ReadStream of a tombstoned stream", err, events.ErrStreamDeleted)
}

// testDeleteNeverWritten pins what EventStoreDB does with a stream that
// never had an event: a soft delete is refused with the actual state
// "no stream" whatever the expected revision, while a tombstone succeeds
// and reserves the name for ever.
func testDeleteNeverWritten(t *testing.T, e *env) {
	head0 := e.head()
	for i, exp := range []events.ExpectedRevision{events.Any, events.NoStream, events.StreamExists, events.Exact(0)} {
		stream := e.stream("never", i)
		err := e.s.DeleteStream(e.ctx, stream, exp)
		var wrong *events.WrongExpectedRevisionError
		if !errors.As(err, &wrong) || wrong.Actual.Exists {
			t.Errorf("DeleteStream(%s) of a stream that never existed: %v, want a wrong-expected-revision error with actual no-stream", exp, err)
		}
		// The refused delete changed nothing: the name is still free.
		e.append(stream, events.NoStream, event("never.item", "after"))
	}
	reserved := e.stream("never", 99)
	if err := e.s.TombstoneStream(e.ctx, reserved, events.Any); err != nil {
		t.Fatalf("TombstoneStream of a stream that never existed: %v", err)
	}
	_, err := e.s.Append(e.ctx, reserved, events.NoStream, event("never.item", "x"))
	expectErr(t, "Append to a tombstoned name", err, events.ErrStreamDeleted)
	_, err = e.s.ReadStream(e.ctx, reserved, events.ReadStreamOptions{})
	expectErr(t, "ReadStream of a tombstoned name", err, events.ErrStreamDeleted)
	if n := len(e.ownAfter(head0)); n != 4 {
		t.Fatalf("log holds %d of this test's events, want 4", n)
	}
}
