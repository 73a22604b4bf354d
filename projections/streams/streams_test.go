package streams_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/projectiontest"
	"github.com/hanse-network/hanse/projections/streams"
)

type given struct {
	stream, typ string
}

func appendAll(env *projectiontest.Env, evs []given) events.Position {
	for _, e := range evs {
		env.Append(e.stream, events.EventData{ID: events.NewUUID(), Type: e.typ, Data: []byte(`{}`)})
	}
	return env.Head
}

// project appends the given events to a fresh store (recorded at t0+1s,
// t0+2s, …), runs the streams projection over them and returns its reader.
func project(t *testing.T, evs []given) (streams.Reader, *projections.Runner) {
	t.Helper()
	env := projectiontest.OpenTicking(t, t0)
	appendAll(env, evs)
	r := env.Start(streams.New())
	return streams.NewReader(r.DB().Reader()), r
}

// t0 is the store clock's start: events are recorded at t0+1s, t0+2s, ….
var t0 = at(0)

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
	env := projectiontest.OpenTicking(t, t0)
	r := env.Runner("read.db", streams.New())
	ids := []string{"community-1", "person-2", "event-3", "post-4", "community-5"}
	types := []string{"x.created", "x.changed", "x.renamed"}
	var head events.Position
	for chunk := 0; chunk < 6; chunk++ {
		var evs []given
		for i := chunk * 50; i < (chunk+1)*50; i++ {
			evs = append(evs, given{ids[i*7%len(ids)], types[i%len(types)]})
		}
		head = appendAll(env, evs)
		env.WaitAll(r, head)
	}
	ctx := context.Background()
	incremental := projectiontest.RebuildTwiceSameChecksum(t, r, streams.Name, func(gen int) {
		sts, err := r.Status(ctx)
		if err != nil || len(sts) != 1 || sts[0].Generation != gen || sts[0].Position != head {
			t.Fatalf("status after rebuild %d = %+v (%v)", gen, sts, err)
		}
	})
	fresh := env.Runner("fresh.db", streams.New())
	env.WaitAll(fresh, head)
	scratch, err := fresh.Checksum(ctx, streams.Name)
	if err != nil || scratch != incremental {
		t.Fatalf("from-scratch checksum = %s (%v), incremental %s", scratch, err, incremental)
	}
}
