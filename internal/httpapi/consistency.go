package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

// Read-your-writes: every write answers with the global position of its
// last event; a client that wants to read its own write passes that
// position back on the read, and the read waits (bounded) until the
// projection that serves it has applied it.
const (
	// MinPositionHeader carries the position a read must reflect.
	MinPositionHeader = "Hanse-Min-Position"
	// MinPositionParam is the same as a query parameter.
	MinPositionParam = "min_position"
	// DefaultConsistencyWait bounds how long a read waits for a projection.
	DefaultConsistencyWait = 5 * time.Second
	// CodeNotCaughtUp: the projection did not reach the position in time.
	CodeNotCaughtUp = "not_caught_up"
)

// PositionWaiter blocks until the named projection has applied pos; the
// projections runner implements it.
type PositionWaiter interface {
	WaitFor(ctx context.Context, projection string, pos events.Position) error
}

// AwaitPosition makes the handlers it wraps honour MinPositionHeader or
// MinPositionParam: the request waits up to maxWait (DefaultConsistencyWait
// when 0) for projection to reach that position, then proceeds. A position
// that is not a number is a 400; one not reached in time, or a projection
// that failed before reaching it, a 503 with Retry-After. Requests without
// a position are not delayed.
func AwaitPosition(waiter PositionWaiter, projection string, maxWait time.Duration) func(http.Handler) http.Handler {
	if maxWait <= 0 {
		maxWait = DefaultConsistencyWait
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pos, ok, err := minPosition(r)
			if err != nil {
				WriteError(w, r, http.StatusBadRequest, CodeBadRequest, err.Error())
				return
			}
			if ok {
				ctx, cancel := context.WithTimeout(r.Context(), maxWait)
				err := waiter.WaitFor(ctx, projection, pos)
				cancel()
				if err != nil {
					if r.Context().Err() != nil {
						return // the client has gone
					}
					w.Header().Set("Retry-After", "1")
					msg := fmt.Sprintf("the %s read model has not reached position %d within %s", projection, pos, maxWait)
					if errors.Is(err, projections.ErrFailed) {
						msg = fmt.Sprintf("the %s read model stopped before position %d: %v", projection, pos, err)
					}
					WriteError(w, r, http.StatusServiceUnavailable, CodeNotCaughtUp, msg)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// minPosition reads the requested position from the header or the query.
func minPosition(r *http.Request) (events.Position, bool, error) {
	raw := r.Header.Get(MinPositionHeader)
	name := MinPositionHeader
	if q := r.URL.Query().Get(MinPositionParam); q != "" {
		raw, name = q, MinPositionParam
	}
	if raw == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s must be a global position (a non-negative integer), got %q", name, raw)
	}
	return events.Position(n), true, nil
}
