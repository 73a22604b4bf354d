package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/federation/discovery"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/secrets"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
)

// fakeActorCommands records commands and answers with err when set.
type fakeActorCommands struct {
	mu      sync.Mutex
	created []app.CreateActor
	rotated []string
	deleted []string
	by      []string
	err     error
}

func (f *fakeActorCommands) Create(_ context.Context, cmd app.CreateActor) (app.CreateActorResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return app.CreateActorResult{}, f.err
	}
	f.created = append(f.created, cmd)
	return app.CreateActorResult{ActorID: fmt.Sprintf("id-%d", len(f.created)), Position: 41}, nil
}

func (f *fakeActorCommands) RotateKey(_ context.Context, id, by string) (events.Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	f.rotated = append(f.rotated, id)
	f.by = append(f.by, by)
	return 42, nil
}

func (f *fakeActorCommands) Delete(_ context.Context, id, by string) (events.Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	f.deleted = append(f.deleted, id)
	f.by = append(f.by, by)
	return 43, nil
}

func (f *fakeActorCommands) EnsureInstanceActor(context.Context, string) (string, events.Position, error) {
	return "instance", 1, f.err
}

const adminTestToken = "0123456789abcdef-admin"

func actorsServer(t *testing.T, cmds app.ActorCommands, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewRouter(Deps{AdminToken: token,
		Admin: AdminActorRoutes(cmds, urls.MustNew("http://127.0.0.1:8080"))}))
	t.Cleanup(srv.Close)
	return srv
}

func adminDo(t *testing.T, method, url, contentType, body, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestAdminCreateActor(t *testing.T) {
	fake := &fakeActorCommands{}
	srv := actorsServer(t, fake, adminTestToken)
	resp, body := adminDo(t, http.MethodPost, srv.URL+AdminActorsPath, "application/json",
		`{"kind":"Group","username":"lernen","name":"Lernen <in> Bremen","summary":"hi","manually_approves_followers":true,"discoverable":true}`,
		adminTestToken)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got CreateActorResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := CreateActorResponse{ID: "id-1", Kind: "group", Username: "lernen",
		IRI: "http://127.0.0.1:8080/communities/lernen", Handle: "lernen@127.0.0.1:8080", Position: 41}
	if got != want {
		t.Errorf("response %+v, want %+v", got, want)
	}
	if loc := resp.Header.Get("Location"); loc != want.IRI {
		t.Errorf("Location %q", loc)
	}
	if len(fake.created) != 1 {
		t.Fatalf("commands %+v", fake.created)
	}
	c := fake.created[0]
	if c.Kind != actor.KindGroup || c.Username != "lernen" || c.Name != "Lernen <in> Bremen" || c.Summary != "hi" ||
		!c.ManuallyApprovesFollowers || !c.Discoverable || c.By == "" || c.CorrelationID == "" {
		t.Errorf("command %+v", c)
	}
}

func TestAdminActorErrors(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		token       string
		serverToken string
		cmdErr      error
		status      int
		code        string
		field       string
	}{
		{name: "malformed JSON", body: `{"kind":`, status: 400, code: CodeBadRequest},
		{name: "unknown field", body: `{"kind":"person","username":"a","admin":true}`, status: 400, code: CodeBadRequest},
		{name: "wrong type", body: `{"kind":"person","username":5}`, status: 400, code: CodeBadRequest},
		{name: "two values", body: `{"kind":"person","username":"a"} {}`, status: 400, code: CodeBadRequest},
		{name: "empty body", body: ``, status: 400, code: CodeBadRequest},
		{name: "null", body: `null`, status: 422, code: CodeInvalid, field: "kind"},
		{name: "array", body: `[]`, status: 400, code: CodeBadRequest},
		{name: "not JSON", contentType: "text/plain", body: `kind=person`, status: 415, code: CodeUnsupportedMedia},
		{name: "unknown kind", body: `{"kind":"robot","username":"a"}`, status: 422, code: CodeInvalid, field: "kind"},
		{name: "no kind", body: `{"username":"a"}`, status: 422, code: CodeInvalid, field: "kind"},
		{name: "application kind", body: `{"kind":"application","username":"a"}`, status: 422, code: CodeInvalid, field: "kind"},
		{name: "invalid field", body: `{"kind":"person","username":"a b"}`,
			cmdErr: &app.ValidationError{Field: "username", Reason: "only a-z, 0-9 and _"}, status: 422, code: CodeInvalid, field: "username"},
		{name: "wrapped invalid field", body: `{"kind":"person","username":""}`,
			cmdErr: fmt.Errorf("create: %w", &app.ValidationError{Field: "username", Reason: "required"}), status: 422, code: CodeInvalid, field: "username"},
		{name: "username taken", body: `{"kind":"person","username":"alice"}`,
			cmdErr: fmt.Errorf("reserve: %w", app.ErrUsernameTaken), status: 409, code: CodeUsernameTaken},
		{name: "internal", body: `{"kind":"person","username":"alice"}`, cmdErr: errors.New("secret disk failure"), status: 500, code: CodeInternal},
		{name: "rotate unknown", path: "/actors/nope/rotate-key", cmdErr: app.ErrActorNotFound, status: 404, code: CodeNotFound},
		{name: "rotate deleted", path: "/actors/x/rotate-key", cmdErr: app.ErrActorDeleted, status: 410, code: CodeGone},
		{name: "delete unknown", method: http.MethodDelete, path: "/actors/nope", cmdErr: app.ErrActorNotFound, status: 404, code: CodeNotFound},
		{name: "delete deleted", method: http.MethodDelete, path: "/actors/x", cmdErr: fmt.Errorf("x: %w", app.ErrActorDeleted), status: 410, code: CodeGone},
		{name: "no token", body: `{}`, token: "-", status: 401, code: CodeUnauthorized},
		{name: "wrong token", body: `{}`, token: "wrong-token-wrong-token", status: 401, code: CodeUnauthorized},
		{name: "admin disabled", body: `{}`, serverToken: "-", status: 403, code: CodeForbidden},
		{name: "GET not allowed", method: http.MethodGet, path: "/actors", status: 405, code: CodeMethodNotAllowed},
		{name: "rotate with GET", method: http.MethodGet, path: "/actors/x/rotate-key", status: 405, code: CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeActorCommands{err: tt.cmdErr}
			serverToken := adminTestToken
			if tt.serverToken == "-" {
				serverToken = ""
			}
			srv := actorsServer(t, fake, serverToken)
			method, path, ct, token := tt.method, tt.path, tt.contentType, tt.token
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/actors"
			}
			if ct == "" {
				ct = "application/json"
			}
			switch token {
			case "":
				token = adminTestToken
			case "-":
				token = ""
			}
			resp, body := adminDo(t, method, srv.URL+AdminPrefix+path, ct, tt.body, token)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			var e ValidationErrorBody
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if e.Error.Code != tt.code || e.Error.Message == "" || e.Error.Field != tt.field {
				t.Errorf("error %+v, want code %q field %q", e.Error, tt.code, tt.field)
			}
			if strings.Contains(string(body), "secret disk failure") {
				t.Errorf("internal error leaked: %s", body)
			}
		})
	}
}

func TestAdminRotateAndDelete(t *testing.T) {
	fake := &fakeActorCommands{}
	srv := actorsServer(t, fake, adminTestToken)
	tests := []struct {
		method, path string
		want         ActorWriteResponse
	}{
		{http.MethodPost, "/actors/a-1/rotate-key", ActorWriteResponse{ID: "a-1", Position: 42}},
		{http.MethodDelete, "/actors/a-2", ActorWriteResponse{ID: "a-2", Position: 43}},
	}
	for _, tt := range tests {
		resp, body := adminDo(t, tt.method, srv.URL+AdminPrefix+tt.path, "", "", adminTestToken)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", tt.method, tt.path, resp.StatusCode, body)
		}
		var got ActorWriteResponse
		if err := json.Unmarshal(body, &got); err != nil || got != tt.want {
			t.Errorf("%s: %+v (%v), want %+v", tt.path, got, err, tt.want)
		}
	}
	if len(fake.rotated) != 1 || fake.rotated[0] != "a-1" || len(fake.deleted) != 1 || fake.deleted[0] != "a-2" {
		t.Errorf("rotated %q deleted %q", fake.rotated, fake.deleted)
	}
	for _, by := range fake.by {
		if by == "" {
			t.Error("command without acting actor")
		}
	}
}

// realStack is the whole actor path on real parts: the embedded SQLite
// store, app.Actors, the projections runner with the actors read model,
// and the admin, discovery and actor-document routes on one router, on a
// loopback HTTP server.
type realStack struct {
	srv    *httptest.Server
	runner *projections.Runner
	cmds   *app.Actors
}

func newRealStack(t *testing.T) *realStack {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keyring, err := secrets.NewKeyring(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	// Pre-made distinct keys, each handed out once.
	var keys []*rsa.PrivateKey
	for range 6 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	var next atomic.Int64
	cmds := app.NewActors(store, events.NewRegistry(), keyring, "127.0.0.1:8080")
	cmds.Keys = func() (*rsa.PrivateKey, error) {
		i := int(next.Add(1)) - 1
		if i >= len(keys) {
			return nil, errors.New("test key pool exhausted")
		}
		return keys[i], nil
	}

	runner, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, actors.New())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	reader := actors.NewReader(runner.DB())
	u := urls.MustNew("http://127.0.0.1:8080")
	await := AwaitPosition(runner, actors.Name, 0)
	srv := httptest.NewServer(NewRouter(Deps{
		Logger: quiet, AdminToken: adminTestToken,
		Admin: AdminActorRoutes(cmds, u),
		Mount: func(r chi.Router) {
			discovery.New(u, reader, "test", discovery.Options{}).Register(r.With(await))
			actorpub.New(u, reader, actorpub.Options{}).Register(r.With(await))
		},
	}))
	t.Cleanup(srv.Close)
	return &realStack{srv: srv, runner: runner, cmds: cmds}
}

// get fetches path as an ActivityPub client, reading at least position pos.
func (s *realStack) get(t *testing.T, path string, pos events.Position) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/activity+json")
	req.Header.Set(MinPositionHeader, fmt.Sprint(pos))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAdminActorsWithRealReadModel(t *testing.T) {
	s := newRealStack(t)
	ctx := context.Background()
	_, pos, err := s.cmds.EnsureInstanceActor(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}

	// Create: the answer's position makes the documents readable at once.
	resp, body := adminDo(t, http.MethodPost, s.srv.URL+AdminActorsPath, "application/json",
		`{"kind":"person","username":"Alice","name":"Alice","summary":"Lernt gern","discoverable":true}`, adminTestToken)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var created CreateActorResponse
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if created.IRI != "http://127.0.0.1:8080/users/alice" || created.Handle != "alice@127.0.0.1:8080" || created.Position <= pos {
		t.Fatalf("created %+v", created)
	}
	status, doc := s.get(t, "/users/alice", created.Position)
	if status != http.StatusOK {
		t.Fatalf("actor document: %d %s", status, doc)
	}
	key, err := httpsig.PublicKeyFromDocument(doc, created.IRI+"#main-key")
	if err != nil || key.Owner != created.IRI {
		t.Fatalf("key %+v: %v\n%s", key, err, doc)
	}
	o, err := as2.Decode(doc)
	if err != nil || o.Type != "Person" || o.Profile.PreferredUsername != "alice" || !o.Profile.Discoverable || o.Summary != "<p>Lernt gern</p>" {
		t.Fatalf("document %s (%v)", doc, err)
	}
	status, jrd := s.get(t, "/.well-known/webfinger?resource=acct:alice@127.0.0.1:8080", created.Position)
	if status != http.StatusOK || !strings.Contains(string(jrd), `"href":"http://127.0.0.1:8080/users/alice"`) {
		t.Errorf("webfinger: %d %s", status, jrd)
	}
	status, ni := s.get(t, "/nodeinfo/2.1", created.Position)
	if status != http.StatusOK || !strings.Contains(string(ni), `"users":{"total":1,`) {
		t.Errorf("nodeinfo: %d %s", status, ni)
	}
	if status, inst := s.get(t, "/actor", created.Position); status != http.StatusOK || !strings.Contains(string(inst), `"type":"Application"`) {
		t.Errorf("instance actor: %d %s", status, inst)
	}

	// Conflicts and validation come from the real command handler.
	if resp, body := adminDo(t, http.MethodPost, s.srv.URL+AdminActorsPath, "application/json",
		`{"kind":"group","username":"alice"}`, adminTestToken); resp.StatusCode != http.StatusConflict {
		t.Errorf("duplicate username: %d %s", resp.StatusCode, body)
	}
	if resp, body := adminDo(t, http.MethodPost, s.srv.URL+AdminActorsPath, "application/json",
		`{"kind":"group","username":"a b"}`, adminTestToken); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(string(body), `"field":"username"`) {
		t.Errorf("invalid username: %d %s", resp.StatusCode, body)
	}

	// Rotation: the document carries the next key generation.
	resp, body = adminDo(t, http.MethodPost, s.srv.URL+AdminActorsPath+"/"+created.ID+"/rotate-key", "", "", adminTestToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}
	var rotated ActorWriteResponse
	_ = json.Unmarshal(body, &rotated)
	_, doc2 := s.get(t, "/users/alice", rotated.Position)
	key2, err := httpsig.PublicKeyFromDocument(doc2, created.IRI+"#key-2")
	if err != nil {
		t.Fatalf("rotated key: %v\n%s", err, doc2)
	}
	if key2.Key.(*rsa.PublicKey).Equal(key.Key) {
		t.Error("the rotated document still carries the old key")
	}

	// Deletion: 410 everywhere, and again for a second delete.
	resp, body = adminDo(t, http.MethodDelete, s.srv.URL+AdminActorsPath+"/"+created.ID, "", "", adminTestToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	var deleted ActorWriteResponse
	_ = json.Unmarshal(body, &deleted)
	if status, tomb := s.get(t, "/users/alice", deleted.Position); status != http.StatusGone || !strings.Contains(string(tomb), `"formerType":"Person"`) {
		t.Errorf("deleted actor: %d %s", status, tomb)
	}
	if status, _ := s.get(t, "/.well-known/webfinger?resource=acct:alice@127.0.0.1:8080", deleted.Position); status != http.StatusGone {
		t.Errorf("webfinger of deleted actor: %d", status)
	}
	if resp, _ := adminDo(t, http.MethodDelete, s.srv.URL+AdminActorsPath+"/"+created.ID, "", "", adminTestToken); resp.StatusCode != http.StatusGone {
		t.Errorf("second delete: %d", resp.StatusCode)
	}
	if resp, _ := adminDo(t, http.MethodPost, s.srv.URL+AdminActorsPath+"/no-such-id/rotate-key", "", "", adminTestToken); resp.StatusCode != http.StatusNotFound {
		t.Errorf("rotate unknown: %d", resp.StatusCode)
	}
}
