package projections

import (
	"database/sql"
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

func TestParseTime(t *testing.T) {
	stored := time.Date(2026, 5, 1, 12, 0, 1, 5, time.UTC)
	tests := []struct {
		name    string
		in      sql.NullString
		want    time.Time
		wantErr bool
	}{
		{"NULL", sql.NullString{}, time.Time{}, false},
		{"NULL with stale text", sql.NullString{String: "garbage"}, time.Time{}, false},
		{"empty", sql.NullString{Valid: true}, time.Time{}, false},
		{"stored layout", sql.NullString{String: FormatTime(stored), Valid: true}, stored, false},
		{"zero time round-trips", sql.NullString{String: FormatTime(time.Time{}), Valid: true}, time.Time{}, false},
		{"RFC 3339 without nanoseconds", sql.NullString{String: "2026-05-01T12:00:01Z", Valid: true}, time.Time{}, true},
		{"offset instead of Z", sql.NullString{String: "2026-05-01T12:00:01.000000005+01:00", Valid: true}, time.Time{}, true},
		{"garbage", sql.NullString{String: "yesterday", Valid: true}, time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseNullTime(tt.in)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("ParseNullTime(%s): %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
		if !tt.in.Valid {
			continue
		}
		got, err = ParseTime(tt.in.String)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%s): %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
		if tt.wantErr {
			if _, want := time.Parse(TimeLayout, tt.in.String); err == nil || want == nil || err.Error() != want.Error() {
				t.Errorf("ParseTime(%s) error %v, want the time package's %v", tt.name, err, want)
			}
			continue
		}
		if got.Location() != time.UTC {
			t.Errorf("ParseTime(%s): location %v, want UTC", tt.name, got.Location())
		}
	}
}
