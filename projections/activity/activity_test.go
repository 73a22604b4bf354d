package activity_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/activity"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

type given struct {
	stream, typ, actor, corr string
}

// appendAll appends evs, the i-th of them occurred at at(first+i) minus an
// hour, and returns the last position.
func appendAll(env *projectiontest.Env, first int, evs []given) events.Position {
	for i, e := range evs {
		env.Append(e.stream, events.EventData{ID: events.NewUUID(), Type: e.typ, Data: []byte(`{}`),
			Metadata: events.Metadata{Actor: e.actor, CorrelationID: e.corr, OccurredAt: at(first + i).Add(-time.Hour)}})
	}
	return env.Head
}

// project appends evs (recorded at t0+1s, t0+2s, …; occurred one hour
// earlier), runs the activity projection and returns its reader.
func project(t *testing.T, evs []given) activity.Reader {
	t.Helper()
	env := projectiontest.OpenTicking(t, t0)
	appendAll(env, 1, evs)
	r := env.Start(activity.New())
	return activity.NewReader(r.DB().Reader())
}

// t0 is the store clock's start: events are recorded at t0+1s, t0+2s, ….
var t0 = at(0)

func at(sec int) time.Time { return time.Date(2025, 3, 1, 12, 0, sec, 0, time.UTC) }

// The feed used by the filter table: positions 1..8.
var feed = []given{
	{"community-1", "community.created", "person-a", "c1"},     // 1
	{"person-a", "person.registered", "", "c2"},                // 2
	{"community-1", "community.member_joined", "person-a", ""}, // 3
	{"community-12", "community.created", "person-b", "c4"},    // 4
	{"communityx-1", "communityx.created", "person-b", "c5"},   // 5
	{"community-1", "community.member_joined", "person-b", ""}, // 6
	{"event-9", "event.scheduled", "person-a", "c7"},           // 7
	{"community-2", "community.created", "person-c", "c8"},     // 8
}

func TestActivityEntryFields(t *testing.T) {
	q := project(t, feed[:1])
	page, err := q.List(context.Background(), activity.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("items = %d", len(page.Items))
	}
	e := page.Items[0]
	e.EventID = "" // random
	want := activity.Entry{Position: 1, StreamID: "community-1", Type: "community.created", Revision: 0,
		OccurredAt: at(1).Add(-time.Hour), RecordedAt: at(1), Actor: "person-a", CorrelationID: "c1"}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("entry =\n%+v\nwant\n%+v", e, want)
	}
	if _, err := events.ParseUUID(page.Items[0].EventID); err != nil {
		t.Fatalf("event id %q: %v", page.Items[0].EventID, err)
	}
}

func TestActivityFilters(t *testing.T) {
	q := project(t, feed)
	cases := []struct {
		name     string
		filter   activity.Filter
		want     []events.Position
		wantNext events.Position
		wantErr  error
	}{
		{"newest first", activity.Filter{}, []events.Position{8, 7, 6, 5, 4, 3, 2, 1}, 0, nil},
		{"limit gives a cursor", activity.Filter{Limit: 3}, []events.Position{8, 7, 6}, 6, nil},
		{"before cursor", activity.Filter{Before: 6, Limit: 3}, []events.Position{5, 4, 3}, 3, nil},
		{"last page", activity.Filter{Before: 3, Limit: 3}, []events.Position{2, 1}, 0, nil},
		{"after cursor runs forwards", activity.Filter{After: 5, Limit: 2}, []events.Position{6, 7}, 7, nil},
		{"after to the end", activity.Filter{After: 7}, []events.Position{8}, 0, nil},
		{"between", activity.Filter{After: 2, Before: 6}, []events.Position{5, 4, 3}, 0, nil},
		{"stream prefix with dash", activity.Filter{StreamPrefix: "community-1"}, []events.Position{6, 4, 3, 1}, 0, nil},
		{"stream prefix kind", activity.Filter{StreamPrefix: "community-"}, []events.Position{8, 6, 4, 3, 1}, 0, nil},
		{"stream prefix without dash", activity.Filter{StreamPrefix: "community"}, []events.Position{8, 6, 5, 4, 3, 1}, 0, nil},
		{"exact stream", activity.Filter{StreamPrefix: "person-a"}, []events.Position{2}, 0, nil},
		{"type", activity.Filter{Type: "community.created"}, []events.Position{8, 4, 1}, 0, nil},
		{"type and prefix", activity.Filter{Type: "community.member_joined", StreamPrefix: "community-1"}, []events.Position{6, 3}, 0, nil},
		{"type paged", activity.Filter{Type: "community.created", Limit: 2}, []events.Position{8, 4}, 4, nil},
		{"no match", activity.Filter{Type: "post.published"}, nil, 0, nil},
		{"limit too big", activity.Filter{Limit: activity.MaxLimit + 1}, nil, 0, activity.ErrInvalidFilter},
		{"negative limit", activity.Filter{Limit: -1}, nil, 0, activity.ErrInvalidFilter},
		{"bad type", activity.Filter{Type: "Not A Type"}, nil, 0, activity.ErrInvalidFilter},
		{"after not below before", activity.Filter{After: 5, Before: 5}, nil, 0, activity.ErrInvalidFilter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := q.List(context.Background(), tc.filter)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			var got []events.Position
			for _, e := range page.Items {
				got = append(got, e.Position)
			}
			if !reflect.DeepEqual(got, tc.want) || page.Next != tc.wantNext {
				t.Fatalf("positions %v next %d, want %v next %d", got, page.Next, tc.want, tc.wantNext)
			}
		})
	}
}

func TestActivityPagingWalksWholeFeed(t *testing.T) {
	var evs []given
	for i := 0; i < 250; i++ {
		evs = append(evs, given{fmt.Sprintf("post-%d", i%7), "post.published", "", ""})
	}
	q := project(t, evs)
	seen := 0
	f := activity.Filter{Limit: 40}
	want := events.Position(250)
	for {
		page, err := q.List(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			if e.Position != want {
				t.Fatalf("got position %d, want %d", e.Position, want)
			}
			want--
			seen++
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	if seen != 250 {
		t.Fatalf("walked %d entries, want 250", seen)
	}
}

func TestActivityNotLiveYet(t *testing.T) {
	dir := t.TempDir()
	db, err := projections.OpenDB(context.Background(), filepath.Join(dir, "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = activity.NewReader(db.Reader()).List(context.Background(), activity.Filter{})
	if !errors.Is(err, projections.ErrNotLive) {
		t.Fatalf("List before any build = %v, want ErrNotLive", err)
	}
}

// TestActivityRebuildIsDeterministic: the feed built incrementally while
// events arrive, two blue/green rebuilds and a build from scratch in a fresh
// database have one checksum.
func TestActivityRebuildIsDeterministic(t *testing.T) {
	env := projectiontest.OpenTicking(t, t0)
	r := env.Runner("read.db", activity.New())
	var head events.Position
	for chunk := 0; chunk < 6; chunk++ {
		var evs []given
		for i := chunk * 40; i < (chunk+1)*40; i++ {
			f := feed[i%len(feed)]
			evs = append(evs, given{f.stream, f.typ, f.actor, fmt.Sprintf("c-%d", i)})
		}
		head = appendAll(env, chunk*40+1, evs)
		env.WaitAll(r, head)
	}
	ctx := context.Background()
	incremental := projectiontest.RebuildTwiceSameChecksum(t, r, activity.Name, func(gen int) {
		sts, err := r.Status(ctx)
		if err != nil || len(sts) != 1 || sts[0].Generation != gen || sts[0].Position != head {
			t.Fatalf("status after rebuild %d = %+v (%v)", gen, sts, err)
		}
	})
	fresh := env.Runner("fresh.db", activity.New())
	env.WaitAll(fresh, head)
	scratch, err := fresh.Checksum(ctx, activity.Name)
	if err != nil || scratch != incremental {
		t.Fatalf("from-scratch checksum = %s (%v), incremental %s", scratch, err, incremental)
	}
}
