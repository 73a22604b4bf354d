// Package federation is reserved for Hanse's ActivityPub federation: the
// mapping between domain events and ActivityStreams 2.0 objects, HTTP
// signatures (draft-cavage and RFC 9421), WebFinger, NodeInfo and host-meta,
// remote actor resolution, the inbox (verified POSTs recorded as events
// before 202), and outbound delivery (a projection writing durable delivery
// records, signed POSTs with backoff).
//
// Sub-packages (federation/inbox, federation/outbound, …) will hold the
// parts. They may import domain types, internal/app and projection queries,
// never internal/httpapi or cmd (see docs/architecture.md).
package federation
