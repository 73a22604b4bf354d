package webfinger

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// mastodonFixture is the shared Mastodon WebFinger fixture, relative to this
// package: <repo>/../shared/fixtures/mastodon/webfinger.json.
var mastodonFixture = filepath.Join("..", "..", "..", "shared", "fixtures", "mastodon", "webfinger.json")

func TestDecodeMastodonFixture(t *testing.T) {
	data, err := os.ReadFile(mastodonFixture)
	if err != nil {
		t.Skipf("shared fixture not found at %s (expected ../shared beside the repository): %v", mastodonFixture, err)
	}
	j, err := DecodeJRD(data)
	if err != nil {
		t.Fatal(err)
	}
	if j.Subject != "acct:tcit@social.tcit.fr" {
		t.Errorf("subject %q", j.Subject)
	}
	if want := []string{"https://social.tcit.fr/@tcit", "https://social.tcit.fr/users/tcit"}; !reflect.DeepEqual(j.Aliases, want) {
		t.Errorf("aliases %q", j.Aliases)
	}
	self, ok := j.SelfLink()
	if !ok || self.Href != "https://social.tcit.fr/users/tcit" || self.Type != TypeActivityJSON {
		t.Errorf("SelfLink = %+v, %v", self, ok)
	}
	if p, ok := j.Link(RelProfilePage); !ok || p.Href != "https://social.tcit.fr/@tcit" {
		t.Errorf("profile page = %+v, %v", p, ok)
	}
	if s, ok := j.Link("http://ostatus.org/schema/1.0/subscribe"); !ok || s.Template != "https://social.tcit.fr/authorize_interaction?uri={uri}" {
		t.Errorf("subscribe = %+v, %v", s, ok)
	}
	// The subject parses as a resource.
	r, err := ParseResource(j.Subject)
	if err != nil || r.Handle() != "tcit@social.tcit.fr" {
		t.Errorf("subject resource %+v, %v", r, err)
	}
}

func TestDecodeJRDTolerant(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		in   string
		want JRD
	}{
		{"minimal", `{"subject":"acct:a@b"}`, JRD{Subject: "acct:a@b"}},
		{"empty object", `{}`, JRD{}},
		{"unknown members", `{"subject":"acct:a@b","expires":"2030-01-01T00:00:00Z","x":{"y":[1]}}`, JRD{Subject: "acct:a@b"}},
		{"null subject", `{"subject":null}`, JRD{}},
		{"single alias string", `{"aliases":"https://b/u/a"}`, JRD{Aliases: []string{"https://b/u/a"}}},
		{"non-string aliases skipped", `{"aliases":["https://b/u/a",7,null,{"x":1}]}`, JRD{Aliases: []string{"https://b/u/a"}}},
		{"properties", `{"properties":{"http://p/a":"v","http://p/b":null,"http://p/c":3}}`,
			JRD{Properties: map[string]*string{"http://p/a": str("v"), "http://p/b": nil}}},
		{"bad links skipped", `{"links":[7,"x",null,{"type":"text/html"},{"rel":"self","type":5,"href":"https://b/u/a","titles":{"en":"A","de":1}}]}`,
			JRD{Links: []Link{{Rel: "self", Href: "https://b/u/a", Titles: map[string]string{"en": "A"}}}}},
		{"links not an array", `{"subject":"acct:a@b","links":{"rel":"self"}}`, JRD{Subject: "acct:a@b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJRD([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("DecodeJRD = %#v\nwant %#v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `null`, `[]`, `"acct:a@b"`, `{"subject":5}`, `{"subject":"a"`, `<XRD/>`} {
		if _, err := DecodeJRD([]byte(bad)); !errors.Is(err, ErrInvalidJRD) {
			t.Errorf("DecodeJRD(%q) error = %v, want ErrInvalidJRD", bad, err)
		}
	}
}

func TestSelfLink(t *testing.T) {
	const ldAS = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	tests := []struct {
		name  string
		links []Link
		want  string // href, "" for none
	}{
		{"activity+json", []Link{{Rel: "self", Type: "application/activity+json", Href: "https://a/1"}}, "https://a/1"},
		{"ld+json with profile", []Link{{Rel: "self", Type: ldAS, Href: "https://a/2"}}, "https://a/2"},
		{"activity+json preferred", []Link{{Rel: "self", Type: ldAS, Href: "https://a/2"}, {Rel: "self", Type: "application/activity+json", Href: "https://a/1"}}, "https://a/1"},
		{"ld+json without profile", []Link{{Rel: "self", Type: "application/ld+json", Href: "https://a/3"}}, ""},
		{"html self", []Link{{Rel: "self", Type: "text/html", Href: "https://a/4"}}, ""},
		{"other rel", []Link{{Rel: RelProfilePage, Type: "application/activity+json", Href: "https://a/5"}}, ""},
		{"no href", []Link{{Rel: "self", Type: "application/activity+json"}, {Rel: "self", Type: "application/activity+json", Href: "https://a/6"}}, "https://a/6"},
		{"no links", nil, ""},
	}
	for _, tt := range tests {
		l, ok := JRD{Links: tt.links}.SelfLink()
		if ok != (tt.want != "") || l.Href != tt.want {
			t.Errorf("%s: SelfLink = %+v, %v; want %q", tt.name, l, ok, tt.want)
		}
	}
}

func TestActorJRDGolden(t *testing.T) {
	tests := []struct {
		file                string
		subject             string
		profileURL, actorID string
	}{
		{"actor.jrd.json", "acct:alice@hanse.example", "https://hanse.example/@alice", "https://hanse.example/actors/alice"},
		{"actor_port.jrd.json", "acct:alice@127.0.0.1:8080", "http://127.0.0.1:8080/@alice", "http://127.0.0.1:8080/actors/alice"},
		{"group.jrd.json", "acct:stadtteil-nord@hanse.example", "https://hanse.example/c/stadtteil-nord?lang=de&view=all", "https://hanse.example/groups/stadtteil-nord"},
		{"no_profile.jrd.json", "acct:hanse.example@hanse.example", "", "https://hanse.example/actor"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := ParseResource(tt.subject)
			if err != nil {
				t.Fatal(err)
			}
			j := ActorJRD(r, tt.profileURL, tt.actorID)
			rec := httptest.NewRecorder()
			if err := WriteJRD(rec, j); err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/jrd+json; charset=utf-8" ||
				rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("response %d %v", rec.Code, rec.Header())
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Fatalf("JRD differs from %s:\n%s\nwant\n%s", golden, pretty.Bytes(), want)
			}
			// What we write, we read back: subject, self link.
			back, err := DecodeJRD(rec.Body.Bytes())
			if err != nil || back.Subject != tt.subject {
				t.Fatalf("decode back: %+v, %v", back, err)
			}
			if self, ok := back.SelfLink(); !ok || self.Href != tt.actorID {
				t.Fatalf("self link %+v, %v", self, ok)
			}
		})
	}
}
