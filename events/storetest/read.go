package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/events"
)

func testReadStream(t *testing.T, e *env) {
	stream := e.stream("read")
	e.append(stream, events.NoStream, eventsN("read.item", 10, "r")...)
	fwd, bwd := events.Forwards, events.Backwards
	cases := []struct {
		name string
		opts events.ReadStreamOptions
		want []uint64
	}{
		{"forwards all", events.ReadStreamOptions{Direction: fwd}, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"forwards from 3 max 4", events.ReadStreamOptions{Direction: fwd, From: 3, Max: 4}, []uint64{3, 4, 5, 6}},
		{"forwards from 8 max 5", events.ReadStreamOptions{Direction: fwd, From: 8, Max: 5}, []uint64{8, 9}},
		{"forwards from 9", events.ReadStreamOptions{Direction: fwd, From: 9}, []uint64{9}},
		{"forwards past the end", events.ReadStreamOptions{Direction: fwd, From: 10}, nil},
		{"backwards from end", events.ReadStreamOptions{Direction: bwd, From: events.StreamEnd}, []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"backwards from end max 3", events.ReadStreamOptions{Direction: bwd, From: events.StreamEnd, Max: 3}, []uint64{9, 8, 7}},
		{"backwards from end max 1", events.ReadStreamOptions{Direction: bwd, From: events.StreamEnd, Max: 1}, []uint64{9}},
		{"backwards from 4", events.ReadStreamOptions{Direction: bwd, From: 4}, []uint64{4, 3, 2, 1, 0}},
		{"backwards from 2 max 10", events.ReadStreamOptions{Direction: bwd, From: 2, Max: 10}, []uint64{2, 1, 0}},
		{"backwards from 0", events.ReadStreamOptions{Direction: bwd, From: 0}, []uint64{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.readStream(stream, tc.opts)
			revs := make([]uint64, 0, len(got))
			for _, ev := range got {
				revs = append(revs, ev.Revision)
			}
			if fmt.Sprint(revs) != fmt.Sprint(append([]uint64{}, tc.want...)) {
				t.Fatalf("revisions %v, want %v", revs, tc.want)
			}
		})
	}
	for _, dir := range []events.Direction{fwd, bwd} {
		_, err := e.s.ReadStream(e.ctx, e.stream("absent"), events.ReadStreamOptions{Direction: dir, From: events.StreamEnd})
		expectErr(t, "ReadStream of an absent stream", err, events.ErrStreamNotFound)
	}
	_, err := e.s.ReadStream(e.ctx, "bad name", events.ReadStreamOptions{})
	expectErr(t, "ReadStream with an invalid name", err, events.ErrInvalidStreamName)
}

func testReadAllPaging(t *testing.T, e *env) {
	head0 := e.head()
	var want []events.UUID
	for i := range 30 {
		ev := event("page.item", fmt.Sprint(i))
		e.append(e.stream("page", i%3), events.Any, ev)
		want = append(want, ev.ID)
	}
	head := e.head()
	var got []events.Envelope
	for after := head0; after < head; {
		page, err := e.s.ReadAll(e.ctx, after, 7)
		if err != nil {
			t.Fatalf("ReadAll(%d, 7): %v", after, err)
		}
		if len(page) == 0 || len(page) > 7 {
			t.Fatalf("ReadAll(%d, 7) returned %d events before the head %d", after, len(page), head)
		}
		for _, ev := range page {
			if ev.Position <= after {
				t.Fatalf("position %d returned after %d", ev.Position, after)
			}
			after = ev.Position
			if e.own(ev) {
				got = append(got, ev)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("paged through %d of this test's events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i] {
			t.Fatalf("event %d is %s, want %s (log order must be append order)", i, got[i].ID, want[i])
		}
	}
	mid := got[14].Position
	rest, err := e.s.ReadAll(e.ctx, mid, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range rest {
		if e.own(ev) {
			if ev.ID != want[15] {
				t.Fatalf("ReadAll after event 14 starts with %s, want event 15 %s", ev.ID, want[15])
			}
			break
		}
	}
	if e.h.ContiguousPositions {
		empty, err := e.s.ReadAll(e.ctx, head, 10)
		if err != nil || len(empty) != 0 {
			t.Fatalf("ReadAll(head) = %d events, %v; want none", len(empty), err)
		}
	}
	if _, err := e.s.ReadAll(e.ctx, head0, 0); err == nil {
		t.Fatal("ReadAll with max 0 succeeded, want an error")
	}
}

func testHead(t *testing.T, e *env) {
	head0 := e.head()
	res := e.append(e.stream("head"), events.NoStream, event("head.moved", "1"))
	if res.Position <= head0 {
		t.Fatalf("append at %d not after head %d", res.Position, head0)
	}
	if h := e.head(); h < res.Position {
		t.Fatalf("Head %d before the acknowledged append at %d", h, res.Position)
	}
	if e.h.ContiguousPositions && res.Position != head0+1 {
		t.Fatalf("append at %d, want %d right after head %d", res.Position, head0+1, head0)
	}
}

// payloadOfSize returns a JSON payload that makes ev exactly size bytes.
func payloadOfSize(t testing.TB, ev events.EventData, size int) events.EventData {
	t.Helper()
	ev.Data = nil
	fill := size - ev.Size() - len(`{"p":""}`)
	if fill < 0 {
		t.Fatalf("event overhead exceeds %d bytes", size)
	}
	var b strings.Builder
	for i := 0; i < fill; i++ {
		b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[(i*7+i/36)%36])
	}
	data, err := json.Marshal(map[string]string{"p": b.String()})
	if err != nil {
		t.Fatal(err)
	}
	ev.Data = data
	if ev.Size() != size {
		t.Fatalf("built an event of %d bytes, want %d", ev.Size(), size)
	}
	return ev
}

func testLargePayloads(t *testing.T, e *env) {
	head0 := e.head()
	stream := e.stream("large")
	big := payloadOfSize(t, event("large.stored", ""), events.MaxEventBytes)
	res := e.append(stream, events.NoStream, big)
	got := e.readStream(stream, events.ReadStreamOptions{})
	if len(got) != 1 || !bytes.Equal(got[0].Data, big.Data) {
		t.Fatal("an event of exactly MaxEventBytes did not round-trip byte for byte")
	}
	sameEvent(t, big, got[0])
	all, err := e.s.ReadAll(e.ctx, res.Position-1, 1)
	if err != nil || len(all) != 1 || !bytes.Equal(all[0].Data, big.Data) {
		t.Fatalf("ReadAll did not return the large event byte for byte (err %v)", err)
	}

	tooBig := payloadOfSize(t, event("large.stored", ""), events.MaxEventBytes+1)
	_, err = e.s.Append(e.ctx, stream, events.Any, tooBig)
	expectErr(t, "append of MaxEventBytes+1", err, events.ErrEventTooLarge)

	half := func() events.EventData {
		return payloadOfSize(t, event("large.stored", ""), events.MaxAppendBytes/2+1)
	}
	_, err = e.s.Append(e.ctx, stream, events.Any, half(), half())
	expectErr(t, "append of two events over MaxAppendBytes", err, events.ErrAppendTooLarge)

	two := []events.EventData{
		payloadOfSize(t, event("large.stored", ""), events.MaxAppendBytes/2-10),
		payloadOfSize(t, event("large.stored", ""), events.MaxAppendBytes/2-10),
	}
	e.append(stream, events.Exact(0), two...)
	got = e.readStream(stream, events.ReadStreamOptions{From: 1})
	if len(got) != 2 || !bytes.Equal(got[0].Data, two[0].Data) || !bytes.Equal(got[1].Data, two[1].Data) {
		t.Fatal("two half-megabyte events did not round-trip")
	}
	if n := len(e.ownAfter(head0)); n != 3 {
		t.Fatalf("log holds %d of this test's events, want 3 (refused appends must write nothing)", n)
	}
}

func testBadInput(t *testing.T, e *env) {
	head0 := e.head()
	good := e.stream("bad")
	long := strings.Repeat("x", events.MaxStreamNameBytes+1)
	withType := func(typ string) []events.EventData { return []events.EventData{event(typ, "x")} }
	dup := event("bad.input", "dup")
	noID := event("bad.input", "noid")
	noID.ID = events.NilUUID
	tooMany := make([]events.EventData, events.MaxAppendEvents+1)
	for i := range tooMany {
		tooMany[i] = events.EventData{ID: events.NewUUID(), Type: "bad.input", Data: []byte("{}")}
	}
	cases := []struct {
		name   string
		stream string
		exp    events.ExpectedRevision
		evs    []events.EventData
		want   error
	}{
		{"empty stream name", "", events.Any, withType("bad.input"), events.ErrInvalidStreamName},
		{"system stream name", "$" + good, events.Any, withType("bad.input"), events.ErrInvalidStreamName},
		{"space in stream name", good + " x", events.Any, withType("bad.input"), events.ErrInvalidStreamName},
		{"control character in stream name", good + "\x01", events.Any, withType("bad.input"), events.ErrInvalidStreamName},
		{"invalid UTF-8 stream name", good + "\xff", events.Any, withType("bad.input"), events.ErrInvalidStreamName},
		{"stream name too long", long, events.Any, withType("bad.input"), events.ErrInvalidStreamName},
		{"no events", good, events.Any, nil, events.ErrEmptyAppend},
		{"zero expected revision", good, events.ExpectedRevision{}, withType("bad.input"), events.ErrInvalidExpectedRevision},
		{"nil event id", good, events.Any, []events.EventData{noID}, events.ErrInvalidEvent},
		{"duplicate event id", good, events.Any, []events.EventData{dup, dup}, events.ErrInvalidEvent},
		{"empty type", good, events.Any, withType(""), events.ErrInvalidEvent},
		{"upper-case type", good, events.Any, withType("Bad.Input"), events.ErrInvalidEvent},
		{"system type", good, events.Any, withType("$bad"), events.ErrInvalidEvent},
		{"type with space", good, events.Any, withType("bad input"), events.ErrInvalidEvent},
		{"type too long", good, events.Any, withType("b" + strings.Repeat("a", events.MaxTypeNameBytes)), events.ErrInvalidEvent},
		{"event too large", good, events.Any, []events.EventData{payloadOfSize(t, event("bad.input", ""), events.MaxEventBytes+1)}, events.ErrEventTooLarge},
		{"too many events", good, events.Any, tooMany, events.ErrAppendTooLarge},
	}
	var ids []events.UUID
	for _, tc := range cases {
		for _, ev := range tc.evs {
			ids = append(ids, ev.ID)
		}
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.Append(e.ctx, tc.stream, tc.exp, tc.evs...)
			expectErr(t, "Append", err, tc.want)
		})
	}
	deletes := []struct {
		name   string
		stream string
		exp    events.ExpectedRevision
		want   error
	}{
		{"delete with empty name", "", events.Any, events.ErrInvalidStreamName},
		{"delete system stream", "$" + good, events.Any, events.ErrInvalidStreamName},
		{"delete with zero expected revision", good, events.ExpectedRevision{}, events.ErrInvalidExpectedRevision},
	}
	for _, tc := range deletes {
		t.Run(tc.name, func(t *testing.T) {
			expectErr(t, "DeleteStream", e.s.DeleteStream(e.ctx, tc.stream, tc.exp), tc.want)
			expectErr(t, "TombstoneStream", e.s.TombstoneStream(e.ctx, tc.stream, tc.exp), tc.want)
		})
	}
	_, err := e.s.ReadStream(e.ctx, good, events.ReadStreamOptions{})
	expectErr(t, "ReadStream after refused appends", err, events.ErrStreamNotFound)
	badIDs := map[events.UUID]bool{}
	for _, id := range ids {
		badIDs[id] = true
	}
	for _, ev := range e.readAllAfter(head0) {
		if e.own(ev) || badIDs[ev.ID] {
			t.Fatalf("refused input was written: %s in %s", ev.ID, ev.StreamID)
		}
	}
	// The store still works, and refused deletes left the name usable.
	e.append(good, events.NoStream, event("bad.input", "ok"))
}
