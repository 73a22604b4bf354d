package outbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/internal/domain/account"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/follow"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/internal/domain/post"
	"github.com/hanse-network/hanse/projections"
)

// penv runs the outbound projector alone (no workers): deliveries stay
// pending and are inspected in the table.
type penv struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.Store
	reg    *events.Registry
	runner *projections.Runner
	cipher personal.Plain
}

// rulesSince is when the projector's rules for older event types are
// enabled in these tests: an hour before the events (at 10:00).
var rulesSince = at.Add(-time.Hour)

// newPostEnv starts the outbound projector, with the read models in
// extra beside it.
func newPostEnv(t *testing.T, extra ...projections.Projector) *penv {
	t.Helper()
	e := &penv{t: t, ctx: context.Background(), reg: events.NewRegistry(), cipher: personal.Plain{Erased: map[string]bool{"erased": true}}}
	actor.Register(e.reg)
	follow.Register(e.reg)
	post.Register(e.reg)
	account.Register(e.reg)
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	p := outbound.New(scheme, outbound.Options{Opener: e.cipher, Clock: func() time.Time { return rulesSince }})
	r, err := projections.New(store, filepath.Join(dir, "projections.db"), nil, nil,
		projections.Options{PollInterval: 10 * time.Millisecond}, append([]projections.Projector{p}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := delivery.EnsureSchema(e.ctx, r.DB()); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	e.runner = r
	return e
}

// appendAt appends payloads to stream, occurring at when, and waits for
// the projector.
func (e *penv) appendAt(when time.Time, stream string, payloads ...any) {
	e.t.Helper()
	var evs []events.EventData
	for _, p := range payloads {
		ev, err := e.reg.NewEvent(events.NewUUID(), p, events.Metadata{OccurredAt: when})
		if err != nil {
			e.t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	res, err := e.store.Append(e.ctx, stream, events.Any, evs...)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, name := range e.runner.Names() {
		if err := e.runner.WaitFor(e.ctx, name, res.Position); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *penv) append(stream string, payloads ...any) {
	e.t.Helper()
	e.appendAt(at, stream, payloads...)
}

func (e *penv) seal(subject string, c post.Content) personal.Text {
	e.t.Helper()
	s, err := personal.SealJSON(e.cipher, subject, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// row is one delivery with its decoded body.
type row struct {
	delivery.Delivery
	doc map[string]any
}

// key is "Type → inbox [actor]".
func (r row) key() string {
	k := r.ActivityType + " → " + r.Inbox
	if r.Target == delivery.TargetActor {
		k += " [actor]"
	}
	return k
}

// since returns the deliveries with an id above after.
func (e *penv) since(after int64) []row {
	e.t.Helper()
	ds, err := delivery.List(e.ctx, e.runner.DB().Reader(), delivery.Filter{AfterID: after, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []row
	for _, d := range ds {
		full, err := delivery.Get(e.ctx, e.runner.DB().Reader(), d.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		r := row{Delivery: d}
		if len(full.Body) > 0 {
			if err := json.Unmarshal(full.Body, &r.doc); err != nil {
				e.t.Fatalf("delivery %d: %v", d.ID, err)
			}
			// Every rendered activity decodes with as2.
			if a, err := as2.Decode(full.Body); err != nil || a.Validate() != nil {
				e.t.Fatalf("delivery %d does not decode: %v", d.ID, err)
			}
		}
		out = append(out, r)
	}
	return out
}

func (e *penv) last() int64 {
	e.t.Helper()
	ds := e.since(0)
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)-1].ID
}

func keys(rs []row) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.key())
	}
	sort.Strings(out)
	return out
}

// checkKeys compares the deliveries made after mark with want.
func (e *penv) expect(mark int64, what string, want ...string) []row {
	e.t.Helper()
	rs := e.since(mark)
	sort.Strings(want)
	if got := keys(rs); !slices.Equal(got, want) {
		e.t.Fatalf("%s: deliveries\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	return rs
}

func find(rs []row, typ, idSuffix string) row {
	for _, r := range rs {
		if r.ActivityType == typ && strings.HasSuffix(r.ActivityID, idSuffix) {
			return r
		}
	}
	return row{}
}

const (
	aInbox  = "https://a.example/inbox"          // alice's follower's shared inbox
	bInbox  = "https://b.example/inbox"          // a community member's shared inbox
	m2Inbox = "https://c.example/users/m2/inbox" // a member without shared inbox
	lemmyA  = "http://ds9.lemmy.ml/u/lemmy_alpha"
)

// world creates alice (a1), bob (b1), the community lernen (g1), a remote
// follower of alice and two remote members of the community.
func (e *penv) world() {
	e.t.Helper()
	e.append(actor.Stream("a1"), actor.Created{ActorID: "a1", Kind: actor.KindPerson, Username: "alice", KeyGeneration: 1})
	e.append(actor.Stream("b1"), actor.Created{ActorID: "b1", Kind: actor.KindPerson, Username: "bob", KeyGeneration: 1})
	e.append(actor.Stream("g1"), actor.Created{ActorID: "g1", Kind: actor.KindGroup, Username: "lernen", KeyGeneration: 1})
	e.append(actor.Stream("erased"), actor.Created{ActorID: "erased", Kind: actor.KindPerson, Username: "eve", KeyGeneration: 1})
	e.follower("a1", aliceIRI, "https://a.example/users/f1", "https://a.example/users/f1/inbox", aInbox)
	e.follower("g1", groupIRI, "https://b.example/users/m1", "https://b.example/users/m1/inbox", bInbox)
	e.follower("g1", groupIRI, "https://c.example/users/m2", m2Inbox, "")
}

func (e *penv) follower(localID, localIRI, iri, inbox, shared string) {
	e.t.Helper()
	e.append(follow.Stream(iri, localIRI), follow.Requested{Direction: follow.Inbound, LocalActorID: localID, FollowerIRI: iri,
		FolloweeIRI: localIRI, FollowActivityID: iri + "/follows/1", RemoteInbox: inbox, RemoteSharedInbox: shared},
		follow.Accepted{AcceptActivityID: localIRI + "#accepts/" + iri})
}

func (e *penv) publish(p post.Published, text string) {
	e.t.Helper()
	subject := p.AuthorID
	if subject == "" {
		subject = p.AuthorIRI
	}
	if p.Content.IsZero() {
		p.Content = e.seal(subject, post.Content{ContentMap: map[string]string{"de": text}})
	}
	if p.Kind == "" {
		p.Kind = post.Note
	}
	p.Languages = []string{"de"}
	e.append(post.Stream(p.PostID), p)
}

func TestLocalPostLifecycle(t *testing.T) {
	e := newPostEnv(t)
	e.world()

	mark := e.last()
	e.publish(post.Published{PostID: "p1", AuthorID: "a1", CommunityID: "g1", Visibility: post.Public,
		Mentions: []string{carolIRI, bobIRI}, Hashtags: []string{"lernen"}}, "Hallo #lernen")
	rs := e.expect(mark, "public post into a local community: the author's followers and the remote person mentioned",
		"Create → "+aInbox, "Create → "+carolIRI+" [actor]")
	create := rs[0].doc
	obj := create["object"].(map[string]any)
	if create["id"] != aliceIRI+"/posts/p1/activity" || obj["audience"] != groupIRI || obj["content"] != "<p>Hallo #lernen</p>" ||
		rs[0].ActorID != "a1" {
		t.Fatalf("create = %v", create)
	}

	mark = e.last()
	e.append(post.Stream("p1"), post.Announced{CommunityID: "g1"})
	rs = e.expect(mark, "the Group announces the Create and the Note to its remote members",
		"Announce → "+bInbox, "Announce → "+bInbox, "Announce → "+m2Inbox, "Announce → "+m2Inbox)
	ac, an := find(rs, "Announce", "/announces/p1/create"), find(rs, "Announce", "/announces/p1/object")
	if ac.ActorID != "g1" || ac.doc["actor"] != groupIRI || ac.doc["object"].(map[string]any)["type"] != "Create" ||
		ac.doc["object"].(map[string]any)["id"] != aliceIRI+"/posts/p1/activity" {
		t.Fatalf("announce create = %v", ac.doc)
	}
	if an.doc["object"].(map[string]any)["type"] != "Note" || an.doc["object"].(map[string]any)["url"] != aliceIRI+"/posts/p1" {
		t.Fatalf("announce note = %v", an.doc)
	}

	mark = e.last()
	e.append(post.Stream("p1"), post.Edited{Languages: []string{"de"}, Mentions: []string{carolIRI},
		Content: e.seal("a1", post.Content{ContentMap: map[string]string{"de": "Neu"}})})
	rs = e.expect(mark, "an edit: Update to the audience, the Group announces it",
		"Update → "+aInbox, "Update → "+carolIRI+" [actor]", "Announce → "+bInbox, "Announce → "+m2Inbox)
	up := find(rs, "Update", "")
	if up.doc["object"].(map[string]any)["content"] != "<p>Neu</p>" || up.doc["object"].(map[string]any)["updated"] == nil {
		t.Fatalf("update = %v", up.doc)
	}
	if au := find(rs, "Announce", ""); au.doc["object"].(map[string]any)["type"] != "Update" {
		t.Fatalf("announce update = %v", au.doc)
	}

	mark = e.last()
	e.append(post.Stream("p1"), post.Deleted{By: "a1"})
	rs = e.expect(mark, "deletion: the author's Delete also to the members, the Group's Announce{Delete} and Undo{Announce}",
		"Delete → "+aInbox, "Delete → "+carolIRI+" [actor]", "Delete → "+bInbox, "Delete → "+m2Inbox,
		"Announce → "+bInbox, "Announce → "+m2Inbox, "Undo → "+bInbox, "Undo → "+m2Inbox)
	ad := find(rs, "Announce", "/announces/p1/delete")
	if inner := ad.doc["object"].(map[string]any); inner["type"] != "Delete" || inner["actor"] != aliceIRI ||
		inner["object"].(map[string]any)["type"] != "Tombstone" {
		t.Fatalf("announce delete = %v", ad.doc)
	}
	undo := find(rs, "Undo", "")
	if inner := undo.doc["object"].(map[string]any); inner["id"] != groupIRI+"/announces/p1/object" || inner["object"] != aliceIRI+"/posts/p1" {
		t.Fatalf("undo = %v", undo.doc)
	}
	// A second deletion event (a replay, say) sends nothing more.
	mark = e.last()
	e.append(post.Stream("p1"), post.Removed{CommunityID: "g1", By: "b1"})
	e.expect(mark, "an already deleted post")
}

func TestVisibilities(t *testing.T) {
	e := newPostEnv(t)
	e.world()
	tests := []struct {
		name     string
		p        post.Published
		announce bool
		want     []string
	}{
		{name: "unlisted", p: post.Published{Visibility: post.Unlisted}, want: []string{"Create → " + aInbox}},
		{name: "followers only, never announced", p: post.Published{Visibility: post.Followers, CommunityID: "g1"}, announce: true,
			want: []string{"Create → " + aInbox}},
		{name: "direct: only the mentioned", p: post.Published{Visibility: post.Direct, Mentions: []string{carolIRI, bobIRI}},
			want: []string{"Create → " + carolIRI + " [actor]"}},
		{name: "members: only through the Group", p: post.Published{Visibility: post.Members, CommunityID: "g1",
			Mentions: []string{carolIRI}}, announce: true,
			want: []string{"Announce → " + bInbox, "Announce → " + bInbox, "Announce → " + m2Inbox, "Announce → " + m2Inbox}},
		{name: "a text that cannot be opened is not rendered", p: post.Published{Visibility: post.Public,
			Content: e.seal("erased", post.Content{ContentMap: map[string]string{"de": "x"}})}},
		{name: "an erased author's post", p: post.Published{AuthorID: "erased", Visibility: post.Public}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark := e.last()
			p := tt.p
			p.PostID = fmt.Sprintf("v%d", i)
			if p.AuthorID == "" {
				p.AuthorID = "a1"
			}
			if p.AuthorID == "erased" {
				e.append(account.Stream("erased"), account.Erased{Reason: "self"})
				mark = e.last()
			}
			e.publish(p, "text")
			if tt.announce {
				e.append(post.Stream(p.PostID), post.Announced{CommunityID: "g1"})
			}
			rs := e.expect(mark, tt.name, tt.want...)
			if p.Visibility == post.Members {
				for _, r := range rs {
					if to := fmt.Sprint(r.doc["to"]); to != "["+groupIRI+"/followers]" || r.doc["cc"] != nil {
						t.Fatalf("members-only announce addressed to %v, cc %v", r.doc["to"], r.doc["cc"])
					}
				}
			}
		})
	}
}

func TestRemotePostInCommunity(t *testing.T) {
	e := newPostEnv(t)
	e.world()
	raw := lemmyCreate(t)
	mark := e.last()
	e.publish(post.Published{PostID: "r1", AuthorIRI: lemmyA, ObjectIRI: "http://ds9.lemmy.ml/post/1", CommunityID: "g1",
		Visibility: post.Public, Kind: post.Article, Content: e.seal(lemmyA, post.Content{
			ContentMap: map[string]string{"und": "<p>test body</p>"}, Activity: string(raw)})}, "")
	e.expect(mark, "a received post sends nothing by itself")

	e.append(post.Stream("r1"), post.Announced{CommunityID: "g1"})
	rs := e.expect(mark, "the Group announces the received Create unmodified, and the Page",
		"Announce → "+bInbox, "Announce → "+bInbox, "Announce → "+m2Inbox, "Announce → "+m2Inbox)
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	full, err := delivery.Get(e.ctx, e.runner.DB().Reader(), find(rs, "Announce", "/announces/r1/create").ID)
	if err != nil || !bytes.Contains(full.Body, compact.Bytes()) {
		t.Fatalf("the Create is not announced unmodified: %s", full.Body)
	}
	if page := find(rs, "Announce", "/announces/r1/object").doc["object"].(map[string]any); page["type"] != "Page" ||
		page["id"] != "http://ds9.lemmy.ml/post/1" {
		t.Fatalf("announce page = %v", page)
	}

	// A local reply to the received post also goes to its remote author.
	mark = e.last()
	e.publish(post.Published{PostID: "p5", AuthorID: "a1", CommunityID: "g1", InReplyTo: "r1", Visibility: post.Public}, "Antwort")
	rs = e.expect(mark, "a reply", "Create → "+aInbox, "Create → "+lemmyA+" [actor]")
	if rs[0].doc["object"].(map[string]any)["inReplyTo"] != "http://ds9.lemmy.ml/post/1" {
		t.Fatalf("reply = %v", rs[0].doc)
	}

	// bob likes the received post, then takes it back.
	mark = e.last()
	e.append(post.LikeStream("r1", "b1"), post.Liked{PostID: "r1", Liker: "b1"})
	e.append(post.LikeStream("r1", "b1"), post.LikeUndone{PostID: "r1", Liker: "b1"})
	e.append(post.LikeStream("p5", "https://x.example/u/z"), post.Liked{PostID: "p5", Liker: "https://x.example/u/z"})
	rs = e.expect(mark, "a like and its undo go to the remote author", "Like → "+lemmyA+" [actor]", "Undo → "+lemmyA+" [actor]")
	like, undo := find(rs, "Like", ""), find(rs, "Undo", "")
	if like.doc["actor"] != bobIRI || like.doc["object"] != "http://ds9.lemmy.ml/post/1" ||
		undo.doc["object"].(map[string]any)["id"] != like.ActivityID || like.ActorID != "b1" {
		t.Fatalf("like %v, undo %v", like.doc, undo.doc)
	}

	// A facilitator removes the received post: the Group deletes it.
	mark = e.last()
	e.append(post.Stream("r1"), post.Removed{CommunityID: "g1", By: "a1", Reason: "spam"})
	rs = e.expect(mark, "removal", "Announce → "+bInbox, "Announce → "+m2Inbox, "Undo → "+bInbox, "Undo → "+m2Inbox)
	inner := find(rs, "Announce", "/announces/r1/delete").doc["object"].(map[string]any)
	if inner["type"] != "Delete" || inner["actor"] != groupIRI || inner["object"] != "http://ds9.lemmy.ml/post/1" {
		t.Fatalf("removal = %v", inner)
	}
}

func TestActorDeletionErasureAndRemovedFollowers(t *testing.T) {
	e := newPostEnv(t)
	e.world()
	e.publish(post.Published{PostID: "p2", AuthorID: "a1", CommunityID: "g1", Visibility: post.Members}, "nur für uns")
	e.append(post.Stream("p2"), post.Announced{CommunityID: "g1"})
	e.publish(post.Published{PostID: "p3", AuthorID: "a1", Visibility: post.Public}, "öffentlich")

	// A follower removed by the community: Reject{Follow}. One removed
	// because its actor was deleted, or before the rule existed: nothing.
	m3 := "https://d.example/users/m3"
	e.follower("g1", groupIRI, m3, m3+"/inbox", "")
	mark := e.last()
	m1 := "https://b.example/users/m1"
	e.append(follow.Stream(m1, groupIRI), follow.Removed{Reason: "banned"})
	e.append(follow.Stream(m3, groupIRI), follow.Removed{Reason: outbound.RemovedBecauseDeleted})
	rs := e.expect(mark, "removed follower", "Reject → https://b.example/users/m1/inbox")
	if rs[0].doc["object"].(map[string]any)["id"] != m1+"/follows/1" || rs[0].doc["actor"] != groupIRI {
		t.Fatalf("reject = %v", rs[0].doc)
	}
	old := "https://a.example/users/old"
	e.follower("a1", aliceIRI, old, old+"/inbox", "")
	mark = e.last()
	e.appendAt(rulesSince.Add(-time.Minute), follow.Stream(old, aliceIRI), follow.Removed{Reason: "removed"})
	e.expect(mark, "a removal older than the rule")

	// alice is deleted, then erased.
	mark = e.last()
	e.append(actor.Stream("a1"), actor.Deleted{Reason: "erased"})
	rs = e.expect(mark, "Delete{actor} to the followers", "Delete → "+aInbox)
	if rs[0].doc["object"] != aliceIRI || rs[0].ActivityID != aliceIRI+"#delete" {
		t.Fatalf("delete actor = %v", rs[0].doc)
	}
	before := e.since(0)
	mark = e.last()
	e.append(account.Stream("a1"), account.Erased{Reason: "self"})
	rs = e.since(mark)
	if got := keys(rs); !slices.Equal(got, []string{"Announce → " + m2Inbox, "Undo → " + m2Inbox}) {
		t.Fatalf("erasure: the Group retracts the shared post from its members (m1 was removed): %v", got)
	}
	var left []string
	for _, r := range e.since(0) {
		if r.ActorID == "a1" || strings.Contains(r.ActivityID, "/announces/p2/create") || strings.Contains(r.ActivityID, "/announces/p2/object") {
			left = append(left, r.key())
		}
	}
	if !slices.Equal(left, []string{"Delete → " + aInbox}) {
		t.Fatalf("after erasure alice's deliveries are %v (had %d deliveries)", left, len(before))
	}
	// Nothing of alice renders any more.
	mark = e.last()
	e.publish(post.Published{PostID: "p9", AuthorID: "a1", Visibility: post.Public}, "after")
	e.append(actor.Stream("b1"), actor.Deleted{})
	e.appendAt(rulesSince.Add(-time.Minute), actor.Stream("g1"), actor.Deleted{})
	e.expect(mark, "after erasure; bob's deletion (no followers); an old deletion")
}

func TestRebuildSendsNothingTwice(t *testing.T) {
	e := newPostEnv(t)
	e.world()
	e.publish(post.Published{PostID: "p1", AuthorID: "a1", CommunityID: "g1", Visibility: post.Public, Mentions: []string{carolIRI}}, "x")
	e.append(post.Stream("p1"), post.Announced{CommunityID: "g1"})
	e.append(post.Stream("p1"), post.Removed{CommunityID: "g1", By: "a1"})
	e.append(actor.Stream("a1"), actor.Deleted{})
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
