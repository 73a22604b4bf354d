package datakeys

import (
	"context"
	"database/sql"
	"errors"
)

// RawKeyForTest returns subject's data key as the database holds it:
// the sealed bytes of its row and, opened with the master key, the raw
// key. Both are nil once the key is destroyed.
func RawKeyForTest(s *Store, subject string) (raw, sealed []byte, err error) {
	var gen int64
	err = s.db.QueryRowContext(context.Background(), `SELECT generation, sealed_key FROM data_keys WHERE subject = ?`, subject).
		Scan(&gen, &sealed)
	if errors.Is(err, sql.ErrNoRows) || sealed == nil {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	raw, err = s.ring.Open(sealed, keyAD(subject, uint32(gen)))
	return raw, sealed, err
}

// CachedForTest reports how many subjects the cache holds.
func CachedForTest(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache.len()
}

// SetCacheSizeForTest replaces the cache with an empty one of size n.
func SetCacheSizeForTest(s *Store, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache = newLRU(n)
}

// CheckpointForTest moves the WAL into the database file.
func CheckpointForTest(s *Store) error { return s.checkpoint(context.Background()) }
