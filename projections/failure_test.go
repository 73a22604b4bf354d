package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/projections"
)

func TestFailureStopsAtEventAndRetryResumes(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, s events.Store, l *ledger) events.Position // returns the failing position
		fix     func(l *ledger)
		wantMsg string
	}{
		{
			name: "projector error",
			prepare: func(t *testing.T, s events.Store, l *ledger) events.Position {
				appendEvents(t, s, 0, 40, 3, nil)
				bad := appendEvents(t, s, 40, 1, 3, func(int) string { return "test.poison" })
				appendEvents(t, s, 41, 20, 3, nil)
				l.setFail(func(e events.Envelope) error {
					if e.Type == "test.poison" {
						return errBoom
					}
					return nil
				})
				return bad
			},
			fix:     func(l *ledger) { l.setFail(nil) },
			wantMsg: "boom",
		},
		{
			name: "undecodable payload",
			prepare: func(t *testing.T, s events.Store, l *ledger) events.Position {
				appendEvents(t, s, 0, 10, 3, nil)
				bad := appendRaw(t, s, "ledger-x", "test.happened", []byte(`{"n": "not a number"}`))
				appendEvents(t, s, 10, 5, 3, nil)
				return bad
			},
			// The fix for a bad payload: a new projector build that skips it.
			fix: func(l *ledger) {
				l.mu.Lock()
				l.skipStream = "ledger-x"
				l.mu.Unlock()
			},
			wantMsg: "cannot decode test.happened payload at position 11",
		},
		{
			name: "panic in Apply",
			prepare: func(t *testing.T, s events.Store, l *ledger) events.Position {
				l.mu.Lock()
				l.panics = true
				l.mu.Unlock()
				return appendEvents(t, s, 0, 1, 1, nil)
			},
			fix:     func(l *ledger) { l.mu.Lock(); l.panics = false; l.mu.Unlock() },
			wantMsg: "projector panicked: ledger told to panic",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			store := openStore(t, dir)
			l := newLedger()
			bad := tc.prepare(t, store, l)
			head, _ := store.Head(context.Background())
			r := startRunner(t, store, filepath.Join(dir, "read.db"), l)
			ctx := waitCtx(t)

			err := r.WaitFor(ctx, "ledger", head)
			var ee *projections.EventError
			if !errors.As(err, &ee) || !errors.Is(err, projections.ErrFailed) {
				t.Fatalf("WaitFor past the failing event = %v, want *EventError", err)
			}
			if ee.Position != bad || !strings.Contains(ee.Error(), tc.wantMsg) {
				t.Fatalf("failure = %v at %d, want %q at %d", ee, ee.Position, tc.wantMsg, bad)
			}
			// Everything before the failing event is applied, nothing after.
			if err := r.WaitFor(ctx, "ledger", bad-1); err != nil {
				t.Fatalf("WaitFor before the failing event: %v", err)
			}
			rows := ledgerRows(t, r.DB().Reader(), "ledger")
			if len(rows) != int(bad-1) {
				t.Fatalf("rows = %d, want %d (all events before the failing one)", len(rows), bad-1)
			}
			st := statusOf(t, r, "ledger", projections.RoleLive)
			if st.State != projections.StateFailed || st.Position != bad-1 || st.LastError == nil ||
				st.LastError.Position != bad || !strings.Contains(st.LastError.Message, tc.wantMsg) {
				t.Fatalf("status = %+v (error %+v)", st, st.LastError)
			}
			// The failure is persisted for other processes.
			eventually(t, "failure in catalog", func() bool {
				sts, err := projections.Statuses(context.Background(), r.DB().Reader())
				return err == nil && sts[0].State == projections.StateFailed && sts[0].LastError != nil &&
					sts[0].LastError.Position == bad
			})
			// A retry without a fix fails again on the same event.
			if err := r.Retry(ctx, "ledger"); err != nil {
				t.Fatalf("Retry: %v", err)
			}
			if err := r.WaitFor(ctx, "ledger", head); !errors.As(err, &ee) || ee.Position != bad {
				t.Fatalf("after unfixed retry WaitFor = %v, want failure at %d", err, bad)
			}
			tc.fix(l)
			if err := r.Retry(ctx, "ledger"); err != nil {
				t.Fatalf("Retry: %v", err)
			}
			if err := r.WaitFor(ctx, "ledger", head); err != nil {
				t.Fatalf("WaitFor after fixed retry: %v", err)
			}
			if err := r.Retry(ctx, "ledger"); !errors.Is(err, projections.ErrNotFailed) {
				t.Fatalf("Retry of a healthy projection = %v, want ErrNotFailed", err)
			}
		})
	}
}

func TestSetupMustStayInNamespace(t *testing.T) {
	cases := []struct {
		name, ddl, want string
	}{
		{"table outside namespace", `CREATE TABLE stray (x INTEGER)`, "outside its namespace"},
		{"bad suffix", `CREATE TABLE %sX_Upper (x INTEGER)`, "suffix must be"},
		{"drops a catalog table", `DROP TABLE _projection_requests`, "Setup removed"},
		{"sql error", `CREATE TABLE %s (`, "setup failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			store := openStore(t, dir)
			p := &ddlProjector{ddl: tc.ddl}
			r := newRunner(t, store, filepath.Join(dir, "read.db"), p)
			defer r.Close()
			err := r.Start(context.Background())
			if !errors.Is(err, projections.ErrSetup) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %v, want ErrSetup containing %q", err, tc.want)
			}
			// Nothing of the failed build stays behind.
			sts, err := projections.Statuses(context.Background(), r.DB().Reader())
			if err != nil || len(sts) != 0 {
				t.Fatalf("catalog after failed setup = %+v, %v", sts, err)
			}
		})
	}
}

type ddlProjector struct{ ddl string }

func (*ddlProjector) Name() string        { return "ddl" }
func (*ddlProjector) Version() int        { return 1 }
func (*ddlProjector) Handles(string) bool { return true }
func (p *ddlProjector) Setup(ctx context.Context, tx *sql.Tx, t projections.Tables) error {
	q := p.ddl
	if strings.Contains(q, "%s") {
		q = fmt.Sprintf(q, t.Prefix())
	}
	_, err := tx.ExecContext(ctx, q)
	return err
}
func (*ddlProjector) Apply(context.Context, *sql.Tx, projections.Tables, []events.Envelope) error {
	return nil
}

func TestInvalidProjectors(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	cases := []struct {
		name string
		ps   []projections.Projector
	}{
		{"upper case name", []projections.Projector{&ledger{name: "Ledger", version: 1}}},
		{"underscore in name", []projections.Projector{&ledger{name: "led_ger", version: 1}}},
		{"version 0", []projections.Projector{&ledger{name: "ledger", version: 0}}},
		{"duplicate version", []projections.Projector{newLedger(), newLedger()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, tc.ps...)
			if !errors.Is(err, projections.ErrInvalidProjector) {
				if r != nil {
					r.Close()
				}
				t.Fatalf("New = %v, want ErrInvalidProjector", err)
			}
		})
	}
}
