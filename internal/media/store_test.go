package media_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/internal/media"
)

// Samples of each allowed type (just their magic numbers and some bytes).
var samples = map[string][]byte{
	media.PNG:  append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 40)...),
	media.JPEG: append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{2}, 40)...),
	media.GIF:  append([]byte("GIF89a\x01\x00\x01\x00"), bytes.Repeat([]byte{3}, 40)...),
	media.WebP: append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), bytes.Repeat([]byte{4}, 40)...),
	media.PDF:  []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
	media.Text: []byte("Bienenstöcke im Frühling\nzweite Zeile\n"),
}

const id1 = "0192f1c4-7d4e-7a1b-8c2d-3e4f5a6b7c8d"

func newStore(t *testing.T, max int64) *media.Store {
	t.Helper()
	s, err := media.New(t.TempDir(), media.Options{MaxBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leftovers lists every file under the store's directory.
func leftovers(t *testing.T, s *media.Store) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(s.Dir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	return out
}

func TestPutAndOpen(t *testing.T) {
	for typ, data := range samples {
		t.Run(typ, func(t *testing.T) {
			s := newStore(t, 0)
			for _, declared := range []string{typ, "", "application/octet-stream", strings.ToUpper(typ) + "; charset=x"} {
				info, err := s.Put(id1, bytes.NewReader(data), declared)
				if err != nil {
					t.Fatalf("Put(declared %q): %v", declared, err)
				}
				sum := sha256.Sum256(data)
				want := media.Info{ID: id1, Type: typ, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
				if info != want {
					t.Fatalf("Put = %+v, want %+v", info, want)
				}
				f, got, err := s.Open(id1)
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(f)
				f.Close()
				if err != nil || !bytes.Equal(b, data) || got.Type != typ || got.Size != int64(len(data)) {
					t.Fatalf("Open = %+v, %d bytes, %v", got, len(b), err)
				}
				if err := s.Delete(id1); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestPutRefuses(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		data     []byte
		declared string
		want     error
	}{
		{"declared png, is jpeg", id1, samples[media.JPEG], "image/png", media.ErrTypeMismatch},
		{"declared text, is pdf", id1, samples[media.PDF], "text/plain", media.ErrTypeMismatch},
		{"svg", id1, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "image/svg+xml", media.ErrUnsupportedType},
		{"html", id1, []byte("<!DOCTYPE html><html><script>alert(1)</script>"), "text/plain", media.ErrUnsupportedType},
		{"binary", id1, []byte{0, 1, 2, 3, 0xfe, 0xff}, "", media.ErrUnsupportedType},
		{"latin-1 text", id1, []byte("Gr\xfc\xdfe aus L\xfcbeck, sch\xf6n"), "text/plain", media.ErrUnsupportedType},
		{"empty", id1, nil, "", media.ErrEmpty},
		{"too large", id1, append(samples[media.PNG], make([]byte, 100)...), "", media.ErrTooLarge},
		{"path in id", "../../../etc/passwd", samples[media.PNG], "", media.ErrInvalidID},
		{"upper-case id", strings.ToUpper(id1), samples[media.PNG], "", media.ErrInvalidID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, int64(len(samples[media.PNG])+50))
			if _, err := s.Put(tt.id, bytes.NewReader(tt.data), tt.declared); !errors.Is(err, tt.want) {
				t.Fatalf("Put err = %v, want %v", err, tt.want)
			}
			if left := leftovers(t, s); len(left) != 0 {
				t.Fatalf("files left behind: %v", left)
			}
		})
	}
}

func TestSizeLimitIsInclusive(t *testing.T) {
	data := samples[media.PNG]
	s := newStore(t, int64(len(data)))
	if _, err := s.Put(id1, bytes.NewReader(data), ""); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	if _, err := s.Put(id1, bytes.NewReader(data), ""); !errors.Is(err, media.ErrExists) {
		t.Fatalf("same id again: %v", err)
	}
}

func TestPermissionsAndLayout(t *testing.T) {
	s := newStore(t, 0)
	if _, err := s.Put(id1, bytes.NewReader(samples[media.GIF]), ""); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(s.Dir(), "8d", id1)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	for _, dir := range []string{s.Dir(), filepath.Dir(file)} {
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("dir %s mode %v (%v), want 0700", dir, st.Mode().Perm(), err)
		}
	}
	if left := leftovers(t, s); len(left) != 1 {
		t.Fatalf("files %v, want only the upload", left)
	}
}

func TestOpenAndDeleteMissing(t *testing.T) {
	s := newStore(t, 0)
	if _, _, err := s.Open(id1); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("Open missing: %v", err)
	}
	if _, _, err := s.Open("../x"); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("Open bad id: %v", err)
	}
	if err := s.Delete(id1); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	if err := s.Delete("../x"); !errors.Is(err, media.ErrInvalidID) {
		t.Fatalf("Delete bad id: %v", err)
	}
}

func TestNormalizeDeclared(t *testing.T) {
	for in, want := range map[string]string{"": "", "application/octet-stream": "", "image/JPG": media.JPEG,
		"Image/PNG; q=1": media.PNG, "text/plain; charset=utf-8": media.Text} {
		if got := media.NormalizeDeclared(in); got != want {
			t.Errorf("NormalizeDeclared(%q) = %q, want %q", in, got, want)
		}
	}
}
