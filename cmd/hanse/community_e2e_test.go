package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// homeHas reports whether the home timeline behind token lists a post
// whose text contains s, and by whom it was boosted.
func homeHas(t *testing.T, base, token, s string) (found bool, boostedBy string) {
	t.Helper()
	var page struct {
		Items []struct {
			ContentMap map[string]string `json:"content_map"`
			BoostedBy  string            `json:"boosted_by"`
		}
	}
	if status, body := call(t, "GET", base+"/api/hanse/v1/timelines/home?limit=40", token, nil, &page); status != http.StatusOK {
		t.Fatalf("home timeline: %d %s", status, body)
	}
	for _, p := range page.Items {
		for _, c := range p.ContentMap {
			if strings.Contains(c, s) {
				return true, p.BoostedBy
			}
		}
	}
	return false, ""
}

// TestCommunityAcrossTwoInstances is the in-process, Hanse-only variant of
// federation/peertest's TestCommunityAcrossInstancesAndFedify: a
// facilitator on A (created by the admin, signed in through OAuth) opens a
// community and posts into it; a person on B follows the community, and
// the Group's Announce brings the post into the person's home timeline;
// the facilitator removes the post and it leaves B's home timeline.
func TestCommunityAcrossTwoInstances(t *testing.T) {
	a, b := startNode(t), startNode(t)

	const password = "correct horse battery staple"
	var fac, person struct{ ID string }
	if s := a.admin(t, "POST", "/accounts", map[string]any{"username": "fenna", "email": "fenna@example.org",
		"password": password, "role": "facilitator"}, &fac); s != http.StatusCreated {
		t.Fatalf("create facilitator: %d", s)
	}
	if s := b.admin(t, "POST", "/accounts", map[string]any{"username": "bruno", "email": "bruno@example.org",
		"password": password}, &person); s != http.StatusCreated {
		t.Fatalf("create person: %d", s)
	}
	facToken := signIn(t, a.base, "fenna", password, "read write")
	brunoToken := signIn(t, b.base, "bruno", password, "read")

	var created struct {
		ID       string
		Position uint64
	}
	if s, body := call(t, "POST", a.base+"/api/hanse/v1/communities", facToken,
		map[string]any{"username": "imkerei", "name": "Imkerei am Deich"}, &created); s != http.StatusCreated {
		t.Fatalf("create community: %d %s", s, body)
	}
	group := a.public + "/communities/imkerei"
	getAS(t, group, "application/activity+json", created.Position, nil)

	if s := b.admin(t, "POST", "/actors/"+person.ID+"/following", map[string]any{"target": "imkerei@" + a.host}, nil); s != 201 && s != 200 {
		t.Fatalf("bruno follows imkerei@%s: %d", a.host, s)
	}
	eventually(t, "B sees bruno's follow of the community accepted", func() bool {
		return collectionHas(t, b.base+"/users/bruno/following", group)
	})

	const content = "Schwarmzeit: wer hat noch eine leere Beute?"
	var posted struct{ ID string }
	if s, body := call(t, "POST", a.base+"/api/hanse/v1/posts", facToken, map[string]any{"community_id": created.ID,
		"content": content, "language": "de"}, &posted); s != http.StatusCreated {
		t.Fatalf("post into the community: %d %s", s, body)
	}
	eventually(t, "the Group's Announce brings the post into bruno's home timeline on B", func() bool {
		found, by := homeHas(t, b.base, brunoToken, "leere Beute")
		return found && by == group
	})

	if s, body := call(t, "POST", a.base+"/api/hanse/v1/posts/"+url.PathEscape(posted.ID)+"/remove", facToken,
		map[string]any{"reason": "off topic"}, nil); s != http.StatusOK {
		t.Fatalf("remove the post: %d %s", s, body)
	}
	eventually(t, "the removal takes the post out of bruno's home timeline on B", func() bool {
		found, _ := homeHas(t, b.base, brunoToken, "leere Beute")
		return !found
	})
}
