package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/follow"
)

func TestMoveCommands(t *testing.T) {
	const (
		moveID = "https://remote.example/users/bob/moves/1"
		newIRI = "https://new.example/users/bob"
	)
	e := newFwEnv(t)
	old := app.RemoteTarget{IRI: fwRemote, Inbox: fwRemote + "/inbox"}
	if _, err := e.cmds.Follow(e.ctx, "g1", old, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cmds.ReceiveAccept(e.ctx, app.ReceivedActivity{ActivityID: "a1", Actor: fwRemote, FollowerIRI: fwLocalIRI, FolloweeIRI: fwRemote}); err != nil {
		t.Fatal(err)
	}
	in := app.MovedFollow{MoveID: moveID, OldIRI: fwRemote, LocalActorID: "g1",
		Target: app.RemoteTarget{IRI: newIRI, Inbox: newIRI + "/inbox", SharedInbox: "https://new.example/inbox"}}

	cases := []struct {
		name              string
		run               func(context.Context, app.MovedFollow) (app.FollowResult, error)
		in                app.MovedFollow
		wantErr           error
		wantChanged       bool
		wantFollow, wantU string
	}{
		{name: "follow target", run: e.cmds.FollowMoveTarget, in: in, wantChanged: true,
			wantFollow: app.MoveFollowID(fwLocalIRI, moveID, newIRI)},
		{name: "follow target again", run: e.cmds.FollowMoveTarget, in: in},
		{name: "unfollow old", run: e.cmds.UnfollowMoveOrigin, in: in, wantChanged: true, wantU: app.MoveUndoID(fwLocalIRI, moveID)},
		{name: "unfollow old again", run: e.cmds.UnfollowMoveOrigin, in: in},
		{name: "deleted local actor", run: e.cmds.FollowMoveTarget, in: app.MovedFollow{MoveID: moveID, OldIRI: fwRemote,
			LocalActorID: "u9", Target: in.Target}, wantErr: app.ErrActorDeleted},
		{name: "no move id", run: e.cmds.FollowMoveTarget, in: app.MovedFollow{OldIRI: fwRemote, LocalActorID: "g1",
			Target: in.Target}, wantErr: app.ErrFollowInvalid},
		{name: "unfollow never followed", run: e.cmds.UnfollowMoveOrigin, in: app.MovedFollow{MoveID: moveID, OldIRI: fwRemote,
			LocalActorID: "g2", Target: in.Target}, wantErr: app.ErrFollowNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.run(e.ctx, c.in)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if res.Changed != c.wantChanged {
				t.Fatalf("changed %v, want %v (%+v)", res.Changed, c.wantChanged, res)
			}
			if c.wantFollow != "" && (res.State.FollowActivityID != c.wantFollow || !strings.HasPrefix(c.wantFollow, fwLocalIRI+"#follows/") ||
				res.State.Direction != follow.Outbound || res.State.RemoteInbox != newIRI+"/inbox") {
				t.Fatalf("state %+v, want follow %s", res.State, c.wantFollow)
			}
			if c.wantU != "" && res.State.UndoActivityID != c.wantU {
				t.Fatalf("undo %q, want %q", res.State.UndoActivityID, c.wantU)
			}
		})
	}

	// The local actor follows the old account again and unfollows the new
	// one: processing the same Move again changes neither.
	if _, err := e.cmds.Follow(e.ctx, "g1", old, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cmds.Unfollow(e.ctx, "g1", newIRI, "admin"); err != nil {
		t.Fatal(err)
	}
	for _, run := range []func(context.Context, app.MovedFollow) (app.FollowResult, error){e.cmds.FollowMoveTarget, e.cmds.UnfollowMoveOrigin} {
		if res, err := run(e.ctx, in); err != nil || res.Changed {
			t.Fatalf("again after the local actor's changes: %+v, %v", res, err)
		}
	}
	if got := e.types(fwLocalIRI, fwRemote); got != "requested,accepted,undone,requested" {
		t.Fatalf("old: %q", got)
	}
	if got := e.types(fwLocalIRI, newIRI); got != "requested,undone" {
		t.Fatalf("new: %q", got)
	}
	// Event ids derive from the Move.
	for _, env := range e.envelopes(fwLocalIRI, newIRI)[:1] {
		if env.Metadata.CausationID != moveID || env.Metadata.Actor != fwRemote {
			t.Fatalf("metadata %+v", env.Metadata)
		}
	}
}
