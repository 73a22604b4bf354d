package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events/esdb/esdbtest"
)

// TestServeWithESDB runs serve against the in-process EventStoreDB test
// double, selected by HANSE_ESDB_URL alone, and watches readiness follow the
// server going away and coming back.
func TestServeWithESDB(t *testing.T) {
	fake, err := esdbtest.Start(esdbtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	in := startServe(t, map[string]string{"HANSE_ESDB_URL": fake.ConnectionString()},
		"--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	waitReady(t, in.base)
	if !strings.Contains(in.stderr.String(), `msg="event store opened" store=esdb`) {
		t.Fatalf("store not esdb:\n%s", in.stderr.String())
	}
	if strings.Contains(in.stderr.String(), fake.ConnectionString()) {
		t.Error("the connection string (which may hold credentials) was logged")
	}

	fake.Stop()
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := get(t, in.base+"/readyz")
		if status == http.StatusServiceUnavailable {
			if !strings.Contains(body, `"code":"not_ready"`) || !strings.Contains(body, "event store") {
				t.Fatalf("503 body = %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d after the store went away", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, _ := get(t, in.base+"/livez"); status != http.StatusOK {
		t.Fatalf("livez = %d while the store is away, want 200", status)
	}
	if err := fake.Resume(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, in.base)

	if code := in.stop(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, in.stderr.String())
	}
}
