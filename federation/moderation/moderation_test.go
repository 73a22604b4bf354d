package moderation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
	readmodel "github.com/hanse-network/hanse/projections/moderation"

	_ "modernc.org/sqlite"
)

// fixtureDir is shared/fixtures, reached from the repository root as
// ../shared/fixtures.
var fixtureDir = filepath.Join("..", "..", "..", "shared", "fixtures")

var scheme = func() urls.Scheme {
	s, err := urls.New("https://hanse.example")
	if err != nil {
		panic(err)
	}
	return s
}()

var (
	ada = scheme.Actor(actor.KindPerson, "ada")
	bo  = scheme.Actor(actor.KindGroup, "lernen")
)

// directory is a fixed local actor directory.
type directory map[string]app.LocalActor

func (d directory) ByIRI(_ context.Context, iri string) (app.LocalActor, error) {
	for _, a := range d {
		if a.IRI == iri {
			return a, nil
		}
	}
	return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, iri)
}

func (d directory) ByID(_ context.Context, id string) (app.LocalActor, error) {
	if a, ok := d[id]; ok {
		return a, nil
	}
	return app.LocalActor{}, fmt.Errorf("%w: %s", app.ErrActorNotFound, id)
}

var locals = directory{"u1": {ID: "u1", IRI: ada}, "g1": {ID: "g1", IRI: bo}}

type env struct {
	t      *testing.T
	ctx    context.Context
	store  events.Store
	runner *projections.Runner
	remote *app.Remote
	wiring moderation.Wiring
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	p := moderation.NewProcessor(scheme, quiet)
	r, err := projections.New(store, filepath.Join(dir, "read.db"), quiet, nil, projections.Options{}, readmodel.New(), p)
	if err != nil {
		t.Fatal(err)
	}
	reg := events.NewRegistry()
	w, err := moderation.Wire(p, store, reg, r.DB(), locals, "hanse.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &env{t: t, ctx: context.Background(), store: store, runner: r, remote: app.NewRemote(store, reg, "hanse.example"), wiring: w}
}

// settle waits until both projections have applied the whole log.
func (e *env) settle() events.Position {
	e.t.Helper()
	head, err := e.store.Head(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	for _, name := range []string{moderation.Name, readmodel.Name} {
		if err := e.runner.WaitFor(ctx, name, head); err != nil {
			e.t.Fatalf("%s: %v", name, err)
		}
	}
	return head
}

// receive records raw as received from its actor.
func (e *env) receive(raw string) {
	e.t.Helper()
	var doc struct {
		ID, Type, Actor string
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.remote.RecordActivity(e.ctx, remote.ActivityReceived{ActivityID: doc.ID, Type: doc.Type, Actor: doc.Actor,
		SignerKeyID: doc.Actor + "#main-key", Raw: json.RawMessage(raw), ReceivedAt: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}); err != nil {
		e.t.Fatal(err)
	}
}

// fixture reads a shared fixture, replacing hosts (old → new pairs).
func fixture(t *testing.T, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Skipf("shared fixtures not found at %s: %v", fixtureDir, err)
	}
	return strings.NewReplacer(replace...).Replace(string(b))
}

func TestProcessorFlagsAndBlocks(t *testing.T) {
	e := newEnv(t)
	// Mastodon's Flag (from its instance actor) about ada and two of her
	// posts; GoToSocial's about bo and a remote post.
	e.receive(fixture(t, "mastodon/flag.json", "https://example.com/users/1", ada, "https://example.com/posts/", "https://hanse.example/notes/"))
	e.receive(fixture(t, "gotosocial/flag.json", "http://fossbros-anonymous.io/users/foss_satan/statuses", "https://elsewhere.example/s",
		"http://fossbros-anonymous.io/users/foss_satan", bo))
	// A Flag about nobody here, and one by a local actor: skipped.
	e.receive(`{"id":"https://remote.example/flags/x","type":"Flag","actor":"https://remote.example/actor","object":["https://elsewhere.example/u/1"]}`)
	e.receive(fmt.Sprintf(`{"id":%q,"type":"Flag","actor":%q,"object":[%q]}`, ada+"#flags/1", ada, bo))
	// Mastodon-style Block and its Undo; a Block of an unknown local
	// actor; Lemmy's community ban (Block with target) of ada.
	block := fmt.Sprintf(`{"id":"https://remote.example/blocks/1","type":"Block","actor":"https://remote.example/users/bob","object":%q}`, ada)
	e.receive(block)
	e.receive(fmt.Sprintf(`{"id":"https://remote.example/blocks/2","type":"Block","actor":"https://remote.example/users/bob","object":%q}`, bo))
	e.receive(fmt.Sprintf(`{"id":"https://remote.example/undo/2","type":"Undo","actor":"https://remote.example/users/bob","object":{"id":"https://remote.example/blocks/2","type":"Block","actor":"https://remote.example/users/bob","object":%q}}`, bo))
	e.receive(`{"id":"https://remote.example/blocks/3","type":"Block","actor":"https://remote.example/users/bob","object":"https://hanse.example/users/nobody"}`)
	e.receive(fixture(t, "lemmy/block.json", "http://ds9.lemmy.ml/u/lemmy_alpha", ada))
	// An Undo of a Block by a stranger is refused.
	e.receive(fmt.Sprintf(`{"id":"https://evil.example/undo/1","type":"Undo","actor":"https://evil.example/users/m","object":{"type":"Block","actor":"https://remote.example/users/bob","object":%q}}`, ada))
	e.settle()

	q := e.wiring.Reader
	page, err := q.Reports(e.ctx, true, "", 10)
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("reports %+v %v", page, err)
	}
	gts, masto := page.Items[0], page.Items[1]
	if masto.ID != app.ReportID("https://mastodon.example/ccb4f39a-506a-490e-9a8c-71831c7713a4") || masto.ReporterIRI != "https://mastodon.example/actor" ||
		fmt.Sprint(masto.TargetIRIs) != fmt.Sprintf("[%s https://hanse.example/notes/380590 https://hanse.example/notes/380591]", ada) ||
		masto.Content != "Please take a look at this user and their posts" {
		t.Fatalf("mastodon report %+v", masto)
	}
	if fmt.Sprint(gts.TargetIRIs) != fmt.Sprintf("[%s]", bo) || gts.Content != "dark souls sucks, please yeet this nerd" {
		t.Fatalf("gotosocial report %+v", gts)
	}
	blocks, err := q.ActorBlocks(e.ctx, "")
	if err != nil || len(blocks) != 1 || blocks[0].RemoteActorIRI != "https://remote.example/users/bob" || blocks[0].LocalActorID != "u1" {
		t.Fatalf("blocks %+v %v", blocks, err)
	}

	// Redelivery and a re-fed processor append nothing.
	head := e.settle()
	e.receive(block)
	if h := e.settle(); h != head {
		t.Fatalf("redelivered Block appended: head %d → %d", head, h)
	}
	if err := e.runner.Rebuild(e.ctx, moderation.Name); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitSettled(e.ctx, moderation.Name); err != nil {
		t.Fatal(err)
	}
	if h := e.settle(); h != head {
		t.Fatalf("re-fed processor appended: head %d → %d", head, h)
	}
}

func TestPolicyOverTheReadModel(t *testing.T) {
	e := newEnv(t)
	cmds := e.wiring.Commands
	for _, c := range []app.BlockDomainCommand{{Domain: "bad.example", Severity: "reject"}, {Domain: "meh.example", Severity: "silence"}} {
		if _, err := cmds.BlockDomain(e.ctx, c, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	e.settle()
	p := e.wiring.Policy
	cases := []struct {
		url      string
		decision moderation.Decision
		refused  bool
		silenced bool
	}{
		{"https://bad.example/inbox", moderation.Reject, true, true},
		{"https://social.BAD.example:8443/users/x/inbox", moderation.Reject, true, true},
		{"https://meh.example/users/y", moderation.Silence, false, true},
		{"https://fine.example/users/z", moderation.Allow, false, false},
	}
	for _, tc := range cases {
		d, err := p.Allowed(e.ctx, moderation.HostOf(tc.url))
		if err != nil || d != tc.decision {
			t.Errorf("%s: %s %v, want %s", tc.url, d, err, tc.decision)
		}
		err = moderation.RefuseURL(e.ctx, p, tc.url)
		if errors.Is(err, moderation.ErrDomainBlocked) != tc.refused || (err != nil && !strings.HasPrefix(err.Error(), "domain blocked")) {
			t.Errorf("RefuseURL(%s) = %v", tc.url, err)
		}
		if s, err := moderation.Silenced(e.ctx, p, tc.url); err != nil || s != tc.silenced {
			t.Errorf("Silenced(%s) = %v %v", tc.url, s, err)
		}
		if r, err := moderation.Rejects(e.ctx, p, moderation.HostOf(tc.url)); err != nil || r != tc.refused {
			t.Errorf("Rejects(%s) = %v %v", tc.url, r, err)
		}
	}
	// Allow-list-only mode rejects the rest at once.
	if _, err := cmds.SetAllowlistMode(e.ctx, true, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := cmds.AllowDomain(e.ctx, "friend.example", "admin"); err != nil {
		t.Fatal(err)
	}
	e.settle()
	for host, want := range map[string]moderation.Decision{"fine.example": moderation.Reject, "x.friend.example": moderation.Allow} {
		if d, err := p.Allowed(e.ctx, host); err != nil || d != want {
			t.Errorf("allow-list mode, %s: %s %v; want %s", host, d, err, want)
		}
	}
	// A nil policy allows; a failing one is an error, never a silent allow.
	if err := moderation.RefuseURL(e.ctx, nil, "https://bad.example/"); err != nil {
		t.Fatal(err)
	}
	failing := moderation.PolicyFunc(func(context.Context, string) (moderation.Decision, error) { return "", errors.New("db gone") })
	if r, err := moderation.Rejects(e.ctx, failing, "x.example"); err == nil || r {
		t.Fatalf("failing policy: %v %v", r, err)
	}
	if err := moderation.RefuseURL(e.ctx, failing, "https://x.example/"); err == nil || errors.Is(err, moderation.ErrDomainBlocked) {
		t.Fatalf("failing policy, RefuseURL: %v", err)
	}
}
