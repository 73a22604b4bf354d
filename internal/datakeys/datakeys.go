package datakeys

import (
	"container/list"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/secrets"
)

// FileName is the database's file name inside the data directory.
const FileName = "datakeys.db"

// Version1 is the first byte of a text sealed with the current format.
const Version1 byte = 1

// Sizes of the sealed format.
const (
	// KeySize is the size of a data key (AES-256).
	KeySize   = 32
	headerLen = 1 + 4 // version, generation
	nonceLen  = 12
	tagLen    = 16
	// Overhead is the number of bytes sealing adds to a plaintext.
	Overhead = headerLen + nonceLen + tagLen
)

// MaxSubjectBytes bounds a subject (remote actor IRIs can be long, but
// not unboundedly).
const MaxSubjectBytes = 2048

// DefaultCacheSize is how many subjects' opened keys (or erased states)
// the in-memory cache holds.
const DefaultCacheSize = 10_000

// currentGeneration is the generation of newly created keys. Every key is
// generation 1 until key rotation exists; the field makes it possible.
const currentGeneration uint32 = 1

// Errors of the store. personal.ErrErased reports a destroyed key.
var (
	// ErrNoKey: a text of a subject that has no key in this database (it
	// was sealed elsewhere, or the database was lost or replaced).
	ErrNoKey = errors.New("datakeys: no data key for the subject")
	// ErrOpen: authentication failed: the text was altered, or its
	// subject was changed.
	ErrOpen = errors.New("datakeys: cannot open sealed text (tampered, or not sealed for this subject)")
	// ErrInvalidSubject: an empty, too long or non-UTF-8 subject.
	ErrInvalidSubject = errors.New("datakeys: invalid subject")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("datakeys: closed")
)

// Store keeps the data keys. It implements personal.Cipher and is safe
// for concurrent use.
type Store struct {
	db   *sql.DB
	ring *secrets.Keyring
	now  func() time.Time

	// loadMu serialises what reads or changes keys in the database and
	// fills the cache from it, so that a Destroy can never be overtaken
	// by a load that puts the old key back into the cache.
	loadMu sync.Mutex
	// mu guards cache and closed.
	mu     sync.Mutex
	cache  *lru
	closed bool
}

var _ personal.Cipher = (*Store)(nil)

// entry is a cached subject: its opened key, or its erasure.
type entry struct {
	generation uint32
	aead       cipher.AEAD // nil when erased
	erased     bool
}

// Open opens (creating if needed) the key database at path, with keys
// sealed under keyring's master key. The file is created with mode 0600.
func Open(path string, keyring *secrets.Keyring) (*Store, error) {
	if keyring == nil {
		return nil, errors.New("datakeys: no master keyring")
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("datakeys: invalid database path %q", path)
	}
	// Create the file private before SQLite does (SQLite gives its WAL
	// and shared-memory files the main file's permissions).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("datakeys: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("datakeys: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	// Deleted and overwritten content is zeroed in the file, not just
	// unlinked from the b-tree: a destroyed key leaves no bytes behind.
	q.Add("_pragma", "secure_delete(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("datakeys: open %s: %w", path, err)
	}
	// One connection: the pragmas hold for it, writes never wait for one
	// another inside SQLite, and the WAL checkpoint of Destroy never meets
	// a reader of this process.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS data_keys (
			subject      TEXT    NOT NULL PRIMARY KEY,
			generation   INTEGER NOT NULL,
			sealed_key   BLOB,          -- NULL once destroyed
			created_at   TEXT    NOT NULL,
			destroyed_at TEXT           -- set once, never cleared
		) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("datakeys: create schema in %s: %w", path, err)
	}
	var secure int
	if err := db.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&secure); err != nil || secure != 1 {
		db.Close()
		return nil, fmt.Errorf("datakeys: secure_delete is not on (%d, %v)", secure, err)
	}
	return &Store{db: db, ring: keyring, now: time.Now, cache: newLRU(DefaultCacheSize)}, nil
}

// Close closes the database. Later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cache = newLRU(0)
	s.mu.Unlock()
	return s.db.Close()
}

// Seal seals plaintext under subject's data key, creating the key on
// first use; "" gives the zero Text. A subject whose key was destroyed
// gets personal.ErrErased, never a new key.
func (s *Store) Seal(subject, plaintext string) (personal.Text, error) {
	if err := checkSubject(subject); err != nil {
		return personal.Text{}, err
	}
	if plaintext == "" {
		return personal.Text{}, nil
	}
	e, err := s.key(subject, true)
	if err != nil {
		return personal.Text{}, err
	}
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plaintext)+tagLen)
	out[0] = Version1
	binary.BigEndian.PutUint32(out[1:headerLen], e.generation)
	if _, err := rand.Read(out[headerLen:]); err != nil {
		return personal.Text{}, fmt.Errorf("datakeys: nonce: %w", err)
	}
	out = e.aead.Seal(out, out[headerLen:headerLen+nonceLen], []byte(plaintext), textAD(out[:headerLen], subject))
	return personal.Text{Subject: subject, Sealed: out}, nil
}

// Open opens a text sealed by Seal: "" for the zero Text,
// personal.ErrErased when the subject's key was destroyed, ErrNoKey when
// this database never had the subject's key, personal.ErrMalformed for a
// value of an unknown format, ErrOpen when authentication fails.
func (s *Store) Open(t personal.Text) (string, error) {
	if t.IsZero() {
		return "", nil
	}
	if err := checkSubject(t.Subject); err != nil {
		return "", err
	}
	if len(t.Sealed) < Overhead {
		return "", fmt.Errorf("%w: %d bytes, at least %d", personal.ErrMalformed, len(t.Sealed), Overhead)
	}
	if t.Sealed[0] != Version1 {
		return "", fmt.Errorf("%w: unknown version %d", personal.ErrMalformed, t.Sealed[0])
	}
	e, err := s.key(t.Subject, false)
	if err != nil {
		return "", err
	}
	if gen := binary.BigEndian.Uint32(t.Sealed[1:headerLen]); gen != e.generation {
		return "", fmt.Errorf("%w: generation %d of %q (the database holds generation %d)", ErrNoKey, gen, t.Subject, e.generation)
	}
	nonce := t.Sealed[headerLen : headerLen+nonceLen]
	plain, err := e.aead.Open(nil, nonce, t.Sealed[headerLen+nonceLen:], textAD(t.Sealed[:headerLen], t.Subject))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// Destroy destroys subject's data key for ever: the key's bytes are
// overwritten in the database (secure_delete), a row records when it was
// destroyed, the WAL is checkpointed and truncated, and the cached key is
// dropped. Texts of the subject then open as personal.ErrErased, and Seal
// refuses the subject. Destroying a subject that has no key yet records
// the destruction all the same; destroying twice is a no-op.
func (s *Store) Destroy(ctx context.Context, subject string) error {
	if err := checkSubject(subject); err != nil {
		return err
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	at := s.now().UTC().Format(time.RFC3339Nano)
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO data_keys (subject, generation, sealed_key, created_at, destroyed_at) VALUES (?, 0, NULL, ?, ?)
		ON CONFLICT (subject) DO UPDATE SET sealed_key = NULL, destroyed_at = coalesce(destroyed_at, excluded.destroyed_at)`,
		subject, at, at); err != nil {
		return fmt.Errorf("datakeys: destroy key of %q: %w", subject, err)
	}
	s.mu.Lock()
	s.cache.put(subject, &entry{erased: true})
	s.mu.Unlock()
	return s.checkpoint(ctx)
}

// checkpoint copies the WAL into the database and truncates it to zero
// bytes, so that the page images holding a destroyed key leave the WAL.
// It retries while another process (a "hanse projections" command, say)
// holds a read transaction.
func (s *Store) checkpoint(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		var busy, logFrames, checkpointed int
		if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
			return fmt.Errorf("datakeys: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 50 {
			return fmt.Errorf("datakeys: checkpoint: the database stayed busy; the destroyed key may remain in %s-wal until the next Destroy", FileName)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Erased reports whether subject's key was destroyed. Errors (a closed
// store, an unreadable database) report false.
func (s *Store) Erased(subject string) bool {
	if checkSubject(subject) != nil {
		return false
	}
	_, err := s.key(subject, false)
	return errors.Is(err, personal.ErrErased)
}

// key returns subject's cached or stored key, creating it when create is
// set and the subject has none. A destroyed key gives personal.ErrErased.
func (s *Store) key(subject string, create bool) (*entry, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	e, ok := s.cache.get(subject)
	s.mu.Unlock()
	if !ok {
		var err error
		if e, err = s.load(subject, create); err != nil {
			return nil, err
		}
	}
	if e.erased {
		return nil, fmt.Errorf("%w: %q", personal.ErrErased, subject)
	}
	return e, nil
}

// load reads subject's row (creating the key if asked and missing) and
// caches the result.
func (s *Store) load(subject string, create bool) (*entry, error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if e, ok := s.cache.get(subject); ok { // filled while we waited
		s.mu.Unlock()
		return e, nil
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, found, err := s.read(ctx, subject)
	if err != nil {
		return nil, err
	}
	if !found {
		if !create {
			return nil, fmt.Errorf("%w: %q", ErrNoKey, subject)
		}
		if e, err = s.create(ctx, subject); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.cache.put(subject, e)
	s.mu.Unlock()
	return e, nil
}

// read loads subject's row.
func (s *Store) read(ctx context.Context, subject string) (*entry, bool, error) {
	var (
		gen       int64
		sealed    []byte
		destroyed sql.NullString
	)
	err := s.db.QueryRowContext(ctx, `SELECT generation, sealed_key, destroyed_at FROM data_keys WHERE subject = ?`, subject).
		Scan(&gen, &sealed, &destroyed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("datakeys: read key of %q: %w", subject, err)
	}
	if destroyed.Valid {
		return &entry{erased: true}, true, nil
	}
	if gen <= 0 || gen > int64(^uint32(0)) {
		return nil, false, fmt.Errorf("datakeys: key of %q has invalid generation %d", subject, gen)
	}
	raw, err := s.ring.Open(sealed, keyAD(subject, uint32(gen)))
	if err != nil {
		return nil, false, fmt.Errorf("datakeys: open key of %q: %w", subject, err)
	}
	e, err := newEntry(raw, uint32(gen))
	clear(raw)
	if err != nil {
		return nil, false, err
	}
	return e, true, nil
}

// create makes and stores a new key for subject.
func (s *Store) create(ctx context.Context, subject string) (*entry, error) {
	raw := make([]byte, KeySize)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("datakeys: generate key: %w", err)
	}
	sealed, err := s.ring.Seal(raw, keyAD(subject, currentGeneration))
	if err != nil {
		return nil, fmt.Errorf("datakeys: seal key: %w", err)
	}
	// loadMu is held and the row was missing, so this insert cannot meet
	// a row of this process; ON CONFLICT guards against another process.
	res, err := s.db.ExecContext(ctx, `INSERT INTO data_keys (subject, generation, sealed_key, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (subject) DO NOTHING`,
		subject, int64(currentGeneration), sealed, s.now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return nil, fmt.Errorf("datakeys: store key of %q: %w", subject, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("datakeys: store key of %q: %w", subject, err)
	} else if n == 0 {
		e, found, err := s.read(ctx, subject)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("datakeys: key of %q vanished", subject)
		}
		return e, nil
	}
	return newEntry(raw, currentGeneration)
}

func newEntry(raw []byte, gen uint32) (*entry, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("datakeys: key of %d bytes, want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("datakeys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("datakeys: %w", err)
	}
	return &entry{generation: gen, aead: aead}, nil
}

func (s *Store) usable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// keyAD binds a sealed data key to its subject and generation.
func keyAD(subject string, gen uint32) []byte {
	return []byte("hanse data key\x00" + strconv.FormatUint(uint64(gen), 10) + "\x00" + subject)
}

// textAD binds a sealed text to its header and subject.
func textAD(header []byte, subject string) []byte {
	b := make([]byte, 0, len(header)+len(subject))
	return append(append(b, header...), subject...)
}

func checkSubject(subject string) error {
	switch {
	case subject == "":
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	case len(subject) > MaxSubjectBytes:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidSubject, len(subject), MaxSubjectBytes)
	case !isText(subject):
		return fmt.Errorf("%w: %q", ErrInvalidSubject, subject)
	}
	return nil
}

// isText reports whether s is valid UTF-8 without NUL (which the key's
// additional data uses as a separator).
func isText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// lru is a bounded map of entries, least recently used first out. Not
// safe for concurrent use (Store.mu guards it).
type lru struct {
	max   int
	order *list.List // of *lruItem, most recent at the front
	items map[string]*list.Element
}

type lruItem struct {
	subject string
	e       *entry
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(subject string) (*entry, bool) {
	el, ok := c.items[subject]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem).e, true
}

func (c *lru) put(subject string, e *entry) {
	if c.max <= 0 {
		return
	}
	if el, ok := c.items[subject]; ok {
		el.Value.(*lruItem).e = e
		c.order.MoveToFront(el)
		return
	}
	c.items[subject] = c.order.PushFront(&lruItem{subject: subject, e: e})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruItem).subject)
	}
}

func (c *lru) len() int { return c.order.Len() }
