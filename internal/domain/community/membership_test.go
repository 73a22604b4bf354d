package community_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/community"
)

const (
	cid    = "c1"
	bob    = "bob"
	follow = "https://remote.example/follows/1"
)

var (
	owner   = community.Actor{ID: "alice", Authority: community.AsOwner}
	fac     = community.Actor{ID: "fran", Authority: community.AsFacilitator}
	admin   = community.Actor{ID: "root", Authority: community.AsAdmin}
	nobody  = community.Actor{ID: "dan", Authority: community.NoAuthority}
	owner2  = community.Actor{ID: "olga", Authority: community.AsOwner}
	joined  = community.MemberJoined{CommunityID: cid, Member: bob, Role: community.Member, By: bob}
	asFac   = community.RoleChanged{CommunityID: cid, Member: bob, Role: community.Facilitator, By: "alice"}
	asOwner = community.RoleChanged{CommunityID: cid, Member: bob, Role: community.Owner, By: "alice"}
	request = community.JoinRequested{CommunityID: cid, Member: bob}
	invited = community.MemberInvited{CommunityID: cid, Member: bob, By: "fran"}
	left    = community.MemberLeft{CommunityID: cid, Member: bob}
	removed = community.MemberRemoved{CommunityID: cid, Member: bob, By: "fran"}
	banned  = community.MemberBanned{CommunityID: cid, Member: bob, By: "fran", Reason: "spam"}
	unban   = community.MemberUnbanned{CommunityID: cid, Member: bob, By: "fran"}
	reject  = community.JoinRejected{CommunityID: cid, Member: bob, By: "fran"}
)

func comm(p community.Policy) community.State {
	return community.State{Exists: true, ID: cid, Username: "lernen", Name: "Lernen", Policy: p,
		Visibility: community.Public, OwnerID: "alice"}
}

type whenM func(c community.State, m community.Membership) ([]any, error)

func join(member, followID string) whenM {
	return func(c community.State, m community.Membership) ([]any, error) {
		return community.Join(c, m, member, followID)
	}
}
func leave() whenM {
	return func(c community.State, m community.Membership) ([]any, error) { return community.Leave(c, m, bob) }
}
func approve(by community.Actor) whenM {
	return func(c community.State, m community.Membership) ([]any, error) {
		return community.Approve(c, m, bob, by)
	}
}
func rejectBy(by community.Actor) whenM {
	return func(c community.State, m community.Membership) ([]any, error) { return community.Reject(c, m, bob, by) }
}
func invite(by community.Actor) whenM {
	return func(c community.State, m community.Membership) ([]any, error) { return community.Invite(c, m, bob, by) }
}
func remove(by community.Actor) whenM {
	return func(c community.State, m community.Membership) ([]any, error) {
		return community.Remove(c, m, bob, by, "off topic")
	}
}
func ban(by community.Actor) whenM {
	return func(c community.State, m community.Membership) ([]any, error) {
		return community.Ban(c, m, bob, by, "spam")
	}
}
func unbanBy(by community.Actor) whenM {
	return func(c community.State, m community.Membership) ([]any, error) { return community.Unban(c, m, bob, by) }
}
func role(r community.Role, by community.Actor) whenM {
	return func(c community.State, m community.Membership) ([]any, error) {
		return community.ChangeRole(c, m, bob, r, by)
	}
}

func TestMembershipDecisions(t *testing.T) {
	joinedAs := func(by string, fid string) community.MemberJoined {
		return community.MemberJoined{CommunityID: cid, Member: bob, Role: community.Member, By: by, FollowActivityID: fid}
	}
	cases := []struct {
		name    string
		policy  community.Policy // default Open
		missing bool             // the community does not exist
		given   []any
		when    whenM
		then    []any
		wantErr error
		state   community.MembershipState // after then, when set
	}{
		// Join.
		{name: "join open", when: join(bob, ""), then: []any{joined}, state: community.StateMember},
		{name: "join unknown community", missing: true, when: join(bob, ""), wantErr: community.ErrNotFound},
		{name: "join without member", when: join("", ""), wantErr: community.ErrInvalid},
		{name: "join approval", policy: community.Approval, when: join(bob, ""), then: []any{request}, state: community.StateRequested},
		{name: "join approval twice", policy: community.Approval, given: []any{request}, when: join(bob, "")},
		{name: "remote follow renews the request", policy: community.Approval, given: []any{request}, when: join(bob, follow),
			then: []any{community.JoinRequested{CommunityID: cid, Member: bob, FollowActivityID: follow}}},
		{name: "same remote follow twice", policy: community.Approval,
			given: []any{community.JoinRequested{CommunityID: cid, Member: bob, FollowActivityID: follow}}, when: join(bob, follow)},
		{name: "join invite-only uninvited", policy: community.InviteOnly, when: join(bob, ""), wantErr: community.ErrNotInvited},
		{name: "join invite-only invited", policy: community.InviteOnly, given: []any{invited}, when: join(bob, ""),
			then: []any{joined}, state: community.StateMember},
		{name: "invited joins an approval community at once", policy: community.Approval, given: []any{invited},
			when: join(bob, follow), then: []any{joinedAs(bob, follow)}},
		{name: "join as member", given: []any{joined}, when: join(bob, ""), wantErr: community.ErrAlreadyMember},
		{name: "join banned", given: []any{joined, banned}, when: join(bob, ""), wantErr: community.ErrBanned},
		{name: "join after leaving", given: []any{joined, left}, when: join(bob, ""), then: []any{joined}},
		{name: "join after removal", given: []any{joined, removed}, when: join(bob, ""), then: []any{joined}},
		{name: "join after unban", given: []any{banned, unban}, when: join(bob, ""), then: []any{joined}},
		{name: "ask again after rejection", policy: community.Approval, given: []any{request, reject}, when: join(bob, ""),
			then: []any{request}},
		{name: "requester joins once the community is open", given: []any{request}, when: join(bob, ""), then: []any{joined}},

		// Leave.
		{name: "leave", given: []any{joined}, when: leave(), then: []any{left}, state: community.StateLeft},
		{name: "withdraw a request", given: []any{request}, when: leave(), then: []any{left}},
		{name: "decline an invitation", given: []any{invited}, when: leave(), then: []any{left}},
		{name: "leave as non-member", when: leave(), wantErr: community.ErrNotMember},
		{name: "leave twice", given: []any{joined, left}, when: leave(), wantErr: community.ErrNotMember},
		{name: "leave banned", given: []any{banned}, when: leave(), wantErr: community.ErrNotMember},
		{name: "owner cannot leave", given: []any{joined, asOwner}, when: leave(), wantErr: community.ErrOwnerCannotLeave},
		{name: "facilitator leaves", given: []any{joined, asFac}, when: leave(), then: []any{left}},

		// Approve / Reject.
		{name: "approve", policy: community.Approval, given: []any{request}, when: approve(fac), then: []any{joinedAs("fran", "")},
			state: community.StateMember},
		{name: "approve keeps the follow", policy: community.Approval,
			given: []any{community.JoinRequested{CommunityID: cid, Member: bob, FollowActivityID: follow}},
			when:  approve(owner), then: []any{joinedAs("alice", follow)}},
		{name: "approve by admin", given: []any{request}, when: approve(admin), then: []any{joinedAs("root", "")}},
		{name: "approve by a member", given: []any{request}, when: approve(nobody), wantErr: community.ErrNotFacilitator},
		{name: "approve without request", when: approve(fac), wantErr: community.ErrNotRequested},
		{name: "approve a member", given: []any{joined}, when: approve(fac), wantErr: community.ErrNotRequested},
		{name: "reject", given: []any{request}, when: rejectBy(fac), then: []any{reject}, state: community.StateRejected},
		{name: "reject twice", given: []any{request, reject}, when: rejectBy(fac), wantErr: community.ErrNotRequested},
		{name: "reject by a member", given: []any{request}, when: rejectBy(nobody), wantErr: community.ErrNotFacilitator},

		// Invite.
		{name: "invite", policy: community.InviteOnly, when: invite(fac), then: []any{invited}, state: community.StateInvited},
		{name: "invite twice", given: []any{invited}, when: invite(fac)},
		{name: "invite by a member", when: invite(nobody), wantErr: community.ErrNotFacilitator},
		{name: "invite a member", given: []any{joined}, when: invite(fac), wantErr: community.ErrAlreadyMember},
		{name: "invite the banned", given: []any{banned}, when: invite(fac), wantErr: community.ErrBanned},
		{name: "invite a requester approves", given: []any{request}, when: invite(fac), then: []any{joinedAs("fran", "")}},
		{name: "invite after leaving", given: []any{joined, left}, when: invite(fac), then: []any{invited}},
		{name: "invite unknown community", missing: true, when: invite(fac), wantErr: community.ErrNotFound},

		// Remove.
		{name: "remove a member", given: []any{joined}, when: remove(fac),
			then:  []any{community.MemberRemoved{CommunityID: cid, Member: bob, By: "fran", Reason: "off topic"}},
			state: community.StateRemoved},
		{name: "revoke an invitation", given: []any{invited}, when: remove(fac),
			then: []any{community.MemberRemoved{CommunityID: cid, Member: bob, By: "fran", Reason: "off topic"}}},
		{name: "remove a non-member", when: remove(fac), wantErr: community.ErrNotMember},
		{name: "remove by a member", given: []any{joined}, when: remove(nobody), wantErr: community.ErrNotFacilitator},
		{name: "facilitator cannot remove a facilitator", given: []any{joined, asFac}, when: remove(fac), wantErr: community.ErrNotOwner},
		{name: "facilitator cannot remove an owner", given: []any{joined, asOwner}, when: remove(fac), wantErr: community.ErrNotOwner},
		{name: "owner removes a facilitator", given: []any{joined, asFac}, when: remove(owner),
			then: []any{community.MemberRemoved{CommunityID: cid, Member: bob, By: "alice", Reason: "off topic"}}},
		{name: "owner removes a co-owner", given: []any{joined, asOwner}, when: remove(owner2),
			then: []any{community.MemberRemoved{CommunityID: cid, Member: bob, By: "olga", Reason: "off topic"}}},
		{name: "admin removes an owner", given: []any{joined, asOwner}, when: remove(admin),
			then: []any{community.MemberRemoved{CommunityID: cid, Member: bob, By: "root", Reason: "off topic"}}},
		{name: "nobody removes themselves", given: []any{joined, asFac},
			when: func(c community.State, m community.Membership) ([]any, error) {
				return community.Remove(c, m, bob, community.Actor{ID: bob, Authority: community.AsFacilitator}, "")
			}, wantErr: community.ErrSelf},

		// Ban / Unban.
		{name: "ban a member", given: []any{joined}, when: ban(fac), then: []any{banned}, state: community.StateBanned},
		{name: "ban an outsider", when: ban(fac), then: []any{banned}, state: community.StateBanned},
		{name: "ban a requester", given: []any{request}, when: ban(fac), then: []any{banned}},
		{name: "ban twice", given: []any{banned}, when: ban(fac)},
		{name: "ban by a member", given: []any{joined}, when: ban(nobody), wantErr: community.ErrNotFacilitator},
		{name: "facilitator cannot ban a facilitator", given: []any{joined, asFac}, when: ban(fac), wantErr: community.ErrNotOwner},
		{name: "owner bans a facilitator", given: []any{joined, asFac}, when: ban(owner),
			then: []any{community.MemberBanned{CommunityID: cid, Member: bob, By: "alice", Reason: "spam"}}},
		{name: "ban oneself", when: func(c community.State, m community.Membership) ([]any, error) {
			return community.Ban(c, m, "fran", fac, "")
		}, wantErr: community.ErrSelf},
		{name: "unban", given: []any{joined, banned}, when: unbanBy(fac), then: []any{unban}, state: community.StateNone},
		{name: "unban the unbanned", given: []any{joined}, when: unbanBy(fac), wantErr: community.ErrNotBanned},
		{name: "unban by a member", given: []any{banned}, when: unbanBy(nobody), wantErr: community.ErrNotFacilitator},

		// ChangeRole.
		{name: "owner makes a facilitator", given: []any{joined}, when: role(community.Facilitator, owner),
			then: []any{asFac}},
		{name: "owner hands over ownership", given: []any{joined}, when: role(community.Owner, owner), then: []any{asOwner}},
		{name: "owner demotes a co-owner", given: []any{joined, asOwner}, when: role(community.Member, owner2),
			then: []any{community.RoleChanged{CommunityID: cid, Member: bob, Role: community.Member, By: "olga"}}},
		{name: "admin changes a role", given: []any{joined}, when: role(community.Facilitator, admin),
			then: []any{community.RoleChanged{CommunityID: cid, Member: bob, Role: community.Facilitator, By: "root"}}},
		{name: "facilitator cannot change roles", given: []any{joined}, when: role(community.Facilitator, fac), wantErr: community.ErrNotOwner},
		{name: "member cannot change roles", given: []any{joined}, when: role(community.Facilitator, nobody), wantErr: community.ErrNotOwner},
		{name: "same role", given: []any{joined, asFac}, when: role(community.Facilitator, owner)},
		{name: "role of a non-member", given: []any{request}, when: role(community.Facilitator, owner), wantErr: community.ErrNotMember},
		{name: "invalid role", given: []any{joined}, when: role("king", owner), wantErr: community.ErrInvalid},
		{name: "owner cannot change their own role", when: func(c community.State, m community.Membership) ([]any, error) {
			return community.ChangeRole(c, m, "alice", community.Member, owner)
		}, wantErr: community.ErrSelf},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := community.FoldMembership(tc.given...)
			if err != nil {
				t.Fatal(err)
			}
			policy := tc.policy
			if policy == "" {
				policy = community.Open
			}
			c := comm(policy)
			if tc.missing {
				c = community.State{}
			}
			got, err := tc.when(c, m)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events =\n%#v\nwant\n%#v", got, tc.then)
			}
			for _, e := range got {
				if err := m.Apply(e); err != nil {
					t.Fatalf("decided event does not apply: %v", err)
				}
			}
			if tc.state != "" && m.Status() != tc.state {
				t.Fatalf("state after = %s, want %s", m.Status(), tc.state)
			}
		})
	}
}

func TestJoinAsOwner(t *testing.T) {
	c := comm(community.InviteOnly)
	ownerJoined := community.MemberJoined{CommunityID: cid, Member: "alice", Role: community.Owner, By: "alice"}
	got, err := community.JoinAsOwner(c, community.Membership{})
	if err != nil || !reflect.DeepEqual(got, []any{ownerJoined}) {
		t.Fatalf("JoinAsOwner = %#v, %v", got, err)
	}
	m, _ := community.FoldMembership(ownerJoined)
	if got, err := community.JoinAsOwner(c, m); err != nil || got != nil {
		t.Fatalf("JoinAsOwner again = %#v, %v; want nothing", got, err)
	}
	if community.AuthorityOf(m, false) != community.AsOwner {
		t.Fatalf("owner's authority = %v", community.AuthorityOf(m, false))
	}
	if _, err := community.JoinAsOwner(community.State{}, community.Membership{}); !errors.Is(err, community.ErrNotFound) {
		t.Fatalf("unknown community: %v", err)
	}
	other, _ := community.FoldMembership(joined)
	if _, err := community.JoinAsOwner(c, other); !errors.Is(err, community.ErrNotCommunityOwner) {
		t.Fatalf("someone else's stream: %v", err)
	}
}

func TestAuthorityOf(t *testing.T) {
	fold := func(evs ...any) community.Membership {
		m, err := community.FoldMembership(evs...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name  string
		m     community.Membership
		admin bool
		want  community.Authority
	}{
		{"outsider", fold(), false, community.NoAuthority},
		{"member", fold(joined), false, community.NoAuthority},
		{"facilitator", fold(joined, asFac), false, community.AsFacilitator},
		{"owner", fold(joined, asOwner), false, community.AsOwner},
		{"former facilitator", fold(joined, asFac, left), false, community.NoAuthority},
		{"admin outsider", fold(), true, community.AsAdmin},
	}
	for _, tc := range cases {
		if got := community.AuthorityOf(tc.m, tc.admin); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFoldMembershipRefusesCorruptStreams(t *testing.T) {
	for name, given := range map[string][]any{
		"joined twice":             {joined, joined},
		"rejected without request": {reject},
		"left without joining":     {left},
		"role of a non-member":     {asFac},
		"unban without ban":        {unban},
		"another member's event":   {joined, community.MemberLeft{CommunityID: cid, Member: "eve"}},
		"another community's":      {joined, community.MemberLeft{CommunityID: "c2", Member: bob}},
		"community event":          {created},
	} {
		if _, err := community.FoldMembership(given...); err == nil {
			t.Errorf("%s: folded without error", name)
		}
	}
	// Pointers, as the registry decodes them, fold like values.
	m, err := community.FoldMembership(&joined, &asFac, &banned)
	if err != nil || m.Status() != community.StateBanned || m.Role != "" || m.Member != bob {
		t.Fatalf("fold = %+v, %v", m, err)
	}
}
