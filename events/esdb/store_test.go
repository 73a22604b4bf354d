package esdb_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/esdb"
	"github.com/hanse-network/hanse/events/esdb/esdbtest"
	"github.com/hanse-network/hanse/events/storetest"
)

// testLogger shows the adapter's warnings in verbose test output only.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
}

func startFake(t testing.TB, opts esdbtest.Options) *esdbtest.FakeServer {
	t.Helper()
	srv, err := esdbtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func openStore(t testing.TB, url string, opts esdb.Options) *esdb.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s, err := esdb.Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func harness(url string) storetest.Harness {
	return storetest.Harness{
		Open: func(t testing.TB) events.Store { return openStore(t, url, esdb.Options{}) },
		// Reopen connects a new client to the same server, which keeps its
		// data: it exercises the adapter's connect path, not durability.
		Reopen: func(t testing.TB, s events.Store) events.Store {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return openStore(t, url, esdb.Options{})
		},
		ContiguousPositions: false,
	}
}

// TestContractFakeServer runs the store contract against the in-process
// test double.
func TestContractFakeServer(t *testing.T) {
	srv := startFake(t, esdbtest.Options{})
	storetest.Run(t, harness(srv.ConnectionString()))
}

// TestContractRealServer runs the store contract against a real
// EventStoreDB/KurrentDB named by HANSE_ESDB_URL.
func TestContractRealServer(t *testing.T) {
	url := os.Getenv("HANSE_ESDB_URL")
	if url == "" {
		t.Skip("HANSE_ESDB_URL is not set; to run the contract against a real server start one " +
			"(docker run --rm -d -p 2113:2113 eventstore/eventstore:24.10.0-bookworm-slim --insecure --mem-db) " +
			"and set HANSE_ESDB_URL=esdb://127.0.0.1:2113?tls=false")
	}
	storetest.Run(t, harness(url))
}
