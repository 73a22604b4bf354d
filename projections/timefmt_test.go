package projections

import (
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

func TestTimeHelpers(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	occurred := time.Date(2026, 5, 1, 13, 0, 0, 5, berlin)
	recorded := time.Date(2026, 5, 1, 12, 0, 1, 0, time.UTC)
	tests := []struct {
		name string
		e    events.Envelope
		want string
	}{
		{"occurred-at wins", events.Envelope{Metadata: events.Metadata{OccurredAt: occurred}, RecordedAt: recorded}, "2026-05-01T12:00:00.000000005Z"},
		{"recorded-at without one", events.Envelope{RecordedAt: recorded}, "2026-05-01T12:00:01.000000000Z"},
	}
	for _, tt := range tests {
		if got := FormatTime(OccurredAt(tt.e)); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if FormatTime(recorded) >= FormatTime(recorded.Add(time.Nanosecond)) {
		t.Error("stored times do not sort as text")
	}
}
