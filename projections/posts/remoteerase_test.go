package posts_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections/posts"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// TestRemoteErasure: a remote actor that deleted itself
// (federation.remote_actor_erased) loses its posts' text, activity, tags
// and attachments; its posts leave every timeline and count as replies no
// more; its likes, and the likes of its posts, are gone. Other people's
// posts, local and remote, keep theirs. A rebuild with its key destroyed
// ends in the same state.
func TestRemoteErasure(t *testing.T) {
	w := newWorld(t)
	remote.Register(w.env.Registry)
	w.join("c1", "alice")
	w.join("c1", "dave")
	w.follow("alice", bobIRI)
	w.follow("alice", carolIRI)
	w.publish(post.Published{PostID: "a1", AuthorID: "alice", CommunityID: "c1"}, "alice's root")
	w.publish(post.Published{PostID: "r1", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/1", CommunityID: "c1",
		Hashtags: []string{"bobtag"}, Mentions: []string{actorIRI("alice")},
		Attachments: []post.Attachment{{URL: "https://remote.example/img.png", MediaType: "image/png"}}}, "bob in c1", "bob's alt text")
	w.publish(post.Published{PostID: "r2", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/2"}, "bob at home")
	w.publish(post.Published{PostID: "r3", AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/3", CommunityID: "c1",
		InReplyTo: "a1", RootID: "a1"}, "bob answers alice")
	w.publish(post.Published{PostID: "r4", AuthorIRI: carolIRI, ObjectIRI: carolIRI + "/notes/4", CommunityID: "c1",
		Hashtags: []string{"bobtag"}}, "carol in c1")
	w.like("a1", bobIRI)
	w.like("r4", bobIRI)
	w.like("r1", "alice")
	w.on(post.Stream("r2"), post.Boosted{BoosterIRI: carolIRI})
	w.on(remote.ErasureStream(bobIRI), remote.ActorErased{ActorIRI: bobIRI})
	erasedAt := at(w.n)
	// Events after the erasure still apply; an edit of an erased post
	// changes nothing.
	w.like("r4", "dave")
	w.on(post.Stream("r1"), post.Edited{Content: sealText(bobIRI, post.Content{ContentMap: map[string]string{"de": "again"}})})
	q, r := w.start()

	check := func(round int) {
		t.Helper()
		for _, id := range []string{"r1", "r2", "r3"} {
			if _, err := q.Get(ctx, id, "alice"); !errors.Is(err, posts.ErrNotFound) {
				t.Fatalf("round %d: the erased actor's post %s is visible: %v", round, id, err)
			}
			p, err := q.Lookup(ctx, id)
			if err != nil || p.ContentMap != nil || p.Activity != "" || len(p.Hashtags) != 0 || len(p.Mentions) != 0 ||
				len(p.Attachments) != 0 || !p.Deleted || !p.GoneAt.Equal(erasedAt) || p.LikeCount != 0 {
				t.Fatalf("round %d: Lookup(%s) = %+v, %v; want purged, gone at %v", round, id, p, err, erasedAt)
			}
		}
		a1, err := q.Get(ctx, "a1", "alice")
		if err != nil || a1.LikeCount != 0 || a1.ReplyCount != 0 || a1.ContentMap["de"] != "alice's root" {
			t.Fatalf("round %d: a1 = %+v, %v; want its text, no likes and no replies", round, a1, err)
		}
		r4, err := q.Lookup(ctx, "r4")
		if err != nil || r4.LikeCount != 1 || r4.ContentMap["de"] != "carol in c1" || r4.Activity != "raw" || r4.Deleted {
			t.Fatalf("round %d: carol's r4 = %+v, %v; want her text and dave's like only", round, r4, err)
		}
		if l, _ := q.LikedBy(ctx, "r4", "alice", 0, 0); len(l) != 1 || l[0].Liker != "dave" {
			t.Fatalf("round %d: likes of r4 %+v", round, l)
		}
		if liked, err := q.HasLiked(ctx, "r1", "alice"); err != nil || liked {
			t.Fatalf("round %d: alice's like of r1 remains (%v)", round, err)
		}
		if tl, _ := q.CommunityTimeline(ctx, "c1", "alice", posts.Page{}); !reflect.DeepEqual(ids(tl), []string{"r4", "a1"}) {
			t.Fatalf("round %d: community timeline %v", round, ids(tl))
		}
		if tl, _ := q.HomeTimeline(ctx, "alice", posts.Page{}); !reflect.DeepEqual(ids(tl), []string{"r4", "a1"}) {
			t.Fatalf("round %d: alice's home timeline %v (r2, boosted by carol, must be gone too)", round, ids(tl))
		}
		if tl, _ := q.TagTimeline(ctx, "bobtag", posts.Page{}); !reflect.DeepEqual(ids(tl), []string{"r4"}) {
			t.Fatalf("round %d: tag timeline %v", round, ids(tl))
		}
		if tl, _ := q.PublicTimeline(ctx, false, posts.Page{}); !reflect.DeepEqual(ids(tl), []string{"r4", "a1"}) {
			t.Fatalf("round %d: public timeline %v", round, ids(tl))
		}
		if tl, _ := q.Replies(ctx, "a1", "alice", posts.Page{}); len(tl) != 0 {
			t.Fatalf("round %d: replies of a1 %v", round, ids(tl))
		}
	}
	check(0)
	// The key is destroyed: a rebuild opens nothing of bob and ends in
	// the same state.
	w.opener.Erased[bobIRI] = true
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, check)
}
