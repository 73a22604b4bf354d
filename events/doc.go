// Package events owns Hanse's event-store contract: the Envelope recorded for
// every state change, the Store interface that mirrors EventStoreDB semantics
// (expected revisions, global positions, catch-up subscriptions, idempotent
// appends, stream deletion), the typed errors, and the explicit event-type
// registry with schema versions and upcasters.
//
// Implementations live in sub-packages (events/sqlite, events/esdb) and are
// checked by one contract suite (events/storetest). This package imports the
// standard library only.
package events
