package follows_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/follows"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

const (
	local   = "https://hanse.example/communities/lernen"
	local2  = "https://hanse.example/users/ada"
	bob     = "https://remote.example/users/bob"
	carol   = "https://other.example/users/carol"
	inboxOf = "/inbox"
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC) }

// ev is one event on the stream of the pair (follower, followee).
type ev struct {
	follower, followee string
	payload            any
}

func inbound(follower, followee, localID, followID string, pending bool) ev {
	return ev{follower, followee, follow.Requested{Direction: follow.Inbound, LocalActorID: localID, FollowerIRI: follower,
		FolloweeIRI: followee, FollowActivityID: followID, RemoteInbox: follower + inboxOf,
		RemoteSharedInbox: "https://shared.example/inbox", PendingApproval: pending}}
}

func outbound(follower, followee, localID, followID string) ev {
	return ev{follower, followee, follow.Requested{Direction: follow.Outbound, LocalActorID: localID, FollowerIRI: follower,
		FolloweeIRI: followee, FollowActivityID: followID, RemoteInbox: followee + inboxOf}}
}

func on(follower, followee string, payload any) ev { return ev{follower, followee, payload} }

// project appends evs (and an unrelated event) to a fresh store, runs the
// follows projection to the head and returns its reader, runner and the
// position of every event.
func project(t *testing.T, evs []ev) (follows.Reader, *projections.Runner, []events.Position) {
	t.Helper()
	env := projectiontest.Open(t)
	follow.Register(env.Registry)
	var positions []events.Position
	for i, e := range evs {
		positions = append(positions, env.Record(follow.Stream(e.follower, e.followee), e.payload, events.Metadata{OccurredAt: at(i)}))
	}
	env.AppendUnrelated()
	r := env.Start(follows.New())
	return follows.NewReader(r.DB()), r, positions
}

func remotes(rs []follows.Relationship) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.RemoteIRI)
	}
	return out
}

func TestFollowsGivenEventsThenReader(t *testing.T) {
	acc := func(id string) follow.Accepted { return follow.Accepted{AcceptActivityID: id} }
	cases := []struct {
		name      string
		given     []ev
		followers []string // remote IRIs of local g1's followers, newest first
		following []string // of local u1
		pending   []string // of g1
		counts    follows.Counts
		rel       follows.Relationship // bob → local, when State is set
	}{
		{name: "nothing", followers: []string{}, following: []string{}, pending: []string{}},
		{name: "auto-accepted follower",
			given:     []ev{inbound(bob, local, "g1", "f1", false), on(bob, local, acc("a1"))},
			followers: []string{bob}, following: []string{}, pending: []string{}, counts: follows.Counts{Followers: 1},
			rel: follows.Relationship{FollowerIRI: bob, FolloweeIRI: local, Direction: follow.Inbound, LocalActorID: "g1",
				RemoteIRI: bob, State: follow.StatusAccepted, RemoteInbox: bob + inboxOf, RemoteSharedInbox: "https://shared.example/inbox",
				FollowActivityID: "f1", AcceptActivityID: "a1", UpdatedAt: at(1)}},
		{name: "pending request",
			given:     []ev{inbound(bob, local, "g1", "f1", true)},
			followers: []string{}, following: []string{}, pending: []string{bob}, counts: follows.Counts{Pending: 1}},
		{name: "two followers, newest first, one pending",
			given: []ev{inbound(bob, local, "g1", "f1", false), on(bob, local, acc("a1")),
				inbound(carol, local, "g1", "f2", false), on(carol, local, acc("a2")),
				inbound("https://x.example/u/p", local, "g1", "f3", true)},
			followers: []string{carol, bob}, following: []string{}, pending: []string{"https://x.example/u/p"},
			counts: follows.Counts{Followers: 2, Pending: 1}},
		{name: "undone, rejected and removed are gone",
			given: []ev{inbound(bob, local, "g1", "f1", false), on(bob, local, acc("a1")), on(bob, local, follow.Undone{UndoActivityID: "u1"}),
				inbound(carol, local, "g1", "f2", true), on(carol, local, follow.Rejected{RejectActivityID: "r2"}),
				inbound("https://x.example/u/p", local, "g1", "f3", false), on("https://x.example/u/p", local, acc("a3")),
				on("https://x.example/u/p", local, follow.Removed{Reason: "spam"})},
			followers: []string{}, following: []string{}, pending: []string{},
			rel: follows.Relationship{FollowerIRI: bob, FolloweeIRI: local, Direction: follow.Inbound, LocalActorID: "g1",
				RemoteIRI: bob, State: follow.StatusUndone, RemoteInbox: bob + inboxOf, RemoteSharedInbox: "https://shared.example/inbox",
				FollowActivityID: "f1", AcceptActivityID: "a1", UpdatedAt: at(2)}},
		{name: "re-sent follow keeps the follower accepted",
			given: []ev{inbound(bob, local, "g1", "f1", false), on(bob, local, acc("a1")),
				inbound(carol, local, "g1", "f2", false), on(carol, local, acc("a2")),
				inbound(bob, local, "g1", "f9", false), on(bob, local, acc("a9"))},
			// bob's Since stays the first acceptance: carol is still newer.
			followers: []string{carol, bob}, following: []string{}, pending: []string{}, counts: follows.Counts{Followers: 2},
			rel: follows.Relationship{FollowerIRI: bob, FolloweeIRI: local, Direction: follow.Inbound, LocalActorID: "g1",
				RemoteIRI: bob, State: follow.StatusAccepted, RemoteInbox: bob + inboxOf, RemoteSharedInbox: "https://shared.example/inbox",
				FollowActivityID: "f9", AcceptActivityID: "a9", UpdatedAt: at(5)}},
		{name: "follow again after undo",
			given: []ev{inbound(bob, local, "g1", "f1", false), on(bob, local, acc("a1")), on(bob, local, follow.Undone{UndoActivityID: "u1"}),
				inbound(bob, local, "g1", "f2", true)},
			followers: []string{}, following: []string{}, pending: []string{bob}, counts: follows.Counts{Pending: 1},
			rel: follows.Relationship{FollowerIRI: bob, FolloweeIRI: local, Direction: follow.Inbound, LocalActorID: "g1",
				RemoteIRI: bob, State: follow.StatusPending, RemoteInbox: bob + inboxOf, RemoteSharedInbox: "https://shared.example/inbox",
				FollowActivityID: "f2", UpdatedAt: at(3)}},
		{name: "outbound follows: accepted, pending, other local actor",
			given: []ev{outbound(local2, bob, "u1", "of1"), on(local2, bob, acc("ra1")), outbound(local2, carol, "u1", "of2"),
				outbound(local, carol, "g1", "of3"), on(local, carol, acc("ra3"))},
			followers: []string{}, following: []string{bob}, pending: []string{}, counts: follows.Counts{Following: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, _, positions := project(t, tc.given)
			ctx := context.Background()
			fs, err := q.Followers(ctx, "g1", "", 50)
			if err != nil || !reflect.DeepEqual(remotes(fs.Items), tc.followers) || fs.Next != "" {
				t.Fatalf("Followers = %v (next %q), %v; want %v", remotes(fs.Items), fs.Next, err, tc.followers)
			}
			fg, err := q.Following(ctx, "u1", "", 50)
			if err != nil || !reflect.DeepEqual(remotes(fg.Items), tc.following) {
				t.Fatalf("Following = %v, %v; want %v", remotes(fg.Items), err, tc.following)
			}
			p, err := q.Pending(ctx, "g1")
			if err != nil || !reflect.DeepEqual(remotes(p), tc.pending) {
				t.Fatalf("Pending = %v, %v; want %v", remotes(p), err, tc.pending)
			}
			c, err := q.Counts(ctx, "g1")
			if err != nil || c != tc.counts {
				t.Fatalf("Counts = %+v, %v; want %+v", c, err, tc.counts)
			}
			if tc.rel.State != "" {
				got, err := q.Relationship(ctx, bob, local)
				if err != nil {
					t.Fatal(err)
				}
				want := tc.rel
				if want.State == follow.StatusAccepted {
					want.Since = positions[1] // bob's first acceptance
				}
				if got != want {
					t.Fatalf("Relationship =\n%+v\nwant\n%+v", got, want)
				}
			} else if _, err := q.Relationship(ctx, bob, local); len(tc.given) == 0 && !errors.Is(err, follows.ErrNotFound) {
				t.Fatalf("Relationship of nothing: %v", err)
			}
		})
	}
}

func TestFollowsPagingAndWithRemote(t *testing.T) {
	var evs []ev
	const n = 25
	for i := range n {
		f := fmt.Sprintf("https://r%d.example/users/u", i)
		evs = append(evs, inbound(f, local, "g1", fmt.Sprintf("f%d", i), false), on(f, local, follow.Accepted{AcceptActivityID: fmt.Sprintf("a%d", i)}))
	}
	// bob follows g1 and is followed by u1.
	evs = append(evs, inbound(bob, local, "g1", "fb", true), outbound(local2, bob, "u1", "ob"), on(local2, bob, follow.Accepted{AcceptActivityID: "ab"}))
	q, _, _ := project(t, evs)
	ctx := context.Background()
	var all []string
	cursor := ""
	pages := 0
	for {
		p, err := q.Followers(ctx, "g1", cursor, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, remotes(p.Items)...)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if pages != 3 || len(all) != n {
		t.Fatalf("%d pages, %d followers; want 3 pages, %d", pages, len(all), n)
	}
	for i, r := range all {
		if want := fmt.Sprintf("https://r%d.example/users/u", n-1-i); r != want {
			t.Fatalf("follower %d = %s, want %s (newest first)", i, r, want)
		}
	}
	for _, bad := range []string{"x", "-1", "0", "01"} {
		if _, err := q.Followers(ctx, "g1", bad, 10); !errors.Is(err, follows.ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
	for _, limit := range []int{0, follows.MaxPageSize + 1} {
		if _, err := q.Followers(ctx, "g1", "", limit); err == nil {
			t.Errorf("limit %d accepted", limit)
		}
	}
	w, err := q.WithRemote(ctx, bob)
	if err != nil || len(w) != 2 || w[0].Direction != follow.Inbound || w[1].Direction != follow.Outbound {
		t.Fatalf("WithRemote = %+v, %v", w, err)
	}
}

func TestFollowsRebuildIsDeterministic(t *testing.T) {
	var evs []ev
	for i := range 40 {
		f := fmt.Sprintf("https://r%d.example/users/u", i)
		evs = append(evs, inbound(f, local, "g1", fmt.Sprintf("f%d", i), i%4 == 0))
		if i%4 != 0 {
			evs = append(evs, on(f, local, follow.Accepted{AcceptActivityID: fmt.Sprintf("a%d", i)}))
		}
		if i%5 == 0 {
			evs = append(evs, on(f, local, follow.Undone{UndoActivityID: fmt.Sprintf("u%d", i)}))
		}
		if i%3 == 0 {
			evs = append(evs, outbound(local2, f, "u1", fmt.Sprintf("o%d", i)))
		}
	}
	q, r, _ := project(t, evs)
	ctx := context.Background()
	countsBefore, err := q.Counts(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, follows.Name, nil)
	c, err := q.Counts(ctx, "g1")
	if err != nil || c != countsBefore {
		t.Fatalf("Counts after rebuilds %+v, before %+v (%v)", c, countsBefore, err)
	}
	// 40 requests: 10 pending (i%4==0), 30 accepted; undone: i%5==0 (8),
	// of which i%20==0 (2) were pending.
	if want := (follows.Counts{Followers: 30 - 6, Pending: 10 - 2}); c != want {
		t.Fatalf("Counts = %+v, want %+v", c, want)
	}
}

func TestFollowsEventWithoutRequestFails(t *testing.T) {
	env := projectiontest.Open(t)
	follow.Register(env.Registry)
	pos := env.Record(follow.Stream(bob, local), follow.Accepted{AcceptActivityID: "a"}, events.Metadata{OccurredAt: at(0)})
	r := env.Runner("read.db", follows.New())
	if err := projectiontest.Await(r, follows.Name, pos); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("WaitFor = %v, want ErrFailed", err)
	}
}
