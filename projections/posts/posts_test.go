package posts_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/media"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/posts"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

const (
	bobIRI   = "https://remote.example/users/bob"
	carolIRI = "https://remote.example/users/carol"
)

func actorIRI(id string) string { return "https://hanse.example/users/" + id }

// iris is the projector's ActorIRIs option; postIRIs its PostIRIs.
var (
	iris     = posts.ActorIRIs(func(_ actor.Kind, username string) string { return actorIRI(username) })
	postIRIs = posts.PostIRIs(func(authorIRI, id string) string { return authorIRI + "/posts/" + id })
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC) }

// world records events in order, each occurring one second after the
// previous one, and projects them.
type world struct {
	t      *testing.T
	env    *projectiontest.Env
	opener personal.Plain
	n      int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := projectiontest.Open(t)
	registerAll(env.Registry)
	// The local people: their actors (and so their IRIs) exist.
	for _, id := range []string{"alice", "bob", "dave", "fac", "follower", "member", "mentioned", "outsider"} {
		env.Record(actor.Stream(id), actor.Created{ActorID: id, Kind: actor.KindPerson, Username: id}, events.Metadata{})
	}
	return &world{t: t, env: env, opener: personal.Plain{Erased: map[string]bool{}}}
}

func registerAll(r *events.Registry) {
	for _, reg := range []func(*events.Registry){actor.Register, post.Register, media.Register, account.Register, follow.Register, community.Register} {
		reg(r)
	}
}

func (w *world) on(stream string, payload any) events.Position {
	w.t.Helper()
	w.n++
	return w.env.Record(stream, payload, events.Metadata{OccurredAt: at(w.n)})
}

func sealText(subject string, c post.Content) personal.Text {
	t, err := personal.SealJSON(personal.Plain{}, subject, c)
	if err != nil {
		panic(err)
	}
	return t
}

// publish records ev with text as its German content (sealed under the
// author) and returns its position.
func (w *world) publish(ev post.Published, text string, descriptions ...string) events.Position {
	w.t.Helper()
	subject := ev.AuthorID
	if subject == "" {
		subject = ev.AuthorIRI
	}
	if ev.Visibility == "" {
		ev.Visibility = post.Public
	}
	if ev.Kind == "" {
		ev.Kind = post.Note
	}
	if ev.RootID == "" {
		ev.RootID = ev.PostID
	}
	ev.Languages = []string{"de"}
	ev.Content = sealText(subject, post.Content{ContentMap: map[string]string{"de": text}, Descriptions: descriptions,
		Activity: "raw"})
	return w.on(post.Stream(ev.PostID), ev)
}

func (w *world) like(postID, liker string) events.Position {
	return w.on(post.LikeStream(postID, liker), post.Liked{PostID: postID, Liker: liker})
}

func (w *world) join(c, member string) {
	w.on(community.MembershipStream(c, member), community.MemberJoined{CommunityID: c, Member: member, Role: community.Member})
}

// follow records an accepted outbound follow of followee by person.
func (w *world) follow(person, followee string) {
	stream := follow.Stream(actorIRI(person), followee)
	w.on(stream, follow.Requested{Direction: follow.Outbound, LocalActorID: person, FollowerIRI: actorIRI(person),
		FolloweeIRI: followee, FollowActivityID: actorIRI(person) + "#f"})
	w.on(stream, follow.Accepted{AcceptActivityID: followee + "#a"})
}

func (w *world) start() (posts.Reader, *projections.Runner) {
	w.t.Helper()
	w.env.AppendUnrelated()
	r := w.env.Start(posts.New(w.opener, iris, postIRIs))
	return posts.NewReader(r.DB()), r
}

func ids(ps []posts.Post) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

var ctx = context.Background()

func TestPostsGivenEventsThenReader(t *testing.T) {
	w := newWorld(t)
	w.on(media.Stream("m1"), media.Uploaded{MediaID: "m1", OwnerID: "alice", MediaType: "image/png", Size: 3,
		SHA256: "x", Description: sealText("alice", post.Content{})})
	desc, _ := personal.Plain{}.Seal("alice", "upload alt text")
	w.on(media.Stream("m2"), media.Uploaded{MediaID: "m2", OwnerID: "alice", MediaType: "image/png", Size: 3, Description: desc})
	rootPos := w.publish(post.Published{PostID: "p1", AuthorID: "alice", CommunityID: "c1", Hashtags: []string{"bees"},
		Mentions: []string{bobIRI}, Sensitive: true,
		Attachments: []post.Attachment{{MediaID: "m1", MediaType: "image/png", Size: 3}, {MediaID: "m2", MediaType: "image/png"}}},
		"Hallo #Bees", "given alt text")
	w.publish(post.Published{PostID: "r1", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/1", URL: "https://remote.example/@bob/1",
		CommunityID: "c1", InReplyTo: "p1", RootID: "p1", PublishedAt: "2026-01-02T03:04:05Z",
		Attachments: []post.Attachment{{URL: "https://remote.example/f.png", MediaType: "image/png"}}}, "<p>Hi</p>")
	w.publish(post.Published{PostID: "r2", AuthorID: "bob", CommunityID: "c1", InReplyTo: "r1", RootID: "p1"}, "tief")
	w.on(post.Stream("p1"), post.Edited{Languages: []string{"en"}, Hashtags: []string{"wax"}, Mentions: nil, Sensitive: true,
		Content: sealText("alice", post.Content{ContentMap: map[string]string{"en": "Hello #Wax"}})})
	w.like("p1", "bob")
	w.like("p1", carolIRI)
	w.on(post.LikeStream("p1", "bob"), post.LikeUndone{PostID: "p1", Liker: "bob"})
	w.like("p1", "dave")
	w.on(post.Stream("p1"), post.Pinned{CommunityID: "c1", By: "fac"})
	w.on(post.Stream("p1"), post.ThreadLocked{By: "fac"})
	w.on(post.Stream("p1"), post.Boosted{BoosterIRI: carolIRI})
	q, r := w.start()

	got, err := q.Get(ctx, "p1", "")
	if err != nil {
		t.Fatal(err)
	}
	want := posts.Post{Seq: rootPos, ID: "p1", Kind: post.Note, AuthorID: "alice", AuthorIRI: actorIRI("alice"),
		CommunityID: "c1", RootID: "p1", Visibility: post.Public, Languages: []string{"en"},
		ContentMap: map[string]string{"en": "Hello #Wax"}, Hashtags: []string{"wax"}, Mentions: []string{},
		Attachments: []posts.Attachment{{MediaID: "m1", MediaType: "image/png", Description: "given alt text"},
			{MediaID: "m2", MediaType: "image/png", Description: "upload alt text"}},
		Sensitive: true, CreatedAt: at(3), EditedAt: at(6), LikeCount: 2, ReplyCount: 1, BoostCount: 1, Pinned: true, Locked: true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get(p1) =\n%+v\nwant\n%+v", got, want)
	}
	remote, err := q.Get(ctx, "r1", "")
	if err != nil || remote.AuthorIRI != bobIRI || remote.Local() || !remote.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		remote.ContentMap["de"] != "<p>Hi</p>" || remote.ReplyCount != 1 || remote.URL == "" ||
		!reflect.DeepEqual(remote.Attachments, []posts.Attachment{{URL: "https://remote.example/f.png", MediaType: "image/png"}}) {
		t.Fatalf("Get(r1) = %+v, %v", remote, err)
	}
	if _, err := q.Get(ctx, "nope", ""); !errors.Is(err, posts.ErrNotFound) {
		t.Fatalf("Get(nope): %v", err)
	}
	thread, err := q.Replies(ctx, "p1", "", posts.Page{})
	if err != nil || !reflect.DeepEqual(ids(thread), []string{"r2", "r1"}) {
		t.Fatalf("Replies(p1) = %v, %v", ids(thread), err)
	}
	direct, err := q.Replies(ctx, "r1", "", posts.Page{})
	if err != nil || !reflect.DeepEqual(ids(direct), []string{"r2"}) {
		t.Fatalf("Replies(r1) = %v, %v", ids(direct), err)
	}
	featured, err := q.Featured(ctx, "c1", "")
	if err != nil || !reflect.DeepEqual(ids(featured), []string{"p1"}) {
		t.Fatalf("Featured = %v, %v", ids(featured), err)
	}
	likes, err := q.LikedBy(ctx, "p1", "", 0, 0)
	if err != nil || len(likes) != 2 || likes[0].Liker != "dave" || likes[1].Liker != carolIRI {
		t.Fatalf("LikedBy = %+v, %v", likes, err)
	}
	older, err := q.LikedBy(ctx, "p1", "", likes[0].Seq, 10)
	if err != nil || len(older) != 1 || older[0].Liker != carolIRI {
		t.Fatalf("LikedBy before = %+v, %v", older, err)
	}
	if ok, err := q.HasLiked(ctx, "p1", "bob"); err != nil || ok {
		t.Fatalf("HasLiked(bob) = %v, %v", ok, err)
	}
	if ok, err := q.HasLiked(ctx, "p1", "dave"); err != nil || !ok {
		t.Fatalf("HasLiked(dave) = %v, %v", ok, err)
	}
	tagged, err := q.TagTimeline(ctx, "#WAX", posts.Page{})
	if err != nil || !reflect.DeepEqual(ids(tagged), []string{"p1"}) {
		t.Fatalf("TagTimeline(wax) = %v, %v", ids(tagged), err)
	}
	if old, err := q.TagTimeline(ctx, "bees", posts.Page{}); err != nil || len(old) != 0 {
		t.Fatalf("the edit did not replace the tags: %v, %v", ids(old), err)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, nil)
}

func TestPostsDeleteAndRemove(t *testing.T) {
	w := newWorld(t)
	w.publish(post.Published{PostID: "p1", AuthorID: "alice", CommunityID: "c1", Hashtags: []string{"bees"}}, "root")
	w.publish(post.Published{PostID: "r1", AuthorID: "bob", CommunityID: "c1", InReplyTo: "p1", RootID: "p1", Hashtags: []string{"bees"}}, "a")
	w.publish(post.Published{PostID: "r2", AuthorID: "bob", CommunityID: "c1", InReplyTo: "p1", RootID: "p1"}, "b")
	w.on(post.Stream("r1"), post.Removed{CommunityID: "c1", By: "fac", Reason: "spam"})
	w.on(post.Stream("r1"), post.Deleted{By: "bob"}) // after removal: counted once
	w.on(post.Stream("r2"), post.Deleted{By: "bob"})
	q, r := w.start()
	p1, err := q.Get(ctx, "p1", "")
	if err != nil || p1.ReplyCount != 0 {
		t.Fatalf("p1 = %+v, %v; want 0 replies", p1, err)
	}
	for _, id := range []string{"r1", "r2"} {
		if _, err := q.Get(ctx, id, "bob"); !errors.Is(err, posts.ErrNotFound) {
			t.Fatalf("Get(%s) by its author: %v", id, err)
		}
	}
	gone, err := q.Lookup(ctx, "r2")
	if err != nil || !gone.Deleted || gone.ContentMap != nil {
		t.Fatalf("Lookup(r2) = %+v, %v", gone, err)
	}
	if ts, _ := q.TagTimeline(ctx, "bees", posts.Page{}); !reflect.DeepEqual(ids(ts), []string{"p1"}) {
		t.Fatalf("tag timeline %v", ids(ts))
	}
	if ts, _ := q.CommunityTimeline(ctx, "c1", "bob", posts.Page{}); !reflect.DeepEqual(ids(ts), []string{"p1"}) {
		t.Fatalf("community timeline %v", ids(ts))
	}
	// NodeInfo's local posts: removed and deleted ones do not count.
	if n, err := q.CountLocal(ctx); err != nil || n != 1 {
		t.Fatalf("CountLocal = %d, %v; want 1", n, err)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, nil)
}

func TestHomeTimelineAndPaging(t *testing.T) {
	w := newWorld(t)
	w.join("c1", "alice")
	w.follow("alice", bobIRI)
	w.publish(post.Published{PostID: "own", AuthorID: "alice"}, "x")                                  // 1 own
	w.publish(post.Published{PostID: "bob1", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/1"}, "x")       // 2 followed
	w.publish(post.Published{PostID: "c1a", AuthorID: "dave", CommunityID: "c1"}, "x")                // 3 community
	w.publish(post.Published{PostID: "other", AuthorID: "dave"}, "x")                                 // not subscribed
	w.publish(post.Published{PostID: "carol1", AuthorIRI: carolIRI, ObjectIRI: carolIRI + "/1"}, "x") // not followed...
	w.on(post.Stream("carol1"), post.Boosted{BoosterIRI: bobIRI})                                     // ...but boosted by bob
	w.publish(post.Published{PostID: "both", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/2", CommunityID: "c1"}, "x")
	w.publish(post.Published{PostID: "bobfol", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/3", Visibility: post.Followers}, "x")
	w.publish(post.Published{PostID: "davefol", AuthorID: "dave", Visibility: post.Followers}, "x")
	w.join("c2", "alice")
	w.publish(post.Published{PostID: "c2a", AuthorID: "dave", CommunityID: "c2", Visibility: post.Members}, "x")
	w.on(community.MembershipStream("c2", "alice"), community.MemberLeft{CommunityID: "c2", Member: "alice"})
	q, r := w.start()

	home, err := q.HomeTimeline(ctx, "alice", posts.Page{})
	want := []string{"bobfol", "both", "carol1", "c1a", "bob1", "own"}
	if err != nil || !reflect.DeepEqual(ids(home), want) {
		t.Fatalf("home = %v, %v; want %v", ids(home), err, want)
	}
	if home[2].BoostedBy != bobIRI || home[0].BoostedBy != "" {
		t.Fatalf("boost not marked: %+v", home[2])
	}
	// Paging: two at a time, by max_id; then since_id.
	var paged []string
	page := posts.Page{Limit: 2}
	for i := 0; i < 10; i++ {
		ps, err := q.HomeTimeline(ctx, "alice", page)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		paged = append(paged, ids(ps)...)
		page.MaxID = ps[len(ps)-1].ID
	}
	if !reflect.DeepEqual(paged, want) {
		t.Fatalf("paged home = %v, want %v", paged, want)
	}
	newer, err := q.HomeTimeline(ctx, "alice", posts.Page{SinceID: "c1a"})
	if err != nil || !reflect.DeepEqual(ids(newer), []string{"bobfol", "both", "carol1"}) {
		t.Fatalf("since c1a = %v, %v", ids(newer), err)
	}
	if _, err := q.HomeTimeline(ctx, "alice", posts.Page{MaxID: "nope"}); !errors.Is(err, posts.ErrBadCursor) {
		t.Fatalf("bad max_id: %v", err)
	}
	public, err := q.PublicTimeline(ctx, false, posts.Page{Limit: 100})
	if err != nil || !reflect.DeepEqual(ids(public), []string{"both", "carol1", "other", "c1a", "bob1", "own"}) {
		t.Fatalf("public = %v, %v", ids(public), err)
	}
	local, err := q.PublicTimeline(ctx, true, posts.Page{MaxID: "other"})
	if err != nil || !reflect.DeepEqual(ids(local), []string{"c1a", "own"}) {
		t.Fatalf("local before other = %v, %v", ids(local), err)
	}

	// Unfollowing and leaving end the subscriptions.
	w.on(follow.Stream(actorIRI("alice"), bobIRI), follow.Undone{UndoActivityID: "u"})
	w.on(community.MembershipStream("c1", "alice"), community.MemberRemoved{CommunityID: "c1", Member: "alice", By: "fac"})
	w.env.WaitAll(r, w.env.Head)
	home, err = q.HomeTimeline(ctx, "alice", posts.Page{})
	if err != nil || !reflect.DeepEqual(ids(home), []string{"own"}) {
		t.Fatalf("home after unfollow and removal = %v, %v", ids(home), err)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, nil)
}

// TestUnboost: a withdrawn boost takes the post out of the home timelines
// of the people who follow only the booster; people who see it otherwise
// (following its author, another booster) keep it, and a booster's own
// post keeps its own row.
func TestUnboost(t *testing.T) {
	const daveIRI = "https://remote.example/users/dave"
	w := newWorld(t)
	w.follow("alice", bobIRI)    // follows only the booster
	w.follow("dave", carolIRI)   // follows the author
	w.follow("follower", bobIRI) // follows both boosters
	w.follow("follower", daveIRI)
	w.publish(post.Published{PostID: "carol1", AuthorIRI: carolIRI, ObjectIRI: carolIRI + "/1"}, "x")
	w.publish(post.Published{PostID: "bob1", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/1"}, "x")
	w.on(post.Stream("carol1"), post.Boosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/a/1"})
	w.on(post.Stream("carol1"), post.Boosted{BoosterIRI: daveIRI, ActivityID: daveIRI + "/a/1"})
	w.on(post.Stream("bob1"), post.Boosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/a/2"}) // bob boosts his own post
	q, r := w.start()

	home := func(person string) []string {
		t.Helper()
		ps, err := q.HomeTimeline(ctx, person, posts.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return ids(ps)
	}
	boosts := func(id string) int {
		t.Helper()
		p, err := q.Get(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		return p.BoostCount
	}
	if got := home("alice"); !reflect.DeepEqual(got, []string{"bob1", "carol1"}) {
		t.Fatalf("alice's home before = %v", got)
	}
	if boosts("carol1") != 2 || boosts("bob1") != 1 {
		t.Fatalf("boost counts before: %d, %d", boosts("carol1"), boosts("bob1"))
	}

	w.on(post.Stream("carol1"), post.Unboosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/a/1/undo"})
	w.on(post.Stream("bob1"), post.Unboosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/a/2/undo"})
	w.on(post.Stream("carol1"), post.Unboosted{BoosterIRI: carolIRI}) // no boost of carol's: changes nothing
	check := func(int) {
		t.Helper()
		tests := []struct {
			person string
			want   []string
		}{
			{"alice", []string{"bob1"}},              // carol1 only came through bob's boost; bob1 is bob's own
			{"dave", []string{"carol1"}},             // follows the author
			{"follower", []string{"carol1", "bob1"}}, // dave's boost still brings carol1
		}
		for _, tt := range tests {
			if got := home(tt.person); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s's home after the withdrawal = %v, want %v", tt.person, got, tt.want)
			}
		}
		if boosts("carol1") != 1 || boosts("bob1") != 0 {
			t.Errorf("boost counts after: %d, %d", boosts("carol1"), boosts("bob1"))
		}
		ps, err := q.HomeTimeline(ctx, "follower", posts.Page{})
		if err != nil || len(ps) != 2 || ps[0].BoostedBy != daveIRI || ps[1].BoostedBy != "" {
			t.Errorf("follower's home entries: %+v, %v", ps, err)
		}
	}
	w.env.WaitAll(r, w.env.Head)
	check(0)
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, check)
}

func TestErasure(t *testing.T) {
	w := newWorld(t)
	w.join("c1", "alice")
	w.join("c1", "bob")
	w.follow("alice", bobIRI)
	desc, _ := personal.Plain{}.Seal("alice", "alt")
	w.on(media.Stream("m1"), media.Uploaded{MediaID: "m1", OwnerID: "alice", MediaType: "image/png", Size: 3, Description: desc})
	w.publish(post.Published{PostID: "b1", AuthorID: "bob", CommunityID: "c1"}, "bob's root")
	w.publish(post.Published{PostID: "a1", AuthorID: "alice", CommunityID: "c1", InReplyTo: "b1", RootID: "b1",
		Hashtags: []string{"secret"}, Attachments: []post.Attachment{{MediaID: "m1", MediaType: "image/png"}}}, "alice's words")
	w.publish(post.Published{PostID: "b2", AuthorID: "bob", CommunityID: "c1", InReplyTo: "a1", RootID: "b1"}, "bob answers")
	w.like("b1", "alice")
	w.like("a1", "bob")
	w.on(account.Stream("alice"), account.Erased{Reason: "self"})
	erasedAt := at(w.n)
	// Events after the erasure still apply.
	w.like("b2", "carol")
	q, r := w.start()

	check := func(round int) {
		t.Helper()
		if _, err := q.Get(ctx, "a1", "bob"); !errors.Is(err, posts.ErrNotFound) {
			t.Fatalf("round %d: the erased person's post is visible: %v", round, err)
		}
		a1, err := q.Lookup(ctx, "a1")
		if err != nil || a1.ContentMap != nil || len(a1.Hashtags) != 0 || len(a1.Attachments) != 0 || !a1.Deleted {
			t.Fatalf("round %d: Lookup(a1) = %+v, %v", round, a1, err)
		}
		b1, err := q.Get(ctx, "b1", "bob")
		if err != nil || b1.LikeCount != 0 || b1.ReplyCount != 0 {
			t.Fatalf("round %d: b1 = %+v, %v; want no likes and no replies", round, b1, err)
		}
		if tl, _ := q.CommunityTimeline(ctx, "c1", "bob", posts.Page{}); !reflect.DeepEqual(ids(tl), []string{"b2", "b1"}) {
			t.Fatalf("round %d: community timeline %v", round, ids(tl))
		}
		if tl, _ := q.TagTimeline(ctx, "secret", posts.Page{}); len(tl) != 0 {
			t.Fatalf("round %d: tag timeline %v", round, ids(tl))
		}
		if tl, _ := q.HomeTimeline(ctx, "alice", posts.Page{}); len(tl) != 0 {
			t.Fatalf("round %d: the erased person still has a home timeline: %v", round, ids(tl))
		}
		if l, _ := q.LikedBy(ctx, "b1", "bob", 0, 0); len(l) != 0 {
			t.Fatalf("round %d: likes %+v", round, l)
		}
		// The documents' queries: the received text is purged too, the
		// post is gone since the erasure and listed nowhere.
		if a1.Activity != "" || !a1.GoneAt.Equal(erasedAt) {
			t.Fatalf("round %d: Lookup(a1) activity %q, gone at %v; want none, %v", round, a1.Activity, a1.GoneAt, erasedAt)
		}
		if l, err := q.ByAuthor(ctx, "alice", allVisibilities, "", 10); err != nil || l.Total != 0 || len(l.Items) != 0 {
			t.Fatalf("round %d: ByAuthor(alice) = %+v, %v", round, l, err)
		}
	}
	if a1, err := q.Lookup(ctx, "b2"); err != nil || a1.Activity != "raw" {
		t.Fatalf("bob's post lost its activity: %+v, %v", a1, err)
	}
	check(0)
	// The key is destroyed: a rebuild opens nothing of alice and ends in
	// the same state.
	w.opener.Erased["alice"] = true
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, check)
}

func TestVisibilityRules(t *testing.T) {
	w := newWorld(t)
	w.join("c1", "member")
	w.join("c1", "alice")
	w.follow("follower", actorIRI("alice"))
	for _, p := range []post.Published{
		{PostID: "pub", AuthorID: "alice", CommunityID: "c1", Hashtags: []string{"t"}},
		{PostID: "unl", AuthorID: "alice", CommunityID: "c1", Visibility: post.Unlisted, Hashtags: []string{"t"}},
		{PostID: "fol", AuthorID: "alice", CommunityID: "c1", Visibility: post.Followers, Hashtags: []string{"t"}},
		{PostID: "mem", AuthorID: "alice", CommunityID: "c1", Visibility: post.Members, Hashtags: []string{"t"}},
		{PostID: "dir", AuthorID: "alice", CommunityID: "c1", Visibility: post.Direct, Hashtags: []string{"t"},
			Mentions: []string{actorIRI("mentioned")}},
		{PostID: "del", AuthorID: "alice", CommunityID: "c1", Hashtags: []string{"t"}},
		{PostID: "rem", AuthorID: "alice", CommunityID: "c1", Hashtags: []string{"t"}},
	} {
		w.publish(p, "x")
	}
	w.on(post.Stream("del"), post.Deleted{By: "alice"})
	w.on(post.Stream("rem"), post.Removed{CommunityID: "c1", By: "fac"})
	q, r := w.start()

	all := []string{"pub", "unl", "fol", "mem", "dir", "del", "rem"}
	tests := []struct {
		viewer    string
		get       []string // what Get lets the viewer read
		community []string // community timeline of c1
		home      []string
	}{
		{viewer: "", get: []string{"pub", "unl"}, community: []string{"unl", "pub"}},
		{viewer: "outsider", get: []string{"pub", "unl"}, community: []string{"unl", "pub"}},
		{viewer: "follower", get: []string{"pub", "unl", "fol"}, community: []string{"fol", "unl", "pub"},
			home: []string{"fol", "unl", "pub"}},
		{viewer: "member", get: []string{"pub", "unl", "mem"}, community: []string{"mem", "unl", "pub"},
			home: []string{"mem", "unl", "pub"}},
		{viewer: "mentioned", get: []string{"pub", "unl", "dir"}, community: []string{"dir", "unl", "pub"}},
		{viewer: "alice", get: []string{"pub", "unl", "fol", "mem", "dir"}, community: []string{"dir", "mem", "fol", "unl", "pub"},
			home: []string{"dir", "mem", "fol", "unl", "pub"}},
	}
	for _, tt := range tests {
		t.Run("viewer "+tt.viewer, func(t *testing.T) {
			var got []string
			for _, id := range all {
				if _, err := q.Get(ctx, id, tt.viewer); err == nil {
					got = append(got, id)
				} else if !errors.Is(err, posts.ErrNotFound) {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got, tt.get) {
				t.Errorf("Get lets %q read %v, want %v", tt.viewer, got, tt.get)
			}
			ct, err := q.CommunityTimeline(ctx, "c1", tt.viewer, posts.Page{})
			if err != nil || !reflect.DeepEqual(ids(ct), tt.community) {
				t.Errorf("community timeline for %q = %v, %v; want %v", tt.viewer, ids(ct), err, tt.community)
			}
			home, err := q.HomeTimeline(ctx, tt.viewer, posts.Page{})
			if err != nil || !reflect.DeepEqual(ids(home), orEmpty(tt.home)) {
				t.Errorf("home timeline for %q = %v, %v; want %v", tt.viewer, ids(home), err, tt.home)
			}
			// Replies and Featured apply the same rule to the post asked for.
			for _, id := range all {
				_, err := q.Replies(ctx, id, tt.viewer, posts.Page{})
				if visible := slices.Contains(tt.get, id); visible != (err == nil) {
					t.Errorf("Replies(%s) for %q: %v", id, tt.viewer, err)
				}
			}
		})
	}
	// Public and tag timelines list public posts only, whoever asks.
	for _, list := range []func() ([]posts.Post, error){
		func() ([]posts.Post, error) { return q.PublicTimeline(ctx, false, posts.Page{}) },
		func() ([]posts.Post, error) { return q.PublicTimeline(ctx, true, posts.Page{}) },
		func() ([]posts.Post, error) { return q.TagTimeline(ctx, "t", posts.Page{}) },
	} {
		ps, err := list()
		if err != nil || !reflect.DeepEqual(ids(ps), []string{"pub"}) {
			t.Errorf("public listing = %v, %v; want [pub]", ids(ps), err)
		}
	}
	// Likes of a post the viewer may not see are not shown either.
	if _, err := q.LikedBy(ctx, "fol", "outsider", 0, 0); !errors.Is(err, posts.ErrNotFound) {
		t.Errorf("LikedBy(fol) for an outsider: %v", err)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, nil)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestHomeTimelineMergesUnevenSources: one source holds most of the
// newest posts, some of them hidden from the reader, so that the first
// few rows per source are not enough and the reader must read deeper.
func TestHomeTimelineMergesUnevenSources(t *testing.T) {
	w := newWorld(t)
	var sources []string
	for i := range 5 {
		c := fmt.Sprintf("c%d", i)
		w.join(c, "alice")
		sources = append(sources, c)
	}
	var want []string
	// Old posts in every community, then 40 new ones in c0 of which every
	// third is followers-only (by dave, whom alice does not follow).
	for i := range 10 {
		for _, c := range sources {
			id := fmt.Sprintf("old-%s-%d", c, i)
			w.publish(post.Published{PostID: id, AuthorID: "dave", CommunityID: c}, "x")
			want = append(want, id)
		}
	}
	for i := range 40 {
		id := fmt.Sprintf("new-%02d", i)
		p := post.Published{PostID: id, AuthorID: "dave", CommunityID: "c0"}
		if i%3 == 0 {
			p.Visibility = post.Followers
		} else {
			want = append(want, id)
		}
		w.publish(p, "x")
	}
	slices.Reverse(want)
	q, _ := w.start()
	for _, limit := range []int{5, 20, 40} {
		var got []string
		page := posts.Page{Limit: limit}
		for range 100 {
			ps, err := q.HomeTimeline(ctx, "alice", page)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 0 {
				break
			}
			if len(ps) < limit && len(got)+len(ps) < len(want) {
				t.Fatalf("limit %d: short page of %d after %d posts", limit, len(ps), len(got))
			}
			got = append(got, ids(ps)...)
			page.MaxID = ps[len(ps)-1].ID
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("limit %d: home =\n%v\nwant\n%v", limit, got, want)
		}
	}
}
