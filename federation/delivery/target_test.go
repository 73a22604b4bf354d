package delivery_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

// actors is a fake resolver: one answer per actor IRI.
type actors struct {
	answers map[string]func() (remote.ActorFetched, error)
	calls   atomic.Int64
}

func (a *actors) Actor(_ context.Context, iri string) (remote.ActorFetched, error) {
	a.calls.Add(1)
	if f := a.answers[iri]; f != nil {
		return f()
	}
	return remote.ActorFetched{}, fmt.Errorf("%w: %s", resolve.ErrNotFound, iri)
}

func (e *env) insertRecord(r delivery.Record) {
	e.t.Helper()
	if r.Body == nil {
		r.Body = []byte(`{"id":"` + r.ActivityID + `"}`)
	}
	if r.ActivityType == "" {
		r.ActivityType = "Create"
	}
	if r.ActorID == "" {
		r.ActorID = "alice"
	}
	r.CreatedAt = t0
	if err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		_, err := delivery.Insert(e.ctx, tx, r)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
}

func TestActorTargets(t *testing.T) {
	ok := func(inbox, shared string) func() (remote.ActorFetched, error) {
		return func() (remote.ActorFetched, error) {
			return remote.ActorFetched{Inbox: inbox, SharedInbox: shared}, nil
		}
	}
	fails := func(err error) func() (remote.ActorFetched, error) {
		return func() (remote.ActorFetched, error) { return remote.ActorFetched{}, err }
	}
	tests := []struct {
		name      string
		answer    func(url string) func() (remote.ActorFetched, error)
		wantState delivery.State
		wantPath  string // the path POSTed to ("" for none)
	}{
		{name: "shared inbox preferred", answer: func(u string) func() (remote.ActorFetched, error) {
			return ok(u+"/users/bob/inbox", u+"/inbox")
		}, wantState: delivery.Delivered, wantPath: "/inbox"},
		{name: "personal inbox without a shared one", answer: func(u string) func() (remote.ActorFetched, error) {
			return ok(u+"/users/bob/inbox", "")
		}, wantState: delivery.Delivered, wantPath: "/users/bob/inbox"},
		{name: "gone actor fails permanently", answer: func(string) func() (remote.ActorFetched, error) {
			return fails(fmt.Errorf("%w: bob", resolve.ErrGone))
		}, wantState: delivery.Failed},
		{name: "unknown actor fails permanently", answer: func(string) func() (remote.ActorFetched, error) { return nil },
			wantState: delivery.Failed},
		{name: "actor without inbox fails permanently", answer: func(string) func() (remote.ActorFetched, error) {
			return ok("", "")
		}, wantState: delivery.Failed},
		{name: "network trouble is retried", answer: func(string) func() (remote.ActorFetched, error) {
			return fails(errors.New("connection reset"))
		}, wantState: delivery.Pending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := newReceiver(t, key(t), func(_ int64, w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) })
			bob := r.srv.URL + "/users/bob"
			res := &actors{answers: map[string]func() (remote.ActorFetched, error){bob: tt.answer(r.srv.URL)}}
			e.insertRecord(delivery.Record{ActivityID: "https://hanse.example/a/1", Inbox: bob, Target: delivery.TargetActor})
			e.start(delivery.Options{Actors: res})
			e.await("an attempt", func() bool { return e.one().Attempts >= 1 })
			d := e.one()
			if d.State != tt.wantState || d.Target != delivery.TargetActor || d.Inbox != bob {
				t.Fatalf("delivery = %+v", d)
			}
			got, _ := r.lastPath.Load().(string)
			if got != tt.wantPath || (tt.wantPath == "") != (r.calls.Load() == 0) {
				t.Fatalf("POSTed to %q (%d calls), want %q", got, r.calls.Load(), tt.wantPath)
			}
			if tt.wantPath != "" && d.ResolvedInbox != r.srv.URL+tt.wantPath {
				t.Fatalf("resolved inbox %q", d.ResolvedInbox)
			}
			if tt.wantState != delivery.Delivered && d.LastError == "" {
				t.Fatal("no error recorded")
			}
		})
	}
}

func TestActorTargetWithoutResolverWaits(t *testing.T) {
	e := newEnv(t)
	e.insertRecord(delivery.Record{ActivityID: "https://hanse.example/a/1", Inbox: "https://peer.example/users/bob",
		Target: delivery.TargetActor})
	e.start(delivery.Options{})
	e.await("an attempt", func() bool { return e.one().Attempts >= 1 })
	if d := e.one(); d.State != delivery.Pending || !strings.Contains(d.LastError, "no actor resolver") {
		t.Fatalf("delivery = %+v", d)
	}
}

func TestActorTargetSameInboxAsFollowerIsSentOnce(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, key(t), func(_ int64, w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) })
	bob := r.srv.URL + "/users/bob"
	res := &actors{answers: map[string]func() (remote.ActorFetched, error){bob: func() (remote.ActorFetched, error) {
		return remote.ActorFetched{Inbox: bob + "/inbox", SharedInbox: r.srv.URL + "/inbox"}, nil
	}}}
	// A follower's delivery to the shared inbox, and a mention of bob who
	// lives behind the same shared inbox.
	e.insertRecord(delivery.Record{ActivityID: "https://hanse.example/a/1", Inbox: r.srv.URL + "/inbox"})
	e.insertRecord(delivery.Record{ActivityID: "https://hanse.example/a/1", Inbox: bob, Target: delivery.TargetActor})
	e.start(delivery.Options{Actors: res})
	e.await("both done", func() bool { return len(e.list(delivery.Filter{State: delivery.Delivered})) == 2 })
	time.Sleep(50 * time.Millisecond) // a negative check: no second POST
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("%d POSTs, want 1", n)
	}
}

// farewell signs as deleted actors too.
type farewell struct{ signers }

func (f farewell) FarewellSignerFor(_ context.Context, _ string) (httpsig.Signer, error) {
	return httpsig.Signer{KeyID: keyID, Key: f.k}, nil
}

func TestFarewellSignerSignsOnlyDeletes(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, key(t), func(_ int64, w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) })
	e.insertRecord(delivery.Record{ActivityID: "https://hanse.example/users/gone#delete", ActivityType: "Delete",
		ActorID: "gone", Inbox: r.srv.URL + "/inbox"})
	e.insertRecord(delivery.Record{ActivityID: "https://hanse.example/users/gone/posts/1/activity", ActivityType: "Create",
		ActorID: "gone", Inbox: r.srv.URL + "/inbox"})
	w := delivery.New(e.db, farewell{signers{key(t)}}, e.cl, delivery.Options{Clock: e.clk.Now, PollInterval: 10 * time.Millisecond,
		Jitter: func(int) int { return 0 }})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e.await("attempts", func() bool {
		ds := e.list(delivery.Filter{})
		return len(ds) == 2 && ds[0].Attempts >= 1 && ds[1].Attempts >= 1
	})
	ds := e.list(delivery.Filter{})
	if ds[0].State != delivery.Delivered || ds[1].State != delivery.Pending || r.calls.Load() != 1 || r.bad.Load() != 0 {
		t.Fatalf("deliveries %+v, %d calls", ds, r.calls.Load())
	}
}

func TestForgetDeliveries(t *testing.T) {
	e := newEnv(t)
	add := func(activity, actorID, inbox, typ string) {
		e.insertRecord(delivery.Record{ActivityID: activity, ActivityType: typ, ActorID: actorID, Inbox: inbox})
	}
	add("https://h.example/users/eve/posts/1/activity", "eve", "https://a.example/inbox", "Create")
	add("https://h.example/users/eve/posts/1/activity", "eve", "https://b.example/inbox", "Create")
	add("https://h.example/users/eve#delete", "eve", "https://a.example/inbox", "Delete")
	add("https://h.example/communities/g/announces/1/create", "g", "https://c.example/inbox", "Announce")
	add("https://h.example/communities/g/announces/2/create", "g", "https://c.example/inbox", "Announce")
	add("https://h.example/users/ann/posts/3/activity", "ann", "https://a.example/inbox", "Create")
	add("https://h.example/communities/g/announces/1/update/u1", "g", "https://c.example/inbox", "Announce")
	add("https://h.example/communities/g/announces/10/update/u1", "g", "https://c.example/inbox", "Announce")
	// The first delivery was made already: its body must be blanked.
	if err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(e.ctx, `UPDATE federation_deliveries SET state = 'delivered' WHERE id = 1`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	forget := delivery.Forget{ActorID: "eve", ActivityIDs: []string{"https://h.example/communities/g/announces/1/create"},
		ActivityPrefixes: []string{"https://h.example/communities/g/announces/1/update/"},
		Keep:             []string{"https://h.example/users/eve#delete"}}
	for round := range 2 { // idempotent
		var n int64
		if err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
			var err error
			n, err = delivery.ForgetDeliveries(e.ctx, tx, forget)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if want := []int64{3, 0}[round]; n != want {
			t.Fatalf("round %d dropped %d, want %d", round, n, want)
		}
	}
	var left []string
	for _, d := range e.list(delivery.Filter{}) {
		full, err := delivery.Get(e.ctx, e.db.Reader(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, fmt.Sprintf("%s %s %d", d.ActivityID, d.State, len(full.Body)))
	}
	want := []string{
		"https://h.example/users/eve/posts/1/activity delivered 0",
		"https://h.example/users/eve#delete pending 43",
		"https://h.example/communities/g/announces/2/create pending 59",
		"https://h.example/users/ann/posts/3/activity pending 53",
		"https://h.example/communities/g/announces/10/update/u1 pending 63",
	}
	if fmt.Sprint(left) != fmt.Sprint(want) {
		t.Fatalf("left %q\nwant %q", left, want)
	}
}

func TestEnableRuleFirstTimeWins(t *testing.T) {
	e := newEnv(t)
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		var got time.Time
		if err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
			var err error
			got, err = delivery.EnableRule(e.ctx, tx, "actor-delete", at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(t0) {
			t.Fatalf("call %d: enabled at %v, want %v", i, got, t0)
		}
	}
}

// TestEnsureSchemaMigratesOldTable: tables of earlier versions (the
// first without targets; both with a body on every delivery) get the new
// columns, and each activity's body moves to federation_activities (none
// for an activity whose bodies were blanked by ForgetDeliveries).
func TestEnsureSchemaMigratesOldTable(t *testing.T) {
	const rows = `
		INSERT INTO federation_deliveries (activity_id, activity_type, inbox, host, actor_id, body, event_position,
			created_at, next_attempt_at, state) VALUES
		('https://h.example/a', 'Create', 'https://p.example/inbox', 'p.example', 'a1', X'7B7D', 1, 0, 0, 'delivered'),
		('https://h.example/a', 'Create', 'https://q.example/inbox', 'q.example', 'a1', X'7B2261223A317D', 1, 0, 0, 'pending'),
		('https://h.example/b', 'Create', 'https://p.example/inbox', 'p.example', 'a2', X'', 2, 0, 0, 'delivered');`
	tests := []struct{ name, table string }{
		{"first version", `CREATE TABLE federation_deliveries (
			id INTEGER PRIMARY KEY AUTOINCREMENT, activity_id TEXT NOT NULL, activity_type TEXT NOT NULL,
			inbox TEXT NOT NULL, host TEXT NOT NULL, actor_id TEXT NOT NULL, body BLOB NOT NULL,
			event_position INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
			last_status INTEGER, last_error TEXT, created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
			last_attempt_at INTEGER, done_at INTEGER, UNIQUE (activity_id, inbox));`},
		{"with targets", `CREATE TABLE federation_deliveries (
			id INTEGER PRIMARY KEY AUTOINCREMENT, activity_id TEXT NOT NULL, activity_type TEXT NOT NULL,
			inbox TEXT NOT NULL, host TEXT NOT NULL, actor_id TEXT NOT NULL, body BLOB NOT NULL,
			event_position INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
			last_status INTEGER, last_error TEXT, created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
			last_attempt_at INTEGER, done_at INTEGER,
			target TEXT NOT NULL DEFAULT 'inbox' CHECK (target IN ('inbox', 'actor')), resolved_inbox TEXT,
			UNIQUE (activity_id, inbox));
			CREATE TABLE federation_delivery_hosts (host TEXT NOT NULL PRIMARY KEY, circuit TEXT NOT NULL,
				consecutive_failures INTEGER NOT NULL, opens INTEGER NOT NULL, open_until INTEGER, last_error TEXT,
				updated_at INTEGER NOT NULL) WITHOUT ROWID;
			CREATE TABLE federation_outbound_rules (rule TEXT NOT NULL PRIMARY KEY, enabled_at INTEGER NOT NULL) WITHOUT ROWID;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := projections.OpenDB(ctx, filepath.Join(t.TempDir(), "projections.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Write(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, tt.table+rows)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			exists := func() bool {
				t.Helper()
				var ok bool
				if err := db.Write(ctx, func(tx *sql.Tx) error {
					var err error
					ok, err = delivery.TablesExist(ctx, tx)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if exists() {
				t.Fatal("TablesExist before the migration")
			}
			for range 2 {
				if err := delivery.EnsureSchema(ctx, db); err != nil {
					t.Fatal(err)
				}
			}
			if !exists() {
				t.Fatal("!TablesExist after the migration")
			}
			ds, err := delivery.List(ctx, db.Reader(), delivery.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				full, err := delivery.Get(ctx, db.Reader(), d.ID)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%d %s %s %s %s %q", d.ID, d.ActivityID, d.Inbox, d.State, d.Target, full.Body))
			}
			want := []string{
				`1 https://h.example/a https://p.example/inbox delivered inbox "{\"a\":1}"`,
				`2 https://h.example/a https://q.example/inbox pending inbox "{\"a\":1}"`,
				`3 https://h.example/b https://p.example/inbox delivered inbox ""`,
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after the migration:\n%q\nwant\n%q", got, want)
			}
			var bodies, columns int
			if err := db.Reader().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM federation_activities),
				(SELECT count(*) FROM pragma_table_info('federation_deliveries') WHERE name = 'body')`).Scan(&bodies, &columns); err != nil {
				t.Fatal(err)
			}
			if bodies != 1 || columns != 0 {
				t.Fatalf("%d stored bodies (want 1), %d body columns left", bodies, columns)
			}
			// New deliveries get ids after the old ones.
			if err := db.Write(ctx, func(tx *sql.Tx) error {
				_, err := delivery.Insert(ctx, tx, delivery.Record{ActivityID: "https://h.example/c", ActivityType: "Create",
					Inbox: "https://p.example/inbox", ActorID: "a1", Body: []byte("{}"), CreatedAt: t0})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if ds := listAll(t, db); len(ds) != 4 || ds[3].ID != 4 || ds[3].ActivityID != "https://h.example/c" {
				t.Fatalf("after an insert: %+v", ds)
			}
		})
	}
}

func listAll(t *testing.T, db *projections.DB) []delivery.Delivery {
	t.Helper()
	ds, err := delivery.List(context.Background(), db.Reader(), delivery.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
