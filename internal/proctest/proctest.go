package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// WaitFor bounds how long a started server may take to become ready.
const WaitFor = 20 * time.Second

// FreePort returns a loopback port that was free a moment ago; a server
// must know its public URL, port included, before it starts.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// SyncBuffer is a goroutine-safe output sink for a child process.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ModuleRoot returns the directory of the main module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod), nil
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Hanse builds ./cmd/hanse once per test binary (with -race when race is
// true) and returns the binary's path.
func Hanse(t testing.TB, race bool) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "hanse-proctest-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "hanse")
		args := []string{"build", "-o", binary}
		if race {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/hanse")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/hanse: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// Process is a child process a test started.
type Process struct {
	Name   string
	Cmd    *exec.Cmd
	Output *SyncBuffer
	// Exited is closed when the process has ended.
	Exited chan struct{}
}

// Start starts cmd with its output captured (and copied to stdout when
// given). At the end of the test it is stopped; a data-race report in its
// output fails the test, and a failed test logs the output.
func Start(t testing.TB, name string, cmd *exec.Cmd, stdout io.Writer) *Process {
	t.Helper()
	p := &Process{Name: name, Cmd: cmd, Output: &SyncBuffer{}, Exited: make(chan struct{})}
	cmd.Stderr, cmd.Stdout = p.Output, p.Output
	if stdout != nil {
		cmd.Stdout = io.MultiWriter(p.Output, stdout)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.Exited)
	}()
	t.Cleanup(func() {
		p.Stop(t)
		if strings.Contains(p.Output.String(), "WARNING: DATA RACE") {
			t.Errorf("%s (built with -race) reported a data race", name)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.Output.String())
		}
	})
	return p
}

// Stop sends SIGTERM and waits; after 10 s it kills the process.
func (p *Process) Stop(t testing.TB) {
	select {
	case <-p.Exited:
		return
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Exited:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not stop within 10s of SIGTERM; killing it", p.Name)
		_ = p.Cmd.Process.Kill()
		<-p.Exited
	}
}

// Server is a running "hanse serve" whose public URL is its loopback
// address.
type Server struct {
	*Process
	Base  string // http://127.0.0.1:port, also its public URL
	Host  string // 127.0.0.1:port, the host part of its handles
	Token string // the admin token
}

// Serve runs bin as "hanse serve" on a free loopback port with a fresh data
// directory, the admin token, loopback allowed for outbound federation
// and the extra environment given ("NAME=value"), and waits until /readyz
// answers 200.
func Serve(t testing.TB, bin, token string, env ...string) *Server {
	t.Helper()
	port := FreePort(t)
	s := &Server{Base: fmt.Sprintf("http://127.0.0.1:%d", port), Host: fmt.Sprintf("127.0.0.1:%d", port), Token: token}
	cmd := exec.Command(bin, "serve", "--listen", s.Host, "--public-url", s.Base, "--data-dir", t.TempDir())
	cmd.Env = append(append(os.Environ(), "HANSE_ADMIN_TOKEN="+token, "HANSE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8"), env...)
	s.Process = Start(t, "hanse", cmd, nil)
	deadline := time.Now().Add(WaitFor)
	for {
		if res, err := http.Get(s.Base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.Exited:
			t.Fatalf("hanse exited before it was ready:\n%s", s.Output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hanse not ready within %s:\n%s", WaitFor, s.Output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
