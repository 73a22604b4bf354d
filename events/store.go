package events

import (
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits every Store enforces before writing anything. They keep one append
// within EventStoreDB's default MaxAppendSize (1 MiB) so that both stores
// accept and refuse the same input.
const (
	// MaxEventBytes caps one event: payload + type name + encoded metadata.
	MaxEventBytes = 1_000_000
	// MaxAppendBytes caps one append: the sum of its events' sizes.
	MaxAppendBytes = 1_000_000
	// MaxAppendEvents caps the number of events in one append.
	MaxAppendEvents = 10_000
	// MaxStreamNameBytes caps the length of a stream name.
	MaxStreamNameBytes = 200
	// MaxTypeNameBytes caps the length of an event type name.
	MaxTypeNameBytes = 200
)

// Direction is the order of a stream read.
type Direction uint8

const (
	// Forwards reads from older to newer events.
	Forwards Direction = iota
	// Backwards reads from newer to older events.
	Backwards
)

// StreamEnd, as ReadStreamOptions.From, means "the last event of the stream".
const StreamEnd = ^uint64(0)

// ReadStreamOptions select a slice of one stream.
type ReadStreamOptions struct {
	// Direction of the read.
	Direction Direction
	// From is the first revision returned (inclusive). Forwards reads usually
	// start at 0; backwards reads usually start at StreamEnd.
	From uint64
	// Max caps the number of events returned; 0 means no cap.
	Max int
}

// Store is Hanse's append-only event store. It mirrors EventStoreDB's
// semantics so that the embedded store and EventStoreDB are interchangeable.
//
// All methods are safe for concurrent use.
type Store interface {
	// Append writes events to the end of stream if the stream's state
	// satisfies expected, atomically: all or none. It returns only once the
	// events are durable. Re-appending events whose ids were already written by
	// the same earlier append is a no-op that reports the original result.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)

	// ReadStream returns events of one stream. A stream without events, or a
	// soft-deleted one, gives ErrStreamNotFound; a tombstoned one
	// ErrStreamDeleted.
	ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) ([]Envelope, error)

	// ReadAll returns up to max events (0: no cap is not allowed; max must be
	// positive) with positions strictly after the given position, in order.
	ReadAll(ctx context.Context, after Position, max int) ([]Envelope, error)

	// Head returns the position of the last committed event (Start when the
	// log is empty).
	Head(ctx context.Context) (Position, error)

	// SubscribeAll starts a catch-up subscription to all events strictly
	// after the given position: it first delivers stored events, then hands
	// over to live events without gap or duplicate. A slow consumer never
	// loses events; it falls behind and catches up.
	SubscribeAll(ctx context.Context, after Position) (Subscription, error)

	// DeleteStream soft-deletes a stream: reads give ErrStreamNotFound, and a
	// later append recreates it with revisions continuing after the deleted
	// ones (as in EventStoreDB). Events stay in the log of all events. A
	// stream that never had an event cannot be soft-deleted: the result is a
	// *WrongExpectedRevisionError with actual state "no stream", whatever
	// the expected revision (as in EventStoreDB).
	DeleteStream(ctx context.Context, stream string, expected ExpectedRevision) error

	// TombstoneStream deletes a stream for ever: reads and appends give
	// ErrStreamDeleted. Events stay in the log of all events. Tombstoning a
	// name that never had an event reserves it.
	TombstoneStream(ctx context.Context, stream string, expected ExpectedRevision) error

	// Close releases the store. Pending appends either complete or fail with
	// ErrClosed; nothing acknowledged is lost.
	Close() error
}

// Subscription delivers events in global order.
type Subscription interface {
	// Next blocks until at least one event is available and returns up to max
	// events (max > 0) in order. It returns ctx.Err() when ctx ends and
	// ErrClosed after Close, or the error that ended the subscription.
	Next(ctx context.Context, max int) ([]Envelope, error)
	// Close ends the subscription and releases its resources.
	Close() error
}

// ValidateStreamName checks the stream naming rule: 1 to MaxStreamNameBytes
// bytes of printable UTF-8 without white space, not starting with '$'
// (reserved for system streams).
func ValidateStreamName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidStreamName)
	case len(name) > MaxStreamNameBytes:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidStreamName, len(name), MaxStreamNameBytes)
	case name[0] == '$':
		return fmt.Errorf("%w: %q starts with '$', reserved for system streams", ErrInvalidStreamName, name)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidStreamName)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%w: %q contains white space or a control character", ErrInvalidStreamName, name)
		}
	}
	return nil
}

// ValidateTypeName checks an event type name: 1 to MaxTypeNameBytes bytes of
// lower-case ASCII letters, digits, '.', '_' and '-', starting with a letter.
func ValidateTypeName(name string) error {
	if name == "" || len(name) > MaxTypeNameBytes {
		return fmt.Errorf("%w: type name must have 1 to %d bytes", ErrInvalidEvent, MaxTypeNameBytes)
	}
	if name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("%w: type name %q must start with a lower-case letter", ErrInvalidEvent, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: type name %q may hold only a-z, 0-9, '.', '_' and '-'", ErrInvalidEvent, name)
		}
	}
	return nil
}

// ValidateAppend checks an append's arguments against the contract before
// anything is written. Every Store calls it first.
func ValidateAppend(stream string, expected ExpectedRevision, events []EventData) error {
	if err := ValidateStreamName(stream); err != nil {
		return err
	}
	if !expected.Valid() {
		return ErrInvalidExpectedRevision
	}
	if len(events) == 0 {
		return ErrEmptyAppend
	}
	if len(events) > MaxAppendEvents {
		return fmt.Errorf("%w: %d events, at most %d", ErrAppendTooLarge, len(events), MaxAppendEvents)
	}
	total := 0
	seen := make(map[UUID]struct{}, len(events))
	for i, e := range events {
		if e.ID.IsZero() {
			return fmt.Errorf("%w: event %d has no id", ErrInvalidEvent, i)
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("%w: event id %s appears twice in one append", ErrInvalidEvent, e.ID)
		}
		seen[e.ID] = struct{}{}
		if err := ValidateTypeName(e.Type); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		size := e.Size()
		if size > MaxEventBytes {
			return fmt.Errorf("%w: event %d has %d bytes, at most %d", ErrEventTooLarge, i, size, MaxEventBytes)
		}
		total += size
	}
	if total > MaxAppendBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrAppendTooLarge, total, MaxAppendBytes)
	}
	return nil
}

// ValidateDelete checks a delete's arguments.
func ValidateDelete(stream string, expected ExpectedRevision) error {
	if err := ValidateStreamName(stream); err != nil {
		return err
	}
	if !expected.Valid() {
		return ErrInvalidExpectedRevision
	}
	return nil
}
