// Package esdb owns Hanse's EventStoreDB/KurrentDB event store: an
// events.Store over EventStore-Client-Go v4 (gRPC), for deployments where
// several stateless Hanse nodes share one EventStoreDB cluster. It targets
// EventStoreDB 24.10 LTS (the v4.2.0 client is tested against 24.x).
//
// Mapping of the contract onto EventStoreDB:
//
//   - Append is AppendToStream with the expected revision mapped one to one
//     (Any, NoStream, StreamExists, Exact → esdb.Any, esdb.NoStream,
//     esdb.StreamExists, esdb.Revision). The event id is the EventStoreDB
//     event id, so a retry with the same ids is answered by the server's
//     idempotency check with the original result; if the answer lacks a
//     position (older servers), the adapter reads it from the stream.
//     Payloads are stored as JSON, the envelope metadata
//     (events.EncodeMetadata) as the event's user metadata. The server's
//     idempotency for Any relies on an in-memory cache; NoStream and Exact
//     are checked against the stream itself.
//   - Errors: EventStoreDB answers a partly repeated append ("corrupted
//     idempotency") with wrong expected version and StreamExists on a
//     soft-deleted stream with StreamDeleted; the adapter tells these apart
//     and answers events.ErrIdempotencyConflict and a
//     *events.WrongExpectedRevisionError. The actual stream state comes from
//     the append response or, for deletes, from the server's message.
//     Connection failures wrap ErrUnavailable.
//   - Positions: events.Position is the event's commit position in $all.
//     For every event written through gRPC (implicit transactions: the only
//     kind since TCP clients and explicit transactions went away) commit ==
//     prepare, so esdb.Position{Commit: p, Prepare: p} addresses the event
//     exactly; positions grow with gaps. EventStoreDB refuses positions that
//     are not record boundaries, so ReadAll and SubscribeAll check that a
//     start position is an event's position and otherwise start after the
//     last event at or before it (found by reading $all backwards).
//   - ReadAll and Head read $all and skip system events (type or stream
//     starting with '$'); the client cannot filter plain reads, so they
//     filter and page on the client. SubscribeAll uses the server-side
//     filter esdb.ExcludeSystemEventsFilter and checks stream names too.
//   - Subscriptions buffer events for their consumer (bounded by count and
//     bytes), stop reading from the server while the buffer is full, and
//     resubscribe after any drop (slow consumer, lost connection, server
//     restart) from the last position received, skipping anything at or
//     before it: no gap, no duplicate.
//   - The client library gives up for good when it cannot reach a node
//     during discovery; the Store then replaces it with a new client.
//
// Tests run the contract suite against esdbtest.FakeServer (a test double)
// and, when HANSE_ESDB_URL is set, against a real server.
package esdb
