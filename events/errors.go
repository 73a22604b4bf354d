package events

import (
	"errors"
	"fmt"
)

// Sentinel errors of the store contract. Implementations wrap them (or return
// the typed errors below, which match them with errors.Is).
var (
	// ErrWrongExpectedRevision: the stream is not in the expected state.
	ErrWrongExpectedRevision = errors.New("events: wrong expected revision")
	// ErrStreamNotFound: the stream has no events (or was soft-deleted).
	ErrStreamNotFound = errors.New("events: stream not found")
	// ErrStreamDeleted: the stream was tombstoned and can never be written again.
	ErrStreamDeleted = errors.New("events: stream deleted")
	// ErrInvalidStreamName: the stream name breaks the naming rules.
	ErrInvalidStreamName = errors.New("events: invalid stream name")
	// ErrEmptyAppend: an append carried no events.
	ErrEmptyAppend = errors.New("events: append without events")
	// ErrInvalidEvent: an event lacks an id or a valid type name.
	ErrInvalidEvent = errors.New("events: invalid event")
	// ErrEventTooLarge: one event exceeds MaxEventBytes.
	ErrEventTooLarge = errors.New("events: event too large")
	// ErrAppendTooLarge: one append exceeds MaxAppendBytes or MaxAppendEvents.
	ErrAppendTooLarge = errors.New("events: append too large")
	// ErrInvalidExpectedRevision: the expected-revision value is not one of
	// the four forms (for example the zero value).
	ErrInvalidExpectedRevision = errors.New("events: invalid expected revision")
	// ErrIdempotencyConflict: some but not all event ids of an append were
	// already written, or they were written to another stream or position.
	ErrIdempotencyConflict = errors.New("events: event ids already used differently")
	// ErrClosed: the store or subscription has been closed.
	ErrClosed = errors.New("events: closed")
	// ErrUnknownEventType: the registry has no such event type.
	ErrUnknownEventType = errors.New("events: unknown event type")
)

// WrongExpectedRevisionError reports an optimistic-concurrency conflict with
// the stream's actual state, so that callers can reload and retry.
type WrongExpectedRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	Actual   StreamState
}

// Error implements error.
func (e *WrongExpectedRevisionError) Error() string {
	return fmt.Sprintf("events: wrong expected revision on stream %q: expected %s, actual %s",
		e.Stream, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrWrongExpectedRevision) true.
func (e *WrongExpectedRevisionError) Is(target error) bool { return target == ErrWrongExpectedRevision }

// ActualRevision extracts the actual stream state from a wrong-expected-revision
// error anywhere in err's chain.
func ActualRevision(err error) (StreamState, bool) {
	var w *WrongExpectedRevisionError
	if errors.As(err, &w) {
		return w.Actual, true
	}
	return StreamState{}, false
}
