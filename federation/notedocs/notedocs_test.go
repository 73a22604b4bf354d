package notedocs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/notedocs"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/note"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/notes"

	_ "modernc.org/sqlite"
)

func at(sec int) time.Time { return time.Date(2026, 5, 4, 10, 0, sec, 500, time.UTC) }

type server struct {
	url    string
	scheme urls.Scheme
}

// given: alice (person a1) and the community lernen (g1) with one note of
// each visibility, a deleted one, and notes of g1.
func newServer(t *testing.T) server {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg := events.NewRegistry()
	actor.Register(reg)
	note.Register(reg)
	ctx := context.Background()
	var last events.Position
	appendEv := func(stream string, sec int, payload any) {
		ed, err := reg.NewEvent(events.NewUUID(), payload, events.Metadata{OccurredAt: at(sec)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Append(ctx, stream, events.Any, ed)
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	appendEv(actor.Stream("a1"), 0, actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", KeyGeneration: 1})
	appendEv(actor.Stream("g1"), 0, actor.Created{ActorID: "g1", Kind: actor.KindGroup, Username: "lernen", KeyGeneration: 1})
	for i, n := range []struct {
		id, author string
		v          note.Visibility
	}{{"pub", "a1", note.Public}, {"unl", "a1", note.Unlisted}, {"fol", "a1", note.Followers}, {"dir", "a1", note.Direct},
		{"del", "a1", note.Public}, {"grp", "g1", note.Public}} {
		appendEv(note.Stream(n.id), i+1, note.Published{NoteID: n.id, AuthorID: n.author, Content: "Moin <" + n.id + ">\n\nzwei",
			Language: "de", Visibility: n.v})
	}
	appendEv(note.Stream("del"), 10, note.Deleted{})
	r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, actors.New(), notes.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, name := range []string{actors.Name, notes.Name} {
		if err := r.WaitFor(wctx, name, last); err != nil {
			t.Fatal(err)
		}
	}
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	scheme := urls.MustNew(srv.URL)
	directory := actors.NewReader(r.DB())
	docs := notedocs.New(scheme, directory, notes.NewReader(r.DB()), notedocs.Options{})
	pub := actorpub.New(scheme, directory, actorpub.Options{PageSize: 1,
		Collections: map[urls.Collection]actorpub.Page{urls.Outbox: docs.Outbox}})
	mux := chi.NewRouter()
	docs.Register(mux)
	pub.Register(mux)
	handler = mux
	return server{url: srv.URL, scheme: scheme}
}

func get(t *testing.T, url, accept string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const as2JSON = "application/activity+json"

func TestNoteDocuments(t *testing.T) {
	s := newServer(t)
	alice := s.scheme.Actor(actor.KindPerson, "alice")
	lernen := s.scheme.Actor(actor.KindGroup, "lernen")
	render := func(id string, sec int, v note.Visibility, author string, activity bool) string {
		d := outbound.NoteData{ID: id, AuthorIRI: author, Content: "Moin <" + id + ">\n\nzwei", Language: "de", Visibility: v, Published: at(sec)}
		o := outbound.NoteObject(d)
		if activity {
			o = outbound.CreateNote(d)
		}
		b, err := as2.Encode(o)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name, url, accept string
		status            int
		body              string // exact body, when set
		contains          string
		contentType       string
	}{
		{name: "public note as AS2", url: alice + "/notes/pub", accept: as2JSON, status: 200,
			body: render("pub", 1, note.Public, alice, false), contentType: as2JSON},
		{name: "ld+json with profile", url: alice + "/notes/pub", accept: `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`,
			status: 200, body: render("pub", 1, note.Public, alice, false)},
		{name: "unlisted note", url: alice + "/notes/unl", accept: as2JSON, status: 200, body: render("unl", 2, note.Unlisted, alice, false)},
		{name: "the Create", url: alice + "/notes/pub/activity", accept: as2JSON, status: 200, body: render("pub", 1, note.Public, alice, true)},
		{name: "community note", url: lernen + "/notes/grp", accept: as2JSON, status: 200, body: render("grp", 6, note.Public, lernen, false)},
		{name: "HTML for browsers", url: alice + "/notes/pub", accept: "text/html", status: 200,
			contains: "<p>Moin &lt;pub&gt;</p><p>zwei</p>", contentType: "text/html; charset=utf-8"},
		{name: "followers-only: 404", url: alice + "/notes/fol", accept: as2JSON, status: 404},
		{name: "direct: 404", url: alice + "/notes/dir", accept: as2JSON, status: 404},
		{name: "direct Create: 404", url: alice + "/notes/dir/activity", accept: as2JSON, status: 404},
		{name: "unknown: 404", url: alice + "/notes/nope", accept: as2JSON, status: 404},
		{name: "another author's note: 404", url: alice + "/notes/grp", accept: as2JSON, status: 404},
		{name: "wrong kind in the path: 404", url: s.url + "/communities/alice/notes/pub", accept: as2JSON, status: 404},
		{name: "deleted: 410 Tombstone", url: alice + "/notes/del", accept: as2JSON, status: 410, contains: `"type":"Tombstone"`},
		{name: "deleted Create: 410", url: alice + "/notes/del/activity", accept: as2JSON, status: 410, contains: `"formerType":"Create"`},
		{name: "deleted, HTML: 410", url: alice + "/notes/del", accept: "text/html", status: 410, contains: "deleted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := get(t, c.url, c.accept)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if c.body != "" && body != c.body {
				t.Fatalf("body\n%s\nwant\n%s", body, c.body)
			}
			if !strings.Contains(body, c.contains) {
				t.Fatalf("body %s lacks %q", body, c.contains)
			}
			if c.contentType != "" && h.Get("Content-Type") != c.contentType {
				t.Fatalf("Content-Type %q, want %q", h.Get("Content-Type"), c.contentType)
			}
			if h.Get("Vary") != "Accept" {
				t.Fatalf("Vary = %q", h.Get("Vary"))
			}
		})
	}
}

func TestOutbox(t *testing.T) {
	s := newServer(t)
	alice := s.scheme.Actor(actor.KindPerson, "alice")
	var coll struct {
		TotalItems int    `json:"totalItems"`
		First      string `json:"first"`
	}
	status, _, body := get(t, alice+"/outbox", as2JSON)
	if err := json.Unmarshal([]byte(body), &coll); status != 200 || err != nil || coll.TotalItems != 2 {
		t.Fatalf("outbox: %d %s (%v)", status, body, err)
	}
	// Page through: only the Creates of the public and unlisted notes,
	// newest first; followers-only, direct and deleted never appear.
	var ids []string
	for url := coll.First; url != ""; {
		var page struct {
			OrderedItems []struct {
				ID     string `json:"id"`
				Type   string `json:"type"`
				Object struct {
					ID string `json:"id"`
				} `json:"object"`
			} `json:"orderedItems"`
			Next string `json:"next"`
		}
		status, _, body := get(t, url, as2JSON)
		if err := json.Unmarshal([]byte(body), &page); status != 200 || err != nil {
			t.Fatalf("page %s: %d %s (%v)", url, status, body, err)
		}
		for _, it := range page.OrderedItems {
			if it.Type != "Create" || it.ID != it.Object.ID+"/activity" {
				t.Fatalf("item %+v is not a note's Create", it)
			}
			ids = append(ids, it.Object.ID)
		}
		url = page.Next
		if len(ids) > 10 {
			t.Fatal("paging does not end")
		}
	}
	want := []string{alice + "/notes/unl", alice + "/notes/pub"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("outbox items %v, want %v", ids, want)
	}
	if status, _, _ := get(t, alice+"/outbox?page=true&cursor=bogus", as2JSON); status != 400 {
		t.Fatalf("bad cursor: %d, want 400", status)
	}
}
