package delivery_test

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/projections"

	_ "modernc.org/sqlite"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := httpsig.GenerateRSAKey()
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

const keyID = "https://hanse.example/users/alice#main-key"

// signers signs as every actor with the one test key.
type signers struct{ k *rsa.PrivateKey }

func (s signers) SignerFor(_ context.Context, actorID string) (httpsig.Signer, error) {
	if actorID == "gone" {
		return httpsig.Signer{}, fmt.Errorf("actor %s is deleted", actorID)
	}
	return httpsig.Signer{KeyID: keyID, Key: s.k}, nil
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

// receiver is a loopback inbox that verifies signatures and answers with
// the statuses of respond (by call number, 1-based).
type receiver struct {
	srv      *httptest.Server
	calls    atomic.Int64
	bad      atomic.Int64 // requests whose signature did not verify
	respond  func(n int64, w http.ResponseWriter)
	lastPath atomic.Value // string: the path of the last verified request
}

func newReceiver(t *testing.T, k *rsa.PrivateKey, respond func(n int64, w http.ResponseWriter)) *receiver {
	r := &receiver{respond: respond}
	v := httpsig.Verifier{Resolve: func(_ context.Context, id string) (httpsig.PublicKey, error) {
		return httpsig.PublicKey{ID: id, Owner: "https://hanse.example/users/alice", Key: &k.PublicKey}, nil
	}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := make([]byte, req.ContentLength)
		_, _ = req.Body.Read(body)
		if _, err := v.Verify(req.Context(), req, body); err != nil {
			r.bad.Add(1)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.lastPath.Store(req.URL.Path)
		r.respond(r.calls.Add(1), w)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

type env struct {
	t   *testing.T
	ctx context.Context
	db  *projections.DB
	clk *clock
	cl  *fetch.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := projections.OpenDB(ctx, filepath.Join(t.TempDir(), "projections.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := delivery.EnsureSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	allow, _ := fetch.ParseAllowList("127.0.0.0/8,::1/128")
	clk := &clock{t: t0}
	cl := fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}, RequestTimeout: 5 * time.Second, Clock: clk.Now})
	return &env{t: t, ctx: ctx, db: db, clk: clk, cl: cl}
}

func (e *env) insert(activityID, inbox string) {
	e.t.Helper()
	err := e.db.Write(e.ctx, func(tx *sql.Tx) error {
		_, err := delivery.Insert(e.ctx, tx, delivery.Record{ActivityID: activityID, ActivityType: "Create", Inbox: inbox,
			ActorID: "alice", Body: []byte(`{"id":"` + activityID + `"}`), EventPosition: 1, CreatedAt: t0})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// start runs workers until the test ends (or stop is called).
func (e *env) start(o delivery.Options) (w *delivery.Workers, stop func()) {
	o.Clock = e.clk.Now
	o.Jitter = func(int) int { return 0 }
	if o.PollInterval == 0 {
		o.PollInterval = 10 * time.Millisecond
	}
	w = delivery.New(e.db, signers{key(e.t)}, e.cl, o)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("Run: %v", err)
			}
		})
	}
	e.t.Cleanup(stop)
	return w, stop
}

// await polls cond until it holds or 10 s pass.
func (e *env) await(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) list(f delivery.Filter) []delivery.Delivery {
	e.t.Helper()
	ds, err := delivery.List(e.ctx, e.db.Reader(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

func (e *env) one() delivery.Delivery {
	e.t.Helper()
	ds := e.list(delivery.Filter{})
	if len(ds) != 1 {
		e.t.Fatalf("%d deliveries, want 1", len(ds))
	}
	return ds[0]
}

func statuses(codes ...int) func(n int64, w http.ResponseWriter) {
	return func(n int64, w http.ResponseWriter) {
		i := min(int(n), len(codes)) - 1
		w.WriteHeader(codes[i])
	}
}

func TestBackoffSchedule(t *testing.T) {
	var total, maxTotal time.Duration
	for n := 1; n <= delivery.DefaultMaxAttempts-1; n++ {
		total += delivery.Backoff(n, 0)
		maxTotal += delivery.Backoff(n, 9)
	}
	if total != 178552*time.Second || maxTotal != 179776*time.Second {
		t.Fatalf("16 retries span %v … %v", total, maxTotal)
	}
	if got := delivery.Backoff(1, 3); got != 18*time.Second {
		t.Fatalf("first retry after %v", got)
	}
	if got := delivery.BreakerPause(4, time.Minute, time.Hour); got != 8*time.Minute {
		t.Fatalf("pause %v", got)
	}
	if got := delivery.BreakerPause(40, time.Minute, time.Hour); got != time.Hour {
		t.Fatalf("pause %v", got)
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name         string
		codes        []int
		retryAfter   string
		advance      time.Duration // clock advance after the first attempt
		wantState    delivery.State
		wantAttempts int
		wantStatus   int
		wantNext     time.Duration // next attempt after t0 (pending only)
	}{
		{name: "202 delivered", codes: []int{202}, wantState: delivery.Delivered, wantAttempts: 1, wantStatus: 202},
		{name: "500 then 202 retried", codes: []int{500, 202}, advance: 15 * time.Second,
			wantState: delivery.Delivered, wantAttempts: 2, wantStatus: 202},
		{name: "410 fails permanently", codes: []int{410}, wantState: delivery.Failed, wantAttempts: 1, wantStatus: 410},
		{name: "408 is temporary", codes: []int{408}, wantState: delivery.Pending, wantAttempts: 1, wantStatus: 408,
			wantNext: 15 * time.Second},
		{name: "Retry-After later than backoff wins", codes: []int{429}, retryAfter: "3600",
			wantState: delivery.Pending, wantAttempts: 1, wantStatus: 429, wantNext: time.Hour},
		{name: "backoff later than Retry-After wins", codes: []int{503}, retryAfter: "2",
			wantState: delivery.Pending, wantAttempts: 1, wantStatus: 503, wantNext: 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := newReceiver(t, key(t), func(n int64, w http.ResponseWriter) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				statuses(tt.codes...)(n, w)
			})
			e.insert("https://hanse.example/a/1", r.srv.URL+"/inbox")
			w, _ := e.start(delivery.Options{})
			e.await("first attempt", func() bool { return e.one().Attempts >= 1 })
			if tt.advance > 0 {
				e.clk.Add(tt.advance - time.Millisecond)
				w.Notify()
				time.Sleep(50 * time.Millisecond) // a negative check: not yet due
				if r.calls.Load() != 1 {
					t.Fatalf("retried before the backoff: %d calls", r.calls.Load())
				}
				e.clk.Add(time.Millisecond)
				w.Notify()
				e.await("second attempt", func() bool { return e.one().Attempts >= 2 })
			}
			d := e.one()
			if d.State != tt.wantState || d.Attempts != tt.wantAttempts || d.LastStatus != tt.wantStatus {
				t.Fatalf("delivery = %+v", d)
			}
			if tt.wantState == delivery.Pending && !d.NextAttemptAt.Equal(t0.Add(tt.wantNext)) {
				t.Fatalf("next attempt at %v, want t0+%v", d.NextAttemptAt, tt.wantNext)
			}
			if tt.wantState != delivery.Pending && d.DoneAt.IsZero() {
				t.Fatal("done_at not set")
			}
			if r.bad.Load() != 0 {
				t.Fatalf("%d requests failed signature verification", r.bad.Load())
			}
			if int(r.calls.Load()) != tt.wantAttempts {
				t.Fatalf("%d POSTs, want %d", r.calls.Load(), tt.wantAttempts)
			}
		})
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, key(t), statuses(500))
	e.insert("https://hanse.example/a/1", r.srv.URL+"/inbox")
	w, _ := e.start(delivery.Options{MaxAttempts: 3, BreakerThreshold: 100})
	for n := 1; n <= 3; n++ {
		e.await(fmt.Sprintf("attempt %d", n), func() bool { return e.one().Attempts >= n })
		e.clk.Add(time.Hour)
		w.Notify()
	}
	d := e.one()
	if d.State != delivery.Failed || d.Attempts != 3 {
		t.Fatalf("delivery = %+v", d)
	}
	if s := w.Stats(); s.Attempts[delivery.OutcomeGaveUp] != 1 || s.Attempts[delivery.OutcomeRetry] != 2 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestCircuitOpensAndRecovers(t *testing.T) {
	e := newEnv(t)
	var healthy atomic.Bool
	r := newReceiver(t, key(t), func(_ int64, w http.ResponseWriter) {
		if healthy.Load() {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	})
	for i := range 3 {
		e.insert(fmt.Sprintf("https://hanse.example/a/%d", i), fmt.Sprintf("%s/users/u%d/inbox", r.srv.URL, i))
	}
	w, _ := e.start(delivery.Options{BreakerThreshold: 3, BreakerBase: 10 * time.Minute})
	e.await("three failures", func() bool { return r.calls.Load() == 3 })
	e.await("open circuit", func() bool {
		hs, _ := delivery.Hosts(e.ctx, e.db.Reader())
		return w.Stats().OpenCircuits == 1 && len(hs) == 1 && hs[0].Circuit == delivery.Open
	})
	hosts, err := delivery.Hosts(e.ctx, e.db.Reader())
	if err != nil || len(hosts) != 1 || hosts[0].Circuit != delivery.Open || hosts[0].ConsecutiveFailures != 3 ||
		!hosts[0].OpenUntil.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("hosts = %+v, %v", hosts, err)
	}
	// The retries are due after 15 s, but the circuit holds them back.
	e.clk.Add(time.Minute)
	w.Notify()
	time.Sleep(50 * time.Millisecond)
	if r.calls.Load() != 3 {
		t.Fatalf("%d POSTs while the circuit is open", r.calls.Load())
	}
	// The pause ends: exactly one probe, which fails and reopens for longer.
	e.clk.Add(10 * time.Minute)
	w.Notify()
	e.await("probe", func() bool { return r.calls.Load() == 4 })
	e.await("reopened", func() bool {
		hs, _ := delivery.Hosts(e.ctx, e.db.Reader())
		return len(hs) == 1 && hs[0].Circuit == delivery.Open && hs[0].Opens == 2
	})
	hosts, _ = delivery.Hosts(e.ctx, e.db.Reader())
	if want := e.clk.Now().Add(20 * time.Minute); !hosts[0].OpenUntil.Equal(want) {
		t.Fatalf("reopened until %v, want %v", hosts[0].OpenUntil, want)
	}
	// Next pause ends and the host is back: the probe closes the circuit
	// and the rest follows.
	healthy.Store(true)
	e.clk.Add(21 * time.Minute)
	w.Notify()
	e.await("all delivered", func() bool { return len(e.list(delivery.Filter{State: delivery.Delivered})) == 3 })
	e.await("host row removed", func() bool { hs, _ := delivery.Hosts(e.ctx, e.db.Reader()); return len(hs) == 0 })
	if hs, _ := delivery.Hosts(e.ctx, e.db.Reader()); len(hs) != 0 || w.Stats().OpenCircuits != 0 {
		t.Fatalf("hosts after recovery = %+v", hs)
	}
}

func TestPerHostConcurrency(t *testing.T) {
	e := newEnv(t)
	var cur, peak atomic.Int64
	release := make(chan struct{})
	r := newReceiver(t, key(t), func(_ int64, w http.ResponseWriter) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		cur.Add(-1)
		w.WriteHeader(http.StatusAccepted)
	})
	for i := range 10 {
		e.insert("https://hanse.example/a/1", fmt.Sprintf("%s/users/u%d/inbox", r.srv.URL, i))
	}
	w, _ := e.start(delivery.Options{PerHost: 3})
	e.await("three in flight", func() bool { return cur.Load() == 3 })
	time.Sleep(50 * time.Millisecond)
	if s := w.Stats(); s.InFlight != 3 {
		t.Fatalf("in flight = %d, want 3", s.InFlight)
	}
	close(release)
	e.await("all delivered", func() bool { return len(e.list(delivery.Filter{State: delivery.Delivered})) == 10 })
	if peak.Load() != 3 {
		t.Fatalf("peak concurrency %d, want 3", peak.Load())
	}
}

func TestStopAbandonsAndRestartResumes(t *testing.T) {
	e := newEnv(t)
	var block atomic.Bool
	block.Store(true)
	r := newReceiver(t, key(t), func(_ int64, w http.ResponseWriter) {
		if block.Load() {
			time.Sleep(2 * time.Second) // longer than StopTimeout
		}
		w.WriteHeader(http.StatusAccepted)
	})
	e.insert("https://hanse.example/a/1", r.srv.URL+"/inbox")
	w, stop := e.start(delivery.Options{StopTimeout: 50 * time.Millisecond})
	e.await("in flight", func() bool { return w.Stats().InFlight == 1 })
	stop()
	d := e.one()
	if d.State != delivery.Pending || d.Attempts != 0 || w.Stats().Attempts[delivery.OutcomeAbandoned] != 1 {
		t.Fatalf("after stop: %+v, stats %+v", d, w.Stats())
	}
	block.Store(false)
	e.start(delivery.Options{})
	e.await("delivered after restart", func() bool { return e.one().State == delivery.Delivered })
}

func TestPermanentWithoutResponse(t *testing.T) {
	e := newEnv(t)
	// A forbidden address (no allow-list entry for 10.0.0.0/8) is refused
	// before connecting: failed, not retried, and the host's breaker is
	// untouched.
	e.insert("https://hanse.example/a/1", "http://10.255.255.1/inbox")
	e.cl = fetch.New(fetch.Options{RequestTimeout: time.Second})
	e.start(delivery.Options{})
	e.await("failed", func() bool { return e.one().State == delivery.Failed })
	if d := e.one(); d.Attempts != 1 || d.LastError == "" {
		t.Fatalf("delivery = %+v", d)
	}
	if hs, _ := delivery.Hosts(e.ctx, e.db.Reader()); len(hs) != 0 {
		t.Fatalf("hosts = %+v", hs)
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	e.insert("https://hanse.example/a/1", "https://one.example/inbox")
	e.insert("https://hanse.example/a/1", "https://two.example/inbox")
	e.insert("https://hanse.example/a/1", "https://two.example/inbox") // ignored: same activity and inbox
	if got := e.list(delivery.Filter{}); len(got) != 2 {
		t.Fatalf("%d deliveries", len(got))
	}
	if got := e.list(delivery.Filter{Host: "TWO.example", State: delivery.Pending}); len(got) != 1 || got[0].Inbox != "https://two.example/inbox" {
		t.Fatalf("by host: %+v", got)
	}
	if _, err := delivery.List(e.ctx, e.db.Reader(), delivery.Filter{State: "lost"}); err == nil {
		t.Fatal("invalid state accepted")
	}
}
