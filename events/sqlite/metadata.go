package sqlite

import (
	"time"

	"github.com/hanse-network/hanse/events"
)

// decodeMetadata is events.DecodeMetadata with a fast path for the form
// events.EncodeMetadata writes: a flat object of the known keys without
// white space whose strings need no unescaping. Anything else (escapes,
// unknown keys, null, white space) goes to encoding/json, so the result is
// always what events.DecodeMetadata gives. Reading the log spends most of
// its time here otherwise.
// Repeating strings (actor, origin) are shared through in, which may be nil.
func decodeMetadata(b []byte, in interner) (events.Metadata, error) {
	if m, ok := fastMetadata(b, in); ok {
		return m, nil
	}
	return events.DecodeMetadata(b)
}

func fastMetadata(b []byte, in interner) (m events.Metadata, ok bool) {
	n := len(b)
	if n < 2 || b[0] != '{' || b[n-1] != '}' {
		return m, false
	}
	if n == 2 {
		return m, true
	}
	i := 1
	for {
		key, next, ok := quoted(b, i)
		if !ok || next >= n || b[next] != ':' {
			return m, false
		}
		i = next + 1
		if string(key) == "schemaVersion" {
			v, next, ok := integer(b, i)
			if !ok {
				return m, false
			}
			m.SchemaVersion, i = v, next
		} else {
			val, next, ok := quoted(b, i)
			if !ok {
				return m, false
			}
			i = next
			switch string(key) {
			case "$correlationId":
				m.CorrelationID = string(val)
			case "$causationId":
				m.CausationID = string(val)
			case "actor":
				m.Actor = in.get(val)
			case "origin":
				m.Origin = in.get(val)
			case "occurredAt":
				t, err := time.Parse(time.RFC3339Nano, string(val))
				if err != nil {
					return m, false
				}
				m.OccurredAt = t
			default:
				return m, false
			}
		}
		switch {
		case i == n-1:
			return m, true
		case i < n-1 && b[i] == ',':
			i++
		default:
			return m, false
		}
	}
}

// quoted reads a JSON string without escapes starting at b[i] == '"'.
func quoted(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, 0, false // escapes and non-ASCII: let encoding/json decide
		}
	}
	return nil, 0, false
}

// integer reads a JSON integer of at most 9 digits starting at b[i].
func integer(b []byte, i int) (v, next int, ok bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 10 {
		v = v*10 + int(b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 9 || (digits > 1 && b[start] == '0') {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, 0, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}
