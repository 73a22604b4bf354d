package app

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hanse-network/hanse/events"
)

func TestRetryConflicts(t *testing.T) {
	conflict := &events.WrongExpectedRevisionError{Stream: "s-1"}
	other := errors.New("disk full")
	nested := fmt.Errorf("%w: inner after 4 attempts: %w", ErrConflict, conflict)
	for _, tc := range []struct {
		name      string
		errs      []error // attempt n returns errs[n-1]; past the end, nil
		wantCalls int
		wantErr   error
		wantPos   events.Position
	}{
		{"first attempt", nil, 1, nil, 7},
		{"conflicts then success", []error{conflict, conflict}, 3, nil, 7},
		{"last retry succeeds", []error{conflict, conflict, conflict}, MaxConflictRetries + 1, nil, 7},
		{"gives up", []error{conflict, conflict, conflict, conflict, conflict}, MaxConflictRetries + 1, ErrConflict, 0},
		{"other error", []error{conflict, other}, 2, other, 0},
		{"nested give-up is not retried", []error{nested}, 1, ErrConflict, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			pos, err := retryConflicts("thing 1", func() (events.Position, error) {
				calls++
				if calls <= len(tc.errs) && tc.errs[calls-1] != nil {
					return 0, tc.errs[calls-1]
				}
				return 7, nil
			})
			if calls != tc.wantCalls || pos != tc.wantPos || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("%d calls, %d, %v; want %d calls, %d, %v", calls, pos, err, tc.wantCalls, tc.wantPos, tc.wantErr)
			}
			if tc.name == "gives up" {
				want := fmt.Sprintf("%v: thing 1 after %d attempts: %v", ErrConflict, MaxConflictRetries+1, conflict)
				if err.Error() != want || !errors.Is(err, events.ErrWrongExpectedRevision) {
					t.Fatalf("error %q, want %q wrapping the store's", err, want)
				}
			}
		})
	}
}

func TestAppended(t *testing.T) {
	conflict := &events.WrongExpectedRevisionError{Stream: "s-1"}
	if pos, err := appended(events.AppendResult{Position: 9}, nil, "x"); pos != 9 || err != nil {
		t.Fatalf("success: %d %v", pos, err)
	}
	if pos, err := appended(events.AppendResult{Position: 9}, conflict, "x"); pos != 0 || err != error(conflict) {
		t.Fatalf("conflict: %d %v", pos, err)
	}
	other := errors.New("disk full")
	if pos, err := appended(events.AppendResult{Position: 9}, other, "append to thing 1"); pos != 0 ||
		!errors.Is(err, other) || err.Error() != "app: append to thing 1: disk full" {
		t.Fatalf("failure: %d %v", pos, err)
	}
}
