package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
)

// Benchmarks report their result as a ratio to a limit measured in the same
// run on the same machine: appends against the raw write+fdatasync rate of a
// plain file in the store's directory, read-all against a raw sequential read
// of the database file. See docs/performance.md.

// syncRecord is the small record the fdatasync limit writes.
var syncRecord = make([]byte, 128)

// syncFile is a plain file in a store's directory for the fdatasync limit.
type syncFile struct {
	f     *os.File
	n     int
	spent time.Duration
}

func newSyncFile(tb testing.TB, dir string) *syncFile {
	tb.Helper()
	f, err := os.CreateTemp(dir, "fdatasync-*")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close(); os.Remove(f.Name()) })
	return &syncFile{f: f}
}

// run appends a small record and fdatasyncs it n times.
func (s *syncFile) run(tb testing.TB, n int) {
	start := time.Now()
	for range n {
		if _, err := s.f.Write(syncRecord); err != nil {
			tb.Fatal(err)
		}
		if err := fdatasync(s.f); err != nil {
			tb.Fatal(err)
		}
	}
	s.n += n
	s.spent += time.Since(start)
}

// runFor runs syncs for at least d.
func (s *syncFile) runFor(tb testing.TB, d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
		s.run(tb, 10)
	}
}

// rate is the measured syncs per second.
func (s *syncFile) rate() float64 { return float64(s.n) / s.spent.Seconds() }

// BenchmarkFdatasync is the limit for durable appends: one small write and
// one fdatasync of a plain file in a temporary directory.
func BenchmarkFdatasync(b *testing.B) {
	f, err := os.CreateTemp(b.TempDir(), "fdatasync-*")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	for range b.N {
		if _, err := f.Write(syncRecord); err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "syncs/s")
}

func benchEvent(i int) events.EventData {
	return events.EventData{
		ID:   events.NewUUID(),
		Type: "bench.appended",
		Data: []byte(fmt.Sprintf(`{"n":%d,"text":"a small event payload of about a hundred bytes, as most Hanse events are"}`, i)),
		Metadata: events.Metadata{
			CorrelationID: "0b8a2c56-8f0e-4f5e-9a52-35f1f1f3a9d1",
			Actor:         "acct:alice@hanse.example",
			OccurredAt:    time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC),
			Origin:        "hanse.example",
			SchemaVersion: 1,
		},
	}
}

func benchStore(b *testing.B, opts Options) (*Store, string) {
	b.Helper()
	dir := b.TempDir()
	s, err := Open(filepath.Join(dir, "events.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, dir
}

// BenchmarkAppendSingleWriter: one writer, one durable append of one event
// at a time. Goal: at least 0.9× the fdatasync rate.
func BenchmarkAppendSingleWriter(b *testing.B) { benchAppendSingle(b, Options{}) }

// The limit is measured interleaved with the appends (chunks of 32 raw
// fdatasyncs between chunks of 32 appends, outside the timer), so that
// load from other processes on a shared machine affects both alike.
func benchAppendSingle(b *testing.B, opts Options) {
	const chunk = 32
	s, dir := benchStore(b, opts)
	limit := newSyncFile(b, dir)
	ctx := context.Background()
	evs := make([]events.EventData, b.N)
	for i := range evs {
		evs[i] = benchEvent(i)
	}
	b.ResetTimer()
	for i := range b.N {
		if i%chunk == 0 && i > 0 {
			b.StopTimer()
			limit.run(b, chunk)
			b.StartTimer()
		}
		exp := events.Exact(uint64(i - 1))
		if i == 0 {
			exp = events.NoStream
		}
		if _, err := s.Append(ctx, "bench-single", exp, evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if limit.n == 0 {
		limit.run(b, chunk)
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "appends/s")
	b.ReportMetric(limit.rate(), "fdatasyncs/s")
	b.ReportMetric(rate/limit.rate(), "x-fdatasync")
}

// BenchmarkAppend64Writers: 64 concurrent writers appending one event at a
// time to their own streams. Goal: at least 50× the fdatasync rate, which
// only group commit can reach.
func BenchmarkAppend64Writers(b *testing.B) {
	b.Run("delay=0", func(b *testing.B) { benchAppendConcurrent(b, Options{}) })
	b.Run("delay=300µs", func(b *testing.B) { benchAppendConcurrent(b, Options{MaxBatchDelay: 300 * time.Microsecond}) })
}

func benchAppendConcurrent(b *testing.B, opts Options) {
	const writers = 64
	s, dir := benchStore(b, opts)
	limit := newSyncFile(b, dir) // measured before and after the run
	limit.runFor(b, 250*time.Millisecond)
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	commits0 := s.Stats().Commits
	b.ResetTimer()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("bench-%d", w)
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := s.Append(ctx, stream, events.Any, benchEvent(int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	limit.runFor(b, 250*time.Millisecond)
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(limit.rate(), "fdatasyncs/s")
	b.ReportMetric(rate/limit.rate(), "x-fdatasync")
	if c := s.Stats().Commits - commits0; c > 0 {
		b.ReportMetric(float64(b.N)/float64(c), "events/commit")
	}
}

// readAllFixture is a store file with readAllEvents events, built once.
var readAllFixture struct {
	once sync.Once
	dir  string
	path string
	err  error
}

const readAllEvents = 200_000

func readAllDB(b *testing.B) string {
	b.Helper()
	f := &readAllFixture
	f.once.Do(func() {
		if f.dir, f.err = os.MkdirTemp("", "hanse-readall-"); f.err != nil {
			return
		}
		f.path = filepath.Join(f.dir, "events.db")
		s, err := Open(f.path, Options{})
		if err != nil {
			f.err = err
			return
		}
		defer s.Close()
		batch := make([]events.EventData, 1000)
		for i := 0; i < readAllEvents; i += len(batch) {
			for j := range batch {
				batch[j] = benchEvent(i + j)
			}
			if _, err := s.Append(context.Background(), fmt.Sprintf("bench-%d", i%97), events.Any, batch...); err != nil {
				f.err = err
				return
			}
		}
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.path
}

// rawReadRate reads the file sequentially (warm page cache) and returns
// bytes per second.
func rawReadRate(b *testing.B, path string) float64 {
	b.Helper()
	buf := make([]byte, 1<<20)
	start := time.Now()
	var total int64
	for time.Since(start) < 300*time.Millisecond {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return float64(total) / time.Since(start).Seconds()
}

// BenchmarkReadAll: read the whole log in pages of 1,000 events from the
// database (the in-memory cache of recent events is off). Goal: at least
// 500,000 events/s; compared with a raw sequential read of the file.
func BenchmarkReadAll(b *testing.B) { benchReadAll(b, Options{}) }

func benchReadAll(b *testing.B, opts Options) {
	path := readAllDB(b)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	opts.RecentEvents = -1
	s, err := Open(path, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	raw := rawReadRate(b, path)
	rawEvents := raw / (float64(info.Size()) / readAllEvents)
	ctx := context.Background()
	b.ResetTimer()
	var after events.Position
	for n := 0; n < b.N; {
		page, err := s.ReadAll(ctx, after, min(1000, b.N-n))
		if err != nil {
			b.Fatal(err)
		}
		if len(page) == 0 {
			after = 0
			continue
		}
		after = page[len(page)-1].Position
		n += len(page)
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(rawEvents, "raw-file-events/s")
	b.ReportMetric(rate/rawEvents, "x-raw-read")
}

// BenchmarkSubscriberLatency: 8 writers append continuously; a subscriber
// measures, per event, the time from the start of its Append call to its
// delivery by Next (so it includes the commit's fsync).
func BenchmarkSubscriberLatency(b *testing.B) {
	const writers = 8
	s, _ := benchStore(b, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := s.SubscribeAll(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				e := benchEvent(i)
				e.Data, _ = json.Marshal(map[string]int64{"sent": time.Now().UnixNano()})
				if _, err := s.Append(ctx, fmt.Sprintf("lat-%d", w), events.Any, e); err != nil && ctx.Err() == nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for len(lat) < b.N {
		batch, err := sub.Next(ctx, 256)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		for _, e := range batch {
			var p struct{ Sent int64 }
			if err := json.Unmarshal(e.Data, &p); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, now.Sub(time.Unix(0, p.Sent)))
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if readAllFixture.dir != "" {
		os.RemoveAll(readAllFixture.dir)
	}
	os.Exit(code)
}
