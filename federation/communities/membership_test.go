package communities_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/communities"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// fakeCommunities answers RemoteFollow from a table by follower.
type fakeCommunities struct {
	*calls
	answer map[string]func() (app.MembershipState, error)
}

func (c fakeCommunities) RemoteFollow(_ context.Context, communityID, memberIRI, followID string) (app.MembershipState, events.Position, error) {
	c.add("remote follow %s %s (%s)", communityID, memberIRI, followID)
	if f := c.answer[memberIRI]; f != nil {
		s, err := f()
		return s, 1, err
	}
	return community.StateMember, 1, nil
}

func (c fakeCommunities) Leave(_ context.Context, communityID, member string) (events.Position, error) {
	c.add("leave %s %s", communityID, member)
	return 1, nil
}

// fakeFollows holds relationship states by follower.
type fakeFollows struct {
	*calls
	mu     sync.Mutex
	states map[string]follow.State
}

func (f *fakeFollows) Relationship(_ context.Context, follower, followee string) (follow.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.states[follower+" "+followee], nil
}

func (f *fakeFollows) set(follower, followee string, status follow.Status, followID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states[follower+" "+followee] = follow.State{Status: status, FollowerIRI: follower, FolloweeIRI: followee,
		FollowActivityID: followID}
}

func (f *fakeFollows) Approve(_ context.Context, localID, follower, by string) (app.FollowResult, error) {
	f.add("approve %s %s", localID, follower)
	return app.FollowResult{}, nil
}

func (f *fakeFollows) Reject(_ context.Context, localID, follower, by string) (app.FollowResult, error) {
	f.add("reject %s %s", localID, follower)
	return app.FollowResult{}, nil
}

func (f *fakeFollows) RemoveFollower(_ context.Context, localID, follower, by string) (app.FollowResult, error) {
	f.add("remove follower %s %s", localID, follower)
	return app.FollowResult{}, nil
}

type membershipEnv struct {
	*harness
	calls   *calls
	follows *fakeFollows
	comm    fakeCommunities
}

func newMembershipEnv(t *testing.T) *membershipEnv {
	t.Helper()
	c := &calls{}
	e := &membershipEnv{calls: c, follows: &fakeFollows{calls: c, states: map[string]follow.State{}},
		comm: fakeCommunities{calls: c, answer: map[string]func() (app.MembershipState, error){}}}
	m := communities.NewMembership(scheme, nil)
	if err := m.Bind(communities.MembershipDeps{Communities: e.comm, Follows: e.follows, Local: directory{}}); err != nil {
		t.Fatal(err)
	}
	e.harness = newHarness(t, m)
	return e
}

func (e *membershipEnv) expect(what string, want ...string) {
	e.t.Helper()
	if got := e.calls.take(); !slices.Equal(got, want) {
		e.t.Fatalf("%s: calls\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func (e *membershipEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// follows records a remote Follow of the Group groupIRI (local id) by
// follower, in the state status (as the inbox processor leaves it).
func (e *membershipEnv) followed(groupID, groupIRI, follower string, status follow.Status) {
	e.t.Helper()
	followID := follower + "/follows/1"
	e.follows.set(follower, groupIRI, status, followID)
	e.must(e.record(follow.Stream(follower, groupIRI), follow.Requested{Direction: follow.Inbound, LocalActorID: groupID,
		FollowerIRI: follower, FolloweeIRI: groupIRI, FollowActivityID: followID, RemoteInbox: follower + "/inbox",
		PendingApproval: status == follow.StatusPending}))
}

func TestRemoteFollowIsAJoin(t *testing.T) {
	e := newMembershipEnv(t)
	closed := localActors[2].IRI
	m1, m2, m3, m4 := "https://a.example/users/m1", "https://b.example/users/m2", "https://c.example/users/m3", "https://d.example/users/m4"

	e.followed("g1", groupIRI, m1, follow.StatusAccepted)
	e.expect("an open community's Group accepted the follow itself", "remote follow g1 "+m1+" ("+m1+"/follows/1)")

	e.comm.answer[m2] = func() (app.MembershipState, error) { return community.StateRequested, nil }
	e.followed("g2", closed, m2, follow.StatusPending)
	e.expect("a join request leaves the follow pending", "remote follow g2 "+m2+" ("+m2+"/follows/1)")

	e.followed("g2", closed, m3, follow.StatusPending)
	e.expect("an invited person's follow is accepted", "remote follow g2 "+m3+" ("+m3+"/follows/1)", "approve g2 "+m3)

	e.comm.answer[m4] = func() (app.MembershipState, error) { return "", fmt.Errorf("%w: m4", app.ErrBanned) }
	e.followed("g2", closed, m4, follow.StatusPending)
	e.expect("a banned person's follow is rejected", "remote follow g2 "+m4+" ("+m4+"/follows/1)", "reject g2 "+m4)

	m5 := "https://e.example/users/m5"
	e.comm.answer[m5] = func() (app.MembershipState, error) { return "", fmt.Errorf("%w: not invited", app.ErrNotMember) }
	e.followed("g1", groupIRI, m5, follow.StatusAccepted)
	e.expect("an accepted follow of someone refused is removed", "remote follow g1 "+m5+" ("+m5+"/follows/1)", "remove follower g1 "+m5)

	// Following a person is no join.
	e.must(e.record(follow.Stream(m1, aliceIRI), follow.Requested{Direction: follow.Inbound, LocalActorID: "a1",
		FollowerIRI: m1, FolloweeIRI: aliceIRI, FollowActivityID: m1 + "/follows/2"}))
	e.expect("a follow of a person")

	// A facilitator approves m2's request: the follow is accepted.
	e.must(e.record(community.MembershipStream("g2", m2), community.MemberJoined{CommunityID: "g2", Member: m2,
		Role: community.Member, By: "a1", FollowActivityID: m2 + "/follows/1"}))
	e.expect("approval", "approve g2 "+m2)
	// A local member's join has no follow.
	e.must(e.record(community.MembershipStream("g2", "a1"), community.MemberJoined{CommunityID: "g2", Member: "a1", Role: community.Member}))
	e.expect("a local member")

	// Rejections, removals and bans end the follow.
	m6 := "https://f.example/users/m6"
	e.follows.set(m6, closed, follow.StatusPending, m6+"/follows/1")
	e.must(e.record(community.MembershipStream("g2", m6), community.JoinRejected{CommunityID: "g2", Member: m6, By: "a1"}))
	e.expect("a rejected request", "reject g2 "+m6)
	e.must(e.record(community.MembershipStream("g1", m1), community.MemberRemoved{CommunityID: "g1", Member: m1, By: "a1"}))
	e.expect("a removed member", "remove follower g1 "+m1)
	e.follows.set(m1, groupIRI, follow.StatusRemoved, m1+"/follows/1")
	e.must(e.record(community.MembershipStream("g1", m1), community.MemberBanned{CommunityID: "g1", Member: m1, By: "a1"}))
	e.expect("a ban after the removal: nothing left to end")
	e.must(e.record(community.MembershipStream("g1", "a1"), community.MemberBanned{CommunityID: "g1", Member: "a1", By: "a1"}))
	e.expect("a local member's ban")

	// Undo{Follow} of a Group is a leave; so is the follower's deletion.
	e.must(e.record(follow.Stream(m3, closed), follow.Undone{UndoActivityID: m3 + "/undo"}))
	e.expect("Undo{Follow}", "leave g2 "+m3)
	e.must(e.record(follow.Stream(m2, closed), follow.Removed{Reason: communities.RemovedBecauseDeleted}))
	e.expect("deleted follower", "leave g2 "+m2)
	e.must(e.record(follow.Stream(m5, groupIRI), follow.Removed{Reason: "removed by the local actor"}))
	e.expect("the community's own removal")
	e.must(e.record(follow.Stream(m1, aliceIRI), follow.Undone{}))
	e.expect("an Undo of a person's follow")

	// A failure of the commands stops the reactor; refusals do not.
	m7 := "https://g.example/users/m7"
	e.comm.answer[m7] = func() (app.MembershipState, error) { return "", fmt.Errorf("%w: g9", app.ErrCommunityNotFound) }
	e.followed("g1", groupIRI, m7, follow.StatusAccepted)
	e.expect("a refusal", "remote follow g1 "+m7+" ("+m7+"/follows/1)")

	// The reactor's table rebuilds to the same state.
	projectiontest.RebuildTwiceSameChecksum(t, e.runner, communities.MembershipName, nil)
	e.calls.take()
	m8 := "https://h.example/users/m8"
	e.comm.answer[m8] = func() (app.MembershipState, error) { return "", errors.New("database locked") }
	err := e.record(follow.Stream(m8, groupIRI), follow.Requested{Direction: follow.Inbound, LocalActorID: "g1",
		FollowerIRI: m8, FolloweeIRI: groupIRI, FollowActivityID: m8 + "/follows/1"})
	if !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("a failing command gave %v, want the reactor stopped", err)
	}
}

func TestAnnouncer(t *testing.T) {
	c := &calls{}
	posts := newFakePosts(c)
	a := communities.NewAnnouncer(nil)
	if err := a.Bind(posts); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, a)
	publish := func(p post.Published) {
		t.Helper()
		if err := h.record(post.Stream(p.PostID), p); err != nil {
			t.Fatal(err)
		}
	}
	posts.fail["p4"] = fmt.Errorf("%w: p4", app.ErrPostNotShareable)
	publish(post.Published{PostID: "p1", AuthorID: "a1", CommunityID: "g1", Visibility: post.Public})
	publish(post.Published{PostID: "p2", AuthorID: "a1", CommunityID: "g1", Visibility: post.Followers})
	publish(post.Published{PostID: "p3", AuthorID: "a1", Visibility: post.Public})
	publish(post.Published{PostID: "p4", AuthorID: "a1", CommunityID: "g1", Visibility: post.Members})
	publish(post.Published{PostID: "p5", AuthorIRI: lemmyA, ObjectIRI: "http://ds9.lemmy.ml/post/1", CommunityID: "g1",
		Visibility: post.Unlisted})
	if got := c.take(); !slices.Equal(got, []string{"announce p1", "announce p5"}) {
		t.Fatalf("announced %v", got)
	}
	posts.fail["p6"] = errors.New("disk full")
	if err := h.record(post.Stream("p6"), post.Published{PostID: "p6", AuthorID: "a1", CommunityID: "g1", Visibility: post.Public}); err == nil {
		t.Fatal("a failing Announce did not stop the announcer")
	}
}

func TestUnboundReactorsFail(t *testing.T) {
	r := communities.New(scheme, nil)
	h := newHarness(t, r.Projectors()...)
	if err := h.record(post.Stream("p1"), post.Published{PostID: "p1", AuthorID: "a1", CommunityID: "g1", Visibility: post.Public}); err == nil {
		t.Fatal("an unbound announcer applied an event")
	}
	if err := communities.Wire(r, communities.WireDeps{}); err == nil {
		t.Fatal("Wire accepted no services")
	}
}
