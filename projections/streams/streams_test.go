package streams_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/streams"

	_ "modernc.org/sqlite"
)

type given struct {
	stream, typ string
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens an event store in dir that records events at t0+1s,
// t0+2s, ….
func openStore(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	clock := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet,
		Clock: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func appendAll(t *testing.T, store events.Store, evs []given) events.Position {
	t.Helper()
	var head events.Position
	for _, e := range evs {
		res, err := store.Append(context.Background(), e.stream, events.Any, events.EventData{ID: events.NewUUID(), Type: e.typ, Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		head = res.Position
	}
	return head
}

func startRunner(t *testing.T, store events.Store, dbPath string) *projections.Runner {
	t.Helper()
	r, err := projections.New(store, dbPath, quiet, nil, projections.Options{}, streams.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func waitFor(t *testing.T, r *projections.Runner, pos events.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, streams.Name, pos); err != nil {
		t.Fatal(err)
	}
}

// project appends the given events to a fresh store (recorded at t0+1s,
// t0+2s, …), runs the streams projection over them and returns its reader.
func project(t *testing.T, evs []given) (streams.Reader, *projections.Runner) {
	t.Helper()
	dir := t.TempDir()
	store := openStore(t, dir)
	head := appendAll(t, store, evs)
	r := startRunner(t, store, filepath.Join(dir, "read.db"))
	waitFor(t, r, head)
	return streams.NewReader(r.DB().Reader()), r
}

func at(sec int) time.Time { return time.Date(2025, 3, 1, 12, 0, sec, 0, time.UTC) }

func TestStreamsGivenEventsThenSummary(t *testing.T) {
	cases := []struct {
		name  string
		given []given
		get   string
		want  streams.Stream
	}{
		{
			name:  "one event",
			given: []given{{"community-1", "community.created"}},
			get:   "community-1",
			want: streams.Stream{ID: "community-1", Kind: "community", LastType: "community.created", Revision: 0,
				Events: 1, FirstPosition: 1, LastPosition: 1, FirstAt: at(1), LastAt: at(1)},
		},
		{
			name: "interleaved streams",
			given: []given{{"community-1", "community.created"}, {"person-7", "person.registered"},
				{"community-1", "community.member_joined"}, {"person-7", "person.renamed"}, {"community-1", "community.renamed"}},
			get: "community-1",
			want: streams.Stream{ID: "community-1", Kind: "community", LastType: "community.renamed", Revision: 2,
				Events: 3, FirstPosition: 1, LastPosition: 5, FirstAt: at(1), LastAt: at(5)},
		},
		{
			name:  "kind is the part before the first dash",
			given: []given{{"remote-actor-https://a.example/u/1", "remote.activity_received"}},
			get:   "remote-actor-https://a.example/u/1",
			want: streams.Stream{ID: "remote-actor-https://a.example/u/1", Kind: "remote", LastType: "remote.activity_received",
				Events: 1, FirstPosition: 1, LastPosition: 1, FirstAt: at(1), LastAt: at(1)},
		},
		{
			name:  "name without dash is its own kind",
			given: []given{{"settings", "instance.configured"}, {"settings", "instance.configured"}},
			get:   "settings",
			want: streams.Stream{ID: "settings", Kind: "settings", LastType: "instance.configured", Revision: 1,
				Events: 2, FirstPosition: 1, LastPosition: 2, FirstAt: at(1), LastAt: at(2)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := project(t, tc.given)
			got, err := q.Get(context.Background(), tc.get)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Get(%q) =\n%+v\nwant\n%+v", tc.get, got, tc.want)
			}
		})
	}
}

func TestStreamsListByKindPages(t *testing.T) {
	var evs []given
	for _, id := range []string{"c", "a", "e", "b", "d"} {
		evs = append(evs, given{"community-" + id, "community.created"}, given{"person-" + id, "person.registered"})
	}
	q, _ := project(t, evs)
	ctx := context.Background()
	cases := []struct {
		name     string
		kind     string
		after    string
		limit    int
		wantIDs  []string
		wantNext string
		wantErr  error
	}{
		{"first page", "community", "", 2, []string{"community-a", "community-b"}, "community-b", nil},
		{"second page", "community", "community-b", 2, []string{"community-c", "community-d"}, "community-d", nil},
		{"last page", "community", "community-d", 2, []string{"community-e"}, "", nil},
		{"exact fit has no next", "person", "", 5, []string{"person-a", "person-b", "person-c", "person-d", "person-e"}, "", nil},
		{"default limit", "person", "person-c", 0, []string{"person-d", "person-e"}, "", nil},
		{"unknown kind", "event", "", 10, nil, "", nil},
		{"limit too big", "person", "", streams.MaxLimit + 1, nil, "", streams.ErrInvalidQuery},
		{"negative limit", "person", "", -1, nil, "", streams.ErrInvalidQuery},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := q.ListByKind(ctx, tc.kind, tc.after, tc.limit)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			var ids []string
			for _, s := range page.Items {
				ids = append(ids, s.ID)
			}
			if !reflect.DeepEqual(ids, tc.wantIDs) || page.Next != tc.wantNext {
				t.Fatalf("page = %v next %q, want %v next %q", ids, page.Next, tc.wantIDs, tc.wantNext)
			}
		})
	}
	if _, err := q.Get(ctx, "community-zzz"); !errors.Is(err, streams.ErrNotFound) {
		t.Fatalf("Get missing = %v, want ErrNotFound", err)
	}
}

// TestStreamsRebuildIsDeterministic: the read model built incrementally
// while events arrive, two blue/green rebuilds and a build from scratch in a
// fresh database have one checksum.
func TestStreamsRebuildIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	r := startRunner(t, store, filepath.Join(dir, "read.db"))
	ids := []string{"community-1", "person-2", "event-3", "post-4", "community-5"}
	types := []string{"x.created", "x.changed", "x.renamed"}
	var head events.Position
	for chunk := 0; chunk < 6; chunk++ {
		var evs []given
		for i := chunk * 50; i < (chunk+1)*50; i++ {
			evs = append(evs, given{ids[i*7%len(ids)], types[i%len(types)]})
		}
		head = appendAll(t, store, evs)
		waitFor(t, r, head)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	incremental, err := r.Checksum(ctx, streams.Name)
	if err != nil {
		t.Fatal(err)
	}
	for gen := 1; gen <= 2; gen++ {
		if err := r.Rebuild(ctx, streams.Name); err != nil {
			t.Fatal(err)
		}
		if err := r.WaitSettled(ctx, streams.Name); err != nil {
			t.Fatal(err)
		}
		sts, err := r.Status(ctx)
		if err != nil || len(sts) != 1 || sts[0].Generation != gen || sts[0].Position != head {
			t.Fatalf("status after rebuild %d = %+v (%v)", gen, sts, err)
		}
		rebuilt, err := r.Checksum(ctx, streams.Name)
		if err != nil || rebuilt != incremental {
			t.Fatalf("checksum after rebuild %d = %s (%v), incremental %s", gen, rebuilt, err, incremental)
		}
	}
	fresh := startRunner(t, store, filepath.Join(dir, "fresh.db"))
	waitFor(t, fresh, head)
	scratch, err := fresh.Checksum(ctx, streams.Name)
	if err != nil || scratch != incremental {
		t.Fatalf("from-scratch checksum = %s (%v), incremental %s", scratch, err, incremental)
	}
}
