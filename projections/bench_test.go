package projections_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/activity"
	"github.com/hanse-network/hanse/projections/streams"
)

// counter is the "simple projection" of the rebuild benchmark: events per
// type, aggregated per batch (one upsert per type and batch).
type counter struct{}

func (counter) Name() string        { return "counter" }
func (counter) Version() int        { return 1 }
func (counter) Handles(string) bool { return true }
func (counter) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %s (type TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID`, t.Name("counts")))
	return err
}
func (counter) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	counts := map[string]int64{}
	for _, e := range batch {
		counts[e.Type]++
	}
	for typ, n := range counts {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (type, n) VALUES (?, ?)
			ON CONFLICT (type) DO UPDATE SET n = n + excluded.n`, t.Name("counts")), typ, n); err != nil {
			return err
		}
	}
	return nil
}

const benchEvents = 1_000_000

// benchStore opens the prefilled 1M-event store, creating it on first use
// in $HANSE_BENCH_DIR (default: a fixed directory under os.TempDir(), kept
// between runs because the prefill takes a while).
func benchStore(b *testing.B) (*sqlite.Store, events.Position) {
	b.Helper()
	dir := os.Getenv("HANSE_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "hanse-projections-bench")
	}
	path := filepath.Join(dir, "events-1m.db")
	s, err := sqlite.Open(path, sqlite.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	head, _ := s.Head(context.Background())
	if head == benchEvents {
		return s, head
	}
	s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
	if s, err = sqlite.Open(path, sqlite.Options{Logger: quiet}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// Big appends (4,000 events each, within MaxAppendBytes) from 4
	// appenders, so that group commit packs them into few transactions.
	const per = 4000
	jobs := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]events.EventData, per)
			for j := range jobs {
				for k := range batch {
					i := j*per + k
					batch[k] = events.EventData{ID: events.NewUUID(), Type: []string{"community.created", "person.registered", "post.published", "event.scheduled"}[i%4],
						Data: []byte(`{"n":` + strconv.Itoa(i) + `}`),
						Metadata: events.Metadata{Actor: "person-" + strconv.Itoa(i%1000), CorrelationID: strconv.Itoa(i),
							OccurredAt: time.Unix(1_700_000_000+int64(i), 0).UTC()}}
				}
				if _, err := s.Append(context.Background(), fmt.Sprintf("bench-%d", j%500), events.Any, batch...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for j := 0; j < benchEvents/per; j++ {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.Logf("prefilled %d events in %s", benchEvents, time.Since(start).Round(time.Millisecond))
	head, _ = s.Head(context.Background())
	return s, head
}

// readAllRate reads the whole log with ReadAll pages of 1,000 events.
func readAllRate(b *testing.B, s events.Store, head events.Position) float64 {
	start := time.Now()
	var after events.Position
	for after < head {
		evs, err := s.ReadAll(context.Background(), after, 1000)
		if err != nil {
			b.Fatal(err)
		}
		after = evs[len(evs)-1].Position
	}
	return float64(head) / time.Since(start).Seconds()
}

// BenchmarkRebuild1M rebuilds projections over 1,000,000 events and states
// the rate as a ratio to the raw ReadAll rate measured in the same run.
func BenchmarkRebuild1M(b *testing.B) {
	store, head := benchStore(b)
	defer store.Close()
	cases := []struct {
		name             string
		batch, readAhead int
		proj             func() projections.Projector
	}{
		{"counter/batch=1000/readahead=4", 1000, 4, func() projections.Projector { return counter{} }},
		{"counter/batch=5000/readahead=8", 5000, 8, func() projections.Projector { return counter{} }},
		{"counter/batch=256/readahead=1", 256, 1, func() projections.Projector { return counter{} }},
		{"activity/batch=1000/readahead=4", 1000, 4, func() projections.Projector { return activity.New() }},
		{"streams/batch=1000/readahead=4", 1000, 4, func() projections.Projector { return streams.New() }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var raw, rebuilt float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				raw += readAllRate(b, store, head)
				dir := b.TempDir()
				r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil,
					projections.Options{BatchSize: tc.batch, ReadAhead: tc.readAhead}, tc.proj())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if err := r.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				if err := r.WaitSettled(context.Background(), tc.proj().Name()); err != nil {
					b.Fatal(err)
				}
				rebuilt += float64(head) / time.Since(start).Seconds()
				b.StopTimer()
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			raw, rebuilt = raw/float64(b.N), rebuilt/float64(b.N)
			b.ReportMetric(rebuilt, "events/s")
			b.ReportMetric(raw, "readall-events/s")
			b.ReportMetric(rebuilt/raw, "ratio")
		})
	}
}

// BenchmarkLiveLag appends at a paced 5,000 events/s (one event per
// append, 64 concurrent appenders) while the activity and streams
// projections run, and measures, per append, the time from the append's
// acknowledgement until both projections have applied it (WaitFor).
// HANSE_BENCH_LAG_SECONDS sets the duration (default 3).
func BenchmarkLiveLag(b *testing.B) {
	seconds := 3
	if v, err := strconv.Atoi(os.Getenv("HANSE_BENCH_LAG_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	const rate = 5000
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		store := openStore(b, dir)
		r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, activity.New(), streams.New())
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		total := rate * seconds
		jobs := make(chan int, total)
		lat := make([]time.Duration, total)
		var wg sync.WaitGroup
		for w := 0; w < 64; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					res, err := store.Append(context.Background(), fmt.Sprintf("community-%d", j%200), events.Any,
						events.EventData{ID: events.NewUUID(), Type: "community.post_published", Data: []byte(`{"n":1}`),
							Metadata: events.Metadata{Actor: "person-1", OccurredAt: time.Now()}})
					if err != nil {
						b.Error(err)
						return
					}
					acked := time.Now()
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err = r.WaitFor(ctx, activity.Name, res.Position)
					if err == nil {
						err = r.WaitFor(ctx, streams.Name, res.Position)
					}
					cancel()
					if err != nil {
						b.Error(err)
						return
					}
					lat[j] = time.Since(acked)
				}
			}()
		}
		start := time.Now()
		tick := time.NewTicker(time.Millisecond)
		sent := 0
		for sent < total {
			<-tick.C
			due := min(total, int(time.Since(start).Seconds()*rate)+1)
			for ; sent < due; sent++ {
				jobs <- sent
			}
		}
		tick.Stop()
		close(jobs)
		wg.Wait()
		elapsed := time.Since(start)
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
		b.ReportMetric(float64(total)/elapsed.Seconds(), "appends/s")
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	}
}
