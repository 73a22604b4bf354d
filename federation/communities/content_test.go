package communities_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/communities"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/post"
)

const base = "https://hanse.example"

var (
	scheme   = urls.MustNew(base)
	groupIRI = scheme.Actor(actor.KindGroup, "lernen")
	aliceIRI = scheme.Actor(actor.KindPerson, "alice")
)

// fixture reads a shared fixture, replacing each old with new (addressing
// adjusted to the local Group).
func fixture(t testing.TB, name string, replace ...string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../shared/fixtures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(replace); i += 2 {
		b = bytes.ReplaceAll(b, []byte(replace[i]), []byte(replace[i+1]))
	}
	return b
}

// lemmyPage is lemmy/create_page.json posted into the local Group.
func lemmyPage(t testing.TB) []byte {
	return fixture(t, "lemmy/create_page.json", "http://enterprise.lemmy.ml/c/main", groupIRI,
		"https://enterprise.lemmy.ml/c/main", groupIRI)
}

// mastodonNote is mastodon/create_note.json mentioning the local Group
// (cc and a Mention tag, as Mastodon sends a post that mentions a group).
func mastodonNote(t testing.TB) []byte {
	return fixture(t, "mastodon/create_note.json",
		`"https://mamot.fr/users/retiolus"
  ]`, `"https://mamot.fr/users/retiolus", "`+groupIRI+`"
  ]`,
		`"tag": [`, `"tag": [{"type": "Mention", "href": "`+groupIRI+`", "name": "@lernen@hanse.example"},`)
}

func decode(t testing.TB, raw []byte) (act, obj *as2.Object) {
	t.Helper()
	a, err := as2.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return a, a.InlineObject()
}

func TestRemotePostFromFixtures(t *testing.T) {
	t.Run("lemmy page", func(t *testing.T) {
		raw := lemmyPage(t)
		act, obj := decode(t, raw)
		if g := communities.GroupAddressed(scheme, obj, act); g != groupIRI {
			t.Fatalf("group %q", g)
		}
		rp, ok := communities.RemotePost(obj, raw)
		if !ok {
			t.Fatal("not a post")
		}
		if rp.Kind != post.Article || rp.ObjectIRI != "http://ds9.lemmy.ml/post/1" || rp.AuthorIRI != "http://ds9.lemmy.ml/u/lemmy_alpha" ||
			rp.NameMap["ko"] != "test post" || rp.ContentMap["ko"] != "<p>test body</p>" || rp.Activity != string(raw) ||
			len(rp.Attachments) != 1 || rp.Attachments[0].URL != "https://lemmy.ml/pictrs/image/xl8W7FZfk9.jpg" ||
			!rp.PublishedAt.Equal(time.Date(2021, 10, 29, 15, 10, 51, 557399000, time.UTC)) {
			t.Fatalf("remote post = %+v", rp)
		}
		if v := communities.Visibility(obj, act, true); v != post.Public {
			t.Fatalf("visibility %s", v)
		}
	})
	t.Run("mastodon note", func(t *testing.T) {
		raw := mastodonNote(t)
		act, obj := decode(t, raw)
		if g := communities.GroupAddressed(scheme, obj, act); g != groupIRI {
			t.Fatalf("group %q", g)
		}
		rp, ok := communities.RemotePost(obj, raw)
		if !ok {
			t.Fatal("not a post")
		}
		en := rp.ContentMap["en"]
		if rp.Kind != post.Note || rp.NameMap != nil || rp.URL != "https://mastodon.madrid/@felix/107224289116410645" ||
			!strings.Contains(en, `<a href="https://mamot.fr/@retiolus" rel="nofollow">@<span>retiolus</span></a>`) ||
			strings.Contains(en, "class=") || len(rp.Mentions) != 2 || rp.Mentions[1] != "https://mamot.fr/users/retiolus" {
			t.Fatalf("remote post = %+v", rp)
		}
		if v := communities.Visibility(obj, act, true); v != post.Unlisted {
			t.Fatalf("visibility %s", v)
		}
	})
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<p onclick="x()">hi</p><script>alert(1)</script>`, `<p>hi</p>`},
		{`<a href="javascript:alert(1)">x</a>`, `x`},
		{`<a href="https://ok.example/">ok</a>`, `<a href="https://ok.example/" rel="nofollow">ok</a>`},
		{`<iframe src="https://x.example"></iframe><style>p{}</style>text`, `text`},
		{`<img src="https://x.example/a.png" onerror="x()">`, `<img src="https://x.example/a.png">`},
	}
	for _, tt := range tests {
		if got := communities.SanitizeHTML(tt.in); got != tt.want {
			t.Errorf("SanitizeHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := communities.SanitizeText(`<b>Titel</b> & mehr`); got != "Titel &amp; mehr" {
		t.Errorf("SanitizeText = %q", got)
	}
}

func TestVisibilityFromAddressing(t *testing.T) {
	followers := "https://peer.example/users/a/followers"
	tests := []struct {
		name        string
		to, cc      []string
		inCommunity bool
		want        post.Visibility
	}{
		{"public", []string{as2.Public}, nil, false, post.Public},
		{"public short form", []string{"as:Public"}, nil, true, post.Public},
		{"unlisted", []string{followers}, []string{as2.Public}, false, post.Unlisted},
		{"followers", []string{followers}, nil, false, post.Followers},
		{"members of the community", []string{groupIRI + "/followers"}, nil, true, post.Members},
		{"direct", []string{"https://peer.example/users/b"}, nil, false, post.Direct},
	}
	for _, tt := range tests {
		obj := &as2.Object{To: tt.to, CC: tt.cc}
		if got := communities.Visibility(obj, nil, tt.inCommunity); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	// The activity's addressing counts when the object has none.
	if got := communities.Visibility(&as2.Object{}, &as2.Object{To: []string{as2.Public}}, false); got != post.Public {
		t.Errorf("activity addressing: %s", got)
	}
}

func TestGroupAddressed(t *testing.T) {
	other := scheme.Actor(actor.KindPerson, "alice")
	tests := []struct {
		name string
		obj  *as2.Object
		want string
	}{
		{"audience", &as2.Object{Audience: []string{groupIRI}}, groupIRI},
		{"followers collection", &as2.Object{To: []string{groupIRI + "/followers"}}, groupIRI},
		{"mention", &as2.Object{Tag: []as2.Tag{{Type: as2.TypeMention, Href: groupIRI}}}, groupIRI},
		{"a hashtag is no group", &as2.Object{Tag: []as2.Tag{{Type: as2.TypeHashtag, Href: groupIRI}}}, ""},
		{"a person", &as2.Object{CC: []string{other}}, ""},
		{"a remote group", &as2.Object{To: []string{"https://lemmy.example/c/main"}}, ""},
		{"the group's outbox", &as2.Object{To: []string{groupIRI + "/outbox"}}, ""},
	}
	for _, tt := range tests {
		if got := communities.GroupAddressed(scheme, tt.obj, nil); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRemoteGroup(t *testing.T) {
	const remote = "https://lemmy.example/c/main"
	tests := []struct {
		name      string
		obj, act  *as2.Object
		announcer string
		want      string
	}{
		{"addressed to the announcing Group", &as2.Object{To: []string{remote, as2.Public}}, nil, remote, remote},
		{"the announcing Group in cc", &as2.Object{CC: []string{remote}}, nil, remote, remote},
		{"the Create addressed to the Group", &as2.Object{}, &as2.Object{Audience: []string{remote}}, remote, remote},
		{"mentioning the announcing Group", &as2.Object{Tag: []as2.Tag{{Type: as2.TypeMention, Href: remote}}}, nil, remote, remote},
		{"boosted by someone it was not addressed to", &as2.Object{To: []string{as2.Public}}, nil, "https://mastodon.example/users/a", ""},
		{"the post's audience", &as2.Object{Audience: []string{remote}}, nil, "", remote},
		{"the audience wins over a stranger's boost", &as2.Object{Audience: []string{remote}}, nil, "https://mastodon.example/users/a", remote},
		{"two audiences", &as2.Object{Audience: []string{remote, "https://lemmy.example/c/other"}}, nil, "", ""},
		{"public audience", &as2.Object{Audience: []string{as2.Public}}, nil, "", ""},
		{"a followers collection", &as2.Object{Audience: []string{remote + "/followers"}}, nil, "", ""},
		{"a local audience", &as2.Object{Audience: []string{groupIRI}}, nil, "", ""},
		{"no IRI", &as2.Object{Audience: []string{"main"}}, nil, "", ""},
		{"nothing", &as2.Object{To: []string{as2.Public}}, nil, "", ""},
	}
	for _, tt := range tests {
		if got := communities.RemoteGroup(scheme, tt.obj, tt.act, tt.announcer); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
