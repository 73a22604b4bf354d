package posts_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/posts"
	"github.com/hanse-network/hanse/projections/projectiontest"
)

var (
	allVisibilities = []post.Visibility{post.Public, post.Unlisted, post.Followers, post.Members, post.Direct}
	shown           = []post.Visibility{post.Public, post.Unlisted}
)

const remoteCreate = `{"id":"https://remote.example/activities/1","type":"Create","actor":"` + bobIRI + `",` +
	`"object":{"id":"` + bobIRI + `/notes/1","type":"Note","content":"<p>Hi</p>"}}`

// listAll pages through a listing limit posts at a time and returns the
// ids, failing when a page is not full before the last one or the totals
// differ.
func listAll(t *testing.T, list func(cursor string, limit int) (posts.Listing, error), limit int) []string {
	t.Helper()
	var got []string
	cursor, total := "", -1
	for range 20 {
		l, err := list(cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		if total >= 0 && l.Total != total {
			t.Fatalf("total changed between pages: %d, %d", total, l.Total)
		}
		total = l.Total
		if l.Next != "" && len(l.Items) != limit {
			t.Fatalf("a page of %d before the last one (limit %d)", len(l.Items), limit)
		}
		got = append(got, ids(l.Items)...)
		if cursor = l.Next; cursor == "" {
			if len(got) != total {
				t.Fatalf("listed %v, total %d", got, total)
			}
			return got
		}
	}
	t.Fatal("paging does not end")
	return nil
}

func TestDocumentQueries(t *testing.T) {
	w := newWorld(t)
	for _, p := range []post.Published{
		{PostID: "pub", AuthorID: "alice", CommunityID: "c1"},
		{PostID: "unl", AuthorID: "alice", CommunityID: "c1", Visibility: post.Unlisted},
		{PostID: "fol", AuthorID: "alice", Visibility: post.Followers},
		{PostID: "mem", AuthorID: "alice", CommunityID: "c1", Visibility: post.Members},
		{PostID: "dir", AuthorID: "alice", Visibility: post.Direct, Mentions: []string{bobIRI}},
	} {
		w.publish(p, "text of "+p.PostID)
	}
	w.on(post.Stream("remote"), post.Published{PostID: "remote", Kind: post.Note, AuthorIRI: bobIRI, ObjectIRI: bobIRI + "/notes/1",
		CommunityID: "c1", RootID: "remote", Visibility: post.Public, Languages: []string{"de"},
		Content: sealText(bobIRI, post.Content{ContentMap: map[string]string{"de": "<p>Hi</p>"}, Activity: remoteCreate})})
	w.publish(post.Published{PostID: "re-local", AuthorID: "bob", InReplyTo: "pub", RootID: "pub"}, "answer")
	w.publish(post.Published{PostID: "re-remote", AuthorID: "alice", InReplyTo: "remote", RootID: "remote"}, "answer")
	w.publish(post.Published{PostID: "re-iri", AuthorID: "alice", InReplyTo: "https://elsewhere.example/notes/9"}, "answer")
	w.publish(post.Published{PostID: "del", AuthorID: "alice"}, "gone")
	w.on(post.Stream("del"), post.Deleted{By: "alice"})
	deletedAt := at(w.n)
	w.publish(post.Published{PostID: "rem", AuthorID: "alice", CommunityID: "c1"}, "removed")
	// The Group shares, in another order than published.
	for _, id := range []string{"pub", "mem", "rem", "remote", "unl"} {
		w.on(post.Stream(id), post.Announced{CommunityID: "c1"})
	}
	announcedAt := at(w.n - 1) // remote's
	// Pins: a re-pinned post goes to the end; removed posts are not listed.
	for _, pin := range []struct {
		id  string
		pin bool
	}{{"unl", true}, {"rem", true}, {"remote", true}, {"pub", true}, {"unl", false}, {"unl", true}} {
		if pin.pin {
			w.on(post.Stream(pin.id), post.Pinned{CommunityID: "c1", By: "fac"})
		} else {
			w.on(post.Stream(pin.id), post.Unpinned{CommunityID: "c1", By: "fac"})
		}
	}
	w.on(post.Stream("rem"), post.Removed{CommunityID: "c1", By: "fac"})
	removedAt := at(w.n)
	w.on(post.Stream("rem"), post.Deleted{By: "alice"}) // after the removal: still gone since then
	q, r := w.start()

	check := func(round int) {
		t.Helper()
		// Lookup: the parent's IRI, the received Create, gone and
		// announced times.
		for _, tt := range []struct{ id, replyTo string }{
			{"re-local", actorIRI("alice") + "/posts/pub"},
			{"re-remote", bobIRI + "/notes/1"},
			{"re-iri", "https://elsewhere.example/notes/9"},
			{"pub", ""},
		} {
			p, err := q.Lookup(ctx, tt.id)
			if err != nil || p.InReplyToIRI != tt.replyTo {
				t.Errorf("round %d: Lookup(%s).InReplyToIRI = %q, %v; want %q", round, tt.id, p.InReplyToIRI, err, tt.replyTo)
			}
		}
		remote, err := q.Lookup(ctx, "remote")
		if err != nil || remote.Activity != remoteCreate || !remote.AnnouncedAt.Equal(announcedAt) || !remote.GoneAt.IsZero() {
			t.Errorf("round %d: Lookup(remote) = %+v, %v", round, remote, err)
		}
		if p, err := q.Lookup(ctx, "pub"); err != nil || p.Activity != "raw" || p.ContentMap["de"] != "text of pub" {
			t.Errorf("round %d: Lookup(pub) = %+v, %v", round, p, err)
		}
		if p, err := q.Lookup(ctx, "del"); err != nil || !p.Deleted || !p.GoneAt.Equal(deletedAt) || p.Activity != "" || p.ContentMap != nil {
			t.Errorf("round %d: Lookup(del) = %+v, %v; want gone at %v with nothing of its text", round, p, err, deletedAt)
		}
		if p, err := q.Lookup(ctx, "rem"); err != nil || !p.Removed || !p.GoneAt.Equal(removedAt) {
			t.Errorf("round %d: Lookup(rem) = %+v, %v; want gone at %v", round, p, err, removedAt)
		}
		// Timelines do not carry the activity.
		if p, err := q.Get(ctx, "remote", ""); err != nil || p.Activity != "" || !p.AnnouncedAt.Equal(announcedAt) {
			t.Errorf("round %d: Get(remote) = %+v, %v", round, p, err)
		}

		byAuthor := func(vs []post.Visibility) func(string, int) (posts.Listing, error) {
			return func(c string, n int) (posts.Listing, error) { return q.ByAuthor(ctx, "alice", vs, c, n) }
		}
		announced := func(vs []post.Visibility) func(string, int) (posts.Listing, error) {
			return func(c string, n int) (posts.Listing, error) { return q.Announced(ctx, "c1", vs, c, n) }
		}
		lists := []struct {
			name string
			list func(string, int) (posts.Listing, error)
			want []string
		}{
			{"ByAuthor shown", byAuthor(shown), []string{"re-iri", "re-remote", "unl", "pub"}},
			{"ByAuthor all", byAuthor(allVisibilities), []string{"re-iri", "re-remote", "dir", "mem", "fol", "unl", "pub"}},
			{"ByAuthor followers", byAuthor([]post.Visibility{post.Followers}), []string{"fol"}},
			{"ByAuthor none", byAuthor(nil), nil},
			{"Announced shown", announced(shown), []string{"unl", "remote", "pub"}},
			{"Announced all", announced(allVisibilities), []string{"unl", "remote", "mem", "pub"}},
			{"ByAuthor of a received post's author", func(c string, n int) (posts.Listing, error) {
				return q.ByAuthor(ctx, "", allVisibilities, c, n)
			}, nil},
			{"Announced elsewhere", func(c string, n int) (posts.Listing, error) {
				return q.Announced(ctx, "c2", allVisibilities, c, n)
			}, nil},
		}
		for _, l := range lists {
			for _, limit := range []int{1, 2, 3, posts.MaxListLimit} {
				if got := listAll(t, l.list, limit); !reflect.DeepEqual(got, l.want) {
					t.Errorf("round %d: %s by %d = %v, want %v", round, l.name, limit, got, l.want)
				}
			}
			if total, err := l.list("", 0); err != nil || total.Total != len(l.want) || total.Items != nil || total.Next != "" {
				t.Errorf("round %d: %s with limit 0 = %+v, %v", round, l.name, total, err)
			}
		}
		page, err := q.Announced(ctx, "c1", shown, "", 10)
		if err != nil || page.Items[1].Activity != remoteCreate || page.Items[0].Activity != "raw" {
			t.Errorf("round %d: Announced items lack their activity: %+v, %v", round, page.Items, err)
		}

		pinned, err := q.Pinned(ctx, "c1")
		if err != nil || !reflect.DeepEqual(ids(pinned), []string{"remote", "pub", "unl"}) || pinned[0].Activity != remoteCreate {
			t.Errorf("round %d: Pinned = %v, %v; want [remote pub unl] with the Create", round, ids(pinned), err)
		}
		if pinned, err := q.Pinned(ctx, "c2"); err != nil || len(pinned) != 0 {
			t.Errorf("round %d: Pinned(c2) = %v, %v", round, ids(pinned), err)
		}
	}
	check(0)

	for _, bad := range []string{"x", "0", "-3", "07", "1.5", " 5"} {
		if _, err := q.ByAuthor(ctx, "alice", shown, bad, 5); !errors.Is(err, posts.ErrInvalidCursor) {
			t.Errorf("ByAuthor cursor %q: %v", bad, err)
		}
		if _, err := q.Announced(ctx, "c1", shown, bad, 5); !errors.Is(err, posts.ErrInvalidCursor) {
			t.Errorf("Announced cursor %q: %v", bad, err)
		}
	}
	if l, err := q.ByAuthor(ctx, "alice", shown, "1", 5); err != nil || len(l.Items) != 0 || l.Total != 4 {
		t.Errorf("a cursor before every post: %+v, %v", l, err)
	}
	projectiontest.RebuildTwiceSameChecksum(t, r, posts.Name, check)
}

// v1 is the posts projector's version 1 as far as queries see it: its
// posts and attachments tables, without the columns version 2 added.
type v1 struct{}

func (v1) Name() string          { return posts.Name }
func (v1) Version() int          { return 1 }
func (v1) Handles(t string) bool { return t == post.TypePublished }

func (v1) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	_, err := tx.ExecContext(ctx, strings.NewReplacer("{posts}", t.Name("posts"), "{attachments}", t.Name("attachments")).Replace(`
		CREATE TABLE {posts} (seq INTEGER NOT NULL PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL,
			author_id TEXT NOT NULL, author_iri TEXT NOT NULL, object_iri TEXT NOT NULL, url TEXT NOT NULL,
			community_id TEXT NOT NULL, in_reply_to TEXT NOT NULL, root_id TEXT NOT NULL, visibility TEXT NOT NULL,
			languages TEXT NOT NULL, hashtags TEXT NOT NULL, mentions TEXT NOT NULL, content_json TEXT NOT NULL,
			sensitive INTEGER NOT NULL, created_at TEXT NOT NULL, edited_at TEXT, deleted INTEGER NOT NULL DEFAULT 0,
			removed INTEGER NOT NULL DEFAULT 0, like_count INTEGER NOT NULL DEFAULT 0, reply_count INTEGER NOT NULL DEFAULT 0,
			boost_count INTEGER NOT NULL DEFAULT 0, pinned INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0);
		CREATE TABLE {attachments} (post_id TEXT NOT NULL, idx INTEGER NOT NULL, media_id TEXT NOT NULL, url TEXT NOT NULL,
			media_type TEXT NOT NULL, description TEXT NOT NULL, PRIMARY KEY (post_id, idx));`))
	return err
}

func (v1) Apply(ctx context.Context, tx *sql.Tx, t projections.Tables, batch []events.Envelope) error {
	for _, e := range batch {
		var ev post.Published
		if err := json.Unmarshal(e.Data, &ev); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.Name("posts")+` (seq, id, kind, author_id, author_iri, object_iri,
			url, community_id, in_reply_to, root_id, visibility, languages, hashtags, mentions, content_json, sensitive,
			created_at) VALUES (?, ?, ?, ?, '', '', '', ?, '', ?, ?, '', '[]', '[]', '', 0, ?)`,
			int64(e.Position), ev.PostID, string(ev.Kind), ev.AuthorID, ev.CommunityID, ev.RootID, string(ev.Visibility),
			projections.FormatTime(time.Unix(0, 0))); err != nil {
			return err
		}
	}
	return nil
}

// TestReadsAnEarlierVersionsBuild: while version 2 builds, the live build
// may be version 1's; the queries it can answer still work, the others
// answer projections.ErrNotLive (the documents answer 503 and retry).
func TestReadsAnEarlierVersionsBuild(t *testing.T) {
	w := newWorld(t)
	w.publish(post.Published{PostID: "p1", AuthorID: "alice", CommunityID: "c1"}, "x")
	w.env.AppendUnrelated()
	q := posts.NewReader(w.env.Start(v1{}).DB())
	if p, err := q.Lookup(ctx, "p1"); err != nil || p.ID != "p1" || p.Activity != "" || p.InReplyToIRI != "" || !p.GoneAt.IsZero() {
		t.Fatalf("Lookup on version 1 = %+v, %v", p, err)
	}
	if ps, err := q.PublicTimeline(ctx, false, posts.Page{}); err != nil || !reflect.DeepEqual(ids(ps), []string{"p1"}) {
		t.Fatalf("PublicTimeline on version 1 = %v, %v", ids(ps), err)
	}
	if _, err := q.ByAuthor(ctx, "alice", shown, "", 5); !errors.Is(err, projections.ErrNotLive) {
		t.Fatalf("ByAuthor on version 1: %v", err)
	}
	if _, err := q.Announced(ctx, "c1", shown, "", 5); !errors.Is(err, projections.ErrNotLive) {
		t.Fatalf("Announced on version 1: %v", err)
	}
	if _, err := q.Pinned(ctx, "c1"); !errors.Is(err, projections.ErrNotLive) {
		t.Fatalf("Pinned on version 1: %v", err)
	}
}
