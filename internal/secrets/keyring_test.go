package secrets_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/internal/secrets"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, secrets.KeySize) }

func mustKeyring(t *testing.T, k []byte) *secrets.Keyring {
	t.Helper()
	r, err := secrets.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSealOpen(t *testing.T) {
	a := mustKeyring(t, key(1))
	b := mustKeyring(t, key(2))
	plain := []byte("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n")
	sealed, err := a.Seal(plain, []byte("actor-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	if len(sealed) != len(plain)+secrets.Overhead || sealed[0] != secrets.Version1 {
		t.Fatalf("sealed: %d bytes, version %d", len(sealed), sealed[0])
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	cases := []struct {
		name    string
		ring    *secrets.Keyring
		sealed  []byte
		ad      string
		wantErr error
	}{
		{"same key and additional data", a, sealed, "actor-1", nil},
		{"wrong additional data", a, sealed, "actor-2", secrets.ErrOpen},
		{"empty additional data", a, sealed, "", secrets.ErrOpen},
		{"wrong key", b, sealed, "actor-1", secrets.ErrWrongKey},
		{"tampered ciphertext", a, flip(len(sealed) - 20), "actor-1", secrets.ErrOpen},
		{"tampered tag", a, flip(len(sealed) - 1), "actor-1", secrets.ErrOpen},
		{"tampered nonce", a, flip(6), "actor-1", secrets.ErrOpen},
		{"tampered key id", a, flip(2), "actor-1", secrets.ErrWrongKey},
		{"unknown version", a, func() []byte { c := bytes.Clone(sealed); c[0] = 2; return c }(), "actor-1", secrets.ErrMalformed},
		{"truncated", a, sealed[:secrets.Overhead-1], "actor-1", secrets.ErrMalformed},
		{"empty", a, nil, "actor-1", secrets.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ring.Open(tc.sealed, []byte(tc.ad))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(got, plain) {
				t.Fatalf("Open = %q, want %q", got, plain)
			}
		})
	}
	again, err := a.Seal(plain, []byte("actor-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of the same plaintext are equal: nonce not random")
	}
	empty, err := a.Seal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Open(empty, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty plaintext round trip: %q, %v", got, err)
	}
}

func TestNewKeyringRefusesWrongSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := secrets.NewKeyring(make([]byte, n)); !errors.Is(err, secrets.ErrInvalidKey) {
			t.Errorf("%d bytes: err = %v, want ErrInvalidKey", n, err)
		}
	}
}

func TestOpenKeyringFromEnv(t *testing.T) {
	k := key(7)
	sealed, err := mustKeyring(t, k).Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		env     string
		wantErr error
	}{
		{"standard base64", base64.StdEncoding.EncodeToString(k), nil},
		{"with surrounding newline", base64.StdEncoding.EncodeToString(k) + "\n", nil},
		{"unpadded URL base64", base64.RawURLEncoding.EncodeToString(k), nil},
		{"not base64", "not base64 at all!", secrets.ErrInvalidKey},
		{"16 bytes", base64.StdEncoding.EncodeToString(k[:16]), secrets.ErrInvalidKey},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(k, 0)), secrets.ErrInvalidKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r, err := secrets.OpenKeyring(dir, tc.env)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if r.Source() != secrets.EnvMasterKey {
				t.Fatalf("Source = %q", r.Source())
			}
			if got, err := r.Open(sealed, nil); err != nil || string(got) != "x" {
				t.Fatalf("Open with env key: %q, %v", got, err)
			}
			if _, err := os.Stat(filepath.Join(dir, secrets.Dir)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("an env key must not create a key file: stat err %v", err)
			}
		})
	}
}

func TestOpenKeyringFile(t *testing.T) {
	dir := t.TempDir()
	first, err := secrets.OpenKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, secrets.Dir, secrets.File)
	if first.Source() != path {
		t.Fatalf("Source = %q, want %q", first.Source(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil || len(raw) != secrets.KeySize {
		t.Fatalf("key file: %d bytes, %v", len(raw), err)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
			fi, err := os.Stat(p)
			if err != nil || fi.Mode().Perm() != want {
				t.Fatalf("%s: mode %v (%v), want %04o", p, fi.Mode().Perm(), err, want)
			}
		}
	}
	sealed, err := first.Seal([]byte("kept"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := secrets.OpenKeyring(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := second.Open(sealed, []byte("ad")); err != nil || string(got) != "kept" {
		t.Fatalf("reopened keyring cannot open: %q, %v", got, err)
	}
	// The file holds the raw key: an env value of the same key is the same keyring.
	viaEnv, err := secrets.OpenKeyring("", base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viaEnv.Open(sealed, []byte("ad")); err != nil {
		t.Fatalf("env key equal to the file's: %v", err)
	}
	other, err := secrets.OpenKeyring(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(sealed, []byte("ad")); !errors.Is(err, secrets.ErrWrongKey) {
		t.Fatalf("another data directory's key: err = %v, want ErrWrongKey", err)
	}
}

func TestOpenKeyringRefusesBadFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits")
	}
	cases := []struct {
		name    string
		dirMode os.FileMode
		content []byte
		mode    os.FileMode
		wantErr error
	}{
		{"group-readable file", 0o700, key(1), 0o640, secrets.ErrInsecureKeyFile},
		{"world-readable file", 0o700, key(1), 0o604, secrets.ErrInsecureKeyFile},
		{"group-writable file", 0o700, key(1), 0o620, secrets.ErrInsecureKeyFile},
		{"world-accessible directory", 0o755, key(1), 0o600, secrets.ErrInsecureKeyFile},
		{"short file", 0o700, key(1)[:31], 0o600, secrets.ErrInvalidKey},
		{"long file", 0o700, append(key(1), '\n'), 0o600, secrets.ErrInvalidKey},
		{"base64 instead of raw bytes", 0o700, []byte(base64.StdEncoding.EncodeToString(key(1))), 0o600, secrets.ErrInvalidKey},
		{"empty file", 0o700, nil, 0o600, secrets.ErrInvalidKey},
		{"read-only owner file is fine", 0o700, key(1), 0o400, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sdir := filepath.Join(dir, secrets.Dir)
			if err := os.Mkdir(sdir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(sdir, secrets.File)
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(sdir, tc.dirMode); err != nil {
				t.Fatal(err)
			}
			_, err := secrets.OpenKeyring(dir, "")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(after, tc.content) {
				t.Fatalf("the refused key file was changed (%v)", rerr)
			}
		})
	}
}

// TestOpenKeyringConcurrentFirstUse: processes starting together on a new
// data directory must agree on one key.
func TestOpenKeyringConcurrentFirstUse(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	rings := make([]*secrets.Keyring, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rings[i], errs[i] = secrets.OpenKeyring(dir, "")
		}()
	}
	wg.Wait()
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	ref, err := rings[0].Seal([]byte("p"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("opener %d: %v", i, errs[i])
		}
		if _, err := rings[i].Open(ref, nil); err != nil {
			t.Fatalf("opener %d uses another key: %v", i, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, secrets.Dir, ".master.key-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
