package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/internal/config"
	"github.com/hanse-network/hanse/projections"
)

func TestFederationDeliveries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := projections.OpenDB(ctx, filepath.Join(dir, ReadModelFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := delivery.EnsureSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, inbox := range []string{"https://one.example/inbox", "https://two.example/inbox"} {
		if err := db.Write(ctx, func(tx *sql.Tx) error {
			_, err := delivery.Insert(ctx, tx, delivery.Record{ActivityID: "https://h.example/n/1/activity",
				ActivityType: "Create", Inbox: inbox, ActorID: "a1", Body: []byte("{}"), EventPosition: 7, CreatedAt: time.Now()})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	runIt := func(args ...string) (string, error) {
		var out bytes.Buffer
		env := &cliEnv{stdout: &out, stderr: io.Discard, getenv: envFunc(map[string]string{"HANSE_DATA_DIR": dir}),
			newLogger: func(config.Log) (*slog.Logger, error) { return slog.New(slog.DiscardHandler), nil }}
		err := runFederation(ctx, env, args)
		return out.String(), err
	}
	out, err := runIt("deliveries", "--host", "two.example", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep deliveriesReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Deliveries) != 1 ||
		rep.Deliveries[0].Inbox != "https://two.example/inbox" || rep.Deliveries[0].State != delivery.Pending {
		t.Fatalf("json output %q: %v", out, err)
	}
	out, err = runIt("deliveries", "--state", "pending")
	if err != nil || strings.Count(out, "pending") != 2 || !strings.Contains(out, "INBOX") {
		t.Fatalf("table output %q: %v", out, err)
	}
	if out, err = runIt("deliveries", "--state", "delivered"); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("delivered: %q %v", out, err)
	}
	for _, bad := range [][]string{{}, {"nope"}, {"deliveries", "--state", "lost"}, {"deliveries", "extra"}} {
		if _, err := runIt(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}

	w := delivery.New(db, nil, nil, delivery.Options{})
	reg := prometheus.NewRegistry()
	if err := registerDeliveryMetrics(reg, w); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "hanse_federation_delivery_queue_depth" {
			found = mf.GetMetric()[0].GetGauge().GetValue() == 2
		}
	}
	if !found || len(mfs) != 4 {
		t.Fatalf("metrics: %d families, queue depth 2 found: %v", len(mfs), found)
	}
}
