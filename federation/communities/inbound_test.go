package communities_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/federation/communities"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

const (
	felix     = "https://mastodon.madrid/users/felix"
	lemmyA    = "http://ds9.lemmy.ml/u/lemmy_alpha"
	lemmyMain = "http://enterprise.lemmy.ml/c/main"
	admin     = "http://mastodon.example.org/users/admin"
)

type inboundEnv struct {
	*harness
	calls *calls
	posts *fakePosts
	fetch fetcher
}

func newInbound(t *testing.T, followed ...string) *inboundEnv {
	t.Helper()
	c := &calls{}
	e := &inboundEnv{calls: c, posts: newFakePosts(c), fetch: fetcher{calls: c, docs: map[string]string{}}}
	r := communities.NewInbound(scheme, nil)
	f := following{iris: map[string]bool{}}
	for _, iri := range followed {
		f.iris[iri] = true
	}
	if err := r.Bind(communities.InboundDeps{Posts: e.posts, Local: directory{}, Following: f, Fetch: e.fetch}); err != nil {
		t.Fatal(err)
	}
	e.harness = newHarness(t, r)
	return e
}

func (e *inboundEnv) expect(what string, want ...string) {
	e.t.Helper()
	if got := e.calls.take(); !slices.Equal(got, want) {
		e.t.Fatalf("%s: calls\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func (e *inboundEnv) mustReceive(actorIRI string, raw []byte) {
	e.t.Helper()
	if err := e.receive(actorIRI, raw); err != nil {
		e.t.Fatal(err)
	}
}

func TestInboundPostsIntoCommunity(t *testing.T) {
	e := newInbound(t)
	raw := lemmyPage(t)
	e.mustReceive(lemmyA, raw)
	e.expect("Lemmy's Page addressed to the Group",
		`publish http://ds9.lemmy.ml/post/1 by `+lemmyA+` community="g1" reply="" public`)
	if !sameJSON(t, e.posts.last.Activity, string(raw)) || e.posts.last.Kind != post.Article || e.posts.last.NameMap["ko"] != "test post" {
		t.Fatalf("remote post = %+v", e.posts.last)
	}

	e.mustReceive(felix, mastodonNote(t))
	e.expect("Mastodon's Note mentioning the Group (a reply to an unknown status)",
		`publish https://mastodon.madrid/users/felix/statuses/107224289116410645 by `+felix+
			` community="g1" reply="https://mamot.fr/users/retiolus/statuses/107224244380204526" unlisted`)

	// The same Note without the Group, by someone nobody follows: not ours.
	e.mustReceive(felix, fixture(t, "mastodon/create_note.json"))
	e.expect("an unrelated Note")

	// A Create whose object is attributed to someone else is refused.
	e.mustReceive(lemmyA, fixture(t, "lemmy/create_page.json", `"attributedTo": "http://ds9.lemmy.ml/u/lemmy_alpha"`,
		`"attributedTo": "http://ds9.lemmy.ml/u/someone_else"`, "http://enterprise.lemmy.ml/c/main", groupIRI))
	e.expect("a forged attribution")

	// A Group that does not exist here.
	e.mustReceive(lemmyA, fixture(t, "lemmy/create_page.json", "http://enterprise.lemmy.ml/c/main", base+"/communities/nope",
		"https://enterprise.lemmy.ml/c/main", base+"/communities/nope"))
	e.expect("an unknown Group")
}

// sameJSON reports whether a and b are the same JSON value (the event
// log keeps a received activity's members and values, not its spacing).
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestInboundRefusalsAreSkippedFailuresStop(t *testing.T) {
	e := newInbound(t)
	e.posts.fail["http://ds9.lemmy.ml/post/1"] = fmt.Errorf("%w: not a member", app.ErrNotMember)
	e.mustReceive(lemmyA, lemmyPage(t))
	e.expect("a non-member's post is refused")
	// The reactor goes on after a refusal.
	e.mustReceive(felix, mastodonNote(t))
	e.expect("the next post", `publish https://mastodon.madrid/users/felix/statuses/107224289116410645 by `+felix+
		` community="g1" reply="https://mamot.fr/users/retiolus/statuses/107224244380204526" unlisted`)

	for _, refusal := range []error{app.ErrBanned, app.ErrThreadLocked, &app.ValidationError{Field: "content", Reason: "empty"}} {
		if !communities.Refused(fmt.Errorf("wrapped: %w", refusal)) {
			t.Errorf("%v is not a refusal", refusal)
		}
	}
	// Anything else stops the projection at the event, to be retried.
	e.posts.fail["http://ds9.lemmy.ml/post/1"] = errors.New("disk full")
	if err := e.receive(lemmyA, lemmyPage(t)); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("a failing command gave %v, want the projection failed", err)
	}
}

func TestInboundRepliesAndFollowedAuthors(t *testing.T) {
	e := newInbound(t, felix)
	local := aliceIRI + "/posts/p1"
	e.posts.known["p1"] = post.State{Exists: true, ID: "p1", AuthorID: "a1"}
	reply := fixture(t, "mastodon/create_note.json", "https://mamot.fr/users/retiolus/statuses/107224244380204526", local)
	e.mustReceive(felix, reply)
	e.expect("a reply to a local post joins its thread",
		`publish https://mastodon.madrid/users/felix/statuses/107224289116410645 by `+felix+` community="" reply="p1" unlisted`)

	e2 := newInbound(t, felix)
	e2.mustReceive(felix, fixture(t, "mastodon/create_note.json"))
	e2.expect("a followed author's post reaches the timelines",
		`publish https://mastodon.madrid/users/felix/statuses/107224289116410645 by `+felix+
			` community="" reply="https://mamot.fr/users/retiolus/statuses/107224244380204526" unlisted`)

	// A reply to a local post under another author's path is not that post.
	e3 := newInbound(t)
	e3.posts.known["p1"] = post.State{Exists: true, ID: "p1", AuthorID: "someone-else"}
	e3.mustReceive(felix, reply)
	e3.expect("a mismatched local post IRI")
}

func TestInboundLikesUpdatesDeletes(t *testing.T) {
	e := newInbound(t)
	local := aliceIRI + "/posts/p1"
	e.posts.known["p1"] = post.State{Exists: true, ID: "p1", AuthorID: "a1"}
	like := fixture(t, "misskey/like.json", "https://testing.pleroma.lol/objects/c331bbf7-2eb9-4801-a709-2a6103492a5a", local)
	e.mustReceive(admin, like)
	e.expect("a Like of a local post", "like p1 by "+admin+" (https://misskey.xyz/75149198-2f45-46e4-930a-8b0538297075)")
	undo := fixture(t, "mastodon/undo_like.json", "http://localtesting.pleroma.lol/objects/eb92579d-3417-42a8-8652-2492c2d4f454", local)
	e.mustReceive(admin, undo)
	e.expect("Undo{Like}", "unlike p1 by "+admin)
	e.mustReceive(admin, fixture(t, "mastodon/undo_like.json"))
	e.expect("Undo{Like} of an unknown object")
	e.mustReceive(admin, fixture(t, "misskey/like.json"))
	e.expect("a Like of an unknown object")

	// Update and Delete of a received post by its author.
	status := "https://mastodon.madrid/users/felix/statuses/107224289116410645"
	e.posts.known[app.PostIDForIRI(status)] = post.State{Exists: true, AuthorIRI: felix, ObjectIRI: status}
	update := fixture(t, "mastodon/create_note.json", `"type": "Create"`, `"type": "Update"`)
	e.mustReceive(felix, update)
	e.expect("an Update by the author", "edit "+status+" by "+felix)
	mallory := "https://mastodon.madrid/users/mallory"
	e.mustReceive(mallory, fixture(t, "mastodon/create_note.json", `"type": "Create"`, `"type": "Update"`,
		`"actor": "https://mastodon.madrid/users/felix"`, `"actor": "`+mallory+`"`))
	e.expect("an Update by someone else")
	del := fixture(t, "mastodon/delete_tombstone.json", "107773559874184870", "107224289116410645")
	e.mustReceive(felix, del)
	e.expect("a Delete by the author", "delete "+status+" by "+felix)
	e.mustReceive(felix, fixture(t, "mastodon/delete_tombstone.json"))
	e.expect("a Delete of an unknown post")
}

func TestInboundAnnounces(t *testing.T) {
	e := newInbound(t, lemmyMain, admin)
	// A followed Lemmy community announces a member's Create{Page}.
	e.mustReceive(lemmyMain, fixture(t, "lemmy/announce_create_page.json"))
	id := app.PostIDForIRI("http://enterprise.lemmy.ml/post/7")
	e.expect("Announce{Create{Page}} by a followed community",
		`publish http://enterprise.lemmy.ml/post/7 by http://enterprise.lemmy.ml/u/lemmy_beta community="" reply="" public`,
		"boost "+id+" by "+lemmyMain+" (http://enterprise.lemmy.ml/activities/announce/8030b171-803a-4108-94b1-342688f375cf)")
	if !strings.Contains(e.posts.last.Activity, `"id":"http://enterprise.lemmy.ml/activities/create/2807c9ec-3ad8-4859-a9e0-28b59b6e499f"`) ||
		e.posts.last.ContentMap == nil {
		t.Fatalf("the announced Create is kept: %+v", e.posts.last)
	}
	if e.posts.last.CommunityIRI != lemmyMain {
		t.Fatalf("the post addressed to the announcing community is recorded in %q, want %s", e.posts.last.CommunityIRI, lemmyMain)
	}

	// Mastodon boosts a status by IRI: it is fetched.
	status := "http://mastodon.example.org/@admin/99541947525187367"
	e.fetch.docs[status] = `{"id":"` + status + `","type":"Note","attributedTo":"` + admin + `",
		"to":["https://www.w3.org/ns/activitystreams#Public"],"content":"<p>boosted</p>"}`
	e.mustReceive(admin, fixture(t, "mastodon/announce.json"))
	e.expect("Announce of an IRI", "fetch "+status,
		`publish `+status+` by `+admin+` community="" reply="" public`,
		"boost "+app.PostIDForIRI(status)+" by "+admin+" (http://mastodon.example.org/users/admin/statuses/99542391527669785/activity)")
	if e.posts.last.CommunityIRI != "" {
		t.Fatalf("a person's boost puts the post into community %q", e.posts.last.CommunityIRI)
	}

	// Boosting a known post again fetches nothing.
	e.mustReceive(admin, fixture(t, "mastodon/announce.json", "99542391527669785", "1"))
	e.expect("a second boost", "boost "+app.PostIDForIRI(status)+" by "+admin+" (http://mastodon.example.org/users/admin/statuses/1/activity)")

	// An unfetchable object is skipped; an Announce by someone nobody
	// follows is ignored.
	e.mustReceive(admin, fixture(t, "mastodon/announce.json", "99541947525187367", "404"))
	e.expect("an unfetchable object", "fetch http://mastodon.example.org/@admin/404")
	e.mustReceive("http://stranger.example/users/x", fixture(t, "mastodon/announce.json", admin, "http://stranger.example/users/x"))
	e.expect("an Announce by a stranger")

	// An embedded post from another server than the announcer's is fetched
	// from its origin, not trusted.
	other := "https://elsewhere.example/notes/1"
	embedded := `{"id":"` + lemmyMain + `/announce/x","type":"Announce","actor":"` + lemmyMain + `",
		"object":{"id":"` + other + `","type":"Note","attributedTo":"https://elsewhere.example/users/e","content":"forged",
		"to":["https://www.w3.org/ns/activitystreams#Public"]}}`
	e.mustReceive(lemmyMain, []byte(embedded))
	e.expect("a foreign embedded object", "fetch "+other)
}

// undoAnnounce is Mastodon's Undo{Announce} of the boost in
// mastodon/announce.json (UndoAnnounceSerializer: the Announce embedded,
// its object the status's IRI), with the Announce's object replaced by
// object (raw JSON) when given.
func undoAnnounce(t *testing.T, actor, object string) []byte {
	t.Helper()
	ann := fixture(t, "mastodon/announce.json")
	if object != "" {
		ann = bytes.Replace(ann, []byte(`"http://mastodon.example.org/@admin/99541947525187367"`), []byte(object), 1)
	}
	if actor != admin {
		ann = bytes.ReplaceAll(ann, []byte(`"actor": "`+admin+`"`), []byte(`"actor": "`+actor+`"`))
	}
	return []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Undo",
		"id":"` + admin + `#announces/99542391527669785/undo","actor":"` + admin + `",
		"to":["https://www.w3.org/ns/activitystreams#Public"],"object":` + string(ann) + `}`)
}

// TestInboundUndoAnnounce: a booster's Undo{Announce} of a post recorded
// here withdraws its boost (Unboost); the Announce must be the Undo's
// actor's own, and Undos of other announces or of unknown posts change
// nothing.
func TestInboundUndoAnnounce(t *testing.T) {
	e := newInbound(t, admin)
	status := "http://mastodon.example.org/@admin/99541947525187367"
	e.fetch.docs[status] = `{"id":"` + status + `","type":"Note","attributedTo":"` + admin + `",
		"to":["https://www.w3.org/ns/activitystreams#Public"],"content":"<p>boosted</p>"}`
	e.mustReceive(admin, fixture(t, "mastodon/announce.json"))
	e.calls.take()
	id := app.PostIDForIRI(status)
	undoID := admin + "#announces/99542391527669785/undo"

	e.mustReceive(admin, undoAnnounce(t, admin, ""))
	e.expect("Mastodon's Undo{Announce} of a boosted status", "unboost "+id+" by "+admin+" ("+undoID+")")

	// The Announce may embed the post, or the Create of it (FEP-1b12).
	e.mustReceive(admin, undoAnnounce(t, admin, `{"id":"`+status+`","type":"Note","attributedTo":"`+admin+`"}`))
	e.expect("the post embedded", "unboost "+id+" by "+admin+" ("+undoID+")")
	e.mustReceive(admin, undoAnnounce(t, admin, `{"id":"`+status+`/activity","type":"Create","actor":"`+admin+`",
		"object":{"id":"`+status+`","type":"Note","attributedTo":"`+admin+`"}}`))
	e.expect("the Create embedded", "unboost "+id+" by "+admin+" ("+undoID+")")

	// A local post boosted by a remote actor.
	e.posts.known["p1"] = post.State{Exists: true, ID: "p1", AuthorID: "a1"}
	e.mustReceive(admin, undoAnnounce(t, admin, `"`+aliceIRI+`/posts/p1"`))
	e.expect("a local post", "unboost p1 by "+admin+" ("+undoID+")")

	mallory := "https://mastodon.example.org/users/mallory"
	e.mustReceive(admin, undoAnnounce(t, mallory, ""))
	e.expect("an Undo of someone else's Announce")
	e.mustReceive(admin, undoAnnounce(t, admin, `"http://mastodon.example.org/@admin/404"`))
	e.expect("an Undo{Announce} of an unknown post")
	e.mustReceive(admin, undoAnnounce(t, admin, `{"id":"https://x.example/d","type":"Delete","actor":"`+admin+`","object":"`+status+`"}`))
	e.expect("an Undo of an Announce{Delete}")
	e.mustReceive(admin, []byte(`{"type":"Undo","id":"`+undoID+`","actor":"`+admin+`",
		"object":"http://mastodon.example.org/users/admin/statuses/99542391527669785/activity"}`))
	e.expect("an Undo of an Announce by IRI cannot be told apart")
}

// TestInboundCommunityRemovals: a remote community's Announce{Delete} of a
// received post (its moderators removed it, FEP-1b12) removes the post
// here; whether the announcer is the post's community is the command's
// decision, and its refusal is skipped.
func TestInboundCommunityRemovals(t *testing.T) {
	e := newInbound(t, lemmyMain)
	e.mustReceive(lemmyMain, fixture(t, "lemmy/announce_create_page.json"))
	e.calls.take()
	page := "http://enterprise.lemmy.ml/post/7"
	announceDelete := func(object string) []byte {
		return []byte(`{"id":"` + lemmyMain + `/activities/announce/delete-1","type":"Announce","actor":"` + lemmyMain + `",
			"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["` + lemmyMain + `/followers"],
			"object":{"id":"http://enterprise.lemmy.ml/activities/delete/1","type":"Delete",
				"actor":"http://enterprise.lemmy.ml/u/moderator","object":"` + object + `","audience":"` + lemmyMain + `",
				"to":["https://www.w3.org/ns/activitystreams#Public"],"summary":"spam"}}`)
	}

	e.mustReceive(lemmyMain, announceDelete(page))
	e.expect("the community's moderator removed a post",
		"remove "+page+" by community "+lemmyMain+" ("+lemmyMain+"/activities/announce/delete-1)")

	e.mustReceive(lemmyMain, announceDelete("http://enterprise.lemmy.ml/post/404"))
	e.expect("a removal of a post never received here")

	e.posts.known["p1"] = post.State{Exists: true, ID: "p1", AuthorID: "a1"}
	e.mustReceive(lemmyMain, announceDelete(aliceIRI+"/posts/p1"))
	e.expect("a remote Group's removal of a local post")

	// Another community's removal reaches the command, which refuses it;
	// the reactor skips the refusal and goes on.
	stranger := "https://lemmy.example/c/stranger"
	e.posts.fail["remove "+page] = fmt.Errorf("%w: %s", app.ErrPostNotInCommunity, page)
	e.mustReceive(stranger, bytes.ReplaceAll(announceDelete(page), []byte(`"actor":"`+lemmyMain+`"`), []byte(`"actor":"`+stranger+`"`)))
	e.expect("another community's removal, refused")
	e.mustReceive(lemmyMain, fixture(t, "lemmy/announce_create_page.json", "8030b171", "8030b172"))
	e.expect("the next activity", "boost "+app.PostIDForIRI(page)+" by "+lemmyMain+
		" (http://enterprise.lemmy.ml/activities/announce/8030b172-803a-4108-94b1-342688f375cf)")
}
