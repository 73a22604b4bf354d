package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// Position is a global position in the log of all events. Positions grow
// strictly with commit order; the embedded store numbers events 1, 2, 3, …
// without gaps, EventStoreDB uses commit positions (increasing, with gaps).
// Start (0) is before the first event.
type Position uint64

// Start is the position before the first event of the log.
const Start Position = 0

// Metadata is the envelope information every event carries besides its
// payload. The JSON names of the two ids match EventStoreDB's conventions
// ($correlationId, $causationId) so that its own projections understand them.
type Metadata struct {
	// CorrelationID ties together every event caused by one user request.
	CorrelationID string `json:"$correlationId,omitempty"`
	// CausationID is the id of the command or event that caused this one.
	CausationID string `json:"$causationId,omitempty"`
	// Actor identifies who acted (a local account id or a remote actor IRI).
	Actor string `json:"actor,omitempty"`
	// OccurredAt is when the fact happened, as decided by the writer's clock.
	OccurredAt time.Time `json:"occurredAt"`
	// Origin is the host of the server where the fact originated
	// (this instance's host for local facts, the remote host otherwise).
	Origin string `json:"origin,omitempty"`
	// SchemaVersion is the version of the payload schema of Type.
	SchemaVersion int `json:"schemaVersion,omitempty"`
}

// EncodeMetadata serialises metadata as stored by every Store implementation.
func EncodeMetadata(m Metadata) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("events: encode metadata: %w", err)
	}
	return b, nil
}

// DecodeMetadata parses metadata written by EncodeMetadata. Empty input gives
// zero metadata, so events written by other tools still decode.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("events: decode metadata: %w", err)
	}
	return m, nil
}

// EventData is an event proposed for appending.
type EventData struct {
	// ID identifies the event; a retry must reuse it so that the append is
	// idempotent.
	ID UUID
	// Type is the explicit, namespaced, past-tense type name, for example
	// "community.member_joined". It never starts with '$'.
	Type string
	// Data is the JSON payload.
	Data []byte
	// Metadata is the envelope metadata.
	Metadata Metadata
}

// Size is the number of bytes the event counts against MaxEventBytes and
// MaxAppendBytes: the payload, the type name and the encoded metadata.
func (e EventData) Size() int {
	meta, _ := EncodeMetadata(e.Metadata)
	return len(e.Data) + len(e.Type) + len(meta)
}

// Envelope is an event as recorded in the store.
type Envelope struct {
	// ID is the event id given at append time.
	ID UUID
	// StreamID is the stream the event belongs to, "<kind>-<id>".
	StreamID string
	// Revision is the event's 0-based number within its stream.
	Revision uint64
	// Position is the event's global position in the log of all events.
	Position Position
	// Type is the event type name.
	Type string
	// Data is the JSON payload as appended.
	Data []byte
	// Metadata is the envelope metadata as appended.
	Metadata Metadata
	// RecordedAt is when the store committed the event.
	RecordedAt time.Time
}

// AppendResult is what a successful Append reports.
type AppendResult struct {
	// NextRevision is the revision of the last event now in the stream; pass
	// Exact(NextRevision) to append after it.
	NextRevision uint64
	// Position is the global position of the last event appended. Readers use
	// it to wait until a projection has caught up with this write.
	Position Position
}
