package as2

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixtureDir is shared/fixtures, reached from the repository root as
// ../shared/fixtures.
var fixtureDir = filepath.Join("..", "..", "..", "shared", "fixtures")

// fixtureFiles lists the ActivityStreams fixtures (relative names), skipping
// httpsig/ and the test when the directory is absent.
func fixtureFiles(tb testing.TB) []string {
	tb.Helper()
	if _, err := os.Stat(fixtureDir); err != nil {
		tb.Skipf("shared fixtures not found at %s (expected ../shared/fixtures from the repository root): %v", fixtureDir, err)
	}
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		rel, _ := filepath.Rel(fixtureDir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "httpsig/") {
			continue
		}
		out = append(out, rel)
	}
	sort.Strings(out)
	if len(out) == 0 {
		tb.Fatalf("no fixtures in %s", fixtureDir)
	}
	return out
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, filepath.FromSlash(name)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// notAS2 are the discovery documents among the fixtures: Decode must refuse
// them with ErrNotActivityStreams.
var notAS2 = map[string]bool{"mastodon/webfinger.json": true, "mobilizon/nodeinfo.json": true}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func inline(t *testing.T, what string, r Refs) *Object {
	t.Helper()
	o := r.First().Object
	if o == nil {
		t.Fatalf("%s is not an inline object: %#v", what, r)
	}
	return o
}

func profile(t *testing.T, o *Object) *ActorProfile {
	t.Helper()
	if o.Profile == nil {
		t.Fatalf("%s has no actor profile", o.ID)
	}
	return o.Profile
}

func hasIssue(o *Object, path string, code IssueCode) bool {
	for _, is := range o.Issues {
		if is.Path == path && is.Code == code {
			return true
		}
	}
	return false
}

func tagNames(tags []Tag, typ string) []string {
	var out []string
	for _, t := range tags {
		if t.Type == typ {
			out = append(out, t.Name)
		}
	}
	return out
}

func TestDecodeEveryFixture(t *testing.T) {
	for _, name := range fixtureFiles(t) {
		t.Run(name, func(t *testing.T) {
			raw := readFixture(t, name)
			o, err := Decode(raw)
			if notAS2[name] {
				if !errors.Is(err, ErrNotActivityStreams) {
					t.Fatalf("Decode = %v, want ErrNotActivityStreams", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(o.Raw, raw) {
				t.Error("Raw is not the input")
			}
			if o.Type == "" || len(o.Types) == 0 {
				t.Errorf("no type: %q %q", o.Type, o.Types)
			}
			for _, is := range o.Issues {
				if is.Code == IssueBadValue || is.Code == IssueBadTime {
					t.Errorf("unexpected issue %s", is)
				}
			}
			if _, ok := fixtureChecks[name]; !ok {
				t.Errorf("fixture %s has no entry in fixtureChecks", name)
			}
		})
	}
}

// fixtureChecks asserts specific values extracted from each fixture.
var fixtureChecks = map[string]func(t *testing.T, o *Object){
	"fep-1b12/announce_add.json": func(t *testing.T, o *Object) {
		eq(t, "ID", o.ID, "example.org/a/8")
		if !hasIssue(o, "id", IssueIDNotAbsolute) {
			t.Errorf("non-absolute id not reported: %v", o.Issues)
		}
		if err := o.Validate(); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Validate = %v, want ErrInvalidID", err)
		}
		add := inline(t, "object", o.Object)
		eq(t, "inner type", add.Type, "Add")
		eq(t, "inner actor", add.ActorID(), "https://example.org/picard")
		eq(t, "inner object", add.ObjectID(), "http://example.org/data")
		eq(t, "inner audience", add.Audience, []string{"https://example.org/my-forum"})
		eq(t, "inner target", add.Target.IDs(), []string{"https://example.org/my-forum/moderators"})
	},
	"friendica/create_article.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeCreate)
		eq(t, "To", o.To, []string{"https://ds9.lemmy.ml/c/testcom"})
		eq(t, "CC", o.CC, []string{Public, "https://ds9.lemmy.ml/c/testcom/followers"})
		eq(t, "instrument type", inline(t, "instrument", o.Instrument).Type, TypeService)
		a := inline(t, "object", o.Object)
		eq(t, "inner type", a.Type, TypeArticle)
		eq(t, "Name", a.Name, "From Friendica to Lemmy")
		eq(t, "Content", a.Content, "Hello Lemmy!")
		eq(t, "contentMap languages", a.ContentMap.Languages(), []string{"de"})
		if !strings.Contains(a.ContentIn("de"), "userinfo mention") {
			t.Errorf("ContentIn(de) = %q", a.ContentIn("de"))
		}
		eq(t, "mentions", tagNames(a.Tag, TypeMention), []string{"@testcom@ds9.lemmy.ml"})
		eq(t, "Source", a.Source, &Source{Content: "![url=https://ds9.lemmy.ml/c/testcom]testcom[/url] Hello Lemmy!", MediaType: "text/bbcode"})
		eq(t, "InReplyTo", a.InReplyTo, Refs(nil))
	},
	"friendica/dislike.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, "Dislike")
		eq(t, "Kind", o.Kind, KindActivity)
		eq(t, "object", o.ObjectID(), "https://pirati.ca/objects/ec054ce7-2062-3bfa-8687-ca8313624820")
	},
	"friendica/organization.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeOrganization)
		eq(t, "Kind", o.Kind, KindActor)
		p := profile(t, o)
		eq(t, "preferredUsername", p.PreferredUsername, "informapirata")
		eq(t, "sharedInbox", p.SharedInbox, "https://poliverso.org/inbox")
		eq(t, "discoverable", p.Discoverable, true)
		eq(t, "manuallyApprovesFollowers", p.ManuallyApprovesFollowers, false)
		pv := o.PropertyValues()
		if len(pv) != 2 || pv[0].Name != "Telegram" || pv[0].Value != "http://T.ME/PPINFORMA" {
			t.Errorf("PropertyValues = %#v", pv)
		}
	},
	"friendica/person.json": func(t *testing.T, o *Object) {
		p := profile(t, o)
		eq(t, "manuallyApprovesFollowers", p.ManuallyApprovesFollowers, true)
		eq(t, "publicKey owner", p.PublicKeys[0].Owner, "https://soc.schuerz.at/profile/jakob")
		eq(t, "profile fields", len(o.PropertyValues()), 6)
		eq(t, "icon", o.Icon, []Image{{Type: TypeImage, URL: "https://soc.schuerz.at/photo/profile/jakob.png?ts=1630598950", MediaType: "image/png"}})
	},
	"friendica/update_note.json": func(t *testing.T, o *Object) {
		n := inline(t, "object", o.Object)
		eq(t, "inner type", n.Type, TypeNote)
		eq(t, "Updated", n.Updated, utc("2022-03-24T21:37:34Z"))
		eq(t, "inReplyTo", n.InReplyTo.IDs(), []string{"https://pirati.ca/objects/ec054ce7-2062-3bfa-8687-ca8313624820"})
		eq(t, "ContentIn(de)", n.ContentIn("de"), "This is an edited comment.")
		eq(t, "mentions", tagNames(n.Tag, TypeMention), []string{"@test8@pirati.ca", "@testcom@ds9.lemmy.ml"})
		eq(t, "Summary", n.Summary, "")
	},
	"gancio/application.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeApplication)
		eq(t, "Kind", o.Kind, KindActor)
		eq(t, "attachment", o.Attachment, []Attachment{{Type: TypePropertyValue, Name: "Website",
			Value: "<a href='https://demo.gancio.org'>https://demo.gancio.org</a>"}})
		eq(t, "inbox", profile(t, o).Inbox, "https://demo.gancio.org/federation/u/gancio/inbox")
	},
	"gnusocial/person.json": func(t *testing.T, o *Object) {
		eq(t, "Published", o.Published, utc("2022-02-23T17:20:30Z"))
		eq(t, "Updated", o.Updated, utc("2022-02-25T02:12:48Z"))
		eq(t, "sharedInbox", profile(t, o).SharedInbox, "https://instance.gnusocial.test/inbox.json")
		eq(t, "key id", profile(t, o).PublicKeys[0].ID, "https://instance.gnusocial.test/actor/42#public-key")
	},
	"gotosocial/flag.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeFlag)
		eq(t, "actor", o.ActorID(), "http://localhost:8080/users/localhost:8080")
		eq(t, "objects", o.Object.IDs(), []string{
			"http://fossbros-anonymous.io/users/foss_satan",
			"http://fossbros-anonymous.io/users/foss_satan/statuses/01FVW7JHQFSFK166WWKR8CBA6M"})
		eq(t, "Content", o.Content, "dark souls sucks, please yeet this nerd")
	},
	"gotosocial/move.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeMove)
		eq(t, "Kind", o.Kind, KindActivity)
		eq(t, "object", o.ObjectID(), "https://example.org/users/1happyturtle")
		eq(t, "target", o.Target.IDs(), []string{"https://another-server.com/users/my_new_account_hurray"})
		eq(t, "To (string)", o.To, []string{"https://example.org/users/1happyturtle/followers"})
	},
	"gotosocial/outbox_page.json": func(t *testing.T, o *Object) {
		eq(t, "Kind", o.Kind, KindCollection)
		c := o.Collection
		if c == nil || len(c.Items) != 2 {
			t.Fatalf("Collection = %#v", c)
		}
		eq(t, "partOf", c.PartOf.IDs(), []string{"http://localhost:8080/users/admin/outbox"})
		eq(t, "next", c.Next.IDs(), []string{"http://localhost:8080/users/admin/outbox?page=true&max_id=01F8MH75CBF9JFX4ZAD54N0W0R"})
		first := c.Items[0].Object
		eq(t, "item type", first.Type, TypeCreate)
		eq(t, "item id", c.Items[0].ID, "http://localhost:8080/users/admin/statuses/01F8MHAAY43M6RJ473VQFCVH37/activity#Create")
		eq(t, "item to", first.To, []string{Public})
		eq(t, "item cc", first.CC, []string{"http://localhost:8080/users/admin/followers"})
	},
	"gotosocial/person.json": func(t *testing.T, o *Object) {
		p := profile(t, o)
		eq(t, "discoverable", p.Discoverable, false)
		eq(t, "manuallyApprovesFollowers", p.ManuallyApprovesFollowers, true)
		eq(t, "featured", p.Featured, "http://localhost:8080/users/1happyturtle/collections/featured")
		eq(t, "fields", o.PropertyValues(), []Attachment{
			{Type: TypePropertyValue, Name: "should you follow me?", Value: "maybe!"},
			{Type: TypePropertyValue, Name: "age", Value: "120"}})
		eq(t, "Summary", o.Summary, "<p>i post about things that concern me</p>")
	},
	"kroeg/create_note.json": func(t *testing.T, o *Object) {
		eq(t, "To (string)", o.To, []string{Public})
		n := inline(t, "object", o.Object)
		eq(t, "single tag", n.Tag, []Tag{{Type: TypeHashtag, ID: "https://puckipedia.com/ur33-818k/note/hashtag",
			Name: "#test", Href: "https://puckipedia.com/ur33-818k/note/hashtag"}})
		author := inline(t, "attributedTo", n.AttributedTo)
		eq(t, "author kind", author.Kind, KindActor)
		p := profile(t, author)
		eq(t, "author username", p.PreferredUsername, "puckipedia")
		eq(t, "author key", p.PublicKeys[0].ID, "https://puckipedia.com/#key")
		eq(t, "author updated", author.Updated, utc("2017-12-19T16:56:29.7576707Z"))
		eq(t, "replies", n.Replies.IDs(), []string{"https://puckipedia.com/ur33-818k/note/replies"})
	},
	"lemmy/accept_follow.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeAccept)
		f := inline(t, "object", o.Object)
		eq(t, "follow type", f.Type, TypeFollow)
		eq(t, "follow actor", f.ActorID(), "http://ds9.lemmy.ml/u/lemmy_alpha")
		eq(t, "follow object", f.ObjectID(), "http://enterprise.lemmy.ml/c/main")
	},
	"lemmy/announce_create_page.json": func(t *testing.T, o *Object) {
		eq(t, "actor", o.ActorID(), "http://enterprise.lemmy.ml/c/main")
		eq(t, "CC", o.CC, []string{"http://enterprise.lemmy.ml/c/main/followers"})
		create := inline(t, "object", o.Object)
		eq(t, "create type", create.Type, TypeCreate)
		eq(t, "create actor", create.ActorID(), "http://enterprise.lemmy.ml/u/lemmy_beta")
		page := inline(t, "object.object", create.Object)
		eq(t, "page type", page.Type, TypePage)
		eq(t, "page name", page.Name, "post 4")
		eq(t, "page audience", page.Audience, []string{"http://enterprise.lemmy.ml/u/main"})
		eq(t, "page published", page.Published, utc("2021-11-01T12:11:22.871846Z"))
		if !bytes.Contains(create.Raw, []byte(`"commentsEnabled": true`)) {
			t.Errorf("inner Raw lost vendor fields: %s", create.Raw)
		}
	},
	"lemmy/block.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, "Block")
		eq(t, "target", o.Target.IDs(), []string{"http://enterprise.lemmy.ml/c/main"})
		eq(t, "EndTime", o.EndTime, utc("2021-11-01T12:23:50.151874Z"))
		eq(t, "Summary", o.Summary, "spam post")
		eq(t, "Audience", o.Audience, []string{"http://enterprise.lemmy.ml/u/main"})
	},
	"lemmy/create_page.json": func(t *testing.T, o *Object) {
		eq(t, "Audience", o.Audience, []string{"https://enterprise.lemmy.ml/c/main"})
		p := inline(t, "object", o.Object)
		eq(t, "attachment", p.Attachment, []Attachment{{Type: TypeLink, URL: "https://lemmy.ml/pictrs/image/xl8W7FZfk9.jpg"}})
		eq(t, "source", p.Source, &Source{Content: "test body", MediaType: "text/markdown"})
		eq(t, "to", p.To, []string{"http://enterprise.lemmy.ml/c/main", Public})
	},
	"lemmy/delete_actor.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeDelete)
		eq(t, "object is actor", o.ObjectID(), o.ActorID())
	},
	"lemmy/follow.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeFollow)
		eq(t, "object", o.ObjectID(), "http://enterprise.lemmy.ml/c/main")
		eq(t, "issues", len(o.Issues), 0)
	},
	"lemmy/group.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeGroup)
		eq(t, "Kind", o.Kind, KindActor)
		p := profile(t, o)
		eq(t, "preferredUsername", p.PreferredUsername, "tenforward")
		eq(t, "inbox", p.Inbox, "https://enterprise.lemmy.ml/c/tenforward/inbox")
		eq(t, "followers", p.Followers, "https://enterprise.lemmy.ml/c/tenforward/followers")
		eq(t, "outbox", p.Outbox, "https://enterprise.lemmy.ml/c/tenforward/outbox")
		eq(t, "featured", p.Featured, "https://enterprise.lemmy.ml/c/tenforward//featured")
		eq(t, "sharedInbox", p.SharedInbox, "https://enterprise.lemmy.ml/inbox")
		eq(t, "key", p.PublicKey("https://enterprise.lemmy.ml/c/tenforward#main-key").Owner, "https://enterprise.lemmy.ml/c/tenforward")
		eq(t, "moderators", o.AttributedTo.IDs(), []string{"https://enterprise.lemmy.ml/c/tenforward/moderators"})
		eq(t, "tag", o.Tag, []Tag{{Type: "CommunityPostTag", ID: "https://enterprise.lemmy.ml/c/tenforward/tag/news"}})
		eq(t, "icon", o.Icon[0].URL, "https://enterprise.lemmy.ml/pictrs/image/waqyZwLAy4.webp")
		eq(t, "image", o.Image[0].URL, "https://enterprise.lemmy.ml/pictrs/image/Wt8zoMcCmE.jpg")
	},
	"lemmy/person.json": func(t *testing.T, o *Object) {
		p := profile(t, o)
		eq(t, "preferredUsername", p.PreferredUsername, "picard")
		eq(t, "key owner", p.PublicKeys[0].Owner, "https://enterprise.lemmy.ml/u/picard")
		eq(t, "updated", o.Updated, utc("2021-08-13T00:11:15.94199Z"))
	},
	"lemmy/undo_follow.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeUndo)
		eq(t, "inner", inline(t, "object", o.Object).Type, TypeFollow)
		eq(t, "inner id", o.ObjectID(), "http://ds9.lemmy.ml/activities/follow/dc2f1bc5-f3a0-4daa-a46b-428cbfbd023c")
	},
	"mastodon/announce.json": func(t *testing.T, o *Object) {
		eq(t, "object", o.Object, Refs{IRI("http://mastodon.example.org/@admin/99541947525187367")})
		eq(t, "CC", o.CC, []string{"http://mastodon.example.org/users/admin", "http://mastodon.example.org/users/admin/followers"})
		eq(t, "Published", o.Published, utc("2018-02-17T19:39:15Z"))
	},
	"mastodon/create_note.json": func(t *testing.T, o *Object) {
		eq(t, "actor", o.ActorID(), "https://mastodon.madrid/users/felix")
		eq(t, "To", o.To, []string{"https://mastodon.madrid/users/felix/followers"})
		n := inline(t, "object", o.Object)
		eq(t, "note", n.Type, TypeNote)
		eq(t, "summary null", n.Summary, "")
		eq(t, "contentMap", n.ContentMap.Languages(), []string{"en"})
		eq(t, "inReplyTo", n.InReplyTo.IDs(), []string{"https://mamot.fr/users/retiolus/statuses/107224244380204526"})
		eq(t, "url", n.URL, []Link{{Href: "https://mastodon.madrid/@felix/107224289116410645"}})
		eq(t, "mention", n.Tag, []Tag{{Type: TypeMention, Name: "@retiolus@mamot.fr", Href: "https://mamot.fr/users/retiolus"}})
		eq(t, "attachment", n.Attachment, []Attachment(nil))
		replies := inline(t, "replies", n.Replies)
		eq(t, "replies kind", replies.Kind, KindCollection)
		eq(t, "replies first", inline(t, "first", replies.Collection.First).Type, TypeCollectionPage)
	},
	"mastodon/create_question.json": func(t *testing.T, o *Object) {
		q := inline(t, "object", o.Object)
		eq(t, "type", q.Type, TypeQuestion)
		eq(t, "kind", q.Kind, KindObject)
		eq(t, "endTime", q.EndTime, utc("2019-05-11T09:03:36Z"))
		if q.Question == nil {
			t.Fatal("no Question section")
		}
		eq(t, "options", q.Question, &Question{Options: []QuestionOption{
			{"Dunno", 0}, {"Everyone knows that!", 1}, {"25 char limit is dumb", 0}, {"I can't even fit a funny", 1}}})
		eq(t, "inReplyTo null", q.InReplyTo, Refs(nil))
	},
	"mastodon/delete_tombstone.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeDelete)
		ts := inline(t, "object", o.Object)
		eq(t, "tombstone", ts.Type, TypeTombstone)
		eq(t, "tombstone id", ts.ID, "https://mastodon.madrid/users/felix/statuses/107773559874184870")
		if !bytes.Contains(o.Raw, []byte("RsaSignature2017")) {
			t.Error("LD signature missing from Raw")
		}
	},
	"mastodon/flag.json": func(t *testing.T, o *Object) {
		eq(t, "objects", o.Object.IDs(), []string{"https://example.com/users/1",
			"https://example.com/posts/380590", "https://example.com/posts/380591"})
		eq(t, "To (string)", o.To, []string{"https://example.com/users/1"})
	},
	"mastodon/followers_page.json": func(t *testing.T, o *Object) {
		c := o.Collection
		eq(t, "totalItems", *c.TotalItems, 437)
		eq(t, "items", len(c.Items), 12)
		eq(t, "first item", c.Items[0].ID, "https://testing.uguu.ltd/users/rin")
		eq(t, "next", c.Next.IDs(), []string{"http://localhost:4001/users/masto_closed/followers?page=2"})
	},
	"mastodon/person.json": func(t *testing.T, o *Object) {
		p := profile(t, o)
		eq(t, "featured", p.Featured, "https://social.tcit.fr/users/tcit/collections/featured")
		eq(t, "featuredTags", p.FeaturedTags, "https://social.tcit.fr/users/tcit/collections/tags")
		eq(t, "sharedInbox", p.SharedInbox, "https://social.tcit.fr/inbox")
		eq(t, "discoverable", p.Discoverable, true)
		k := p.PublicKey("https://social.tcit.fr/users/tcit#main-key")
		if k == nil || k.Owner != o.ID || !strings.HasPrefix(k.PEM, "-----BEGIN PUBLIC KEY-----\nMIIB") {
			t.Errorf("publicKey = %#v", k)
		}
		eq(t, "fields", len(o.PropertyValues()), 4)
		eq(t, "field 2", o.PropertyValues()[1], Attachment{Type: TypePropertyValue, Name: "Pronouns", Value: "He/Him"})
		eq(t, "image type", o.Image[0].MediaType, "image/jpeg")
	},
	"mastodon/reject_follow.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeReject)
		eq(t, "follow id", o.ObjectID(), "http://localtesting.pleroma.lol/users/lain#follows/4")
		eq(t, "follow object", inline(t, "object", o.Object).ObjectID(), "http://mastodon.example.org/users/admin")
	},
	"mastodon/undo_like.json": func(t *testing.T, o *Object) {
		like := inline(t, "object", o.Object)
		eq(t, "like", like.Type, TypeLike)
		eq(t, "liked", like.ObjectID(), "http://localtesting.pleroma.lol/objects/eb92579d-3417-42a8-8652-2492c2d4f454")
	},
	"mastodon/update_person.json": func(t *testing.T, o *Object) {
		p := inline(t, "object", o.Object)
		eq(t, "type", p.Type, TypePerson)
		eq(t, "username", profile(t, p).PreferredUsername, "gargron")
		eq(t, "fields", len(p.PropertyValues()), 2)
	},
	"mastodon/webfinger.json": nil,
	"mbin/application.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeApplication)
		p := profile(t, o)
		eq(t, "manuallyApprovesFollowers", p.ManuallyApprovesFollowers, true)
		eq(t, "inbox", p.Inbox, "https://fedia.io/i/inbox")
		if !strings.Contains(p.PublicKeys[0].PEM, "\r\n") {
			t.Error("PEM line breaks lost")
		}
	},
	"misskey/like.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeLike)
		eq(t, "CC", o.CC, []string{"https://testing.pleroma.lol/users/lain"})
		if !bytes.Contains(o.Raw, []byte("_misskey_reaction")) {
			t.Error("vendor field missing from Raw")
		}
	},
	"mitra/create_note.json": func(t *testing.T, o *Object) {
		n := inline(t, "object", o.Object)
		eq(t, "contentMap", n.ContentMap, Map{"da": "<p>Remote post 5</p>"})
		eq(t, "audience", n.Audience, []string{"https://voyager.lemmy.ml/c/pubtest0906"})
		eq(t, "published", n.Published, utc("2026-07-12T19:30:38.521875Z"))
	},
	"mitra/person.json": func(t *testing.T, o *Object) {
		p := profile(t, o)
		eq(t, "multikeys", len(p.AssertionMethods), 2)
		eq(t, "ed25519 key", p.AssertionMethods[1], Multikey{ID: "https://wizard.casa/users/hongminhee#ed25519-key",
			Controller: "https://wizard.casa/users/hongminhee", PublicKeyMultibase: "z6MkweqJajqa5jRAJTBVxxu47oCdB7HzmYbBKN8VGbFJmKkC"})
		eq(t, "legacy key", p.PublicKeys[0].ID, "https://wizard.casa/users/hongminhee#main-key")
	},
	"mobilizon/create_event.json": func(t *testing.T, o *Object) {
		ev := inline(t, "object", o.Object)
		eq(t, "type", ev.Type, TypeEvent)
		eq(t, "startTime", ev.StartTime, utc("2018-02-12T14:08:20Z"))
		place := inline(t, "location", ev.Location)
		eq(t, "place", place.Name, "Locaux de Framasoft")
		eq(t, "address", place.Address, &PostalAddress{StreetAddress: "10 Rue Jangot", PostalCode: "69007",
			AddressLocality: "Lyon", AddressRegion: "Auvergne Rhône Alpes", AddressCountry: "France"})
		eq(t, "links", ev.Attachment[1], Attachment{Type: TypeLink, Name: "Website", MediaType: "text/html", URL: "https://google.com"})
		if ev.Event == nil {
			t.Error("no Event section")
		}
	},
	"mobilizon/event.json": func(t *testing.T, o *Object) {
		eq(t, "startTime", o.StartTime, utc("2022-12-11T19:00:00Z"))
		eq(t, "endTime", o.EndTime, utc("2022-12-11T21:00:00Z"))
		eq(t, "event", o.Event, &Event{Timezone: "Europe/London", JoinMode: "free",
			MaximumAttendeeCapacity: Int(0), ParticipantCount: Int(0), IsOnline: false,
			InLanguage: "en", Status: "CONFIRMED"})
		place := inline(t, "location", o.Location)
		eq(t, "place type", place.Type, TypePlace)
		eq(t, "latitude", *place.Latitude, 50.66881615)
		eq(t, "longitude", *place.Longitude, -3.537739788359949)
		eq(t, "postal code", place.Address.PostalCode, "EX6 7TW")
		eq(t, "hashtags", tagNames(o.Tag, TypeHashtag), []string{"#Dance", "#Caledonian", "#Lesson"})
		eq(t, "banner", o.Attachment[0].Name, "Banner")
		eq(t, "banner type", o.Attachment[0].MediaType, "image/jpeg")
		eq(t, "organizer", o.AttributedTo.IDs(), []string{"https://rendezvous.nomagic.uk/@devon_caledonian_society"})
	},
	"mobilizon/join.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeJoin)
		eq(t, "event", o.ObjectID(), "http://mobilizon.test/events/some-uuid")
	},
	"mobilizon/nodeinfo.json": nil,
	"mobilizon/person.json": func(t *testing.T, o *Object) {
		p := profile(t, o)
		eq(t, "sharedInbox", p.SharedInbox, "https://mobilizon.fr/inbox")
		eq(t, "summary", o.Summary, "")
		if !strings.HasPrefix(p.PublicKeys[0].PEM, "-----BEGIN RSA PUBLIC KEY-----") {
			t.Error("PKCS#1 PEM not kept")
		}
	},
	"owncast/service.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeService)
		eq(t, "Kind", o.Kind, KindActor)
		eq(t, "single attachment", len(o.Attachment), 1)
		eq(t, "attachment name", o.Attachment[0].Name, "Stream")
		eq(t, "published", o.Published, utc("2022-05-22T18:44:57Z"))
		eq(t, "hashtags", tagNames(o.Tag, TypeHashtag), []string{"#owncast", "#streaming"})
	},
	"peertube/announce.json": func(t *testing.T, o *Object) {
		eq(t, "actor", o.ActorID(), "https://tilvids.com/video-channels/thelinuxexperiment_channel")
		eq(t, "object", o.ObjectID(), "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1")
	},
	"peertube/create_video.json": func(t *testing.T, o *Object) {
		v := inline(t, "object", o.Object)
		eq(t, "type", v.Type, TypeVideo)
		eq(t, "html url", v.HTMLURL(), "https://framatube.org/videos/watch/6050732a-8a7a-43d4-a6cd-809525a1d206")
		eq(t, "mp4", v.URL[1].MediaType, "video/mp4")
		eq(t, "mp4 height", v.URL[1].Height, 1080)
	},
	"peertube/video.json": func(t *testing.T, o *Object) {
		eq(t, "url count", len(o.URL), 4)
		eq(t, "watch page", o.URL[0], Link{Type: TypeLink, MediaType: "text/html",
			Href: "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1"})
		eq(t, "hls", o.URL[1].MediaType, "application/x-mpegURL")
		eq(t, "tracker rel", o.URL[3].Rel, []string{"tracker", "websocket"})
		eq(t, "icons", len(o.Icon), 2)
		eq(t, "icon 2 width", o.Icon[1].Width, 850)
		eq(t, "attributedTo", o.AttributedTo.IDs(), []string{"https://tilvids.com/accounts/thelinuxexperiment",
			"https://tilvids.com/video-channels/thelinuxexperiment_channel"})
		eq(t, "channel type", o.AttributedTo[1].Object.Type, TypeGroup)
	},
	"pleroma/delete.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeDelete)
		eq(t, "to", len(o.To), 4)
		eq(t, "cc", o.CC, []string(nil))
		eq(t, "mentions", len(tagNames(o.Tag, TypeMention)), 2)
	},
	"pleroma/emoji_react.json": func(t *testing.T, o *Object) {
		eq(t, "Type", o.Type, TypeEmojiReact)
		eq(t, "Kind", o.Kind, KindActivity)
		eq(t, "AS2", IsAS2Type(o.Type), false)
		eq(t, "Content", o.Content, "👌")
		eq(t, "object", o.ObjectID(), "http://localtesting.pleroma.lol/objects/eb92579d-3417-42a8-8652-2492c2d4f454")
	},
	"pleroma/person.json": func(t *testing.T, o *Object) {
		eq(t, "emoji", tagNames(o.Tag, TypeEmoji), []string{":anarchy:", ":bzh:", ":gentoo:"})
		eq(t, "emoji icon", o.Tag[1].Icon, &Image{Type: TypeImage, URL: "https://queer.hacktivis.me/emoji/custom/mastodon.xyz/bzh.png"})
		eq(t, "emoji updated", o.Tag[0].Updated, utc("1970-01-01T00:00:00Z"))
		eq(t, "alsoKnownAs", profile(t, o).AlsoKnownAs, []string(nil))
	},
	"smithereen/person.json": func(t *testing.T, o *Object) {
		eq(t, "name", o.Name, "Григорий Клюшников")
		eq(t, "icon size", [2]int{o.Icon[0].Width, o.Icon[0].Height}, [2]int{573, 572})
		eq(t, "sharedInbox", profile(t, o).SharedInbox, "https://friends.grishka.me/activitypub/sharedInbox")
	},
	"w3c/leave.json": func(t *testing.T, o *Object) {
		eq(t, "ID", o.ID, "")
		if !hasIssue(o, "id", IssueMissingID) {
			t.Errorf("missing id not reported: %v", o.Issues)
		}
		sally := inline(t, "actor", o.Actor)
		eq(t, "actor id", o.ActorID(), "")
		eq(t, "actor name", sally.Name, "Sally")
		eq(t, "place", inline(t, "object", o.Object).Type, TypePlace)
	},
	"w3c/like.json": func(t *testing.T, o *Object) {
		eq(t, "Types", o.Types, []string{"Like", "http://schema.org/LikeAction"})
		eq(t, "Type", o.Type, TypeLike)
		eq(t, "issues", len(o.Issues), 0)
	},
	"w3c/note-contentmap.json": func(t *testing.T, o *Object) {
		eq(t, "languages", o.ContentMap.Languages(), []string{"en", "es", "zh-Hans"})
		eq(t, "zh", o.ContentIn("zh"), "一段&lt;em&gt;简单的&lt;/em&gt;笔记")
		eq(t, "es", o.ContentIn("es-MX"), "Una nota &lt;em&gt;sencilla&lt;/em&gt;")
		eq(t, "fallback", o.ContentIn("fr"), "A &lt;em&gt;simple&lt;/em&gt; note")
	},
	"w3c/question.json": func(t *testing.T, o *Object) {
		eq(t, "options", o.Question.Options, []QuestionOption{{Name: "arduino"}, {Name: "raspberry pi"}})
		replies := inline(t, "replies", o.Replies)
		eq(t, "replies total", *replies.Collection.TotalItems, 3)
		eq(t, "reply author", replies.Collection.Items[2].Object.AttributedTo.IDs(), []string{"http://john.example.org"})
	},
	"wordpress/announce_update_article.json": func(t *testing.T, o *Object) {
		eq(t, "ID kept byte for byte", o.ID, "https://pfefferle.org/lemmy-part-4/#activity#activity")
		eq(t, "audience", o.Audience, []string{"https://pfefferle.org/@pfefferle.org"})
		upd := inline(t, "object", o.Object)
		eq(t, "update", upd.Type, TypeUpdate)
		art := inline(t, "object.object", upd.Object)
		eq(t, "article", art.Type, TypeArticle)
		eq(t, "article url", art.HTMLURL(), "https://pfefferle.org/lemmy-part-4/")
		eq(t, "contentMap", art.ContentMap.Languages(), []string{"en"})
		eq(t, "cc", art.CC, []string(nil))
	},
	"wordpress/article.json": func(t *testing.T, o *Object) {
		eq(t, "nameMap", o.NameMap, Map{"en": "An Epic 3D-Printed Fan Expansion for Last Light"})
		eq(t, "summaryMap", o.SummaryMap.Languages(), []string{"en"})
		eq(t, "contentMap", o.ContentMap.Languages(), []string{"en"})
		eq(t, "NameIn(de) falls back", o.NameIn("de"), "An Epic 3D-Printed Fan Expansion for Last Light")
		eq(t, "audience", o.Audience, []string{"https://dbzer0.com/?author=0"})
		eq(t, "hashtag", o.Tag[0], Tag{Type: TypeHashtag, Href: "https://dbzer0.com/blog/tag/3d-printing/", Name: "#3DPrinting"})
		eq(t, "image attachment", o.Attachment[0].Type, TypeImage)
		eq(t, "url", o.HTMLURL(), "https://dbzer0.com/blog/an-epic-3d-printed-fan-expansion-for-last-light/")
	},
}

func TestFixtureValues(t *testing.T) {
	files := fixtureFiles(t)
	present := make(map[string]bool, len(files))
	for _, f := range files {
		present[f] = true
	}
	names := make([]string, 0, len(fixtureChecks))
	for name := range fixtureChecks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		check := fixtureChecks[name]
		t.Run(name, func(t *testing.T) {
			if !present[name] {
				t.Fatalf("fixture %s is missing", name)
			}
			if check == nil {
				return // not ActivityStreams; see TestDecodeEveryFixture
			}
			o, err := Decode(readFixture(t, name))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			check(t, o)
		})
	}
}
