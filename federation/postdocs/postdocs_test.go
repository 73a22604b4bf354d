package postdocs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/postdocs"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/actors/actorstest"
)

const base = "http://127.0.0.1:8080"

var (
	scheme   = urls.MustNew(base)
	t0       = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	aliceIRI = scheme.Actor(actor.KindPerson, "alice")
	groupIRI = scheme.Actor(actor.KindGroup, "lernen")
)

// memory is a tiny in-memory posts read model (the posts helper's read
// model implements Reader in production). Lists are newest first; cursors
// are offsets.
type memory struct {
	mu      sync.Mutex
	posts   []postdocs.Post // in publication order
	pinned  map[string][]string
	notLive bool
}

func (m *memory) Post(_ context.Context, id string) (postdocs.Post, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.notLive {
		return postdocs.Post{}, projections.ErrNotLive
	}
	for _, p := range m.posts {
		if p.ID == id {
			return p, nil
		}
	}
	return postdocs.Post{}, postdocs.ErrNotFound
}

func (m *memory) list(keep func(postdocs.Post) bool, cursor string, limit int) (postdocs.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []postdocs.Post
	for i := len(m.posts) - 1; i >= 0; i-- {
		if p := m.posts[i]; p.Gone.IsZero() && keep(p) {
			all = append(all, p)
		}
	}
	offset := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return postdocs.Page{}, postdocs.ErrBadCursor
		}
		offset = n
	}
	pg := postdocs.Page{Total: len(all)}
	if limit <= 0 || offset >= len(all) {
		return pg, nil
	}
	end := min(offset+limit, len(all))
	pg.Items = all[offset:end]
	if end < len(all) {
		pg.Next = strconv.Itoa(end)
	}
	return pg, nil
}

func (m *memory) ByAuthor(_ context.Context, authorID string, vs []post.Visibility, cursor string, limit int) (postdocs.Page, error) {
	return m.list(func(p postdocs.Post) bool { return p.AuthorID == authorID && slices.Contains(vs, p.Visibility) }, cursor, limit)
}

func (m *memory) Announced(_ context.Context, communityID string, vs []post.Visibility, cursor string, limit int) (postdocs.Page, error) {
	return m.list(func(p postdocs.Post) bool {
		return p.CommunityID == communityID && !p.AnnouncedAt.IsZero() && slices.Contains(vs, p.Visibility)
	}, cursor, limit)
}

func (m *memory) Pinned(_ context.Context, communityID string) ([]postdocs.Post, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []postdocs.Post
	for _, id := range m.pinned[communityID] {
		for _, p := range m.posts {
			if p.ID == id && p.Gone.IsZero() {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

var lemmyCreate = `{"id":"http://ds9.lemmy.ml/activities/create/1","type":"Create","actor":"http://ds9.lemmy.ml/u/lemmy_alpha",
"to":["https://www.w3.org/ns/activitystreams#Public"],"object":{"id":"http://ds9.lemmy.ml/post/1","type":"Page",
"attributedTo":"http://ds9.lemmy.ml/u/lemmy_alpha","name":"test post","content":"<p>test body</p>",
"to":["` + groupIRI + `","https://www.w3.org/ns/activitystreams#Public"]}}`

func text(s string) post.Content { return post.Content{ContentMap: map[string]string{"de": s}} }

// world: alice (a1), bob (b1, deleted), the community lernen (g1); posts
// of every visibility, a deleted one, a received one, pins.
func world() (*actorstest.Memory, *memory) {
	as := &actorstest.Memory{Actors: []actors.Actor{
		{ID: "a1", Kind: actor.KindPerson, Username: "alice", KeyGeneration: 1, CreatedAt: t0},
		{ID: "b1", Kind: actor.KindPerson, Username: "bob", KeyGeneration: 1, CreatedAt: t0, DeletedAt: t0.Add(time.Hour)},
		{ID: "g1", Kind: actor.KindGroup, Username: "lernen", KeyGeneration: 1, CreatedAt: t0},
	}}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	m := &memory{pinned: map[string][]string{"g1": {"members", "public", "remote"}}, posts: []postdocs.Post{
		{ID: "public", Kind: post.Note, AuthorID: "a1", CommunityID: "g1", Visibility: post.Public, Languages: []string{"de"},
			Content: text("Hallo <Welt>"), Hashtags: []string{"lernen"}, Published: at(1), AnnouncedAt: at(1)},
		{ID: "unlisted", Kind: post.Article, AuthorID: "a1", Visibility: post.Unlisted, Languages: []string{"de"},
			Content: post.Content{ContentMap: map[string]string{"de": "Lang"}, NameMap: map[string]string{"de": "Titel"},
				SummaryMap: map[string]string{"de": "Vorsicht"}}, Published: at(2)},
		{ID: "followers", Kind: post.Note, AuthorID: "a1", Visibility: post.Followers, Content: text("f"), Published: at(3)},
		{ID: "members", Kind: post.Note, AuthorID: "a1", CommunityID: "g1", Visibility: post.Members, Content: text("m"),
			Published: at(4), AnnouncedAt: at(4)},
		{ID: "direct", Kind: post.Note, AuthorID: "a1", Visibility: post.Direct, Content: text("d"), Published: at(5)},
		{ID: "deleted", Kind: post.Note, AuthorID: "a1", Visibility: post.Public, Content: text("x"), Published: at(6), Gone: at(7)},
		{ID: "deleted-followers", Kind: post.Note, AuthorID: "a1", Visibility: post.Followers, Published: at(6), Gone: at(7)},
		{ID: "bobs", Kind: post.Note, AuthorID: "b1", Visibility: post.Public, Content: text("b"), Published: at(8)},
		{ID: "remote", Kind: post.Article, AuthorIRI: "http://ds9.lemmy.ml/u/lemmy_alpha", ObjectIRI: "http://ds9.lemmy.ml/post/1",
			CommunityID: "g1", Visibility: post.Public, Content: post.Content{Activity: lemmyCreate}, Published: at(9), AnnouncedAt: at(10)},
	}}
	return as, m
}

// notesPage is a fake notes outbox with n notes, two per page.
func notesPage(n int) actorpub.Page {
	return func(_ context.Context, _ actors.Actor, cursor string, limit int) (actorpub.PageResult, error) {
		res := actorpub.PageResult{Total: n}
		start := 0
		if cursor != "" {
			start, _ = strconv.Atoi(cursor)
		}
		for i := start; i < n && len(res.Items) < limit; i++ {
			res.Items = append(res.Items, as2.IRI(fmt.Sprintf("%s/notes/n%d", aliceIRI, i)))
			if len(res.Items) == limit && i+1 < n {
				res.Next = strconv.Itoa(i + 1)
			}
		}
		return res, nil
	}
}

func serve(t *testing.T, as actors.Reader, m *memory, notes actorpub.Page) *httptest.Server {
	t.Helper()
	h := postdocs.New(scheme, as, m, postdocs.Options{})
	r := chi.NewRouter()
	h.Register(r)
	actorpub.New(scheme, as, actorpub.Options{PageSize: 2, Collections: map[urls.Collection]actorpub.Page{
		urls.Outbox: h.Outbox(notes), urls.Featured: h.Featured()}}).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	serverURL = srv.URL
	return srv
}

// serverURL is the test server get sends IRIs of base to.
var serverURL string

func get(t *testing.T, method, u, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, strings.Replace(u, base, serverURL, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

const (
	acceptAS = "application/activity+json"
	acceptLD = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	acceptHT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
)

func TestVisibilityTable(t *testing.T) {
	as, m := world()
	serve(t, as, m, nil)
	tests := []struct {
		id     string
		status int
	}{
		{"public", 200}, {"unlisted", 200},
		{"followers", 404}, {"members", 404}, {"direct", 404},
		{"deleted", 410}, {"deleted-followers", 404},
		{"nope", 404},
	}
	for _, tt := range tests {
		for _, accept := range []string{acceptAS, acceptLD, acceptHT, ""} {
			for _, suffix := range []string{"", "/activity"} {
				resp, body := get(t, http.MethodGet, aliceIRI+"/posts/"+tt.id+suffix, accept)
				if resp.StatusCode != tt.status {
					t.Errorf("%s%s (%s): %d, want %d: %s", tt.id, suffix, accept, resp.StatusCode, tt.status, body)
				}
				if resp.Header.Get("Vary") != "Accept" {
					t.Errorf("%s: Vary %q", tt.id, resp.Header.Get("Vary"))
				}
				if tt.status == 404 && (strings.Contains(string(body), `"content"`) || strings.Contains(string(body), "<article")) {
					t.Errorf("%s: a 404 leaks the post: %s", tt.id, body)
				}
				wantAS := (accept == acceptAS || accept == acceptLD || suffix != "") && tt.status != 404
				if ct := resp.Header.Get("Content-Type"); wantAS != (ct == actorpub.MediaTypeActivityJSON) {
					t.Errorf("%s%s (%s): content type %q", tt.id, suffix, accept, ct)
				}
			}
		}
	}
}

func TestPostDocuments(t *testing.T) {
	as, m := world()
	serve(t, as, m, nil)

	// The AS2 document is what outbound renders.
	_, body := get(t, http.MethodGet, aliceIRI+"/posts/public", acceptAS)
	want, err := as2.Encode(outbound.PostObject(scheme, outbound.PostData{ID: "public", Kind: post.Note, AuthorIRI: aliceIRI,
		GroupIRI: groupIRI, Visibility: post.Public, Languages: []string{"de"}, Content: text("Hallo <Welt>"),
		Hashtags: []string{"lernen"}, Published: t0.Add(time.Minute)}))
	if err != nil || string(body) != string(want) {
		t.Fatalf("note document\n%s\nwant\n%s", body, want)
	}
	d, err := as2.Decode(body)
	if err != nil || d.Type != as2.TypeNote || d.Content != "<p>Hallo &lt;Welt&gt;</p>" || d.Audience[0] != groupIRI {
		t.Fatalf("decoded %+v, %v", d, err)
	}
	_, body = get(t, http.MethodGet, aliceIRI+"/posts/public/activity", "")
	if c, err := as2.Decode(body); err != nil || c.Type != as2.TypeCreate || c.ID != aliceIRI+"/posts/public/activity" ||
		c.InlineObject() == nil || c.InlineObject().ID != aliceIRI+"/posts/public" {
		t.Fatalf("create %s", body)
	}

	// The HTML page escapes the text and shows the title and warning.
	resp, body := get(t, http.MethodGet, aliceIRI+"/posts/public", acceptHT)
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" ||
		!strings.Contains(string(body), "<p>Hallo &lt;Welt&gt;</p>") || !strings.Contains(string(body), "@alice@127.0.0.1:8080") ||
		!strings.Contains(string(body), `href="`+groupIRI+`">lernen</a>`) || strings.Contains(string(body), "<Welt>") {
		t.Fatalf("page %s: %s", ct, body)
	}
	_, body = get(t, http.MethodGet, aliceIRI+"/posts/unlisted", acceptHT)
	if !strings.Contains(string(body), "<h1>Titel</h1>") || !strings.Contains(string(body), "<summary>Vorsicht</summary>") {
		t.Fatalf("article page %s", body)
	}

	// Tombstones.
	_, body = get(t, http.MethodGet, aliceIRI+"/posts/deleted", acceptAS)
	var tomb map[string]any
	if err := json.Unmarshal(body, &tomb); err != nil || tomb["type"] != "Tombstone" || tomb["formerType"] != "Note" ||
		tomb["id"] != aliceIRI+"/posts/deleted" {
		t.Fatalf("tombstone %s", body)
	}
	_, body = get(t, http.MethodGet, aliceIRI+"/posts/deleted/activity", acceptHT)
	if err := json.Unmarshal(body, &tomb); err != nil || tomb["formerType"] != "Create" {
		t.Fatalf("create tombstone %s", body)
	}
	if resp, body := get(t, http.MethodGet, aliceIRI+"/posts/deleted", acceptHT); resp.StatusCode != 410 ||
		!strings.Contains(string(body), "deleted") {
		t.Fatalf("gone page %d %s", resp.StatusCode, body)
	}
	bob := scheme.Actor(actor.KindPerson, "bob")
	if resp, _ := get(t, http.MethodGet, bob+"/posts/bobs", acceptAS); resp.StatusCode != 410 {
		t.Fatalf("a deleted author's post: %d", resp.StatusCode)
	}

	// Wrong paths.
	for _, u := range []string{bob + "/posts/public", groupIRI + "/posts/public", scheme.Actor(actor.KindGroup, "alice") + "/posts/public",
		aliceIRI + "/posts/remote", scheme.Actor(actor.KindPerson, "nobody") + "/posts/public"} {
		if resp, _ := get(t, http.MethodGet, u, acceptAS); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", u, resp.StatusCode)
		}
	}

	// HEAD has no body; other methods are refused.
	if resp, body := get(t, http.MethodHead, aliceIRI+"/posts/public", acceptAS); resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("HEAD %d %q", resp.StatusCode, body)
	}
	h := postdocs.New(scheme, as, m, postdocs.Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, aliceIRI+"/posts/public", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST %d", rec.Code)
	}

	// A read model that is not built yet.
	m.notLive = true
	if resp, _ := get(t, http.MethodGet, aliceIRI+"/posts/public", acceptAS); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("not live: %d", resp.StatusCode)
	}
}

func collection(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, body := get(t, http.MethodGet, u, acceptAS)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", u, resp.StatusCode, body)
	}
	if _, err := as2.Decode(body); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func items(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, it := range m["orderedItems"].([]any) {
		if o, ok := it.(map[string]any); ok {
			out = append(out, o)
		} else {
			out = append(out, map[string]any{"iri": it})
		}
	}
	return out
}

func TestGroupOutboxAndFeatured(t *testing.T) {
	as, m := world()
	srv := serve(t, as, m, nil)
	outbox := collection(t, srv.URL+"/communities/lernen/outbox")
	if outbox["totalItems"] != 2.0 {
		t.Fatalf("group outbox %v", outbox)
	}
	pg := items(collection(t, srv.URL+"/communities/lernen/outbox?page=true"))
	if len(pg) != 2 {
		t.Fatalf("outbox page %v", pg)
	}
	remote, local := pg[0], pg[1]
	if remote["type"] != "Announce" || remote["actor"] != groupIRI || remote["id"] != groupIRI+"/announces/remote/create" ||
		remote["object"].(map[string]any)["id"] != "http://ds9.lemmy.ml/activities/create/1" {
		t.Fatalf("announce of the received post %v", remote)
	}
	if local["object"].(map[string]any)["type"] != "Create" || local["object"].(map[string]any)["id"] != aliceIRI+"/posts/public/activity" {
		t.Fatalf("announce of the local post %v", local)
	}

	featured := collection(t, srv.URL+"/communities/lernen/featured")
	if featured["totalItems"] != 2.0 {
		t.Fatalf("featured %v (members-only pins are not listed)", featured)
	}
	pinned := items(collection(t, srv.URL+"/communities/lernen/featured?page=true"))
	if len(pinned) != 2 || pinned[0]["id"] != aliceIRI+"/posts/public" || pinned[0]["type"] != "Note" ||
		pinned[1]["id"] != "http://ds9.lemmy.ml/post/1" || pinned[1]["type"] != "Page" {
		t.Fatalf("pinned %v", pinned)
	}
	if f := collection(t, srv.URL+"/users/alice/featured"); f["totalItems"] != 0.0 {
		t.Fatalf("a person's featured %v", f)
	}
	if resp, _ := get(t, http.MethodGet, srv.URL+"/communities/lernen/featured?cursor=x", acceptAS); resp.StatusCode != 400 {
		t.Fatalf("bad featured cursor: %d", resp.StatusCode)
	}
}

func TestPersonOutboxPostsThenNotes(t *testing.T) {
	as, m := world()
	srv := serve(t, as, m, notesPage(3))
	outbox := collection(t, srv.URL+"/users/alice/outbox")
	if outbox["totalItems"] != 5.0 { // public, unlisted + 3 notes
		t.Fatalf("outbox %v", outbox)
	}
	var seen []string
	next := srv.URL + "/users/alice/outbox?page=true"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		pg := collection(t, next)
		for _, it := range items(pg) {
			if it["type"] == "Create" {
				seen = append(seen, it["object"].(map[string]any)["id"].(string))
			} else {
				seen = append(seen, it["iri"].(string))
			}
		}
		next, _ = pg["next"].(string)
		next = strings.Replace(next, base, srv.URL, 1)
	}
	want := []string{aliceIRI + "/posts/unlisted", aliceIRI + "/posts/public", aliceIRI + "/notes/n0", aliceIRI + "/notes/n1",
		aliceIRI + "/notes/n2"}
	if !slices.Equal(seen, want) {
		t.Fatalf("outbox items\n%v\nwant\n%v", seen, want)
	}
	if resp, _ := get(t, http.MethodGet, srv.URL+"/users/alice/outbox?cursor=zz", acceptAS); resp.StatusCode != 400 {
		t.Fatalf("bad cursor: %d", resp.StatusCode)
	}
}
