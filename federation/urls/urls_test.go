package urls

import (
	"errors"
	"testing"

	"github.com/hanse-network/hanse/internal/domain/actor"
)

func TestNew(t *testing.T) {
	tests := []struct {
		in, base, host string
	}{
		{"https://hanse.example", "https://hanse.example", "hanse.example"},
		{"https://hanse.example/", "https://hanse.example", "hanse.example"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080"},
		{"https://Hanse.Example:443", "https://hanse.example:443", "hanse.example"},
		{"http://localhost:80", "http://localhost:80", "localhost"},
		{"https://hanse.example:8443/sub/", "https://hanse.example:8443/sub", "hanse.example:8443"},
		{"http://[::1]:3000", "http://[::1]:3000", "[::1]:3000"},
		{"https://bücher.example", "https://b%C3%BCcher.example", "xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		s, err := New(tt.in)
		if err != nil {
			t.Errorf("New(%q): %v", tt.in, err)
			continue
		}
		if s.Base() != tt.base || s.Host() != tt.host {
			t.Errorf("New(%q) = base %q host %q, want %q %q", tt.in, s.Base(), s.Host(), tt.base, tt.host)
		}
	}
	for _, bad := range []string{"", "hanse.example", "ftp://hanse.example", "https://", "https://u:p@hanse.example",
		"https://hanse.example?x=1", "https://hanse.example#f", "https://hanse.example?", "mailto:a@b", "https://a b.example",
		"https://hanse.example:99999"} {
		if _, err := New(bad); !errors.Is(err, ErrInvalidBase) {
			t.Errorf("New(%q) = %v, want ErrInvalidBase", bad, err)
		}
	}
}

func TestIRIs(t *testing.T) {
	s := MustNew("http://127.0.0.1:8080")
	tests := []struct{ name, got, want string }{
		{"person", s.Actor(actor.KindPerson, "alice"), "http://127.0.0.1:8080/users/alice"},
		{"group", s.Actor(actor.KindGroup, "lernen"), "http://127.0.0.1:8080/communities/lernen"},
		{"organization", s.Actor(actor.KindOrganization, "vhs"), "http://127.0.0.1:8080/organizations/vhs"},
		{"instance", s.Actor(actor.KindApplication, "ignored"), "http://127.0.0.1:8080/actor"},
		{"instance2", s.InstanceActor(), "http://127.0.0.1:8080/actor"},
		{"unknown kind", s.Actor("Service", "x"), ""},
		{"escaped", s.Actor(actor.KindPerson, "a b"), "http://127.0.0.1:8080/users/a%20b"},
		{"inbox", s.Collection(s.Actor(actor.KindPerson, "alice"), Inbox), "http://127.0.0.1:8080/users/alice/inbox"},
		{"featured", s.Collection(s.InstanceActor(), Featured), "http://127.0.0.1:8080/actor/featured"},
		{"shared inbox", s.SharedInbox(), "http://127.0.0.1:8080/inbox"},
		{"profile", s.Profile("alice"), "http://127.0.0.1:8080/@alice"},
		{"key 1", KeyID("http://127.0.0.1:8080/users/alice", 1), "http://127.0.0.1:8080/users/alice#main-key"},
		{"key 0", KeyID("http://127.0.0.1:8080/users/alice", 0), "http://127.0.0.1:8080/users/alice#main-key"},
		{"key 3", KeyID("http://127.0.0.1:8080/users/alice", 3), "http://127.0.0.1:8080/users/alice#key-3"},
		{"handle", s.Handle("alice"), "alice@127.0.0.1:8080"},
		{"acct", s.Acct("jürgen"), "acct:j%C3%BCrgen@127.0.0.1:8080"},
		{"template", s.WebFingerTemplate(), "http://127.0.0.1:8080/.well-known/webfinger?resource={uri}"},
		{"nodeinfo", s.URL(NodeInfo21Path), "http://127.0.0.1:8080/nodeinfo/2.1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if h := MustNew("https://hanse.example:443").Handle("bob"); h != "bob@hanse.example" {
		t.Errorf("default port kept in handle: %q", h)
	}
}

func TestParse(t *testing.T) {
	s := MustNew("https://hanse.example")
	tests := []struct {
		in   string
		want Target
		ok   bool
	}{
		{"https://hanse.example/users/alice", Target{Kind: actor.KindPerson, Username: "alice"}, true},
		{"https://HANSE.example:443/users/alice/", Target{Kind: actor.KindPerson, Username: "alice"}, true},
		{"https://hanse.example/users/alice#main-key", Target{Kind: actor.KindPerson, Username: "alice"}, true},
		{"https://hanse.example/communities/lernen/followers", Target{Kind: actor.KindGroup, Username: "lernen", Collection: Followers}, true},
		{"https://hanse.example/organizations/vhs/outbox?page=true", Target{Kind: actor.KindOrganization, Username: "vhs", Collection: Outbox}, true},
		{"https://hanse.example/actor", Target{Kind: actor.KindApplication}, true},
		{"https://hanse.example/actor/inbox", Target{Kind: actor.KindApplication, Collection: Inbox}, true},
		{"https://hanse.example/@alice", Target{Username: "alice", Profile: true}, true},
		{"https://hanse.example/users/a%20b", Target{Kind: actor.KindPerson, Username: "a b"}, true},
		{"http://hanse.example/users/alice", Target{}, false},
		{"https://other.example/users/alice", Target{}, false},
		{"https://hanse.example:8443/users/alice", Target{}, false},
		{"https://hanse.example/users/", Target{}, false},
		{"https://hanse.example/users", Target{}, false},
		{"https://hanse.example/users/alice/likes", Target{}, false},
		{"https://hanse.example/users/alice/inbox/x", Target{}, false},
		{"https://hanse.example/actor/x", Target{}, false},
		{"https://hanse.example/@", Target{}, false},
		{"https://hanse.example/@alice@other.example", Target{}, false},
		{"https://hanse.example/@alice/x", Target{}, false},
		{"https://hanse.example/", Target{}, false},
		{"/users/alice", Target{}, false},
		{"acct:alice@hanse.example", Target{}, false},
		{"https://hanse.example/users/%00", Target{}, false},
		{"%", Target{}, false},
	}
	for _, tt := range tests {
		got, ok := s.Parse(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	sub := MustNew("https://hanse.example/city")
	if got, ok := sub.Parse("https://hanse.example/city/users/alice"); !ok || got.Username != "alice" {
		t.Errorf("base with path: %+v %v", got, ok)
	}
	if _, ok := sub.Parse("https://hanse.example/users/alice"); ok {
		t.Error("base with path: an IRI outside the path was accepted")
	}
}

func TestRoundTrip(t *testing.T) {
	s := MustNew("http://127.0.0.1:8080")
	for _, k := range []actor.Kind{actor.KindPerson, actor.KindGroup, actor.KindOrganization, actor.KindApplication} {
		iri := s.Actor(k, "name_1")
		want := Target{Kind: k, Username: "name_1"}
		if k == actor.KindApplication {
			want.Username = ""
		}
		if got, ok := s.Parse(iri); !ok || got != want {
			t.Errorf("%s: Parse(%q) = %+v, %v", k, iri, got, ok)
		}
		for _, c := range Collections {
			want.Collection = c
			if got, ok := s.Parse(s.Collection(iri, c)); !ok || got != want {
				t.Errorf("%s/%s: %+v, %v", k, c, got, ok)
			}
		}
	}
}
