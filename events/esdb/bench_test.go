package esdb_test

import (
	"context"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/esdb"
	"github.com/hanse-network/hanse/events/esdb/esdbtest"
)

// Benchmarks run against the in-process test double, so they measure the
// adapter and the client over loopback gRPC, not EventStoreDB itself.

func benchStore(b *testing.B) *esdb.Store {
	srv := startFake(b, esdbtest.Options{})
	return openStore(b, srv.ConnectionString(), esdb.Options{})
}

func BenchmarkAppend(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	stream := uniqueStream("bench")
	exp := events.NoStream
	for i := 0; b.Loop(); i++ {
		if _, err := s.Append(ctx, stream, exp, newEvent("bench.item", i)); err != nil {
			b.Fatal(err)
		}
		exp = events.Exact(uint64(i))
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		stream := uniqueStream("benchp")
		for i := 0; pb.Next(); i++ {
			if _, err := s.Append(ctx, stream, events.Any, newEvent("bench.item", i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkReadAll500(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	stream := uniqueStream("benchr")
	for i := 0; i < 10; i++ {
		mustAppend(b, s, stream, events.Any, newEvents("bench.item", 100)...)
	}
	for b.Loop() {
		page, err := s.ReadAll(ctx, events.Start, 500)
		if err != nil || len(page) != 500 {
			b.Fatalf("%d events, %v", len(page), err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSubscriptionCatchUp(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	stream := uniqueStream("benchs")
	const n = 2000
	for i := 0; i < n/100; i++ {
		mustAppend(b, s, stream, events.Any, newEvents("bench.item", 100)...)
	}
	for b.Loop() {
		sub, err := s.SubscribeAll(ctx, events.Start)
		if err != nil {
			b.Fatal(err)
		}
		for got := 0; got < n; {
			batch, err := sub.Next(ctx, 256)
			if err != nil {
				b.Fatal(err)
			}
			got += len(batch)
		}
		_ = sub.Close()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
