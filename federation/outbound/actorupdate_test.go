package outbound_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/projections/actors"
)

func ptr[T any](v T) *T { return &v }

// servedDocument fetches an actor's document from actorpub over the
// actors read model, as remote servers do, without its @context.
func servedDocument(t *testing.T, srv *httptest.Server, iri string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+iri[len("https://hanse.example"):], nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", iri, resp.StatusCode, b)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "@context")
	return doc
}

// TestProfileUpdates: a community's profile change (actor.profile_updated
// of its Group) and a person's (account.profile_updated, sealed) send
// Update{actor} with the document actorpub serves at that moment to the
// actor's followers; nothing is sent for unchanged profiles, erased texts
// or people, deleted actors, changes older than the rule, or on a rebuild.
func TestProfileUpdates(t *testing.T) {
	e := newPostEnv(t, actors.NewWithOpener(personal.Plain{Erased: map[string]bool{"erased": true}}))
	pem := testPEM(t)
	e.append(actor.Stream("a1"), actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", PublicKeyPEM: pem,
		KeyGeneration: 1, Discoverable: true})
	e.append(actor.Stream("g1"), actor.Created{ActorID: "g1", Kind: actor.KindGroup, Username: "lernen", Name: "Lernen",
		Summary: "Alt.", ManuallyApprovesFollowers: true, PublicKeyPEM: pem, KeyGeneration: 1})
	e.append(actor.Stream("erased"), actor.Created{ActorID: "erased", Kind: actor.KindPerson, Username: "eve", Name: "Eve",
		PublicKeyPEM: pem, KeyGeneration: 1})
	e.follower("a1", aliceIRI, "https://a.example/users/f1", "https://a.example/users/f1/inbox", aInbox)
	e.follower("g1", groupIRI, "https://b.example/users/m1", "https://b.example/users/m1/inbox", bInbox)
	e.follower("g1", groupIRI, "https://c.example/users/m2", m2Inbox, "")
	e.follower("erased", "https://hanse.example/users/eve", "https://a.example/users/f2", "https://a.example/users/f2/inbox", aInbox)

	srv := httptest.NewServer(actorpub.New(scheme, actors.NewReader(e.runner.DB()), actorpub.Options{}))
	t.Cleanup(srv.Close)
	// sameAsServed checks that the Update embeds the document served now.
	sameAsServed := func(what string, r row) {
		t.Helper()
		obj, _ := r.doc["object"].(map[string]any)
		if served := servedDocument(t, srv, r.doc["actor"].(string)); !reflect.DeepEqual(obj, served) {
			t.Fatalf("%s: the Update embeds\n  %v\nactorpub serves\n  %v", what, obj, served)
		}
	}

	// The community's owner renames it (app.Communities.Update → its
	// Group's actor.profile_updated).
	mark := e.last()
	e.append(actor.Stream("g1"), actor.ProfileUpdated{Name: ptr("Lernen in Bremen"), Summary: ptr("Neu.\n\nMit <Absätzen>."),
		ManuallyApprovesFollowers: ptr(false), Discoverable: ptr(true)})
	rs := e.expect(mark, "Update{Group} to the community's remote members", "Update → "+bInbox, "Update → "+m2Inbox)
	up := rs[0]
	obj := up.doc["object"].(map[string]any)
	if up.doc["actor"] != groupIRI || obj["id"] != groupIRI || obj["type"] != "Group" || obj["name"] != "Lernen in Bremen" ||
		obj["summary"] != "<p>Neu.</p><p>Mit &lt;Absätzen&gt;.</p>" || obj["manuallyApprovesFollowers"] != false ||
		up.ActorID != "g1" || up.doc["to"].([]any)[0] != "https://www.w3.org/ns/activitystreams#Public" {
		t.Fatalf("update = %v", up.doc)
	}
	sameAsServed("Group", up)

	// A second change with a rotated key carries the new key.
	e.append(actor.Stream("g1"), actor.KeyRotated{PublicKeyPEM: pem, KeyGeneration: 2})
	mark = e.last()
	e.append(actor.Stream("g1"), actor.ProfileUpdated{Summary: ptr("Neuer.")})
	rs = e.expect(mark, "the next change", "Update → "+bInbox, "Update → "+m2Inbox)
	if key := rs[0].doc["object"].(map[string]any)["publicKey"].(map[string]any); key["id"] != groupIRI+"#key-2" {
		t.Fatalf("the Update carries key %v", key["id"])
	}
	if rs[0].ActivityID == up.ActivityID {
		t.Fatalf("two Updates share the id %s", up.ActivityID)
	}
	sameAsServed("Group after the key rotation", rs[0])

	// A person changes display name and bio (sealed in the account's
	// events).
	mark = e.last()
	name, _ := e.cipher.Seal("a1", "Alice Müller")
	bio, _ := e.cipher.Seal("a1", "Lernbegleiterin.")
	e.append(account.Stream("a1"), account.ProfileUpdated{DisplayName: &name, Bio: &bio})
	rs = e.expect(mark, "Update{Person} to alice's followers", "Update → "+aInbox)
	if obj := rs[0].doc["object"].(map[string]any); obj["type"] != "Person" || obj["name"] != "Alice Müller" ||
		obj["summary"] != "<p>Lernbegleiterin.</p>" || rs[0].ActorID != "a1" {
		t.Fatalf("update = %v", rs[0].doc)
	}
	sameAsServed("Person", rs[0])

	tests := []struct {
		name   string
		stream string
		at     time.Time
		ev     any
	}{
		{"the same profile again", actor.Stream("g1"), at, actor.ProfileUpdated{Name: ptr("Lernen in Bremen")}},
		{"the locale alone", account.Stream("a1"), at, account.ProfileUpdated{Locale: ptr("de")}},
		{"a change older than the rule", actor.Stream("g1"), rulesSince.Add(-time.Minute), actor.ProfileUpdated{Name: ptr("Früher")}},
		{"an erased person's text", account.Stream("erased"), at, account.ProfileUpdated{DisplayName: sealed(t, e, "erased", "Eva")}},
	}
	for _, tt := range tests {
		mark := e.last()
		e.appendAt(tt.at, tt.stream, tt.ev)
		e.expect(mark, tt.name)
	}

	// Erasure blanks the profile; later changes of the erased or deleted
	// actors send nothing.
	e.append(account.Stream("a1"), account.Erased{Reason: "self"})
	e.append(actor.Stream("g1"), actor.Deleted{})
	mark = e.last()
	e.append(actor.Stream("a1"), actor.ProfileUpdated{Name: ptr("Wieder da")})
	e.append(actor.Stream("g1"), actor.ProfileUpdated{Name: ptr("Gelöscht")})
	e.expect(mark, "an erased person, a deleted Group")

	// A rebuild replays the log and sends nothing again.
	n := len(e.since(0))
	if err := e.runner.Rebuild(e.ctx, outbound.Name); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitSettled(e.ctx, outbound.Name); err != nil {
		t.Fatal(err)
	}
	if got := len(e.since(0)); got != n {
		t.Fatalf("%d deliveries after the rebuild, %d before", got, n)
	}
}

func sealed(t *testing.T, e *penv, subject, text string) *personal.Text {
	t.Helper()
	s, err := e.cipher.Seal(subject, text)
	if err != nil {
		t.Fatal(err)
	}
	return &s
}
