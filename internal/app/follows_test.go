package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/follow"
)

const (
	fwLocalIRI  = "https://hanse.example/communities/lernen"
	fwManualIRI = "https://hanse.example/communities/closed"
	fwGoneIRI   = "https://hanse.example/users/gone"
	fwRemote    = "https://remote.example/users/bob"
	fwStranger  = "https://evil.example/users/mallory"
)

// fwActors is a fixed local actor directory.
type fwActors map[string]app.LocalActor

func (a fwActors) ByIRI(_ context.Context, iri string) (app.LocalActor, error) {
	for _, x := range a {
		if x.IRI == iri {
			return x, nil
		}
	}
	return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, iri)
}

func (a fwActors) ByID(_ context.Context, id string) (app.LocalActor, error) {
	if x, ok := a[id]; ok {
		return x, nil
	}
	return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, id)
}

var fwDirectory = fwActors{
	"g1": {ID: "g1", IRI: fwLocalIRI},
	"g2": {ID: "g2", IRI: fwManualIRI, ManuallyApprovesFollowers: true},
	"u9": {ID: "u9", IRI: fwGoneIRI, Deleted: true},
}

type fwEnv struct {
	t     *testing.T
	ctx   context.Context
	store events.Store
	reg   *events.Registry
	cmds  *app.Follows
}

func newFwEnv(t *testing.T) *fwEnv {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg := events.NewRegistry()
	cmds := app.NewFollows(store, reg, fwDirectory, "hanse.example")
	cmds.Clock = func() time.Time { return t0 }
	return &fwEnv{t: t, ctx: context.Background(), store: store, reg: reg, cmds: cmds}
}

// envelopes returns the stream's events.
func (e *fwEnv) envelopes(follower, followee string) []events.Envelope {
	e.t.Helper()
	envs, err := e.store.ReadStream(e.ctx, follow.Stream(follower, followee), events.ReadStreamOptions{})
	if errors.Is(err, events.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return envs
}

func (e *fwEnv) types(follower, followee string) string {
	var ts []string
	for _, env := range e.envelopes(follower, followee) {
		ts = append(ts, strings.TrimPrefix(env.Type, "follow."))
	}
	return strings.Join(ts, ",")
}

func received(id, actor string) app.ReceivedActivity {
	return app.ReceivedActivity{ActivityID: id, Actor: actor, FollowerIRI: fwRemote, FolloweeIRI: fwLocalIRI}
}

func receivedFollow(id, followee string) app.ReceivedFollow {
	return app.ReceivedFollow{ActivityID: id, Follower: fwRemote, Followee: followee,
		RemoteInbox: fwRemote + "/inbox", RemoteSharedInbox: "https://remote.example/inbox"}
}

func TestFollowCommands(t *testing.T) {
	type step struct {
		do      func(*app.Follows, context.Context) (app.FollowResult, error)
		changed bool
		wantErr error
	}
	rf := func(id, followee string) func(*app.Follows, context.Context) (app.FollowResult, error) {
		return func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
			return f.ReceiveFollow(ctx, receivedFollow(id, followee))
		}
	}
	undo := func(id, actor string) func(*app.Follows, context.Context) (app.FollowResult, error) {
		return func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
			return f.ReceiveUndo(ctx, received(id, actor))
		}
	}
	cases := []struct {
		name     string
		steps    []step
		followee string
		types    string
		status   follow.Status
	}{
		{name: "auto-accepted follow", followee: fwLocalIRI, steps: []step{{do: rf("f1", fwLocalIRI), changed: true}},
			types: "requested,accepted", status: follow.StatusAccepted},
		{name: "the same follow twice", followee: fwLocalIRI,
			steps: []step{{do: rf("f1", fwLocalIRI), changed: true}, {do: rf("f1", fwLocalIRI)}},
			types: "requested,accepted", status: follow.StatusAccepted},
		{name: "duplicate follow re-accepts", followee: fwLocalIRI,
			steps: []step{{do: rf("f1", fwLocalIRI), changed: true}, {do: rf("f2", fwLocalIRI), changed: true}},
			types: "requested,accepted,requested,accepted", status: follow.StatusAccepted},
		{name: "manual approval", followee: fwManualIRI, steps: []step{
			{do: rf("f1", fwManualIRI), changed: true},
			{do: func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
				return f.Approve(ctx, "g2", fwRemote, "admin")
			}, changed: true},
			{do: func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
				return f.Approve(ctx, "g2", fwRemote, "admin")
			}},
		}, types: "requested,accepted", status: follow.StatusAccepted},
		{name: "manual rejection", followee: fwManualIRI, steps: []step{
			{do: rf("f1", fwManualIRI), changed: true},
			{do: func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
				return f.Reject(ctx, "g2", fwRemote, "admin")
			}, changed: true},
			{do: func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
				return f.Approve(ctx, "g2", fwRemote, "admin")
			}, wantErr: app.ErrFollowNotPending},
		}, types: "requested,rejected", status: follow.StatusRejected},
		{name: "undo by the follower, twice", followee: fwLocalIRI, steps: []step{
			{do: rf("f1", fwLocalIRI), changed: true}, {do: undo("u1", fwRemote), changed: true}, {do: undo("u1", fwRemote)},
		}, types: "requested,accepted,undone", status: follow.StatusUndone},
		{name: "undo by a stranger", followee: fwLocalIRI, steps: []step{
			{do: rf("f1", fwLocalIRI), changed: true}, {do: undo("u1", fwStranger), wantErr: app.ErrFollowForbidden},
		}, types: "requested,accepted", status: follow.StatusAccepted},
		{name: "undo of nothing", followee: fwLocalIRI, steps: []step{{do: undo("u1", fwRemote)}}, status: follow.StatusNone},
		{name: "remove follower", followee: fwLocalIRI, steps: []step{
			{do: rf("f1", fwLocalIRI), changed: true},
			{do: func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
				return f.RemoveFollower(ctx, "g1", fwRemote, "admin")
			}, changed: true},
			{do: func(f *app.Follows, ctx context.Context) (app.FollowResult, error) {
				return f.RemoveFollower(ctx, "g1", fwRemote, "admin")
			}, wantErr: app.ErrFollowNotFound},
			{do: rf("f1", fwLocalIRI)}, // replay of the old Follow
			{do: rf("f3", fwLocalIRI), changed: true},
		}, types: "requested,accepted,removed,requested,accepted", status: follow.StatusAccepted},
		{name: "follow of an unknown local actor", followee: "https://hanse.example/users/nobody",
			steps: []step{{do: rf("f1", "https://hanse.example/users/nobody"), wantErr: app.ErrActorNotFound}}},
		{name: "follow of a deleted local actor", followee: fwGoneIRI,
			steps: []step{{do: rf("f1", fwGoneIRI), wantErr: app.ErrActorDeleted}}},
		{name: "follow without id", followee: fwLocalIRI,
			steps: []step{{do: rf("", fwLocalIRI), wantErr: app.ErrFollowInvalid}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newFwEnv(t)
			var last app.FollowResult
			for i, s := range tc.steps {
				res, err := s.do(e.cmds, e.ctx)
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
				}
				if err == nil {
					if res.Changed != s.changed {
						t.Fatalf("step %d: changed = %v, want %v", i, res.Changed, s.changed)
					}
					if res.Position == 0 && res.State.Status != follow.StatusNone {
						t.Fatalf("step %d: no position for %+v", i, res)
					}
					last = res
				}
			}
			if got := e.types(fwRemote, tc.followee); got != tc.types {
				t.Fatalf("events %q, want %q", got, tc.types)
			}
			if last.State.Status != tc.status && tc.status != follow.StatusNone {
				t.Fatalf("status %q, want %q", last.State.Status, tc.status)
			}
			s, err := e.cmds.Relationship(e.ctx, fwRemote, tc.followee)
			if err != nil || s.Status != tc.status {
				t.Fatalf("stored status %q (%v), want %q", s.Status, err, tc.status)
			}
		})
	}
}

func TestFollowEventIDsDeriveFromTheCause(t *testing.T) {
	e := newFwEnv(t)
	if _, err := e.cmds.ReceiveFollow(e.ctx, receivedFollow("https://remote.example/f1", fwLocalIRI)); err != nil {
		t.Fatal(err)
	}
	envs := e.envelopes(fwRemote, fwLocalIRI)
	if len(envs) != 2 {
		t.Fatalf("%d events", len(envs))
	}
	// A second store gets the same ids for the same cause.
	e2 := newFwEnv(t)
	if _, err := e2.cmds.ReceiveFollow(e2.ctx, receivedFollow("https://remote.example/f1", fwLocalIRI)); err != nil {
		t.Fatal(err)
	}
	for i, env := range e2.envelopes(fwRemote, fwLocalIRI) {
		if env.ID != envs[i].ID {
			t.Fatalf("event %d: id %s, first store %s", i, env.ID, envs[i].ID)
		}
	}
	if envs[0].Metadata.Actor != fwRemote || envs[0].Metadata.CausationID != "https://remote.example/f1" || envs[0].Metadata.Origin != "remote.example" {
		t.Fatalf("metadata %+v", envs[0].Metadata)
	}
	p, err := e.reg.Decode(envs[1])
	if err != nil {
		t.Fatal(err)
	}
	acc := p.(*follow.Accepted)
	if want := app.AcceptID(fwLocalIRI, "https://remote.example/f1"); acc.AcceptActivityID != want ||
		!strings.HasPrefix(want, fwLocalIRI+"#accepts/") {
		t.Fatalf("accept id %q, want %q under the actor", acc.AcceptActivityID, want)
	}
	if app.AcceptID(fwLocalIRI, "https://remote.example/f2") == acc.AcceptActivityID {
		t.Fatal("accept ids of different follows collide")
	}
}

func TestReceiveFollowConcurrently(t *testing.T) {
	e := newFwEnv(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	positions := make(chan events.Position, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.cmds.ReceiveFollow(e.ctx, receivedFollow("f1", fwLocalIRI))
			errs <- err
			positions <- res.Position
		}()
	}
	wg.Wait()
	close(errs)
	close(positions)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	envs := e.envelopes(fwRemote, fwLocalIRI)
	if got := e.types(fwRemote, fwLocalIRI); got != "requested,accepted" {
		t.Fatalf("events %q, want one follow", got)
	}
	// Every caller learns the position of the one write.
	for p := range positions {
		if p != envs[1].Position {
			t.Fatalf("position %d, want %d", p, envs[1].Position)
		}
	}
}

func TestOutboundFollow(t *testing.T) {
	e := newFwEnv(t)
	target := app.RemoteTarget{IRI: fwRemote, Inbox: fwRemote + "/inbox", SharedInbox: "https://remote.example/inbox"}
	res, err := e.cmds.Follow(e.ctx, "g1", target, "admin")
	if err != nil || !res.Changed {
		t.Fatalf("Follow: %+v, %v", res, err)
	}
	followID := res.State.FollowActivityID
	if !strings.HasPrefix(followID, fwLocalIRI+"#follows/") || res.State.Direction != follow.Outbound {
		t.Fatalf("follow id %q, state %+v", followID, res.State)
	}
	// Following again while pending changes nothing.
	if res, err := e.cmds.Follow(e.ctx, "g1", target, "admin"); err != nil || res.Changed {
		t.Fatalf("second Follow: %+v, %v", res, err)
	}
	resp := func(id, actor string) app.ReceivedActivity {
		return app.ReceivedActivity{ActivityID: id, Actor: actor, FollowerIRI: fwLocalIRI, FolloweeIRI: fwRemote}
	}
	if _, err := e.cmds.ReceiveAccept(e.ctx, resp("a0", fwStranger)); !errors.Is(err, app.ErrFollowForbidden) {
		t.Fatalf("Accept by a stranger: %v", err)
	}
	if res, err := e.cmds.ReceiveAccept(e.ctx, resp("a1", fwRemote)); err != nil || !res.Changed || res.State.Status != follow.StatusAccepted {
		t.Fatalf("Accept: %+v, %v", res, err)
	}
	if res, err := e.cmds.ReceiveAccept(e.ctx, resp("a1", fwRemote)); err != nil || res.Changed {
		t.Fatalf("Accept again: %+v, %v", res, err)
	}
	res, err = e.cmds.Unfollow(e.ctx, "g1", fwRemote, "admin")
	if err != nil || !res.Changed || !strings.HasPrefix(res.State.UndoActivityID, fwLocalIRI+"#undos/") {
		t.Fatalf("Unfollow: %+v, %v", res, err)
	}
	if _, err := e.cmds.Unfollow(e.ctx, "g1", fwRemote, "admin"); !errors.Is(err, app.ErrFollowNotFound) {
		t.Fatalf("Unfollow again: %v", err)
	}
	// Following again starts a new relationship with a new Follow id.
	res, err = e.cmds.Follow(e.ctx, "g1", target, "admin")
	if err != nil || !res.Changed || res.State.FollowActivityID == followID {
		t.Fatalf("re-Follow: %+v, %v (first follow id %s)", res, err, followID)
	}
	if res, err := e.cmds.ReceiveReject(e.ctx, resp("r1", fwRemote)); err != nil || res.State.Status != follow.StatusRejected {
		t.Fatalf("Reject: %+v, %v", res, err)
	}
	if got := e.types(fwLocalIRI, fwRemote); got != "requested,accepted,undone,requested,rejected" {
		t.Fatalf("events %q", got)
	}
	if _, err := e.cmds.Follow(e.ctx, "nobody", target, "admin"); !errors.Is(err, app.ErrActorNotFound) {
		t.Fatalf("Follow by an unknown actor: %v", err)
	}
}

func TestRemoveRemoteActor(t *testing.T) {
	e := newFwEnv(t)
	if _, err := e.cmds.ReceiveFollow(e.ctx, receivedFollow("f1", fwLocalIRI)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		res, err := e.cmds.RemoveRemoteActor(e.ctx, fwRemote, fwLocalIRI, fwRemote, "https://remote.example/delete-1")
		if i == 0 && (err != nil || !res.Changed) || i == 1 && !errors.Is(err, app.ErrFollowNotFound) {
			t.Fatalf("attempt %d: %+v, %v", i, res, err)
		}
	}
	if got := e.types(fwRemote, fwLocalIRI); got != "requested,accepted,removed" {
		t.Fatalf("events %q", got)
	}
}
