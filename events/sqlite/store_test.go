package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/storetest"
)

// openTemp opens a store in a fresh temporary directory.
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "data", "events.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func harness() storetest.Harness {
	return storetest.Harness{
		Open: func(t testing.TB) events.Store { return openTemp(t, Options{}) },
		Reopen: func(t testing.TB, s events.Store) events.Store {
			t.Helper()
			path := s.(*Store).Path()
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s2, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			return s2
		},
		ContiguousPositions: true,
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, harness())
}
