package peertest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// post is the part of Hanse's PostJSON the community test reads.
type post struct {
	ID          string               `json:"id"`
	URI         string               `json:"uri"`
	CommunityID string               `json:"community_id"`
	Author      struct{ IRI string } `json:"author"`
	ContentMap  map[string]string    `json:"content_map"`
	BoostedBy   string               `json:"boosted_by"`
}

// has reports whether any of the post's texts contains s.
func (p post) has(s string) bool {
	for _, c := range p.ContentMap {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

// timeline reads a page of posts from a Hanse timeline (with token when
// not empty) and returns the ones whose text contains s; ok is false when
// the read failed.
func (h *hanse) timeline(t *testing.T, token, path, s string) (found []post, ok bool) {
	t.Helper()
	var page struct{ Items []post }
	if h.api(t, token, "GET", path+"?limit=40", nil, &page) != http.StatusOK {
		return nil, false
	}
	for _, p := range page.Items {
		if p.has(s) {
			found = append(found, p)
		}
	}
	return found, true
}

// awaitActor waits (read-your-writes) until Hanse serves the actor iri at
// position pos.
func awaitActor(t *testing.T, iri string, pos uint64) {
	t.Helper()
	req, err := http.NewRequest("GET", iri, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/activity+json")
	req.Header.Set("Hanse-Min-Position", strconv.FormatUint(pos, 10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s at position %d: %d", iri, pos, res.StatusCode)
	}
}

// TestCommunityAcrossInstancesAndFedify runs two Hanse instances and a
// Fedify peer as real processes and follows one community across all
// three: a facilitator signed in through OAuth on instance A creates an
// open community; the peer and a person on instance B follow its Group;
// the peer posts into the community, A accepts the post and the Group
// announces it to B and to the peer (FEP-1b12); the facilitator removes
// the post and the removal reaches A's timeline, B's home timeline and the
// peer.
func TestCommunityAcrossInstancesAndFedify(t *testing.T) {
	a := startHanse(t)
	b := startHanse(t)
	p := startPeer(t)

	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for name, h := range map[string]*hanse{"A": a, "B": b} {
			var deliveries any
			h.admin(t, "GET", "/deliveries?limit=100", nil, &deliveries)
			t.Logf("Hanse %s deliveries: %v", name, deliveries)
			var activity any
			h.admin(t, "GET", "/activity?limit=200", nil, &activity)
			t.Logf("Hanse %s activity: %v", name, activity)
		}
		for _, r := range p.inbox(t) {
			t.Logf("peer received %s %s by %s (object %s %s, inner %s): %s", r.Type, r.ID, r.Actor, r.ObjectType, r.Object,
				r.InnerObject, r.JSON)
		}
		t.Logf("peer exchanges: %+v", p.exchanges(t))
		var log []string
		p.control(t, "GET", "/log", nil, &log)
		t.Logf("peer log: %q", log)
	})

	// 1. An admin creates a facilitator on A, who signs in through OAuth
	// and creates an open community.
	fenna := createAccount(t, a, "fenna", "facilitator")
	fennaToken := signIn(t, a, "fenna", fenna.Password, "read write")
	var created struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Position uint64 `json:"position"`
	}
	if s := a.api(t, fennaToken, "POST", "/api/hanse/v1/communities", map[string]any{"username": "imkerei",
		"name": "Imkerei am Deich", "description": "Beekeepers on the dyke", "languages": []string{"de", "en"},
		"policy": "open"}, &created); s != http.StatusCreated {
		t.Fatalf("create community: %d", s)
	}
	group := a.Base + "/communities/" + created.Username
	awaitActor(t, group, created.Position)
	groupHandle := created.Username + "@" + a.Host

	// 2. The peer follows the community's Group and is accepted.
	var follow struct{ Actor, Follow string }
	if s := p.control(t, "POST", "/follow", map[string]string{"handle": groupHandle}, &follow); s != http.StatusAccepted {
		t.Fatalf("peer follows %s: %d", groupHandle, s)
	}
	if follow.Actor != group {
		t.Fatalf("peer resolved %s to %q, want %q", groupHandle, follow.Actor, group)
	}
	if !eventually(t, "the peer receives the Group's Accept of its Follow", func() bool {
		var following map[string]string
		p.control(t, "GET", "/following", nil, &following)
		return following[group] == "accepted"
	}, a.Exited, p.Exited) {
		t.FailNow()
	}

	// 3. A person on B follows the community and is accepted.
	bruno := createAccount(t, b, "bruno", "learner")
	brunoIRI := b.Base + "/users/bruno"
	awaitActor(t, brunoIRI, bruno.Position)
	brunoToken := signIn(t, b, "bruno", bruno.Password, "read")
	if s := b.admin(t, "POST", "/actors/"+bruno.ID+"/following", map[string]any{"target": groupHandle}, nil); s != http.StatusCreated && s != http.StatusOK {
		t.Fatalf("bruno follows %s: %d", groupHandle, s)
	}
	if !eventually(t, "B lists the Group in bruno's following (A's Accept arrived)", func() bool {
		return b.collectionHas(t, brunoIRI+"/following", group)
	}, a.Exited, b.Exited) {
		t.FailNow()
	}
	eventually(t, "A lists the peer and bruno among the Group's followers and the community's members", func() bool {
		if !a.collectionHas(t, group+"/followers", p.actor()) || !a.collectionHas(t, group+"/followers", brunoIRI) {
			return false
		}
		var members struct {
			Items []struct{ Member, State string }
		}
		if a.api(t, fennaToken, "GET", "/api/hanse/v1/communities/"+url.PathEscape(created.ID)+"/members", nil, &members) != http.StatusOK {
			return false
		}
		joined := map[string]bool{}
		for _, m := range members.Items {
			joined[m.Member] = m.State == "member"
		}
		return joined[p.actor()] && joined[brunoIRI] && joined[fenna.ID]
	}, a.Exited)

	// 4. The peer posts into the community.
	const content = "Schwarmzeit: wer hat noch eine leere Beute?"
	var sent struct{ Note, Create string }
	if s := p.control(t, "POST", "/post", map[string]any{"to": group, "content": content}, &sent); s != http.StatusAccepted {
		t.Fatalf("peer posts into %s: %d", group, s)
	}
	communityTimeline := "/api/hanse/v1/communities/" + url.PathEscape(created.ID) + "/timeline"
	var accepted post
	if !eventually(t, "A's community timeline lists the peer's post", func() bool {
		found, _ := a.timeline(t, "", communityTimeline, content)
		if len(found) == 0 {
			return false
		}
		accepted = found[0]
		return true
	}, a.Exited, p.Exited) {
		t.FailNow()
	}
	if accepted.URI != sent.Note || accepted.Author.IRI != p.actor() || accepted.CommunityID != created.ID {
		t.Errorf("A's post: uri %q author %q community %q; want %q, %q, %q",
			accepted.URI, accepted.Author.IRI, accepted.CommunityID, sent.Note, p.actor(), created.ID)
	}
	eventually(t, "B shows the post, boosted by the Group, in bruno's home timeline (the Group's Announce arrived)", func() bool {
		found, _ := b.timeline(t, brunoToken, "/api/hanse/v1/timelines/home", content)
		return len(found) > 0 && found[0].URI == sent.Note && found[0].Author.IRI == p.actor() && found[0].BoostedBy == group
	}, a.Exited, b.Exited)
	eventually(t, "the peer receives the Group's Announce{Create} of its post", func() bool {
		for _, r := range p.inbox(t) {
			if r.Type == "Announce" && r.Actor == group && r.ObjectType == "Create" && r.InnerObject == sent.Note &&
				strings.Contains(r.Content, content) {
				return true
			}
		}
		return false
	}, a.Exited, p.Exited)

	// 5. The facilitator removes the post; the removal reaches everyone.
	if s := a.api(t, fennaToken, "POST", "/api/hanse/v1/posts/"+url.PathEscape(accepted.ID)+"/remove",
		map[string]any{"reason": "off topic"}, nil); s != http.StatusOK {
		t.Fatalf("remove post %s: %d", accepted.ID, s)
	}
	eventually(t, "A's community timeline no longer lists the post", func() bool {
		found, ok := a.timeline(t, "", communityTimeline, content)
		return ok && len(found) == 0
	}, a.Exited)
	eventually(t, "the peer receives the Group's Announce{Delete} of its post", func() bool {
		for _, r := range p.inbox(t) {
			if r.Type == "Announce" && r.Actor == group && r.ObjectType == "Delete" && r.InnerObject == sent.Note {
				return true
			}
		}
		return false
	}, a.Exited, p.Exited)
	eventually(t, "B no longer shows the post in bruno's home timeline", func() bool {
		found, ok := b.timeline(t, brunoToken, "/api/hanse/v1/timelines/home", content)
		return ok && len(found) == 0
	}, a.Exited, b.Exited)

	// Signatures: the peer's POSTs were accepted by A at the first knock
	// (RFC 9421), and A's draft-cavage signatures were accepted by the peer.
	checkExchanges(t, p.exchanges(t), a.Base, p.base)
}
