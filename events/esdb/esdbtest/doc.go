// Package esdbtest provides FakeServer, a test double, not EventStoreDB: an
// in-process gRPC server built from EventStore-Client-Go's own generated
// protocol stubs (event_store.client.streams and server_features) over a
// plain in-memory log, listening on 127.0.0.1 without TLS. It lets the
// events/esdb adapter run its contract suite and failure tests where no
// EventStoreDB server can be installed.
//
// What it imitates, as observed in EventStoreDB 24.x sources and the client's
// tests:
//
//   - Connect: ServerFeatures.GetSupportedMethods reports a version (24.10.0).
//   - Append: expected revision any / no stream / stream exists / exact, with
//     the server's commit check: idempotent retries by event id (for any and
//     stream-exists by id lookup, for exact and no-stream by comparing the
//     ids at the expected revisions), "corrupted idempotency" answered as
//     wrong expected version, the WrongExpectedVersion response carrying the
//     current revision or no-stream, stream-deleted trailers for tombstoned
//     streams, StreamDeleted for stream-exists on a soft-deleted stream,
//     required "type"/"content-type" metadata and the maximum append size.
//   - Commit positions are transaction-file offsets: they start after an
//     epoch record at 0, grow by the size of each record (so they have gaps
//     of varying width) and commit == prepare for every event.
//   - $all holds system events: a few at start-up, "$metadata" events in
//     "$$<stream>" on soft delete and on re-creation, "$streamDeleted"
//     tombstones (in the user stream, with a $-type), and EmitSystemEvents.
//   - Soft delete writes {"$tb": MaxInt64}; reads then answer
//     StreamNotFound; a later append recreates the stream with revisions
//     continuing and rewrites $tb; soft-deleting a stream that never existed
//     is a wrong expected version.
//   - Tombstone: reads and appends fail with status FailedPrecondition and
//     the "exception: stream-deleted" trailer that the client maps.
//   - Delete/Tombstone wrong expected version: FailedPrecondition with the
//     server's message ("Delete failed due to WrongExpectedVersion. Stream:
//     s, Expected version: e, Actual version: a") and trailers.
//   - Stream reads forwards/backwards from a revision, start or end, with
//     StreamNotFound as a response message; $all reads forwards (position
//     inclusive) and backwards (position exclusive).
//   - $all subscriptions: confirmation, catch-up, CaughtUp, live events,
//     event-type and stream-name filters (prefix or regex) with checkpoints;
//     a start position is exclusive (the server skips the first event at or
//     after it); a live subscriber that lets LiveBufferSize messages pile up
//     is dropped with Aborted "Consumer too slow".
//
// Test hooks: DropSubscriptions (server-side drop), Stop/Resume/Restart (the
// process going away and coming back on the same address with its data),
// EmitSystemEvents, Stats.
//
// What it does not imitate: TLS and authentication, ACLs, clustering and
// gossip, stream subscriptions, persistent subscriptions, projections,
// BatchAppend, stream metadata other than $tb (max age/count, ACLs), link
// events, scavenging, explicit transactions, durability (the log lives in
// memory), the bounded size of the server's idempotency cache, and the
// server's FellBehind messages. $all positions that are not record
// boundaries are always refused with InvalidArgument "Trying to read from
// an invalid position." (for subscriptions after the confirmation), as the
// server does when it detects them; a real server may fail to detect some.
package esdbtest
