package resolve_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// docRecorder keeps every recorded document; fail makes it fail.
type docRecorder struct {
	mu   sync.Mutex
	docs []remote.ActorFetched
	fail error
}

func (d *docRecorder) RecordRemoteActor(_ context.Context, a remote.ActorFetched) (events.Position, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return 0, false, d.fail
	}
	d.docs = append(d.docs, a)
	return events.Position(len(d.docs)), true, nil
}

func (d *docRecorder) RecordRemoteActorGone(context.Context, remote.ActorGone) (events.Position, bool, error) {
	return 1, true, nil
}

func (d *docRecorder) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.docs)
}

func (d *docRecorder) last() remote.ActorFetched {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.docs[len(d.docs)-1]
}

const (
	pemA = "-----BEGIN PUBLIC KEY-----\nAAAAkeyA\n-----END PUBLIC KEY-----\n"
	pemB = "-----BEGIN PUBLIC KEY-----\nBBBBkeyB\n-----END PUBLIC KEY-----\n"
)

// actorDoc is an actor document of iri named name with key pem.
func actorDoc(iri, name, pem string) map[string]any {
	return map[string]any{"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id": iri, "type": "Person", "preferredUsername": "kim", "name": name, "inbox": iri + "/inbox",
		"publicKey": map[string]any{"id": iri + "#main-key", "owner": iri, "publicKeyPem": pem}}
}

func TestUpdate(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		// push builds the pushed document from the actor's IRI (nil: by IRI).
		push func(iri string) map[string]any
		// seed: the actor is fetched (name "Served", key A) before the update.
		seed bool
		// received is the update's receipt, relative to the seed fetch.
		received time.Duration
		// pace: RefreshInterval of one minute (else unlimited).
		pace      bool
		failStore bool
		want      resolve.UpdateOutcome
		wantErr   error
		wantGets  int    // GETs caused by the update
		wantName  string // name Actor returns afterwards ("" no check)
		wantPEM   string
	}{
		{name: "profile change is recorded as pushed", seed: true, received: time.Second,
			push: func(iri string) map[string]any { return actorDoc(iri, "Pushed", pemA) },
			want: resolve.UpdateRecorded, wantName: "Pushed", wantPEM: pemA},
		{name: "PEM spelled with other line breaks is the same key", seed: true, received: time.Second,
			push: func(iri string) map[string]any {
				return actorDoc(iri, "Pushed", "-----BEGIN PUBLIC KEY-----\r\nAAAAkeyA\r\n-----END PUBLIC KEY-----")
			},
			want: resolve.UpdateRecorded, wantName: "Pushed"},
		{name: "changed key is refetched, not trusted", seed: true, received: 2 * time.Minute,
			push: func(iri string) map[string]any { return actorDoc(iri, "Evil", pemB) },
			want: resolve.UpdateRefetched, wantGets: 1, wantName: "Served", wantPEM: pemA},
		{name: "added assertionMethod is refetched", seed: true, received: 2 * time.Minute,
			push: func(iri string) map[string]any {
				d := actorDoc(iri, "Evil", pemA)
				d["assertionMethod"] = []any{map[string]any{"id": iri + "#ed25519-key", "type": "Multikey", "controller": iri,
					"publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}}
				return d
			},
			want: resolve.UpdateRefetched, wantGets: 1, wantName: "Served"},
		{name: "key change refetch is paced", seed: true, received: time.Second, pace: true,
			push:    func(iri string) map[string]any { return actorDoc(iri, "Evil", pemB) },
			wantErr: resolve.ErrRefreshTooSoon, wantName: "Served", wantPEM: pemA},
		{name: "unknown actor is refetched", received: time.Second,
			push: func(iri string) map[string]any { return actorDoc(iri, "Pushed", pemA) },
			want: resolve.UpdateRefetched, wantGets: 1, wantName: "Served"},
		{name: "by IRI is refetched", seed: true, received: 2 * time.Minute,
			want: resolve.UpdateRefetched, wantGets: 1, wantName: "Served"},
		{name: "partial document is refetched", seed: true, received: 2 * time.Minute,
			push: func(iri string) map[string]any { return map[string]any{"id": iri, "type": "Person", "name": "Partial"} },
			want: resolve.UpdateRefetched, wantGets: 1, wantName: "Served"},
		{name: "update older than the recorded document is stale", seed: true, received: -time.Second,
			push: func(iri string) map[string]any { return actorDoc(iri, "Old", pemA) },
			want: resolve.UpdateStale, wantName: "Served"},
		{name: "update received as the document was fetched is stale", seed: true,
			push: func(iri string) map[string]any { return actorDoc(iri, "Same instant", pemA) },
			want: resolve.UpdateStale, wantName: "Served"},
		{name: "document of another actor", seed: true, received: time.Second,
			push:    func(iri string) map[string]any { return actorDoc(iri+"-victim", "Victim", pemB) },
			wantErr: resolve.ErrInvalidDocument, wantName: "Served"},
		{name: "store failure", seed: true, received: time.Second, failStore: true,
			push:    func(iri string) map[string]any { return actorDoc(iri, "Pushed", pemA) },
			wantErr: resolve.ErrRecording, wantName: "Served"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var gets atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gets.Add(1)
				w.Header().Set("Content-Type", "application/activity+json")
				_ = json.NewEncoder(w).Encode(actorDoc("http://"+r.Host+r.URL.Path, "Served", pemA))
			}))
			defer srv.Close()
			iri := srv.URL + "/users/kim"
			var mu sync.Mutex
			now := t0
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			interval := -1 * time.Second
			if c.pace {
				interval = time.Minute
			}
			allow, _ := fetch.ParseAllowList("127.0.0.0/8,::1/128")
			rec := &docRecorder{}
			r := resolve.New(resolve.Options{Client: fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}}), Recorder: rec,
				Scheme: urls.MustNew("http://hanse.test"), Clock: clock, RefreshInterval: interval})
			ctx := context.Background()
			if c.seed {
				if _, err := r.Actor(ctx, iri); err != nil {
					t.Fatal(err)
				}
			}
			before, recorded := gets.Load(), rec.count()
			mu.Lock()
			now = t0.Add(c.received)
			mu.Unlock()
			rec.fail = map[bool]error{true: errors.New("disk I/O error")}[c.failStore]
			var doc []byte
			if c.push != nil {
				doc, _ = json.Marshal(c.push(iri))
			}

			a, outcome, err := r.Update(ctx, iri, doc, t0.Add(c.received))

			rec.fail = nil
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if err == nil && outcome != c.want {
				t.Fatalf("outcome %s, want %s", outcome, c.want)
			}
			if n := gets.Load() - before; n != int64(c.wantGets) {
				t.Fatalf("%d GETs, want %d", n, c.wantGets)
			}
			switch {
			case outcome == resolve.UpdateRecorded:
				if rec.count() != recorded+1 || string(rec.last().Raw) != string(doc) || !rec.last().FetchedAt.Equal(t0.Add(c.received)) {
					t.Fatalf("recorded %d documents, last %+v", rec.count()-recorded, rec.last())
				}
			case outcome == resolve.UpdateRefetched:
				if rec.count() != recorded+1 || rec.last().Name != "Served" {
					t.Fatalf("recorded %d documents after the refetch", rec.count()-recorded)
				}
			default:
				if rec.count() != recorded {
					t.Fatalf("recorded %d documents, want none", rec.count()-recorded)
				}
			}
			if err == nil && outcome != resolve.UpdateStale && a.Name != c.wantName {
				t.Fatalf("Update returned %q, want %q", a.Name, c.wantName)
			}
			// What the resolver answers afterwards, without another fetch.
			before = gets.Load()
			got, err := r.Actor(ctx, iri)
			if err != nil || got.Name != c.wantName || (c.wantPEM != "" && got.PublicKeyPEM != c.wantPEM) || gets.Load() != before {
				t.Fatalf("Actor = %q %q (%v), %d GETs; want %q %q", got.Name, got.PublicKeyPEM, err, gets.Load()-before, c.wantName, c.wantPEM)
			}
		})
	}
	t.Run("local IRI", func(t *testing.T) {
		r := resolve.New(resolve.Options{Recorder: &docRecorder{}, Scheme: urls.MustNew("http://hanse.test")})
		doc, _ := json.Marshal(actorDoc("http://hanse.test/users/alice", "x", pemA))
		if _, _, err := r.Update(context.Background(), "http://hanse.test/users/alice", doc, t0); !errors.Is(err, resolve.ErrLocal) {
			t.Fatalf("err = %v", err)
		}
	})
}
