package projections

import (
	"database/sql"
	"time"

	"github.com/hanse-network/hanse/events"
)

// TimeLayout is how read models store times: fixed-width UTC text with
// nanoseconds, so that stored times sort as text.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime renders t in TimeLayout (in UTC).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a time stored in TimeLayout (as FormatTime wrote it).
// The empty string gives the zero time; any other text that is not in
// TimeLayout gives the time package's parse error.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(TimeLayout, s)
}

// ParseNullTime reads a nullable time column stored in TimeLayout: NULL
// or the empty string gives the zero time, anything else is parsed as by
// ParseTime.
func ParseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return ParseTime(s.String)
}

// OccurredAt is when an event's fact happened: the writer's occurred-at,
// or the store's recorded-at for events written without one. Both are in
// the log, so a rebuild gives the same times.
func OccurredAt(e events.Envelope) time.Time {
	if !e.Metadata.OccurredAt.IsZero() {
		return e.Metadata.OccurredAt
	}
	return e.RecordedAt
}
