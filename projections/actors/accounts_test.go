package actors_test

import (
	"context"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// switchKeys is personal.Plain whose erased subjects may change between
// builds.
type switchKeys struct {
	mu     sync.Mutex
	erased map[string]bool
}

func (k *switchKeys) Open(t personal.Text) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return personal.Plain{Erased: k.erased}.Open(t)
}

func plain(subject, s string) *personal.Text {
	t, _ := personal.Plain{}.Seal(subject, s)
	return &t
}

// projectAccounts records the events (stream, payload) and starts p.
func projectAccounts(t *testing.T, p *actors.Projector, evs [][2]any) (actors.Reader, *projections.Runner) {
	t.Helper()
	env := projectiontest.Open(t)
	actor.Register(env.Registry)
	account.Register(env.Registry)
	for i, e := range evs {
		env.Record(e[0].(string), e[1], events.Metadata{OccurredAt: at(i)})
	}
	r := env.Start(p)
	return actors.NewReader(r.DB()), r
}

func TestActorsShowAccountProfiles(t *testing.T) {
	ctx := context.Background()
	evs := [][2]any{
		{actor.Stream("a1"), actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", PublicKeyPEM: pub1,
			SealedPrivateKey: []byte("s"), KeyGeneration: 1}},
		{account.Stream("a1"), account.ProfileUpdated{DisplayName: plain("a1", "Alice"), Bio: plain("a1", "Ich lerne Töpfern.")}},
		{account.Stream("a1"), account.ProfileUpdated{Locale: ptr("en")}}, // no profile text: unchanged
		{actor.Stream("b2"), actor.Created{ActorID: "b2", Kind: actor.KindPerson, Username: "bob", Name: "Bob", PublicKeyPEM: pub1,
			SealedPrivateKey: []byte("s"), KeyGeneration: 1}},
		{account.Stream("b2"), account.ProfileUpdated{Bio: plain("b2", "Bobs Bio")}},
		{account.Stream("ghost"), account.ProfileUpdated{Bio: plain("ghost", "no actor")}}, // ignored
	}
	k := &switchKeys{}
	q, r := projectAccounts(t, actors.NewWithOpener(k), evs)
	a, err := q.ByID(ctx, "a1")
	if err != nil || a.Name != "Alice" || a.Summary != "Ich lerne Töpfern." || !a.UpdatedAt.Equal(at(1)) {
		t.Fatalf("a1 = %+v, %v", a, err)
	}
	if b, _ := q.ByID(ctx, "b2"); b.Name != "Bob" || b.Summary != "Bobs Bio" {
		t.Fatalf("b2 = %+v", b)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, actors.Name, nil)

	// After a1's key is destroyed a rebuild shows nothing of a1.
	k.mu.Lock()
	k.erased = map[string]bool{"a1": true}
	k.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, projectiontest.RebuildTimeout)
	defer cancel()
	if err := r.Rebuild(wctx, actors.Name); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitSettled(wctx, actors.Name); err != nil {
		t.Fatal(err)
	}
	if a, _ := q.ByID(ctx, "a1"); a.Name != "" || a.Summary != "" || a.Username != "alice" {
		t.Fatalf("a1 after its key was erased = %+v", a)
	}
	if b, _ := q.ByID(ctx, "b2"); b.Summary != "Bobs Bio" {
		t.Fatalf("b2 after the rebuild = %+v", b)
	}
}

func TestActorsAccountErasedBlanksTheProfile(t *testing.T) {
	ctx := context.Background()
	evs := [][2]any{
		{actor.Stream("a1"), actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", PublicKeyPEM: pub1,
			SealedPrivateKey: []byte("s"), KeyGeneration: 1}},
		{account.Stream("a1"), account.ProfileUpdated{DisplayName: plain("a1", "Alice"), Bio: plain("a1", "Bio")}},
		{account.Stream("a1"), account.Erased{Reason: account.ReasonSelf}},
	}
	q, r := projectAccounts(t, actors.NewWithOpener(&switchKeys{}), evs)
	if a, _ := q.ByID(ctx, "a1"); a.Name != "" || a.Summary != "" || !a.UpdatedAt.Equal(at(2)) {
		t.Fatalf("after account.erased: %+v", a)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, actors.Name, nil)

	// Without an opener the account events are not even handled.
	q2, _ := projectAccounts(t, actors.New(), evs[:2])
	if a, _ := q2.ByID(ctx, "a1"); a.Name != "" || a.Summary != "" || !a.UpdatedAt.Equal(at(0)) {
		t.Fatalf("New() applied an account event: %+v", a)
	}
	if actors.New().Handles(account.TypeProfileUpdated) || !actors.NewWithOpener(&switchKeys{}).Handles(account.TypeErased) {
		t.Fatal("Handles ignores the opener")
	}
}
