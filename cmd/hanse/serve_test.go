package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/internal/httpapi"
)

// instance is "hanse serve" running in-process.
type instance struct {
	base   string
	cancel context.CancelFunc
	exited chan int
	stderr *logSink
	stdout *bytes.Buffer
}

func startServe(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, exited: make(chan int, 1), stderr: newLogSink(), stdout: &bytes.Buffer{}}
	go func() {
		in.exited <- run(ctx, append([]string{"serve"}, args...), envFunc(env), in.stdout, in.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.exited:
		case <-time.After(30 * time.Second):
			t.Error("instance did not stop")
		}
	})
	in.base = "http://" + waitAddr(t, in.stderr, in.exited)
	return in
}

// stop cancels the context (as SIGINT/SIGTERM do) and returns the exit code.
func (in *instance) stop(t *testing.T) int {
	t.Helper()
	in.cancel()
	select {
	case code := <-in.exited:
		in.exited <- code // for the cleanup
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit within 30s after cancel; stderr:\n%s", in.stderr.String())
	}
	return -1
}

func TestServeEndToEnd(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "nested", "data") // created by serve
	const token = "e2e-admin-token-0123456789"
	in := startServe(t, map[string]string{"HANSE_ADMIN_TOKEN": token}, "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitReady(t, in.base)

	checks := []struct {
		path       string
		token      string
		wantStatus int
		wantBody   string
	}{
		{path: "/livez", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{path: "/readyz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{path: "/metrics", token: token, wantStatus: 200, wantBody: "hanse_projection"},
		{path: "/metrics", wantStatus: 401, wantBody: `"code":"unauthorized"`},
		{path: "/metrics", token: "wrong-token-0123456789", wantStatus: 401, wantBody: `"code":"unauthorized"`},
		{path: "/api/admin/activity", token: token, wantStatus: 200, wantBody: `"items":`},
		{path: "/api/admin/activity", wantStatus: 401, wantBody: `"code":"unauthorized"`},
		{path: "/api/admin/activity?limit=-1", token: token, wantStatus: 400, wantBody: `"code":`},
		{path: "/no/such/page", wantStatus: 404, wantBody: `"code":"not_found"`},
	}
	for _, c := range checks {
		status, body := getWithToken(t, in.base+c.path, c.token)
		if status != c.wantStatus || !strings.Contains(body, c.wantBody) {
			t.Errorf("GET %s = %d %q; want %d with %q", c.path, status, body, c.wantStatus, c.wantBody)
		}
	}

	// A second instance on the same data directory must refuse to start
	// rather than share the database file.
	code, _, stderr := runCLI(t, nil, "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	if code != exitError || !strings.Contains(stderr, "open embedded event store") {
		t.Errorf("second instance on the same data dir: exit %d, stderr:\n%s", code, stderr)
	}

	if code := in.stop(t); code != 0 {
		t.Fatalf("exit code %d after cancel; stderr:\n%s", code, in.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "events.db")); err != nil {
		t.Fatalf("events.db: %v", err)
	}
	logs := in.stderr.String()
	for _, want := range []string{"msg=starting", `msg="event store opened" store=sqlite`, "msg=request method=GET path=/livez status=200", `msg="shutting down"`, "msg=stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if in.stdout.Len() != 0 {
		t.Errorf("serve wrote to stdout: %q", in.stdout.String())
	}
	if _, err := http.Get(in.base + "/livez"); err == nil {
		t.Error("server still answers after exit")
	}
}

func TestServeJSONLogsAndEnvironment(t *testing.T) {
	dataDir := t.TempDir()
	in := startServe(t, map[string]string{
		"HANSE_LISTEN": "127.0.0.1:0", "HANSE_DATA_DIR": dataDir, "HANSE_LOG_FORMAT": "json",
	})
	waitReady(t, in.base)
	if code := in.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(in.stderr.String()), "\n")
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "events.db")); err != nil {
		t.Fatalf("HANSE_DATA_DIR not used: %v", err)
	}
}

func TestServeStartupFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sharedDir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{name: "data dir is a file", args: []string{"--listen", "127.0.0.1:0", "--data-dir", notADir}, wantStderr: "create data directory"},
		{name: "port in use", args: []string{"--listen", busy.Addr().String(), "--data-dir", sharedDir}, wantStderr: "listen on " + busy.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, append([]string{"serve"}, tt.args...)...)
			if code != exitError || !strings.Contains(stderr, tt.wantStderr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant 1 and %q", code, stderr, tt.wantStderr)
			}
		})
	}
	// The failed start released the store: the same data dir opens again.
	in := startServe(t, nil, "--listen", "127.0.0.1:0", "--data-dir", sharedDir)
	waitReady(t, in.base)
	if code := in.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// shutdownProbe is a services value with a controllable slow route, a
// worker and closers that record what happened when.
type shutdownProbe struct {
	svc       *services
	started   chan struct{} // closed when /slow is in its handler
	release   chan struct{} // close to let /slow finish
	released  atomic.Bool   // set just before release is closed
	mu        sync.Mutex
	events    []string
	workerErr error // what the worker returns at once, if non-nil
}

func (p *shutdownProbe) record(e string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

func (p *shutdownProbe) recorded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

func newShutdownProbe(workerErr error) *shutdownProbe {
	p := &shutdownProbe{started: make(chan struct{}), release: make(chan struct{}), workerErr: workerErr}
	p.svc = &services{}
	p.svc.handler = httpapi.NewRouter(httpapi.Deps{Mount: func(r chi.Router) {
		r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
			close(p.started)
			<-p.release
			p.record("request finished")
			_, _ = io.WriteString(w, "done")
		})
	}})
	p.svc.addWorker("probe", func(ctx context.Context) error {
		if p.workerErr != nil {
			return p.workerErr
		}
		<-ctx.Done()
		p.record("worker stopped")
		return nil
	})
	p.svc.onClose("event store", func() error { p.record("store closed"); return nil })
	p.svc.onClose("read models", func() error { p.record("read models closed"); return nil })
	return p
}

func TestRunServicesDrainsInFlightRequests(t *testing.T) {
	p := newShutdownProbe(nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServices(ctx, ln, p.svc, 10*time.Second, slog.New(slog.DiscardHandler)) }()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{status: res.StatusCode, body: string(b), err: err}
	}()
	<-p.started
	cancel() // as SIGTERM does

	// New connections are refused while the request is still in flight.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("runServices returned %v before the in-flight request finished", err)
	default:
	}

	close(p.release)
	r := <-got
	if r.err != nil || r.status != 200 || r.body != "done" {
		t.Fatalf("in-flight request = %d %q %v; want 200 done", r.status, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("runServices: %v", err)
	}
	want := []string{"request finished", "worker stopped", "read models closed", "store closed"}
	if got := p.recorded(); !slices.Equal(got, want) {
		t.Fatalf("shutdown order %v, want %v", got, want)
	}
}

func TestRunServicesShutdownTimeout(t *testing.T) {
	p := newShutdownProbe(nil)
	defer close(p.release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServices(ctx, ln, p.svc, 100*time.Millisecond, slog.New(slog.DiscardHandler)) }()
	go func() {
		if res, err := http.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
			res.Body.Close()
		}
	}()
	<-p.started
	cancel()
	err = <-done
	if err == nil || !strings.Contains(err.Error(), "in-flight requests cut after 100ms") {
		t.Fatalf("runServices = %v, want the timeout reported", err)
	}
	if got := p.recorded(); !slices.Contains(got, "store closed") {
		t.Fatalf("store not closed after a timed-out shutdown: %v", got)
	}
}

func TestRunServicesWorkerFailureStopsServer(t *testing.T) {
	p := newShutdownProbe(errors.New("projection exploded"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = runServices(context.Background(), ln, p.svc, time.Second, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "worker probe: projection exploded") {
		t.Fatalf("runServices = %v, want the worker failure", err)
	}
	if got, want := p.recorded(), []string{"read models closed", "store closed"}; !slices.Equal(got, want) {
		t.Fatalf("closers %v, want %v", got, want)
	}
}

// TestServeProjectsExistingEvents starts the server on a data directory
// that already holds events: the read models are built from them and the
// admin feed serves them, waiting for the head position on request.
func TestServeProjectsExistingEvents(t *testing.T) {
	dataDir := t.TempDir()
	head := fillStore(t, dataDir, 150)
	const token = "e2e-admin-token-0123456789"
	in := startServe(t, map[string]string{"HANSE_ADMIN_TOKEN": token}, "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	waitReady(t, in.base)

	status, body := getWithToken(t, fmt.Sprintf("%s/api/admin/activity?type=test.happened&limit=200&min_position=%d", in.base, head), token)
	if status != 200 {
		t.Fatalf("GET feed = %d %s", status, body)
	}
	var page struct {
		Items []struct {
			Position uint64 `json:"position"`
			Type     string `json:"type"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 150 || page.Items[0].Position != uint64(head) || page.Items[0].Type != "test.happened" {
		t.Fatalf("feed holds %d items (first %+v), want all 150, newest first at position %d", len(page.Items), page.Items, head)
	}
	status, body = getWithToken(t, fmt.Sprintf("%s/api/admin/activity?min_position=%d", in.base, head+1000), token)
	if status != 503 || !strings.Contains(body, `"code":"not_caught_up"`) {
		t.Fatalf("a position never written: %d %s, want 503 not_caught_up", status, body)
	}
}
