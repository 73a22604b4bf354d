package follow_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/follow"
)

const (
	remote = "https://remote.example/users/bob"
	local  = "https://hanse.example/communities/lernen"
	other  = "https://evil.example/users/mallory"
)

// Inbound history: bob follows the local community.
var (
	reqPending = follow.Requested{Direction: follow.Inbound, LocalActorID: "g1", FollowerIRI: remote, FolloweeIRI: local,
		FollowActivityID: "https://remote.example/f1", RemoteInbox: "https://remote.example/users/bob/inbox",
		RemoteSharedInbox: "https://remote.example/inbox", PendingApproval: true}
	reqAuto = func() follow.Requested { r := reqPending; r.PendingApproval = false; return r }()
	acc1    = follow.Accepted{AcceptActivityID: local + "#accepts/1"}
	rej1    = follow.Rejected{RejectActivityID: local + "#rejects/1"}
	undo1   = follow.Undone{UndoActivityID: "https://remote.example/u1"}
	removed = follow.Removed{Reason: "removed by admin"}
)

// Outbound history: the local community follows bob.
var (
	outReq = follow.Requested{Direction: follow.Outbound, LocalActorID: "g1", FollowerIRI: local, FolloweeIRI: remote,
		FollowActivityID: local + "#follows/1", RemoteInbox: "https://remote.example/users/bob/inbox"}
	outAcc  = follow.Accepted{AcceptActivityID: "https://remote.example/a1"}
	outUndo = follow.Undone{UndoActivityID: local + "#undos/1"}
)

func inboundFollow(id string, manual bool) follow.InboundFollow {
	return follow.InboundFollow{FollowActivityID: id, FollowerIRI: remote, FolloweeIRI: local, LocalActorID: "g1",
		RemoteInbox: reqPending.RemoteInbox, RemoteSharedInbox: reqPending.RemoteSharedInbox,
		ManuallyApprovesFollowers: manual, AcceptActivityID: local + "#accepts/" + id}
}

func requested(id string, pending bool) follow.Requested {
	r := reqPending
	r.FollowActivityID, r.PendingApproval = id, pending
	return r
}

func outboundFollow(id string) follow.OutboundFollow {
	return follow.OutboundFollow{FollowActivityID: id, FollowerIRI: local, FolloweeIRI: remote, LocalActorID: "g1",
		RemoteInbox: outReq.RemoteInbox}
}

type when func(follow.State) ([]any, error)

func TestDecide(t *testing.T) {
	cases := []struct {
		name    string
		given   []any
		when    when
		then    []any
		wantErr error
	}{
		// Received Follow.
		{name: "follow, auto-accept", when: rf(inboundFollow("f1", false)),
			then: []any{requested("f1", false), follow.Accepted{AcceptActivityID: local + "#accepts/f1"}}},
		{name: "follow, manual approval", when: rf(inboundFollow("f1", true)), then: []any{requested("f1", true)}},
		{name: "same follow processed twice", given: []any{reqAuto, acc1}, when: rf(inboundFollow(reqAuto.FollowActivityID, false))},
		{name: "same pending follow processed twice", given: []any{reqPending}, when: rf(inboundFollow(reqPending.FollowActivityID, true))},
		{name: "duplicate follow of an accepted follower re-accepts", given: []any{reqAuto, acc1}, when: rf(inboundFollow("f2", true)),
			then: []any{requested("f2", false), follow.Accepted{AcceptActivityID: local + "#accepts/f2"}}},
		{name: "new follow while pending stays pending", given: []any{reqPending}, when: rf(inboundFollow("f2", true)),
			then: []any{requested("f2", true)}},
		{name: "follow after undo starts again", given: []any{reqAuto, acc1, undo1}, when: rf(inboundFollow("f2", true)),
			then: []any{requested("f2", true)}},
		{name: "follow after reject starts again", given: []any{reqPending, rej1}, when: rf(inboundFollow("f2", false)),
			then: []any{requested("f2", false), follow.Accepted{AcceptActivityID: local + "#accepts/f2"}}},
		{name: "follow after removal starts again", given: []any{reqAuto, acc1, removed}, when: rf(inboundFollow("f2", false)),
			then: []any{requested("f2", false), follow.Accepted{AcceptActivityID: local + "#accepts/f2"}}},
		{name: "old follow replayed after undo", given: []any{reqAuto, acc1, undo1}, when: rf(inboundFollow(reqAuto.FollowActivityID, false))},
		{name: "follow without id", when: rf(inboundFollow("", false)), wantErr: follow.ErrInvalid},
		{name: "received follow on an outbound stream", given: []any{outReq}, when: rf(inboundFollow("f9", false)), wantErr: follow.ErrWrongDirection},

		// Approve / Reject.
		{name: "approve pending", given: []any{reqPending}, when: approve("acc"), then: []any{follow.Accepted{AcceptActivityID: "acc"}}},
		{name: "approve accepted", given: []any{reqPending, acc1}, when: approve("acc")},
		{name: "approve unknown", when: approve("acc"), wantErr: follow.ErrNotFound},
		{name: "approve rejected", given: []any{reqPending, rej1}, when: approve("acc"), wantErr: follow.ErrNotPending},
		{name: "approve undone", given: []any{reqPending, undo1}, when: approve("acc"), wantErr: follow.ErrNotPending},
		{name: "approve outbound", given: []any{outReq}, when: approve("acc"), wantErr: follow.ErrWrongDirection},
		{name: "approve without id", given: []any{reqPending}, when: approve(""), wantErr: follow.ErrInvalid},
		{name: "reject pending", given: []any{reqPending}, when: reject("rej"), then: []any{follow.Rejected{RejectActivityID: "rej"}}},
		{name: "reject rejected", given: []any{reqPending, rej1}, when: reject("rej")},
		{name: "reject accepted", given: []any{reqAuto, acc1}, when: reject("rej"), wantErr: follow.ErrNotPending},
		{name: "reject unknown", when: reject("rej"), wantErr: follow.ErrNotFound},

		// Received Undo.
		{name: "undo accepted", given: []any{reqAuto, acc1}, when: ru("u2", remote), then: []any{follow.Undone{UndoActivityID: "u2"}}},
		{name: "undo pending", given: []any{reqPending}, when: ru("u2", remote), then: []any{follow.Undone{UndoActivityID: "u2"}}},
		{name: "undo by a stranger", given: []any{reqAuto, acc1}, when: ru("u2", other), wantErr: follow.ErrNotParty},
		{name: "undo by the followee", given: []any{reqAuto, acc1}, when: ru("u2", local), wantErr: follow.ErrNotParty},
		{name: "undo of unknown", when: ru("u2", remote)},
		{name: "undo of undone", given: []any{reqAuto, acc1, undo1}, when: ru("u2", remote)},
		{name: "same undo twice", given: []any{reqAuto, acc1, undo1}, when: ru(undo1.UndoActivityID, remote)},
		{name: "undo of removed", given: []any{reqAuto, acc1, removed}, when: ru("u2", remote)},
		{name: "undo of an outbound follow by the remote", given: []any{outReq, outAcc}, when: ru("u2", remote), wantErr: follow.ErrNotParty},
		{name: "undo without actor", given: []any{reqAuto, acc1}, when: ru("u2", ""), wantErr: follow.ErrInvalid},

		// Remove.
		{name: "remove accepted", given: []any{reqAuto, acc1}, when: remove("removed by admin"), then: []any{removed}},
		{name: "remove pending", given: []any{reqPending}, when: remove("removed by admin"), then: []any{removed}},
		{name: "remove outbound", given: []any{outReq, outAcc}, when: remove("x"), then: []any{follow.Removed{Reason: "x"}}},
		{name: "remove unknown", when: remove("x"), wantErr: follow.ErrNotFound},
		{name: "remove removed", given: []any{reqAuto, acc1, removed}, when: remove("x"), wantErr: follow.ErrNotFound},

		// Outbound Follow.
		{name: "send follow", when: sf(outboundFollow(outReq.FollowActivityID)), then: []any{outReq}},
		{name: "send follow while pending", given: []any{outReq}, when: sf(outboundFollow("f2"))},
		{name: "send follow while accepted", given: []any{outReq, outAcc}, when: sf(outboundFollow("f2"))},
		{name: "send follow after undo", given: []any{outReq, outAcc, outUndo}, when: sf(outboundFollow("f2")),
			then: []any{func() follow.Requested { r := outReq; r.FollowActivityID = "f2"; return r }()}},
		{name: "send follow on an inbound stream", given: []any{reqAuto}, when: sf(outboundFollow("f2")), wantErr: follow.ErrWrongDirection},
		{name: "send follow without inbox", when: sf(follow.OutboundFollow{FollowActivityID: "f", FollowerIRI: local, FolloweeIRI: remote, LocalActorID: "g1"}),
			wantErr: follow.ErrInvalid},

		// Received Accept / Reject.
		{name: "accept pending", given: []any{outReq}, when: ra("a1", remote), then: []any{follow.Accepted{AcceptActivityID: "a1"}}},
		{name: "accept accepted", given: []any{outReq, outAcc}, when: ra("a2", remote)},
		{name: "accept twice", given: []any{outReq, outAcc}, when: ra(outAcc.AcceptActivityID, remote)},
		{name: "accept from a stranger", given: []any{outReq}, when: ra("a1", other), wantErr: follow.ErrNotParty},
		{name: "accept unknown", when: ra("a1", remote), wantErr: follow.ErrNotFound},
		{name: "accept after undo", given: []any{outReq, outUndo}, when: ra("a1", remote), wantErr: follow.ErrNotPending},
		{name: "accept of an inbound follow", given: []any{reqPending}, when: ra("a1", remote), wantErr: follow.ErrWrongDirection},
		{name: "reject pending outbound", given: []any{outReq}, when: rr("r1", remote), then: []any{follow.Rejected{RejectActivityID: "r1"}}},
		{name: "reject accepted outbound (remove follower)", given: []any{outReq, outAcc}, when: rr("r1", remote),
			then: []any{follow.Rejected{RejectActivityID: "r1"}}},
		{name: "reject from a stranger", given: []any{outReq}, when: rr("r1", other), wantErr: follow.ErrNotParty},
		{name: "reject after undo", given: []any{outReq, outUndo}, when: rr("r1", remote)},
		{name: "reject twice", given: []any{outReq, follow.Rejected{RejectActivityID: "r1"}}, when: rr("r1", remote)},

		// Outbound Undo.
		{name: "unfollow accepted", given: []any{outReq, outAcc}, when: su("u"), then: []any{follow.Undone{UndoActivityID: "u"}}},
		{name: "unfollow pending", given: []any{outReq}, when: su("u"), then: []any{follow.Undone{UndoActivityID: "u"}}},
		{name: "unfollow unknown", when: su("u"), wantErr: follow.ErrNotFound},
		{name: "unfollow undone", given: []any{outReq, outUndo}, when: su("u"), wantErr: follow.ErrNotFound},
		{name: "unfollow inbound", given: []any{reqAuto, acc1}, when: su("u"), wantErr: follow.ErrWrongDirection},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := follow.Fold(tc.given...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.when(s)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events =\n%#v\nwant\n%#v", got, tc.then)
			}
			// Whatever was decided must fold onto the state.
			for _, e := range got {
				if err := s.Apply(e); err != nil {
					t.Fatalf("decided event does not apply: %v", err)
				}
			}
		})
	}
}

func rf(in follow.InboundFollow) when {
	return func(s follow.State) ([]any, error) { return follow.ReceiveFollow(s, in) }
}
func approve(id string) when {
	return func(s follow.State) ([]any, error) { return follow.Approve(s, id) }
}
func reject(id string) when {
	return func(s follow.State) ([]any, error) { return follow.Reject(s, id) }
}
func ru(id, actor string) when {
	return func(s follow.State) ([]any, error) { return follow.ReceiveUndo(s, id, actor) }
}
func remove(reason string) when {
	return func(s follow.State) ([]any, error) { return follow.Remove(s, reason) }
}
func sf(in follow.OutboundFollow) when {
	return func(s follow.State) ([]any, error) { return follow.SendFollow(s, in) }
}
func ra(id, actor string) when {
	return func(s follow.State) ([]any, error) { return follow.ReceiveAccept(s, id, actor) }
}
func rr(id, actor string) when {
	return func(s follow.State) ([]any, error) { return follow.ReceiveReject(s, id, actor) }
}
func su(id string) when {
	return func(s follow.State) ([]any, error) { return follow.SendUndo(s, id) }
}

func TestFold(t *testing.T) {
	cases := []struct {
		name    string
		given   []any
		status  follow.Status
		wantErr bool
	}{
		{name: "nothing", status: follow.StatusNone},
		{name: "requested (pointer, as decoded)", given: []any{&reqPending}, status: follow.StatusPending},
		{name: "accepted", given: []any{reqAuto, &acc1}, status: follow.StatusAccepted},
		{name: "rejected", given: []any{reqPending, rej1}, status: follow.StatusRejected},
		{name: "undone", given: []any{reqAuto, acc1, &undo1}, status: follow.StatusUndone},
		{name: "removed", given: []any{reqAuto, acc1, &removed}, status: follow.StatusRemoved},
		{name: "re-requested after undo", given: []any{reqAuto, acc1, undo1, requested("f2", true)}, status: follow.StatusPending},
		{name: "re-accepted", given: []any{reqAuto, acc1, requested("f2", false), follow.Accepted{AcceptActivityID: "a2"}}, status: follow.StatusAccepted},
		{name: "accept before request", given: []any{acc1}, wantErr: true},
		{name: "accept twice", given: []any{reqAuto, acc1, acc1}, wantErr: true},
		{name: "undo after undo", given: []any{reqAuto, undo1, undo1}, wantErr: true},
		{name: "remove before request", given: []any{removed}, wantErr: true},
		{name: "reject after removal", given: []any{reqAuto, removed, rej1}, wantErr: true},
		{name: "other pair on the stream", given: []any{reqAuto, outReq}, wantErr: true},
		{name: "foreign payload", given: []any{"x"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := follow.Fold(tc.given...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && s.Status != tc.status {
				t.Fatalf("status = %q, want %q", s.Status, tc.status)
			}
		})
	}
	s, _ := follow.Fold(reqAuto, acc1, undo1, requested("f2", false), follow.Accepted{AcceptActivityID: "a2"})
	for _, id := range []string{reqAuto.FollowActivityID, acc1.AcceptActivityID, undo1.UndoActivityID, "f2", "a2"} {
		if !s.Seen(id) {
			t.Errorf("Seen(%q) = false", id)
		}
	}
	if s.Seen("f3") || s.Seen("") {
		t.Error("Seen reports an id never recorded")
	}
	if s.FollowActivityID != "f2" || s.AcceptActivityID != "a2" || s.RemoteInbox != reqAuto.RemoteInbox {
		t.Errorf("state = %+v", s)
	}
}
