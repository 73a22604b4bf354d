package process_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/process"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// fakeKeys is the key store: it records the subjects whose keys were
// destroyed, and fails while fail is set.
type fakeKeys struct {
	mu        sync.Mutex
	destroyed []string
	fail      error
}

func (k *fakeKeys) Destroy(_ context.Context, subject string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	k.destroyed = append(k.destroyed, subject)
	return nil
}

func (k *fakeKeys) setFail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fail = err
}

// subjects returns the distinct subjects destroyed, sorted.
func (k *fakeKeys) subjects() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := slices.Clone(k.destroyed)
	slices.Sort(out)
	return slices.Compact(out)
}

func (k *fakeKeys) calls() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.destroyed)
}

// lemmyAlpha is the actor of the Lemmy fixture, on a host of ours.
const lemmyAlpha = "https://ds9.lemmy.example/u/lemmy_alpha"

// lemmyDeleteActor is Lemmy's Delete of its own actor
// (fixtures/lemmy/delete_actor.json), hosts adjusted.
func lemmyDeleteActor(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("/work/shared/fixtures/lemmy/delete_actor.json")
	if err != nil {
		t.Fatal(err)
	}
	var act map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), "http://ds9.lemmy.ml", "https://ds9.lemmy.example")), &act); err != nil {
		t.Fatal(err)
	}
	if act["actor"] != lemmyAlpha || act["object"] != lemmyAlpha || act["type"] != "Delete" {
		t.Fatalf("fixture changed: %v", act)
	}
	return act
}

// erasures returns the events of actorIRI's erasure stream.
func (h *harness) erasures(actorIRI string) []events.Envelope {
	h.t.Helper()
	envs, err := h.store.ReadStream(h.ctx, remote.ErasureStream(actorIRI), events.ReadStreamOptions{})
	if errors.Is(err, events.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return envs
}

func TestDeleteOfActorErasesIt(t *testing.T) {
	h := newHarness(t)
	h.receive("", followAct("https://ds9.lemmy.example/activities/follow/1", lemmyAlpha, lernen))
	h.receive("", followAct("https://remote.example/f/1", bob, lernen))
	h.settle()
	if got := h.types(lemmyAlpha, lernen); got != "requested,accepted" {
		t.Fatalf("lemmy_alpha → lernen: %q", got)
	}

	// Not erasures: mallory deleting bob (the object is not the
	// verified actor), bob deleting a post, and a local actor's IRI
	// sent as the actor.
	h.receive("", wrap("Delete", "https://evil.example/d/1", mallory, bob))
	h.receive("", wrap("Delete", "https://remote.example/d/2", bob, "https://remote.example/users/bob/statuses/1"))
	h.receive("", wrap("Delete", "https://remote.example/d/3", bob, map[string]any{"type": "Tombstone", "id": "https://remote.example/users/bob/statuses/2"}))
	h.receive("", wrap("Delete", base+"/d/4", lernen, lernen))
	h.settle()
	if got := h.keys.subjects(); len(got) != 0 {
		t.Fatalf("keys destroyed by Deletes that are no actor's own: %v", got)
	}
	for _, iri := range []string{bob, mallory, lernen} {
		if envs := h.erasures(iri); len(envs) != 0 {
			t.Fatalf("%s erased: %v", iri, envs)
		}
	}
	if got := h.types(bob, lernen); got != "requested,accepted" {
		t.Fatalf("bob → lernen after a Delete of bob by mallory: %q", got)
	}

	// Lemmy's actor deletes itself.
	del := lemmyDeleteActor(t)
	h.receive("", del)
	h.settle()
	if got := h.types(lemmyAlpha, lernen); got != "requested,accepted,removed" {
		t.Fatalf("lemmy_alpha → lernen after its Delete: %q", got)
	}
	if got := h.keys.subjects(); !slices.Equal(got, []string{lemmyAlpha}) {
		t.Fatalf("destroyed keys %v, want lemmy_alpha's", got)
	}
	envs := h.erasures(lemmyAlpha)
	if len(envs) != 1 || envs[0].Type != remote.TypeActorErased {
		t.Fatalf("erasure stream: %+v", envs)
	}
	ev, err := h.reg.Decode(envs[0])
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := ev.(*remote.ActorErased); !ok || e.ActorIRI != lemmyAlpha {
		t.Fatalf("erasure payload %#v", ev)
	}
	if m := envs[0].Metadata; m.Actor != lemmyAlpha || m.Origin != "ds9.lemmy.example" || m.CorrelationID != del["id"] || m.OccurredAt.IsZero() {
		t.Fatalf("erasure metadata %+v", m)
	}

	// Another Delete of the same actor (a new id) destroys again but
	// records nothing new; a rebuild of the processor appends nothing.
	again := lemmyDeleteActor(t)
	again["id"] = "https://ds9.lemmy.example/activities/delete/again"
	h.receive("", again)
	h.settle()
	before, err := h.store.Head(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls := h.keys.calls()
	if err := h.runner.Rebuild(h.ctx, process.Name); err != nil {
		t.Fatal(err)
	}
	if err := h.runner.WaitSettled(h.ctx, process.Name); err != nil {
		t.Fatal(err)
	}
	if after, err := h.store.Head(h.ctx); err != nil || after != before {
		t.Fatalf("head %d after re-processing everything, %d before (%v)", after, before, err)
	}
	if envs := h.erasures(lemmyAlpha); len(envs) != 1 {
		t.Fatalf("%d erasure events after a second Delete and a rebuild", len(envs))
	}
	if h.keys.calls() <= calls {
		t.Fatal("the rebuild did not destroy the key again (it must be idempotent, not skipped)")
	}
}

func TestErasureWaitsForTheKeyStore(t *testing.T) {
	h := newHarness(t)
	h.keys.setFail(errors.New("datakeys: disk I/O error"))
	h.receive("", lemmyDeleteActor(t))
	head, err := h.store.Head(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if err := h.runner.WaitFor(ctx, process.Name, head); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("a failing key store gave %v, want the processor stopped", err)
	}
	if envs := h.erasures(lemmyAlpha); len(envs) != 0 {
		t.Fatalf("erasure recorded although the key was not destroyed: %v", envs)
	}
	// Retried once the key store works, the erasure completes.
	h.keys.setFail(nil)
	if err := h.runner.Retry(h.ctx, process.Name); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if got := h.keys.subjects(); !slices.Equal(got, []string{lemmyAlpha}) {
		t.Fatalf("destroyed keys %v after the retry", got)
	}
	if envs := h.erasures(lemmyAlpha); len(envs) != 1 {
		t.Fatalf("%d erasure events after the retry", len(envs))
	}
}

func TestErasureLogRecordsOnce(t *testing.T) {
	h := newHarness(t)
	l := process.NewErasureLog(h.store, h.reg)
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	first, err := l.RecordErased(h.ctx, bob, "https://remote.example/d/1", at)
	if err != nil {
		t.Fatal(err)
	}
	// The same call again (a retry) and a later erasure by another
	// Delete both report the first.
	for _, id := range []string{"https://remote.example/d/1", "https://remote.example/d/2"} {
		pos, err := l.RecordErased(h.ctx, bob, id, at.Add(time.Hour))
		if err != nil || pos != first {
			t.Fatalf("erasure again (%s): %d, %v; want %d", id, pos, err, first)
		}
	}
	envs := h.erasures(bob)
	if len(envs) != 1 || !envs[0].Metadata.OccurredAt.Equal(at) {
		t.Fatalf("erasure stream %+v", envs)
	}
	if _, err := l.RecordErased(h.ctx, "", "x", at); err == nil {
		t.Fatal("erasure without IRI accepted")
	}
}
