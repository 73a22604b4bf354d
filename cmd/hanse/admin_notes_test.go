package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// newFakeNotesAPI fakes the admin notes API and records "METHOD path body".
func newFakeNotesAPI(t *testing.T) (*httptest.Server, func() string) {
	t.Helper()
	var mu sync.Mutex
	var last string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = r.Method + " " + r.URL.EscapedPath() + " " + string(body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+cliToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"code":"unauthorized","message":"a valid admin bearer token is required"}}`)
			return
		}
		switch p := r.URL.Path; {
		case r.Method == http.MethodPost && p == "/api/admin/actors/missing/notes":
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"no such local actor"}}`)
		case r.Method == http.MethodPost && strings.Contains(string(body), "de_DE"):
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"error":{"code":"invalid","message":"must be a BCP 47 language tag","field":"language"}}`)
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/notes"):
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"note-1","position":51}`)
		case r.Method == http.MethodDelete && p == "/api/admin/notes/missing":
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"no such note"}}`)
		case r.Method == http.MethodDelete && p == "/api/admin/notes/gone":
			w.WriteHeader(http.StatusGone)
			_, _ = io.WriteString(w, `{"error":{"code":"note_gone","message":"the note has been deleted"}}`)
		case r.Method == http.MethodDelete && strings.HasPrefix(p, "/api/admin/notes/"):
			_, _ = io.WriteString(w, `{"id":"note-1","position":52}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"code":"internal_error","message":"the command failed"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() string { mu.Lock(); defer mu.Unlock(); return last }
}

func TestAdminNoteCommands(t *testing.T) {
	srv, last := newFakeNotesAPI(t)
	tests := []struct {
		name       string
		run        func(context.Context, *cliEnv, []string) error
		args       []string
		token      string
		wantStdout string
		wantErr    string // substring of the error
		wantUsage  bool   // the error is a usage error (exit 2)
		wantReq    string // the request the server saw
	}{
		{name: "post", run: adminPostNote, args: []string{"--actor", "act-1", "--content", "Moin\n\nzwei", "--language", "de"},
			wantStdout: "Published public note note-1 by actor act-1 (position 51)\n",
			wantReq:    `POST /api/admin/actors/act-1/notes {"content":"Moin\n\nzwei","language":"de","visibility":"public"}`},
		{name: "post followers-only, json", run: adminPostNote, args: []string{"--actor", "a/b", "--content", "x", "--visibility", "followers", "--json"},
			wantStdout: `{"id":"note-1","position":51}` + "\n",
			wantReq:    `POST /api/admin/actors/a%2Fb/notes {"content":"x","visibility":"followers"}`},
		{name: "post unknown actor", run: adminPostNote, args: []string{"--actor", "missing", "--content", "x"},
			wantErr: `no actor with id "missing"`},
		{name: "post bad language", run: adminPostNote, args: []string{"--actor", "act-1", "--content", "x", "--language", "de_DE"},
			wantErr: "invalid --language: must be a BCP 47 language tag"},
		{name: "post wrong token", run: adminPostNote, args: []string{"--actor", "act-1", "--content", "x"}, token: "wrong-wrong-wrong",
			wantErr: "401"},
		{name: "post without actor", run: adminPostNote, args: []string{"--content", "x"}, wantErr: "--actor is required", wantUsage: true},
		{name: "post without content", run: adminPostNote, args: []string{"--actor", "act-1", "--content", "  "}, wantErr: "--content is required", wantUsage: true},
		{name: "post bad visibility", run: adminPostNote, args: []string{"--actor", "act-1", "--content", "x", "--visibility", "friends"}, wantErr: "visibility", wantUsage: true},
		{name: "post stray argument", run: adminPostNote, args: []string{"extra", "--actor", "act-1", "--content", "x"}, wantErr: `unexpected argument "extra"`, wantUsage: true},
		{name: "delete", run: adminDeleteNote, args: []string{"note-1"}, wantStdout: "Deleted note note-1 (position 52)\n",
			wantReq: "DELETE /api/admin/notes/note-1 "},
		{name: "delete json, id after flags", run: adminDeleteNote, args: []string{"--json", "n 2"}, wantStdout: `{"id":"note-1","position":52}` + "\n",
			wantReq: "DELETE /api/admin/notes/n%202 "},
		{name: "delete unknown", run: adminDeleteNote, args: []string{"missing"}, wantErr: "404 Not Found: no such note"},
		{name: "delete twice", run: adminDeleteNote, args: []string{"gone"}, wantErr: "410 Gone: the note has been deleted"},
		{name: "delete without id", run: adminDeleteNote, args: nil, wantErr: "missing note id", wantUsage: true},
		{name: "delete two ids", run: adminDeleteNote, args: []string{"a", "b"}, wantErr: `unexpected argument "b"`, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token
			if token == "" {
				token = cliToken
			}
			vars := map[string]string{"HANSE_SERVER_URL": srv.URL, "HANSE_ADMIN_TOKEN": token}
			var stdout, stderr bytes.Buffer
			env := &cliEnv{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
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
			if stdout.String() != tt.wantStdout {
				t.Fatalf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if tt.wantReq != "" && last() != tt.wantReq {
				t.Fatalf("request %q, want %q", last(), tt.wantReq)
			}
		})
	}
}
