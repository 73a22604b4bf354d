package process_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/process"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/remoteactors"
)

// updateFixture is Mastodon's Update{Person}, reached from the repository
// root as ../shared/fixtures/mastodon/update_person.json.
var updateFixture = filepath.Join("..", "..", "..", "shared", "fixtures", "mastodon", "update_person.json")

// actorServer serves one actor document per path, counting GETs.
type actorServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]map[string]any
	gets atomic.Int64
}

func newActorServer(t *testing.T) *actorServer {
	s := &actorServer{docs: map[string]map[string]any{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.gets.Add(1)
		s.mu.Lock()
		doc, ok := s.docs[r.URL.Path]
		raw, _ := json.Marshal(doc)
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write(raw)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *actorServer) serve(path string, doc map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[path] = doc
}

// TestProcessorUpdateActor runs the inbox processor with the real resolver,
// recorder and remoteactors read model against a peer serving gargron,
// and feeds it Mastodon's Update{Person} with only the host changed.
func TestProcessorUpdateActor(t *testing.T) {
	raw, err := os.ReadFile(updateFixture)
	if err != nil {
		t.Skipf("shared fixture not found (expected ../shared/fixtures from the repository root): %v", err)
	}
	peer := newActorServer(t)
	var update map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), "mastodon.example.org", strings.TrimPrefix(peer.URL, "http://"))), &update); err != nil {
		t.Fatal(err)
	}
	gargron, updated := update["actor"].(string), update["object"].(map[string]any)
	path := strings.TrimPrefix(gargron, peer.URL)
	fixturePEM := updated["publicKey"].(map[string]any)["publicKeyPem"].(string)
	// The peer serves gargron's profile as it was before the Update: the
	// same key, an older name and bio.
	profile := func(name, summary string) map[string]any {
		d := maps.Clone(updated)
		d["@context"], d["name"], d["summary"] = update["@context"], name, summary
		return d
	}
	peer.serve(path, profile("gargron (before)", "<p>Old bio</p>"))

	allow, _ := fetch.ParseAllowList("127.0.0.0/8,::1/128")
	var resolver *resolve.Resolver
	h := newHarnessFull(t, func(h *harness) process.RemoteActors {
		resolver = resolve.New(resolve.Options{Client: fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}}),
			Recorder: app.NewRemote(h.store, h.reg, "hanse.example"), Directory: remoteactors.NewReader(h.runner.DB()),
			Scheme: scheme, RefreshInterval: -1})
		return resolver
	}, remoteactors.New())
	directory := remoteactors.NewReader(h.runner.DB())
	cached := func(iri string) remoteactors.Actor {
		t.Helper()
		a, err := directory.ByIRI(h.ctx, iri)
		if err != nil {
			t.Fatalf("remote actor %s: %v", iri, err)
		}
		return a
	}
	// The inbox resolved gargron's key to verify the Update's signature.
	if _, err := resolver.Actor(h.ctx, gargron); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if a := cached(gargron); a.Name != "gargron (before)" || peer.gets.Load() != 1 {
		t.Fatalf("before the Update: %q, %d GETs", a.Name, peer.gets.Load())
	}

	t.Run("profile change is recorded as received", func(t *testing.T) {
		h.receive("", update)
		h.settle()
		a := cached(gargron)
		var doc map[string]any
		if err := json.Unmarshal(a.Raw, &doc); err != nil {
			t.Fatal(err)
		}
		if a.Name != "gargle" || doc["summary"] != "<p>Some bio</p>" || doc["@context"] == nil ||
			a.KeyID != gargron+"#main-key" || a.PublicKeyPEM != fixturePEM || a.Inbox != gargron+"/inbox" || a.SharedInbox != peer.URL+"/inbox" {
			t.Fatalf("after the Update: %+v", a.ActorFetched)
		}
		if n := peer.gets.Load(); n != 1 {
			t.Fatalf("%d GETs: a profile change was refetched", n)
		}
		if got, err := resolver.Actor(h.ctx, gargron); err != nil || got.Name != "gargle" {
			t.Fatalf("resolver: %q, %v", got.Name, err)
		}
	})

	t.Run("forged updates are ignored", func(t *testing.T) {
		victim := peer.URL + "/users/victim"
		ofVictim := profile("Victim", "<p>forged</p>")
		ofVictim["id"], ofVictim["publicKey"] = victim, map[string]any{"id": victim + "#main-key", "owner": victim, "publicKeyPem": "forged"}
		byGargron := maps.Clone(update)
		byGargron["id"], byGargron["object"] = gargron+"#updates/forged-1", ofVictim
		byVictim := maps.Clone(update) // the victim "updates" gargron
		byVictim["id"], byVictim["actor"], byVictim["object"] = victim+"#updates/forged-2", victim, profile("Hijacked", "")
		before, err := h.store.Head(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		h.receive("", byGargron)
		h.receive("", byVictim)
		h.settle()
		if _, err := directory.ByIRI(h.ctx, victim); !errors.Is(err, remoteactors.ErrNotFound) {
			t.Fatalf("victim recorded: %v", err)
		}
		if a := cached(gargron); a.Name != "gargle" {
			t.Fatalf("gargron is now %q", a.Name)
		}
		if head, err := h.store.Head(h.ctx); err != nil || head != before+2 {
			t.Fatalf("head %d, want %d: forged Updates appended something (%v)", head, before+2, err)
		}
		if n := peer.gets.Load(); n != 1 {
			t.Fatalf("%d GETs", n)
		}
	})

	t.Run("key change makes a refetch", func(t *testing.T) {
		// The embedded document claims a new key; gargron's server still
		// publishes the old one.
		peer.serve(path, profile("gargle (served)", "<p>Some bio</p>"))
		rekeyed := maps.Clone(update)
		evil := profile("Evil", "<p>trust me</p>")
		evil["publicKey"] = map[string]any{"id": gargron + "#main-key", "owner": gargron,
			"publicKeyPem": "-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----\n"}
		rekeyed["id"], rekeyed["object"] = gargron+"#updates/2", evil
		h.receive("", rekeyed)
		h.settle()
		if n := peer.gets.Load(); n != 2 {
			t.Fatalf("%d GETs, want the refetch", n)
		}
		a := cached(gargron)
		if a.Name != "gargle (served)" || a.PublicKeyPEM != fixturePEM || strings.Contains(string(a.Raw), "QUJD") {
			t.Fatalf("after the key change: %q %q", a.Name, a.PublicKeyPEM)
		}
	})

	t.Run("other Updates are not the processor's", func(t *testing.T) {
		note := wrap("Update", gargron+"#updates/3", gargron, map[string]any{"id": gargron + "/statuses/1", "type": "Note",
			"attributedTo": gargron, "content": "edited"})
		h.receive("", note)
		h.settle()
		if n := peer.gets.Load(); n != 2 {
			t.Fatalf("%d GETs", n)
		}
		if a := cached(gargron); a.Name != "gargle (served)" {
			t.Fatalf("gargron is now %q", a.Name)
		}
	})

	t.Run("re-processing changes nothing", func(t *testing.T) {
		head, err := h.store.Head(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.runner.Rebuild(h.ctx, process.Name); err != nil {
			t.Fatal(err)
		}
		if err := h.runner.WaitSettled(h.ctx, process.Name); err != nil {
			t.Fatal(err)
		}
		h.settle()
		if again, err := h.store.Head(h.ctx); err != nil || again != head {
			t.Fatalf("head %d after re-processing, want %d (%v)", again, head, err)
		}
		if n := peer.gets.Load(); n != 2 {
			t.Fatalf("%d GETs after re-processing", n)
		}
		if a := cached(gargron); a.Name != "gargle (served)" {
			t.Fatalf("gargron is now %q", a.Name)
		}
	})
}

// updatesOnly is a RemoteActors that records Update calls.
type updatesOnly struct {
	fakeRemote
	mu    sync.Mutex
	calls []string
	err   error
}

func (u *updatesOnly) Update(_ context.Context, iri string, doc []byte, _ time.Time) (remote.ActorFetched, resolve.UpdateOutcome, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, iri+" "+string(doc))
	return remote.ActorFetched{IRI: iri}, resolve.UpdateRecorded, u.err
}

func TestProcessorUpdateDispatch(t *testing.T) {
	person := map[string]any{"id": bob, "type": "Person", "inbox": inboxFor(bob), "name": "Bob"}
	withCtx := `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + bob + `","inbox":"` + inboxFor(bob) + `","name":"Bob","type":"Person"}`
	cases := []struct {
		name     string
		activity map[string]any
		err      error
		want     []string // Update calls
		failed   bool
	}{
		{name: "embedded actor gets the activity's context", activity: wrap("Update", bob+"#u/1", bob, person),
			want: []string{bob + " " + withCtx}},
		{name: "actor by IRI", activity: wrap("Update", bob+"#u/2", bob, bob), want: []string{bob + " "}},
		{name: "Group with several types", activity: wrap("Update", bob+"#u/3", bob,
			map[string]any{"id": bob, "type": []any{"Group", "lemmy:Community"}, "inbox": inboxFor(bob), "@context": "x"}),
			want: []string{bob + ` {"@context":"x","id":"` + bob + `","inbox":"` + inboxFor(bob) + `","type":["Group","lemmy:Community"]}`}},
		{name: "another actor's document", activity: wrap("Update", bob+"#u/4", bob, map[string]any{"id": carol, "type": "Person"})},
		{name: "another object by IRI", activity: wrap("Update", bob+"#u/5", bob, bob+"/statuses/1")},
		{name: "a Note", activity: wrap("Update", bob+"#u/6", bob, map[string]any{"id": bob + "/statuses/1", "type": "Note"})},
		{name: "remote's fault is skipped", activity: wrap("Update", bob+"#u/7", bob, bob),
			err: resolve.ErrInvalidDocument, want: []string{bob + " "}},
		{name: "fetch failure is skipped", activity: wrap("Update", bob+"#u/8", bob, bob),
			err: &fetch.Error{Kind: fetch.ErrStatus, StatusCode: 500}, want: []string{bob + " "}},
		{name: "store failure stops the processor", activity: wrap("Update", bob+"#u/9", bob, bob),
			err: resolve.ErrRecording, want: []string{bob + " "}, failed: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := &updatesOnly{err: c.err}
			h := newHarnessWith(t, u)
			h.receive("", c.activity)
			head, err := h.store.Head(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
			defer cancel()
			err = h.runner.WaitFor(ctx, process.Name, head)
			if c.failed != errors.Is(err, projections.ErrFailed) || !c.failed && err != nil {
				t.Fatalf("WaitFor = %v, want failed %v", err, c.failed)
			}
			u.mu.Lock()
			defer u.mu.Unlock()
			// A failed batch is re-applied once before the projection stops.
			u.calls = slices.Compact(u.calls)
			if strings.Join(u.calls, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("Update calls:\n%s\nwant\n%s", strings.Join(u.calls, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
