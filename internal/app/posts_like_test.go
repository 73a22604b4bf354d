package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/post"
)

// The local actors of the like tests (fwActors is the follow tests'
// fixed directory).
const (
	likeAliceIRI = "https://hanse.example/users/alice"
	likeBobIRI   = "https://hanse.example/users/bob"
	likeCarolIRI = "https://hanse.example/users/carol"
	likeDaveIRI  = "https://hanse.example/users/dave"
)

var likeDirectory = fwActors{
	"alice": {ID: "alice", IRI: likeAliceIRI},
	"bob":   {ID: "bob", IRI: likeBobIRI},
	"carol": {ID: "carol", IRI: likeCarolIRI},
	"dave":  {ID: "dave", IRI: likeDaveIRI},
	"gone":  {ID: "gone", IRI: "https://hanse.example/users/gone", Deleted: true},
}

// likeEnv is a post environment whose Posts decide who sees
// followers-only and direct posts with ActorAudience: carol follows the
// remote bobIRI (accepted), dave's follow of bobIRI is pending.
func likeEnv(t *testing.T) *postEnv {
	t.Helper()
	e := newPostEnv(t)
	follows := app.NewFollows(e.store, e.reg, likeDirectory, "hanse.example")
	e.posts.Audience = app.ActorAudience{Actors: likeDirectory, Follows: follows}
	target := app.RemoteTarget{IRI: bobIRI, Inbox: bobIRI + "/inbox"}
	for _, who := range []string{"carol", "dave"} {
		if _, err := follows.Follow(e.ctx, who, target, who); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := follows.ReceiveAccept(e.ctx, app.ReceivedActivity{ActivityID: bobIRI + "/accepts/1", Actor: bobIRI,
		FollowerIRI: likeCarolIRI, FolloweeIRI: bobIRI}); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPostsLikeNeedsVisibility: a local account likes only what it may
// see — the posts read model's rule, decided from the event store, so it
// holds while the read model lags behind. A post hidden from the liker is
// not found, exactly like a post that does not exist, and nothing is
// appended.
func TestPostsLikeNeedsVisibility(t *testing.T) {
	e := likeEnv(t)
	gate := e.posts.Gate.(*fakeGate)
	gate.members["closed|bob"] = true
	remote := func(objectIRI string, v post.Visibility, mentions ...string) string {
		rp := remotePost(objectIRI)
		rp.Visibility, rp.Mentions = v, mentions
		id, _, err := e.posts.PublishRemote(e.ctx, rp)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ids := map[string]string{
		"public":           e.publish(app.PublishPost{Author: alice}),
		"unlisted":         e.publish(app.PublishPost{Author: alice, Visibility: post.Unlisted}),
		"members":          e.publish(app.PublishPost{Author: alice, CommunityID: "closed"}),
		"followers":        e.publish(app.PublishPost{Author: alice, Visibility: post.Followers}),
		"direct":           e.publish(app.PublishPost{Author: alice, Visibility: post.Direct, Mentions: []string{likeBobIRI}}),
		"remote followers": remote(bobIRI+"/notes/f", post.Followers),
		"remote direct":    remote(bobIRI+"/notes/d", post.Direct, likeCarolIRI),
		"unknown":          "00000000-0000-4000-8000-000000000000",
	}
	if v := e.state(ids["members"]).Visibility; v != post.Members {
		t.Fatalf("a post into the members-only community has visibility %s", v)
	}
	tests := []struct {
		post, liker string
		hidden      bool
	}{
		{"public", "zoe", false}, // anyone, even an account without an actor
		{"unlisted", "zoe", false},
		{"members", "alice", false}, // the author (and a member)
		{"members", "bob", false},   // a member
		{"members", "carol", true},  // not a member
		{"followers", "alice", false},
		{"followers", "carol", true}, // nobody follows alice here
		{"direct", "alice", false},
		{"direct", "bob", false},             // mentioned
		{"direct", "carol", true},            // not mentioned
		{"remote followers", "carol", false}, // an accepted follower of the author
		{"remote followers", "dave", true},   // the follow is still pending
		{"remote followers", "zoe", true},    // no actor at all
		{"remote followers", "gone", true},   // a deleted actor
		{"remote direct", "carol", false},
		{"remote direct", "dave", true},
		{"unknown", "alice", true},
	}
	for _, tt := range tests {
		t.Run(tt.post+" by "+tt.liker, func(t *testing.T) {
			id := ids[tt.post]
			pos, err := e.posts.Like(e.ctx, id, tt.liker, "")
			if tt.hidden {
				wantErr(t, "like", err, app.ErrPostNotFound)
				if got := mustRead(e.env, post.LikeStream(id, tt.liker)); len(got) != 0 {
					t.Fatalf("a refused like appended %+v", got)
				}
				// Withdrawing a like that is not there: not found too.
				_, err := e.posts.Unlike(e.ctx, id, tt.liker)
				wantErr(t, "unlike", err, app.ErrPostNotFound)
				return
			}
			if err != nil || pos == 0 {
				t.Fatalf("Like = %d, %v", pos, err)
			}
			if again, err := e.posts.Like(e.ctx, id, tt.liker, ""); err != nil || again != pos {
				t.Fatalf("liking twice = %d, %v; want %d", again, err, pos)
			}
		})
	}

	// Without an Audience, followers-only and direct posts are likeable by
	// their authors only.
	e.posts.Audience = nil
	_, err := e.posts.Like(e.ctx, ids["remote direct"], "carol", "")
	wantErr(t, "a mentioned account without an audience", err, app.ErrPostNotFound)
	if _, err := e.posts.Like(e.ctx, ids["direct"], "alice", ""); err != nil {
		t.Fatalf("the author without an audience: %v", err)
	}

	// Remote likers are the inbox's business: not checked here.
	if _, err := e.posts.Like(e.ctx, ids["members"], evilIRI, evilIRI+"/likes/1"); err != nil {
		t.Fatalf("remote like: %v", err)
	}
}

// TestPostsUnlike: withdrawing a like needs an existing post; without a
// like it is a no-op (not found when the post is hidden from the caller);
// a like given is withdrawn even after its liker lost sight of the post.
func TestPostsUnlike(t *testing.T) {
	e := likeEnv(t)
	gate := e.posts.Gate.(*fakeGate)
	gate.members["closed|bob"] = true
	members := e.publish(app.PublishPost{Author: alice, CommunityID: "closed"})
	public := e.publish(app.PublishPost{Author: alice})

	_, err := e.posts.Unlike(e.ctx, "00000000-0000-4000-8000-000000000000", "bob")
	wantErr(t, "unlike an unknown post", err, app.ErrPostNotFound)
	_, err = e.posts.Unlike(e.ctx, "nope", bobIRI)
	wantErr(t, "a remote actor unlikes an unknown post", err, app.ErrPostNotFound)
	if pos, err := e.posts.Unlike(e.ctx, public, "carol"); err != nil || pos != 0 {
		t.Fatalf("unlike without a like = %d, %v; want (0, nil)", pos, err)
	}

	liked, err := e.posts.Like(e.ctx, members, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	gate.mu.Lock()
	delete(gate.members, "closed|bob") // bob leaves the community
	gate.mu.Unlock()
	_, err = e.posts.Like(e.ctx, members, "bob", "")
	wantErr(t, "liking again after leaving", err, app.ErrPostNotFound)
	unliked, err := e.posts.Unlike(e.ctx, members, "bob")
	if err != nil || unliked <= liked {
		t.Fatalf("withdrawing a like after leaving = %d, %v", unliked, err)
	}
	got := mustRead(e.env, post.LikeStream(members, "bob"))
	if len(got) != 2 || got[1] != (post.LikeUndone{PostID: members, Liker: "bob"}) {
		t.Fatalf("like stream %+v, want liked, undone", got)
	}
	_, err = e.posts.Unlike(e.ctx, members, "bob")
	wantErr(t, "withdrawing again, hidden", err, app.ErrPostNotFound)

	// A gone post: 410 for those who could see it, not found for others;
	// a like given is still withdrawn.
	if _, err := e.posts.Like(e.ctx, public, "carol", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.posts.Delete(e.ctx, public, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := e.posts.Delete(e.ctx, members, alice); err != nil {
		t.Fatal(err)
	}
	_, err = e.posts.Like(e.ctx, public, "dave", "")
	wantErr(t, "like a deleted public post", err, app.ErrPostDeleted)
	_, err = e.posts.Like(e.ctx, members, "carol", "")
	wantErr(t, "like a deleted hidden post", err, app.ErrPostNotFound)
	if pos, err := e.posts.Unlike(e.ctx, public, "carol"); err != nil || pos == 0 {
		t.Fatalf("withdrawing a like of a deleted post = %d, %v", pos, err)
	}
}

// TestActorAudience: the audience of followers-only and direct posts.
func TestActorAudience(t *testing.T) {
	e := likeEnv(t)
	aud := e.posts.Audience
	tests := []struct {
		name    string
		s       post.State
		account string
		want    bool
	}{
		{"mentioned", post.State{Visibility: post.Direct, Mentions: []string{bobIRI, likeDaveIRI}}, "dave", true},
		{"not mentioned", post.State{Visibility: post.Direct, Mentions: []string{bobIRI}}, "dave", false},
		{"accepted follower", post.State{Visibility: post.Followers, AuthorIRI: bobIRI}, "carol", true},
		{"pending follower", post.State{Visibility: post.Followers, AuthorIRI: bobIRI}, "dave", false},
		{"follower of someone else", post.State{Visibility: post.Followers, AuthorIRI: evilIRI}, "carol", false},
		{"local author nobody follows", post.State{Visibility: post.Followers, AuthorID: "alice"}, "carol", false},
		{"unknown account", post.State{Visibility: post.Direct, Mentions: []string{""}}, "zoe", false},
		{"a public post is not an audience's", post.State{Visibility: post.Public}, "carol", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := aud.InAudience(e.ctx, tt.s, tt.account)
			if err != nil || got != tt.want {
				t.Fatalf("InAudience = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := (app.ActorAudience{Actors: failingActors{}}).InAudience(e.ctx, post.State{Visibility: post.Direct}, "carol"); err == nil {
		t.Fatal("a failing directory gave no error")
	}
}

// failingActors is a local actor directory that cannot answer.
type failingActors struct{}

func (failingActors) ByIRI(context.Context, string) (app.LocalActor, error) {
	return app.LocalActor{}, errors.New("directory down")
}

func (failingActors) ByID(context.Context, string) (app.LocalActor, error) {
	return app.LocalActor{}, errors.New("directory down")
}
