package remoteactors_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/projectiontest"
	"github.com/hanse-network/hanse/projections/remoteactors"

	_ "modernc.org/sqlite"
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC) }

const bob = "https://remote.example/users/bob"

func fetched(iri, key string, sec int) remote.ActorFetched {
	return remote.ActorFetched{IRI: iri, Type: "Person", Inbox: iri + "/inbox", SharedInbox: "https://remote.example/inbox",
		KeyID: key, PublicKeyPEM: "PEM " + key, FetchedAt: at(sec), Raw: json.RawMessage(`{"id":"` + iri + `"}`)}
}

// project appends the payloads to a fresh store and runs the projection.
func project(t *testing.T, payloads []any) (remoteactors.Reader, *projections.Runner) {
	t.Helper()
	env := projectiontest.Open(t)
	remote.Register(env.Registry)
	for _, p := range payloads {
		iri := ""
		switch v := p.(type) {
		case remote.ActorFetched:
			iri = v.IRI
		case remote.ActorGone:
			iri = v.IRI
		}
		env.Record(remote.ActorStream(iri), p, events.Metadata{})
	}
	r := env.Start(remoteactors.New())
	return remoteactors.NewReader(r.DB()), r
}

func TestRemoteActorsGivenEventsThenReader(t *testing.T) {
	type query struct {
		byKey    bool
		key      string
		wantKey  string // expected KeyID of the answer
		wantGone bool
		wantErr  error
	}
	cases := []struct {
		name  string
		given []any
		query []query
	}{
		{"fetched", []any{fetched(bob, bob+"#main-key", 1)}, []query{
			{key: bob, wantKey: bob + "#main-key"},
			{byKey: true, key: bob + "#main-key", wantKey: bob + "#main-key"},
			{key: bob + "x", wantErr: remoteactors.ErrNotFound},
			{byKey: true, key: bob + "#other", wantErr: remoteactors.ErrNotFound},
		}},
		{"latest document wins; old key id leaves the index", []any{fetched(bob, bob+"#main-key", 1), fetched(bob, bob+"#key-2", 2)}, []query{
			{key: bob, wantKey: bob + "#key-2"},
			{byKey: true, key: bob + "#key-2", wantKey: bob + "#key-2"},
			{byKey: true, key: bob + "#main-key", wantErr: remoteactors.ErrNotFound},
		}},
		{"gone keeps the document, leaves the key index", []any{fetched(bob, bob+"#main-key", 1), remote.ActorGone{IRI: bob, GoneAt: at(3)}}, []query{
			{key: bob, wantKey: bob + "#main-key", wantGone: true},
			{byKey: true, key: bob + "#main-key", wantErr: remoteactors.ErrNotFound},
		}},
		{"gone without a document", []any{remote.ActorGone{IRI: bob, GoneAt: at(3)}}, []query{
			{key: bob, wantGone: true},
		}},
		{"reappears after gone", []any{remote.ActorGone{IRI: bob, GoneAt: at(3)}, fetched(bob, bob+"#main-key", 4)}, []query{
			{key: bob, wantKey: bob + "#main-key"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd, _ := project(t, c.given)
			for _, q := range c.query {
				var a remoteactors.Actor
				var err error
				if q.byKey {
					a, err = rd.ByKeyID(context.Background(), q.key)
				} else {
					a, err = rd.ByIRI(context.Background(), q.key)
				}
				if q.wantErr != nil {
					if !errors.Is(err, q.wantErr) {
						t.Errorf("%s: err = %v, want %v", q.key, err, q.wantErr)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", q.key, err)
					continue
				}
				if a.KeyID != q.wantKey || a.Gone() != q.wantGone || a.IRI != bob {
					t.Errorf("%s: got key %q gone %v iri %q", q.key, a.KeyID, a.Gone(), a.IRI)
				}
				if q.wantKey != "" && (a.PublicKeyPEM != "PEM "+q.wantKey || a.SharedInbox != "https://remote.example/inbox" || string(a.Raw) == "") {
					t.Errorf("%s: document not kept: %+v", q.key, a)
				}
			}
		})
	}
}

func TestRemoteActorsRebuildSameChecksum(t *testing.T) {
	_, r := project(t, []any{fetched(bob, bob+"#main-key", 1), fetched("https://other.example/u/a", "https://other.example/u/a#k", 2),
		remote.ActorGone{IRI: bob, GoneAt: at(3)}})
	ctx := context.Background()
	before, err := r.Checksum(ctx, remoteactors.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(ctx, remoteactors.Name); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.WaitSettled(wctx, remoteactors.Name); err != nil {
		t.Fatal(err)
	}
	after, err := r.Checksum(ctx, remoteactors.Name)
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("checksum changed by rebuild: %s → %s", before, after)
	}
}
