package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

// Harness tells the suite how to get stores.
type Harness struct {
	// Open returns a new store. It may already hold events from other tests
	// (a real EventStoreDB is shared): tests must use unique stream names
	// (e.g. a random prefix per test) and must not assume an empty log:
	// read Head first and only look at events after it / of their own streams.
	Open func(t testing.TB) events.Store
	// Reopen closes s and opens the same underlying store again; nil when the
	// implementation cannot be reopened.
	Reopen func(t testing.TB, s events.Store) events.Store
	// ContiguousPositions is true when global positions are 1,2,3,… without gaps.
	ContiguousPositions bool
}

// Run runs the whole contract suite as subtests.
func Run(t *testing.T, h Harness) {
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is nil")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"AppendAndRead", testAppendAndRead},
		{"ExpectedRevision", testExpectedRevision},
		{"IdempotentRetry", testIdempotentRetry},
		{"ConcurrentWriters", testConcurrentWriters},
		{"OptimisticConcurrencyRetries", testOptimisticRetries},
		{"ReadStream", testReadStream},
		{"ReadAllPaging", testReadAllPaging},
		{"Head", testHead},
		{"SubscriptionCatchUpToLive", testSubscriptionCatchUpToLive},
		{"SubscriptionFromMiddle", testSubscriptionFromMiddle},
		{"SlowConsumer", testSlowConsumer},
		{"LargePayloads", testLargePayloads},
		{"ManyStreams", testManyStreams},
		{"SoftDelete", testSoftDelete},
		{"Tombstone", testTombstone},
		{"DeleteNeverWritten", testDeleteNeverWritten},
		{"BadInput", testBadInput},
		{"ContextCancellation", testContextCancellation},
		{"ClosedStore", testClosedStore},
		{"ReopenDurability", testReopenDurability},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newEnv(t, h))
		})
	}
}

// env is one test's store, context and stream-name prefix.
type env struct {
	t      *testing.T
	h      Harness
	s      events.Store
	ctx    context.Context
	prefix string
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	var b [6]byte
	_, _ = rand.Read(b[:])
	e := &env{t: t, h: h, ctx: ctx, prefix: "st" + hex.EncodeToString(b[:])}
	e.s = h.Open(t)
	if e.s == nil {
		t.Fatal("storetest: Harness.Open returned nil")
	}
	t.Cleanup(func() { _ = e.s.Close() })
	return e
}

// stream returns a stream name unique to this test: "<kind>-<prefix><n>".
func (e *env) stream(kind string, n ...int) string {
	s := kind + "-" + e.prefix
	for _, i := range n {
		s += fmt.Sprintf("_%d", i)
	}
	return s
}

// own reports whether an event belongs to one of this test's streams.
func (e *env) own(ev events.Envelope) bool { return strings.Contains(ev.StreamID, e.prefix) }

var occurred = time.Date(2025, 5, 17, 10, 30, 0, 123456789, time.UTC)

// event returns an event with a fresh id, a small JSON payload and metadata.
func event(typ string, payload string) events.EventData {
	return events.EventData{
		ID:   events.NewUUID(),
		Type: typ,
		Data: []byte(fmt.Sprintf(`{"v":%q}`, payload)),
		Metadata: events.Metadata{
			CorrelationID: "corr-1",
			CausationID:   "cause-1",
			Actor:         "acct:alice@example.org",
			OccurredAt:    occurred,
			Origin:        "example.org",
			SchemaVersion: 1,
		},
	}
}

func eventsN(typ string, n int, tag string) []events.EventData {
	out := make([]events.EventData, n)
	for i := range out {
		out[i] = event(typ, fmt.Sprintf("%s-%d", tag, i))
	}
	return out
}

func (e *env) append(stream string, exp events.ExpectedRevision, evs ...events.EventData) events.AppendResult {
	e.t.Helper()
	res, err := e.s.Append(e.ctx, stream, exp, evs...)
	if err != nil {
		e.t.Fatalf("Append(%s, %s, %d events): %v", stream, exp, len(evs), err)
	}
	return res
}

func (e *env) head() events.Position {
	e.t.Helper()
	h, err := e.s.Head(e.ctx)
	if err != nil {
		e.t.Fatalf("Head: %v", err)
	}
	return h
}

func (e *env) readStream(stream string, opts events.ReadStreamOptions) []events.Envelope {
	e.t.Helper()
	evs, err := e.s.ReadStream(e.ctx, stream, opts)
	if err != nil {
		e.t.Fatalf("ReadStream(%s, %+v): %v", stream, opts, err)
	}
	return evs
}

// readAllAfter reads every event after a position up to the current head,
// in pages, checking that positions strictly increase.
func (e *env) readAllAfter(after events.Position) []events.Envelope {
	e.t.Helper()
	head := e.head()
	var out []events.Envelope
	for after < head {
		page, err := e.s.ReadAll(e.ctx, after, 500)
		if err != nil {
			e.t.Fatalf("ReadAll(%d): %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		for _, ev := range page {
			if ev.Position <= after {
				e.t.Fatalf("ReadAll after %d returned position %d out of order", after, ev.Position)
			}
			after = ev.Position
			out = append(out, ev)
		}
	}
	return out
}

// ownAfter is readAllAfter restricted to this test's streams.
func (e *env) ownAfter(after events.Position) []events.Envelope {
	var out []events.Envelope
	for _, ev := range e.readAllAfter(after) {
		if e.own(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// expectErr fails unless errors.Is(err, want).
func expectErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// sameEvent compares an appended event with its recorded envelope.
func sameEvent(t testing.TB, want events.EventData, got events.Envelope) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("recorded event %s/%s (%d bytes) differs from appended %s/%s (%d bytes)",
			got.ID, got.Type, len(got.Data), want.ID, want.Type, len(want.Data))
	}
	gm, wm := got.Metadata, want.Metadata
	if gm.CorrelationID != wm.CorrelationID || gm.CausationID != wm.CausationID || gm.Actor != wm.Actor ||
		gm.Origin != wm.Origin || gm.SchemaVersion != wm.SchemaVersion || !gm.OccurredAt.Equal(wm.OccurredAt) {
		t.Fatalf("recorded metadata %+v differs from appended %+v", gm, wm)
	}
}
