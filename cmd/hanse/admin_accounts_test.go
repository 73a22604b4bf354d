package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// newFakeAccountsAPI fakes the admin accounts API and records every
// request as "METHOD path?query body".
func newFakeAccountsAPI(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+string(body)))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+cliToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"code":"unauthorized","message":"a valid admin bearer token is required"}}`)
			return
		}
		var req map[string]string
		_ = json.Unmarshal(body, &req)
		p := r.URL.Path
		switch {
		case r.Method == http.MethodPost && p == "/api/admin/accounts" && req["email"] == "taken@example.org":
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"error":{"code":"email_taken","message":"an account with this e-mail address exists"}}`)
		case r.Method == http.MethodPost && p == "/api/admin/accounts" && req["email"] == "bad":
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"error":{"code":"validation_failed","message":"email: must be an address such as name@example.org","field":"email"}}`)
		case r.Method == http.MethodPost && p == "/api/admin/accounts":
			w.WriteHeader(http.StatusCreated)
			role := req["role"]
			out := map[string]any{"id": "acc-1", "username": req["username"], "role": role, "position": 61}
			if req["password"] == "" {
				out["password"] = "Gen3ratedPassw0rdXyzAbcd"
			}
			_ = json.NewEncoder(w).Encode(out)
		case r.Method == http.MethodGet && p == "/api/admin/accounts" && r.URL.Query().Get("username") == "carla":
			_, _ = io.WriteString(w, `{"items":[{"id":"acc-1","username":"carla","role":"learner"}]}`)
		case r.Method == http.MethodGet && p == "/api/admin/accounts":
			_, _ = io.WriteString(w, `{"items":[]}`)
		case r.Method == http.MethodPost && p == "/api/admin/accounts/half/erase":
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"id":"half","position":70,"complete":false}`)
		case r.Method == http.MethodPost && p == "/api/admin/accounts/missing/erase":
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"no such account"}}`)
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/erase"):
			_, _ = io.WriteString(w, `{"id":"acc-1","position":71,"complete":true}`)
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/role") && req["role"] == "instance_admin" && strings.Contains(p, "/weak/"):
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":{"code":"forbidden","message":"your role does not allow this"}}`)
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/role"):
			_, _ = io.WriteString(w, `{"id":"acc-1","role":"`+req["role"]+`","position":72}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"code":"internal_error","message":"the command failed"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func TestAdminAccountCommands(t *testing.T) {
	srv, seen := newFakeAccountsAPI(t)
	tests := []struct {
		name       string
		run        func(context.Context, *cliEnv, []string) error
		args       []string
		stdin      string
		wantStdout string
		wantErr    string
		wantUsage  bool
		wantReqs   []string
	}{
		{name: "create with generated password", run: adminCreateUser, args: []string{"--username", "carla", "--email", "carla@example.org", "--role", "facilitator"},
			wantStdout: "Created account @carla (facilitator)\n  id:       acc-1\n  position: 61\n  password: Gen3ratedPassw0rdXyzAbcd\n(shown once: pass it on safely; it can be changed after signing in)\n",
			wantReqs:   []string{`POST /api/admin/accounts {"username":"carla","email":"carla@example.org","role":"facilitator"}`}},
		{name: "create with password from stdin", run: adminCreateUser, args: []string{"--username", "dora", "--email", "d@example.org", "--password-stdin", "--display-name", "Dora"},
			stdin:      "my secret password\r\nsecond line\n",
			wantStdout: "Created account @dora (learner)\n  id:       acc-1\n  position: 61\n",
			wantReqs:   []string{`POST /api/admin/accounts {"username":"dora","email":"d@example.org","password":"my secret password","role":"learner","display_name":"Dora"}`}},
		{name: "create, json", run: adminCreateUser, args: []string{"--username", "eve", "--email", "e@example.org", "--password-stdin", "--json"}, stdin: "pw pw pw pw",
			wantStdout: `{"id":"acc-1","position":61,"role":"learner","username":"eve"}` + "\n"},
		{name: "create with empty stdin", run: adminCreateUser, args: []string{"--username", "eve", "--email", "e@example.org", "--password-stdin"},
			wantErr: "standard input holds no password", wantUsage: true},
		{name: "create, e-mail taken", run: adminCreateUser, args: []string{"--username", "eve", "--email", "taken@example.org"},
			wantErr: "409 Conflict: an account with this e-mail address exists"},
		{name: "create, bad e-mail", run: adminCreateUser, args: []string{"--username", "eve", "--email", "bad"}, wantErr: "invalid --email"},
		{name: "create without username", run: adminCreateUser, args: []string{"--email", "e@example.org"}, wantErr: "--username is required", wantUsage: true},
		{name: "create without e-mail", run: adminCreateUser, args: []string{"--username", "eve"}, wantErr: "--email is required", wantUsage: true},
		{name: "create with unknown role", run: adminCreateUser, args: []string{"--username", "eve", "--email", "e@example.org", "--role", "king"},
			wantErr: "role", wantUsage: true},

		{name: "erase by username", run: adminEraseUser, args: []string{"--username", "carla", "--yes"},
			wantStdout: "Erased account acc-1 (position 71)\n",
			wantReqs:   []string{"GET /api/admin/accounts?username=carla", "POST /api/admin/accounts/acc-1/erase"}},
		{name: "erase by @username", run: adminEraseUser, args: []string{"--username", "@carla", "--yes"},
			wantStdout: "Erased account acc-1 (position 71)\n"},
		{name: "erase by id, json", run: adminEraseUser, args: []string{"--id", "x/y", "--yes", "--json"},
			wantStdout: `{"id":"acc-1","position":71,"complete":true}` + "\n", wantReqs: []string{"POST /api/admin/accounts/x%2Fy/erase"}},
		{name: "erase without --yes", run: adminEraseUser, args: []string{"--id", "acc-1"}, wantErr: "add --yes", wantUsage: true},
		{name: "erase without target", run: adminEraseUser, args: []string{"--yes"}, wantErr: "--username or --id is required", wantUsage: true},
		{name: "erase with both targets", run: adminEraseUser, args: []string{"--id", "a", "--username", "b", "--yes"}, wantErr: "not both", wantUsage: true},
		{name: "erase unknown username", run: adminEraseUser, args: []string{"--username", "nobody", "--yes"}, wantErr: `no account with username "nobody"`},
		{name: "erase unknown id", run: adminEraseUser, args: []string{"--id", "missing", "--yes"}, wantErr: "404 Not Found: no such account"},
		{name: "erase left incomplete", run: adminEraseUser, args: []string{"--id", "half", "--yes"}, wantErr: "run this command again"},

		{name: "set role", run: adminSetRole, args: []string{"--username", "carla", "--role", "institution_admin"},
			wantStdout: "Account acc-1 is now institution_admin (position 72)\n",
			wantReqs:   []string{"GET /api/admin/accounts?username=carla", `POST /api/admin/accounts/acc-1/role {"role":"institution_admin"}`}},
		{name: "set role refused", run: adminSetRole, args: []string{"--id", "weak", "--role", "instance_admin"}, wantErr: "403"},
		{name: "set role without role", run: adminSetRole, args: []string{"--id", "acc-1"}, wantErr: "--role is required", wantUsage: true},
		{name: "set role with unknown role", run: adminSetRole, args: []string{"--id", "acc-1", "--role", "root"}, wantErr: "role", wantUsage: true},
		{name: "set role without target", run: adminSetRole, args: []string{"--role", "learner"}, wantErr: "--username or --id", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(seen())
			vars := map[string]string{"HANSE_SERVER_URL": srv.URL, "HANSE_ADMIN_TOKEN": cliToken}
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(tt.stdin), getenv: func(k string) string { return vars[k] }}
			err := tt.run(context.Background(), env, tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			var ue *usageError
			if tt.wantUsage != errors.As(err, &ue) {
				t.Fatalf("usage error = %v, want %v (err %v)", !tt.wantUsage, tt.wantUsage, err)
			}
			if got := stdout.String(); got != tt.wantStdout {
				t.Fatalf("stdout %q, want %q", got, tt.wantStdout)
			}
			if tt.wantReqs != nil {
				if got := seen()[before:]; strings.Join(got, "\n") != strings.Join(tt.wantReqs, "\n") {
					t.Fatalf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.wantReqs, "\n"))
				}
			}
			if tt.wantUsage && len(seen()) != before {
				t.Fatalf("a usage error still sent %v", seen()[before:])
			}
		})
	}
}

func TestAdminAccountCommandsHelp(t *testing.T) {
	withAdminCommand(t)
	for _, sub := range []string{"create-user", "erase-user", "set-role"} {
		code, stdout, stderr := runCLI(t, nil, "admin", sub, "--help")
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: hanse admin "+sub) {
			t.Fatalf("%s --help: exit %d\n%s%s", sub, code, stdout, stderr)
		}
	}
	_, stdout, _ := runCLI(t, nil, "admin", "--help")
	for _, sub := range []string{"create-user", "erase-user", "set-role"} {
		if !strings.Contains(stdout, sub) {
			t.Errorf("admin --help does not list %s", sub)
		}
	}
	code, _, stderr := runCLI(t, map[string]string{"HANSE_ADMIN_TOKEN": cliToken}, "admin", "erase-user", "--id", "a")
	if code != 2 || !strings.Contains(stderr, "--yes") {
		t.Fatalf("erase-user without --yes: exit %d, %s", code, stderr)
	}
}
