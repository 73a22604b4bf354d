package projections

import (
	"errors"
	"fmt"
	"time"

	"github.com/hanse-network/hanse/events"
)

var (
	// ErrInvalidProjector: a projector's name or version breaks the rules, or
	// two projectors share a name and version.
	ErrInvalidProjector = errors.New("projections: invalid projector")
	// ErrUnknownProjection: no projector of that name is registered (or, for
	// catalog reads, no build of that name exists).
	ErrUnknownProjection = errors.New("projections: unknown projection")
	// ErrNotLive: the projection has no live build yet.
	ErrNotLive = errors.New("projections: projection has no live build")
	// ErrFailed: the projection stopped on an event and waits for a retry.
	ErrFailed = errors.New("projections: projection failed")
	// ErrRunnerActive: another runner (process) holds the read-model lease.
	ErrRunnerActive = errors.New("projections: another runner is active on this read-model database")
	// ErrFenced: this runner stopped feeding its projections because another
	// runner took over the read-model database (its lease) or moved a
	// checkpoint under it. It reloads its builds from the catalog and goes
	// on once it holds the lease again.
	ErrFenced = errors.New("projections: fenced off by another runner")
	// ErrClosed: the runner has been closed (or was never started).
	ErrClosed = errors.New("projections: runner closed")
	// ErrSetup: a projector's Setup failed or created tables outside its namespace.
	ErrSetup = errors.New("projections: setup failed")
	// ErrDecode: an event payload could not be decoded.
	ErrDecode = errors.New("projections: undecodable payload")
)

// EventError is a projector failure on one event: the runner records it and
// stops the projector before that event.
type EventError struct {
	Projection string
	Position   events.Position
	Type       string
	StreamID   string
	Err        error
}

// Error implements error.
func (e *EventError) Error() string {
	return fmt.Sprintf("projections: %s failed on %s event at position %d (stream %q): %v",
		e.Projection, e.Type, e.Position, e.StreamID, e.Err)
}

// Unwrap returns the projector's error.
func (e *EventError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrFailed) true.
func (e *EventError) Is(target error) bool { return target == ErrFailed }

// DecodeError reports an event whose payload a projector could not decode.
// It names the position, so the failure recorded by the runner does too.
type DecodeError struct {
	Position events.Position
	Type     string
	Err      error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("projections: cannot decode %s payload at position %d: %v", e.Type, e.Position, e.Err)
}

// Unwrap returns the decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDecode) true.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// ActiveRunnerError names the runner that holds the lease.
type ActiveRunnerError struct {
	Lease Lease
	// Age is how old the lease's heartbeat was when it was checked.
	Age time.Duration
}

// Error implements error.
func (e *ActiveRunnerError) Error() string {
	return fmt.Sprintf("projections: runner %s (pid %d on %s, heartbeat %s ago) is active on this read-model database",
		e.Lease.Owner, e.Lease.PID, e.Lease.Host, e.Age.Round(time.Millisecond))
}

// Is makes errors.Is(err, ErrRunnerActive) true.
func (e *ActiveRunnerError) Is(target error) bool { return target == ErrRunnerActive }
