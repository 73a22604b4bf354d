package personal

import (
	"encoding/json"
	"errors"
	"strings"
)

// ErrErased: the subject's data key was destroyed; the text is gone for
// good. Read models show such a field as empty.
var ErrErased = errors.New("personal: the data was erased")

// ErrMalformed: a Text that cannot be opened because it is not a sealed
// value of any known format.
var ErrMalformed = errors.New("personal: malformed sealed text")

// Text is a personal field inside an event: the ciphertext of a UTF-8
// string under the data key of Subject. Subject is a local account id or
// a remote actor IRI. The zero Text stands for "no value".
type Text struct {
	// Subject is whose data key sealed the text.
	Subject string `json:"subject,omitempty"`
	// Sealed is the opaque ciphertext (format owned by the Sealer).
	Sealed []byte `json:"sealed,omitempty"`
}

// IsZero reports whether t carries no value.
func (t Text) IsZero() bool { return len(t.Sealed) == 0 }

// Sealer seals plaintext under a subject's data key, creating the key on
// first use. Implementations are safe for concurrent use.
type Sealer interface {
	// Seal returns the sealed form of plaintext; an empty plaintext gives
	// the zero Text.
	Seal(subject, plaintext string) (Text, error)
}

// Opener opens sealed texts. It returns ErrErased when the subject's key
// was destroyed, and "" for the zero Text.
type Opener interface {
	Open(t Text) (string, error)
}

// Cipher is both.
type Cipher interface {
	Sealer
	Opener
}

// OpenOrEmpty opens t and maps an erased subject to "" (the way read
// models show erased data). Other errors are returned.
func OpenOrEmpty(o Opener, t Text) (string, error) {
	s, err := o.Open(t)
	if errors.Is(err, ErrErased) {
		return "", nil
	}
	return s, err
}

// SealJSON seals the JSON encoding of v (for a group of personal fields
// kept together, such as a post's content in several languages).
func SealJSON(s Sealer, subject string, v any) (Text, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Text{}, err
	}
	return s.Seal(subject, string(b))
}

// OpenJSON opens t into v. An erased subject or a zero Text leaves v
// untouched and returns ErrErased or nil respectively.
func OpenJSON(o Opener, t Text, v any) error {
	if t.IsZero() {
		return nil
	}
	s, err := o.Open(t)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), v)
}

// Plain is a Cipher for tests of pure code: it "seals" by prefixing the
// subject, so sealed values are readable in test failures. Erased lists
// subjects whose texts open as ErrErased. Never use it outside tests.
type Plain struct {
	Erased map[string]bool
}

const plainPrefix = "plain:"

// Seal implements Sealer.
func (p Plain) Seal(subject, plaintext string) (Text, error) {
	if plaintext == "" {
		return Text{}, nil
	}
	return Text{Subject: subject, Sealed: []byte(plainPrefix + plaintext)}, nil
}

// Open implements Opener.
func (p Plain) Open(t Text) (string, error) {
	if t.IsZero() {
		return "", nil
	}
	if p.Erased[t.Subject] {
		return "", ErrErased
	}
	s, ok := strings.CutPrefix(string(t.Sealed), plainPrefix)
	if !ok {
		return "", ErrMalformed
	}
	return s, nil
}
