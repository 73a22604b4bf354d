package process_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

// moveFixture is GoToSocial's Move, reached from the repository root as
// ../shared/fixtures/gotosocial/move.json.
var moveFixture = filepath.Join("..", "..", "..", "shared", "fixtures", "gotosocial", "move.json")

// aliasRemote resolves every remote actor to a document with an inbox and
// the alsoKnownAs of aliases (Actor) or fresh (Refresh), counting fetches.
type aliasRemote struct {
	aliases, fresh map[string][]string
	mu             sync.Mutex
	fetched        []string
}

func (r *aliasRemote) doc(iri string, aliases []string) (remote.ActorFetched, error) {
	d := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": iri, "type": "Person", "inbox": inboxFor(iri)}
	if aliases != nil {
		d["alsoKnownAs"] = aliases
	}
	raw, err := json.Marshal(d)
	return remote.ActorFetched{IRI: iri, Type: "Person", Inbox: inboxFor(iri), Raw: raw}, err
}

func (r *aliasRemote) Actor(_ context.Context, iri string) (remote.ActorFetched, error) {
	r.mu.Lock()
	r.fetched = append(r.fetched, iri)
	r.mu.Unlock()
	return r.doc(iri, r.aliases[iri])
}

func (r *aliasRemote) Refresh(_ context.Context, iri string) (remote.ActorFetched, error) {
	return r.doc(iri, r.fresh[iri])
}

func (r *aliasRemote) fetches(iri string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.fetched {
		if f == iri {
			n++
		}
	}
	return n
}

func TestProcessorMove(t *testing.T) {
	raw, err := os.ReadFile(moveFixture)
	if err != nil {
		t.Skipf("shared fixture not found (expected ../shared/fixtures from the repository root): %v", err)
	}
	var move map[string]any
	if err := json.Unmarshal(raw, &move); err != nil {
		t.Fatal(err)
	}
	moveID, old, target := move["id"].(string), move["actor"].(string), move["target"].(string)
	stranger := "https://example.org/users/nobody_follows_me"
	strangerMove := map[string]any{"@context": move["@context"], "id": stranger + "/moves/1", "type": "Move",
		"actor": stranger, "object": stranger, "target": target}

	cases := []struct {
		name           string
		aliases, fresh map[string][]string
		activity       map[string]any
		moved          bool // lernen follows target instead of old
		targetFetches  int
	}{
		{name: "valid move", aliases: map[string][]string{target: {"https://elsewhere.example/u/x", old}},
			activity: move, moved: true, targetFetches: 1},
		{name: "alias only in a fresh copy", fresh: map[string][]string{target: {old}},
			activity: move, moved: true, targetFetches: 1},
		{name: "target without alsoKnownAs", activity: move, targetFetches: 1},
		{name: "target lists someone else", aliases: map[string][]string{target: {stranger}},
			fresh: map[string][]string{target: {stranger}}, activity: move, targetFetches: 1},
		{name: "nobody follows the mover", aliases: map[string][]string{target: {stranger}},
			activity: strangerMove},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ra := &aliasRemote{aliases: c.aliases, fresh: c.fresh}
			h := newHarnessWith(t, ra)
			// lernen follows old (accepted); closed's follow of old is
			// pending; old follows lernen.
			for _, local := range []string{"g1", "g2"} {
				if _, err := h.wiring.Commands.Follow(h.ctx, local, app.RemoteTarget{IRI: old, Inbox: inboxFor(old)}, "admin"); err != nil {
					t.Fatal(err)
				}
			}
			s, err := h.wiring.Commands.Relationship(h.ctx, lernen, old)
			if err != nil {
				t.Fatal(err)
			}
			h.receive("g1", wrap("Accept", "https://example.org/accepts/1", old, s.FollowActivityID))
			h.receive("", followAct("https://example.org/follows/1", old, lernen))
			h.settle()
			before, err := h.store.Head(h.ctx)
			if err != nil {
				t.Fatal(err)
			}

			h.receive("", c.activity)
			h.settle()

			wantOld, wantTarget := "requested,accepted", ""
			if c.moved {
				wantOld, wantTarget = "requested,accepted,undone", "requested"
			}
			for _, p := range []struct{ follower, followee, want string }{
				{lernen, old, wantOld}, {lernen, target, wantTarget},
				{closed, old, "requested"}, {closed, target, ""}, {old, lernen, "requested,accepted"},
			} {
				if got := h.types(p.follower, p.followee); got != p.want {
					t.Fatalf("%s → %s: %q, want %q", p.follower, p.followee, got, p.want)
				}
			}
			if n := ra.fetches(target); n != c.targetFetches {
				t.Fatalf("target fetched %d times, want %d", n, c.targetFetches)
			}
			head, err := h.store.Head(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !c.moved {
				if head != before+1 { // the received Move only
					t.Fatalf("head %d, want %d: the Move appended something", head, before+1)
				}
				return
			}
			s, err = h.wiring.Commands.Relationship(h.ctx, lernen, target)
			if err != nil || s.Direction != follow.Outbound || s.FollowActivityID != app.MoveFollowID(lernen, moveID, target) ||
				s.RemoteInbox != inboxFor(target) {
				t.Fatalf("lernen → target: %+v, %v", s, err)
			}
			s, err = h.wiring.Commands.Relationship(h.ctx, lernen, old)
			if err != nil || s.UndoActivityID != app.MoveUndoID(lernen, moveID) {
				t.Fatalf("lernen → old: %+v, %v", s, err)
			}
			following, err := h.wiring.Follows.Following(h.ctx, "g1", "", 10)
			if err != nil || len(following.Items) != 0 {
				t.Fatalf("following before the target accepts: %+v, %v", following, err)
			}
			if w, err := h.wiring.Follows.WithRemote(h.ctx, target); err != nil || len(w) != 1 || w[0].LocalActorID != "g1" {
				t.Fatalf("relationships with the target: %+v, %v", w, err)
			}

			// Re-processing everything, and the same Move delivered again,
			// append nothing.
			h.receive("", c.activity)
			h.settle()
			if err := h.runner.Rebuild(h.ctx, "inboxprocessor"); err != nil {
				t.Fatal(err)
			}
			if err := h.runner.WaitSettled(h.ctx, "inboxprocessor"); err != nil {
				t.Fatal(err)
			}
			h.settle()
			if again, err := h.store.Head(h.ctx); err != nil || again != head+1 {
				t.Fatalf("head %d after re-processing, want %d (%v)", again, head+1, err)
			}
			if got := h.types(lernen, target); got != "requested" {
				t.Fatalf("lernen → target after re-processing: %q", got)
			}
		})
	}
}
