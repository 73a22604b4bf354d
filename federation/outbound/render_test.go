package outbound_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections/actors"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the renderer's output")

const (
	groupIRI = "https://hanse.example/communities/lernen"
	carolIRI = "https://peer.example/users/carol"
	bobIRI   = "https://hanse.example/users/bob"
)

var at = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

// lemmyCreate is lemmy/create_page.json addressed to the local Group.
func lemmyCreate(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../shared/fixtures/lemmy/create_page.json")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("http://enterprise.lemmy.ml/c/main"), []byte(groupIRI)),
		[]byte("https://enterprise.lemmy.ml/c/main"), []byte(groupIRI))
}

func notePost() outbound.PostData {
	return outbound.PostData{ID: "p1", Kind: post.Note, AuthorIRI: aliceIRI, GroupIRI: groupIRI,
		InReplyTo: "https://peer.example/objects/9", Visibility: post.Public, Languages: []string{"de", "en"},
		Content: post.Content{ContentMap: map[string]string{"de": "Hallo <Welt> #Lernen", "en": "Hello\n\nworld"},
			SummaryMap: map[string]string{"de": "Achtung"}, Descriptions: []string{"ein Baum"}},
		Hashtags: []string{"lernen"}, Mentions: []string{carolIRI, bobIRI},
		Attachments: []post.Attachment{{MediaID: "m1", MediaType: "image/png", Size: 10}, {URL: "https://cdn.example/x.mp4", MediaType: "video/mp4"}},
		Sensitive:   true, Published: at}
}

func articlePost() outbound.PostData {
	return outbound.PostData{ID: "p2", Kind: post.Article, AuthorIRI: aliceIRI, GroupIRI: groupIRI, Visibility: post.Members,
		Languages: []string{"und"}, Content: post.Content{ContentMap: map[string]string{"und": "Lang und breit."},
			NameMap: map[string]string{"und": "Ein Titel"}}, Published: at, Updated: at.Add(time.Hour)}
}

func goldenCases(t testing.TB) []struct {
	name string
	obj  *as2.Object
} {
	note, article := notePost(), articlePost()
	g := outbound.GroupActivity{GroupIRI: groupIRI, PostID: "p1", ObjectIRI: note.IRI(), Visibility: post.Public, At: at}
	remote, err := as2.Decode(lemmyCreate(t))
	if err != nil {
		t.Fatal(err)
	}
	rg := outbound.GroupActivity{GroupIRI: groupIRI, PostID: "r1", ObjectIRI: "http://ds9.lemmy.ml/post/1",
		Visibility: post.Public, At: at}
	like := outbound.Like(bobIRI, "http://ds9.lemmy.ml/post/1", "http://ds9.lemmy.ml/u/lemmy_alpha", "e1")
	del := outbound.DeletePost(note, at)
	return []struct {
		name string
		obj  *as2.Object
	}{
		{"create_note", outbound.CreatePost(scheme, note)},
		{"create_article_members", outbound.CreatePost(scheme, article)},
		{"update_article", outbound.UpdatePost(scheme, article, "e7")},
		{"delete_post", del},
		{"group_announce_create", outbound.AnnounceActivity(g, urls.AnnounceCreate, "", as2.Embed(outbound.CreatePost(scheme, note)))},
		{"group_announce_note", outbound.AnnouncePost(g, as2.Embed(outbound.PostObject(scheme, note)))},
		{"group_announce_remote_create", outbound.AnnounceActivity(rg, urls.AnnounceCreate, "", as2.Verbatim(remote))},
		{"group_announce_remote_page", outbound.AnnouncePost(rg, as2.Verbatim(remote.InlineObject()))},
		{"group_announce_delete", outbound.AnnounceActivity(g, urls.AnnounceDelete, "", as2.Embed(del))},
		{"group_announce_removal", outbound.AnnounceActivity(rg, urls.AnnounceDelete, "", as2.Embed(outbound.GroupDeletePost(rg)))},
		{"group_undo_announce", outbound.UndoAnnouncePost(g)},
		{"like", like},
		{"undo_like", outbound.UndoLike(like)},
		{"delete_actor", outbound.DeleteActor(aliceIRI)},
		{"update_group", outbound.UpdateActor(actorpub.ActorDocument(scheme, actors.Actor{ID: "g1", Kind: actor.KindGroup,
			Username: "lernen", Name: "Lernen in Bremen", Summary: "Wir lernen.\n\nZusammen <online> & vor Ort.",
			ManuallyApprovesFollowers: true, Discoverable: true, PublicKeyPEM: testPEM(t), KeyGeneration: 2, CreatedAt: at}), "e8")},
		{"update_person", outbound.UpdateActor(actorpub.ActorDocument(scheme, actors.Actor{ID: "a1", Kind: actor.KindPerson,
			Username: "alice", Name: "Alice Müller", PublicKeyPEM: testPEM(t), KeyGeneration: 1, CreatedAt: at}), "e9")},
	}
}

// testPEM is a fixed RSA-2048 public key (golden files depend on it).
func testPEM(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/public.pem")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func indent(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b, err := as2.Encode(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			got := indent(t, b)
			path := filepath.Join("testdata", tc.name+".json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestRenderGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the output (go test -run TestRenderGolden -update after checking):\n%s", path, got)
			}
		})
	}
}

// TestRenderedDecode: every rendered activity decodes with as2 without
// issues, valid, with its id, type and actor.
func TestRenderedDecode(t *testing.T) {
	for _, tc := range goldenCases(t) {
		b, err := as2.Encode(tc.obj)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d, err := as2.Decode(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", tc.name, err)
		}
		if err := d.Validate(); err != nil || len(d.Issues) > 0 {
			t.Errorf("%s: validate %v, issues %v", tc.name, err, d.Issues)
		}
		if d.ID != tc.obj.ID || d.Type != tc.obj.Type || d.ActorID() != tc.obj.ActorID() {
			t.Errorf("%s: decoded %s %s by %s", tc.name, d.Type, d.ID, d.ActorID())
		}
	}
}

func TestRenderConventions(t *testing.T) {
	doc := func(o *as2.Object) map[string]any {
		b, err := as2.Encode(o)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	note := doc(outbound.PostObject(scheme, notePost()))
	tests := []struct {
		name string
		ok   bool
	}{
		{"content is the first language, escaped", note["content"] == "<p>Hallo &lt;Welt&gt; #Lernen</p>"},
		{"contentMap per language", note["contentMap"].(map[string]any)["en"] == "<p>Hello</p><p>world</p>"},
		{"summary is the content warning", note["summary"] == "Achtung" && note["sensitive"] == true},
		{"audience is the group", note["audience"] == groupIRI},
		{"public: to Public", note["to"].([]any)[0] == as2.Public},
		{"cc followers, group, mentions", len(note["cc"].([]any)) == 4 && note["cc"].([]any)[1] == groupIRI},
		{"url is readable", note["url"] == aliceIRI+"/posts/p1"},
		{"hashtag links to the tag page", strings.Contains(toJSON(note["tag"]), `"href":"https://hanse.example/tags/lernen"`)},
		{"local mention named by handle", strings.Contains(toJSON(note["tag"]), `"name":"@bob@hanse.example"`)},
		{"media URL and alt text", strings.Contains(toJSON(note["attachment"]), `"url":"https://hanse.example/media/m1"`) &&
			strings.Contains(toJSON(note["attachment"]), `"name":"ein Baum"`)},
		{"no und in maps", !strings.Contains(toJSON(doc(outbound.PostObject(scheme, articlePost()))), `"und"`)},
		{"article has name and content", doc(outbound.PostObject(scheme, articlePost()))["name"] == "Ein Titel"},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: %v", tt.name, note)
		}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAddressingTable(t *testing.T) {
	d := notePost()
	d.Mentions = []string{carolIRI}
	followers, groupFollowers := aliceIRI+"/followers", groupIRI+"/followers"
	tests := []struct {
		v      post.Visibility
		to, cc []string
	}{
		{post.Public, []string{as2.Public}, []string{followers, groupIRI, carolIRI}},
		{post.Unlisted, []string{followers, groupIRI}, []string{as2.Public, carolIRI}},
		{post.Followers, []string{followers}, []string{carolIRI}},
		{post.Members, []string{groupFollowers}, []string{carolIRI}},
		{post.Direct, []string{carolIRI}, nil},
	}
	for _, tt := range tests {
		d.Visibility = tt.v
		to, cc := outbound.PostAddressing(d)
		if toJSON(to) != toJSON(tt.to) || toJSON(cc) != toJSON(tt.cc) {
			t.Errorf("%s: to %v cc %v, want %v %v", tt.v, to, cc, tt.to, tt.cc)
		}
	}
	for _, tt := range []struct {
		v      post.Visibility
		to, cc []string
	}{
		{post.Public, []string{as2.Public}, []string{groupFollowers}},
		{post.Unlisted, []string{groupFollowers}, []string{as2.Public}},
		{post.Members, []string{groupFollowers}, nil},
	} {
		to, cc := outbound.GroupAddressing(tt.v, groupIRI)
		if toJSON(to) != toJSON(tt.to) || toJSON(cc) != toJSON(tt.cc) {
			t.Errorf("group %s: to %v cc %v", tt.v, to, cc)
		}
	}
}

func TestVerbatimAnnounceKeepsBytes(t *testing.T) {
	raw := lemmyCreate(t)
	remote, err := as2.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	g := outbound.GroupActivity{GroupIRI: groupIRI, PostID: "r1", ObjectIRI: "http://ds9.lemmy.ml/post/1", Visibility: post.Public, At: at}
	b, err := as2.Encode(outbound.AnnounceActivity(g, urls.AnnounceCreate, "", as2.Verbatim(remote)))
	if err != nil {
		t.Fatal(err)
	}
	// The encoder compacts white space; members, order and values stay.
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, compact.Bytes()) {
		t.Fatalf("the Create is not embedded unmodified:\n%s", b)
	}
}
