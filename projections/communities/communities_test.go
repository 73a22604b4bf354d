package communities_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/communities"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

const (
	alice = "alice"
	bob   = "bob"
	carol = "carol"
	dora  = "https://remote.example/users/dora"
)

func at(i int) time.Time { return time.Date(2026, 5, 4, 10, 0, i, 0, time.UTC) }

func f(v float64) *float64 { return &v }

// given is one event on a stream, recorded by actor.
type given struct {
	stream  string
	payload any
	actor   string
}

func created(id, username, name string, vis community.Visibility, topics, langs []string, loc *community.Location) given {
	return given{community.Stream(id), community.Created{CommunityID: id, Username: username, Name: name,
		Description: "Über " + name, Topics: topics, Languages: langs, Location: loc, Policy: community.Open,
		Visibility: vis, OwnerID: alice}, alice}
}

func ms(id, member string, payload any, by string) given {
	return given{community.MembershipStream(id, member), payload, by}
}

func joined(id, member string, role community.Role) given {
	return ms(id, member, community.MemberJoined{CommunityID: id, Member: member, Role: role, By: member}, member)
}

// history is a small world: three communities, members coming and going,
// moderation of posts.
func history() []given {
	return []given{
		created("c1", "imker", "Imkerei", community.Public, []string{"bienen", "honig"}, []string{"de"},
			&community.Location{City: "Lübeck", Country: "DE", Latitude: f(53.87), Longitude: f(10.69)}),
		joined("c1", alice, community.Owner),
		created("c2", "geheim", "Geheimbund", community.Members, []string{"bienen"}, []string{"de-AT"}, nil),
		joined("c2", alice, community.Owner),
		created("c3", "garden", "Allotment gardens", community.Public, []string{"garten"}, []string{"en", "de-AT"},
			&community.Location{Country: "AT"}),
		joined("c3", alice, community.Owner),
		joined("c1", bob, community.Member),
		ms("c1", carol, community.JoinRequested{CommunityID: "c1", Member: carol}, carol),
		joined("c1", dora, community.Member),
		ms("c1", bob, community.RoleChanged{CommunityID: "c1", Member: bob, Role: community.Facilitator, By: alice}, alice),
		ms("c1", dora, community.MemberBanned{CommunityID: "c1", Member: dora, By: bob, Reason: "spam"}, bob),
		joined("c2", bob, community.Member),
		{post.Stream("p1"), post.Published{PostID: "p1", Kind: post.Note, AuthorIRI: dora, CommunityID: "c1",
			Visibility: post.Public}, dora},
		{post.Stream("p2"), post.Published{PostID: "p2", Kind: post.Note, AuthorID: carol, Visibility: post.Public}, carol},
		{post.Stream("p3"), post.Published{PostID: "p3", Kind: post.Note, AuthorID: bob, CommunityID: "c1",
			Visibility: post.Public}, bob},
		{post.Stream("p1"), post.Removed{CommunityID: "c1", By: bob, Reason: "spam"}, bob},
		{post.Stream("p3"), post.ThreadLocked{By: alice}, alice},
		{post.Stream("p2"), post.ThreadLocked{By: carol}, carol}, // no community: no audit row
		{post.Stream("p3"), post.Pinned{CommunityID: "c1", By: bob}, bob},
	}
}

// project records evs (event i occurs at at(i)) and runs the projection.
func project(t *testing.T, evs []given) (communities.Reader, *projections.Runner, *projectiontest.Env, []events.Position) {
	t.Helper()
	env := projectiontest.Open(t)
	community.Register(env.Registry)
	post.Register(env.Registry)
	account.Register(env.Registry)
	var positions []events.Position
	for i, e := range evs {
		positions = append(positions, env.Record(e.stream, e.payload, events.Metadata{Actor: e.actor, OccurredAt: at(i)}))
	}
	r := env.Start(communities.New())
	return communities.NewReader(r.DB()), r, env, positions
}

func ids(cs []communities.Community) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestCommunitiesDirectory(t *testing.T) {
	q, _, _, pos := project(t, history())
	ctx := context.Background()
	got, err := q.Get(ctx, "c1")
	want := communities.Community{ID: "c1", Username: "imker", Name: "Imkerei", Description: "Über Imkerei",
		Topics: []string{"bienen", "honig"}, Languages: []string{"de"},
		Location: &community.Location{City: "Lübeck", Country: "DE", Latitude: f(53.87), Longitude: f(10.69)},
		Policy:   community.Open, Visibility: community.Public, MemberCount: 2, CreatedAt: at(0), Position: pos[0]}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get(c1) = %+v, %v\nwant %+v", got, err, want)
	}
	if c, err := q.GetByUsername(ctx, "GEHEIM"); err != nil || c.ID != "c2" || c.MemberCount != 2 || c.Location != nil {
		t.Fatalf("GetByUsername = %+v, %v", c, err)
	}
	if _, err := q.Get(ctx, "nope"); !errors.Is(err, communities.ErrNotFound) {
		t.Fatalf("Get(nope) = %v", err)
	}
	if _, err := q.GetByUsername(ctx, "nope"); !errors.Is(err, communities.ErrNotFound) {
		t.Fatalf("GetByUsername(nope) = %v", err)
	}

	cases := []struct {
		name string
		f    communities.Filter
		want []string
	}{
		{"public by name", communities.Filter{}, []string{"c3", "c1"}},
		{"with members-only", communities.Filter{IncludeMembersOnly: true}, []string{"c3", "c2", "c1"}},
		{"newest", communities.Filter{Order: communities.Newest, IncludeMembersOnly: true}, []string{"c3", "c2", "c1"}},
		{"topic", communities.Filter{Topic: "#Bienen"}, []string{"c1"}},
		{"topic with members-only", communities.Filter{Topic: "bienen", IncludeMembersOnly: true}, []string{"c2", "c1"}},
		{"language de matches de-AT", communities.Filter{Language: "de"}, []string{"c3", "c1"}},
		{"language de-at", communities.Filter{Language: "de-at"}, []string{"c3"}},
		{"language d is not a prefix", communities.Filter{Language: "d"}, []string{}},
		{"country", communities.Filter{Country: "at"}, []string{"c3"}},
		{"query in name", communities.Filter{Query: "GARDEN"}, []string{"c3"}},
		{"query in description", communities.Filter{Query: "über imk"}, []string{"c1"}},
		{"query in topics", communities.Filter{Query: "honig"}, []string{"c1"}},
		{"query without match", communities.Filter{Query: "%"}, []string{}},
		{"everything at once", communities.Filter{Topic: "garten", Language: "en", Country: "AT", Query: "allot"}, []string{"c3"}},
	}
	for _, tc := range cases {
		p, err := q.List(ctx, tc.f)
		if err != nil || !reflect.DeepEqual(ids(p.Items), tc.want) || p.Next != "" {
			t.Errorf("%s: List = %v next %q, %v; want %v", tc.name, ids(p.Items), p.Next, err, tc.want)
		}
	}
}

func TestCommunitiesPaging(t *testing.T) {
	q, _, _, _ := project(t, history())
	ctx := context.Background()
	for _, order := range []communities.Order{communities.ByName, communities.Newest} {
		var all []string
		cursor := ""
		for range 5 {
			p, err := q.List(ctx, communities.Filter{IncludeMembersOnly: true, Order: order, Cursor: cursor, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ids(p.Items)...)
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		want := map[communities.Order][]string{communities.ByName: {"c3", "c2", "c1"}, communities.Newest: {"c3", "c2", "c1"}}[order]
		if !reflect.DeepEqual(all, want) {
			t.Errorf("%s pages: %v, want %v", order, all, want)
		}
	}
	for _, f := range []communities.Filter{{Cursor: "!!"}, {Order: communities.Newest, Cursor: "x"}, {Order: communities.Newest, Cursor: "01"}} {
		if _, err := q.List(ctx, f); !errors.Is(err, communities.ErrBadCursor) {
			t.Errorf("List(%+v) = %v, want ErrBadCursor", f, err)
		}
	}
	if _, err := q.List(ctx, communities.Filter{Order: "size"}); err == nil {
		t.Error("unknown order accepted")
	}
	// Members, one at a time.
	var members []string
	cursor := ""
	for range 10 {
		p, err := q.Members(ctx, "c1", communities.MemberQuery{Cursor: cursor, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Items {
			members = append(members, m.Member)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if want := []string{alice, bob, carol, dora}; !reflect.DeepEqual(members, want) {
		t.Errorf("members pages %v, want %v", members, want)
	}
	if _, err := q.Members(ctx, "c1", communities.MemberQuery{Cursor: "%%"}); !errors.Is(err, communities.ErrBadCursor) {
		t.Errorf("bad members cursor: %v", err)
	}
	// Audit, two at a time, newest first.
	first, err := q.Audit(ctx, "c1", "", 2)
	if err != nil || len(first.Items) != 2 || first.Next == "" || first.Items[0].Position <= first.Items[1].Position {
		t.Fatalf("Audit page 1 = %+v, %v", first, err)
	}
	second, err := q.Audit(ctx, "c1", first.Next, 2)
	if err != nil || len(second.Items) != 2 || second.Items[0].Position >= first.Items[1].Position {
		t.Fatalf("Audit page 2 = %+v, %v", second, err)
	}
	if _, err := q.Audit(ctx, "c1", "later", 2); !errors.Is(err, communities.ErrBadCursor) {
		t.Errorf("bad audit cursor: %v", err)
	}
}

func TestCommunitiesMembers(t *testing.T) {
	q, _, _, _ := project(t, history())
	ctx := context.Background()
	p, err := q.Members(ctx, "c1", communities.MemberQuery{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		member string
		role   community.Role
		state  community.MembershipState
		since  time.Time
	}
	var got []row
	for _, m := range p.Items {
		got = append(got, row{m.Member, m.Role, m.State, m.Since})
	}
	want := []row{
		{alice, community.Owner, community.StateMember, at(1)},
		{bob, community.Facilitator, community.StateMember, at(6)},
		{carol, "", community.StateRequested, at(7)},
		{dora, "", community.StateBanned, at(10)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("members\n%+v\nwant\n%+v", got, want)
	}
	for _, tc := range []struct {
		q    communities.MemberQuery
		want int
	}{
		{communities.MemberQuery{State: community.StateMember}, 2},
		{communities.MemberQuery{State: community.StateBanned}, 1},
		{communities.MemberQuery{Role: community.Facilitator}, 1},
		{communities.MemberQuery{State: community.StateLeft}, 0},
	} {
		if p, err := q.Members(ctx, "c1", tc.q); err != nil || len(p.Items) != tc.want {
			t.Errorf("Members(%+v) = %d, %v; want %d", tc.q, len(p.Items), err, tc.want)
		}
	}
	mine, err := q.MembershipsOf(ctx, bob, community.StateMember)
	if err != nil || len(mine) != 2 || mine[0].CommunityID != "c1" || mine[1].CommunityID != "c2" || mine[0].Role != community.Facilitator {
		t.Fatalf("MembershipsOf(bob) = %+v, %v", mine, err)
	}
	if all, err := q.MembershipsOf(ctx, carol, ""); err != nil || len(all) != 1 || all[0].State != community.StateRequested {
		t.Fatalf("MembershipsOf(carol) = %+v, %v", all, err)
	}
	if none, err := q.MembershipsOf(ctx, carol, community.StateMember); err != nil || len(none) != 0 {
		t.Fatalf("MembershipsOf(carol, member) = %+v, %v", none, err)
	}
}

type auditRow struct {
	Type, Actor, Member, Detail string
}

func auditRows(t *testing.T, q communities.Reader, id string) []auditRow {
	t.Helper()
	p, err := q.Audit(context.Background(), id, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []auditRow
	for _, a := range p.Items {
		if a.CommunityID != id || !json.Valid(a.Detail) || a.At.IsZero() {
			t.Fatalf("audit entry %+v", a)
		}
		out = append(out, auditRow{a.Type, a.Actor, a.Member, string(a.Detail)})
	}
	return out
}

func TestCommunitiesAudit(t *testing.T) {
	q, _, _, _ := project(t, history())
	want := []auditRow{
		{post.TypePinned, bob, bob, `{"postId":"p3"}`},
		{post.TypeThreadLocked, alice, bob, `{"postId":"p3"}`},
		{post.TypeRemoved, bob, dora, `{"postId":"p1","reason":"spam"}`},
		{community.TypeMemberBanned, bob, dora, `{"reason":"spam"}`},
		{community.TypeRoleChanged, alice, bob, `{"role":"facilitator"}`},
		{community.TypeMemberJoined, dora, dora, `{"role":"member"}`},
		{community.TypeJoinRequested, carol, carol, `{}`},
		{community.TypeMemberJoined, bob, bob, `{"role":"member"}`},
		{community.TypeMemberJoined, alice, alice, `{"role":"owner"}`},
		{community.TypeCreated, alice, "", `{"username":"imker","name":"Imkerei","policy":"open","visibility":"public"}`},
	}
	if got := auditRows(t, q, "c1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("audit of c1\n%+v\nwant\n%+v", got, want)
	}
	if got := auditRows(t, q, "nope"); len(got) != 0 {
		t.Fatalf("audit of an unknown community: %+v", got)
	}
}

func TestCommunitiesUpdatedAndUnbanned(t *testing.T) {
	name, desc := "Bienenfreunde", "Neu"
	topics, langs := []string{"wildbienen"}, []string{"en"}
	vis := community.Members
	evs := append(history(),
		given{community.Stream("c1"), community.Updated{Name: &name, Description: &desc, Topics: &topics, Languages: &langs,
			Location: &community.Location{}, Visibility: &vis}, alice},
		ms("c1", dora, community.MemberUnbanned{CommunityID: "c1", Member: dora, By: alice}, alice),
		ms("c1", bob, community.MemberLeft{CommunityID: "c1", Member: bob}, bob),
	)
	q, _, _, _ := project(t, evs)
	ctx := context.Background()
	c, err := q.Get(ctx, "c1")
	if err != nil || c.Name != name || c.Description != desc || !reflect.DeepEqual(c.Topics, topics) ||
		!reflect.DeepEqual(c.Languages, langs) || c.Location != nil || c.Visibility != vis || c.Username != "imker" ||
		c.MemberCount != 1 {
		t.Fatalf("updated community %+v, %v", c, err)
	}
	p, err := q.List(ctx, communities.Filter{Topic: "wildbienen", IncludeMembersOnly: true})
	if err != nil || !reflect.DeepEqual(ids(p.Items), []string{"c1"}) {
		t.Fatalf("new topic: %v, %v", ids(p.Items), err)
	}
	if p, _ := q.List(ctx, communities.Filter{Topic: "honig", IncludeMembersOnly: true}); len(p.Items) != 0 {
		t.Fatalf("old topic still listed: %v", ids(p.Items))
	}
	if p, _ := q.List(ctx, communities.Filter{Query: "bienenfreunde", IncludeMembersOnly: true}); len(p.Items) != 1 {
		t.Fatalf("new name not searchable: %v", ids(p.Items))
	}
	if p, _ := q.List(ctx, communities.Filter{}); !reflect.DeepEqual(ids(p.Items), []string{"c3"}) {
		t.Fatalf("members-only community still public: %v", ids(p.Items))
	}
	m, _ := q.Members(ctx, "c1", communities.MemberQuery{})
	var members []string
	for _, x := range m.Items {
		members = append(members, x.Member+":"+string(x.State))
	}
	if want := []string{"alice:member", "bob:left", "carol:requested"}; !reflect.DeepEqual(members, want) {
		t.Fatalf("members after unban and leave: %v", members)
	}
	rows := auditRows(t, q, "c1")
	if rows[2].Type != community.TypeUpdated || rows[2].Actor != alice ||
		rows[2].Detail != `{"name":"Bienenfreunde","description":"Neu","topics":["wildbienen"],"languages":["en"],"location":{},"visibility":"members"}` {
		t.Fatalf("audit of the update: %+v", rows[2])
	}
}

func TestCommunitiesErasure(t *testing.T) {
	evs := append(history(),
		given{account.Stream(bob), account.Erased{Reason: "self"}, bob},
		// Later events about bob show nothing of him.
		ms("c3", bob, community.MemberInvited{CommunityID: "c3", Member: bob, By: alice}, alice),
		given{post.Stream("p3"), post.Unpinned{CommunityID: "c1", By: alice}, alice},
	)
	q, r, _, _ := project(t, evs)
	ctx := context.Background()
	check := func(t *testing.T) {
		t.Helper()
		if mine, err := q.MembershipsOf(ctx, bob, ""); err != nil || len(mine) != 0 {
			t.Fatalf("bob's memberships after erasure: %+v, %v", mine, err)
		}
		if c, _ := q.Get(ctx, "c1"); c.MemberCount != 1 {
			t.Fatalf("c1 member count %d, want 1", c.MemberCount)
		}
		if c, _ := q.Get(ctx, "c2"); c.MemberCount != 1 {
			t.Fatalf("c2 member count %d, want 1", c.MemberCount)
		}
		for _, id := range []string{"c1", "c2", "c3"} {
			for _, a := range auditRows(t, q, id) {
				if a.Actor == bob || a.Member == bob {
					t.Fatalf("audit of %s still names bob: %+v", id, a)
				}
				if (a.Actor == communities.Erased || a.Member == communities.Erased) && a.Detail != "{}" {
					t.Fatalf("erased audit row keeps details: %+v", a)
				}
			}
		}
		rows := auditRows(t, q, "c1")
		if rows[0].Type != post.TypeUnpinned || rows[0].Member != communities.Erased || rows[0].Actor != alice {
			t.Fatalf("later audit row %+v", rows[0])
		}
		if rows3 := auditRows(t, q, "c3"); rows3[0].Type != community.TypeMemberInvited || rows3[0].Member != communities.Erased {
			t.Fatalf("later membership audit %+v", rows3[0])
		}
		// Carol and dora keep their rows.
		if m, _ := q.Members(ctx, "c1", communities.MemberQuery{}); len(m.Items) != 3 {
			t.Fatalf("c1 members after erasure: %+v", m.Items)
		}
	}
	check(t)
	projectiontest.RebuildTwiceSameChecksum(t, r, communities.Name, func(int) { check(t) })
}

func TestCommunitiesRebuildTwiceSameChecksum(t *testing.T) {
	q, r, env, _ := project(t, history())
	ctx := context.Background()
	before, err := q.Get(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	sum := projectiontest.RebuildTwiceSameChecksum(t, r, communities.Name, func(int) {
		after, err := q.Get(ctx, "c1")
		if err != nil || !reflect.DeepEqual(after, before) {
			t.Fatalf("after rebuild: %+v, %v; before %+v", after, err, before)
		}
	})
	// More events change the checksum (the test can fail).
	pos := env.Record(community.MembershipStream("c3", carol), community.MemberJoined{CommunityID: "c3", Member: carol,
		Role: community.Member}, events.Metadata{OccurredAt: at(99)})
	if err := projectiontest.Await(r, communities.Name, pos); err != nil {
		t.Fatal(err)
	}
	if after, err := r.Checksum(ctx, communities.Name); err != nil || after == sum {
		t.Fatalf("checksum unchanged after a new member: %v", err)
	}
}
