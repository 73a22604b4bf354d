// Package streams owns the "streams" read model: one summary row per
// stream of the event store (stream id, kind, last event type, revision,
// number of events, first and last update), and its read-only query
// interface, Reader.
//
// The kind of a stream is the part of its name before the first '-'
// (streams are named "<kind>-<id>"); a name without '-' is its own kind.
// Times are the store's RecordedAt of the first and last event, so a
// rebuild reproduces them exactly. Stream deletion is not an event in the
// log of all events, so deleted streams keep their summary row.
package streams
