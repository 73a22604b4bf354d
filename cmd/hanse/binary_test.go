//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryGracefulShutdownOnSIGTERM builds the real binary and proves that
// a SIGTERM to the process drains and exits 0.
func TestBinaryGracefulShutdownOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not on PATH: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hanse")
	build := exec.Command(goTool, "build", "-ldflags", "-X main.version=v0.0.0-sigterm-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// No HANSE_* variables of the developer's shell leak into the process.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HANSE_") {
			env = append(env, kv)
		}
	}

	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "hanse v0.0.0-sigterm-test (go") {
		t.Fatalf("version = %q, %v; want the -ldflags version", out, err)
	}

	dataDir := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json")
	cmd.Env = env
	sink := newLogSink()
	cmd.Stderr = sink
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			exited <- 0
		case errors.As(err, &ee):
			exited <- ee.ExitCode() // -1 when killed by a signal
		default:
			exited <- -2
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	base := "http://" + waitAddr(t, sink, exited)
	waitReady(t, base)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit code %d after SIGTERM; stderr:\n%s", code, sink.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit within 20s of SIGTERM; stderr:\n%s", sink.String())
	}
	logs := sink.String()
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "events.db")); err != nil {
		t.Fatal(err)
	}
}
