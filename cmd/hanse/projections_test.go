package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/config"
	"github.com/hanse-network/hanse/internal/domain/personal"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/activity"
	"github.com/hanse-network/hanse/projections/streams"
)

// withProjectionsCommand asserts that "projections" is in the command table.
func withProjectionsCommand(t *testing.T) {
	t.Helper()
	if _, ok := lookupCommand("projections"); !ok {
		t.Fatal(`"projections" is missing from the command table`)
	}
}

// fillStore writes n events into the embedded store of dataDir and closes it.
func fillStore(t *testing.T, dataDir string, n int) events.Position {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(dataDir, config.EventsFile), sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var head events.Position
	for i := 0; i < n; i += 100 {
		batch := make([]events.EventData, 0, 100)
		for j := i; j < min(i+100, n); j++ {
			batch = append(batch, events.EventData{ID: events.NewUUID(), Type: "test.happened", Data: []byte(`{}`)})
		}
		res, err := s.Append(context.Background(), fmt.Sprintf("thing-%d", i/100), events.Any, batch...)
		if err != nil {
			t.Fatal(err)
		}
		head = res.Position
	}
	return head
}

func TestProjectionsCommandHelp(t *testing.T) {
	withProjectionsCommand(t)
	for _, args := range [][]string{
		{"projections", "--help"}, {"projections", "status", "--help"}, {"projections", "rebuild", "-h"},
		{"projections", "retry", "--help"}, {"help", "projections"},
	} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: hanse projections") || !strings.Contains(stdout, "--data-dir") {
			t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
		for _, b := range strings.Split(stdout, "\n  --")[1:] {
			if !strings.Contains(b, "(env HANSE_") {
				t.Errorf("%v: flag without environment variable:\n%s", args, b)
			}
		}
	}
}

func TestProjectionsCommandUsageErrors(t *testing.T) {
	withProjectionsCommand(t)
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"projections"}, "missing subcommand"},
		{[]string{"projections", "frob"}, `unknown subcommand "frob"`},
		{[]string{"projections", "rebuild", "nosuch", "--data-dir", dir}, `unknown projection "nosuch"`},
		{[]string{"projections", "rebuild", "--data-dir", dir, "activity", "streams"}, "at most one projection name"},
		{[]string{"projections", "retry", "--data-dir", dir}, "exactly one projection name"},
		{[]string{"projections", "retry", "activity", "--wait", "0s", "--data-dir", dir}, "--wait must be positive"},
		{[]string{"projections", "status", "extra", "--data-dir", dir}, `unexpected argument "extra"`},
		{[]string{"projections", "status", "--store", "esdb", "--data-dir", dir}, "--esdb-url (HANSE_ESDB_URL): required"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(t, nil, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func statusJSON(t *testing.T, dataDir string) statusReport {
	t.Helper()
	code, stdout, stderr := runCLI(t, nil, "projections", "status", "--json", "--data-dir", dataDir)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	var rep statusReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, stdout)
	}
	return rep
}

func TestProjectionsCommandWithoutServer(t *testing.T) {
	withProjectionsCommand(t)
	dataDir := filepath.Join(t.TempDir(), "data")

	code, stdout, _ := runCLI(t, nil, "projections", "status", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "projections have never run") ||
		!strings.Contains(stdout, "activity") || !strings.Contains(stdout, "not built") {
		t.Fatalf("status before anything: exit %d\n%s", code, stdout)
	}

	head := fillStore(t, dataDir, 1500)
	code, stdout, stderr := runCLI(t, nil, "projections", "rebuild", "--data-dir", dataDir)
	if code != 0 {
		t.Fatalf("rebuild: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"rebuild activity: done: 1,500/1,500 events (100.0%)", "activity: rebuilt v1 generation 1, live at position 1500",
		"rebuild streams: done: 1,500/1,500 events (100.0%)", "streams: rebuilt v1 generation 1, live at position 1500",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("rebuild output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\r") {
		t.Error("progress redraws the line although stdout is not a terminal")
	}

	rep := statusJSON(t, dataDir)
	if rep.Runner != nil || len(rep.Projections) != len(projectors(personal.Plain{})) || len(rep.NotBuilt) != 0 {
		t.Fatalf("status after rebuild: %+v", rep)
	}
	for _, s := range rep.Projections {
		if s.Position != head || s.Head != head || s.LagEvents != 0 || s.State != projections.StateStopped || s.Generation != 1 {
			t.Errorf("status of %s: %+v", s.Name, s)
		}
	}

	// The store grew while nothing ran: status measures the lag now.
	more := fillStore(t, dataDir, 10)
	rep = statusJSON(t, dataDir)
	for _, s := range rep.Projections {
		if s.Head != more || s.LagEvents != uint64(more-head) || s.LagSeconds <= 0 {
			t.Errorf("offline lag of %s: %+v", s.Name, s)
		}
	}

	code, stdout, _ = runCLI(t, nil, "projections", "retry", "streams", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "streams: nothing to retry") {
		t.Fatalf("retry of a healthy projection: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(t, nil, "projections", "status", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "runner: none") || !strings.Contains(stdout, "NAME") {
		t.Fatalf("status table: exit %d\n%s", code, stdout)
	}
}

// TestProjectionsCommandWithServer runs a projection runner as "hanse
// serve" would and drives it through the request protocol.
func TestProjectionsCommandWithServer(t *testing.T) {
	withProjectionsCommand(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	head := fillStore(t, dataDir, 300)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dataDir, config.EventsFile), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r, err := newProjectionRunner(store, config.Store{DataDir: dataDir, Kind: config.StoreSQLite}, quiet, nil, personal.Plain{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range []string{activity.Name, streams.Name} {
		if err := r.WaitFor(ctx, name, head); err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := runCLI(t, nil, "projections", "rebuild", "streams", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "asking it to rebuild") || !strings.Contains(stdout, "streams: rebuilt streams v1 (generation 1)") {
		t.Fatalf("rebuild via server: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := statusJSON(t, dataDir)
	if rep.Runner == nil {
		t.Fatalf("status does not show the active runner: %+v", rep)
	}

	// Break the activity read model under the runner: its next batch fails.
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, ReadModelFile))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DROP TABLE activity_v1_entries`); err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, "thing-x", events.Any, events.EventData{ID: events.NewUUID(), Type: "test.happened", Data: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WaitFor(ctx, activity.Name, res.Position); err == nil {
		t.Fatal("activity applied an event without its table")
	}
	code, stdout, stderr = runCLI(t, nil, "projections", "retry", "activity", "--data-dir", dataDir)
	if code != 1 || !strings.Contains(stderr, "failed again: failed at position 301") || !strings.Contains(stderr, "no such table") {
		t.Fatalf("retry of a broken projection: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, nil, "projections", "status", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "failed") || !strings.Contains(stdout, "at 301 (test.happened, stream thing-x)") {
		t.Fatalf("status of a failed projection: exit %d\n%s", code, stdout)
	}
	// A rebuild replaces the broken build.
	code, stdout, stderr = runCLI(t, nil, "projections", "rebuild", "activity", "--data-dir", dataDir)
	if code != 0 {
		t.Fatalf("rebuild of the failed projection: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := r.WaitFor(ctx, activity.Name, res.Position); err != nil {
		t.Fatalf("after rebuild: %v", err)
	}
}
