package peertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/hanse-network/hanse/internal/proctest"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor is how long a single awaited condition may take.
const waitFor = 20 * time.Second

var (
	npmOnce sync.Once
	npmErr  error
)

// peerDir is the Node peer's directory, relative to this package.
const peerDir = "fedify"

// nodePeer makes sure node and the peer's node_modules are available:
// it runs `npm ci` (or `npm install` without a lock file) when node_modules
// is missing. Without node or npm the test is skipped, or fails when CI is
// set, because CI must run it.
func nodePeer(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s is not on PATH; the Fedify interoperability test needs Node.js 20+ and npm", tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg + " (CI is set, so this is a failure)")
			}
			t.Skip(msg)
		}
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(peerDir, "node_modules", "@fedify", "fedify", "package.json")); err == nil {
			return
		}
		args := []string{"ci", "--no-audit", "--no-fund"}
		if _, err := os.Stat(filepath.Join(peerDir, "package-lock.json")); err != nil {
			args = []string{"install", "--no-audit", "--no-fund"}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", args...)
		cmd.Dir = peerDir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = fmt.Errorf("npm %s in %s: %w\n%s", strings.Join(args, " "), peerDir, err, out)
		}
	})
	if npmErr != nil {
		t.Fatal(npmErr)
	}
}

// hanse is a running Hanse instance.
type hanse struct{ *proctest.Server }

func startHanse(t *testing.T) *hanse {
	t.Helper()
	return &hanse{proctest.Serve(t, proctest.Hanse(t, raceEnabled), "peertest-admin-token-0123456789")}
}

// admin calls Hanse's admin API, decodes a 2xx JSON answer into out and
// returns the status code.
func (h *hanse) admin(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	return doJSON(t, method, h.Base+"/api/admin"+path, h.Token, "", body, out)
}

// collectionHas reports whether the first page of an actor collection
// lists iri.
func (h *hanse) collectionHas(t *testing.T, collection, iri string) bool {
	t.Helper()
	var page struct {
		OrderedItems []json.RawMessage `json:"orderedItems"`
	}
	if doJSON(t, "GET", collection+"?page=true", "", "application/activity+json", nil, &page) != http.StatusOK {
		return false
	}
	for _, it := range page.OrderedItems {
		var id string
		if json.Unmarshal(it, &id) != nil {
			var obj struct{ ID string }
			json.Unmarshal(it, &obj)
			id = obj.ID
		}
		if id == iri {
			return true
		}
	}
	return false
}

// peer is the running Fedify peer.
type peer struct {
	*proctest.Process
	base string // http://127.0.0.1:port
	host string
}

// actor is the IRI of the peer's one Person.
func (p *peer) actor() string { return p.base + "/users/peer" }

func startPeer(t *testing.T) *peer {
	t.Helper()
	nodePeer(t)
	port := proctest.FreePort(t)
	p := &peer{base: fmt.Sprintf("http://127.0.0.1:%d", port), host: fmt.Sprintf("127.0.0.1:%d", port)}
	pr, pw := io.Pipe()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready ") {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	cmd := exec.Command("node", "peer.mjs", fmt.Sprint(port))
	cmd.Dir = peerDir
	t.Cleanup(func() { pw.Close() }) // runs after the process stopped
	p.Process = proctest.Start(t, "fedify peer", cmd, pw)
	select {
	case <-ready:
	case <-p.Exited:
		t.Fatalf("fedify peer exited before it was ready:\n%s", p.Output.String())
	case <-time.After(waitFor):
		t.Fatalf("fedify peer not ready within %s:\n%s", waitFor, p.Output.String())
	}
	return p
}

// control calls the peer's control API.
func (p *peer) control(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	return doJSON(t, method, p.base+"/control"+path, "", "", body, out)
}

// received is one activity the peer's inbox recorded.
type received struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Actor      string `json:"actor"`
	Object     string `json:"object"`
	ObjectType string `json:"objectType"`
	// InnerObject is the object of an announced activity (Announce{Create}
	// or Announce{Delete}) or the announced object's id.
	InnerObject string          `json:"innerObject"`
	Content     string          `json:"content"`
	JSON        json.RawMessage `json:"json"`
}

func (p *peer) inbox(t *testing.T) []received {
	t.Helper()
	var items []received
	if s := p.control(t, "GET", "/inbox", nil, &items); s != http.StatusOK {
		t.Fatalf("peer inbox: %d", s)
	}
	return items
}

// exchange is one HTTP request the peer served or sent.
type exchange struct {
	Dir    string `json:"dir"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Sig    string `json:"sig"`
	Status any    `json:"status"`
}

func (p *peer) exchanges(t *testing.T) []exchange {
	t.Helper()
	var items []exchange
	p.control(t, "GET", "/requests", nil, &items)
	return items
}

// doJSON performs one HTTP request with an optional JSON body, bearer token
// and Accept header, decodes a 2xx answer into out, and logs non-2xx ones.
func doJSON(t *testing.T, method, url, token, accept string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s → %d %s", method, url, res.StatusCode, raw)
		return res.StatusCode
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
	return res.StatusCode
}

// eventually polls cond until it holds, reporting (not stopping the test)
// when the deadline passes or a watched process exits first. It returns
// whether cond held.
func eventually(t *testing.T, what string, cond func() bool, exited ...<-chan struct{}) bool {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		for _, ch := range exited {
			select {
			case <-ch:
				t.Errorf("a process exited while waiting until %s", what)
				return false
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("timed out after %s waiting until %s", waitFor, what)
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
