package events

import "fmt"

type expectedKind uint8

const (
	expectInvalid expectedKind = iota
	expectAny
	expectNoStream
	expectStreamExists
	expectExact
)

// ExpectedRevision is the optimistic-concurrency condition of an append or a
// delete, with EventStoreDB's four forms. The zero value is invalid, so that
// a forgotten condition is an error rather than a silent Any.
type ExpectedRevision struct {
	kind     expectedKind
	revision uint64
}

var (
	// Any accepts the stream in any state.
	Any = ExpectedRevision{kind: expectAny}
	// NoStream requires that the stream does not exist yet.
	NoStream = ExpectedRevision{kind: expectNoStream}
	// StreamExists requires that the stream exists (has at least one event).
	StreamExists = ExpectedRevision{kind: expectStreamExists}
)

// Exact requires that the stream's last event has exactly this revision.
func Exact(revision uint64) ExpectedRevision {
	return ExpectedRevision{kind: expectExact, revision: revision}
}

// IsAny reports whether e is Any.
func (e ExpectedRevision) IsAny() bool { return e.kind == expectAny }

// IsNoStream reports whether e is NoStream.
func (e ExpectedRevision) IsNoStream() bool { return e.kind == expectNoStream }

// IsStreamExists reports whether e is StreamExists.
func (e ExpectedRevision) IsStreamExists() bool { return e.kind == expectStreamExists }

// ExactRevision returns the revision of an Exact condition and true, or
// 0 and false for the other forms.
func (e ExpectedRevision) ExactRevision() (uint64, bool) {
	return e.revision, e.kind == expectExact
}

// Valid reports whether e is one of the four forms (the zero value is not).
func (e ExpectedRevision) Valid() bool {
	return e.kind >= expectAny && e.kind <= expectExact
}

// String renders the condition for errors and logs.
func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectAny:
		return "any"
	case expectNoStream:
		return "no-stream"
	case expectStreamExists:
		return "stream-exists"
	case expectExact:
		return fmt.Sprintf("%d", e.revision)
	default:
		return "invalid"
	}
}

// StreamState is the actual state of a stream: whether it has events and the
// revision of its last event.
type StreamState struct {
	Exists   bool
	Revision uint64
}

// String renders the state for errors and logs.
func (s StreamState) String() string {
	if !s.Exists {
		return "no-stream"
	}
	return fmt.Sprintf("%d", s.Revision)
}

// Satisfies reports whether a stream in state s meets condition e.
func (e ExpectedRevision) Satisfies(s StreamState) bool {
	switch e.kind {
	case expectAny:
		return true
	case expectNoStream:
		return !s.Exists
	case expectStreamExists:
		return s.Exists
	case expectExact:
		return s.Exists && s.Revision == e.revision
	default:
		return false
	}
}
