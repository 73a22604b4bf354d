package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// getAS fetches url with an optional Accept and Hanse-Min-Position and
// decodes a JSON answer into v.
func getAS(t *testing.T, target, accept string, minPos uint64, v any) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if minPos > 0 {
		req.Header.Set("Hanse-Min-Position", fmt.Sprint(minPos))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", target, err, body)
		}
	}
	return res.StatusCode, res.Header
}

// TestServeActorsEndToEnd drives the binary as an operator and a remote
// server would: create a learning community with "hanse admin", then
// discover it over WebFinger, fetch its actor document and NodeInfo, find
// the instance actor, and restart without creating anything twice.
func TestServeActorsEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	const token = "e2e-admin-token-0123456789"
	env := map[string]string{"HANSE_ADMIN_TOKEN": token}
	args := []string{"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--public-url", "http://hanse.test"}
	in := startServe(t, env, args...)
	waitReady(t, in.base)

	code, stdout, stderr := runCLI(t, env, "admin", "create-actor", "--server", in.base, "--json",
		"--kind", "group", "--username", "Beekeepers", "--name", "Beekeeping circle")
	if code != 0 {
		t.Fatalf("admin create-actor: exit %d\n%s%s", code, stdout, stderr)
	}
	var created struct {
		ID, IRI, Handle string
		Position        uint64
	}
	if err := json.Unmarshal([]byte(stdout), &created); err != nil || created.Position == 0 {
		t.Fatalf("create-actor output %q: %v", stdout, err)
	}
	const iri = "http://hanse.test/communities/beekeepers"
	if created.IRI != iri || created.Handle != "beekeepers@hanse.test" {
		t.Fatalf("created %+v, want IRI %s and handle beekeepers@hanse.test", created, iri)
	}
	code, _, stderr = runCLI(t, env, "admin", "create-actor", "--server", in.base, "--kind", "person", "--username", "beekeepers")
	if code == 0 || !strings.Contains(stderr, "taken") {
		t.Errorf("second actor with the same username: exit %d, stderr %q; want a 'taken' error", code, stderr)
	}

	var jrd struct {
		Subject string
		Links   []struct{ Rel, Type, Href string }
	}
	status, _ := getAS(t, in.base+"/.well-known/webfinger?resource="+url.QueryEscape("acct:beekeepers@hanse.test"), "", created.Position, &jrd)
	self := ""
	for _, l := range jrd.Links {
		if l.Rel == "self" && l.Type == "application/activity+json" {
			self = l.Href
		}
	}
	if status != 200 || jrd.Subject != "acct:beekeepers@hanse.test" || self != iri {
		t.Fatalf("WebFinger: %d %+v; want the self link %s", status, jrd, iri)
	}

	var doc struct {
		ID, Type, PreferredUsername, Name, Inbox string
		PublicKey                                struct{ ID, Owner, PublicKeyPem string }
		Endpoints                                struct{ SharedInbox string }
	}
	status, header := getAS(t, in.base+"/communities/beekeepers", "application/activity+json", 0, &doc)
	if status != 200 || doc.ID != iri || doc.Type != "Group" || doc.Name != "Beekeeping circle" ||
		doc.PublicKey.Owner != iri || !strings.Contains(doc.PublicKey.PublicKeyPem, "BEGIN PUBLIC KEY") ||
		doc.Endpoints.SharedInbox != "http://hanse.test/inbox" {
		t.Fatalf("actor document: %d %+v", status, doc)
	}
	if !strings.HasPrefix(header.Get("Content-Type"), "application/activity+json") {
		t.Errorf("actor document Content-Type %q", header.Get("Content-Type"))
	}
	status, header = getAS(t, in.base+"/communities/beekeepers", "text/html", 0, nil)
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/html") {
		t.Errorf("browser view of the actor: %d %q", status, header.Get("Content-Type"))
	}

	var node struct {
		Version  string
		Software struct{ Name string }
		Usage    struct{ Users struct{ Total int } }
	}
	if status, _ := getAS(t, in.base+"/nodeinfo/2.1", "", 0, &node); status != 200 || node.Software.Name != "hanse" || node.Version != "2.1" {
		t.Fatalf("NodeInfo: %d %+v", status, node)
	}

	var instance struct{ Type, ID string }
	if status, _ := getAS(t, in.base+"/actor", "application/activity+json", 0, &instance); status != 200 || instance.Type != "Application" || instance.ID != "http://hanse.test/actor" {
		t.Fatalf("instance actor: %d %+v", status, instance)
	}

	if code := in.stop(t); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	again := startServe(t, env, args...)
	waitReady(t, again.base)
	var feed struct{ Items []struct{ Type string } }
	status, body := getWithToken(t, again.base+"/api/admin/activity?type=actor.created&limit=50", token)
	if err := json.Unmarshal([]byte(body), &feed); err != nil || status != 200 || len(feed.Items) != 2 {
		t.Fatalf("actor.created events after a restart: %d %s, want 2 (the instance actor and the community)", status, body)
	}
}
