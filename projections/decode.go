package projections

import (
	"encoding/json"

	"github.com/hanse-network/hanse/events"
)

// DecodeJSON decodes e's JSON payload into v. Malformed JSON, or JSON that
// does not fit v, gives a *DecodeError naming the position. Unknown fields
// are ignored, since payloads may grow.
func DecodeJSON(e events.Envelope, v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return &DecodeError{Position: e.Position, Type: e.Type, Err: err}
	}
	return nil
}

// DecodeRegistered decodes e's payload with a type registry (upcasting old
// schema versions). Any failure, including an unregistered type, gives a
// *DecodeError naming the position.
func DecodeRegistered(r *events.Registry, e events.Envelope) (any, error) {
	v, err := r.Decode(e)
	if err != nil {
		return nil, &DecodeError{Position: e.Position, Type: e.Type, Err: err}
	}
	return v, nil
}
