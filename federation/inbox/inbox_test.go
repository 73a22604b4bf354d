package inbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/inbox"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

func TestInboxAcceptsSignedActivities(t *testing.T) {
	p := newPeer(t)
	p.set("bob", keys[0], false)
	h := newHanse(t, hanseOptions{})
	bob := p.iri("bob")
	note := map[string]any{"id": bob + "/statuses/1", "type": "Note", "attributedTo": bob, "content": "<p>Moin</p>"}
	cases := []struct {
		name, path, typ, id string
		object              any
		wantRecipient       string
		wantObject          string
	}{
		{"Create{Note} to the shared inbox", "/inbox", "Create", bob + "/statuses/1/activity", note, "", bob + "/statuses/1"},
		{"Follow to a person's inbox", "/users/alice/inbox", "Follow", bob + "#follows/1", h.scheme.Actor("Person", "alice"), "a1", h.scheme.Actor("Person", "alice")},
		{"Follow to a group's inbox", "/communities/garden/inbox", "Follow", bob + "#follows/2", h.scheme.Actor("Group", "garden"), "g1", h.scheme.Actor("Group", "garden")},
		{"Undo to the instance actor's inbox", "/actor/inbox", "Undo", bob + "#follows/1/undo", bob + "#follows/1", "00000000-0000-0000-0000-000000000000", bob + "#follows/1"},
		{"Delete of a note", "/inbox", "Delete", bob + "/statuses/1#delete", bob + "/statuses/1", "", bob + "/statuses/1"},
		{"unknown activity type", "/inbox", "Wave", bob + "/waves/1", h.scheme.Actor("Person", "alice"), "", h.scheme.Actor("Person", "alice")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := activity(c.typ, c.id, bob, c.object)
			status, resp := post(t, h.srv.URL+c.path, activityJSON, body, signer(p, "bob", keys[0]))
			if status != http.StatusAccepted {
				t.Fatalf("status %d: %s", status, resp)
			}
			got := h.received(t, c.id)
			if len(got) != 1 {
				t.Fatalf("%d events recorded, want 1", len(got))
			}
			want := c.wantRecipient
			if c.path == "/actor/inbox" {
				want = directory["hanse"].ID
			}
			g := got[0]
			if g.Type != c.typ || g.Actor != bob || g.SignerKeyID != p.keyID("bob") || g.Recipient != want ||
				g.ObjectID != c.wantObject || !json.Valid(g.Raw) || g.ReceivedAt.IsZero() {
				t.Fatalf("recorded %+v", g)
			}
		})
	}
	// The actor document was fetched and recorded once.
	if n := h.count(t, remote.TypeActorFetched); n != 1 {
		t.Fatalf("%d remote_actor_fetched events, want 1", n)
	}
}

func TestInboxRefusals(t *testing.T) {
	p := newPeer(t)
	p.set("bob", keys[0], false)
	p.set("mallory", keys[2], false)
	h := newHanse(t, hanseOptions{inbox: inbox.Options{MaxBodyBytes: 64 << 10}})
	bob := p.iri("bob")
	ok := activity("Like", bob+"/likes/1", bob, "https://elsewhere.example/notes/1")
	tampered := func() []byte { return bytes.Replace(ok, []byte("notes/1"), []byte("notes/2"), 1) }
	big := activity("Create", bob+"/big", bob, map[string]any{"type": "Note", "content": strings.Repeat("x", 70<<10)})

	cases := []struct {
		name        string
		path, ctype string
		body        []byte
		unsigned    bool
		signAs      string
		key         int
		tamper      func([]byte) []byte
		want        int
		wantCode    string
	}{
		{name: "unsigned", path: "/inbox", ctype: activityJSON, body: ok, unsigned: true, want: 401, wantCode: inbox.CodeUnauthorized},
		{name: "tampered body", path: "/inbox", ctype: activityJSON, body: ok, tamper: func([]byte) []byte { return tampered() }, want: 401, wantCode: inbox.CodeUnauthorized},
		{name: "signed with the wrong key", path: "/inbox", ctype: activityJSON, body: ok, key: 1, want: 401, wantCode: inbox.CodeUnauthorized},
		{name: "actor is not the key owner", path: "/inbox", ctype: activityJSON, body: ok, signAs: "mallory", key: 2, want: 401, wantCode: inbox.CodeUnauthorized},
		{name: "wrong content type", path: "/inbox", ctype: "text/plain", body: ok, want: 415, wantCode: inbox.CodeUnsupportedMediaType},
		{name: "oversize body", path: "/inbox", ctype: activityJSON, body: big, want: 413, wantCode: inbox.CodeTooLarge},
		{name: "malformed JSON", path: "/inbox", ctype: activityJSON, body: []byte(`{"type":`), want: 400, wantCode: inbox.CodeBadRequest},
		{name: "unknown local actor", path: "/users/nobody/inbox", ctype: activityJSON, body: ok, want: 404, wantCode: inbox.CodeNotFound},
		{name: "kind mismatch", path: "/communities/alice/inbox", ctype: activityJSON, body: ok, want: 404, wantCode: inbox.CodeNotFound},
		{name: "deleted local actor", path: "/users/gone/inbox", ctype: activityJSON, body: ok, want: 410, wantCode: inbox.CodeGone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, key := "bob", keys[c.key]
			if c.signAs != "" {
				name = c.signAs
			}
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+c.path, bytes.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", c.ctype)
			body := c.body
			if !c.unsigned {
				if err := signer(p, name, key).SignRequest(req, body); err != nil {
					t.Fatal(err)
				}
			}
			if c.tamper != nil {
				body = c.tamper(body)
				req.Body, req.ContentLength = nopCloser(body), int64(len(body))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&eb)
			if resp.StatusCode != c.want || eb.Error.Code != c.wantCode {
				t.Fatalf("status %d code %q (%s), want %d %q", resp.StatusCode, eb.Error.Code, eb.Error.Message, c.want, c.wantCode)
			}
		})
	}
	if n := h.count(t, remote.TypeActivityReceived); n != 0 {
		t.Fatalf("%d activities recorded by refused requests", n)
	}
}

func TestInboxReplayIsRecordedOnce(t *testing.T) {
	p := newPeer(t)
	p.set("bob", keys[0], false)
	h := newHanse(t, hanseOptions{})
	bob := p.iri("bob")
	for _, c := range []struct{ name, id string }{{"with id", bob + "/follows/9"}, {"without id", ""}} {
		t.Run(c.name, func(t *testing.T) {
			body := activity("Follow", c.id, bob, h.scheme.Actor("Person", "alice"))
			for i := range 3 {
				if status, resp := post(t, h.srv.URL+"/inbox", activityJSON, body, signer(p, "bob", keys[0])); status != 202 {
					t.Fatalf("delivery %d: status %d: %s", i, status, resp)
				}
			}
			if c.id != "" {
				if got := h.received(t, c.id); len(got) != 1 {
					t.Fatalf("%d events, want 1", len(got))
				}
			}
		})
	}
	if n := h.count(t, remote.TypeActivityReceived); n != 2 {
		t.Fatalf("%d activities recorded, want 2", n)
	}
}

func TestInboxKeyRotation(t *testing.T) {
	p := newPeer(t)
	p.set("bob", keys[0], false)
	h := newHanse(t, hanseOptions{})
	bob := p.iri("bob")
	if status, resp := post(t, h.srv.URL+"/inbox", activityJSON, activity("Like", bob+"/l/1", bob, "https://x.example/n/1"), signer(p, "bob", keys[0])); status != 202 {
		t.Fatalf("before rotation: %d %s", status, resp)
	}
	// The remote rotates its key under the same key id; the cached key
	// fails, the inbox refetches once and verifies.
	p.set("bob", keys[1], false)
	if status, resp := post(t, h.srv.URL+"/inbox", activityJSON, activity("Like", bob+"/l/2", bob, "https://x.example/n/2"), signer(p, "bob", keys[1])); status != 202 {
		t.Fatalf("after rotation: %d %s", status, resp)
	}
	// The old key no longer verifies.
	if status, _ := post(t, h.srv.URL+"/inbox", activityJSON, activity("Like", bob+"/l/3", bob, "https://x.example/n/3"), signer(p, "bob", keys[0])); status != 401 {
		t.Fatalf("old key after rotation: %d", status)
	}
	if n := h.count(t, remote.TypeActorFetched); n != 2 {
		t.Fatalf("%d actor documents recorded, want 2 (before and after rotation)", n)
	}
}

func TestInboxRefreshIsPaced(t *testing.T) {
	p := newPeer(t)
	p.set("bob", keys[0], false)
	h := newHanse(t, hanseOptions{refresh: time.Hour})
	bob := p.iri("bob")
	if status, _ := post(t, h.srv.URL+"/inbox", activityJSON, activity("Like", bob+"/l/1", bob, "https://x.example/n/1"), signer(p, "bob", keys[0])); status != 202 {
		t.Fatal(status)
	}
	before := p.gets.Load()
	for i := range 5 { // bad signatures must not make Hanse fetch each time
		if status, _ := post(t, h.srv.URL+"/inbox", activityJSON, activity("Like", bob+"/l/x", bob, "https://x.example/n/1"), signer(p, "bob", keys[1])); status != 401 {
			t.Fatalf("attempt %d: %d", i, status)
		}
	}
	if got := p.gets.Load() - before; got != 0 {
		t.Fatalf("%d refetches within the refresh interval, want 0", got)
	}
}

func TestInboxDeleteOfGoneActor(t *testing.T) {
	p := newPeer(t)
	p.set("carol", keys[0], false)
	p.set("dave", keys[1], true) // never seen, already gone
	h := newHanse(t, hanseOptions{})
	carol, dave := p.iri("carol"), p.iri("dave")
	if status, _ := post(t, h.srv.URL+"/inbox", activityJSON, activity("Follow", carol+"/f/1", carol, h.scheme.Actor("Person", "alice")), signer(p, "carol", keys[0])); status != 202 {
		t.Fatal(status)
	}
	// carol deletes herself: her documents answer 410 and our copy is stale.
	p.set("carol", keys[0], true)
	h.offset.Store(int64(25 * time.Hour))
	del := activity("Delete", carol+"#delete", carol, carol)
	if status, resp := post(t, h.srv.URL+"/inbox", activityJSON, del, signer(p, "carol", keys[0])); status != 202 {
		t.Fatalf("Delete by gone actor with cached key: %d %s", status, resp)
	}
	if got := h.received(t, carol+"#delete"); len(got) != 1 {
		t.Fatalf("Delete recorded %d times, want 1", len(got))
	}
	if n := h.count(t, remote.TypeActorGone); n != 1 {
		t.Fatalf("%d remote_actor_gone events, want 1", n)
	}
	// A Delete signed by a gone actor we never knew: 202, dropped.
	ddel := activity("Delete", dave+"#delete", dave, dave)
	if status, _ := post(t, h.srv.URL+"/inbox", activityJSON, ddel, signer(p, "dave", keys[1])); status != 202 {
		t.Fatalf("Delete by unknown gone actor: %d", status)
	}
	if got := h.received(t, dave+"#delete"); len(got) != 0 {
		t.Fatal("Delete without a verifiable key was recorded")
	}
	// A Delete signed with a key other than the cached one: 202, dropped.
	forged := activity("Delete", carol+"#delete2", carol, carol)
	if status, _ := post(t, h.srv.URL+"/inbox", activityJSON, forged, signer(p, "carol", keys[2])); status != 202 {
		t.Fatalf("forged Delete: %d", status)
	}
	if got := h.received(t, carol+"#delete2"); len(got) != 0 {
		t.Fatal("forged Delete was recorded")
	}
}

func TestInboxRateLimit(t *testing.T) {
	h := newHanse(t, hanseOptions{inbox: inbox.Options{Rate: 0.5, Burst: 2}})
	var statuses []int
	var retryAfter string
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/inbox", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", activityJSON)
		req.Header.Set("Signature", `keyId="https://spam.example/actor#main-key",headers="date",signature="AAAA"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		retryAfter = resp.Header.Get("Retry-After")
	}
	if statuses[0] != 401 || statuses[1] != 401 || statuses[2] != 429 || retryAfter == "" || retryAfter == "0" {
		t.Fatalf("statuses %v, Retry-After %q", statuses, retryAfter)
	}
}

// fixtureKinds are the activity fixtures every inbox must record.
var fixtureKinds = regexp.MustCompile(`^(create_.*|announce.*|like|undo_.*|follow|accept_follow|reject_follow|delete.*|flag|block|move|update_.*|emoji_react|dislike|join|leave)(-.*)?\.json$`)

func TestInboxRecordsFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixturesDir, "*", "*.json"))
	var picked []string
	for _, f := range files {
		if fixtureKinds.MatchString(filepath.Base(f)) {
			picked = append(picked, f)
		}
	}
	if len(picked) == 0 {
		t.Skip("shared fixtures not found at " + fixturesDir)
	}
	p := newPeer(t)
	p.set("peer", keys[0], false)
	h := newHanse(t, hanseOptions{})
	me := p.iri("peer")
	for _, f := range picked {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			body, id := substituteActor(t, raw, me)
			status, resp := post(t, h.srv.URL+"/inbox", "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"", body, signer(p, "peer", keys[0]))
			if status != 202 {
				t.Fatalf("status %d: %s", status, resp)
			}
			if id != "" {
				if got := h.received(t, id); len(got) != 1 || got[0].Actor != me {
					t.Fatalf("recorded %+v", got)
				}
			}
		})
	}
	if n := h.count(t, remote.TypeActivityReceived); n != len(picked) {
		t.Fatalf("%d activities recorded, want %d", n, len(picked))
	}
}

// substituteActor replaces the fixture's actor by me (everywhere the actor
// IRI occurs, so that self-Deletes and Updates stay consistent) and returns
// the new body and activity id.
func substituteActor(t *testing.T, raw []byte, me string) ([]byte, string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if old, ok := m["actor"].(string); ok && old != "" {
		raw = bytes.ReplaceAll(raw, []byte(`"`+old), []byte(`"`+me))
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
	} else {
		m["actor"] = me
		var err error
		if raw, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	id, _ := m["id"].(string)
	return raw, id
}
