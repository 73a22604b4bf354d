package datakeys_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/internal/datakeys"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/secrets"
)

var ctx = context.Background()

func keyring(t testing.TB, b byte) *secrets.Keyring {
	t.Helper()
	k, err := secrets.NewKeyring(bytes.Repeat([]byte{b}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// open opens a store in dir (a new temporary directory when empty).
func open(t testing.TB, dir string, ring *secrets.Keyring) (*datakeys.Store, string) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, datakeys.FileName)
	s, err := datakeys.Open(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func seal(t testing.TB, s *datakeys.Store, subject, plain string) personal.Text {
	t.Helper()
	txt, err := s.Seal(subject, plain)
	if err != nil {
		t.Fatalf("Seal(%q, %q): %v", subject, plain, err)
	}
	return txt
}

func TestRoundTrip(t *testing.T) {
	s, _ := open(t, "", keyring(t, 1))
	for _, tc := range []struct{ subject, plain string }{
		{"0196b0c2-1111-7000-8000-000000000001", "alice@example.org"},
		{"0196b0c2-1111-7000-8000-000000000001", "Alice Müller 🌍"},
		{"https://remote.example/users/bob", strings.Repeat("Lernen ist schön. ", 3000)},
		{"https://remote.example/users/bob", "\n\t<b>html</b>"},
	} {
		txt := seal(t, s, tc.subject, tc.plain)
		if txt.Subject != tc.subject || bytes.Contains(txt.Sealed, []byte(tc.plain)) {
			t.Fatalf("sealed %+v leaks or lost the subject", txt)
		}
		if len(txt.Sealed) != len(tc.plain)+datakeys.Overhead || txt.Sealed[0] != datakeys.Version1 {
			t.Fatalf("sealed %d bytes (version %d), want %d", len(txt.Sealed), txt.Sealed[0], len(tc.plain)+datakeys.Overhead)
		}
		got, err := s.Open(txt)
		if err != nil || got != tc.plain {
			t.Fatalf("Open = %q, %v; want %q", got, err, tc.plain)
		}
		again := seal(t, s, tc.subject, tc.plain)
		if bytes.Equal(again.Sealed, txt.Sealed) {
			t.Fatal("sealing twice gave the same bytes (nonce reuse)")
		}
	}
	empty := seal(t, s, "a", "")
	if !empty.IsZero() {
		t.Fatalf("Seal of \"\" = %+v, want the zero Text", empty)
	}
	if got, err := s.Open(personal.Text{}); got != "" || err != nil {
		t.Fatalf("Open(zero) = %q, %v", got, err)
	}
	// Sealing "" creates no key.
	if _, err := s.Open(personal.Text{Subject: "never", Sealed: make([]byte, datakeys.Overhead+1)}); err == nil {
		t.Fatal("opened a text of a subject without key")
	}
}

func TestOpenRefusals(t *testing.T) {
	s, _ := open(t, "", keyring(t, 1))
	txt := seal(t, s, "alice", "secret bio")
	seal(t, s, "bob", "bob's own")
	mod := func(f func(b []byte) []byte) personal.Text {
		b := f(append([]byte(nil), txt.Sealed...))
		return personal.Text{Subject: txt.Subject, Sealed: b}
	}
	flip := func(i int) personal.Text {
		return mod(func(b []byte) []byte {
			if i < 0 {
				i += len(b)
			}
			b[i] ^= 0x01
			return b
		})
	}
	cases := []struct {
		name string
		text personal.Text
		want error
	}{
		{"moved to another subject with a key", personal.Text{Subject: "bob", Sealed: txt.Sealed}, datakeys.ErrOpen},
		{"moved to a subject without key", personal.Text{Subject: "carol", Sealed: txt.Sealed}, datakeys.ErrNoKey},
		{"subject in another case", personal.Text{Subject: "Alice", Sealed: txt.Sealed}, datakeys.ErrNoKey},
		{"version byte", flip(0), personal.ErrMalformed},
		{"generation", flip(4), datakeys.ErrNoKey},
		{"nonce", flip(6), datakeys.ErrOpen},
		{"ciphertext", flip(20), datakeys.ErrOpen},
		{"tag", flip(-1), datakeys.ErrOpen},
		{"truncated", mod(func(b []byte) []byte { return b[:datakeys.Overhead-1] }), personal.ErrMalformed},
		{"tag cut off", mod(func(b []byte) []byte { return b[:len(b)-1] }), datakeys.ErrOpen},
		{"no subject", personal.Text{Sealed: txt.Sealed}, datakeys.ErrInvalidSubject},
		{"subject with NUL", personal.Text{Subject: "ali\x00ce", Sealed: txt.Sealed}, datakeys.ErrInvalidSubject},
		{"subject not UTF-8", personal.Text{Subject: "ali\xffce", Sealed: txt.Sealed}, datakeys.ErrInvalidSubject},
		{"subject too long", personal.Text{Subject: strings.Repeat("a", datakeys.MaxSubjectBytes+1), Sealed: txt.Sealed}, datakeys.ErrInvalidSubject},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Open(tc.text)
			if !errors.Is(err, tc.want) || got != "" {
				t.Fatalf("Open = %q, %v; want error %v", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "a\x00b", strings.Repeat("x", datakeys.MaxSubjectBytes+1)} {
		if _, err := s.Seal(bad, "x"); !errors.Is(err, datakeys.ErrInvalidSubject) {
			t.Errorf("Seal(%q) err = %v, want ErrInvalidSubject", bad, err)
		}
	}
}

func TestDestroy(t *testing.T) {
	s, _ := open(t, "", keyring(t, 1))
	alice := seal(t, s, "alice", "alice@example.org")
	bob := seal(t, s, "bob", "bob@example.org")
	if s.Erased("alice") {
		t.Fatal("Erased before Destroy")
	}
	if err := s.Destroy(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(alice); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("Open after Destroy: %v, want ErrErased", err)
	}
	if got, err := personal.OpenOrEmpty(s, alice); got != "" || err != nil {
		t.Fatalf("OpenOrEmpty after Destroy = %q, %v", got, err)
	}
	if _, err := s.Seal("alice", "new"); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("Seal after Destroy: %v, want ErrErased (never a new key)", err)
	}
	if !s.Erased("alice") || s.Erased("bob") || s.Erased("nobody") {
		t.Fatal("Erased reports the wrong subjects")
	}
	if got, err := s.Open(bob); err != nil || got != "bob@example.org" {
		t.Fatalf("another subject's text: %q, %v", got, err)
	}
	if err := s.Destroy(ctx, "alice"); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	// A subject that never had a key can be destroyed in advance.
	if err := s.Destroy(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seal("carol", "x"); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("Seal of a subject destroyed before its first key: %v", err)
	}
	if err := s.Destroy(ctx, ""); !errors.Is(err, datakeys.ErrInvalidSubject) {
		t.Fatalf("Destroy(\"\") = %v", err)
	}
}

func TestSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ring := keyring(t, 1)
	s, path := open(t, dir, ring)
	alice := seal(t, s, "alice", "Alice")
	bob := seal(t, s, "bob", "Bob")
	if err := s.Destroy(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(alice); !errors.Is(err, datakeys.ErrClosed) {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := s.Destroy(ctx, "alice"); !errors.Is(err, datakeys.ErrClosed) {
		t.Fatalf("Destroy after Close: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("database file: %v, %v; want mode 0600", fi.Mode(), err)
	}

	s2, _ := open(t, dir, ring)
	if got, err := s2.Open(alice); err != nil || got != "Alice" {
		t.Fatalf("after reopen: %q, %v", got, err)
	}
	if _, err := s2.Open(bob); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("destroyed key after reopen: %v", err)
	}
	if _, err := s2.Seal("bob", "again"); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("Seal of a destroyed subject after reopen: %v", err)
	}
	s2.Close()

	// Another master key cannot open the stored keys.
	s3, _ := open(t, dir, keyring(t, 2))
	if _, err := s3.Open(alice); err == nil || errors.Is(err, personal.ErrErased) {
		t.Fatalf("Open with another master key: %v, want a key error", err)
	}
}

// TestDestroyLeavesNoKeyBytes reads the database and its WAL as raw bytes:
// before Destroy they hold the sealed key (so the search can find it), after
// Destroy neither holds the sealed nor the raw key. The key is either still
// in the WAL when it is destroyed, or already checkpointed into the
// database file (where only secure_delete overwrites it).
func TestDestroyLeavesNoKeyBytes(t *testing.T) {
	for _, checkpointed := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkpointed=%v", checkpointed), func(t *testing.T) {
			testDestroyLeavesNoKeyBytes(t, checkpointed)
		})
	}
}

func testDestroyLeavesNoKeyBytes(t *testing.T, checkpointed bool) {
	s, path := open(t, "", keyring(t, 1))
	for i := range 50 { // neighbours on the same pages
		seal(t, s, fmt.Sprintf("subject-%02d", i), "x")
	}
	seal(t, s, "alice", "alice@example.org")
	raw, sealed, err := datakeys.RawKeyForTest(s, "alice")
	if err != nil || len(raw) != datakeys.KeySize || len(sealed) == 0 {
		t.Fatalf("RawKeyForTest = %d, %d bytes, %v", len(raw), len(sealed), err)
	}
	files := func() []byte {
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	if checkpointed {
		if err := datakeys.CheckpointForTest(s); err != nil {
			t.Fatal(err)
		}
		if db, err := os.ReadFile(path); err != nil || !bytes.Contains(db, sealed) {
			t.Fatalf("the sealed key is not in the database file after a checkpoint (%v)", err)
		}
	}
	if before := files(); !bytes.Contains(before, sealed) {
		t.Fatal("the sealed key is not in the files before Destroy: the search below would prove nothing")
	} else if bytes.Contains(before, raw) {
		t.Fatal("the raw key is stored unsealed")
	}
	if err := s.Destroy(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	after := files()
	if i := chunkIn(after, sealed); i >= 0 {
		t.Fatalf("bytes %d.. of the sealed key are still in the database files after Destroy", i)
	}
	if i := chunkIn(after, raw); i >= 0 {
		t.Fatalf("bytes %d.. of the raw key are in the database files after Destroy", i)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("WAL holds %d bytes after Destroy, want it truncated", fi.Size())
	}
	if r, sl, err := datakeys.RawKeyForTest(s, "alice"); r != nil || sl != nil || err != nil {
		t.Fatalf("after Destroy the row still has a key: %d, %d, %v", len(r), len(sl), err)
	}
	// Neighbours are intact.
	if _, sl, err := datakeys.RawKeyForTest(s, "subject-07"); err != nil || !bytes.Contains(files(), sl) {
		t.Fatalf("a neighbour's key was lost: %v", err)
	}
}

// chunkIn returns the offset in needle of the first 12-byte piece of it
// found in hay, or -1. Freed space keeps most of the old bytes, with only
// a small header overwritten, so a whole-key search would miss remnants.
func chunkIn(hay, needle []byte) int {
	const piece = 12
	for i := 0; i+piece <= len(needle); i++ {
		if bytes.Contains(hay, needle[i:i+piece]) {
			return i
		}
	}
	return -1
}

func TestCacheIsBounded(t *testing.T) {
	s, _ := open(t, "", keyring(t, 1))
	datakeys.SetCacheSizeForTest(s, 3)
	var texts []personal.Text
	for i := range 10 {
		texts = append(texts, seal(t, s, fmt.Sprintf("s%d", i), fmt.Sprintf("text %d", i)))
	}
	if n := datakeys.CachedForTest(s); n != 3 {
		t.Fatalf("cache holds %d subjects, want 3", n)
	}
	if err := s.Destroy(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	for i, txt := range texts {
		got, err := s.Open(txt)
		switch {
		case i == 1 && !errors.Is(err, personal.ErrErased):
			t.Fatalf("destroyed s1: %q, %v", got, err)
		case i != 1 && (err != nil || got != fmt.Sprintf("text %d", i)):
			t.Fatalf("s%d after eviction: %q, %v", i, got, err)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s, _ := open(t, "", keyring(t, 1))
	datakeys.SetCacheSizeForTest(s, 8) // force evictions and reloads
	const workers, subjects, rounds = 8, 20, 30
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds+subjects)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				subject := fmt.Sprintf("subject-%d", (w*7+i)%subjects)
				plain := fmt.Sprintf("%s says %d", subject, i)
				txt, err := s.Seal(subject, plain)
				if errors.Is(err, personal.ErrErased) {
					continue
				}
				if err != nil {
					errs <- err
					continue
				}
				got, err := s.Open(txt)
				if err != nil && !errors.Is(err, personal.ErrErased) {
					errs <- err
				} else if err == nil && got != plain {
					errs <- fmt.Errorf("opened %q, want %q", got, plain)
				}
			}
		}()
	}
	for i := 0; i < subjects; i += 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Destroy(ctx, fmt.Sprintf("subject-%d", i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range subjects {
		subject := fmt.Sprintf("subject-%d", i)
		_, err := s.Seal(subject, "after")
		if destroyed := i%5 == 0; destroyed != errors.Is(err, personal.ErrErased) || (!destroyed && err != nil) {
			t.Errorf("%s after the storm: %v", subject, err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	s, _ := open(b, "", keyring(b, 1))
	plain := strings.Repeat("Lernen im Quartier. ", 25)
	seal(b, s, "alice", "warm up")
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal("alice", plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s, _ := open(b, "", keyring(b, 1))
	plain := strings.Repeat("Lernen im Quartier. ", 25)
	txt := seal(b, s, "alice", plain)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(txt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealNewSubject measures the first seal of a subject: a key is
// made, sealed with the master key and stored (one fsync).
func BenchmarkSealNewSubject(b *testing.B) {
	s, _ := open(b, "", keyring(b, 1))
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Seal(fmt.Sprintf("subject-%d", i), "x"); err != nil {
			b.Fatal(err)
		}
	}
}
