package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// listeningRE finds the bound address in a text or JSON "listening" log line.
var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)|"msg":"listening","addr":"([^"]+)"`)

// logSink collects a process's stderr and reports the address of the first
// "listening" log line on addr.
type logSink struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

func newLogSink() *logSink { return &logSink{addr: make(chan string, 1)} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.buf.Write(p)
	if !s.sent {
		if m := listeningRE.FindStringSubmatch(s.buf.String()); m != nil {
			s.sent = true
			s.addr <- m[1] + m[2]
		}
	}
	return n, err
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitAddr waits for the listening address or for the process to end.
func waitAddr(t *testing.T, sink *logSink, exited <-chan int) string {
	t.Helper()
	select {
	case addr := <-sink.addr:
		return addr
	case code := <-exited:
		t.Fatalf("exited with %d before listening; stderr:\n%s", code, sink.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no listening line within 30s; stderr:\n%s", sink.String())
	}
	return ""
}

// get performs a GET over real HTTP and returns status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return getWithToken(t, url, "")
}

// getWithToken is get with an optional bearer token.
func getWithToken(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, string(b)
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not 200 within 20s (last error %v)", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// envFunc turns a map into a getenv function.
func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// runCLI runs the binary's entry point in-process to completion.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, args, envFunc(env), &out, &errOut)
	return code, out.String(), errOut.String()
}

// flagEntries lists the "--name" flags of a usage text.
func flagEntries(usage string) []string {
	var names []string
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, "  --") {
			names = append(names, strings.Fields(line)[0])
		}
	}
	return names
}
