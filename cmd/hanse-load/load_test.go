package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitFor bounds every awaited condition.
const waitFor = 20 * time.Second

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod)
}

// freePort returns a loopback port that was free a moment ago; the
// server's public URL must name its port before it starts.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a goroutine-safe output sink for the child process.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const testToken = "hanse-load-test-token-0123456789"

// startHanse builds ./cmd/hanse into a temporary directory and runs
// "hanse serve" on a free loopback port, as an operator would for a load
// run; it returns the base URL. The process is stopped with SIGTERM.
func startHanse(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hanse")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hanse")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hanse: %v\n%s", err, out)
	}
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--public-url", base,
		"--data-dir", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "HANSE_ADMIN_TOKEN="+testToken, "HANSE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("hanse did not stop within 10s of SIGTERM")
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("hanse output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(waitFor)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("hanse exited before it was ready:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hanse not ready within %s:\n%s", waitFor, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runTool runs one hanse-load command line in-process.
func runTool(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	code = run(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

// TestAgainstHanse runs both commands briefly against a real "hanse
// serve" process and checks that they report everything accepted or
// delivered, the RSA limit and the ratio; and that a single remote
// server sending more than the inbox's burst is reported as rate-limited.
func TestAgainstHanse(t *testing.T) {
	base := startHanse(t)
	common := []string{"--target", base, "--admin-token", testToken, "--rsa-time", "100ms"}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // regular expressions the output must match
	}{
		{"inbox", append([]string{"inbox", "--count", "50", "--connections", "8", "--servers", "3"}, common...), exitOK,
			[]string{`(?m)^accepted: 50/50 in `, `(?m)^rate: [0-9.]+ accepted activities/s$`, `refused: 0 rate-limited \(429\); transport errors: 0`,
				`(?m)^RSA-2048 verify: [0-9]+/s per core × [0-9]+ = [0-9]+/s$`, `(?m)^ratio: [0-9.]+ of the RSA-2048 verify limit`}},
		{"fanout", append([]string{"fanout", "--followers", "20"}, common...), exitOK,
			[]string{`(?m)^delivered: 20/20 signed Creates, verified, in `, `(?m)^rate: [0-9.]+ deliveries/s$`,
				`refused: 0 failed verification; duplicates: 0`,
				`(?m)^RSA-2048 sign: [0-9]+/s per core × [0-9]+ = [0-9]+/s$`, `(?m)^ratio: [0-9.]+ of the RSA-2048 sign limit`}},
		// One remote host sends more than the default burst of 100: the
		// excess is refused with 429, and the tool says so and fails.
		{"inbox rate-limited", append([]string{"inbox", "--count", "300", "--connections", "8", "--servers", "1"}, common...), exitFail,
			[]string{`refused: [1-9][0-9]* rate-limited \(429\)`, `note: the inbox's per-remote-host rate limit capped this run`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTool(t, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("output does not match %q:\n%s\nstderr:\n%s", re, out, errOut)
				}
			}
		})
	}
}

// TestRefusesNonLoopback checks that only loopback targets are accepted,
// before anything is sent.
func TestRefusesNonLoopback(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3:8080/", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://example.org", false},
		{"https://10.0.0.1:443", false},
		{"http://192.168.1.10:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://[::ffff:8.8.8.8]:80", false},
		{"http://127.0.0.1.example.org", false},
		{"ftp://127.0.0.1", false},
		{"http://127.0.0.1:8080/api", false},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			_, err := parseTarget(tc.target)
			if (err == nil) != tc.ok {
				t.Fatalf("parseTarget(%q) = %v, want ok %v", tc.target, err, tc.ok)
			}
		})
	}
	for _, cmd := range []string{"inbox", "fanout"} {
		code, _, errOut := runTool(t, cmd, "--target", "http://example.org", "--admin-token", testToken)
		if code != exitUsage || !strings.Contains(errOut, "loopback") {
			t.Errorf("%s with a public target: exit %d, stderr %q; want %d and a loopback refusal", cmd, code, errOut, exitUsage)
		}
	}
}

// TestDialGuard checks that the client refuses to connect to a
// non-loopback address even when a URL got past the target check.
func TestDialGuard(t *testing.T) {
	c := newClient(1, 2*time.Second)
	_, err := c.Get("http://192.0.2.1:9/")
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("GET of a non-loopback address: %v, want errNotLoopback", err)
	}
}

// TestHelpAndUsage checks --help on every command and usage errors.
func TestHelpAndUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     string
		inStdout bool
	}{
		{[]string{"--help"}, exitOK, "Commands:", true},
		{[]string{"inbox", "--help"}, exitOK, "Usage: hanse-load inbox", true},
		{[]string{"inbox", "--help"}, exitOK, "-connections", true},
		{[]string{"fanout", "--help"}, exitOK, "Usage: hanse-load fanout", true},
		{[]string{"fanout", "--help"}, exitOK, "-followers", true},
		{nil, exitUsage, "Commands:", false},
		{[]string{"bogus"}, exitUsage, `unknown command "bogus"`, false},
		{[]string{"inbox", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--count", "0"}, exitUsage, "--count must be between", false},
		{[]string{"inbox", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--connections", "5000"}, exitUsage, "--connections must be between", false},
		{[]string{"fanout", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--followers", "20000"}, exitUsage, "--followers must be between", false},
		{[]string{"fanout", "--target", "http://127.0.0.1:1", "--admin-token", "x", "--timeout", "2h"}, exitUsage, "--timeout must be", false},
		{[]string{"inbox", "--target", "http://127.0.0.1:1", "extra"}, exitUsage, `unexpected argument "extra"`, false},
	}
	t.Setenv("HANSE_ADMIN_TOKEN", "")
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runTool(t, tc.args...)
			got := errOut
			if tc.inStdout {
				got = out
			}
			if code != tc.wantCode || !strings.Contains(got, tc.want) {
				t.Errorf("exit %d, want %d; output %q does not contain %q (stdout %q, stderr %q)", code, tc.wantCode, got, tc.want, out, errOut)
			}
		})
	}
}
