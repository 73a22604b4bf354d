package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hanse-network/hanse/events"
)

// esdbCode extracts the client library's error code from err's chain.
func esdbCode(err error) (esdb.ErrorCode, bool) {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

// grpcStatus extracts the gRPC status the server answered with, if any.
func grpcStatus(err error) (*status.Status, bool) {
	var g interface{ GRPCStatus() *status.Status }
	if errors.As(err, &g) {
		if st := g.GRPCStatus(); st != nil {
			return st, true
		}
	}
	return nil, false
}

// mapErr turns errors common to all operations into the contract's errors.
func (s *Store) mapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, events.ErrClosed) {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if code, ok := esdbCode(err); ok {
		switch code {
		case esdb.ErrorCodeResourceNotFound:
			return fmt.Errorf("esdb: %s: %w", op, events.ErrStreamNotFound)
		case esdb.ErrorCodeStreamDeleted:
			return fmt.Errorf("esdb: %s: %w", op, events.ErrStreamDeleted)
		}
	}
	if s.isClosed() {
		return fmt.Errorf("esdb: %s: %w (%v)", op, events.ErrClosed, err)
	}
	if st, ok := grpcStatus(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.Canceled:
			return fmt.Errorf("esdb: %s: %w: %w", op, ErrUnavailable, err)
		}
	}
	if code, ok := esdbCode(err); ok {
		switch code {
		case esdb.ErrorUnavailable, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorCodeConnectionClosed, esdb.ErrorAborted:
			return fmt.Errorf("esdb: %s: %w: %w", op, ErrUnavailable, err)
		}
	}
	if errors.Is(err, io.EOF) {
		// gRPC reports a stream cut while the client was still sending (a
		// lost connection during an append) as io.EOF.
		return fmt.Errorf("esdb: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("esdb: %s: %w", op, err)
}

// The client library keeps the server's wrong-expected-version answer only
// in its message: "wrong expected version: expecting '…' but got '…'",
// where the actual state is "no_stream" or a revision.
var appendActualRE = regexp.MustCompile(`but got '([^']*)'`)

func parseAppendActual(err error) (events.StreamState, bool) {
	m := appendActualRE.FindStringSubmatch(err.Error())
	if m == nil {
		return events.StreamState{}, false
	}
	return parseActual(m[1])
}

// Delete and Tombstone answer a wrong expected version with a
// FailedPrecondition status: "… failed due to WrongExpectedVersion. Stream:
// s, Expected version: e, Actual version: a" (a = -1 for no stream).
var deleteActualRE = regexp.MustCompile(`WrongExpectedVersion\..*Actual version: (-?\d*)`)

func parseDeleteActual(st *status.Status) (events.StreamState, bool, bool) {
	if st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "WrongExpectedVersion") {
		return events.StreamState{}, false, false
	}
	m := deleteActualRE.FindStringSubmatch(st.Message())
	if m == nil {
		return events.StreamState{}, false, true
	}
	state, ok := parseActual(m[1])
	return state, ok, true
}

func parseActual(s string) (events.StreamState, bool) {
	switch s {
	case "no_stream", "-1":
		return events.StreamState{}, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return events.StreamState{}, false
	}
	return events.StreamState{Exists: true, Revision: n}, true
}

// appendError maps a failed append.
func (s *Store) appendError(ctx context.Context, stream string, expected events.ExpectedRevision, evs []events.EventData, err error) error {
	if errors.Is(err, events.ErrClosed) {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	code, _ := esdbCode(err)
	switch code {
	case esdb.ErrorCodeWrongExpectedVersion:
		actual, ok := parseAppendActual(err)
		if !ok {
			actual, ok = s.streamState(ctx, stream)
		}
		if !ok {
			return fmt.Errorf("esdb: append to %q: %w (actual state unknown: %v)", stream, events.ErrWrongExpectedRevision, err)
		}
		return s.conflict(ctx, stream, expected, evs, actual)
	case esdb.ErrorCodeStreamDeleted:
		if expected.IsStreamExists() {
			// EventStoreDB answers StreamDeleted when StreamExists meets a
			// soft-deleted stream; only a tombstone is ErrStreamDeleted.
			if actual, ok := s.softDeletedState(ctx, stream); ok {
				return &events.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: actual}
			}
		}
		return fmt.Errorf("esdb: append to %q: %w", stream, events.ErrStreamDeleted)
	}
	if st, ok := grpcStatus(err); ok && st.Code() == codes.InvalidArgument &&
		strings.Contains(st.Message(), "Maximum Append Size") {
		return fmt.Errorf("esdb: append to %q: %w: %s", stream, events.ErrAppendTooLarge, st.Message())
	}
	return s.mapErr(ctx, fmt.Sprintf("append to %q", stream), err)
}

// conflict classifies a wrong-expected-version answer. EventStoreDB also
// answers so when an append repeats some but not all event ids of an earlier
// one ("corrupted idempotency"), which the contract calls
// ErrIdempotencyConflict.
func (s *Store) conflict(ctx context.Context, stream string, expected events.ExpectedRevision, evs []events.EventData, actual events.StreamState) error {
	idConflict := fmt.Errorf("esdb: append to %q: %w", stream, events.ErrIdempotencyConflict)
	switch {
	case expected.IsAny():
		// Any never fails its condition; only the idempotency check can.
		return idConflict
	case expected.IsStreamExists() && actual.Exists:
		return idConflict
	}
	wrong := &events.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: actual}
	// For NoStream and Exact the server compared the ids with the events
	// following the expected revision.
	var from uint64
	if rev, ok := expected.ExactRevision(); ok {
		from = rev + 1
	}
	if !actual.Exists || actual.Revision < from {
		return wrong
	}
	existing, err := s.readStream(ctx, stream, esdb.Forwards, esdb.Revision(from), uint64(len(evs)))
	if err != nil {
		return wrong
	}
	ids := make(map[events.UUID]bool, len(evs))
	for _, e := range evs {
		ids[e.ID] = true
	}
	for _, e := range existing {
		if ids[e.ID] {
			return idConflict
		}
	}
	return wrong
}

// streamState reads a stream's current state.
func (s *Store) streamState(ctx context.Context, stream string) (events.StreamState, bool) {
	last, err := s.readStream(ctx, stream, esdb.Backwards, esdb.End{}, 1)
	switch {
	case errors.Is(err, events.ErrStreamNotFound):
		return events.StreamState{}, true
	case err != nil || len(last) == 0:
		return events.StreamState{}, false
	}
	return events.StreamState{Exists: true, Revision: last[0].Revision}, true
}

// softDeletedState reports the state of a stream that is soft-deleted (not
// tombstoned): it has no events for readers.
func (s *Store) softDeletedState(ctx context.Context, stream string) (events.StreamState, bool) {
	_, err := s.readStream(ctx, stream, esdb.Backwards, esdb.End{}, 1)
	if errors.Is(err, events.ErrStreamNotFound) {
		return events.StreamState{}, true
	}
	return events.StreamState{}, false
}

// deleteError maps a failed DeleteStream or TombstoneStream.
func (s *Store) deleteError(ctx context.Context, op, stream string, expected events.ExpectedRevision, err error) error {
	if errors.Is(err, events.ErrClosed) {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if code, _ := esdbCode(err); code == esdb.ErrorCodeStreamDeleted {
		if expected.IsStreamExists() {
			if actual, ok := s.softDeletedState(ctx, stream); ok {
				return &events.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: actual}
			}
		}
		return fmt.Errorf("esdb: %s %q: %w", op, stream, events.ErrStreamDeleted)
	}
	if st, ok := grpcStatus(err); ok {
		if actual, ok, wev := parseDeleteActual(st); wev {
			if !ok {
				actual, ok = s.streamState(ctx, stream)
			}
			if !ok {
				return fmt.Errorf("esdb: %s %q: %w (actual state unknown)", op, stream, events.ErrWrongExpectedRevision)
			}
			return &events.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: actual}
		}
	}
	return s.mapErr(ctx, fmt.Sprintf("%s %q", op, stream), err)
}
