package httpsig

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped, with detail) by Verifier.Verify. Test
// them with errors.Is. The inbox answers 401 Unauthorized for every one of
// them; see the package documentation.
var (
	// ErrNoSignature: the request carries neither Signature-Input (RFC 9421)
	// nor a draft-cavage Signature or "Authorization: Signature" header.
	ErrNoSignature = errors.New("httpsig: no signature")
	// ErrMalformed: a signature header, parameter or covered value cannot be
	// parsed (bad syntax, duplicated parameter, bad base64, unparsable Date…).
	ErrMalformed = errors.New("httpsig: malformed signature")
	// ErrUnknownAlgorithm: the algorithm is not supported, or does not fit the
	// type of the signer's key.
	ErrUnknownAlgorithm = errors.New("httpsig: unknown algorithm")
	// ErrKeyNotFound: the key resolver could not produce a usable key for the
	// key id (the resolver's own error is wrapped as well).
	ErrKeyNotFound = errors.New("httpsig: key not found")
	// ErrBadSignature: the signature does not verify with the key over this
	// request.
	ErrBadSignature = errors.New("httpsig: bad signature")
	// ErrDigestMismatch: the Digest or Content-Digest header does not match
	// the body, or names no supported algorithm (SHA-256, SHA-512).
	ErrDigestMismatch = errors.New("httpsig: digest mismatch")
	// ErrMissingComponent: the signature does not cover a component the
	// policy requires, or a covered header is absent from the request.
	ErrMissingComponent = errors.New("httpsig: missing required component")
	// ErrOutsideWindow: Date or created is too old or too far in the future,
	// or the signature has expired.
	ErrOutsideWindow = errors.New("httpsig: outside time window")
)

// fail wraps kind with a formatted detail; errors.Is(err, kind) holds, and so
// does errors.Is for any error passed with %w in format.
func fail(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %w", kind, fmt.Errorf(format, args...))
}
