package app_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/community"
	dmedia "github.com/hanse-network/hanse/internal/domain/media"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/internal/media"
)

// fakeGate answers the community questions from tables keyed by
// "community|person".
type fakeGate struct {
	mu           sync.Mutex
	visibility   map[string]community.Visibility // the communities that exist
	members      map[string]bool
	banned       map[string]bool
	facilitators map[string]bool
}

func newFakeGate() *fakeGate {
	return &fakeGate{
		visibility: map[string]community.Visibility{"c1": community.Public, "closed": community.Members},
		members: map[string]bool{"c1|alice": true, "c1|bob": true, "c1|fac": true, "closed|alice": true,
			"c1|" + bobIRI: true},
		banned:       map[string]bool{"c1|mallory": true, "c1|" + evilIRI: true},
		facilitators: map[string]bool{"c1|fac": true},
	}
}

func (g *fakeGate) CanPost(_ context.Context, c, author string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.visibility[c] == "":
		return app.ErrCommunityNotFound
	case g.banned[c+"|"+author]:
		return app.ErrBanned
	case !g.members[c+"|"+author]:
		return app.ErrNotMember
	}
	return nil
}

func (g *fakeGate) CanModerate(_ context.Context, c string, by app.Acting) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if by.Admin || g.facilitators[c+"|"+by.ID] {
		return nil
	}
	return app.ErrNotFacilitator
}

func (g *fakeGate) Membership(_ context.Context, c, member string) (community.MembershipState, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.visibility[c] == "":
		return "", app.ErrCommunityNotFound
	case g.banned[c+"|"+member]:
		return community.StateBanned, nil
	case g.members[c+"|"+member]:
		return community.StateMember, nil
	}
	return community.StateNone, nil
}

func (g *fakeGate) Visibility(_ context.Context, c string) (community.Visibility, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if v := g.visibility[c]; v != "" {
		return v, nil
	}
	return "", app.ErrCommunityNotFound
}

const (
	bobIRI  = "https://remote.example/users/bob"
	evilIRI = "https://evil.example/users/mallory"
)

var (
	alice = app.Acting{ID: "alice"}
	fac   = app.Acting{ID: "fac"}
	admin = app.Acting{ID: "root", Admin: true}
)

type postEnv struct {
	*env
	posts *app.Posts
	media *app.Media
	files *media.Store
}

func newPostEnv(t *testing.T) *postEnv {
	t.Helper()
	e := newEnv(t)
	files, err := media.New(t.TempDir(), media.Options{MaxBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	p := app.NewPosts(e.store, e.reg, personal.Plain{}, newFakeGate(), "hanse.example")
	p.Clock = func() time.Time { return t0 }
	p.LocalPostID = func(iri string) (string, bool) {
		return strings.CutPrefix(iri, "https://hanse.example/users/alice/posts/")
	}
	return &postEnv{env: e, posts: p, media: app.NewMedia(e.store, e.reg, files, personal.Plain{}, "hanse.example"), files: files}
}

func deText(text string) map[string]string { return map[string]string{"de": text} }

// publish publishes a public Note by author, failing the test on error.
func (e *postEnv) publish(cmd app.PublishPost) string {
	e.t.Helper()
	if cmd.Kind == "" {
		cmd.Kind = post.Note
	}
	if cmd.Visibility == "" {
		cmd.Visibility = post.Public
	}
	if cmd.ContentMap == nil {
		cmd.ContentMap = deText("Hallo")
	}
	id, _, err := e.posts.Publish(e.ctx, cmd)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *postEnv) state(id string) post.State {
	e.t.Helper()
	s, err := e.posts.Load(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// open decodes a sealed Content (personal.Plain).
func open(t *testing.T, text personal.Text) post.Content {
	t.Helper()
	var c post.Content
	if err := personal.OpenJSON(personal.Plain{}, text, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *app.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("%s: err = %v, want a validation error on %s", what, err, field)
	}
}

var png = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 40)...)

func TestPostsPublish(t *testing.T) {
	e := newPostEnv(t)
	id, pos, err := e.posts.Publish(e.ctx, app.PublishPost{Author: alice, Kind: post.Note, Visibility: post.Public,
		ContentMap: deText("Heute #Imkern"), Mentions: []string{bobIRI}})
	if err != nil || pos == 0 {
		t.Fatalf("Publish = %s, %d, %v", id, pos, err)
	}
	payloads, envs := e.read(post.Stream(id))
	pub := payloads[0].(post.Published)
	if len(payloads) != 1 || pub.AuthorID != "alice" || pub.RootID != id || !reflect.DeepEqual(pub.Hashtags, []string{"imkern"}) ||
		envs[0].Metadata.Actor != "alice" || !envs[0].Metadata.OccurredAt.Equal(t0) {
		t.Fatalf("stream = %+v, meta %+v", payloads, envs[0].Metadata)
	}
	if pub.Content.Subject != "alice" || open(t, pub.Content).ContentMap["de"] != "Heute #Imkern" {
		t.Fatalf("content %+v not sealed under alice", pub.Content)
	}

	// Into communities.
	inC1 := e.publish(app.PublishPost{Author: alice, CommunityID: "c1"})
	if s := e.state(inC1); s.CommunityID != "c1" || s.Visibility != post.Public {
		t.Fatalf("community post %+v", s)
	}
	closed := e.publish(app.PublishPost{Author: alice, CommunityID: "closed", Visibility: post.Public})
	if s := e.state(closed); s.Visibility != post.Members {
		t.Fatalf("members-only community post has visibility %s", s.Visibility)
	}
	// Replies inherit the community and the root.
	r1 := e.publish(app.PublishPost{Author: app.Acting{ID: "bob"}, InReplyTo: inC1})
	r2 := e.publish(app.PublishPost{Author: alice, InReplyTo: r1})
	if s := e.state(r2); s.CommunityID != "c1" || s.RootID != inC1 || s.InReplyTo != r1 {
		t.Fatalf("reply of a reply %+v", s)
	}
	// A local post's IRI works as InReplyTo (LocalPostID).
	r3 := e.publish(app.PublishPost{Author: alice, InReplyTo: "https://hanse.example/users/alice/posts/" + inC1})
	if s := e.state(r3); s.InReplyTo != inC1 || s.CommunityID != "c1" {
		t.Fatalf("reply by IRI %+v", s)
	}

	cases := []struct {
		name  string
		cmd   app.PublishPost
		err   error
		field string
	}{
		{name: "not a member", cmd: app.PublishPost{Author: app.Acting{ID: "carol"}, CommunityID: "c1"}, err: app.ErrNotMember},
		{name: "banned", cmd: app.PublishPost{Author: app.Acting{ID: "mallory"}, CommunityID: "c1"}, err: app.ErrBanned},
		{name: "unknown community", cmd: app.PublishPost{Author: alice, CommunityID: "nope"}, err: app.ErrCommunityNotFound},
		{name: "reply by a non-member", cmd: app.PublishPost{Author: app.Acting{ID: "carol"}, InReplyTo: inC1}, err: app.ErrNotMember},
		{name: "reply to nothing", cmd: app.PublishPost{Author: alice, InReplyTo: "0192f1c4-0000-7000-8000-000000000000"}, field: "in_reply_to"},
		{name: "reply to an impossible id", cmd: app.PublishPost{Author: alice, InReplyTo: "a b"}, field: "in_reply_to"},
		{name: "reply into another community", cmd: app.PublishPost{Author: alice, InReplyTo: inC1, CommunityID: "closed"}, field: "community_id"},
		{name: "empty text", cmd: app.PublishPost{Author: alice, ContentMap: deText(" ")}, field: "content"},
		{name: "no author", cmd: app.PublishPost{ContentMap: deText("x")}, field: "author"},
		{name: "unknown media", cmd: app.PublishPost{Author: alice, MediaIDs: []string{"0192f1c4-0000-7000-8000-000000000000"}}, err: app.ErrMediaNotFound},
		{name: "five media", cmd: app.PublishPost{Author: alice, MediaIDs: []string{"a", "b", "c", "d", "e"}}, field: "media_ids"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.cmd.Kind == "" {
				c.cmd.Kind, c.cmd.Visibility = post.Note, post.Public
			}
			if c.cmd.ContentMap == nil {
				c.cmd.ContentMap = deText("x")
			}
			_, _, err := e.posts.Publish(e.ctx, c.cmd)
			if c.field != "" {
				wantField(t, c.name, err, c.field)
			} else {
				wantErr(t, c.name, err, c.err)
			}
		})
	}

	// Locked threads and deleted parents.
	if _, err := e.posts.LockThread(e.ctx, inC1, fac); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.posts.Publish(e.ctx, app.PublishPost{Author: alice, Kind: post.Note, Visibility: post.Public, ContentMap: deText("x"), InReplyTo: r2})
	wantErr(t, "reply into a locked thread", err, app.ErrThreadLocked)
	if _, err := e.posts.Delete(e.ctx, id, alice); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.posts.Publish(e.ctx, app.PublishPost{Author: alice, Kind: post.Note, Visibility: post.Public, ContentMap: deText("x"), InReplyTo: id})
	wantErr(t, "reply to a deleted post", err, app.ErrPostParentGone)
}

func TestPostsPublishWithMediaAndIdempotencyKey(t *testing.T) {
	e := newPostEnv(t)
	m1, _, err := e.media.Upload(e.ctx, "alice", bytes.NewReader(png), "image/png", "a hive")
	if err != nil {
		t.Fatal(err)
	}
	bobs, _, err := e.media.Upload(e.ctx, "bob", bytes.NewReader(png), "", "")
	if err != nil {
		t.Fatal(err)
	}
	cmd := app.PublishPost{Author: alice, Kind: post.Note, Visibility: post.Public, ContentMap: deText("Fotos"),
		MediaIDs: []string{m1.ID}, Descriptions: []string{"Bienenstock"}, IdempotencyKey: "req-1"}
	id, pos, err := e.posts.Publish(e.ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	again, pos2, err := e.posts.Publish(e.ctx, cmd)
	if err != nil || again != id || pos2 != pos {
		t.Fatalf("retry = %s %d %v, want %s %d", again, pos2, err, id, pos)
	}
	payloads, _ := e.read(post.Stream(id))
	pub := payloads[0].(post.Published)
	want := []post.Attachment{{MediaID: m1.ID, MediaType: "image/png", Size: int64(len(png))}}
	if len(payloads) != 1 || !reflect.DeepEqual(pub.Attachments, want) || open(t, pub.Content).Descriptions[0] != "Bienenstock" {
		t.Fatalf("stream %+v", payloads)
	}
	cmd.IdempotencyKey, cmd.MediaIDs = "", []string{bobs.ID}
	_, _, err = e.posts.Publish(e.ctx, cmd)
	wantErr(t, "someone else's media", err, app.ErrMediaNotFound)
	cmd.MediaIDs = []string{m1.ID, m1.ID}
	_, _, err = e.posts.Publish(e.ctx, cmd)
	wantField(t, "media twice", err, "media_ids")
}

func TestPostsAuthorAndModeration(t *testing.T) {
	e := newPostEnv(t)
	root := e.publish(app.PublishPost{Author: alice, CommunityID: "c1"})
	reply := e.publish(app.PublishPost{Author: app.Acting{ID: "bob"}, InReplyTo: root})
	loose := e.publish(app.PublishPost{Author: alice})

	if _, err := e.posts.Edit(e.ctx, root, alice, deText("neu #Wachs"), nil, nil); err != nil {
		t.Fatal(err)
	}
	payloads, _ := e.read(post.Stream(root))
	if ed := payloads[1].(post.Edited); !reflect.DeepEqual(ed.Hashtags, []string{"wachs"}) || open(t, ed.Content).ContentMap["de"] != "neu #Wachs" {
		t.Fatalf("edit %+v", ed)
	}
	_, err := e.posts.Edit(e.ctx, root, fac, deText("x"), nil, nil)
	wantErr(t, "edit by someone else", err, app.ErrNotAuthor)
	_, err = e.posts.Edit(e.ctx, root, alice, deText(""), nil, nil)
	wantField(t, "edit to nothing", err, "content")
	_, err = e.posts.Edit(e.ctx, "0192f1c4-0000-7000-8000-000000000000", alice, deText("x"), nil, nil)
	wantErr(t, "edit unknown", err, app.ErrPostNotFound)

	// Moderation: facilitators only.
	for name, call := range map[string]func(string, app.Acting) (events.Position, error){
		"remove": func(id string, by app.Acting) (events.Position, error) { return e.posts.Remove(e.ctx, id, by, "spam") },
		"lock":   func(id string, by app.Acting) (events.Position, error) { return e.posts.LockThread(e.ctx, id, by) },
		"pin":    func(id string, by app.Acting) (events.Position, error) { return e.posts.Pin(e.ctx, id, by) },
	} {
		_, err := call(root, alice)
		wantErr(t, name+" by a member", err, app.ErrNotFacilitator)
		_, err = call(loose, alice)
		wantErr(t, name+" outside a community", err, app.ErrPostNotInCommunity)
	}
	_, err = e.posts.Pin(e.ctx, reply, fac)
	wantErr(t, "pin a reply", err, app.ErrNotThreadRoot)
	_, err = e.posts.LockThread(e.ctx, reply, fac)
	wantErr(t, "lock a reply", err, app.ErrNotThreadRoot)

	// Pin, lock and their no-ops (which answer the stream's last position).
	pinned, err := e.posts.Pin(e.ctx, root, fac)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.posts.Pin(e.ctx, root, fac); err != nil || again != pinned {
		t.Fatalf("pin again = %d, %v; want %d", again, err, pinned)
	}
	if _, err := e.posts.LockThread(e.ctx, root, admin); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() (events.Position, error){
		func() (events.Position, error) { return e.posts.UnlockThread(e.ctx, root, fac) },
		func() (events.Position, error) { return e.posts.UnlockThread(e.ctx, root, fac) },
		func() (events.Position, error) { return e.posts.Unpin(e.ctx, root, fac) },
		func() (events.Position, error) { return e.posts.Unpin(e.ctx, root, fac) },
	} {
		if _, err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if s := e.state(root); s.Locked || s.Pinned {
		t.Fatalf("after unlock/unpin %+v", s)
	}
	if got := len(mustRead(e.env, post.Stream(root))); got != 6 { // published, edited, pinned, locked, unlocked, unpinned
		t.Fatalf("%d events, want 6", got)
	}

	// Removal, deletion.
	if _, err := e.posts.Remove(e.ctx, reply, fac, "off topic"); err != nil {
		t.Fatal(err)
	}
	_, err = e.posts.Remove(e.ctx, reply, fac, "")
	wantErr(t, "remove twice", err, app.ErrPostRemoved)
	_, err = e.posts.Delete(e.ctx, loose, fac)
	wantErr(t, "delete by someone else", err, app.ErrNotAuthor)
	if _, err := e.posts.Delete(e.ctx, loose, admin); err != nil {
		t.Fatalf("admin delete: %v", err)
	}
	_, err = e.posts.Delete(e.ctx, loose, alice)
	wantErr(t, "delete twice", err, app.ErrPostDeleted)
	_, err = e.posts.Edit(e.ctx, loose, alice, deText("x"), nil, nil)
	wantErr(t, "edit deleted", err, app.ErrPostDeleted)
}

func mustRead(e *env, stream string) []any {
	p, _ := e.read(stream)
	return p
}

func remotePost(objectIRI string) app.RemotePost {
	return app.RemotePost{ObjectIRI: objectIRI, AuthorIRI: bobIRI, Kind: post.Note, Visibility: post.Public,
		ContentMap: map[string]string{"en": "<p>Hi</p>"}, Hashtags: []string{"#Bees"}, Activity: `{"type":"Create"}`,
		PublishedAt: t0}
}

func TestPostsRemote(t *testing.T) {
	e := newPostEnv(t)
	rp := remotePost(bobIRI + "/notes/1")
	rp.CommunityID = "c1"
	id, pos, err := e.posts.PublishRemote(e.ctx, rp)
	if err != nil || id != app.PostIDForIRI(rp.ObjectIRI) {
		t.Fatalf("PublishRemote = %s, %v", id, err)
	}
	if again, pos2, err := e.posts.PublishRemote(e.ctx, rp); err != nil || again != id || pos2 != pos {
		t.Fatalf("again = %s %d %v", again, pos2, err)
	}
	payloads, envs := e.read(post.Stream(id))
	pub := payloads[0].(post.Published)
	if len(payloads) != 1 || pub.AuthorIRI != bobIRI || pub.Content.Subject != bobIRI || pub.PublishedAt != "2026-05-04T10:00:00Z" ||
		envs[0].Metadata.Origin != "remote.example" || envs[0].ID != events.DerivedUUID(post.TypePublished, rp.ObjectIRI) {
		t.Fatalf("stream %+v meta %+v", pub, envs[0].Metadata)
	}
	// A local reply to the remote post names it by IRI.
	local := e.publish(app.PublishPost{Author: alice, InReplyTo: rp.ObjectIRI})
	if s := e.state(local); s.InReplyTo != id || s.RootID != id || s.CommunityID != "c1" {
		t.Fatalf("local reply %+v", s)
	}
	// A remote reply to an unknown post starts its own thread.
	orphan := remotePost(bobIRI + "/notes/2")
	orphan.InReplyTo = "https://elsewhere.example/notes/9"
	oid, _, err := e.posts.PublishRemote(e.ctx, orphan)
	if err != nil {
		t.Fatal(err)
	}
	if s := e.state(oid); s.InReplyTo != orphan.InReplyTo || s.RootID != oid {
		t.Fatalf("orphan %+v", s)
	}
	banned := remotePost(evilIRI + "/notes/1")
	banned.AuthorIRI, banned.CommunityID = evilIRI, "c1"
	_, _, err = e.posts.PublishRemote(e.ctx, banned)
	wantErr(t, "banned remote author", err, app.ErrBanned)

	// Update and Delete: only the author; replays are no-ops.
	upd := remotePost(rp.ObjectIRI)
	upd.ContentMap, upd.Activity = map[string]string{"en": "<p>v2</p>"}, `{"type":"Update"}`
	p1, err := e.posts.EditRemote(e.ctx, rp.ObjectIRI, bobIRI, upd)
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := e.posts.EditRemote(e.ctx, rp.ObjectIRI, bobIRI, upd); err != nil || p2 != p1 {
		t.Fatalf("replayed update = %d, %v; want %d", p2, err, p1)
	}
	_, err = e.posts.EditRemote(e.ctx, rp.ObjectIRI, evilIRI, upd)
	wantErr(t, "update by another actor", err, app.ErrNotAuthor)
	_, err = e.posts.DeleteRemote(e.ctx, rp.ObjectIRI, evilIRI)
	wantErr(t, "delete by another actor", err, app.ErrNotAuthor)
	_, err = e.posts.DeleteRemote(e.ctx, "https://nowhere.example/x", bobIRI)
	wantErr(t, "delete unknown", err, app.ErrPostNotFound)
	d1, err := e.posts.DeleteRemote(e.ctx, rp.ObjectIRI, bobIRI)
	if err != nil {
		t.Fatal(err)
	}
	if d2, err := e.posts.DeleteRemote(e.ctx, rp.ObjectIRI, bobIRI); err != nil || d2 != d1 {
		t.Fatalf("second delete = %d, %v", d2, err)
	}
	if n := len(mustRead(e.env, post.Stream(id))); n != 3 {
		t.Fatalf("%d events, want published, edited, deleted", n)
	}
	_, err = e.posts.EditRemote(e.ctx, rp.ObjectIRI, bobIRI, remotePost(rp.ObjectIRI))
	wantErr(t, "update after delete", err, app.ErrPostDeleted)
}

// TestPostsRemoveByCommunity: a received post of a community on another
// server is removed when that community's Group announces its Delete
// (FEP-1b12), by nobody else; a replay, or a removal of a post already
// gone, appends nothing.
func TestPostsRemoveByCommunity(t *testing.T) {
	const groupIRI = "https://lemmy.example/c/bees"
	e := newPostEnv(t)
	rp := remotePost(bobIRI + "/notes/7")
	rp.CommunityIRI = groupIRI
	id, _, err := e.posts.PublishRemote(e.ctx, rp)
	if err != nil {
		t.Fatal(err)
	}
	if s := e.state(id); s.CommunityIRI != groupIRI || s.CommunityID != "" {
		t.Fatalf("state %+v, want remote community %s", s, groupIRI)
	}
	other, _, err := e.posts.PublishRemote(e.ctx, remotePost(bobIRI+"/notes/8"))
	if err != nil {
		t.Fatal(err)
	}

	_, err = e.posts.RemoveByCommunity(e.ctx, rp.ObjectIRI, evilIRI, evilIRI+"/announces/1")
	wantErr(t, "removal by another group", err, app.ErrPostNotInCommunity)
	_, err = e.posts.RemoveByCommunity(e.ctx, bobIRI+"/notes/8", groupIRI, groupIRI+"/announces/2")
	wantErr(t, "removal of a post of no remote community", err, app.ErrPostNotInCommunity)
	_, err = e.posts.RemoveByCommunity(e.ctx, "https://nowhere.example/x", groupIRI, groupIRI+"/announces/3")
	wantErr(t, "removal of an unknown post", err, app.ErrPostNotFound)

	p1, err := e.posts.RemoveByCommunity(e.ctx, rp.ObjectIRI, groupIRI, groupIRI+"/announces/4")
	if err != nil || p1 == 0 {
		t.Fatalf("RemoveByCommunity = %d, %v", p1, err)
	}
	if p2, err := e.posts.RemoveByCommunity(e.ctx, rp.ObjectIRI, groupIRI, groupIRI+"/announces/4"); err != nil || p2 != p1 {
		t.Fatalf("replayed removal = %d, %v; want %d", p2, err, p1)
	}
	if _, err := e.posts.RemoveByCommunity(e.ctx, rp.ObjectIRI, groupIRI, groupIRI+"/announces/5"); err != nil {
		t.Fatalf("removal of a removed post: %v, want a no-op", err)
	}
	payloads, envs := e.read(post.Stream(id))
	if len(payloads) != 2 || !reflect.DeepEqual(payloads[1], post.Removed{By: groupIRI}) ||
		envs[1].Metadata.Actor != groupIRI || envs[1].Metadata.Origin != "lemmy.example" {
		t.Fatalf("stream %+v, meta %+v; want published, removed by %s", payloads, envs[len(envs)-1].Metadata, groupIRI)
	}
	if s := e.state(id); !s.Removed {
		t.Fatalf("state %+v, want removed", s)
	}
	if s := e.state(other); s.Removed {
		t.Fatalf("other post %+v removed", s)
	}
}

func TestPostsAnnounceBoostLike(t *testing.T) {
	e := newPostEnv(t)
	root := e.publish(app.PublishPost{Author: alice, CommunityID: "c1"})
	loose := e.publish(app.PublishPost{Author: alice})
	dm := e.publish(app.PublishPost{Author: alice, Visibility: post.Direct, Mentions: []string{bobIRI}})

	if pos, err := e.posts.Announce(e.ctx, root); err != nil || pos == 0 {
		t.Fatalf("Announce = %d, %v", pos, err)
	}
	if pos, err := e.posts.Announce(e.ctx, root); err != nil || pos != 0 {
		t.Fatalf("replayed Announce = %d, %v; want (0, nil)", pos, err)
	}
	if n := len(mustRead(e.env, post.Stream(root))); n != 2 {
		t.Fatalf("%d events, want published and announced", n)
	}
	_, err := e.posts.Announce(e.ctx, loose)
	wantErr(t, "announce outside a community", err, app.ErrPostNotInCommunity)

	b1, err := e.posts.Boost(e.ctx, loose, bobIRI, bobIRI+"/announce/1")
	if err != nil || b1 == 0 {
		t.Fatalf("Boost = %d, %v", b1, err)
	}
	if b, err := e.posts.Boost(e.ctx, loose, bobIRI, bobIRI+"/announce/1"); err != nil || b != b1 {
		t.Fatalf("replayed Boost = %d, %v", b, err)
	}
	if b, err := e.posts.Boost(e.ctx, loose, bobIRI, bobIRI+"/announce/2"); err != nil || b != 0 {
		t.Fatalf("second Boost by the same actor = %d, %v; want (0, nil)", b, err)
	}
	_, err = e.posts.Boost(e.ctx, dm, bobIRI, bobIRI+"/announce/3")
	wantErr(t, "boost a direct post", err, app.ErrPostNotShareable)

	l1, err := e.posts.Like(e.ctx, loose, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if l2, err := e.posts.Like(e.ctx, loose, "bob", ""); err != nil || l2 != l1 {
		t.Fatalf("like twice = %d, %v; want %d", l2, err, l1)
	}
	r1, err := e.posts.Like(e.ctx, loose, bobIRI, bobIRI+"/likes/1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.posts.Unlike(e.ctx, loose, bobIRI); err != nil {
		t.Fatal(err)
	}
	if r2, err := e.posts.Like(e.ctx, loose, bobIRI, bobIRI+"/likes/1"); err != nil || r2 != r1 {
		t.Fatalf("replayed remote Like = %d, %v; want %d", r2, err, r1)
	}
	if u, err := e.posts.Unlike(e.ctx, loose, "carol"); err != nil || u != 0 {
		t.Fatalf("unlike without like = %d, %v", u, err)
	}
	if got := mustRead(e.env, post.LikeStream(loose, "bob")); !reflect.DeepEqual(got, []any{post.Liked{PostID: loose, Liker: "bob"}}) {
		t.Fatalf("like stream %+v", got)
	}
	_, err = e.posts.Like(e.ctx, "0192f1c4-0000-7000-8000-000000000000", "bob", "")
	wantErr(t, "like unknown", err, app.ErrPostNotFound)
	if _, err := e.posts.Delete(e.ctx, loose, alice); err != nil {
		t.Fatal(err)
	}
	_, err = e.posts.Like(e.ctx, loose, "carol", "")
	wantErr(t, "like deleted", err, app.ErrPostDeleted)
}

func TestPostsUnboost(t *testing.T) {
	e := newPostEnv(t)
	loose := e.publish(app.PublishPost{Author: alice})
	const other = "https://elsewhere.example/users/dora"
	if _, err := e.posts.Boost(e.ctx, loose, bobIRI, bobIRI+"/announce/1"); err != nil {
		t.Fatal(err)
	}
	u1, err := e.posts.Unboost(e.ctx, loose, bobIRI, bobIRI+"/announce/1/undo")
	if err != nil || u1 == 0 {
		t.Fatalf("Unboost = %d, %v", u1, err)
	}
	if u, err := e.posts.Unboost(e.ctx, loose, bobIRI, bobIRI+"/announce/1/undo"); err != nil || u != u1 {
		t.Fatalf("replayed Unboost = %d, %v; want %d", u, err, u1)
	}
	if u, err := e.posts.Unboost(e.ctx, loose, bobIRI, bobIRI+"/announce/1/undo-again"); err != nil || u != 0 {
		t.Fatalf("second Unboost = %d, %v; want (0, nil)", u, err)
	}
	if u, err := e.posts.Unboost(e.ctx, loose, other, other+"/undo"); err != nil || u != 0 {
		t.Fatalf("Unboost by an actor that never boosted = %d, %v; want (0, nil)", u, err)
	}
	// Boosting again after the withdrawal is a new boost, with or without
	// an activity id.
	if b, err := e.posts.Boost(e.ctx, loose, bobIRI, bobIRI+"/announce/2"); err != nil || b == 0 {
		t.Fatalf("Boost after Unboost = %d, %v", b, err)
	}
	if _, err := e.posts.Unboost(e.ctx, loose, bobIRI, ""); err != nil {
		t.Fatal(err)
	}
	if b, err := e.posts.Boost(e.ctx, loose, bobIRI, ""); err != nil || b == 0 {
		t.Fatalf("Boost without activity id after Unboost = %d, %v", b, err)
	}
	got := mustRead(e.env, post.Stream(loose))[1:]
	want := []any{
		post.Boosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/announce/1"},
		post.Unboosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/announce/1/undo"},
		post.Boosted{BoosterIRI: bobIRI, ActivityID: bobIRI + "/announce/2"},
		post.Unboosted{BoosterIRI: bobIRI},
		post.Boosted{BoosterIRI: bobIRI},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("post stream after the boosts\n got %+v\nwant %+v", got, want)
	}
	if s, err := e.posts.Load(e.ctx, loose); err != nil || !reflect.DeepEqual(s.Boosters, []string{bobIRI}) {
		t.Fatalf("boosters = %v, %v", s.Boosters, err)
	}

	_, err = e.posts.Unboost(e.ctx, loose, "bob", "x")
	wantField(t, "booster not an IRI", err, "actor")
	_, err = e.posts.Unboost(e.ctx, "0192f1c4-0000-7000-8000-000000000000", bobIRI, "x")
	wantErr(t, "unboost unknown", err, app.ErrPostNotFound)
	if _, err := e.posts.Delete(e.ctx, loose, alice); err != nil {
		t.Fatal(err)
	}
	_, err = e.posts.Unboost(e.ctx, loose, bobIRI, bobIRI+"/announce/3/undo")
	wantErr(t, "unboost a deleted post", err, app.ErrPostDeleted)
}

func TestPostsConcurrentChangesRetry(t *testing.T) {
	e := newPostEnv(t)
	root := e.publish(app.PublishPost{Author: alice, CommunityID: "c1"})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, f := range []func() error{
		func() error { _, err := e.posts.Pin(e.ctx, root, fac); return err },
		func() error { _, err := e.posts.LockThread(e.ctx, root, fac); return err },
		func() error { _, err := e.posts.Announce(e.ctx, root); return err },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- f() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := e.state(root); !s.Pinned || !s.Locked || !s.Announced {
		t.Fatalf("state %+v", s)
	}
}

func TestMediaUploadOpenAndPurge(t *testing.T) {
	e := newPostEnv(t)
	info, pos, err := e.media.Upload(e.ctx, "alice", bytes.NewReader(png), "image/png", "ein Bienenstock")
	if err != nil || pos == 0 || info.Type != "image/png" || info.Size != int64(len(png)) {
		t.Fatalf("Upload = %+v, %d, %v", info, pos, err)
	}
	payloads, _ := e.read(dmedia.Stream(info.ID))
	up := payloads[0].(dmedia.Uploaded)
	if up.OwnerID != "alice" || up.Description.Subject != "alice" || len(up.SHA256) != 64 {
		t.Fatalf("uploaded %+v", up)
	}
	if ix := mustRead(e.env, dmedia.OwnerStream("alice")); !reflect.DeepEqual(ix, []any{dmedia.OwnerIndexed{MediaID: info.ID}}) {
		t.Fatalf("owner index %+v", ix)
	}
	f, got, err := e.media.Open(e.ctx, info.ID)
	if err != nil || got != (app.MediaInfo{ID: info.ID, Type: "image/png", Size: int64(len(png))}) {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	f.Close()

	cases := []struct {
		name     string
		data     []byte
		declared string
		desc     string
		err      error
		field    string
	}{
		{name: "svg", data: []byte("<svg/>"), declared: "image/svg+xml", err: app.ErrMediaUnsupportedType},
		{name: "binary", data: []byte{0, 1, 2}, err: app.ErrMediaUnsupportedType},
		{name: "declared jpeg", data: png, declared: "image/jpeg", field: "file"},
		{name: "too large", data: append(append([]byte{}, png...), make([]byte, 2000)...), err: app.ErrMediaTooLarge},
		{name: "empty", data: nil, field: "file"},
		{name: "alt text too long", data: png, desc: strings.Repeat("x", 1501), field: "description"},
	}
	for _, c := range cases {
		_, _, err := e.media.Upload(e.ctx, "alice", bytes.NewReader(c.data), c.declared, c.desc)
		if c.field != "" {
			wantField(t, c.name, err, c.field)
		} else {
			wantErr(t, c.name, err, c.err)
		}
	}
	if ix := mustRead(e.env, dmedia.OwnerStream("alice")); len(ix) != 1 {
		t.Fatalf("refused uploads were indexed: %+v", ix)
	}

	// An upload that crashed after its index entry: a file, no event.
	second, _, err := e.media.Upload(e.ctx, "alice", bytes.NewReader(png), "", "")
	if err != nil {
		t.Fatal(err)
	}
	orphan := "0192f1c4-0000-7000-8000-0000000000aa"
	if _, err := e.files.Put(orphan, bytes.NewReader(png), ""); err != nil {
		t.Fatal(err)
	}
	data, _ := e.reg.NewEvent(events.NewUUID(), dmedia.OwnerIndexed{MediaID: orphan}, events.Metadata{})
	if _, err := e.store.Append(e.ctx, dmedia.OwnerStream("alice"), events.Any, data); err != nil {
		t.Fatal(err)
	}
	bobs, _, err := e.media.Upload(e.ctx, "bob", bytes.NewReader(png), "", "")
	if err != nil {
		t.Fatal(err)
	}

	for range 2 { // idempotent
		if err := e.media.PurgeAccount(e.ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{info.ID, second.ID} {
		if _, _, err := e.media.Open(e.ctx, id); !errors.Is(err, app.ErrMediaNotFound) {
			t.Fatalf("Open after purge: %v", err)
		}
		if got := mustRead(e.env, dmedia.Stream(id)); len(got) != 2 || got[1] != (dmedia.Deleted{Reason: "account erased"}) {
			t.Fatalf("stream after purge %+v", got)
		}
	}
	for _, id := range []string{info.ID, second.ID, orphan} {
		if _, _, err := e.files.Open(id); !errors.Is(err, media.ErrNotFound) {
			t.Fatalf("file %s still there: %v", id, err)
		}
	}
	if f, _, err := e.media.Open(e.ctx, bobs.ID); err != nil {
		t.Fatalf("bob's file was purged: %v", err)
	} else {
		f.Close()
	}
	if err := e.media.PurgeAccount(e.ctx, "nobody"); err != nil {
		t.Fatalf("purge of an account without media: %v", err)
	}
}
