package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/hanse-network/hanse/internal/proctest"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// node is one Hanse instance of a test federation.
type node struct {
	*instance
	public string
	host   string
	token  string
}

func startNode(t *testing.T) *node {
	t.Helper()
	port := proctest.FreePort(t)
	public := fmt.Sprintf("http://127.0.0.1:%d", port)
	const token = "federation-admin-token-0123456789"
	env := map[string]string{"HANSE_ADMIN_TOKEN": token, "HANSE_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8"}
	in := startServe(t, env, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", t.TempDir(), "--public-url", public)
	waitReady(t, in.base)
	return &node{instance: in, public: public, host: fmt.Sprintf("127.0.0.1:%d", port), token: token}
}

// admin calls the node's admin API and decodes the JSON answer into out.
func (n *node) admin(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.base+"/api/admin"+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s → %d %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// received lists the streams of the activities the node's inbox recorded
// (one per activity; redeliveries are not recorded twice).
func (n *node) received(t *testing.T) []string {
	t.Helper()
	var feed struct {
		Items []struct{ StreamID, Type string }
	}
	status, body := getWithToken(t, n.base+"/api/admin/activity?type=federation.activity_received&limit=200", n.token)
	if status != 200 {
		t.Fatalf("activity feed: %d %s", status, body)
	}
	if err := json.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range feed.Items {
		out = append(out, it.StreamID)
	}
	return out
}

// collectionHas reports whether an actor collection's first page lists iri.
func collectionHas(t *testing.T, url, iri string) bool {
	t.Helper()
	var page struct {
		OrderedItems json.RawMessage `json:"orderedItems"`
	}
	status, _ := getAS(t, url+"?page=true", "application/activity+json", 0, &page)
	return status == 200 && strings.Contains(string(page.OrderedItems), iri)
}

// TestTwoInstancesFederate runs two Hanse instances on loopback with the
// test-only private-network allowance: a person on B follows a learning
// community on A through WebFinger, A accepts and lists the follower, the
// Accept reaches B, the community publishes a note and later deletes it,
// and B's inbox records both — every step over real HTTP with real
// signatures, durable deliveries and the inbox processor in between.
func TestTwoInstancesFederate(t *testing.T) {
	a, b := startNode(t), startNode(t)

	var bees, alice struct {
		ID, IRI  string
		Position uint64
	}
	if s := a.admin(t, "POST", "/actors", map[string]any{"kind": "group", "username": "bees", "name": "Beekeeping circle"}, &bees); s != 201 {
		t.Fatalf("create community: %d", s)
	}
	if s := b.admin(t, "POST", "/actors", map[string]any{"kind": "person", "username": "alice", "name": "Alice"}, &alice); s != 201 {
		t.Fatalf("create person: %d", s)
	}
	// Wait until each side serves its new actor (read-your-writes).
	getAS(t, a.base+"/communities/bees", "application/activity+json", bees.Position, nil)
	getAS(t, b.base+"/users/alice", "application/activity+json", alice.Position, nil)

	if s := b.admin(t, "POST", "/actors/"+alice.ID+"/following", map[string]any{"target": "bees@" + a.host}, nil); s != 201 && s != 200 {
		t.Fatalf("alice follows bees@%s: %d", a.host, s)
	}
	eventually(t, "A lists alice among the community's followers", func() bool {
		return collectionHas(t, a.base+"/communities/bees/followers", alice.IRI)
	})
	eventually(t, "B sees the follow accepted", func() bool {
		return collectionHas(t, b.base+"/users/alice/following", bees.IRI)
	})

	before := len(b.received(t))
	var posted struct {
		ID       string
		Position uint64
	}
	if s := a.admin(t, "POST", "/actors/"+bees.ID+"/notes", map[string]any{"content": "Hive inspection on Saturday", "language": "en"}, &posted); s != 201 {
		t.Fatalf("publish note: %d", s)
	}
	eventually(t, "B's inbox records the Create", func() bool { return len(b.received(t)) > before })
	noteIRI := bees.IRI + "/notes/" + posted.ID
	var noteDoc struct{ ID, Type, AttributedTo, Content string }
	if s, _ := getAS(t, a.base+"/communities/bees/notes/"+posted.ID, "application/activity+json", posted.Position, &noteDoc); s != 200 ||
		noteDoc.ID != noteIRI || noteDoc.Type != "Note" || noteDoc.AttributedTo != bees.IRI || !strings.Contains(noteDoc.Content, "Hive inspection") {
		t.Fatalf("note document: %d %+v", s, noteDoc)
	}
	eventually(t, "A's NodeInfo counts the note", func() bool {
		var node struct{ Usage struct{ LocalPosts int } }
		status, _ := getAS(t, a.base+"/nodeinfo/2.1", "", 0, &node)
		return status == 200 && node.Usage.LocalPosts == 1
	})
	eventually(t, "the community's outbox lists the Create", func() bool {
		return collectionHas(t, a.base+"/communities/bees/outbox", noteIRI)
	})
	var deleted struct{ Position uint64 }
	if s := a.admin(t, "DELETE", "/notes/"+posted.ID, nil, &deleted); s != 200 {
		t.Fatalf("delete note: %d", s)
	}
	eventually(t, "B's inbox records the Delete", func() bool { return len(b.received(t)) > before+1 })
	if s, _ := getAS(t, a.base+"/communities/bees/notes/"+posted.ID, "application/activity+json", deleted.Position, nil); s != http.StatusGone {
		t.Errorf("deleted note answers %d, want 410", s)
	}

	var deliveries struct {
		Items []struct{ State, Inbox string }
	}
	if s := a.admin(t, "GET", "/deliveries?limit=50", nil, &deliveries); s != 200 {
		t.Fatalf("deliveries: %d", s)
	}
	delivered := 0
	for _, d := range deliveries.Items {
		if d.State == "delivered" {
			delivered++
		}
	}
	t.Logf("A delivered %d activities; B's inbox recorded %d", delivered, len(b.received(t)))
	if delivered < 3 { // Accept, Create, Delete
		t.Errorf("A's deliveries %+v, want at least 3 delivered", deliveries.Items)
	}

	// A suspends B's domain: a new Follow from B is acknowledged (so B does
	// not retry for days) but dropped unrecorded.
	var block struct{ Position uint64 }
	if s := a.admin(t, "POST", "/domain-blocks", map[string]any{"domain": b.host, "severity": "reject"}, &block); s != 201 {
		t.Fatalf("domain block: %d", s)
	}
	var wasps struct {
		ID, IRI  string
		Position uint64
	}
	if s := a.admin(t, "POST", "/actors", map[string]any{"kind": "group", "username": "wasps"}, &wasps); s != 201 {
		t.Fatalf("create second community: %d", s)
	}
	getAS(t, a.base+"/communities/wasps", "application/activity+json", wasps.Position, nil)
	// The block is in force once the moderation read model has applied it.
	if s := a.admin(t, "GET", fmt.Sprintf("/domain-blocks?min_position=%d", block.Position), nil, nil); s != 200 {
		t.Fatalf("domain blocks after the block: %d", s)
	}
	receivedBefore := len(a.received(t))
	if s := b.admin(t, "POST", "/actors/"+alice.ID+"/following", map[string]any{"target": wasps.IRI}, nil); s != 201 && s != 200 {
		t.Fatalf("alice follows wasps: %d", s)
	}
	eventually(t, "B delivers its Follow of wasps", func() bool {
		var ds struct {
			Items []struct{ State, Inbox string }
		}
		b.admin(t, "GET", "/deliveries?limit=50", nil, &ds)
		for _, d := range ds.Items {
			if strings.Contains(d.Inbox, "/communities/wasps/inbox") && d.State == "delivered" {
				return true
			}
		}
		return false
	})
	if n := len(a.received(t)); n != receivedBefore {
		t.Errorf("A recorded %d new activities from a suspended domain, want none", n-receivedBefore)
	}
	if collectionHas(t, a.base+"/communities/wasps/followers", alice.IRI) {
		t.Error("a follower from a suspended domain was accepted")
	}
}
