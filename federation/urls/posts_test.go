package urls

import (
	"testing"

	"github.com/hanse-network/hanse/internal/domain/actor"
)

func TestPostURLs(t *testing.T) {
	s := MustNew("https://hanse.example/sub")
	alice := s.Actor(actor.KindPerson, "alice")
	group := s.Actor(actor.KindGroup, "lernen")
	tests := []struct{ name, got, want string }{
		{"post", PostIRI(alice, "p1"), "https://hanse.example/sub/users/alice/posts/p1"},
		{"create", PostActivityIRI(alice, "p1"), "https://hanse.example/sub/users/alice/posts/p1/activity"},
		{"featured", s.Featured(group), "https://hanse.example/sub/communities/lernen/featured"},
		{"media", s.Media("m 1"), "https://hanse.example/sub/media/m%201"},
		{"tag", s.Tag("#Lernen"), "https://hanse.example/sub/tags/lernen"},
		{"announce", AnnounceIRI(group, "p1", AnnounceCreate, ""), "https://hanse.example/sub/communities/lernen/announces/p1/create"},
		{"update", AnnounceIRI(group, "p1", AnnounceUpdate, "e7"), "https://hanse.example/sub/communities/lernen/announces/p1/update/e7"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestParsePost(t *testing.T) {
	s := MustNew("https://hanse.example/sub")
	tests := []struct {
		in   string
		want Post
		ok   bool
	}{
		{"https://hanse.example/sub/users/alice/posts/p1", Post{Author: Target{Kind: actor.KindPerson, Username: "alice"}, ID: "p1"}, true},
		{"https://hanse.example/sub/users/alice/posts/p1/activity", Post{Author: Target{Kind: actor.KindPerson, Username: "alice"}, ID: "p1", Activity: true}, true},
		{"https://hanse.example/sub/communities/g/posts/p1#x", Post{Author: Target{Kind: actor.KindGroup, Username: "g"}, ID: "p1"}, true},
		{"https://HANSE.example/sub/users/alice/posts/p1", Post{Author: Target{Kind: actor.KindPerson, Username: "alice"}, ID: "p1"}, true},
		{"https://other.example/sub/users/alice/posts/p1", Post{}, false},
		{"http://hanse.example/sub/users/alice/posts/p1", Post{}, false},
		{"https://hanse.example/users/alice/posts/p1", Post{}, false}, // without the base path
		{"https://hanse.example/sub/users/alice/posts/", Post{}, false},
		{"https://hanse.example/sub/users/alice/posts/a/b", Post{}, false},
		{"https://hanse.example/sub/users/alice/notes/p1", Post{}, false},
		{"https://hanse.example/sub/actor/posts/p1", Post{}, false},
		{"https://hanse.example/sub/users/alice/outbox/posts/p1", Post{}, false},
		{"https://hanse.example/sub/posts/p1", Post{}, false},
		{"not a url", Post{}, false},
	}
	for _, tt := range tests {
		got, ok := s.ParsePost(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParsePost(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if id, ok := s.PostID("https://hanse.example/sub/users/alice/posts/p1"); !ok || id != "p1" {
		t.Errorf("PostID = %q, %v", id, ok)
	}
	if _, ok := s.PostID("https://hanse.example/sub/users/alice/posts/p1/activity"); ok {
		t.Error("PostID accepted a Create's IRI")
	}
	// Round trip.
	iri := PostIRI(s.Actor(actor.KindPerson, "bob"), "0190-abc")
	if p, ok := s.ParsePost(iri); !ok || p.ID != "0190-abc" || p.Author.Username != "bob" {
		t.Fatalf("round trip of %s: %+v %v", iri, p, ok)
	}
}

func TestParseAnnounce(t *testing.T) {
	s := MustNew("http://127.0.0.1:8080")
	group := s.Actor(actor.KindGroup, "lernen")
	for _, k := range []AnnounceKind{AnnounceCreate, AnnounceObject, AnnounceDelete, GroupDelete, UndoAnnounceObject} {
		a, ok := s.ParseAnnounce(AnnounceIRI(group, "p1", k, ""))
		if !ok || a != (Announce{GroupIRI: group, PostID: "p1", Kind: k}) {
			t.Errorf("kind %s: %+v %v", k, a, ok)
		}
	}
	if a, ok := s.ParseAnnounce(AnnounceIRI(group, "p1", AnnounceUpdate, "e1")); !ok || a.Tag != "e1" || a.Kind != AnnounceUpdate {
		t.Errorf("update: %+v %v", a, ok)
	}
	for _, bad := range []string{
		group + "/announces/p1",                                     // no kind
		group + "/announces/p1/boost",                               // unknown kind
		group + "/announces/p1/update",                              // update without tag
		group + "/announces/p1/create/x",                            // tag on another kind
		group + "/announces//create",                                // empty post id
		s.Actor(actor.KindPerson, "alice") + "/announces/p1/create", // not a Group
		"http://other.example/communities/lernen/announces/p1/create",
	} {
		if a, ok := s.ParseAnnounce(bad); ok {
			t.Errorf("ParseAnnounce(%q) = %+v, want not ok", bad, a)
		}
	}
}
