package as2

import "errors"

// Sentinel errors. Decode and Encode wrap them with detail; test them with
// errors.Is.
var (
	// ErrTooLarge: the document exceeds Limits.MaxBytes.
	ErrTooLarge = errors.New("as2: document too large")
	// ErrTooDeep: the document nests objects/arrays deeper than
	// Limits.MaxDepth (or an object to encode is nested that deep, e.g. a
	// cycle).
	ErrTooDeep = errors.New("as2: document nested too deeply")
	// ErrMalformed: the input is not JSON, or its top level is not a JSON
	// object.
	ErrMalformed = errors.New("as2: malformed document")
	// ErrNotActivityStreams: the top-level object has no type, so it is not
	// an ActivityStreams document (a WebFinger JRD, a NodeInfo document…).
	ErrNotActivityStreams = errors.New("as2: not an ActivityStreams document (no type)")
	// ErrInvalidID: Validate found a missing or non-absolute id.
	ErrInvalidID = errors.New("as2: invalid id")
	// ErrInvalidObject: Encode was given an object it cannot write (no
	// type, invalid verbatim JSON).
	ErrInvalidObject = errors.New("as2: invalid object")
)
