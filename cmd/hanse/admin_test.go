package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// withAdminCommand asserts that "admin" is in the command table, so that
// the real dispatch (help, usage errors, exit codes) is exercised.
func withAdminCommand(t *testing.T) {
	t.Helper()
	if _, ok := lookupCommand("admin"); !ok {
		t.Fatal(`"admin" is missing from the command table`)
	}
}

const cliToken = "cli-token-0123456789"

// fakeAdminAPI is an httptest server faking the admin actor API.
type fakeAdminAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "METHOD path body"
}

func newFakeAdminAPI(t *testing.T) *fakeAdminAPI {
	t.Helper()
	f := &fakeAdminAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath()+" "+string(body))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+cliToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"code":"unauthorized","message":"a valid admin bearer token is required"}}`)
			return
		}
		var req struct{ Kind, Username string }
		_ = json.Unmarshal(body, &req)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/admin/actors" && req.Username == "taken":
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"error":{"code":"username_taken","message":"the username is taken"}}`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/admin/actors" && req.Username == "Bad Name":
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"error":{"code":"invalid","message":"username: only a-z, 0-9 and _","field":"username"}}`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/admin/actors":
			w.Header().Set("Location", "http://127.0.0.1:8080/communities/"+req.Username)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "act-1", "kind": req.Kind, "username": req.Username,
				"iri": "http://127.0.0.1:8080/communities/" + req.Username, "handle": req.Username + "@127.0.0.1:8080", "position": 41})
		case r.URL.Path == "/api/admin/actors/missing/rotate-key" || r.URL.Path == "/api/admin/actors/missing":
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"no such actor"}}`)
		case r.URL.Path == "/api/admin/actors/gone/rotate-key":
			w.WriteHeader(http.StatusGone)
			_, _ = io.WriteString(w, `{"error":{"code":"gone","message":"the actor has been deleted"}}`)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/rotate-key"):
			_, _ = io.WriteString(w, `{"id":"act-1","position":42}`)
		case r.Method == http.MethodDelete && r.URL.Path == "/api/admin/actors/a/b":
			_, _ = io.WriteString(w, `{"id":"a/b","position":44}`)
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/admin/actors/") && !strings.HasSuffix(r.URL.Path, "explode"):
			_, _ = io.WriteString(w, `{"id":"act-1","position":43}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"code":"internal_error","message":"the command failed"}}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAdminAPI) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return ""
	}
	return f.requests[len(f.requests)-1]
}

func TestAdminCommand(t *testing.T) {
	withAdminCommand(t)
	api := newFakeAdminAPI(t)
	env := map[string]string{"HANSE_SERVER_URL": api.URL, "HANSE_ADMIN_TOKEN": cliToken}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout []string
		wantStderr []string
		wantReq    string // prefix of the last request
	}{
		{name: "create", args: []string{"create-actor", "--kind", "group", "--username", "lernen", "--name", "Lernen",
			"--summary", "Wir lernen", "--manually-approves-followers"},
			wantStdout: []string{"Created group @lernen@127.0.0.1:8080", "id:       act-1", "http://127.0.0.1:8080/communities/lernen", "position: 41"},
			wantReq:    `POST /api/admin/actors {"kind":"group","username":"lernen","name":"Lernen","summary":"Wir lernen","manually_approves_followers":true,"discoverable":false}`},
		{name: "create json", args: []string{"create-actor", "--username", "bob", "--json"},
			wantStdout: []string{`{"handle":"bob@127.0.0.1:8080","id":"act-1","iri":"http://127.0.0.1:8080/communities/bob","kind":"person","position":41,"username":"bob"}`},
			wantReq:    `POST /api/admin/actors {"kind":"person","username":"bob"`},
		{name: "server flag wins", args: []string{"create-actor", "--username", "c", "--server", api.URL + "/"},
			env: map[string]string{"HANSE_SERVER_URL": "http://127.0.0.1:1", "HANSE_ADMIN_TOKEN": cliToken}, wantStdout: []string{"Created person"}},
		{name: "token flag", args: []string{"create-actor", "--username", "d", "--admin-token", cliToken},
			env: map[string]string{"HANSE_SERVER_URL": api.URL}, wantStdout: []string{"Created person"}},
		{name: "taken", args: []string{"create-actor", "--username", "taken"}, wantCode: 1,
			wantStderr: []string{`username "taken" is taken`, "409"}},
		{name: "invalid", args: []string{"create-actor", "--username", "Bad Name"}, wantCode: 1,
			wantStderr: []string{"invalid --username: username: only a-z, 0-9 and _"}},
		{name: "wrong token", args: []string{"rotate-key", "act-1"}, env: map[string]string{"HANSE_SERVER_URL": api.URL, "HANSE_ADMIN_TOKEN": "wrong-wrong-wrong"},
			wantCode: 1, wantStderr: []string{"401", "set HANSE_ADMIN_TOKEN"}},
		{name: "no token", args: []string{"rotate-key", "act-1"}, env: map[string]string{"HANSE_SERVER_URL": api.URL},
			wantCode: 2, wantStderr: []string{"no admin token: set HANSE_ADMIN_TOKEN", "Usage: hanse admin rotate-key"}},
		{name: "rotate", args: []string{"rotate-key", "act-1"}, wantStdout: []string{"Rotated the key of actor act-1 (position 42)"},
			wantReq: "POST /api/admin/actors/act-1/rotate-key"},
		{name: "rotate id after flags", args: []string{"rotate-key", "--json", "act 2"}, wantStdout: []string{`{"id":"act-1","position":42}`},
			wantReq: "POST /api/admin/actors/act%202/rotate-key"},
		{name: "rotate missing", args: []string{"rotate-key", "missing"}, wantCode: 1, wantStderr: []string{`no actor with id "missing"`}},
		{name: "rotate gone", args: []string{"rotate-key", "gone"}, wantCode: 1, wantStderr: []string{`actor "gone" has been deleted`}},
		{name: "delete", args: []string{"delete-actor", "act-1"}, wantStdout: []string{"Deleted actor act-1 (position 43)"},
			wantReq: "DELETE /api/admin/actors/act-1"},
		{name: "delete missing", args: []string{"delete-actor", "missing"}, wantCode: 1, wantStderr: []string{`no actor with id "missing"`}},
		{name: "server error", args: []string{"delete-actor", "explode"}, wantCode: 1,
			wantStderr: []string{"the server answered 500 Internal Server Error: the command failed"}},
		{name: "escaped id", args: []string{"delete-actor", "a/b"}, wantStdout: []string{"Deleted actor a/b (position 44)"},
			wantReq: "DELETE /api/admin/actors/a%2Fb"},
		{name: "fragment in server", args: []string{"rotate-key", "x"}, env: map[string]string{"HANSE_SERVER_URL": api.URL + "/#", "HANSE_ADMIN_TOKEN": cliToken},
			wantCode: 2, wantStderr: []string{"--server (HANSE_SERVER_URL) must be an http(s) URL"}},
		{name: "missing id", args: []string{"rotate-key"}, wantCode: 2, wantStderr: []string{"missing actor id", "Usage: hanse admin rotate-key ID"}},
		{name: "two ids", args: []string{"delete-actor", "a", "b"}, wantCode: 2, wantStderr: []string{`unexpected argument "b"`}},
		{name: "no username", args: []string{"create-actor", "--kind", "group"}, wantCode: 2, wantStderr: []string{"--username is required"}},
		{name: "bad kind", args: []string{"create-actor", "--kind", "robot", "--username", "r"}, wantCode: 2, wantStderr: []string{"kind"}},
		{name: "stray argument", args: []string{"create-actor", "--username", "x", "extra"}, wantCode: 2, wantStderr: []string{`unexpected argument "extra"`}},
		{name: "bad server", args: []string{"rotate-key", "x", "--server", "127.0.0.1:8080"}, wantCode: 2, wantStderr: []string{"--server"}},
		{name: "no subcommand", args: nil, wantCode: 2, wantStderr: []string{"missing subcommand", "Usage: hanse admin"}},
		{name: "unknown subcommand", args: []string{"frobnicate"}, wantCode: 2, wantStderr: []string{`unknown subcommand "frobnicate"`}},
		{name: "help", args: []string{"--help"}, wantStdout: []string{"Usage: hanse admin", "create-actor", "HANSE_SERVER_URL", "HANSE_ADMIN_TOKEN"}},
		{name: "create help", args: []string{"create-actor", "--help"},
			wantStdout: []string{"Usage: hanse admin create-actor", "--kind", "--username", "--manually-approves-followers", "--json", "-h, --help"}},
		{name: "rotate help", args: []string{"rotate-key", "-h"}, wantStdout: []string{"Usage: hanse admin rotate-key ID"}},
		{name: "delete help", args: []string{"delete-actor", "--help"}, wantStdout: []string{"Usage: hanse admin delete-actor ID", "410"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env
			if tt.env != nil {
				e = tt.env
			}
			code, stdout, stderr := runCLI(t, e, append([]string{"admin"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if len(tt.wantStderr) == 0 && stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			if tt.wantReq != "" && !strings.HasPrefix(api.last(), tt.wantReq) {
				t.Errorf("last request %q, want prefix %q", api.last(), tt.wantReq)
			}
		})
	}
}

func TestAdminCommandServerUnreachable(t *testing.T) {
	withAdminCommand(t)
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, _, stderr := runCLI(t, map[string]string{"HANSE_SERVER_URL": "http://" + addr, "HANSE_ADMIN_TOKEN": cliToken},
		"admin", "delete-actor", "x")
	if code != 1 || !strings.Contains(stderr, "cannot reach the Hanse server at http://"+addr) ||
		!strings.Contains(stderr, "HANSE_SERVER_URL") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

func TestAdminCommandNonJSONError(t *testing.T) {
	withAdminCommand(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>"+strings.Repeat("bad gateway ", 100)+"</html>")
	}))
	defer srv.Close()
	code, _, stderr := runCLI(t, map[string]string{"HANSE_SERVER_URL": srv.URL, "HANSE_ADMIN_TOKEN": cliToken},
		"admin", "rotate-key", "x")
	if code != 1 || !strings.Contains(stderr, "502 Bad Gateway: <html>bad gateway") || len(stderr) > 400 {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

// TestAdminHelpConventions runs the binary's help conventions (every flag
// names its environment variable) on the admin command.
func TestAdminHelpConventions(t *testing.T) {
	withAdminCommand(t)
	TestHelpForEveryCommand(t)
}
