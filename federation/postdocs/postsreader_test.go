package postdocs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/postdocs"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/actors/actorstest"
	"github.com/hanse-network/hanse/projections/posts"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

// logWorld records post events in a real event store, each occurring one
// minute after the previous one, for the posts read model.
type logWorld struct {
	t   *testing.T
	env *projectiontest.Env
	n   int
}

func (w *logWorld) on(stream string, payload any) time.Time {
	w.t.Helper()
	w.n++
	at := t0.Add(time.Duration(w.n) * time.Minute)
	w.env.Record(stream, payload, events.Metadata{OccurredAt: at})
	return at
}

// publish records a post with content c sealed under its author and
// returns when it was published.
func (w *logWorld) publish(ev post.Published, c post.Content) time.Time {
	w.t.Helper()
	subject := ev.AuthorID
	if subject == "" {
		subject = ev.AuthorIRI
	}
	if ev.Kind == "" {
		ev.Kind = post.Note
	}
	if ev.Visibility == "" {
		ev.Visibility = post.Public
	}
	if ev.RootID == "" {
		ev.RootID = ev.PostID
	}
	ev.Languages = post.Languages(c.ContentMap)
	sealed, err := personal.SealJSON(personal.Plain{}, subject, c)
	if err != nil {
		w.t.Fatal(err)
	}
	ev.Content = sealed
	return w.on(post.Stream(ev.PostID), ev)
}

// servePosts serves the post documents, outbox and featured collections
// over the posts read model built from w's log.
func servePosts(t *testing.T, w *logWorld, as actors.Reader) {
	t.Helper()
	w.env.AppendUnrelated()
	runner := w.env.Start(posts.New(personal.Plain{}, posts.ActorIRIs(scheme.Actor), posts.PostIRIs(urls.PostIRI)))
	h := postdocs.New(scheme, as, postdocs.NewPostsReader(posts.NewReader(runner.DB())), postdocs.Options{})
	r := chi.NewRouter()
	h.Register(r)
	actorpub.New(scheme, as, actorpub.Options{PageSize: 2, Collections: map[urls.Collection]actorpub.Page{
		urls.Outbox: h.Outbox(notesPage(1)), urls.Featured: h.Featured()}}).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	serverURL = srv.URL
}

func TestPostsReaderServesTheReadModel(t *testing.T) {
	env := projectiontest.Open(t)
	for _, reg := range []func(*events.Registry){actor.Register, post.Register} {
		reg(env.Registry)
	}
	w := &logWorld{t: t, env: env}
	as := &actorstest.Memory{Actors: []actors.Actor{
		{ID: "a1", Kind: actor.KindPerson, Username: "alice", KeyGeneration: 1, CreatedAt: t0},
		{ID: "g1", Kind: actor.KindGroup, Username: "lernen", KeyGeneration: 1, CreatedAt: t0},
	}}
	for _, a := range as.Actors {
		w.on(actor.Stream(a.ID), actor.Created{ActorID: a.ID, Kind: a.Kind, Username: a.Username})
	}
	hallo := post.Content{ContentMap: map[string]string{"de": "Hallo <Welt> #lernen"}, Descriptions: []string{"Ein Bild"}}
	publicAt := w.publish(post.Published{PostID: "public", AuthorID: "a1", CommunityID: "g1", Hashtags: []string{"lernen"},
		Attachments: []post.Attachment{{MediaID: "m1", MediaType: "image/png", Size: 3}}}, hallo)
	w.publish(post.Published{PostID: "unlisted", AuthorID: "a1", Visibility: post.Unlisted}, text("leise"))
	w.publish(post.Published{PostID: "followers", AuthorID: "a1", Visibility: post.Followers}, text("f"))
	w.publish(post.Published{PostID: "members", AuthorID: "a1", CommunityID: "g1", Visibility: post.Members}, text("m"))
	w.publish(post.Published{PostID: "remote", Kind: post.Article, AuthorIRI: "http://ds9.lemmy.ml/u/lemmy_alpha",
		ObjectIRI: "http://ds9.lemmy.ml/post/1", CommunityID: "g1"},
		post.Content{ContentMap: map[string]string{"und": "<p>test body</p>"}, Activity: lemmyCreate})
	replyAt := w.publish(post.Published{PostID: "reply", AuthorID: "a1", CommunityID: "g1", InReplyTo: "remote", RootID: "remote"},
		text("Antwort"))
	w.publish(post.Published{PostID: "deleted", AuthorID: "a1"}, text("weg"))
	deletedAt := w.on(post.Stream("deleted"), post.Deleted{By: "a1"})
	w.publish(post.Published{PostID: "removed", AuthorID: "a1", CommunityID: "g1"}, text("entfernt"))
	for _, id := range []string{"public", "members", "remote", "removed"} {
		w.on(post.Stream(id), post.Announced{CommunityID: "g1"})
		w.on(post.Stream(id), post.Pinned{CommunityID: "g1", By: "a1"})
	}
	removedAt := w.on(post.Stream("removed"), post.Removed{CommunityID: "g1", By: "a1"})
	servePosts(t, w, as)

	t.Run("public post", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, aliceIRI+"/posts/public", acceptAS)
		want, err := as2.Encode(outbound.PostObject(scheme, outbound.PostData{ID: "public", Kind: post.Note, AuthorIRI: aliceIRI,
			GroupIRI: groupIRI, Visibility: post.Public, Languages: []string{"de"}, Content: hallo, Hashtags: []string{"lernen"},
			Attachments: []post.Attachment{{MediaID: "m1", MediaType: "image/png"}}, Published: publicAt}))
		if err != nil || resp.StatusCode != 200 || string(body) != string(want) {
			t.Fatalf("%d\n%s\nwant\n%s", resp.StatusCode, body, want)
		}
		d, err := as2.Decode(body)
		if err != nil || d.Type != as2.TypeNote || d.Content != "<p>Hallo &lt;Welt&gt; #lernen</p>" ||
			len(d.Attachment) != 1 || d.Attachment[0].Name != "Ein Bild" || d.Attachment[0].URL != scheme.Media("m1") {
			t.Fatalf("decoded %+v, %v", d, err)
		}
		_, body = get(t, http.MethodGet, aliceIRI+"/posts/reply", acceptAS)
		if d, err := as2.Decode(body); err != nil || d.InReplyTo.First().ID != "http://ds9.lemmy.ml/post/1" ||
			!d.Published.Equal(replyAt) || d.Content != "<p>Antwort</p>" {
			t.Fatalf("reply %s", body)
		}
	})

	t.Run("visibility and gone posts", func(t *testing.T) {
		for _, tt := range []struct {
			id     string
			status int
			gone   time.Time
		}{
			{"public", 200, time.Time{}}, {"unlisted", 200, time.Time{}},
			{"followers", 404, time.Time{}}, {"members", 404, time.Time{}}, {"remote", 404, time.Time{}}, {"nope", 404, time.Time{}},
			{"deleted", 410, deletedAt}, {"removed", 410, removedAt},
		} {
			resp, body := get(t, http.MethodGet, aliceIRI+"/posts/"+tt.id, acceptAS)
			if resp.StatusCode != tt.status {
				t.Errorf("%s: %d, want %d: %s", tt.id, resp.StatusCode, tt.status, body)
				continue
			}
			if tt.status == 404 && strings.Contains(string(body), `"content"`) {
				t.Errorf("%s: a 404 leaks the post: %s", tt.id, body)
			}
			if tt.status == 410 {
				d, err := as2.Decode(body)
				if err != nil || d.Type != as2.TypeTombstone || d.ID != aliceIRI+"/posts/"+tt.id || !d.Deleted.Equal(tt.gone) ||
					strings.Contains(string(body), "weg") || strings.Contains(string(body), "entfernt") {
					t.Errorf("%s: tombstone %s, %v; want deleted %v", tt.id, body, err, tt.gone)
				}
			}
		}
	})

	t.Run("featured", func(t *testing.T) {
		f := collection(t, serverURL+"/communities/lernen/featured")
		if f["totalItems"] != 2.0 {
			t.Fatalf("featured %v (members-only and removed pins are not listed)", f)
		}
		pinned := items(collection(t, serverURL+"/communities/lernen/featured?page=true"))
		if len(pinned) != 2 || pinned[0]["id"] != aliceIRI+"/posts/public" || pinned[0]["type"] != "Note" ||
			pinned[1]["id"] != "http://ds9.lemmy.ml/post/1" || pinned[1]["type"] != "Page" || pinned[1]["name"] != "test post" {
			t.Fatalf("pinned %v", pinned)
		}
	})

	t.Run("group outbox", func(t *testing.T) {
		outbox := collection(t, serverURL+"/communities/lernen/outbox")
		if outbox["totalItems"] != 3.0 { // two announces + the Group's one note
			t.Fatalf("group outbox %v", outbox)
		}
		pg := items(collection(t, serverURL+"/communities/lernen/outbox?page=true"))
		if len(pg) < 2 || len(pg) == 3 && !strings.HasSuffix(fmt.Sprint(pg[2]["id"]), "/notes/n0/activity") {
			t.Fatalf("outbox page %v", pg)
		}
		remote, local := pg[0], pg[1]
		if remote["type"] != "Announce" || remote["actor"] != groupIRI || remote["id"] != groupIRI+"/announces/remote/create" ||
			remote["object"].(map[string]any)["id"] != "http://ds9.lemmy.ml/activities/create/1" {
			t.Fatalf("announce of the received post %v", remote)
		}
		create := local["object"].(map[string]any)
		if local["type"] != "Announce" || create["type"] != "Create" || create["id"] != aliceIRI+"/posts/public/activity" ||
			create["object"].(map[string]any)["content"] != "<p>Hallo &lt;Welt&gt; #lernen</p>" {
			t.Fatalf("announce of the local post %v", local)
		}
	})

	t.Run("person outbox", func(t *testing.T) {
		outbox := collection(t, serverURL+"/users/alice/outbox")
		if outbox["totalItems"] != 4.0 { // reply, unlisted, public + 1 note
			t.Fatalf("outbox %v", outbox)
		}
		var seen []string
		next := serverURL + "/users/alice/outbox?page=true"
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
			next = strings.Replace(next, base, serverURL, 1)
		}
		want := []string{aliceIRI + "/posts/reply", aliceIRI + "/posts/unlisted", aliceIRI + "/posts/public", aliceIRI + "/notes/n0"}
		if !reflect.DeepEqual(seen, want) {
			t.Fatalf("outbox items\n%v\nwant\n%v", seen, want)
		}
		if resp, _ := get(t, http.MethodGet, serverURL+"/users/alice/outbox?page=true&cursor=p:nope", acceptAS); resp.StatusCode != 400 {
			t.Fatalf("bad cursor: %d", resp.StatusCode)
		}
	})
}

// TestPostsReaderErrors: the adapter's errors are the Reader's.
func TestPostsReaderErrors(t *testing.T) {
	env := projectiontest.Open(t)
	post.Register(env.Registry)
	env.AppendUnrelated()
	runner := env.Start(posts.New(personal.Plain{}))
	r := postdocs.NewPostsReader(posts.NewReader(runner.DB()))
	ctx := context.Background()
	if _, err := r.Post(ctx, "nope"); !errors.Is(err, postdocs.ErrNotFound) {
		t.Fatalf("Post(nope): %v", err)
	}
	if _, err := r.ByAuthor(ctx, "a1", postdocs.Shown, "x", 2); !errors.Is(err, postdocs.ErrBadCursor) {
		t.Fatalf("ByAuthor with a bad cursor: %v", err)
	}
	if _, err := r.Announced(ctx, "g1", postdocs.Shown, "-1", 2); !errors.Is(err, postdocs.ErrBadCursor) {
		t.Fatalf("Announced with a bad cursor: %v", err)
	}
	if pg, err := r.ByAuthor(ctx, "a1", postdocs.Shown, "", 2); err != nil || pg.Total != 0 || len(pg.Items) != 0 {
		t.Fatalf("ByAuthor of nobody: %+v, %v", pg, err)
	}
}
