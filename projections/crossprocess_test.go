package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

// waitRequest polls a cross-process request until the runner finished it.
func waitRequest(t testing.TB, db *sql.DB, id int64) projections.Request {
	t.Helper()
	var req projections.Request
	eventually(t, "request done", func() bool {
		var err error
		req, err = projections.GetRequest(context.Background(), db, id)
		if err != nil {
			t.Fatalf("GetRequest: %v", err)
		}
		return req.Done
	})
	return req
}

func TestRequestsFromAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	dbPath := filepath.Join(dir, "read.db")
	appendEvents(t, store, 0, 20, 3, nil)
	bad := appendEvents(t, store, 20, 1, 3, func(int) string { return "test.poison" })
	head := appendEvents(t, store, 21, 9, 3, nil)
	l := newLedger()
	l.setFail(func(e events.Envelope) error {
		if e.Type == "test.poison" {
			return errBoom
		}
		return nil
	})
	r := startRunner(t, store, dbPath, l)
	ctx := waitCtx(t)
	if err := r.WaitFor(ctx, "ledger", head); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("WaitFor = %v, want failure", err)
	}

	// "Another process": its own handle on the read-model database.
	cli, err := projections.OpenDB(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	lease, active, err := projections.ActiveLease(ctx, cli.Reader(), 0)
	if err != nil || !active || lease.PID != os.Getpid() {
		t.Fatalf("ActiveLease = %+v, %v, %v; want active lease of this process", lease, active, err)
	}
	var failed projections.Status
	eventually(t, "failure recorded in catalog", func() bool {
		sts, err := projections.Statuses(ctx, cli.Reader())
		if err == nil && len(sts) == 1 {
			failed = sts[0]
		}
		return failed.State == projections.StateFailed
	})
	if failed.LastError == nil || failed.LastError.Position != bad || failed.LastError.Type != "test.poison" ||
		!strings.Contains(failed.LastError.Message, "boom") {
		t.Fatalf("catalog failure = %+v", failed.LastError)
	}

	cases := []struct {
		name    string
		kind    projections.RequestKind
		target  string
		before  func()
		wantOK  bool
		wantMsg string
	}{
		{"retry without fix fails again", projections.RequestRetry, "ledger", nil, false, "failed again: failed at position 21"},
		{"retry with fix resumes", projections.RequestRetry, "ledger", func() { l.setFail(nil) }, true, "resumed"},
		{"retry of healthy projection", projections.RequestRetry, "ledger", nil, true, "nothing to retry"},
		{"rebuild", projections.RequestRebuild, "ledger", nil, true, "rebuilt ledger v1 (generation 1)"},
		{"unknown projection", projections.RequestRebuild, "nosuch", nil, false, "unknown projection"},
	}
	for _, tc := range cases {
		if tc.before != nil {
			tc.before()
		}
		id, err := cli.SubmitRequest(ctx, tc.kind, tc.target)
		if err != nil {
			t.Fatalf("%s: SubmitRequest: %v", tc.name, err)
		}
		req := waitRequest(t, cli.Reader(), id)
		if req.OK != tc.wantOK || !strings.Contains(req.Result, tc.wantMsg) {
			t.Fatalf("%s: request = %+v, want ok=%v and %q", tc.name, req, tc.wantOK, tc.wantMsg)
		}
	}
	if err := r.WaitFor(ctx, "ledger", head); err != nil {
		t.Fatalf("WaitFor after retry and rebuild: %v", err)
	}
	if _, err := cli.SubmitRequest(ctx, "drop", "ledger"); err == nil {
		t.Fatal("SubmitRequest accepted an unknown kind")
	}

	// Only one runner per read-model database.
	other := newRunner(t, store, dbPath, newLedger())
	err = other.Start(ctx)
	var are *projections.ActiveRunnerError
	if !errors.As(err, &are) || !errors.Is(err, projections.ErrRunnerActive) || are.Lease.PID != os.Getpid() {
		t.Fatalf("second runner Start = %v, want ActiveRunnerError", err)
	}
	other.Close()

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, active, _ := projections.ActiveLease(ctx, cli.Reader(), 0); active {
		t.Fatal("lease still active after Close")
	}
}

func TestStaleLeaseIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	dbPath := filepath.Join(dir, "read.db")
	db, err := projections.OpenDB(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	stale := time.Now().Add(-time.Minute).UnixMilli()
	if _, err := raw.Exec(`INSERT INTO _projection_lease (id, owner, pid, host, started_at, heartbeat_at) VALUES (1, 'dead', 1, 'h', ?, ?)`,
		stale, stale); err != nil {
		t.Fatal(err)
	}
	if _, active, err := projections.ActiveLease(context.Background(), db.Reader(), 0); err != nil || active {
		t.Fatalf("stale lease active=%v err=%v", active, err)
	}
	db.Close()
	r := startRunner(t, store, dbPath, newLedger())
	if err := r.WaitSettled(waitCtx(t), "ledger"); err != nil {
		t.Fatal(err)
	}
}

func gaugeValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == k && lp.GetValue() == v {
			return true
		}
	}
	return false
}

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	head := appendEvents(t, store, 0, 40, 3, nil)
	reg := prometheus.NewRegistry()
	l := newLedger()
	r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, reg, projections.Options{PollInterval: 20 * time.Millisecond}, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := projections.New(store, filepath.Join(dir, "other.db"), quiet, reg, projections.Options{}, l); err == nil {
		t.Fatal("a second runner registered the same metrics")
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.WaitSettled(waitCtx(t), "ledger"); err != nil {
		t.Fatal(err)
	}
	live := map[string]string{"projection": "ledger", "role": "live"}
	eventually(t, "metrics sampled", func() bool {
		v, ok := gaugeValue(t, reg, "hanse_projection_state", map[string]string{"projection": "ledger", "role": "live", "state": "live"})
		h, _ := gaugeValue(t, reg, "hanse_projection_log_head_position", nil)
		lag, lagged := gaugeValue(t, reg, "hanse_projection_lag_events", live)
		return ok && v == 1 && h == float64(head) && lagged && lag == 0
	})
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"hanse_projection_position", live, float64(head)},
		{"hanse_projection_lag_events", live, 0},
		{"hanse_projection_lag_seconds", live, 0},
		{"hanse_projection_events_total", map[string]string{"projection": "ledger"}, 40},
		{"hanse_projection_log_head_position", nil, float64(head)},
		{"hanse_projection_state", map[string]string{"projection": "ledger", "role": "live", "state": "failed"}, 0},
	}
	for _, c := range checks {
		if v, ok := gaugeValue(t, reg, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	l.setFail(func(events.Envelope) error { return errBoom })
	pos := appendEvents(t, store, 40, 1, 3, nil)
	if err := r.WaitFor(waitCtx(t), "ledger", pos); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("WaitFor = %v", err)
	}
	eventually(t, "failure metrics", func() bool {
		f, _ := gaugeValue(t, reg, "hanse_projection_failures_total", map[string]string{"projection": "ledger"})
		s, _ := gaugeValue(t, reg, "hanse_projection_state", map[string]string{"projection": "ledger", "role": "live", "state": "failed"})
		lag, _ := gaugeValue(t, reg, "hanse_projection_lag_events", live)
		return f == 1 && s == 1 && lag == 1
	})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Close unregisters, so a new runner can use the registry.
	r2, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, reg, projections.Options{}, newLedger())
	if err != nil {
		t.Fatalf("New after Close: %v", err)
	}
	r2.Close()
}
