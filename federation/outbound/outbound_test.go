package outbound_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/note"
	"github.com/hanse-network/hanse/projections"

	_ "modernc.org/sqlite"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key() *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := httpsig.GenerateRSAKey()
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

var scheme = urls.MustNew("https://hanse.example")

const aliceIRI = "https://hanse.example/users/alice"

type signers struct{}

func (signers) SignerFor(context.Context, string) (httpsig.Signer, error) {
	return httpsig.Signer{KeyID: aliceIRI + "#main-key", Key: key()}, nil
}

// peer is a loopback server with any number of inboxes; it verifies every
// signature and records the activities per path.
type peer struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string][]map[string]any // path → activities
	bad int
}

func newPeer(t *testing.T) *peer {
	p := &peer{got: map[string][]map[string]any{}}
	v := httpsig.Verifier{Resolve: func(_ context.Context, id string) (httpsig.PublicKey, error) {
		return httpsig.PublicKey{ID: id, Owner: aliceIRI, Key: &key().PublicKey}, nil
	}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		res, err := v.Verify(r.Context(), r, body)
		var a map[string]any
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil || res.Owner != aliceIRI || json.Unmarshal(body, &a) != nil {
			p.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		p.got[r.URL.Path] = append(p.got[r.URL.Path], a)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// types returns, per path, the activity types received.
func (p *peer) types() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for path, as := range p.got {
		for _, a := range as {
			out[path] = append(out[path], a["type"].(string))
		}
		sort.Strings(out[path])
	}
	return out
}

func (p *peer) total() int {
	n := 0
	for _, ts := range p.types() {
		n += len(ts)
	}
	return n
}

type env struct {
	t       *testing.T
	ctx     context.Context
	dir     string
	store   *sqlite.Store
	reg     *events.Registry
	runner  *projections.Runner
	workers *delivery.Workers
	stopW   func()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), dir: t.TempDir(), reg: events.NewRegistry()}
	actor.Register(e.reg)
	follow.Register(e.reg)
	note.Register(e.reg)
	store, err := sqlite.Open(filepath.Join(e.dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	e.startRunner()
	return e
}

// startRunner starts the projection runner with the outbound projector
// and the delivery workers, as the wiring does.
func (e *env) startRunner() {
	e.t.Helper()
	var w *delivery.Workers
	p := outbound.New(scheme, outbound.Options{Notify: func() {
		if w != nil {
			w.Notify()
		}
	}})
	r, err := projections.New(e.store, filepath.Join(e.dir, "projections.db"), nil, nil,
		projections.Options{PollInterval: 10 * time.Millisecond}, p)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := delivery.EnsureSchema(e.ctx, r.DB()); err != nil {
		e.t.Fatal(err)
	}
	allow, _ := fetch.ParseAllowList("127.0.0.0/8,::1/128")
	w = delivery.New(r.DB(), signers{}, fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}}),
		delivery.Options{PollInterval: 20 * time.Millisecond})
	if err := r.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	e.runner, e.workers = r, w
	e.stopW = func() { cancel(); <-done; r.Close() }
	e.t.Cleanup(e.stopW)
}

func (e *env) append(stream string, payloads ...any) events.Position {
	e.t.Helper()
	var evs []events.EventData
	for _, p := range payloads {
		ev, err := e.reg.NewEvent(events.NewUUID(), p, events.Metadata{OccurredAt: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)})
		if err != nil {
			e.t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	res, err := e.store.Append(e.ctx, stream, events.Any, evs...)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.runner.WaitFor(e.ctx, outbound.Name, res.Position); err != nil {
		e.t.Fatal(err)
	}
	return res.Position
}

func (e *env) await(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) awaitOr(what string, cond func() bool, state func() string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s: %s", what, state())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) deliveries(state delivery.State) []delivery.Delivery {
	ds, err := delivery.List(e.ctx, e.runner.DB().Reader(), delivery.Filter{State: state, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// follower makes remote follower name on peer p accepted by alice.
func (e *env) follower(p *peer, name string, shared bool) {
	iri := p.srv.URL + "/users/" + name
	req := follow.Requested{Direction: follow.Inbound, LocalActorID: "a1", FollowerIRI: iri, FolloweeIRI: aliceIRI,
		FollowActivityID: iri + "/follows/1", RemoteInbox: iri + "/inbox"}
	if shared {
		req.RemoteSharedInbox = p.srv.URL + "/inbox"
	}
	e.append(follow.Stream(iri, aliceIRI), req, follow.Accepted{})
}

func TestFanoutRebuildAndRestart(t *testing.T) {
	e := newEnv(t)
	a, b, c := newPeer(t), newPeer(t), newPeer(t)
	e.append(actor.Stream("a1"), actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", KeyGeneration: 1})
	e.follower(a, "f1", true) // f1 and f2 share a's shared inbox
	e.follower(a, "f2", true)
	e.follower(b, "f3", false) // personal inbox only
	e.follower(c, "f4", true)
	// A follower who withdrew gets nothing.
	gone := c.srv.URL + "/users/gone"
	e.append(follow.Stream(gone, aliceIRI), follow.Requested{Direction: follow.Inbound, LocalActorID: "a1",
		FollowerIRI: gone, FolloweeIRI: aliceIRI, FollowActivityID: gone + "/f", RemoteInbox: gone + "/inbox"},
		follow.Accepted{}, follow.Undone{})
	e.await("accepts", func() bool { return a.total()+b.total()+c.total() == 5 })

	e.append(note.Stream("n1"), note.Published{NoteID: "n1", AuthorID: "a1", Content: "Hallo <Welt>", Language: "de",
		Visibility: note.Public})
	e.append(note.Stream("n2"), note.Published{NoteID: "n2", AuthorID: "a1", Content: "secret", Visibility: note.Direct})
	e.awaitOr("creates", func() bool { return a.total()+b.total()+c.total() == 8 }, func() string {
		return fmt.Sprint(a.types(), b.types(), c.types(), e.deliveries(""))
	})
	want := map[*peer]map[string][]string{
		a: {"/users/f1/inbox": {"Accept"}, "/users/f2/inbox": {"Accept"}, "/inbox": {"Create"}},
		b: {"/users/f3/inbox": {"Accept", "Create"}},
		c: {"/users/f4/inbox": {"Accept"}, "/users/gone/inbox": {"Accept"}, "/inbox": {"Create"}},
	}
	for p, w := range want {
		if got := p.types(); !equal(got, w) {
			t.Fatalf("peer %s got %v, want %v", p.srv.URL, got, w)
		}
		if p.bad != 0 {
			t.Fatalf("peer %s: %d unverified requests", p.srv.URL, p.bad)
		}
	}
	// The Create carries the Note with escaped HTML, contentMap and
	// addressing of a public note.
	a.mu.Lock()
	create := a.got["/inbox"][0]
	a.mu.Unlock()
	obj := create["object"].(map[string]any)
	if create["id"] != aliceIRI+"/notes/n1/activity" || obj["id"] != aliceIRI+"/notes/n1" ||
		obj["content"] != "<p>Hallo &lt;Welt&gt;</p>" || obj["contentMap"].(map[string]any)["de"] != obj["content"] ||
		obj["attributedTo"] != aliceIRI || obj["to"].([]any)[0] != "https://www.w3.org/ns/activitystreams#Public" ||
		obj["cc"].([]any)[0] != aliceIRI+"/followers" {
		t.Fatalf("create = %v", create)
	}
	// Accept embeds the Follow by id, actor and object.
	b.mu.Lock()
	var accept map[string]any
	for _, x := range b.got["/users/f3/inbox"] {
		if x["type"] == "Accept" {
			accept = x
		}
	}
	b.mu.Unlock()
	follow0 := accept["object"].(map[string]any)
	if follow0["type"] != "Follow" || follow0["id"] != b.srv.URL+"/users/f3/follows/1" || follow0["actor"] != b.srv.URL+"/users/f3" ||
		follow0["object"] != aliceIRI || accept["actor"] != aliceIRI {
		t.Fatalf("accept = %v", accept)
	}
	e.await("all delivered", func() bool { return len(e.deliveries(delivery.Delivered)) == 8 })

	// A rebuild of the projector replays everything and sends nothing.
	if err := e.runner.Rebuild(e.ctx, outbound.Name); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitSettled(e.ctx, outbound.Name); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a negative check: give stray POSTs the chance to arrive
	if n := a.total() + b.total() + c.total(); n != 8 || len(e.deliveries("")) != 8 {
		t.Fatalf("after rebuild: %d POSTs, %d deliveries", n, len(e.deliveries("")))
	}

	// Deleting the note sends Delete{Tombstone} to the same audience; the
	// workers are stopped first, so the deliveries wait for the restart.
	e.stopW()
	e.startRunnerWithoutWorkers(t)
	e.append(note.Stream("n1"), note.Deleted{})
	if got := len(e.deliveries(delivery.Pending)); got != 3 {
		t.Fatalf("%d pending deliveries, want 3", got)
	}
	e.runner.Close()
	e.startRunner()
	e.await("deletes after restart", func() bool { return a.total()+b.total()+c.total() == 11 })
	if got := c.types()["/inbox"]; !equal(map[string][]string{"x": got}, map[string][]string{"x": {"Create", "Delete"}}) {
		t.Fatalf("c's shared inbox got %v", got)
	}
}

// startRunnerWithoutWorkers starts only the runner (deliveries pile up).
func (e *env) startRunnerWithoutWorkers(t *testing.T) {
	r, err := projections.New(e.store, filepath.Join(e.dir, "projections.db"), nil, nil,
		projections.Options{PollInterval: 10 * time.Millisecond}, outbound.New(scheme, outbound.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.runner = r
}

func TestSetupNeedsDeliveryTables(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r, err := projections.New(store, filepath.Join(t.TempDir(), "projections.db"), nil, nil, projections.Options{},
		outbound.New(scheme, outbound.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Start(context.Background()); err == nil {
		t.Fatal("runner started without the delivery tables")
	}
}

func equal(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || len(v) != len(w) {
			return false
		}
		for i := range v {
			if v[i] != w[i] {
				return false
			}
		}
	}
	return true
}
