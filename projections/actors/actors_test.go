package actors_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// given is one event of an actor stream, occurring at second sec.
type given struct {
	id      string
	sec     int
	payload any
}

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

// project appends the given events to a fresh store, runs the actors
// projection over them and returns its reader and runner.
func project(t *testing.T, evs []given) (actors.Reader, *projections.Runner) {
	t.Helper()
	env := projectiontest.Open(t)
	actor.Register(env.Registry)
	for _, e := range evs {
		stream := actor.Stream(e.id)
		if r, ok := e.payload.(actor.UsernameReserved); ok {
			stream = actor.UsernameStream(r.Username)
		}
		env.Record(stream, e.payload, events.Metadata{OccurredAt: at(e.sec), Actor: "admin-1"})
	}
	// Unrelated events are skipped.
	env.AppendUnrelated()
	r := env.Start(actors.New())
	return actors.NewReader(r.DB()), r
}

const (
	pub1 = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
	pub2 = "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n"
)

func created(id string, kind actor.Kind, username string) actor.Created {
	return actor.Created{ActorID: id, Kind: kind, Username: username, Name: "Name " + username,
		PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed-" + id), KeyGeneration: 1}
}

func TestActorsGivenEventsThenReader(t *testing.T) {
	alice := actors.Actor{ID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Name alice", PublicKeyPEM: pub1,
		SealedPrivateKey: []byte("sealed-a1"), KeyGeneration: 1, CreatedAt: at(1), UpdatedAt: at(1)}
	type query struct {
		by      string // "username", "id" or "instance"
		key     string
		want    actors.Actor
		wantErr error
	}
	cases := []struct {
		name   string
		given  []given
		query  []query
		counts actors.Counts
	}{
		{
			name:  "created",
			given: []given{{"a1", 0, actor.UsernameReserved{Username: "alice", ActorID: "a1"}}, {"a1", 1, created("a1", actor.KindPerson, "alice")}},
			query: []query{
				{by: "username", key: "alice", want: alice},
				{by: "username", key: "ALICE", want: alice},
				{by: "id", key: "a1", want: alice},
				{by: "username", key: "bob", wantErr: actors.ErrNotFound},
				{by: "id", key: "a2", wantErr: actors.ErrNotFound},
				{by: "instance", wantErr: actors.ErrNotFound},
			},
			counts: actors.Counts{People: 1},
		},
		{
			name:  "a reservation alone is no actor",
			given: []given{{"a1", 0, actor.UsernameReserved{Username: "alice", ActorID: "a1"}}},
			query: []query{{by: "username", key: "alice", wantErr: actors.ErrNotFound}, {by: "id", key: "a1", wantErr: actors.ErrNotFound}},
		},
		{
			name: "profile update changes only the given fields",
			given: []given{{"a1", 1, created("a1", actor.KindPerson, "alice")},
				{"a1", 2, actor.ProfileUpdated{Summary: ptr("Hallo"), Discoverable: ptr(true)}},
				{"a1", 3, actor.ProfileUpdated{Name: ptr("Alice"), ManuallyApprovesFollowers: ptr(true), Discoverable: ptr(false)}}},
			query: []query{{by: "id", key: "a1", want: actors.Actor{ID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Alice",
				Summary: "Hallo", ManuallyApprovesFollowers: true, PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed-a1"),
				KeyGeneration: 1, CreatedAt: at(1), UpdatedAt: at(3)}}},
			counts: actors.Counts{People: 1},
		},
		{
			name: "key rotation replaces the key",
			given: []given{{"a1", 1, created("a1", actor.KindPerson, "alice")},
				{"a1", 5, actor.KeyRotated{PublicKeyPEM: pub2, SealedPrivateKey: []byte("sealed-2"), KeyGeneration: 2}}},
			query: []query{{by: "username", key: "alice", want: actors.Actor{ID: "a1", Kind: actor.KindPerson, Username: "alice",
				Name: "Name alice", PublicKeyPEM: pub2, SealedPrivateKey: []byte("sealed-2"), KeyGeneration: 2,
				CreatedAt: at(1), UpdatedAt: at(5)}}},
			counts: actors.Counts{People: 1},
		},
		{
			name: "deleted actors are kept with DeletedAt and not counted",
			given: []given{{"a1", 1, created("a1", actor.KindPerson, "alice")}, {"g1", 2, created("g1", actor.KindGroup, "lernen")},
				{"a1", 7, actor.Deleted{Reason: "left"}}},
			query: []query{
				{by: "username", key: "Alice", want: actors.Actor{ID: "a1", Kind: actor.KindPerson, Username: "alice", Name: "Name alice",
					PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed-a1"), KeyGeneration: 1, CreatedAt: at(1), UpdatedAt: at(7), DeletedAt: at(7)}},
			},
			counts: actors.Counts{Communities: 1},
		},
		{
			name: "counts by kind",
			given: []given{{"p1", 1, created("p1", actor.KindPerson, "p1")}, {"p2", 2, created("p2", actor.KindPerson, "p2")},
				{"p3", 3, created("p3", actor.KindPerson, "p3")}, {"g1", 4, created("g1", actor.KindGroup, "g1")},
				{"g2", 5, created("g2", actor.KindGroup, "g2")}, {"o1", 6, created("o1", actor.KindOrganization, "o1")},
				{actor.InstanceID, 7, created(actor.InstanceID, actor.KindApplication, "hanse.example")},
				{"p2", 8, actor.Deleted{}}, {"g2", 9, actor.Deleted{}}},
			query: []query{{by: "instance", want: actors.Actor{ID: actor.InstanceID, Kind: actor.KindApplication, Username: "hanse.example",
				Name: "Name hanse.example", PublicKeyPEM: pub1, SealedPrivateKey: []byte("sealed-instance"), KeyGeneration: 1,
				CreatedAt: at(7), UpdatedAt: at(7)}}},
			counts: actors.Counts{People: 2, Communities: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := project(t, tc.given)
			ctx := context.Background()
			for _, qq := range tc.query {
				var got actors.Actor
				var err error
				switch qq.by {
				case "username":
					got, err = q.ByUsername(ctx, qq.key)
				case "id":
					got, err = q.ByID(ctx, qq.key)
				case "instance":
					got, err = q.InstanceActor(ctx)
				}
				if !errors.Is(err, qq.wantErr) {
					t.Fatalf("%s %q: err = %v, want %v", qq.by, qq.key, err, qq.wantErr)
				}
				if !reflect.DeepEqual(got, qq.want) {
					t.Fatalf("%s %q =\n%+v\nwant\n%+v", qq.by, qq.key, got, qq.want)
				}
			}
			c, err := q.Counts(ctx)
			if err != nil || c != tc.counts {
				t.Fatalf("Counts = %+v, %v; want %+v", c, err, tc.counts)
			}
		})
	}
}

func TestActorsEventBeforeCreatedStopsTheProjection(t *testing.T) {
	env := projectiontest.Open(t)
	actor.Register(env.Registry)
	pos := env.Record(actor.Stream("ghost"), actor.Deleted{}, events.Metadata{OccurredAt: at(1)})
	r := env.Runner("read.db", actors.New())
	if err := projectiontest.Await(r, actors.Name, pos); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("WaitFor = %v, want ErrFailed", err)
	}
}

func TestActorsRebuildIsDeterministic(t *testing.T) {
	var evs []given
	for i := range 60 {
		id := fmt.Sprintf("a%d", i)
		kind := []actor.Kind{actor.KindPerson, actor.KindGroup, actor.KindOrganization}[i%3]
		evs = append(evs, given{id, i, actor.UsernameReserved{Username: id, ActorID: id}}, given{id, i, created(id, kind, id)})
		if i%2 == 0 {
			evs = append(evs, given{id, i + 1, actor.ProfileUpdated{Summary: ptr(fmt.Sprintf("summary %d", i))}})
		}
		if i%5 == 0 {
			evs = append(evs, given{id, i + 2, actor.KeyRotated{PublicKeyPEM: pub2, SealedPrivateKey: []byte{byte(i), 0, 255}, KeyGeneration: 2}})
		}
		if i%7 == 0 {
			evs = append(evs, given{id, i + 3, actor.Deleted{}})
		}
	}
	q, r := project(t, evs)
	ctx := context.Background()
	projectiontest.RebuildTwiceSameChecksum(t, r, actors.Name, nil)
	c, err := q.Counts(ctx)
	// 60 actors, 20 of each kind; deleted: i%7 == 0 → i in {0,7,...,56}: 9 actors.
	wantPeople, wantGroups := 0, 0
	for i := range 60 {
		if i%7 == 0 {
			continue
		}
		switch i % 3 {
		case 0:
			wantPeople++
		case 1:
			wantGroups++
		}
	}
	if err != nil || c != (actors.Counts{People: wantPeople, Communities: wantGroups}) {
		t.Fatalf("Counts after rebuilds = %+v, %v; want %d people, %d communities", c, err, wantPeople, wantGroups)
	}
}
