// Package sqlite owns Hanse's embedded event store, the default
// implementation of events.Store: one SQLite database file in WAL mode with
// synchronous=FULL, written by a single writer goroutine that batches
// concurrent appends into one transaction and one fsync (group commit), and
// read through a separate pool of read-only connections.
//
// Global positions are assigned by the writer in commit order and are
// contiguous (1, 2, 3, …). Readers and subscribers are shown events only up
// to the committed head the writer publishes after each commit, so nobody
// observes position N+1 before N. Appends are acknowledged only after their
// transaction has committed (and therefore been synced).
//
// The package uses the pure-Go driver modernc.org/sqlite so that the hanse
// binary stays a single static file; see docs/performance.md for the driver
// benchmark.
package sqlite
