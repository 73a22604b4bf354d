package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// DefaultMaxBytes is the largest file when Options.MaxBytes is 0.
const DefaultMaxBytes int64 = 10 << 20

// sniffLen is how many leading bytes decide a file's type.
const sniffLen = 512

// The types the store accepts (the same as internal/domain/media's).
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	GIF  = "image/gif"
	WebP = "image/webp"
	PDF  = "application/pdf"
	Text = "text/plain"
)

// Errors of the store.
var (
	ErrTooLarge        = errors.New("media: file too large")
	ErrEmpty           = errors.New("media: empty file")
	ErrUnsupportedType = errors.New("media: file type not allowed")
	ErrTypeMismatch    = errors.New("media: declared type does not match the file's content")
	ErrNotFound        = errors.New("media: no such file")
	ErrInvalidID       = errors.New("media: invalid media id")
	ErrExists          = errors.New("media: a file with this id exists")
)

// Options configure a Store.
type Options struct {
	// MaxBytes caps a file's size; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Info describes a stored file.
type Info struct {
	ID   string
	Type string
	Size int64
	// SHA256 is the hex digest of the bytes (set by Put).
	SHA256 string
}

// Store keeps uploaded files in a directory. It is safe for concurrent
// use (distinct ids never share a file).
type Store struct {
	dir string
	max int64
}

// New opens (creating it, 0700) the store under dataDir/media.
func New(dataDir string, opts Options) (*Store, error) {
	max := opts.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	dir := filepath.Join(dataDir, "media")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("media: create %s: %w", dir, err)
	}
	return &Store{dir: dir, max: max}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// MaxBytes is the largest file the store accepts.
func (s *Store) MaxBytes() int64 { return s.max }

// validID accepts lower-case hex and dashes (UUIDs), 8 to 64 bytes, so
// that an id can never name a path outside the store.
func validID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// path is <dir>/<last 2 hex of id>/<id>: the last digits of a UUIDv7 are
// random, so files spread evenly over 256 directories.
func (s *Store) path(id string) (dir, file string) {
	sub := filepath.Join(s.dir, id[len(id)-2:])
	return sub, filepath.Join(sub, id)
}

// NormalizeDeclared returns the media type a client declared, without
// parameters and lower-cased; "" when it declared nothing useful (no
// type, or application/octet-stream), so that the sniffed type decides.
func NormalizeDeclared(contentType string) string {
	if strings.TrimSpace(contentType) == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(contentType))
	}
	switch mt {
	case "application/octet-stream":
		return ""
	case "image/jpg", "image/pjpeg":
		return JPEG
	}
	return mt
}

// Sniff returns the type of a file from its first bytes ("" when it is
// none of the allowed types).
func Sniff(head []byte) string {
	switch {
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return WebP
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return PDF
	}
	switch ct := http.DetectContentType(head); ct {
	case PNG, JPEG, GIF:
		return ct
	case "text/plain; charset=utf-8":
		// DetectContentType only rules out binary bytes; the text must
		// be UTF-8 too (a rune cut at the end of head is fine).
		if validUTF8Prefix(head) {
			return Text
		}
	}
	return ""
}

func allowed(t string) bool {
	switch t {
	case PNG, JPEG, GIF, WebP, PDF, Text:
		return true
	}
	return false
}

// validUTF8Prefix reports whether b is valid UTF-8 except, possibly, for
// one rune cut off at its end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// Put stores the bytes of r as file id, at most MaxBytes of them, and
// returns its sniffed type, size and digest. declared is the client's
// Content-Type ("" if none); when given it must agree with the sniffed
// type. The file is durable (fsynced, renamed, directory fsynced) when
// Put returns; on any error nothing is left behind.
func (s *Store) Put(id string, r io.Reader, declared string) (Info, error) {
	if !validID(id) {
		return Info{}, fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("media: read upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return Info{}, ErrEmpty
	}
	d := NormalizeDeclared(declared)
	if d != "" && !allowed(d) {
		return Info{}, fmt.Errorf("%w: %s", ErrUnsupportedType, d)
	}
	sniffed := Sniff(head)
	if sniffed == "" {
		return Info{}, fmt.Errorf("%w: the content is %s", ErrUnsupportedType, http.DetectContentType(head))
	}
	if d != "" && d != sniffed {
		return Info{}, fmt.Errorf("%w: declared %s, content is %s", ErrTypeMismatch, d, sniffed)
	}
	dir, final := s.path(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Info{}, fmt.Errorf("media: create %s: %w", dir, err)
	}
	if _, err := os.Lstat(final); err == nil {
		return Info{}, fmt.Errorf("%w: %s", ErrExists, id)
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("media: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	if _, err := w.Write(head); err != nil {
		return Info{}, fmt.Errorf("media: write: %w", err)
	}
	// Copy at most one byte more than allowed, to notice a larger file.
	rest, err := io.Copy(w, io.LimitReader(r, s.max-int64(n)+1))
	if err != nil {
		return Info{}, fmt.Errorf("media: write: %w", err)
	}
	size := int64(n) + rest
	if size > s.max {
		return Info{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, s.max)
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, fmt.Errorf("media: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Info{}, fmt.Errorf("media: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Info{}, fmt.Errorf("media: rename: %w", err)
	}
	done = true
	if err := syncDir(dir); err != nil {
		os.Remove(final)
		return Info{}, err
	}
	return Info{ID: id, Type: sniffed, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("media: open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("media: sync %s: %w", dir, err)
	}
	return nil
}

// Open returns file id for reading, with its type (sniffed again from
// the same bytes, so it is the type Put reported) and size.
func (s *Store) Open(id string) (io.ReadSeekCloser, Info, error) {
	if !validID(id) {
		return nil, Info{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	_, path := s.path(id)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("media: open %s: %w", id, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("media: stat %s: %w", id, err)
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, Info{}, fmt.Errorf("media: read %s: %w", id, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("media: seek %s: %w", id, err)
	}
	return f, Info{ID: id, Type: Sniff(head[:n]), Size: st.Size()}, nil
}

// Delete removes file id; a file that is not there is not an error.
func (s *Store) Delete(id string) error {
	if !validID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	dir, path := s.path(id)
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("media: delete %s: %w", id, err)
	}
	return syncDir(dir)
}
