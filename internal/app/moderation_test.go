package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/moderation"
)

func newModeration(t *testing.T) (*app.Moderation, events.Store) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := app.NewModeration(store, events.NewRegistry(), fwDirectory, "hanse.example")
	m.Clock = func() time.Time { return time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC) }
	return m, store
}

func streamTypes(t *testing.T, store events.Store, stream string) []string {
	t.Helper()
	envs, err := store.ReadStream(context.Background(), stream, events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range envs {
		out = append(out, e.Type)
	}
	return out
}

func TestModerationPolicyCommands(t *testing.T) {
	m, store := newModeration(t)
	ctx := context.Background()
	type step struct {
		name    string
		run     func() (app.ModerationResult, error)
		changed bool
		wantErr error
	}
	block := func(d string, s moderation.Severity) func() (app.ModerationResult, error) {
		return func() (app.ModerationResult, error) {
			r, err := m.BlockDomain(ctx, app.BlockDomainCommand{Domain: d, Severity: s, PublicComment: "p", PrivateComment: "q"}, "admin")
			return r.ModerationResult, err
		}
	}
	domainCmd := func(f func(context.Context, string, string) (app.DomainResult, error), d string) func() (app.ModerationResult, error) {
		return func() (app.ModerationResult, error) { r, err := f(ctx, d, "admin"); return r.ModerationResult, err }
	}
	mode := func(on bool) func() (app.ModerationResult, error) {
		return func() (app.ModerationResult, error) { return m.SetAllowlistMode(ctx, on, "admin") }
	}
	steps := []step{
		{name: "block", run: block("Spam.Example", "reject"), changed: true},
		{name: "block again", run: block("spam.example", "reject")},
		{name: "silence instead", run: block("spam.example", "silence"), changed: true},
		{name: "block our own domain", run: block("hanse.example", "reject"), wantErr: app.ErrOwnDomain},
		{name: "block our parent domain", run: block("example", "silence"), wantErr: app.ErrOwnDomain},
		{name: "block nonsense", run: block("not a domain", "reject"), wantErr: app.ErrModerationInvalid},
		{name: "bad severity", run: block("x.example", "suspend"), wantErr: app.ErrModerationInvalid},
		{name: "unblock unknown", run: domainCmd(m.UnblockDomain, "other.example"), wantErr: app.ErrModerationNotFound},
		{name: "allow-list mode", run: mode(true), changed: true},
		{name: "allow-list mode again", run: mode(true)},
		{name: "allow", run: domainCmd(m.AllowDomain, "friend.example"), changed: true},
		{name: "allow again", run: domainCmd(m.AllowDomain, "FRIEND.example"), changed: false},
		{name: "disallow", run: domainCmd(m.DisallowDomain, "friend.example"), changed: true},
		{name: "disallow again", run: domainCmd(m.DisallowDomain, "friend.example"), wantErr: app.ErrModerationNotFound},
		{name: "unblock", run: domainCmd(m.UnblockDomain, "spam.example."), changed: true},
	}
	var last events.Position
	for _, s := range steps {
		res, err := s.run()
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Fatalf("%s: error %v, want %v", s.name, err, s.wantErr)
		}
		if err != nil {
			continue
		}
		if res.Changed != s.changed || res.Stream != moderation.InstanceStream {
			t.Fatalf("%s: %+v, want changed %v", s.name, res, s.changed)
		}
		if res.Changed && res.Position <= last || !res.Changed && res.Position != last {
			t.Fatalf("%s: position %d after %d", s.name, res.Position, last)
		}
		last = res.Position
	}
	want := []string{moderation.TypeDomainBlocked, moderation.TypeDomainBlocked, moderation.TypeAllowlistModeSet,
		moderation.TypeDomainAllowed, moderation.TypeDomainDisallowed, moderation.TypeDomainUnblocked}
	if got := streamTypes(t, store, moderation.InstanceStream); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stream %v, want %v", got, want)
	}
	p, err := m.InstancePolicy(ctx)
	if err != nil || len(p.Blocks) != 0 || !p.AllowlistMode || len(p.Allowed) != 0 {
		t.Fatalf("policy %+v, %v", p, err)
	}
}

// TestModerationConcurrentBlocks: admins blocking different domains at
// once all succeed (conflicts are retried on the fresh stream).
func TestModerationConcurrentBlocks(t *testing.T) {
	m, _ := newModeration(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.BlockDomain(ctx, app.BlockDomainCommand{Domain: fmt.Sprintf("d%d.example", i), Severity: "reject"}, "admin")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := m.InstancePolicy(ctx)
	if err != nil || len(p.Blocks) != 3 {
		t.Fatalf("policy %+v, %v", p, err)
	}
}

func TestModerationReports(t *testing.T) {
	m, store := newModeration(t)
	ctx := context.Background()
	flag := app.ReceivedFlag{ActivityID: "https://remote.example/flags/1", Actor: "https://remote.example/actor",
		Targets: []string{fwLocalIRI}, Content: "spam", ReceivedAt: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	res, id, err := m.ReceiveReport(ctx, flag)
	if err != nil || !res.Changed || id != app.ReportID(flag.ActivityID) {
		t.Fatalf("receive: %+v %s %v", res, id, err)
	}
	again, id2, err := m.ReceiveReport(ctx, flag)
	if err != nil || again.Changed || id2 != id || again.Position != res.Position {
		t.Fatalf("receive again: %+v %v", again, err)
	}
	if _, _, err := m.ReceiveReport(ctx, app.ReceivedFlag{ActivityID: "https://remote.example/flags/2", Actor: flag.Actor}); !errors.Is(err, app.ErrModerationInvalid) {
		t.Fatalf("flag without targets: %v", err)
	}
	if _, err := m.ResolveReport(ctx, "nope", "", "admin"); !errors.Is(err, app.ErrModerationNotFound) {
		t.Fatalf("resolve unknown: %v", err)
	}
	r, err := m.ResolveReport(ctx, id, "dealt with", "admin")
	if err != nil || !r.Changed {
		t.Fatalf("resolve: %+v %v", r, err)
	}
	if r2, err := m.ResolveReport(ctx, id, "again", "admin"); err != nil || r2.Changed || r2.Position != r.Position {
		t.Fatalf("resolve again: %+v %v", r2, err)
	}
	s, err := m.Report(ctx, id)
	if err != nil || !s.Exists || !s.Resolved || s.Note != "dealt with" || s.Received.FlagActivityID != flag.ActivityID ||
		!s.Received.ReceivedAt.Equal(flag.ReceivedAt) {
		t.Fatalf("report %+v %v", s, err)
	}
	envs, err := store.ReadStream(ctx, moderation.ReportStream(id), events.ReadStreamOptions{Direction: events.Forwards})
	if err != nil || len(envs) != 2 || envs[0].ID != events.DerivedUUID("receive-flag\n"+flag.ActivityID, moderation.TypeReportReceived, string(envs[0].Data)) ||
		envs[0].Metadata.Origin != "remote.example" || envs[0].Metadata.CausationID != flag.ActivityID {
		t.Fatalf("report stream: %+v %v", envs, err)
	}
}

func TestModerationActorBlocks(t *testing.T) {
	m, store := newModeration(t)
	ctx := context.Background()
	b := app.ReceivedBlock{ActivityID: "https://remote.example/blocks/1", Actor: fwRemote, Blocked: fwLocalIRI}
	steps := []struct {
		name    string
		run     func() (app.ModerationResult, error)
		changed bool
		wantErr error
		blocked bool
	}{
		{name: "block", run: func() (app.ModerationResult, error) { return m.ReceiveBlock(ctx, b) }, changed: true, blocked: true},
		{name: "same block again", run: func() (app.ModerationResult, error) { return m.ReceiveBlock(ctx, b) }, blocked: true},
		{name: "block of an unknown actor", run: func() (app.ModerationResult, error) {
			return m.ReceiveBlock(ctx, app.ReceivedBlock{ActivityID: "x", Actor: fwRemote, Blocked: "https://hanse.example/users/nobody"})
		}, wantErr: app.ErrActorNotFound, blocked: true},
		{name: "undo", run: func() (app.ModerationResult, error) {
			return m.ReceiveUndoBlock(ctx, app.ReceivedBlock{ActivityID: "https://remote.example/undo/1", Actor: fwRemote, Blocked: fwLocalIRI})
		}, changed: true},
		{name: "undo again", run: func() (app.ModerationResult, error) {
			return m.ReceiveUndoBlock(ctx, app.ReceivedBlock{ActivityID: "https://remote.example/undo/1", Actor: fwRemote, Blocked: fwLocalIRI})
		}},
		{name: "old block replayed", run: func() (app.ModerationResult, error) { return m.ReceiveBlock(ctx, b) }},
	}
	for _, s := range steps {
		res, err := s.run()
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Fatalf("%s: error %v, want %v", s.name, err, s.wantErr)
		}
		if res.Changed != s.changed {
			t.Fatalf("%s: %+v", s.name, res)
		}
		st, err := m.ActorBlock(ctx, fwRemote, "g1")
		if err != nil || st.Blocked != s.blocked {
			t.Fatalf("%s: state %+v %v", s.name, st, err)
		}
	}
	if got := streamTypes(t, store, moderation.ActorBlockStream(fwRemote, "g1")); len(got) != 2 {
		t.Fatalf("stream %v", got)
	}
}
