// Package projections owns the machinery every read model of Hanse uses: a
// Runner that feeds named Projectors from the log of all events, the
// read-model database (a SQLite file separate from the event store, in WAL
// mode, that can be thrown away and rebuilt), per-projector checkpoints,
// blue/green rebuilds, read-your-writes waits, lag and health reporting, and
// deterministic checksums of read models.
//
// # Storage and exactly-once effects
//
// Every projector owns tables in the read-model database. A batch of events
// and the projector's checkpoint are committed in one transaction, so a crash
// at any moment leaves the read model at its last committed checkpoint with
// no partial effects. The read-model database uses synchronous=NORMAL: a power
// loss may lose the last commits, which is harmless because projection state
// is rebuilt from the event store.
//
// # Builds, versions and blue/green rebuilds
//
// A projector's Name is its identity and its Version declares the shape of
// its tables. The runner keeps, per name, at most one live build (the one
// queries read) and at most one pending build. Each build has its own table
// namespace, given to the projector as Tables: generation 0 of version 2 of
// "activity" names its table "entries" activity_v2_entries, a later explicit
// rebuild of the same version uses activity_v2r1_entries, and so on. When the
// registered version differs from the live one, or a rebuild is requested,
// a pending build is set up and fed from position 0 beside the live one.
// Once it has caught up with the head of the log, the live pointer (a row of
// the catalog table) switches to it in one transaction that also drops the
// old build's tables.
//
// Queries resolve the live build at call time with ReadLive, inside one read
// transaction, so a switch never breaks a running query. The limitation:
// while a new version builds, queries of the new binary read the tables of
// the previous live version. Query code must therefore be able to read the
// live version's tables (check Tables.Version, or keep table shapes
// compatible), and if the old version's projector is no longer registered
// its tables are frozen (stale) until the new version has caught up.
// Registering the old version beside the new one keeps the old tables live.
//
// # Failures
//
// A projector that fails on an event stops at the last event it applied,
// records the failing event (position, type, error) and never skips it.
// Retry resumes it. Another process (the hanse CLI) asks a running server to
// retry or rebuild through a request row in the read-model database that the
// runner polls about once a second; a lease row tells whether a runner is
// active, so the CLI can do the work itself when none is. Every write checks
// the lease in its transaction and checkpoints are compare-and-set, so a
// runner whose lease was taken over stops (ErrFenced) instead of applying
// events a second time.
//
// This package imports only the standard library, events, database/sql and
// prometheus/client_golang. The SQLite driver is registered by the caller
// under the name "sqlite" (modernc.org/sqlite).
package projections
