package outbound_test

import (
	"testing"

	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/internal/domain/post"
)

// bodies counts the stored activity bodies and the distinct activities of
// the deliveries.
func (e *penv) bodies() (stored, activities int) {
	e.t.Helper()
	if err := e.runner.DB().Reader().QueryRowContext(e.ctx, `SELECT (SELECT count(*) FROM federation_activities),
		(SELECT count(DISTINCT activity_id) FROM federation_deliveries)`).Scan(&stored, &activities); err != nil {
		e.t.Fatal(err)
	}
	return stored, activities
}

// TestOneBodyPerActivity: a community's announce records one delivery per
// member's inbox and the activity's body once; every delivery reads that
// body, and a rebuild stores no second copy.
func TestOneBodyPerActivity(t *testing.T) {
	e := newPostEnv(t)
	e.world()
	mark := e.last()
	e.publish(post.Published{PostID: "p1", AuthorID: "a1", CommunityID: "g1", Visibility: post.Public}, "Schwarmzeit")
	e.append(post.Stream("p1"), post.Announced{CommunityID: "g1"})
	rs := e.expect(mark, "alice's Create to her follower; the Group's two announces to its two members' inboxes",
		"Announce → "+bInbox, "Announce → "+bInbox, "Announce → "+m2Inbox, "Announce → "+m2Inbox, "Create → "+aInbox)
	for _, r := range rs {
		if r.doc["id"] != r.ActivityID {
			t.Fatalf("delivery %d of %s carries %v", r.ID, r.ActivityID, r.doc["id"])
		}
	}
	stored, activities := e.bodies()
	if stored != activities {
		t.Fatalf("%d bodies stored for %d activities", stored, activities)
	}
	n := len(e.since(0))
	if err := e.runner.Rebuild(e.ctx, outbound.Name); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitSettled(e.ctx, outbound.Name); err != nil {
		t.Fatal(err)
	}
	if s, a := e.bodies(); s != stored || a != activities || len(e.since(0)) != n {
		t.Fatalf("after the rebuild: %d bodies, %d activities, %d deliveries; before %d, %d, %d",
			s, a, len(e.since(0)), stored, activities, n)
	}
}
