package delivery_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/federation/delivery"
)

// activities counts the stored activity bodies.
func (e *env) activities() int {
	e.t.Helper()
	var n int
	if err := e.db.Reader().QueryRowContext(e.ctx, `SELECT count(*) FROM federation_activities`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) insertActivity(a delivery.Activity, to ...delivery.Recipient) (int, error) {
	e.t.Helper()
	if a.Type == "" {
		a.Type = "Announce"
	}
	if a.ActorID == "" {
		a.ActorID = "g1"
	}
	a.CreatedAt = t0
	var n int
	err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		var err error
		n, err = delivery.InsertActivity(e.ctx, tx, a, to)
		return err
	})
	return n, err
}

func TestInsertActivity(t *testing.T) {
	const id = "https://hanse.example/communities/g/announces/1/create"
	inbox := func(s string) delivery.Recipient { return delivery.Recipient{Inbox: s} }
	type call struct {
		body    string
		to      []delivery.Recipient
		added   int
		wantErr string
	}
	tests := []struct {
		name  string
		calls []call
		// want lists the deliveries left, as "inbox host target body".
		want       []string
		activities int
	}{
		{name: "one body for all deliveries, in the given order",
			calls: []call{{body: "v1", to: []delivery.Recipient{inbox("https://B.example/inbox"), inbox("https://a.example/users/x/inbox"),
				{Inbox: "https://c.example/users/y", Target: delivery.TargetActor}}, added: 3}},
			want: []string{"https://B.example/inbox b.example inbox v1", "https://a.example/users/x/inbox a.example inbox v1",
				"https://c.example/users/y c.example actor v1"},
			activities: 1},
		{name: "a replay adds only new recipients and keeps the first body",
			calls: []call{
				{body: "v1", to: []delivery.Recipient{inbox("https://a.example/inbox"), inbox("https://b.example/inbox")}, added: 2},
				{body: "v2", to: []delivery.Recipient{inbox("https://b.example/inbox"), inbox("https://c.example/inbox")}, added: 1},
				{body: "v3", to: []delivery.Recipient{inbox("https://c.example/inbox")}, added: 0},
			},
			want: []string{"https://a.example/inbox a.example inbox v1", "https://b.example/inbox b.example inbox v1",
				"https://c.example/inbox c.example inbox v1"},
			activities: 1},
		{name: "a recipient twice in one call is one delivery",
			calls: []call{{body: "v1", to: []delivery.Recipient{inbox("https://a.example/inbox"), inbox("https://a.example/inbox")},
				added: 1}},
			want: []string{"https://a.example/inbox a.example inbox v1"}, activities: 1},
		{name: "no recipients stores nothing", calls: []call{{body: "v1"}}},
		{name: "an invalid inbox writes nothing",
			calls: []call{{body: "v1", to: []delivery.Recipient{inbox("https://a.example/inbox"), inbox("ftp://b.example/inbox")},
				wantErr: "invalid inbox URL"}}},
		{name: "an inbox that is not UTF-8 writes nothing",
			calls: []call{{body: "v1", to: []delivery.Recipient{inbox("https://a.example/in\xffbox")}, wantErr: "invalid inbox URL"}}},
		{name: "an unknown target writes nothing",
			calls: []call{{body: "v1", to: []delivery.Recipient{inbox("https://a.example/inbox"),
				{Inbox: "https://b.example/inbox", Target: "group"}}, wantErr: "unknown target"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for i, c := range tt.calls {
				n, err := e.insertActivity(delivery.Activity{ID: id, Body: []byte(c.body), EventPosition: 1}, c.to...)
				if c.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), c.wantErr) {
						t.Fatalf("call %d: error %v, want %q", i, err, c.wantErr)
					}
					continue
				}
				if err != nil || n != c.added {
					t.Fatalf("call %d: added %d, %v; want %d", i, n, err, c.added)
				}
			}
			var got []string
			for _, d := range e.list(delivery.Filter{}) {
				full, err := delivery.Get(e.ctx, e.db.Reader(), d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if full.ActivityID != id || full.ActivityType != "Announce" || full.ActorID != "g1" || full.EventPosition != 1 ||
					!full.CreatedAt.Equal(t0) || full.State != delivery.Pending {
					t.Fatalf("delivery %+v", full)
				}
				got = append(got, fmt.Sprintf("%s %s %s %s", full.Inbox, full.Host, full.Target, full.Body))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("deliveries %q\nwant %q", got, tt.want)
			}
			if n := e.activities(); n != tt.activities {
				t.Fatalf("%d stored bodies, want %d", n, tt.activities)
			}
		})
	}
}

// TestForgottenBodyIsNotSent: a pending delivery whose activity has no
// body any more fails permanently, without a POST.
func TestForgottenBodyIsNotSent(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, key(t), statuses(202))
	e.insert("https://hanse.example/a/1", r.srv.URL+"/inbox")
	if err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(e.ctx, `DELETE FROM federation_activities`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.start(delivery.Options{})
	e.await("an attempt", func() bool { return e.one().Attempts >= 1 })
	if d := e.one(); d.State != delivery.Failed || !strings.Contains(d.LastError, "body is gone") || r.calls.Load() != 0 {
		t.Fatalf("delivery %+v after %d POSTs", d, r.calls.Load())
	}
}
