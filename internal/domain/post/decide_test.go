package post_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/community"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
)

const (
	bobIRI  = "https://remote.example/users/bob"
	evilIRI = "https://evil.example/users/mallory"
	// groupIRI is a community's Group on another server.
	groupIRI = "https://lemmy.example/c/bees"
)

var plain = personal.Plain{}

// sealed is what personal.Plain makes of c under subject.
func sealed(subject string, c post.Content) personal.Text {
	t, err := personal.SealJSON(plain, subject, c)
	if err != nil {
		panic(err)
	}
	return t
}

// Histories.
var (
	root = post.Published{PostID: "p1", Kind: post.Note, AuthorID: "alice", CommunityID: "c1", RootID: "p1",
		Visibility: post.Public, Languages: []string{"de"}}
	reply = post.Published{PostID: "p2", Kind: post.Note, AuthorID: "bob", CommunityID: "c1", InReplyTo: "p1",
		RootID: "p1", Visibility: post.Public, Languages: []string{"de"}}
	loose = post.Published{PostID: "p3", Kind: post.Note, AuthorID: "alice", RootID: "p3", Visibility: post.Public}
	dm    = post.Published{PostID: "p4", Kind: post.Note, AuthorID: "alice", CommunityID: "c1", RootID: "p4",
		Visibility: post.Direct, Mentions: []string{bobIRI}}
	remoteRoot = post.Published{PostID: "r1", Kind: post.Note, AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/1",
		CommunityID: "c1", RootID: "r1", Visibility: post.Public}
	// inRemoteGroup is a received post of a community on another server.
	inRemoteGroup = post.Published{PostID: "r2", Kind: post.Note, AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/2",
		CommunityIRI: groupIRI, RootID: "r2", Visibility: post.Public}
)

func fold(ps ...any) post.State {
	s, err := post.Fold(ps...)
	if err != nil {
		panic(err)
	}
	return s
}

// newPost is a valid local Note by alice; mod changes it.
func newPost(mod func(*post.NewPost)) post.NewPost {
	in := post.NewPost{ID: "n1", AuthorID: "alice", Kind: post.Note, Visibility: post.Public,
		Texts: post.Texts{ContentMap: map[string]string{"de": "Heute #Imkern mit @bob"}}}
	if mod != nil {
		mod(&in)
	}
	return in
}

func texts(content map[string]string) post.Texts { return post.Texts{ContentMap: content} }

// check compares a decision's outcome with the wanted event, error or
// field error.
func check(t *testing.T, got any, err error, want any, wantErr error, wantField string) {
	t.Helper()
	var fe *post.FieldError
	switch {
	case wantField != "":
		if !errors.As(err, &fe) || fe.Field != wantField {
			t.Fatalf("err = %v, want a FieldError on %s", err, wantField)
		}
	case wantErr != nil:
		if !errors.Is(err, wantErr) {
			t.Fatalf("err = %v, want %v", err, wantErr)
		}
	default:
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		if want != nil && !reflect.DeepEqual(got, want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Fatalf("got  %s\nwant %s", gj, wj)
		}
	}
}

func TestPublish(t *testing.T) {
	lockedRoot := fold(root, post.ThreadLocked{By: "f"})
	long := func(n int) string { return strings.Repeat("ä", n) }
	tests := []struct {
		name      string
		given     []any
		in        post.NewPost
		want      any
		wantErr   error
		wantField string
	}{
		{name: "note with hashtag, sealed under the author", in: newPost(func(in *post.NewPost) {
			in.Mentions = []string{bobIRI, bobIRI}
		}), want: post.Published{PostID: "n1", Kind: post.Note, AuthorID: "alice", RootID: "n1", Visibility: post.Public,
			Languages: []string{"de"}, Hashtags: []string{"imkern"}, Mentions: []string{bobIRI},
			Content: sealed("alice", post.Content{ContentMap: map[string]string{"de": "Heute #Imkern mit @bob"}})}},
		{name: "article with title, summary and two languages", in: newPost(func(in *post.NewPost) {
			in.Kind = post.Article
			in.Texts = post.Texts{ContentMap: map[string]string{"en": "Bees", "de": "Bienen"},
				NameMap: map[string]string{"de": "Titel", "en": " "}, SummaryMap: map[string]string{"und": "kurz"}}
		}), want: post.Published{PostID: "n1", Kind: post.Article, AuthorID: "alice", RootID: "n1", Visibility: post.Public,
			Languages: []string{"de", "en"}, Content: sealed("alice", post.Content{ContentMap: map[string]string{"en": "Bees", "de": "Bienen"},
				NameMap: map[string]string{"de": "Titel"}, SummaryMap: map[string]string{"und": "kurz"}})}},
		{name: "attachments with alt text", in: newPost(func(in *post.NewPost) {
			in.Texts = texts(map[string]string{"und": "x"})
			in.Attachments = []post.Attachment{{MediaID: "m1", MediaType: "image/png", Size: 3}, {MediaID: "m2", MediaType: "image/png"}}
			in.Descriptions = []string{"a hive", ""}
			in.Sensitive = true
		}), want: post.Published{PostID: "n1", Kind: post.Note, AuthorID: "alice", RootID: "n1", Visibility: post.Public,
			Languages: []string{"und"}, Sensitive: true,
			Attachments: []post.Attachment{{MediaID: "m1", MediaType: "image/png", Size: 3}, {MediaID: "m2", MediaType: "image/png"}},
			Content:     sealed("alice", post.Content{ContentMap: map[string]string{"und": "x"}, Descriptions: []string{"a hive"}})}},
		{name: "reply inherits the parent's community and root", given: nil, in: newPost(func(in *post.NewPost) {
			in.Texts = texts(map[string]string{"de": "ja"})
			in.Thread = post.Thread{InReplyTo: "p2", Parent: fold(reply), Root: fold(root)}
		}), want: post.Published{PostID: "n1", Kind: post.Note, AuthorID: "alice", CommunityID: "c1", InReplyTo: "p2",
			RootID: "p1", Visibility: post.Public, Languages: []string{"de"},
			Content: sealed("alice", post.Content{ContentMap: map[string]string{"de": "ja"}})}},
		{name: "members-only community makes it members-only", in: newPost(func(in *post.NewPost) {
			in.Texts = texts(map[string]string{"de": "ja"})
			in.CommunityID, in.CommunityVisibility = "c2", community.Members
		}), want: post.Published{PostID: "n1", Kind: post.Note, AuthorID: "alice", CommunityID: "c2", RootID: "n1",
			Visibility: post.Members, Languages: []string{"de"},
			Content: sealed("alice", post.Content{ContentMap: map[string]string{"de": "ja"}})}},
		{name: "5000 characters", in: newPost(func(in *post.NewPost) { in.Texts = texts(map[string]string{"de": long(5000)}) })},
		{name: "10 languages", in: newPost(func(in *post.NewPost) {
			in.Texts = texts(map[string]string{"de": "a", "en": "a", "fr": "a", "it": "a", "es": "a", "pt": "a", "nl": "a", "da": "a", "sv": "a", "und": "a"})
		})},
		{name: "article of 100,000 characters", in: newPost(func(in *post.NewPost) {
			in.Kind, in.Texts = post.Article, post.Texts{ContentMap: map[string]string{"de": strings.Repeat("a", 100_000)}, NameMap: map[string]string{"de": "T"}}
		})},
		{name: "members visibility in a public community", in: newPost(func(in *post.NewPost) {
			in.CommunityID, in.CommunityVisibility, in.Visibility = "c1", community.Public, post.Members
		})},

		{name: "already published", given: []any{root}, in: newPost(nil), wantErr: post.ErrAlreadyExists},
		{name: "no id", in: newPost(func(in *post.NewPost) { in.ID = "" }), wantField: "id"},
		{name: "remote author", in: newPost(func(in *post.NewPost) { in.AuthorID = bobIRI }), wantField: "author"},
		{name: "bad kind", in: newPost(func(in *post.NewPost) { in.Kind = "Page" }), wantField: "kind"},
		{name: "5001 characters", in: newPost(func(in *post.NewPost) { in.Texts = texts(map[string]string{"de": long(5001)}) }), wantField: "content"},
		{name: "empty content", in: newPost(func(in *post.NewPost) { in.Texts = texts(map[string]string{"de": " \n"}) }), wantField: "content"},
		{name: "no content", in: newPost(func(in *post.NewPost) { in.Texts = post.Texts{} }), wantField: "content"},
		{name: "11 languages", in: newPost(func(in *post.NewPost) {
			in.Texts = texts(map[string]string{"de": "a", "en": "a", "fr": "a", "it": "a", "es": "a", "pt": "a", "nl": "a", "da": "a", "sv": "a", "und": "a", "fi": "a"})
		}), wantField: "content"},
		{name: "bad language", in: newPost(func(in *post.NewPost) { in.Texts = texts(map[string]string{"de_DE": "a"}) }), wantField: "content"},
		{name: "control character", in: newPost(func(in *post.NewPost) { in.Texts = texts(map[string]string{"de": "a\x00"}) }), wantField: "content"},
		{name: "invalid UTF-8", in: newPost(func(in *post.NewPost) { in.Texts = texts(map[string]string{"de": "a\xff"}) }), wantField: "content"},
		{name: "article without title", in: newPost(func(in *post.NewPost) { in.Kind = post.Article }), wantField: "name"},
		{name: "title of 201 characters", in: newPost(func(in *post.NewPost) {
			in.Kind, in.Texts.NameMap = post.Article, map[string]string{"de": long(201)}
		}), wantField: "name"},
		{name: "article of 100,001 characters", in: newPost(func(in *post.NewPost) {
			in.Kind, in.Texts = post.Article, post.Texts{ContentMap: map[string]string{"de": strings.Repeat("a", 100_001)}, NameMap: map[string]string{"de": "T"}}
		}), wantField: "content"},
		{name: "too large altogether", in: newPost(func(in *post.NewPost) {
			in.Kind, in.Texts = post.Article, post.Texts{ContentMap: map[string]string{"de": strings.Repeat("<", 100_000), "en": strings.Repeat("<", 100_000)}, NameMap: map[string]string{"de": "T"}}
		}), wantField: "content"},
		{name: "summary of 501 characters", in: newPost(func(in *post.NewPost) { in.Texts.SummaryMap = map[string]string{"de": long(501)} }), wantField: "summary"},
		{name: "31 hashtags", in: newPost(func(in *post.NewPost) {
			var b strings.Builder
			for i := range 31 {
				b.WriteString(" #t" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
			}
			in.Texts = texts(map[string]string{"de": b.String()})
		}), wantField: "content"},
		{name: "5 attachments", in: newPost(func(in *post.NewPost) { in.Attachments = make([]post.Attachment, 5) }), wantField: "media_ids"},
		{name: "more descriptions than attachments", in: newPost(func(in *post.NewPost) { in.Descriptions = []string{"x"} }), wantField: "descriptions"},
		{name: "mention is not an IRI", in: newPost(func(in *post.NewPost) { in.Mentions = []string{"bob"} }), wantField: "mentions"},
		{name: "bad visibility", in: newPost(func(in *post.NewPost) { in.Visibility = "friends" }), wantField: "visibility"},
		{name: "members without community", in: newPost(func(in *post.NewPost) { in.Visibility = post.Members }), wantField: "visibility"},
		{name: "reply to an unknown post", in: newPost(func(in *post.NewPost) { in.Thread = post.Thread{InReplyTo: "zz"} }), wantField: "in_reply_to"},
		{name: "reply into another community", in: newPost(func(in *post.NewPost) {
			in.CommunityID, in.Thread = "c9", post.Thread{InReplyTo: "p1", Parent: fold(root), Root: fold(root)}
		}), wantField: "community_id"},
		{name: "reply to a deleted post", in: newPost(func(in *post.NewPost) {
			in.Thread = post.Thread{InReplyTo: "p2", Parent: fold(reply, post.Deleted{}), Root: fold(root)}
		}), wantErr: post.ErrParentGone},
		{name: "reply to a removed post", in: newPost(func(in *post.NewPost) {
			in.Thread = post.Thread{InReplyTo: "p1", Parent: fold(root, post.Removed{}), Root: fold(root, post.Removed{})}
		}), wantErr: post.ErrParentGone},
		{name: "reply into a locked thread", in: newPost(func(in *post.NewPost) {
			in.Thread = post.Thread{InReplyTo: "p2", Parent: fold(reply), Root: lockedRoot}
		}), wantErr: post.ErrThreadLocked},
		{name: "reply to a locked root", in: newPost(func(in *post.NewPost) {
			in.Thread = post.Thread{InReplyTo: "p1", Parent: lockedRoot}
		}), wantErr: post.ErrThreadLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := post.Publish(fold(tt.given...), tt.in, plain)
			check(t, got, err, tt.want, tt.wantErr, tt.wantField)
		})
	}
}

func newRemote(mod func(*post.NewRemotePost)) post.NewRemotePost {
	in := post.NewRemotePost{ID: "r9", ObjectIRI: bobIRI + "/notes/9", AuthorIRI: bobIRI, URL: "https://remote.example/@bob/9",
		Kind: post.Note, CommunityID: "c1", Visibility: post.Public,
		Texts:    post.Texts{ContentMap: map[string]string{"en": "<p>Hi</p>"}},
		Hashtags: []string{"#Bees", "bees", "#1"}, Mentions: []string{"https://hanse.example/users/alice"},
		PublishedAt: "2026-05-04T10:00:00Z", Activity: `{"type":"Create"}`}
	if mod != nil {
		mod(&in)
	}
	return in
}

func TestPublishRemote(t *testing.T) {
	tests := []struct {
		name      string
		given     []any
		in        post.NewRemotePost
		want      any
		wantErr   error
		wantField string
	}{
		{name: "into a community, sealed under the author's IRI", in: newRemote(nil),
			want: post.Published{PostID: "r9", Kind: post.Note, AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/9",
				URL: "https://remote.example/@bob/9", CommunityID: "c1", RootID: "r9", Visibility: post.Public,
				Languages: []string{"en"}, Hashtags: []string{"bees"}, Mentions: []string{"https://hanse.example/users/alice"},
				PublishedAt: "2026-05-04T10:00:00Z",
				Content:     sealed(bobIRI, post.Content{ContentMap: map[string]string{"en": "<p>Hi</p>"}, Activity: `{"type":"Create"}`})}},
		{name: "reply to an unknown post starts a thread here", in: newRemote(func(in *post.NewRemotePost) {
			in.CommunityID, in.Thread = "", post.Thread{InReplyTo: "https://elsewhere.example/notes/1"}
		}), want: post.Published{PostID: "r9", Kind: post.Note, AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/9",
			URL: "https://remote.example/@bob/9", InReplyTo: "https://elsewhere.example/notes/1", RootID: "r9",
			Visibility: post.Public, Languages: []string{"en"}, Hashtags: []string{"bees"},
			Mentions: []string{"https://hanse.example/users/alice"}, PublishedAt: "2026-05-04T10:00:00Z",
			Content: sealed(bobIRI, post.Content{ContentMap: map[string]string{"en": "<p>Hi</p>"}, Activity: `{"type":"Create"}`})}},
		{name: "into a remote community", in: newRemote(func(in *post.NewRemotePost) {
			in.CommunityID, in.CommunityIRI = "", groupIRI
		}), want: post.Published{PostID: "r9", Kind: post.Note, AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/9",
			URL: "https://remote.example/@bob/9", CommunityIRI: groupIRI, RootID: "r9", Visibility: post.Public,
			Languages: []string{"en"}, Hashtags: []string{"bees"}, Mentions: []string{"https://hanse.example/users/alice"},
			PublishedAt: "2026-05-04T10:00:00Z",
			Content:     sealed(bobIRI, post.Content{ContentMap: map[string]string{"en": "<p>Hi</p>"}, Activity: `{"type":"Create"}`})}},
		{name: "remote community is not an IRI", in: newRemote(func(in *post.NewRemotePost) {
			in.CommunityID, in.CommunityIRI = "", "bees"
		}), wantField: "audience"},
		{name: "only attachments, surplus dropped", in: newRemote(func(in *post.NewRemotePost) {
			in.Texts = post.Texts{}
			in.Attachments = make([]post.Attachment, 20)
			in.Descriptions = make([]string, 20)
		})},
		{name: "already recorded", given: []any{remoteRoot}, in: newRemote(nil), wantErr: post.ErrAlreadyExists},
		{name: "nothing at all", in: newRemote(func(in *post.NewRemotePost) { in.Texts = post.Texts{} }), wantField: "content"},
		{name: "author is not an IRI", in: newRemote(func(in *post.NewRemotePost) { in.AuthorIRI = "bob" }), wantField: "attributedTo"},
		{name: "object is not an IRI", in: newRemote(func(in *post.NewRemotePost) { in.ObjectIRI = "" }), wantField: "id"},
		{name: "reply into a locked thread", in: newRemote(func(in *post.NewRemotePost) {
			in.Thread = post.Thread{InReplyTo: "p1", Parent: fold(root, post.ThreadLocked{})}
		}), wantErr: post.ErrThreadLocked},
		{name: "reply into another community", in: newRemote(func(in *post.NewRemotePost) {
			in.CommunityID, in.Thread = "c9", post.Thread{InReplyTo: "p1", Parent: fold(root)}
		}), wantField: "community_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := post.PublishRemote(fold(tt.given...), tt.in, plain)
			check(t, got, err, tt.want, tt.wantErr, tt.wantField)
		})
	}
	t.Run("a local community wins over a remote one", func(t *testing.T) {
		got, err := post.PublishRemote(post.State{}, newRemote(func(in *post.NewRemotePost) { in.CommunityIRI = groupIRI }), plain)
		if err != nil || got.CommunityID != "c1" || got.CommunityIRI != "" {
			t.Fatalf("got community %q / %q, %v; want c1 and no remote community", got.CommunityID, got.CommunityIRI, err)
		}
	})
	t.Run("members-only community", func(t *testing.T) {
		got, err := post.PublishRemote(post.State{}, newRemote(func(in *post.NewRemotePost) {
			in.CommunityVisibility = community.Members
		}), plain)
		if err != nil || got.Visibility != post.Members {
			t.Fatalf("got %s, %v; want members", got.Visibility, err)
		}
	})
	t.Run("surplus attachments dropped", func(t *testing.T) {
		got, err := post.PublishRemote(post.State{}, newRemote(func(in *post.NewRemotePost) {
			in.Attachments = make([]post.Attachment, 20)
		}), plain)
		if err != nil || len(got.Attachments) != post.MaxRemoteAttachments {
			t.Fatalf("got %d attachments, %v", len(got.Attachments), err)
		}
	})
}

func TestEdit(t *testing.T) {
	yes := true
	tests := []struct {
		name      string
		given     []any
		by        string
		in        post.Revision
		want      any
		wantErr   error
		wantField string
	}{
		{name: "author edits, hashtags recomputed, mentions and sensitivity kept", given: []any{dm}, by: "alice",
			in: post.Revision{Texts: texts(map[string]string{"en": "now #Wax"})},
			want: post.Edited{Languages: []string{"en"}, Hashtags: []string{"wax"}, Mentions: []string{bobIRI},
				Content: sealed("alice", post.Content{ContentMap: map[string]string{"en": "now #Wax"}})}},
		{name: "author edits mentions and sensitivity", given: []any{root}, by: "alice",
			in: post.Revision{Texts: texts(map[string]string{"en": "x"}), Mentions: []string{evilIRI}, Sensitive: &yes,
				Descriptions: []string{"alt"}},
			want: post.Edited{Languages: []string{"en"}, Mentions: []string{evilIRI}, Sensitive: true,
				Content: sealed("alice", post.Content{ContentMap: map[string]string{"en": "x"}, Descriptions: []string{"alt"}})}},
		{name: "remote author edits", given: []any{remoteRoot}, by: bobIRI,
			in: post.Revision{Texts: texts(map[string]string{"en": "<p>v2</p>"}), Hashtags: []string{"#New"}, Activity: "u"},
			want: post.Edited{Languages: []string{"en"}, Hashtags: []string{"new"},
				Content: sealed(bobIRI, post.Content{ContentMap: map[string]string{"en": "<p>v2</p>"}, Activity: "u"})}},
		{name: "someone else", given: []any{root}, by: "bob", in: post.Revision{Texts: texts(map[string]string{"en": "x"})}, wantErr: post.ErrNotAuthor},
		{name: "another remote actor", given: []any{remoteRoot}, by: evilIRI, in: post.Revision{Texts: texts(map[string]string{"en": "x"})}, wantErr: post.ErrNotAuthor},
		{name: "deleted", given: []any{root, post.Deleted{}}, by: "alice", in: post.Revision{Texts: texts(map[string]string{"en": "x"})}, wantErr: post.ErrDeleted},
		{name: "removed", given: []any{root, post.Removed{}}, by: "alice", in: post.Revision{Texts: texts(map[string]string{"en": "x"})}, wantErr: post.ErrRemoved},
		{name: "unknown", by: "alice", in: post.Revision{Texts: texts(map[string]string{"en": "x"})}, wantErr: post.ErrNotFound},
		{name: "empty text", given: []any{root}, by: "alice", in: post.Revision{}, wantField: "content"},
		{name: "note limit", given: []any{root}, by: "alice", in: post.Revision{Texts: texts(map[string]string{"en": strings.Repeat("x", 5001)})}, wantField: "content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := post.Edit(fold(tt.given...), tt.by, tt.in, plain)
			check(t, got, err, tt.want, tt.wantErr, tt.wantField)
		})
	}
}

// decision is one decision taken on a folded post.
type decision func(post.State) (any, error)

func TestDecisions(t *testing.T) {
	del := func(by string, admin bool) decision {
		return func(s post.State) (any, error) { return post.Delete(s, by, admin) }
	}
	remove := func(reason string) decision {
		return func(s post.State) (any, error) { return post.Remove(s, "fac", reason) }
	}
	removeBy := func(group string) decision {
		return func(s post.State) (any, error) { return post.RemoveByCommunity(s, group) }
	}
	announce := func(s post.State) (any, error) { return post.Announce(s) }
	boost := func(who string) decision {
		return func(s post.State) (any, error) { return post.Boost(s, who, who+"/a1") }
	}
	unboost := func(who string) decision {
		return func(s post.State) (any, error) { return post.Unboost(s, who, who+"/undo/1") }
	}
	lock := func(s post.State) (any, error) { return post.LockThread(s, "fac") }
	unlock := func(s post.State) (any, error) { return post.UnlockThread(s, "fac") }
	pin := func(s post.State) (any, error) { return post.Pin(s, "fac") }
	unpin := func(s post.State) (any, error) { return post.Unpin(s, "fac") }
	tests := []struct {
		name      string
		given     []any
		when      decision
		want      any
		wantErr   error
		wantField string
	}{
		{"author deletes", []any{root}, del("alice", false), post.Deleted{By: "alice"}, nil, ""},
		{"admin deletes", []any{root}, del("admin", true), post.Deleted{By: "admin"}, nil, ""},
		{"remote author deletes", []any{remoteRoot}, del(bobIRI, false), post.Deleted{By: bobIRI}, nil, ""},
		{"author deletes a removed post", []any{root, post.Removed{}}, del("alice", false), post.Deleted{By: "alice"}, nil, ""},
		{"someone else deletes", []any{root}, del("bob", false), nil, post.ErrNotAuthor, ""},
		{"another server deletes", []any{remoteRoot}, del(evilIRI, false), nil, post.ErrNotAuthor, ""},
		{"delete twice", []any{root, post.Deleted{}}, del("alice", false), nil, post.ErrDeleted, ""},
		{"delete unknown", nil, del("alice", false), nil, post.ErrNotFound, ""},

		{"facilitator removes", []any{reply}, remove(" spam "), post.Removed{CommunityID: "c1", By: "fac", Reason: "spam"}, nil, ""},
		{"remove outside a community", []any{loose}, remove(""), nil, post.ErrNotInCommunity, ""},
		{"remove twice", []any{root, post.Removed{}}, remove(""), nil, post.ErrRemoved, ""},
		{"remove deleted", []any{root, post.Deleted{}}, remove(""), nil, post.ErrDeleted, ""},
		{"reason too long", []any{root}, remove(strings.Repeat("x", 501)), nil, nil, "reason"},

		{"remote community removes its post", []any{inRemoteGroup}, removeBy(groupIRI), post.Removed{By: groupIRI}, nil, ""},
		{"another group removes", []any{inRemoteGroup}, removeBy(evilIRI), nil, post.ErrNotInCommunity, ""},
		{"remote group removes a post of no remote community", []any{remoteRoot}, removeBy(groupIRI), nil, post.ErrNotInCommunity, ""},
		{"remote group removes a local post", []any{loose}, removeBy(groupIRI), nil, post.ErrNotInCommunity, ""},
		{"remote community removes twice", []any{inRemoteGroup, post.Removed{By: groupIRI}}, removeBy(groupIRI), nil, post.ErrRemoved, ""},
		{"remote community removes a deleted post", []any{inRemoteGroup, post.Deleted{}}, removeBy(groupIRI), nil, post.ErrDeleted, ""},
		{"remote community removes an unknown post", nil, removeBy(groupIRI), nil, post.ErrNotFound, ""},

		{"announce", []any{reply}, announce, post.Announced{CommunityID: "c1"}, nil, ""},
		{"announce remote member's post", []any{remoteRoot}, announce, post.Announced{CommunityID: "c1"}, nil, ""},
		{"announce twice", []any{root, post.Announced{CommunityID: "c1"}}, announce, nil, post.ErrAlreadyAnnounced, ""},
		{"announce outside a community", []any{loose}, announce, nil, post.ErrNotInCommunity, ""},
		{"announce a direct post", []any{dm}, announce, nil, post.ErrNotShareable, ""},
		{"announce a removed post", []any{root, post.Removed{}}, announce, nil, post.ErrRemoved, ""},

		{"boost", []any{root}, boost(bobIRI), post.Boosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/a1"}, nil, ""},
		{"second booster", []any{root, post.Boosted{BoosterIRI: bobIRI}}, boost(evilIRI), post.Boosted{BoosterIRI: evilIRI, ActivityID: evilIRI + "/a1"}, nil, ""},
		{"boost twice", []any{root, post.Boosted{BoosterIRI: bobIRI}}, boost(bobIRI), nil, post.ErrAlreadyBoosted, ""},
		{"boost a direct post", []any{dm}, boost(bobIRI), nil, post.ErrNotShareable, ""},
		{"boost a deleted post", []any{root, post.Deleted{}}, boost(bobIRI), nil, post.ErrDeleted, ""},
		{"booster not an IRI", []any{root}, boost("bob"), nil, nil, "actor"},
		{"boost again after withdrawing", []any{root, post.Boosted{BoosterIRI: bobIRI}, post.Unboosted{BoosterIRI: bobIRI}}, boost(bobIRI),
			post.Boosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/a1"}, nil, ""},

		{"booster withdraws its boost", []any{root, post.Boosted{BoosterIRI: bobIRI}}, unboost(bobIRI),
			post.Unboosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/undo/1"}, nil, ""},
		{"one of two boosters withdraws", []any{root, post.Boosted{BoosterIRI: bobIRI}, post.Boosted{BoosterIRI: evilIRI}}, unboost(evilIRI),
			post.Unboosted{BoosterIRI: evilIRI, ActivityID: evilIRI + "/undo/1"}, nil, ""},
		{"withdraw twice", []any{root, post.Boosted{BoosterIRI: bobIRI}, post.Unboosted{BoosterIRI: bobIRI}}, unboost(bobIRI),
			nil, post.ErrNotBoosted, ""},
		{"someone who never boosted withdraws", []any{root, post.Boosted{BoosterIRI: bobIRI}}, unboost(evilIRI), nil, post.ErrNotBoosted, ""},
		{"withdraw from a post nobody boosted", []any{remoteRoot}, unboost(bobIRI), nil, post.ErrNotBoosted, ""},
		{"withdraw from a deleted post", []any{root, post.Boosted{BoosterIRI: bobIRI}, post.Deleted{}}, unboost(bobIRI), nil, post.ErrDeleted, ""},
		{"withdraw from a removed post", []any{root, post.Boosted{BoosterIRI: bobIRI}, post.Removed{}}, unboost(bobIRI), nil, post.ErrRemoved, ""},
		{"withdraw from an unknown post", nil, unboost(bobIRI), nil, post.ErrNotFound, ""},
		{"withdrawing booster not an IRI", []any{root, post.Boosted{BoosterIRI: bobIRI}}, unboost("bob"), nil, nil, "actor"},

		{"lock", []any{root}, lock, post.ThreadLocked{By: "fac"}, nil, ""},
		{"lock twice", []any{root, post.ThreadLocked{}}, lock, nil, post.ErrAlreadyLocked, ""},
		{"lock a reply", []any{reply}, lock, nil, post.ErrNotRoot, ""},
		{"lock outside a community", []any{loose}, lock, nil, post.ErrNotInCommunity, ""},
		{"lock unknown", nil, lock, nil, post.ErrNotFound, ""},
		{"unlock", []any{root, post.ThreadLocked{}}, unlock, post.ThreadUnlocked{By: "fac"}, nil, ""},
		{"unlock an open thread", []any{root, post.ThreadLocked{}, post.ThreadUnlocked{}}, unlock, nil, post.ErrNotLocked, ""},

		{"pin", []any{root}, pin, post.Pinned{CommunityID: "c1", By: "fac"}, nil, ""},
		{"pin twice", []any{root, post.Pinned{}}, pin, nil, post.ErrAlreadyPinned, ""},
		{"pin a reply", []any{reply}, pin, nil, post.ErrNotRoot, ""},
		{"pin outside a community", []any{loose}, pin, nil, post.ErrNotInCommunity, ""},
		{"pin a deleted post", []any{root, post.Deleted{}}, pin, nil, post.ErrDeleted, ""},
		{"unpin", []any{root, post.Pinned{}}, unpin, post.Unpinned{CommunityID: "c1", By: "fac"}, nil, ""},
		{"unpin what is not pinned", []any{root, post.Pinned{}, post.Unpinned{}}, unpin, nil, post.ErrNotPinned, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.when(fold(tt.given...))
			check(t, got, err, tt.want, tt.wantErr, tt.wantField)
		})
	}
}

func TestLikes(t *testing.T) {
	like := post.Liked{PostID: "p1", Liker: "bob"}
	foldLike := func(ps ...any) post.LikeState {
		s, err := post.FoldLike(ps...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		post    []any
		likes   []any
		like    bool
		want    any
		wantErr error
	}{
		{"like", []any{root}, nil, true, like, nil},
		{"like again after undo", []any{root}, []any{like, post.LikeUndone{PostID: "p1", Liker: "bob"}}, true, like, nil},
		{"like twice", []any{root}, []any{like}, true, nil, post.ErrAlreadyLiked},
		{"like a deleted post", []any{root, post.Deleted{}}, nil, true, nil, post.ErrDeleted},
		{"like an unknown post", nil, nil, true, nil, post.ErrNotFound},
		{"unlike", []any{root}, []any{like}, false, post.LikeUndone{PostID: "p1", Liker: "bob"}, nil},
		{"unlike a deleted post", []any{root, post.Deleted{}}, []any{like}, false, post.LikeUndone{PostID: "p1", Liker: "bob"}, nil},
		{"unlike what is not liked", []any{root}, nil, false, nil, post.ErrNotLiked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			var err error
			if tt.like {
				got, err = post.Like(fold(tt.post...), foldLike(tt.likes...), "bob", "")
			} else {
				got, err = post.Unlike(foldLike(tt.likes...), "p1", "bob")
			}
			check(t, got, err, tt.want, tt.wantErr, "")
		})
	}
}

func TestFoldState(t *testing.T) {
	s := fold(root, post.ThreadLocked{}, post.Pinned{}, post.Boosted{BoosterIRI: evilIRI}, post.Boosted{BoosterIRI: bobIRI},
		post.Unboosted{BoosterIRI: evilIRI}, post.Announced{},
		post.Edited{Mentions: []string{bobIRI}, Sensitive: true}, post.ThreadUnlocked{})
	want := post.State{Exists: true, ID: "p1", Kind: post.Note, AuthorID: "alice", CommunityID: "c1", RootID: "p1",
		Visibility: post.Public, Mentions: []string{bobIRI}, Sensitive: true, Announced: true, Pinned: true,
		Boosters: []string{bobIRI}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("state = %+v\nwant    %+v", s, want)
	}
	if s.Author() != "alice" || fold(remoteRoot).Author() != bobIRI || !s.IsRoot() || fold(reply).IsRoot() {
		t.Fatal("Author/IsRoot wrong")
	}
	for _, ps := range [][]any{{post.Deleted{}}, {root, root}, {"x"}, {root, post.Liked{}}} {
		if _, err := post.Fold(ps...); err == nil {
			t.Errorf("Fold(%v) succeeded", ps)
		}
	}
}
