package process_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/process"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/follows"

	_ "modernc.org/sqlite"
)

const base = "https://hanse.example"

var scheme = urls.MustNew(base)

var (
	lernen   = scheme.Actor(actor.KindGroup, "lernen") // auto-accepts
	closed   = scheme.Actor(actor.KindGroup, "closed") // approves by hand
	bob      = "https://remote.example/users/bob"
	carol    = "https://other.example/users/carol"
	dave     = "https://third.example/users/dave"
	mallory  = "https://evil.example/users/mallory"
	inboxFor = func(iri string) string { return iri + "/inbox" }
)

// fakeRemote resolves every remote actor to a document with an inbox.
type fakeRemote struct{}

func (fakeRemote) Actor(_ context.Context, iri string) (remote.ActorFetched, error) {
	if strings.Contains(iri, "unresolvable") {
		return remote.ActorFetched{}, errors.New("fetch: 404")
	}
	u := iri[:strings.Index(iri[len("https://"):], "/")+len("https://")]
	return remote.ActorFetched{IRI: iri, Type: "Person", Inbox: inboxFor(iri), SharedInbox: u + "/inbox"}, nil
}

type harness struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	reg    *events.Registry
	runner *projections.Runner
	wiring process.Wiring
	proc   *process.Processor
	// keys records the data keys the processor destroyed.
	keys *fakeKeys
	// names are the projections settle waits for.
	names []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, fakeRemote{})
}

// newHarnessWith is newHarness with the remote actor resolver ra.
func newHarnessWith(t *testing.T, ra process.RemoteActors) *harness {
	t.Helper()
	return newHarnessFull(t, func(*harness) process.RemoteActors { return ra })
}

// newHarnessFull is newHarness with the remote actor resolver remoteFor
// returns once the store and the runner exist, running the extra
// projectors too.
func newHarnessFull(t *testing.T, remoteFor func(h *harness) process.RemoteActors, extra ...projections.Projector) *harness {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg := events.NewRegistry()
	actor.Register(reg)
	remote.Register(reg)
	h := &harness{t: t, ctx: context.Background(), store: store, reg: reg, keys: &fakeKeys{}}
	// Local actors first, so that the actors read model knows them.
	for _, a := range []actor.Created{
		{ActorID: "g1", Kind: actor.KindGroup, Username: "lernen"},
		{ActorID: "g2", Kind: actor.KindGroup, Username: "closed", ManuallyApprovesFollowers: true},
	} {
		a.PublicKeyPEM, a.SealedPrivateKey, a.KeyGeneration = "-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----\n", []byte("s"), 1
		h.append(actor.Stream(a.ActorID), a)
	}
	h.proc = process.New(scheme, quiet)
	h.names = []string{actors.Name, process.Name, follows.Name}
	for _, p := range extra {
		h.names = append(h.names, p.Name())
	}
	h.runner, err = projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{},
		append([]projections.Projector{actors.New(), follows.New(), h.proc}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.wiring, err = process.Wire(h.proc, store, reg, h.runner.DB(), scheme, remoteFor(h), h.keys, "hanse.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.runner.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.runner.Close() })
	h.settle()
	return h
}

func (h *harness) append(stream string, payload any) events.Position {
	h.t.Helper()
	ed, err := h.reg.NewEvent(events.NewUUID(), payload, events.Metadata{OccurredAt: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.store.Append(h.ctx, stream, events.Any, ed)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Position
}

// receive records an activity as the inbox would (recipient "" for the
// shared inbox).
func (h *harness) receive(recipient string, activity map[string]any) {
	h.t.Helper()
	raw, err := json.Marshal(activity)
	if err != nil {
		h.t.Fatal(err)
	}
	id, _ := activity["id"].(string)
	typ, _ := activity["type"].(string)
	act, _ := activity["actor"].(string)
	h.append(remote.ActivityStream(id), remote.ActivityReceived{ActivityID: id, Type: typ, Actor: act,
		SignerKeyID: act + "#main-key", Recipient: recipient, Raw: raw, ReceivedAt: time.Now().UTC()})
}

// settle waits until every projection has applied everything, including
// what the processor appended meanwhile.
func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	for {
		head, err := h.store.Head(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, name := range h.names {
			if err := h.runner.WaitFor(ctx, name, head); err != nil {
				h.t.Fatalf("wait for %s at %d: %v", name, head, err)
			}
		}
		if again, err := h.store.Head(ctx); err != nil || again == head {
			return
		}
	}
}

func (h *harness) types(follower, followee string) string {
	h.t.Helper()
	envs, err := h.store.ReadStream(h.ctx, follow.Stream(follower, followee), events.ReadStreamOptions{})
	if errors.Is(err, events.ErrStreamNotFound) {
		return ""
	}
	if err != nil {
		h.t.Fatal(err)
	}
	var ts []string
	for _, e := range envs {
		ts = append(ts, strings.TrimPrefix(e.Type, "follow."))
	}
	return strings.Join(ts, ",")
}

func followAct(id, actorIRI, object string) map[string]any {
	return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Follow", "actor": actorIRI, "object": object}
}

func wrap(typ, id, actorIRI string, object any) map[string]any {
	return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": typ, "actor": actorIRI, "object": object}
}

func TestProcessorTurnsActivitiesIntoFollowCommands(t *testing.T) {
	h := newHarness(t)
	bobFollow := followAct("https://remote.example/f/1", bob, lernen)
	h.receive("", bobFollow)
	h.receive("", followAct("https://other.example/f/2", carol, closed))
	h.receive("", followAct("https://third.example/f/3", dave, lernen))
	// Not ours or refused: nothing happens, processing goes on.
	h.receive("", followAct("https://remote.example/f/4", bob, base+"/users/nobody")) // unknown local actor
	h.receive("", followAct("https://remote.example/f/5", bob, carol))                // a remote actor
	h.receive("", followAct("https://remote.example/f/6", bob, lernen+"/followers"))  // a collection
	h.receive("", followAct("https://unresolvable.example/f/7", "https://unresolvable.example/u", lernen))
	h.receive("", wrap("Undo", "https://evil.example/u/1", mallory, bobFollow))       // Undo of bob's Follow by mallory
	h.receive("", wrap("Like", "https://remote.example/l/1", bob, lernen+"/notes/1")) // another type
	h.receive("", wrap("Undo", "https://remote.example/u/2", bob, map[string]any{"type": "Like", "id": "https://remote.example/l/1"}))
	bad := followAct("https://evil.example/f/8", bob, lernen) // actor differs from the verified one
	raw, _ := json.Marshal(bad)
	h.append(remote.ActivityStream("https://evil.example/f/8"), remote.ActivityReceived{ActivityID: "https://evil.example/f/8",
		Type: "Follow", Actor: mallory, Raw: raw})
	h.settle()

	if got := h.types(bob, lernen); got != "requested,accepted" {
		t.Fatalf("bob → lernen: %q", got)
	}
	if got := h.types(carol, closed); got != "requested" {
		t.Fatalf("carol → closed: %q", got)
	}
	for _, pair := range [][2]string{{bob, base + "/users/nobody"}, {bob, carol}, {mallory, lernen}, {"https://unresolvable.example/u", lernen}} {
		if got := h.types(pair[0], pair[1]); got != "" {
			t.Fatalf("%s → %s: %q, want nothing", pair[0], pair[1], got)
		}
	}
	q := h.wiring.Follows
	rel, err := q.Relationship(h.ctx, bob, lernen)
	if err != nil || rel.State != follow.StatusAccepted || rel.RemoteInbox != inboxFor(bob) || rel.RemoteSharedInbox != "https://remote.example/inbox" ||
		!strings.HasPrefix(rel.AcceptActivityID, lernen+"#accepts/") {
		t.Fatalf("bob → lernen: %+v, %v", rel, err)
	}
	if p, err := q.Pending(h.ctx, "g2"); err != nil || len(p) != 1 || p[0].FollowerIRI != carol {
		t.Fatalf("pending of closed: %+v, %v", p, err)
	}

	// Undo by the follower (Follow inline), by IRI to the actor's inbox,
	// and a Delete of bob.
	h.receive("", wrap("Undo", "https://other.example/u/3", carol, followAct("https://other.example/f/2", carol, closed)))
	h.receive("g1", wrap("Undo", "https://third.example/u/4", dave, "https://third.example/f/3"))
	h.receive("", wrap("Delete", "https://remote.example/d/1", bob, bob))
	h.settle()
	for _, c := range []struct{ follower, followee, want string }{
		{carol, closed, "requested,undone"},
		{dave, lernen, "requested,accepted,undone"},
		{bob, lernen, "requested,accepted,removed"},
	} {
		if got := h.types(c.follower, c.followee); got != c.want {
			t.Fatalf("%s → %s: %q, want %q", c.follower, c.followee, got, c.want)
		}
	}
	if c, err := q.Counts(h.ctx, "g1"); err != nil || c != (follows.Counts{}) {
		t.Fatalf("counts of lernen: %+v, %v", c, err)
	}
}

func TestProcessorOutboundResponses(t *testing.T) {
	h := newHarness(t)
	cmds := h.wiring.Commands
	target := app.RemoteTarget{IRI: dave, Inbox: inboxFor(dave)}
	res, err := cmds.Follow(h.ctx, "g1", target, "admin")
	if err != nil {
		t.Fatal(err)
	}
	followID := res.State.FollowActivityID
	// A Reject from a stranger is refused; an Accept by IRI from dave
	// accepts; the same for carol with the Follow inline, then rejected.
	h.receive("", wrap("Reject", "https://evil.example/r/1", mallory, followID))
	h.receive("g1", wrap("Accept", "https://third.example/a/1", dave, followID))
	res, err = cmds.Follow(h.ctx, "g1", app.RemoteTarget{IRI: carol, Inbox: inboxFor(carol)}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	h.receive("", wrap("Accept", "https://other.example/a/2", carol, followAct(res.State.FollowActivityID, lernen, carol)))
	h.receive("", wrap("Reject", "https://other.example/r/3", carol, followAct(res.State.FollowActivityID, lernen, carol)))
	// An Accept of a Follow that is not ours does nothing.
	h.receive("", wrap("Accept", "https://other.example/a/9", carol, "https://other.example/f/whatever"))
	h.settle()
	if got := h.types(lernen, dave); got != "requested,accepted" {
		t.Fatalf("lernen → dave: %q", got)
	}
	if got := h.types(lernen, carol); got != "requested,accepted,rejected" {
		t.Fatalf("lernen → carol: %q", got)
	}
	page, err := h.wiring.Follows.Following(h.ctx, "g1", "", 10)
	if err != nil || len(page.Items) != 1 || page.Items[0].RemoteIRI != dave {
		t.Fatalf("following: %+v, %v", page, err)
	}
}

func TestProcessorRebuildAppendsNothing(t *testing.T) {
	h := newHarness(t)
	h.receive("", followAct("https://remote.example/f/1", bob, lernen))
	h.receive("", followAct("https://other.example/f/2", carol, closed))
	h.receive("", wrap("Undo", "https://remote.example/u/1", bob, followAct("https://remote.example/f/1", bob, lernen)))
	h.receive("", followAct("https://remote.example/f/3", bob, lernen))
	h.settle()
	before, err := h.store.Head(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.runner.Rebuild(h.ctx, process.Name); err != nil {
		t.Fatal(err)
	}
	if err := h.runner.WaitSettled(h.ctx, process.Name); err != nil {
		t.Fatal(err)
	}
	if after, err := h.store.Head(h.ctx); err != nil || after != before {
		t.Fatalf("head %d after re-processing everything, %d before (%v)", after, before, err)
	}
	if got := h.types(bob, lernen); got != "requested,accepted,undone,requested,accepted" {
		t.Fatalf("bob → lernen: %q", got)
	}
}

// failingCommands fail every command with err.
type failingCommands struct {
	process.FollowCommands
	err error
}

func (f failingCommands) ReceiveFollow(context.Context, app.ReceivedFollow) (app.FollowResult, error) {
	return app.FollowResult{}, f.err
}

func TestProcessorFailures(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		failed bool
	}{
		{name: "store error stops the projection", err: fmt.Errorf("app: append: %w", errors.New("disk I/O error")), failed: true},
		{name: "refusal is skipped", err: fmt.Errorf("%w: x", app.ErrFollowForbidden)},
		{name: "deleted local actor is skipped", err: fmt.Errorf("%w: g1", app.ErrActorDeleted)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			p := process.New(scheme, quiet)
			r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Bind(process.Deps{Commands: failingCommands{err: tc.err}, Remote: fakeRemote{},
				Relationships: follows.NewReader(r.DB()), Local: process.LocalActorDirectory{Actors: actors.NewReader(r.DB()), URLs: scheme},
				Keys: &fakeKeys{}, Erasures: process.NewErasureLog(store, events.NewRegistry())}); err != nil {
				t.Fatal(err)
			}
			reg := events.NewRegistry()
			remote.Register(reg)
			raw, _ := json.Marshal(followAct("https://remote.example/f/1", bob, lernen))
			ed, _ := reg.NewEvent(events.NewUUID(), remote.ActivityReceived{ActivityID: "https://remote.example/f/1", Type: "Follow",
				Actor: bob, Raw: raw}, events.Metadata{})
			res, err := store.Append(context.Background(), remote.ActivityStream("https://remote.example/f/1"), events.NoStream, ed)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = r.WaitFor(ctx, process.Name, res.Position)
			if tc.failed != errors.Is(err, projections.ErrFailed) || !tc.failed && err != nil {
				t.Fatalf("WaitFor = %v, want failed %v", err, tc.failed)
			}
		})
	}
}

func TestUnboundProcessorFails(t *testing.T) {
	p := process.New(scheme, nil)
	err := p.Apply(context.Background(), nil, projections.Tables{}, []events.Envelope{{Type: remote.TypeActivityReceived}})
	if !errors.Is(err, process.ErrNotBound) {
		t.Fatalf("Apply before Bind: %v", err)
	}
	if err := p.Bind(process.Deps{}); err == nil {
		t.Fatal("Bind accepted empty deps")
	}
}

func TestCollectionsOverHTTP(t *testing.T) {
	h := newHarness(t)
	for i := range 5 {
		f := fmt.Sprintf("https://r%d.example/users/u", i)
		h.receive("", followAct(fmt.Sprintf("https://r%d.example/f/1", i), f, lernen))
	}
	if _, err := h.wiring.Commands.Follow(h.ctx, "g1", app.RemoteTarget{IRI: dave, Inbox: inboxFor(dave)}, "admin"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	pub := actorpub.New(scheme, actors.NewReader(h.runner.DB()), actorpub.Options{PageSize: 2,
		Collections: map[urls.Collection]actorpub.Page{urls.Followers: h.wiring.Followers, urls.Following: h.wiring.Following}})
	mux := chi.NewRouter()
	pub.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept", "application/activity+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
		return doc
	}
	if doc := get("/communities/lernen/followers"); doc["totalItems"] != float64(5) {
		t.Fatalf("followers collection: %v", doc)
	}
	if doc := get("/communities/lernen/following"); doc["totalItems"] != float64(0) {
		t.Fatalf("following collection (dave has not accepted): %v", doc)
	}
	// Walk the pages.
	var items []string
	path := "/communities/lernen/followers?page=true"
	for pages := 0; path != "" && pages < 10; pages++ {
		doc := get(path)
		for _, it := range doc["orderedItems"].([]any) {
			items = append(items, it.(string))
		}
		next, _ := doc["next"].(string)
		path = strings.TrimPrefix(next, base)
	}
	if len(items) != 5 || items[0] != "https://r4.example/users/u" {
		t.Fatalf("followers pages: %v", items)
	}
}
