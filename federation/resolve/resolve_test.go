package resolve_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

type memRecorder struct{ fetched, gone atomic.Int64 }

func (m *memRecorder) RecordRemoteActor(context.Context, remote.ActorFetched) (events.Position, bool, error) {
	m.fetched.Add(1)
	return 1, true, nil
}
func (m *memRecorder) RecordRemoteActorGone(context.Context, remote.ActorGone) (events.Position, bool, error) {
	m.gone.Add(1)
	return 1, true, nil
}

// TestResolver runs a peer that publishes its key as a separate key
// document (owner → actor), a gone actor, and WebFinger.
func TestResolver(t *testing.T) {
	key, err := httpsig.GenerateRSAKey()
	if err != nil {
		t.Fatal(err)
	}
	pemText, _ := httpsig.EncodePublicKeyPEM(&key.PublicKey)
	var gets atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		base := srv.URL
		var doc any
		switch r.URL.Path {
		case "/u/kim":
			doc = map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": base + "/u/kim", "type": "Person",
				"inbox": base + "/u/kim/inbox", "endpoints": map[string]any{"sharedInbox": base + "/inbox"},
				"publicKey": map[string]any{"id": base + "/u/kim/main-key", "owner": base + "/u/kim", "publicKeyPem": pemText}}
		case "/u/kim/main-key":
			doc = map[string]any{"id": base + "/u/kim/main-key", "owner": base + "/u/kim", "publicKeyPem": pemText}
		case "/u/liar":
			doc = map[string]any{"id": base + "/u/someone-else", "type": "Person", "inbox": base + "/x"}
		case "/u/old":
			w.WriteHeader(http.StatusGone)
			return
		case "/.well-known/webfinger":
			if r.URL.Query().Get("resource") != "acct:kim@"+r.Host {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/jrd+json")
			_ = json.NewEncoder(w).Encode(map[string]any{"subject": "acct:kim@" + r.Host,
				"links": []any{map[string]any{"rel": "self", "type": "application/activity+json", "href": base + "/u/kim"}}})
			return
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	allow, _ := fetch.ParseAllowList("127.0.0.0/8,::1/128")
	rec := &memRecorder{}
	r := resolve.New(resolve.Options{Client: fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}}), Recorder: rec,
		Scheme: urls.MustNew("http://hanse.test"), PlainHTTPPeers: true})
	ctx := context.Background()

	t.Run("separate key document names its owner", func(t *testing.T) {
		pk, err := r.KeyResolver(ctx, srv.URL+"/u/kim/main-key")
		if err != nil {
			t.Fatal(err)
		}
		if pk.Owner != srv.URL+"/u/kim" || !key.PublicKey.Equal(pk.Key) {
			t.Fatalf("key %+v", pk)
		}
		before := gets.Load()
		if _, err := r.KeyResolver(ctx, srv.URL+"/u/kim/main-key"); err != nil {
			t.Fatal(err)
		}
		if gets.Load() != before {
			t.Fatal("cached key fetched again")
		}
	})
	t.Run("actor from the LRU", func(t *testing.T) {
		a, err := r.Actor(ctx, srv.URL+"/u/kim")
		if err != nil || a.SharedInbox != srv.URL+"/inbox" || a.KeyID != srv.URL+"/u/kim/main-key" {
			t.Fatalf("%+v %v", a, err)
		}
	})
	t.Run("id of another actor is refused", func(t *testing.T) {
		if _, err := r.Actor(ctx, srv.URL+"/u/liar"); !errors.Is(err, resolve.ErrInvalidDocument) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("410 records gone", func(t *testing.T) {
		if _, err := r.Actor(ctx, srv.URL+"/u/old"); !errors.Is(err, resolve.ErrGone) {
			t.Fatalf("err = %v", err)
		}
		if rec.gone.Load() != 1 {
			t.Fatal("gone not recorded")
		}
	})
	t.Run("local IRIs are never fetched", func(t *testing.T) {
		before := gets.Load()
		for _, iri := range []string{"http://hanse.test/users/alice", "http://hanse.test/users/alice#main-key"} {
			if _, err := r.KeyResolver(ctx, iri); !errors.Is(err, resolve.ErrLocal) {
				t.Fatalf("%s: err = %v", iri, err)
			}
		}
		if gets.Load() != before {
			t.Fatal("a local IRI was fetched")
		}
	})
	t.Run("handle by WebFinger over plain HTTP", func(t *testing.T) {
		host := strings.TrimPrefix(srv.URL, "http://")
		iri, err := r.ResolveHandle(ctx, "@kim@"+host)
		if err != nil || iri != srv.URL+"/u/kim" {
			t.Fatalf("iri %q err %v", iri, err)
		}
		if _, err := r.ResolveHandle(ctx, "nobody@"+host); !errors.Is(err, resolve.ErrNotFound) {
			t.Fatalf("unknown handle: %v", err)
		}
	})
}
