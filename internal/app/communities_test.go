package app_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/community"
)

// commEnv is a real embedded store with the actor and community commands
// and three local people: alice (facilitator), bob and carol (learners).
type commEnv struct {
	*env
	c                 *app.Communities
	alice, bob, carol string
}

const remoteDora = "https://remote.example/users/dora"

func newCommEnv(t *testing.T) *commEnv {
	t.Helper()
	e := newEnv(t)
	c := app.NewCommunities(e.store, e.reg, e.a, "hanse.example")
	ce := &commEnv{env: e, c: c}
	for _, p := range []struct {
		name string
		id   *string
	}{{"alice", &ce.alice}, {"bob", &ce.bob}, {"carol", &ce.carol}} {
		res, err := e.a.Create(e.ctx, app.CreateActor{Kind: actor.KindPerson, Username: p.name, By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		*p.id = res.ActorID
	}
	return ce
}

func (e *commEnv) create(username string, policy community.Policy, visibility community.Visibility) string {
	e.t.Helper()
	id, _, err := e.c.Create(e.ctx, app.CreateCommunity{Username: username, Name: "Community " + username,
		Policy: policy, Visibility: visibility, Owner: app.Acting{ID: e.alice}, OwnerRole: account.Facilitator})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *commEnv) membership(id, member string) community.Membership {
	e.t.Helper()
	payloads, _ := e.read(community.MembershipStream(id, member))
	m, err := community.FoldMembership(payloads...)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *commEnv) community(id string) community.State {
	e.t.Helper()
	payloads, _ := e.read(community.Stream(id))
	s, err := community.Fold(payloads...)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestCommunitiesCreate(t *testing.T) {
	e := newCommEnv(t)
	lat, lon := 53.87, 10.69
	long := strings.Repeat("Bienen sind wichtig. ", 200) // 4,200 characters
	id, pos, err := e.c.Create(e.ctx, app.CreateCommunity{Username: "Imker", Name: " Imkerei Lübeck ", Description: long,
		Topics: []string{"#Bienen", "honig"}, Languages: []string{"de", "en-gb"},
		Location: &community.Location{City: "Lübeck", Country: "de", Latitude: &lat, Longitude: &lon},
		Policy:   community.Approval, Visibility: community.Public, Owner: app.Acting{ID: e.alice}, OwnerRole: account.Facilitator})
	if err != nil {
		t.Fatal(err)
	}
	if pos == 0 {
		t.Fatal("no position")
	}
	// The Group actor has the community's id.
	g := e.state(id)
	if !g.Exists || g.Kind != actor.KindGroup || g.Username != "imker" || g.Name != "Imkerei Lübeck" ||
		!g.ManuallyApprovesFollowers || !g.Discoverable {
		t.Fatalf("group actor %+v", g)
	}
	if n := utf8.RuneCountInString(g.Summary); n != app.MaxGroupSummaryChars || !strings.HasSuffix(g.Summary, "…") {
		t.Fatalf("group summary of %d characters", n)
	}
	s := e.community(id)
	want := community.State{Exists: true, ID: id, Username: "imker", Name: "Imkerei Lübeck", Description: long,
		Topics: []string{"bienen", "honig"}, Languages: []string{"de", "en-GB"},
		Location: &community.Location{City: "Lübeck", Country: "DE", Latitude: &lat, Longitude: &lon},
		Policy:   community.Approval, Visibility: community.Public, OwnerID: e.alice}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("community\n%+v\nwant\n%+v", s, want)
	}
	m := e.membership(id, e.alice)
	if m.Status() != community.StateMember || m.Role != community.Owner {
		t.Fatalf("owner membership %+v", m)
	}
	_, envs := e.read(community.Stream(id))
	if envs[0].Metadata.Actor != e.alice || envs[0].Position > pos {
		t.Fatalf("metadata %+v, position %d after %d", envs[0].Metadata, envs[0].Position, pos)
	}
	if st, err := e.c.Membership(e.ctx, id, e.alice); err != nil || st != community.StateMember {
		t.Fatalf("Membership(owner) = %s, %v", st, err)
	}

	cases := []struct {
		name      string
		cmd       app.CreateCommunity
		wantErr   error
		wantField string
	}{
		{name: "learner", cmd: app.CreateCommunity{Username: "l1", Name: "L", Policy: community.Open, Visibility: community.Public,
			Owner: app.Acting{ID: e.bob}, OwnerRole: account.Learner}, wantErr: app.ErrForbiddenRole},
		{name: "no role", cmd: app.CreateCommunity{Username: "l2", Name: "L", Policy: community.Open, Visibility: community.Public,
			Owner: app.Acting{ID: e.bob}}, wantErr: app.ErrForbiddenRole},
		{name: "no owner", cmd: app.CreateCommunity{Username: "l3", Name: "L", Policy: community.Open, Visibility: community.Public,
			OwnerRole: account.Facilitator}, wantField: "owner"},
		{name: "invalid name", cmd: app.CreateCommunity{Username: "l4", Name: "", Policy: community.Open, Visibility: community.Public,
			Owner: app.Acting{ID: e.alice}, OwnerRole: account.Facilitator}, wantField: "name"},
		{name: "invalid country", cmd: app.CreateCommunity{Username: "l5", Name: "L", Policy: community.Open, Visibility: community.Public,
			Location: &community.Location{Country: "ZZ"}, Owner: app.Acting{ID: e.alice}, OwnerRole: account.Facilitator},
			wantField: "location.country"},
		{name: "invalid username", cmd: app.CreateCommunity{Username: "a b", Name: "L", Policy: community.Open, Visibility: community.Public,
			Owner: app.Acting{ID: e.alice}, OwnerRole: account.Facilitator}, wantField: "username"},
		{name: "username of a person", cmd: app.CreateCommunity{Username: "bob", Name: "L", Policy: community.Open,
			Visibility: community.Public, Owner: app.Acting{ID: e.alice}, OwnerRole: account.Facilitator}, wantErr: app.ErrUsernameTaken},
		{name: "username of another's community", cmd: app.CreateCommunity{Username: "imker", Name: "L", Policy: community.Open,
			Visibility: community.Public, Owner: app.Acting{ID: e.bob, Admin: true}, OwnerRole: account.Learner}, wantErr: app.ErrUsernameTaken},
		{name: "the same owner again", cmd: app.CreateCommunity{Username: "IMKER", Name: "L", Policy: community.Open,
			Visibility: community.Public, Owner: app.Acting{ID: e.alice}, OwnerRole: account.Facilitator}, wantErr: app.ErrUsernameTaken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := e.store.Head(e.ctx)
			_, _, err := e.c.Create(e.ctx, tc.cmd)
			if tc.wantField != "" {
				var ve *app.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.wantField {
					t.Fatalf("err = %v, want a validation error on %s", err, tc.wantField)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			// A refused Create writes nothing (a taken username at most
			// tries to reserve it).
			if after, _ := e.store.Head(e.ctx); after != before {
				t.Fatalf("head moved from %d to %d", before, after)
			}
		})
	}

	// An admin with the learner role may create communities.
	if _, _, err := e.c.Create(e.ctx, app.CreateCommunity{Username: "schule", Name: "Schule", Policy: community.Open,
		Visibility: community.Members, Owner: app.Acting{ID: e.bob, Admin: true}, OwnerRole: account.Learner}); err != nil {
		t.Fatal(err)
	}
}

// TestCommunitiesCreateCompletesAnInterruptedCreate: a Create that died
// after the Group actor (or after community.created) is completed by the
// same owner's retry, and by nobody else.
func TestCommunitiesCreateCompletesAnInterruptedCreate(t *testing.T) {
	e := newCommEnv(t)
	g, err := e.a.Create(e.ctx, app.CreateActor{Kind: actor.KindGroup, Username: "garten", By: e.alice})
	if err != nil {
		t.Fatal(err)
	}
	cmd := app.CreateCommunity{Username: "garten", Name: "Garten", Policy: community.Open, Visibility: community.Public,
		Owner: app.Acting{ID: e.bob}, OwnerRole: account.Facilitator}
	if _, _, err := e.c.Create(e.ctx, cmd); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("another owner adopts: %v", err)
	}
	cmd.Owner.ID = e.alice
	id, _, err := e.c.Create(e.ctx, cmd)
	if err != nil || id != g.ActorID {
		t.Fatalf("Create = %q, %v; want the orphaned group %q", id, err, g.ActorID)
	}
	if s := e.community(id); !s.Exists || s.OwnerID != e.alice {
		t.Fatalf("community %+v", s)
	}
	if m := e.membership(id, e.alice); m.Role != community.Owner {
		t.Fatalf("owner membership %+v", m)
	}

	// Interrupted after community.created: the owner's membership is
	// completed.
	g2, err := e.a.Create(e.ctx, app.CreateActor{Kind: actor.KindGroup, Username: "wald", By: e.alice})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.reg.NewEvent(events.NewUUID(), community.Created{CommunityID: g2.ActorID, Username: "wald", Name: "Wald",
		Policy: community.Open, Visibility: community.Public, OwnerID: e.alice}, events.Metadata{OccurredAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, community.Stream(g2.ActorID), events.NoStream, ev); err != nil {
		t.Fatal(err)
	}
	cmd.Username = "wald"
	if id, _, err := e.c.Create(e.ctx, cmd); err != nil || id != g2.ActorID {
		t.Fatalf("Create = %q, %v", id, err)
	}
	if m := e.membership(g2.ActorID, e.alice); m.Role != community.Owner {
		t.Fatalf("owner membership %+v", m)
	}
	if _, _, err := e.c.Create(e.ctx, cmd); !errors.Is(err, app.ErrUsernameTaken) {
		t.Fatalf("complete community created again: %v", err)
	}
}

func TestCommunitiesMembership(t *testing.T) {
	e := newCommEnv(t)
	open := e.create("offen", community.Open, community.Public)
	approval := e.create("frage", community.Approval, community.Public)
	invite := e.create("einladung", community.InviteOnly, community.Members)
	owner := app.Acting{ID: e.alice}
	admin := app.Acting{ID: "root", Admin: true}

	type step struct {
		name      string
		do        func() (events.Position, error)
		wantErr   error
		wantField string
		community string
		member    string
		state     community.MembershipState // afterwards, when set
		role      community.Role
	}
	join := func(id, member string, want community.MembershipState) func() (events.Position, error) {
		return func() (events.Position, error) {
			st, pos, err := e.c.Join(e.ctx, id, member)
			if err == nil && st != want {
				return pos, fmt.Errorf("Join state %s, want %s", st, want)
			}
			return pos, err
		}
	}
	steps := []step{
		{name: "join open", do: join(open, e.bob, community.StateMember), community: open, member: e.bob, state: community.StateMember,
			role: community.Member},
		{name: "join open again is a no-op", do: join(open, e.bob, community.StateMember), community: open, member: e.bob,
			state: community.StateMember},
		{name: "join unknown", do: join("nope", e.bob, ""), wantErr: app.ErrCommunityNotFound},
		{name: "join approval", do: join(approval, e.bob, community.StateRequested), community: approval, member: e.bob,
			state: community.StateRequested},
		{name: "approve by a member", do: func() (events.Position, error) {
			return e.c.Approve(e.ctx, approval, e.bob, app.Acting{ID: e.carol})
		}, wantErr: app.ErrNotFacilitator},
		{name: "approve", do: func() (events.Position, error) { return e.c.Approve(e.ctx, approval, e.bob, owner) },
			community: approval, member: e.bob, state: community.StateMember},
		{name: "approve again", do: func() (events.Position, error) { return e.c.Approve(e.ctx, approval, e.bob, owner) },
			wantErr: app.ErrNotRequested},
		{name: "carol asks", do: join(approval, e.carol, community.StateRequested)},
		{name: "reject", do: func() (events.Position, error) { return e.c.Reject(e.ctx, approval, e.carol, owner) },
			community: approval, member: e.carol, state: community.StateRejected},
		{name: "join invite-only", do: join(invite, e.bob, ""), wantErr: app.ErrNotInvited},
		{name: "invite an unknown account", do: func() (events.Position, error) { return e.c.Invite(e.ctx, invite, "ghost", owner) },
			wantField: "member"},
		{name: "invite a group", do: func() (events.Position, error) { return e.c.Invite(e.ctx, invite, open, owner) },
			wantField: "member"},
		{name: "invite a bad IRI", do: func() (events.Position, error) { return e.c.Invite(e.ctx, invite, "ftp://x/y", owner) },
			wantField: "member"},
		{name: "invite by a non-member", do: func() (events.Position, error) {
			return e.c.Invite(e.ctx, invite, e.bob, app.Acting{ID: e.carol})
		}, wantErr: app.ErrNotFacilitator},
		{name: "invite", do: func() (events.Position, error) { return e.c.Invite(e.ctx, invite, e.bob, owner) },
			community: invite, member: e.bob, state: community.StateInvited},
		{name: "invite a remote person", do: func() (events.Position, error) { return e.c.Invite(e.ctx, invite, remoteDora, owner) },
			community: invite, member: remoteDora, state: community.StateInvited},
		{name: "join invited", do: join(invite, e.bob, community.StateMember), community: invite, member: e.bob,
			state: community.StateMember},
		{name: "invite a member", do: func() (events.Position, error) { return e.c.Invite(e.ctx, invite, e.bob, owner) },
			wantErr: app.ErrAlreadyMember},
		{name: "make bob facilitator", do: func() (events.Position, error) {
			return e.c.ChangeRole(e.ctx, open, e.bob, community.Facilitator, owner)
		}, community: open, member: e.bob, state: community.StateMember, role: community.Facilitator},
		{name: "facilitator cannot change roles", do: func() (events.Position, error) {
			return e.c.ChangeRole(e.ctx, open, e.alice, community.Member, app.Acting{ID: e.bob})
		}, wantErr: app.ErrNotOwner},
		{name: "owner cannot change their own role", do: func() (events.Position, error) {
			return e.c.ChangeRole(e.ctx, open, e.alice, community.Member, owner)
		}, wantErr: app.ErrMembershipSelf},
		{name: "invalid role", do: func() (events.Position, error) {
			return e.c.ChangeRole(e.ctx, open, e.bob, "king", owner)
		}, wantField: "role"},
		{name: "carol joins open", do: join(open, e.carol, community.StateMember)},
		{name: "facilitator removes a member", do: func() (events.Position, error) {
			return e.c.Remove(e.ctx, open, e.carol, app.Acting{ID: e.bob}, "off topic")
		}, community: open, member: e.carol, state: community.StateRemoved},
		{name: "facilitator cannot remove the owner", do: func() (events.Position, error) {
			return e.c.Remove(e.ctx, open, e.alice, app.Acting{ID: e.bob}, "")
		}, wantErr: app.ErrNotOwner},
		{name: "too long a reason", do: func() (events.Position, error) {
			return e.c.Remove(e.ctx, open, e.bob, owner, strings.Repeat("x", app.MaxMembershipReasonChars+1))
		}, wantField: "reason"},
		{name: "facilitator bans", do: func() (events.Position, error) {
			return e.c.Ban(e.ctx, open, e.carol, app.Acting{ID: e.bob}, "spam")
		}, community: open, member: e.carol, state: community.StateBanned},
		{name: "banned cannot join", do: join(open, e.carol, ""), wantErr: app.ErrBanned},
		{name: "ban a remote outsider", do: func() (events.Position, error) {
			return e.c.Ban(e.ctx, open, remoteDora, app.Acting{ID: e.bob}, "spam")
		}, community: open, member: remoteDora, state: community.StateBanned},
		{name: "unban", do: func() (events.Position, error) { return e.c.Unban(e.ctx, open, e.carol, admin) },
			community: open, member: e.carol, state: community.StateNone},
		{name: "unban again", do: func() (events.Position, error) { return e.c.Unban(e.ctx, open, e.carol, admin) },
			wantErr: app.ErrNotBanned},
		{name: "owner cannot leave", do: func() (events.Position, error) { return e.c.Leave(e.ctx, open, e.alice) },
			wantErr: app.ErrOwnerCannotLeave},
		{name: "leave", do: func() (events.Position, error) { return e.c.Leave(e.ctx, open, e.bob) },
			community: open, member: e.bob, state: community.StateLeft},
		{name: "leave again", do: func() (events.Position, error) { return e.c.Leave(e.ctx, open, e.bob) },
			wantErr: app.ErrNotMember},
		{name: "admin makes bob an owner of frage", do: func() (events.Position, error) {
			return e.c.ChangeRole(e.ctx, approval, e.bob, community.Owner, admin)
		}, community: approval, member: e.bob, role: community.Owner},
		{name: "co-owner demotes alice", do: func() (events.Position, error) {
			return e.c.ChangeRole(e.ctx, approval, e.alice, community.Member, app.Acting{ID: e.bob})
		}, community: approval, member: e.alice, role: community.Member},
		{name: "and alice may leave", do: func() (events.Position, error) { return e.c.Leave(e.ctx, approval, e.alice) },
			community: approval, member: e.alice, state: community.StateLeft},
	}
	var last events.Position
	for _, s := range steps {
		pos, err := s.do()
		if s.wantField != "" {
			var ve *app.ValidationError
			if !errors.As(err, &ve) || ve.Field != s.wantField {
				t.Fatalf("%s: err = %v, want a validation error on %s", s.name, err, s.wantField)
			}
			continue
		}
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.wantErr)
		}
		if err != nil {
			continue
		}
		if pos == 0 || pos < last && !strings.Contains(s.name, "no-op") {
			t.Fatalf("%s: position %d after %d", s.name, pos, last)
		}
		last = max(last, pos)
		if s.community == "" {
			continue
		}
		m := e.membership(s.community, s.member)
		if s.state != "" && m.Status() != s.state {
			t.Fatalf("%s: state %s, want %s", s.name, m.Status(), s.state)
		}
		if s.role != "" && m.Role != s.role {
			t.Fatalf("%s: role %s, want %s", s.name, m.Role, s.role)
		}
		// The state the app reports is the stream's.
		if st, err := e.c.Membership(e.ctx, s.community, s.member); err != nil || st != m.Status() {
			t.Fatalf("%s: Membership = %s, %v; stream says %s", s.name, st, err, m.Status())
		}
	}
	// The no-op join wrote nothing.
	if payloads, _ := e.read(community.MembershipStream(open, e.bob)); len(payloads) != 3 {
		t.Fatalf("bob's membership in %s has %d events: %+v", open, len(payloads), payloads)
	}
	// ErrNotInvited is also ErrNotMember.
	if _, _, err := e.c.Join(e.ctx, invite, e.carol); !errors.Is(err, app.ErrNotMember) {
		t.Fatalf("uninvited join: %v", err)
	}
	if _, err := e.c.Membership(e.ctx, "nope", e.bob); !errors.Is(err, app.ErrCommunityNotFound) {
		t.Fatalf("Membership of an unknown community: %v", err)
	}
}

func TestCommunitiesRemoteFollow(t *testing.T) {
	e := newCommEnv(t)
	open := e.create("offen", community.Open, community.Public)
	approval := e.create("frage", community.Approval, community.Public)
	invite := e.create("einladung", community.InviteOnly, community.Public)
	const f1, f2 = "https://remote.example/follows/1", "https://remote.example/follows/2"

	st, pos, err := e.c.RemoteFollow(e.ctx, open, remoteDora, f1)
	if err != nil || st != community.StateMember || pos == 0 {
		t.Fatalf("RemoteFollow(open) = %s, %d, %v", st, pos, err)
	}
	m := e.membership(open, remoteDora)
	if m.FollowActivityID != f1 || m.Role != community.Member {
		t.Fatalf("membership %+v", m)
	}
	_, envs := e.read(community.MembershipStream(open, remoteDora))
	if envs[0].Metadata.Actor != remoteDora || envs[0].Metadata.CausationID != f1 {
		t.Fatalf("metadata %+v", envs[0].Metadata)
	}
	// The same Follow again, and a new one: still a member, nothing new.
	for _, f := range []string{f1, f2} {
		if st, pos2, err := e.c.RemoteFollow(e.ctx, open, remoteDora, f); err != nil || st != community.StateMember || pos2 != pos {
			t.Fatalf("RemoteFollow again = %s, %d, %v", st, pos2, err)
		}
	}

	st, pos, err = e.c.RemoteFollow(e.ctx, approval, remoteDora, f1)
	if err != nil || st != community.StateRequested {
		t.Fatalf("RemoteFollow(approval) = %s, %v", st, err)
	}
	if st, pos2, err := e.c.RemoteFollow(e.ctx, approval, remoteDora, f1); err != nil || st != community.StateRequested || pos2 != pos {
		t.Fatalf("same Follow again = %s, %d, %v", st, pos2, err)
	}
	if _, err := e.c.Approve(e.ctx, approval, remoteDora, app.Acting{ID: e.alice}); err != nil {
		t.Fatal(err)
	}
	if m := e.membership(approval, remoteDora); m.Status() != community.StateMember || m.FollowActivityID != f1 {
		t.Fatalf("approved membership %+v", m)
	}

	if _, _, err := e.c.RemoteFollow(e.ctx, invite, remoteDora, f1); !errors.Is(err, app.ErrNotMember) {
		t.Fatalf("RemoteFollow(invite-only) = %v, want ErrNotMember", err)
	}
	if _, err := e.c.Invite(e.ctx, invite, remoteDora, app.Acting{ID: e.alice}); err != nil {
		t.Fatal(err)
	}
	if st, _, err := e.c.RemoteFollow(e.ctx, invite, remoteDora, f2); err != nil || st != community.StateMember {
		t.Fatalf("RemoteFollow(invited) = %s, %v", st, err)
	}

	if _, err := e.c.Ban(e.ctx, open, remoteDora, app.Acting{ID: e.alice}, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.c.RemoteFollow(e.ctx, open, remoteDora, f2); !errors.Is(err, app.ErrBanned) {
		t.Fatalf("banned RemoteFollow = %v", err)
	}
	var ve *app.ValidationError
	for _, bad := range [][2]string{{"dora", f1}, {"mailto:dora@example", f1}, {remoteDora, ""}} {
		if _, _, err := e.c.RemoteFollow(e.ctx, open, bad[0], bad[1]); !errors.As(err, &ve) {
			t.Fatalf("RemoteFollow(%q, %q) = %v, want a validation error", bad[0], bad[1], err)
		}
	}
	if _, _, err := e.c.RemoteFollow(e.ctx, "nope", remoteDora, f1); !errors.Is(err, app.ErrCommunityNotFound) {
		t.Fatalf("unknown community: %v", err)
	}
}

func TestCommunitiesGate(t *testing.T) {
	e := newCommEnv(t)
	open := e.create("offen", community.Open, community.Public)
	closed := e.create("zu", community.Approval, community.Members)
	var gate app.CommunityGate = e.c
	if _, _, err := e.c.Join(e.ctx, closed, e.bob); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Ban(e.ctx, open, e.carol, app.Acting{ID: e.alice}, ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		community string
		author    string
		want      error
	}{
		{"owner", closed, e.alice, nil},
		{"anyone in an open community", open, e.bob, nil},
		{"a remote person in an open community", open, remoteDora, nil},
		{"banned in an open community", open, e.carol, app.ErrBanned},
		{"requester", closed, e.bob, app.ErrNotMember},
		{"outsider", closed, e.carol, app.ErrNotMember},
		{"unknown community", "nope", e.bob, app.ErrCommunityNotFound},
	}
	for _, tc := range cases {
		if err := gate.CanPost(e.ctx, tc.community, tc.author); !errors.Is(err, tc.want) {
			t.Errorf("CanPost %s = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := e.c.Approve(e.ctx, closed, e.bob, app.Acting{ID: e.alice}); err != nil {
		t.Fatal(err)
	}
	if err := gate.CanPost(e.ctx, closed, e.bob); err != nil {
		t.Errorf("CanPost of an approved member: %v", err)
	}
	if err := gate.CanModerate(e.ctx, closed, app.Acting{ID: e.bob}); !errors.Is(err, app.ErrNotFacilitator) {
		t.Errorf("CanModerate(member) = %v", err)
	}
	if _, err := e.c.ChangeRole(e.ctx, closed, e.bob, community.Facilitator, app.Acting{ID: e.alice}); err != nil {
		t.Fatal(err)
	}
	for _, by := range []app.Acting{{ID: e.bob}, {ID: e.alice}, {ID: "root", Admin: true}} {
		if err := gate.CanModerate(e.ctx, closed, by); err != nil {
			t.Errorf("CanModerate(%+v) = %v", by, err)
		}
	}
	if err := gate.CanModerate(e.ctx, "nope", app.Acting{ID: "root", Admin: true}); !errors.Is(err, app.ErrCommunityNotFound) {
		t.Errorf("CanModerate(unknown) = %v", err)
	}
	if v, err := gate.Visibility(e.ctx, closed); err != nil || v != community.Members {
		t.Errorf("Visibility = %s, %v", v, err)
	}
	if _, err := gate.Visibility(e.ctx, "nope"); !errors.Is(err, app.ErrCommunityNotFound) {
		t.Errorf("Visibility(unknown) = %v", err)
	}
}

func TestCommunitiesUpdate(t *testing.T) {
	e := newCommEnv(t)
	id := e.create("offen", community.Open, community.Public)
	name, policy, vis := "Neuer Name", community.Approval, community.Members
	pos, err := e.c.Update(e.ctx, id, community.Updated{Name: &name, Policy: &policy, Visibility: &vis}, app.Acting{ID: e.alice})
	if err != nil {
		t.Fatal(err)
	}
	s := e.community(id)
	if s.Name != name || s.Policy != policy || s.Visibility != vis {
		t.Fatalf("community %+v", s)
	}
	g := e.state(id)
	if g.Name != name || !g.ManuallyApprovesFollowers || g.Discoverable {
		t.Fatalf("group actor not in step: %+v", g)
	}
	// The same values again: nothing written.
	if again, err := e.c.Update(e.ctx, id, community.Updated{Name: &name}, app.Acting{ID: e.alice}); err != nil || again != pos {
		t.Fatalf("unchanged Update = %d, %v; want %d", again, err, pos)
	}
	if _, _, err := e.c.Join(e.ctx, id, e.bob); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Approve(e.ctx, id, e.bob, app.Acting{ID: e.alice}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.ChangeRole(e.ctx, id, e.bob, community.Facilitator, app.Acting{ID: e.alice}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Update(e.ctx, id, community.Updated{Name: &name}, app.Acting{ID: e.bob}); !errors.Is(err, app.ErrNotOwner) {
		t.Fatalf("facilitator Update = %v", err)
	}
	desc := "Von der Verwaltung"
	if _, err := e.c.Update(e.ctx, id, community.Updated{Description: &desc}, app.Acting{ID: "root", Admin: true}); err != nil {
		t.Fatalf("admin Update = %v", err)
	}
	if g := e.state(id); g.Summary != desc {
		t.Fatalf("group summary %q", g.Summary)
	}
	empty := ""
	var ve *app.ValidationError
	if _, err := e.c.Update(e.ctx, id, community.Updated{Name: &empty}, app.Acting{ID: e.alice}); !errors.As(err, &ve) || ve.Field != "name" {
		t.Fatalf("invalid Update = %v", err)
	}
	if _, err := e.c.Update(e.ctx, "nope", community.Updated{Name: &name}, app.Acting{ID: e.alice}); !errors.Is(err, app.ErrCommunityNotFound) {
		t.Fatalf("unknown community: %v", err)
	}
	// A deleted Group actor does not stop the community's changes.
	if _, err := e.a.Delete(e.ctx, id, "admin"); err != nil {
		t.Fatal(err)
	}
	other := "Ohne Gruppe"
	if _, err := e.c.Update(e.ctx, id, community.Updated{Name: &other}, app.Acting{ID: e.alice}); err != nil {
		t.Fatalf("Update with a deleted Group actor: %v", err)
	}
	if s := e.community(id); s.Name != other {
		t.Fatalf("name %q", s.Name)
	}
}

// commConflicts writes a concurrent event to stream before each of the
// first n appends to it.
type commConflicts struct {
	events.Store
	reg     *events.Registry
	stream  string
	payload func(i int) any
	n       atomic.Int32
}

func (s *commConflicts) Append(ctx context.Context, stream string, expected events.ExpectedRevision, evs ...events.EventData) (events.AppendResult, error) {
	if stream == s.stream {
		if i := s.n.Add(-1); i >= 0 {
			ev, err := s.reg.NewEvent(events.NewUUID(), s.payload(int(i)), events.Metadata{OccurredAt: t0})
			if err != nil {
				return events.AppendResult{}, err
			}
			if _, err := s.Store.Append(ctx, stream, events.Any, ev); err != nil {
				return events.AppendResult{}, err
			}
		}
	}
	return s.Store.Append(ctx, stream, expected, evs...)
}

func TestCommunitiesConflictsAreRetried(t *testing.T) {
	for _, n := range []int{0, 1, app.MaxConflictRetries, app.MaxConflictRetries + 1} {
		t.Run(fmt.Sprintf("%d conflicts", n), func(t *testing.T) {
			e := newCommEnv(t)
			id := e.create("offen", community.Open, community.Public)
			cs := &commConflicts{Store: e.store, reg: e.reg, stream: community.Stream(id), payload: func(i int) any {
				d := fmt.Sprintf("concurrent %d", i)
				return community.Updated{Description: &d}
			}}
			cs.n.Store(int32(n))
			e.c.Store = cs
			name := "Neu"
			_, err := e.c.Update(e.ctx, id, community.Updated{Name: &name}, app.Acting{ID: e.alice})
			s := e.community(id)
			if n > app.MaxConflictRetries {
				if !errors.Is(err, app.ErrConflict) || s.Name == name {
					t.Fatalf("err = %v, name %q", err, s.Name)
				}
				return
			}
			if err != nil || s.Name != name {
				t.Fatalf("err = %v, name %q", err, s.Name)
			}
		})
	}

	// A concurrent invitation turns a join request into a join.
	e := newCommEnv(t)
	id := e.create("frage", community.Approval, community.Public)
	cs := &commConflicts{Store: e.store, reg: e.reg, stream: community.MembershipStream(id, e.bob), payload: func(int) any {
		return community.MemberInvited{CommunityID: id, Member: e.bob, By: e.alice}
	}}
	cs.n.Store(1)
	e.c.Store = cs
	st, _, err := e.c.Join(e.ctx, id, e.bob)
	if err != nil || st != community.StateMember {
		t.Fatalf("Join after a concurrent invitation = %s, %v", st, err)
	}
}
