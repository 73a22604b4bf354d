// Package storetest owns the one contract suite that every events.Store
// implementation must pass (the embedded SQLite store and the EventStoreDB
// adapter). A store's test calls Run with a Harness that opens stores.
//
// The suite never assumes an empty log: a real EventStoreDB may be shared
// with other tests, so every test uses stream names with a random prefix,
// reads Head first and looks only at its own streams' events after it.
package storetest
