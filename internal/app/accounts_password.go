package app

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits, in characters.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// PasswordParams are the argon2id cost parameters of new password hashes.
// Stored hashes carry their own parameters (PHC string), so raising the
// cost later keeps old hashes valid.
type PasswordParams struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultPasswordParams is OWASP's minimum for argon2id (Password Storage
// Cheat Sheet): 19 MiB of memory, 2 passes, parallelism 1.
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	passwordSaltLen = 16
	passwordKeyLen  = 32
	// Bounds of the parameters a stored hash may ask for, so that a
	// corrupt hash cannot make a sign-in allocate gigabytes.
	maxPasswordMemory  = 1 << 20 // KiB: 1 GiB
	maxPasswordTime    = 16
	maxPasswordThreads = 16
)

// errBadAccountPasswordHash: a stored hash that is not an argon2id PHC string.
var errBadAccountPasswordHash = errors.New("app: malformed password hash")

// ValidateAccountPassword validates a new password: 10 to 128 characters of valid
// UTF-8. It returns a *ValidationError on field "password".
func ValidateAccountPassword(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password):
		return &ValidationError{Field: "password", Reason: "must be valid UTF-8"}
	case n < MinPasswordLen:
		return &ValidationError{Field: "password", Reason: fmt.Sprintf("must be at least %d characters", MinPasswordLen)}
	case n > MaxPasswordLen:
		return &ValidationError{Field: "password", Reason: fmt.Sprintf("must be at most %d characters", MaxPasswordLen)}
	}
	return nil
}

// HashAccountPassword hashes password with argon2id and a random salt, as a PHC
// string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded base64).
func HashAccountPassword(password string, p PasswordParams) (string, error) {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return "", errors.New("app: password parameters must not be zero")
	}
	salt := make([]byte, passwordSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("app: password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, passwordKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyAccountPassword reports whether password matches the PHC string hash,
// comparing in constant time. A malformed hash is an error.
func VerifyAccountPassword(hash, password string) (bool, error) {
	p, salt, want, err := parseAccountPasswordHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parseAccountPasswordHash(hash string) (PasswordParams, []byte, []byte, error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return PasswordParams{}, nil, nil, errBadAccountPasswordHash
	}
	var p PasswordParams
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return PasswordParams{}, nil, nil, errBadAccountPasswordHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > maxPasswordThreads {
				return PasswordParams{}, nil, nil, errBadAccountPasswordHash
			}
			p.Threads = uint8(n)
		default:
			return PasswordParams{}, nil, nil, errBadAccountPasswordHash
		}
	}
	if p.Memory == 0 || p.Memory > maxPasswordMemory || p.Time == 0 || p.Time > maxPasswordTime || p.Threads == 0 {
		return PasswordParams{}, nil, nil, errBadAccountPasswordHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return PasswordParams{}, nil, nil, errBadAccountPasswordHash
	}
	return p, salt, key, nil
}

// GenerateAccountPassword returns a random password of 24 characters from an
// alphabet without look-alikes (about 137 bits), for accounts an
// administrator creates without one.
func GenerateAccountPassword() (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	const n = 24
	b := make([]byte, n)
	// Rejection sampling: bytes ≥ 228 (4 × 57) would bias the choice.
	limit := byte(256 / len(alphabet) * len(alphabet))
	buf := make([]byte, 64)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("app: generate password: %w", err)
		}
		for _, c := range buf {
			if c < limit && i < n {
				b[i] = alphabet[int(c)%len(alphabet)]
				i++
			}
		}
	}
	return string(b), nil
}
