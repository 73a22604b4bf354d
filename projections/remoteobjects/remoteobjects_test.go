package remoteobjects_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/projectiontest"
	"github.com/hanse-network/hanse/projections/remoteobjects"

	_ "modernc.org/sqlite"
)

// fixtureDir is shared/fixtures, reached from the repository root as
// ../shared/fixtures.
var fixtureDir = filepath.Join("..", "..", "..", "shared", "fixtures")

const (
	felix   = "https://mastodon.madrid/users/felix"
	felixN1 = "https://mastodon.madrid/users/felix/statuses/107224289116410645"
	felixN2 = "https://mastodon.madrid/users/felix/statuses/107773559874184870" // the tombstone's id
	mallory = "https://evil.example/users/mallory"
	admin   = "http://mastodon.example.org/users/admin"
	heluech = "https://pirati.ca/profile/heluecht"
	friendN = "https://pirati.ca/objects/ec054ce7-4762-3c1c-3c25-0cc665717210"
	wpActor = "https://dbzer0.com/blog/author/db0/"
	wpID    = "https://dbzer0.com/?p=27948"
	vpzom   = "https://greenish.red/users/vpzom"
	vpzomN  = "https://greenish.red/objects/38e2b983-ebf5-4387-9bc2-3b80305469c9"
	boosted = "http://mastodon.example.org/@admin/99541947525187367"
	likedA  = "http://localtesting.pleroma.lol/objects/eb92579d-3417-42a8-8652-2492c2d4f454"
	likedB  = "https://testing.pleroma.lol/objects/c331bbf7-2eb9-4801-a709-2a6103492a5a"
)

// doc is a decoded fixture, edited by the tests before it is recorded.
type doc map[string]any

func load(t *testing.T, name string) doc {
	t.Helper()
	if _, err := os.Stat(fixtureDir); err != nil {
		t.Skipf("shared fixtures not found at %s (expected ../shared/fixtures from the repository root): %v", fixtureDir, err)
	}
	b, err := os.ReadFile(filepath.Join(fixtureDir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// with returns a deep copy of d with the top-level fields set (a nil value
// removes the field).
func (d doc) with(kv ...any) doc {
	b, _ := json.Marshal(d)
	var c doc
	_ = json.Unmarshal(b, &c)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// obj returns a copy of d's inline object.
func (d doc) obj() doc {
	b, _ := json.Marshal(d["object"])
	var c doc
	_ = json.Unmarshal(b, &c)
	return c
}

// create wraps an object in a Create by actor.
func create(id, actor string, object doc) doc {
	return doc{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Create", "actor": actor, "object": object}
}

// activity wraps a synthetic activity (type, actor, object).
func activity(typ, id, actor string, object any) doc {
	return doc{"id": id, "type": typ, "actor": actor, "object": object}
}

// received is the event the inbox records for d, signed by d's actor.
func received(t *testing.T, d doc, sec int) remote.ActivityReceived {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	str := func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case map[string]any:
			s, _ := x["id"].(string)
			return s
		}
		return ""
	}
	return remote.ActivityReceived{ActivityID: str(d["id"]), Type: str(d["type"]), Actor: str(d["actor"]),
		ObjectID: str(d["object"]), SignerKeyID: str(d["actor"]) + "#main-key", Raw: raw,
		ReceivedAt: time.Date(2026, 5, 4, 10, 0, sec, 0, time.UTC)}
}

// project records the activities as the inbox would (plus an event of
// another type), runs the projection to the head and returns its reader
// and runner.
func project(t *testing.T, given []doc) (remoteobjects.Reader, *projections.Runner) {
	t.Helper()
	env := projectiontest.Open(t)
	remote.Register(env.Registry)
	for i, d := range given {
		ev := received(t, d, i)
		env.Record(remote.ActivityStream(ev.ActivityID+string(rune('a'+i%26))), ev, events.Metadata{OccurredAt: ev.ReceivedAt})
	}
	env.Record(remote.ActorStream(mallory), remote.ActorGone{IRI: mallory, GoneAt: time.Unix(1, 0)}, events.Metadata{})
	r := env.Start(remoteobjects.New())
	return remoteobjects.NewReader(r.DB()), r
}

// want is an expectation on the read model.
type want struct {
	object     string
	missing    bool   // ErrNotFound expected
	typ        string // expected Type ("" = don't check)
	owner      string
	content    string // expected prefix of Content
	name       string
	vis        remoteobjects.Visibility
	deleted    bool
	edited     bool
	likes      int
	announces  int
	byAuthor   string // when set, ByAuthor(byAuthor) must list exactly authored
	authored   []string
	checkCount bool // check likes and announces
}

func check(t *testing.T, rd remoteobjects.Reader, w want) {
	t.Helper()
	ctx := context.Background()
	if w.byAuthor != "" {
		p, err := rd.ByAuthor(ctx, w.byAuthor, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range p.Items {
			ids = append(ids, o.ID)
		}
		if strings.Join(ids, " ") != strings.Join(w.authored, " ") {
			t.Errorf("ByAuthor(%s) = %v, want %v", w.byAuthor, ids, w.authored)
		}
	}
	if w.checkCount {
		l, err := rd.Likes(ctx, w.object)
		if err != nil {
			t.Fatal(err)
		}
		a, err := rd.Announces(ctx, w.object)
		if err != nil {
			t.Fatal(err)
		}
		if l != w.likes || a != w.announces {
			t.Errorf("%s: likes %d announces %d, want %d %d", w.object, l, a, w.likes, w.announces)
		}
		return
	}
	if w.object == "" {
		return
	}
	o, err := rd.Object(ctx, w.object)
	if w.missing {
		if !errors.Is(err, remoteobjects.ErrNotFound) {
			t.Errorf("Object(%s) = %+v, %v; want ErrNotFound", w.object, o, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Object(%s): %v", w.object, err)
	}
	if o.ID != w.object || (w.typ != "" && o.Type != w.typ) || (w.owner != "" && o.AttributedTo != w.owner) ||
		!strings.HasPrefix(o.Content, w.content) || (w.name != "" && o.Name != w.name) ||
		(w.vis != "" && o.Visibility != w.vis) || o.Deleted() != w.deleted || o.EditedAt.IsZero() == w.edited {
		t.Errorf("Object(%s) = %+v\nwant %+v", w.object, o, w)
	}
	if w.deleted && (o.Content != "" || o.Name != "") {
		t.Errorf("deleted %s keeps content %q name %q", w.object, o.Content, o.Name)
	}
}

func TestRemoteObjectsGivenActivities(t *testing.T) {
	note := load(t, "mastodon/create_note.json")
	question := load(t, "mastodon/create_question.json")
	tomb := load(t, "mastodon/delete_tombstone.json")
	undoLike := load(t, "mastodon/undo_like.json")
	announce := load(t, "mastodon/announce.json")
	like := load(t, "misskey/like.json")
	update := load(t, "friendica/update_note.json")
	page := load(t, "lemmy/create_page.json")
	relay := load(t, "lemmy/announce_create_page.json")
	pdelete := load(t, "pleroma/delete.json")
	react := load(t, "pleroma/emoji_react.json")
	dislike := load(t, "friendica/dislike.json")
	article := load(t, "wordpress/article.json")
	video := load(t, "peertube/create_video.json")

	note2 := note.with("id", felixN2+"/activity", "object", note.obj().with("id", felixN2, "inReplyTo", nil))
	vpzomNote := create(vpzomN+"/create", vpzom, note.obj().with("id", vpzomN, "attributedTo", vpzom))
	editedByMallory := update.with("actor", mallory)                                                      // owner's object, forged actor
	takenByMallory := update.with("actor", mallory, "object", update.obj().with("attributedTo", mallory)) // re-attributed
	friendCreate := create(friendN+"/create", heluech, update.obj().with("content", "original", "contentMap", nil, "updated", nil))
	innerLike := undoLike.obj()
	malloryUndo := undoLike.with("actor", mallory)
	malloryUndoIRI := activity("Undo", mallory+"#undo", mallory, announce["id"])

	cases := []struct {
		name  string
		given []doc
		want  []want
	}{
		{"mastodon Create Note: unlisted reply", []doc{note}, []want{
			{object: felixN1, typ: "Note", owner: felix, content: `<p><span class="h-card">`, vis: remoteobjects.Unlisted},
			{byAuthor: felix, authored: []string{felixN1}},
		}},
		{"mastodon Create Question: public", []doc{question}, []want{
			{object: "https://mastodon.sdf.org/users/rinpatch/statuses/102070944809637304", typ: "Question",
				owner: "https://mastodon.sdf.org/users/rinpatch", content: "<p>Why is Tenshi", vis: remoteobjects.Public},
		}},
		{"lemmy Create Page", []doc{page}, []want{
			{object: "http://ds9.lemmy.ml/post/1", typ: "Page", owner: "http://ds9.lemmy.ml/u/lemmy_alpha",
				content: "<p>test body</p>", name: "test post", vis: remoteobjects.Public},
		}},
		{"wordpress Article in a Create by its author", []doc{create(wpID+"#create", wpActor, article)}, []want{
			{object: wpID, typ: "Article", owner: wpActor, name: "An Epic 3D-Printed Fan Expansion for Last Light", vis: remoteobjects.Public},
		}},
		{"Create of someone else's Article is ignored", []doc{create(wpID+"#create", mallory, article)}, []want{
			{object: wpID, missing: true},
			{byAuthor: mallory},
		}},
		{"peertube Video attributed to a person and a channel", []doc{video}, []want{
			{object: video.obj()["id"].(string), typ: "Video", owner: "https://framatube.org/accounts/framasoft", vis: remoteobjects.Public},
		}},
		{"contentMap when content is absent", []doc{create(felixN2+"#c", felix, load(t, "w3c/note-contentmap.json").with("id", felixN2, "attributedTo", felix))}, []want{
			{object: felixN2, content: "A &lt;em&gt;simple", name: "A simple note", vis: remoteobjects.Direct},
		}},
		{"friendica Update of an unknown object from its owner is stored", []doc{update}, []want{
			{object: friendN, typ: "Note", owner: heluech, content: `<span class="h-card">`, vis: remoteobjects.Unlisted, edited: true},
		}},
		{"friendica Update by the owner edits", []doc{friendCreate, update}, []want{
			{object: friendN, content: `<span class="h-card">`, edited: true},
		}},
		{"forged Updates change nothing", []doc{friendCreate, editedByMallory, takenByMallory}, []want{
			{object: friendN, owner: heluech, content: "original"},
			{byAuthor: mallory},
		}},
		{"mastodon Delete Tombstone by the owner", []doc{note, note2, tomb}, []want{
			{object: felixN2, deleted: true},
			{object: felixN1},
			{byAuthor: felix, authored: []string{felixN1}},
		}},
		{"forged Delete changes nothing", []doc{note2, tomb.with("actor", mallory)}, []want{
			{object: felixN2, content: "<p>"},
		}},
		{"Update after Delete does not revive", []doc{friendCreate, activity("Delete", friendN+"#d", heluech, friendN), update}, []want{
			{object: friendN, deleted: true},
		}},
		{"pleroma Delete by IRI", []doc{vpzomNote, pdelete}, []want{
			{object: vpzomN, deleted: true},
		}},
		{"Delete of the actor deletes all its objects", []doc{note, note2, vpzomNote, activity("Delete", felix+"#delete", felix, felix)}, []want{
			{object: felixN1, deleted: true},
			{object: felixN2, deleted: true},
			{object: vpzomN},
			{byAuthor: felix},
			{byAuthor: vpzom, authored: []string{vpzomN}},
		}},
		{"mastodon Announce, re-sent, counts once", []doc{announce, announce}, []want{
			{object: boosted, checkCount: true, announces: 1},
		}},
		{"Undo Announce by id", []doc{announce, activity("Undo", admin+"#undo", admin, announce["id"])}, []want{
			{object: boosted, checkCount: true},
		}},
		{"Undo Announce inline", []doc{announce, activity("Undo", admin+"#undo", admin, map[string]any(announce))}, []want{
			{object: boosted, checkCount: true},
		}},
		{"forged Undo Announce changes nothing", []doc{announce, malloryUndoIRI}, []want{
			{object: boosted, checkCount: true, announces: 1},
		}},
		{"misskey Like and mastodon Undo Like", []doc{like, doc(innerLike), undoLike}, []want{
			{object: likedB, checkCount: true, likes: 1},
			{object: likedA, checkCount: true},
		}},
		{"forged Undo Like changes nothing", []doc{doc(innerLike), malloryUndo}, []want{
			{object: likedA, checkCount: true, likes: 1},
		}},
		{"EmojiReact and Dislike are ignored", []doc{react, dislike}, []want{
			{object: likedA, checkCount: true},
			{object: dislike["object"].(string), checkCount: true},
		}},
		{"lemmy Announce of a Create is a relay, not a boost or a Create", []doc{relay}, []want{
			{object: relay.obj()["id"].(string), checkCount: true},
			{object: "http://enterprise.lemmy.ml/post/7", missing: true},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd, _ := project(t, c.given)
			for _, w := range c.want {
				check(t, rd, w)
			}
		})
	}
}

func TestRemoteObjectsByAuthorPages(t *testing.T) {
	note := load(t, "mastodon/create_note.json")
	var given []doc
	var ids []string
	for i := range 5 {
		id := felixN1 + "-" + string(rune('a'+i))
		given = append(given, note.with("id", id+"/activity", "object", note.obj().with("id", id)))
		ids = append([]string{id}, ids...) // newest first
	}
	rd, _ := project(t, given)
	ctx := context.Background()
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := rd.ByAuthor(ctx, felix, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Items {
			got = append(got, o.ID)
		}
		if p.Next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		cursor = p.Next
	}
	if strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("pages = %v, want %v", got, ids)
	}
	if _, err := rd.ByAuthor(ctx, felix, "x", 2); !errors.Is(err, remoteobjects.ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := rd.ByAuthor(ctx, felix, "", 0); !errors.Is(err, remoteobjects.ErrBadLimit) {
		t.Errorf("bad limit: %v", err)
	}
}

func TestRemoteObjectsRebuildTwiceSameChecksum(t *testing.T) {
	var given []doc
	for _, f := range []string{"mastodon/create_note.json", "mastodon/create_question.json", "lemmy/create_page.json",
		"friendica/update_note.json", "mastodon/announce.json", "misskey/like.json", "mastodon/undo_like.json",
		"mastodon/delete_tombstone.json", "pleroma/delete.json", "peertube/create_video.json"} {
		given = append(given, load(t, f))
	}
	given = append(given, create(wpID+"#create", wpActor, load(t, "wordpress/article.json")))
	rd, r := project(t, given)
	ctx := context.Background()
	before, err := r.Checksum(ctx, remoteobjects.Name)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := rd.Likes(ctx, likedB); err != nil || n != 1 {
		t.Fatalf("Likes = %d, %v", n, err)
	}
	for range 2 {
		if err := r.Rebuild(ctx, remoteobjects.Name); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.WaitSettled(wctx, remoteobjects.Name)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		after, err := r.Checksum(ctx, remoteobjects.Name)
		if err != nil || after != before {
			t.Fatalf("checksum after rebuild %s (%v), before %s", after, err, before)
		}
	}
	if _, err := rd.Object(ctx, wpID); err != nil {
		t.Fatalf("Object after rebuilds: %v", err)
	}
}
