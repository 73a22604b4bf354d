package esdb

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hanse-network/hanse/events"
)

// The client library and the server report the actual stream state only in
// messages; these are the formats of EventStore-Client-Go v4.2.0 and of
// EventStoreDB 20.x to 24.x.
func TestParseActualState(t *testing.T) {
	at := func(rev uint64) events.StreamState { return events.StreamState{Exists: true, Revision: rev} }
	appends := []struct {
		msg  string
		want events.StreamState
		ok   bool
	}{
		{"wrong expected version: expecting '5' but got '1'", at(1), true},
		{"wrong expected version: expecting 'stream_exists' but got 'no_stream'", events.StreamState{}, true},
		{"wrong expected version: expecting 'any' but got '12345678901'", at(12345678901), true},
		{"wrong expected version: expecting 'no_stream' but got 'garbage'", events.StreamState{}, false},
		{"something else", events.StreamState{}, false},
	}
	for _, tc := range appends {
		got, ok := parseAppendActual(fmt.Errorf("[ErrorCodeWrongExpectedVersion] x: %w", errors.New(tc.msg)))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseAppendActual(%q) = %v %v, want %v %v", tc.msg, got, ok, tc.want, tc.ok)
		}
	}
	deletes := []struct {
		code     codes.Code
		msg      string
		want     events.StreamState
		ok, isWV bool
	}{
		{codes.FailedPrecondition, "Delete failed due to WrongExpectedVersion. Stream: s-1, Expected version: 4, Actual version: 0", at(0), true, true},
		{codes.FailedPrecondition, "Delete failed due to WrongExpectedVersion. Stream: s-1, Expected version: -2, Actual version: -1", events.StreamState{}, true, true},
		{codes.FailedPrecondition, "Append failed due to WrongExpectedVersion. Stream: a b, Expected version: 1, Actual version: 7", at(7), true, true},
		{codes.FailedPrecondition, "Delete failed due to WrongExpectedVersion. Stream: s, Expected version: 1, Actual version: ", events.StreamState{}, false, true},
		{codes.FailedPrecondition, "Event stream 's' is deleted.", events.StreamState{}, false, false},
		{codes.Unavailable, "WrongExpectedVersion. Actual version: 3", events.StreamState{}, false, false},
	}
	for _, tc := range deletes {
		got, ok, isWV := parseDeleteActual(status.New(tc.code, tc.msg))
		if got != tc.want || ok != tc.ok || isWV != tc.isWV {
			t.Errorf("parseDeleteActual(%v %q) = %v %v %v, want %v %v %v", tc.code, tc.msg, got, ok, isWV, tc.want, tc.ok, tc.isWV)
		}
	}
}
