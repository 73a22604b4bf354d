// Package activity owns the "activity" read model: a paged audit feed of
// every event in the log (position, stream, type, revision, occurred and
// recorded time, acting actor, correlation id), and its read-only query
// interface, Reader, filterable by stream prefix and event type with
// position cursors. The admin HTTP endpoint in internal/httpapi serves it.
package activity
