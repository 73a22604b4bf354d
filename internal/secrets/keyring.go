package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the size of the master key in bytes (AES-256).
const KeySize = 32

// EnvMasterKey is the environment variable that may carry the master key,
// base64-encoded.
const EnvMasterKey = "HANSE_MASTER_KEY"

// Dir and File locate the master key file inside the data directory:
// <data-dir>/secrets/master.key.
const (
	Dir  = "secrets"
	File = "master.key"
)

// Version1 is the first byte of a value sealed with the current scheme:
// AES-256-GCM with a random 96-bit nonce.
const Version1 byte = 1

const (
	keyIDSize  = 4
	nonceSize  = 12
	headerSize = 1 + keyIDSize
	// Overhead is the number of bytes Seal adds to the plaintext.
	Overhead = headerSize + nonceSize + 16
)

// Errors of the keyring. Wrapped errors carry the details.
var (
	// ErrInvalidKey: the master key (file or environment) is not 32 bytes
	// or not valid base64.
	ErrInvalidKey = errors.New("secrets: invalid master key")
	// ErrInsecureKeyFile: the key file or its directory is accessible to
	// group or others.
	ErrInsecureKeyFile = errors.New("secrets: master key file is accessible to other users")
	// ErrMalformed: the sealed value is too short or of an unknown version.
	ErrMalformed = errors.New("secrets: malformed sealed value")
	// ErrWrongKey: the value was sealed with another master key.
	ErrWrongKey = errors.New("secrets: sealed with a different master key")
	// ErrOpen: authentication failed: the value was altered or the
	// additional data differs from the one it was sealed with.
	ErrOpen = errors.New("secrets: cannot open sealed value (tampered, or wrong additional data)")
)

// Keyring seals and opens secrets with the instance's master key. It is
// safe for concurrent use.
type Keyring struct {
	aead   cipher.AEAD
	keyID  [keyIDSize]byte
	source string
	// prk is the HKDF pseudorandom key extracted from the master key, the
	// root of DeriveKey.
	prk []byte
}

// NewKeyring returns a keyring over a 32-byte master key.
func NewKeyring(key []byte) (*Keyring, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidKey, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	k := &Keyring{aead: aead, source: "memory"}
	// The key id only tells keys apart (a clear error for a wrong key); it
	// is a domain-separated hash, so it reveals nothing usable of the key.
	sum := sha256.Sum256(append([]byte("hanse master key id\x00"), key...))
	copy(k.keyID[:], sum[:keyIDSize])
	if k.prk, err = hkdf.Extract(sha256.New, key, []byte(deriveSalt)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return k, nil
}

// deriveSalt is the HKDF salt of DeriveKey: it separates Hanse's derived
// keys from any other use of the same master key.
const deriveSalt = "hanse master key derivation v1"

// DerivedKeySize is the length of the keys DeriveKey returns.
const DerivedKeySize = 32

// DeriveKey returns a 32-byte key for purpose (for example
// "account-email-digest"), derived from the master key with HKDF-SHA-256
// (RFC 5869; purpose is the info string). The same master key and purpose
// always give the same key; different purposes give independent keys, and
// no derived key reveals the master key or another derived key. purpose
// must not be empty.
func (k *Keyring) DeriveKey(purpose string) []byte {
	if purpose == "" {
		panic("secrets: DeriveKey needs a purpose")
	}
	out, err := hkdf.Expand(sha256.New, k.prk, purpose, DerivedKeySize)
	if err != nil {
		// Only a length beyond 255 hash sizes fails; 32 bytes never does.
		panic(fmt.Sprintf("secrets: derive key: %v", err))
	}
	return out
}

// OpenKeyring returns the instance's keyring. envKey, when not empty, is
// the master key in base64 (standard or URL alphabet, padded or not; the
// value of HANSE_MASTER_KEY) and takes precedence. Otherwise the key is read
// from <dataDir>/secrets/master.key, which is created with 32 random bytes
// (mode 0600, directory 0700) when missing. A key file of the wrong size,
// or a key file or directory that group or others may access, is refused.
func OpenKeyring(dataDir, envKey string) (*Keyring, error) {
	if envKey = strings.TrimSpace(envKey); envKey != "" {
		key, err := decodeBase64(envKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not base64: %v", ErrInvalidKey, EnvMasterKey, err)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("%w: %s holds %d bytes, want %d", ErrInvalidKey, EnvMasterKey, len(key), KeySize)
		}
		k, err := NewKeyring(key)
		if err != nil {
			return nil, err
		}
		k.source = EnvMasterKey
		return k, nil
	}
	if dataDir == "" {
		return nil, errors.New("secrets: no data directory for the master key file")
	}
	dir := filepath.Join(dataDir, Dir)
	path := filepath.Join(dir, File)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: create %s: %w", dir, err)
	}
	if err := checkPrivate(dir, true); err != nil {
		return nil, err
	}
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(dir, path)
	}
	if err != nil {
		return nil, err
	}
	k, err := NewKeyring(key)
	if err != nil {
		return nil, err
	}
	k.source = path
	return k, nil
}

// Source names where the master key came from: EnvMasterKey, the key
// file's path, or "memory" for NewKeyring. It never holds key material.
func (k *Keyring) Source() string { return k.source }

func decodeBase64(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// checkPrivate refuses a file or directory that group or others may access
// (not checked on Windows, whose permission bits mean nothing).
func checkPrivate(path string, isDir bool) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	if fi.IsDir() != isDir {
		return fmt.Errorf("secrets: %s: unexpected file type %s", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		want := "600"
		if isDir {
			want = "700"
		}
		return fmt.Errorf("%w: %s has mode %04o; run: chmod %s %s", ErrInsecureKeyFile, path, perm, want, path)
	}
	return nil
}

func readKeyFile(path string) ([]byte, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err // fs.ErrNotExist: create it
	}
	if err := checkPrivate(path, false); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	defer f.Close()
	key, err := io.ReadAll(io.LimitReader(f, KeySize+1))
	if err != nil {
		return nil, fmt.Errorf("secrets: read %s: %w", path, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %s holds %d bytes, want exactly %d (raw bytes, not base64)", ErrInvalidKey, path, len(key), KeySize)
	}
	return key, nil
}

// createKeyFile writes a new random key to a temporary file and links it to
// path: a concurrent first start of another process either wins the link
// (and both use its key) or loses it (and reads the winner's key).
func createKeyFile(dir, path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secrets: generate master key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master.key-*")
	if err != nil {
		return nil, fmt.Errorf("secrets: create master key: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secrets: create master key: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secrets: write master key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secrets: write master key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("secrets: write master key: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("secrets: install master key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable; best effort
		d.Close()
	}
	return key, nil
}

// Seal encrypts plaintext with AES-256-GCM, authenticating additionalData
// (which is not stored: Open needs the same). The result is
// version (1 byte) ‖ key id (4) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
func (k *Keyring) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(plaintext)+k.aead.Overhead())
	out[0] = Version1
	copy(out[1:headerSize], k.keyID[:])
	if _, err := rand.Read(out[headerSize:]); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	return k.aead.Seal(out, out[headerSize:], plaintext, k.ad(out[:headerSize], additionalData)), nil
}

// Open decrypts a value made by Seal with the same additional data.
func (k *Keyring) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes, at least %d", ErrMalformed, len(sealed), Overhead)
	}
	if sealed[0] != Version1 {
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, sealed[0])
	}
	if [keyIDSize]byte(sealed[1:headerSize]) != k.keyID {
		return nil, ErrWrongKey
	}
	nonce := sealed[headerSize : headerSize+nonceSize]
	plain, err := k.aead.Open(nil, nonce, sealed[headerSize+nonceSize:], k.ad(sealed[:headerSize], additionalData))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// ad binds the header (version and key id) to the caller's additional data.
func (k *Keyring) ad(header, additionalData []byte) []byte {
	b := make([]byte, 0, len(header)+len(additionalData))
	return append(append(b, header...), additionalData...)
}
