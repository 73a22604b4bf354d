package inbox_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/inbox"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/remoteactors"

	_ "modernc.org/sqlite"
)

// keys are generated once per test binary: RSA-2048 generation is slow.
var keys []*rsa.PrivateKey

func TestMain(m *testing.M) {
	for range 3 {
		k, err := httpsig.GenerateRSAKey()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		keys = append(keys, k)
	}
	os.Exit(m.Run())
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixturesDir is the shared fixtures directory, "../shared/fixtures" from
// the repository root.
var fixturesDir = filepath.Join("..", "..", "..", "shared", "fixtures")

// peer is an httptest "remote server" serving Mastodon-like actor
// documents, each with a current key that tests can swap (rotation) or
// answer 410 for.
type peer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	actors map[string]*peerActor // by path
	gets   atomic.Int64
}

type peerActor struct {
	key  *rsa.PrivateKey
	gone bool
}

func newPeer(t testing.TB) *peer {
	p := &peer{actors: map[string]*peerActor{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) iri(name string) string   { return p.srv.URL + "/users/" + name }
func (p *peer) keyID(name string) string { return p.iri(name) + "#main-key" }

func (p *peer) set(name string, key *rsa.PrivateKey, gone bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.actors["/users/"+name] = &peerActor{key: key, gone: gone}
}

func (p *peer) key(name string) *rsa.PrivateKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.actors["/users/"+name].key
}

var personFixture = sync.OnceValues(func() (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(fixturesDir, "mastodon", "person.json"))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
})

// document renders the actor document of path in the shape of Mastodon's
// (the shared fixture, with ids, collections and key replaced).
func (p *peer) document(path string, a *peerActor) ([]byte, error) {
	doc := map[string]any{"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"}, "type": "Person"}
	if m, err := personFixture(); err == nil {
		doc = map[string]any{}
		for k, v := range m {
			doc[k] = v
		}
	}
	iri := p.srv.URL + path
	pemText, err := httpsig.EncodePublicKeyPEM(&a.key.PublicKey)
	if err != nil {
		return nil, err
	}
	doc["id"] = iri
	doc["preferredUsername"] = strings.TrimPrefix(path, "/users/")
	doc["url"] = p.srv.URL + "/@" + strings.TrimPrefix(path, "/users/")
	for _, c := range []string{"inbox", "outbox", "followers", "following", "featured"} {
		doc[c] = iri + "/" + c
	}
	doc["endpoints"] = map[string]any{"sharedInbox": p.srv.URL + "/inbox"}
	doc["publicKey"] = map[string]any{"id": iri + "#main-key", "owner": iri, "publicKeyPem": pemText}
	return json.Marshal(doc)
}

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	p.gets.Add(1)
	p.mu.Lock()
	a, ok := p.actors[r.URL.Path]
	p.mu.Unlock()
	switch {
	case !ok:
		http.NotFound(w, r)
	case a.gone:
		w.WriteHeader(http.StatusGone)
	default:
		b, err := p.document(r.URL.Path, a)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write(b)
	}
}

// localDir is a fixed directory of local actors.
type localDir map[string]actors.Actor

func (d localDir) ByUsername(_ context.Context, u string) (actors.Actor, error) {
	if a, ok := d[strings.ToLower(u)]; ok {
		return a, nil
	}
	return actors.Actor{}, actors.ErrNotFound
}
func (d localDir) ByID(_ context.Context, id string) (actors.Actor, error) {
	for _, a := range d {
		if a.ID == id {
			return a, nil
		}
	}
	return actors.Actor{}, actors.ErrNotFound
}
func (d localDir) InstanceActor(ctx context.Context) (actors.Actor, error) {
	return d.ByID(ctx, actor.InstanceID)
}
func (d localDir) Counts(context.Context) (actors.Counts, error) { return actors.Counts{}, nil }

var directory = localDir{
	"alice":  {ID: "a1", Kind: actor.KindPerson, Username: "alice"},
	"garden": {ID: "g1", Kind: actor.KindGroup, Username: "garden"},
	"gone":   {ID: "d1", Kind: actor.KindPerson, Username: "gone", DeletedAt: time.Unix(1, 0)},
	"hanse":  {ID: actor.InstanceID, Kind: actor.KindApplication, Username: "hanse"},
}

// hanse is a real Hanse inbox on loopback over a real embedded store, with
// the remote actors projection running.
type hanse struct {
	srv      *httptest.Server
	scheme   urls.Scheme
	store    *sqlite.Store
	reg      *events.Registry
	resolver *resolve.Resolver
	runner   *projections.Runner
	offset   atomic.Int64 // added to the resolver's clock
}

type hanseOptions struct {
	inbox   inbox.Options
	refresh time.Duration
}

func newHanse(t testing.TB, ho hanseOptions) *hanse {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	runner, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, remoteactors.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	h := &hanse{store: store, reg: events.NewRegistry(), runner: runner}
	var handler http.Handler
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	h.scheme = urls.MustNew(h.srv.URL)
	rec := app.NewRemote(store, h.reg, h.scheme.Host())
	allow, _ := fetch.ParseAllowList("127.0.0.0/8,::1/128")
	client := fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}})
	refresh := ho.refresh
	if refresh == 0 {
		refresh = -1
	}
	h.resolver = resolve.New(resolve.Options{Client: client, Recorder: rec, Directory: remoteactors.NewReader(runner.DB()),
		Local: directory, Scheme: h.scheme, RefreshInterval: refresh,
		Clock: func() time.Time { return time.Now().Add(time.Duration(h.offset.Load())) }})
	ib := inbox.New(h.scheme, directory, h.resolver, rec, ho.inbox)
	r := chi.NewRouter()
	ib.Register(r)
	handler = r
	return h
}

// post sends body to path signed by signer (nil: unsigned) with the
// content type; it returns the status and response body.
func post(t testing.TB, url, contentType string, body []byte, signer *httpsig.Signer) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if signer != nil {
		if err := signer.SignRequest(req, body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const activityJSON = "application/activity+json"

func signer(p *peer, name string, key *rsa.PrivateKey) *httpsig.Signer {
	return &httpsig.Signer{KeyID: p.keyID(name), Key: key}
}

// received returns the events recorded for activity id.
func (h *hanse) received(t testing.TB, id string) []remote.ActivityReceived {
	t.Helper()
	envs, err := h.store.ReadStream(context.Background(), remote.ActivityStream(id), events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []remote.ActivityReceived
	for _, e := range envs {
		p, err := h.reg.Decode(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *p.(*remote.ActivityReceived))
	}
	return out
}

// count returns how many events of type typ the log holds.
func (h *hanse) count(t testing.TB, typ string) int {
	t.Helper()
	head, err := h.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	envs, err := h.store.ReadAll(context.Background(), 0, int(head)+1)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range envs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func activity(typ, id, actorIRI string, object any) []byte {
	m := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "type": typ, "actor": actorIRI, "object": object,
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"}}
	if id != "" {
		m["id"] = id
	}
	b, _ := json.Marshal(m)
	return b
}
