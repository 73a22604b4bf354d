package app

import (
	"errors"
	"fmt"

	"github.com/hanse-network/hanse/events"
)

// retryConflicts runs attempt (one load, decide and append with the
// expected revision) again while its append meets a concurrent write
// (events.ErrWrongExpectedRevision), at most MaxConflictRetries times
// more. After the last attempt the conflict is ErrConflict, naming what
// ("actor <id>"). attempt must return the store's conflict error as it is
// (wrapped or not), and may wrap any other error as it likes.
func retryConflicts[T any](what string, attempt func() (T, error)) (T, error) {
	for n := 1; ; n++ {
		v, err := attempt()
		if !errors.Is(err, events.ErrWrongExpectedRevision) || errors.Is(err, ErrConflict) {
			return v, err // done, failed otherwise, or a nested command gave up
		}
		if n > MaxConflictRetries {
			var zero T
			return zero, fmt.Errorf("%w: %s after %d attempts: %w", ErrConflict, what, n, err)
		}
	}
}

// appended returns the position of an append, or its error: a conflict
// (events.ErrWrongExpectedRevision) as it is, for retryConflicts, any
// other as "app: <doing>: err".
func appended(res events.AppendResult, err error, doing string) (events.Position, error) {
	switch {
	case err == nil:
		return res.Position, nil
	case errors.Is(err, events.ErrWrongExpectedRevision):
		return 0, err
	}
	return 0, fmt.Errorf("app: %s: %w", doing, err)
}
