package events

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// UUID is an RFC 9562 universally unique identifier used for event ids.
type UUID [16]byte

// NilUUID is the all-zero UUID; it is never a valid event id.
var NilUUID UUID

// NewUUID returns a time-ordered (version 7, RFC 9562) UUID: 48 bits of
// Unix milliseconds followed by random bits. Ids made one after another sort
// together, so the stores' id indexes grow at their end instead of touching
// a random page per event.
func NewUUID() UUID {
	var u UUID
	if _, err := rand.Read(u[6:]); err != nil {
		panic(fmt.Sprintf("events: crypto/rand failed: %v", err))
	}
	ms := uint64(time.Now().UnixMilli())
	u[0], u[1], u[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	u[3], u[4], u[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = (u[6] & 0x0f) | 0x70
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// ErrInvalidUUID is returned by ParseUUID for text that is not a UUID.
var ErrInvalidUUID = errors.New("events: invalid UUID")

// ParseUUID parses the canonical 8-4-4-4-12 hexadecimal form.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("%w: %q", ErrInvalidUUID, s)
	}
	hexText := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(hexText)); err != nil {
		return NilUUID, fmt.Errorf("%w: %q", ErrInvalidUUID, s)
	}
	return u, nil
}

// MustParseUUID is ParseUUID for constants in tests; it panics on bad input.
func MustParseUUID(s string) UUID {
	u, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

// String returns the canonical lower-case 8-4-4-4-12 form.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// IsZero reports whether u is the nil UUID.
func (u UUID) IsZero() bool { return u == NilUUID }

// MarshalText implements encoding.TextMarshaler.
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *UUID) UnmarshalText(b []byte) error {
	parsed, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = parsed
	return nil
}

// DerivedUUID returns a UUID determined by its parts (RFC 9562 version 8,
// from SHA-256). Commands caused by something that may be processed twice
// — an inbox activity seen again by a reactor, a retried request — derive
// their event ids from what caused them, so the second append is the
// idempotent no-op the store contract promises.
func DerivedUUID(parts ...string) UUID {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed, so ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	var u UUID
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x80
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}
