package projections

import (
	"time"

	"github.com/hanse-network/hanse/events"
)

// TimeLayout is how read models store times: fixed-width UTC text with
// nanoseconds, so that stored times sort as text.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime renders t in TimeLayout (in UTC).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// OccurredAt is when an event's fact happened: the writer's occurred-at,
// or the store's recorded-at for events written without one. Both are in
// the log, so a rebuild gives the same times.
func OccurredAt(e events.Envelope) time.Time {
	if !e.Metadata.OccurredAt.IsZero() {
		return e.Metadata.OccurredAt
	}
	return e.RecordedAt
}
