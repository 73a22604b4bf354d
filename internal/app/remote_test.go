package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

func newRemote(t *testing.T) (*app.Remote, *sqlite.Store) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := app.NewRemote(store, events.NewRegistry(), "hanse.example")
	r.Clock = func() time.Time { return t0 }
	return r, store
}

func streamLen(t *testing.T, store events.Store, stream string) int {
	t.Helper()
	envs, err := store.ReadStream(context.Background(), stream, events.ReadStreamOptions{Direction: events.Forwards})
	if errors.Is(err, events.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(envs)
}

func TestRecordActivityDeduplicates(t *testing.T) {
	r, store := newRemote(t)
	ctx := context.Background()
	a := remote.ActivityReceived{ActivityID: "https://remote.example/a/1", Type: "Follow",
		Actor: "https://remote.example/users/bob", Raw: json.RawMessage(`{"type":"Follow"}`)}
	pos, dup, err := r.RecordActivity(ctx, a)
	if err != nil || dup {
		t.Fatalf("first: dup=%v err=%v", dup, err)
	}
	// Sequential and concurrent redeliveries are all duplicates of the first.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, dup, err := r.RecordActivity(ctx, a)
			if err != nil || !dup || p != pos {
				t.Errorf("repeat: pos=%d (want %d) dup=%v err=%v", p, pos, dup, err)
			}
		}()
	}
	wg.Wait()
	if n := streamLen(t, store, remote.ActivityStream(a.ActivityID)); n != 1 {
		t.Fatalf("stream holds %d events, want 1", n)
	}
	envs, _ := store.ReadStream(ctx, remote.ActivityStream(a.ActivityID), events.ReadStreamOptions{Direction: events.Forwards})
	var got remote.ActivityReceived
	if err := json.Unmarshal(envs[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	if envs[0].ID == (events.UUID{}) || envs[0].Metadata.Origin != "remote.example" ||
		envs[0].Type != remote.TypeActivityReceived {
		t.Fatalf("event = %+v", envs[0])
	}
	// A caller's retry of the first receipt finds it recorded.
	again, dup, err := r.RecordActivity(ctx, got)
	if err != nil || !dup || again != pos {
		t.Fatalf("retry of the first receipt: pos=%d (want %d) dup=%v err=%v", again, pos, dup, err)
	}
	if n := streamLen(t, store, remote.ActivityStream(a.ActivityID)); n != 1 {
		t.Fatalf("after the retry the stream holds %d events, want 1", n)
	}
	if _, _, err := r.RecordActivity(ctx, remote.ActivityReceived{Actor: "x"}); err == nil {
		t.Fatal("activity without id accepted")
	}
}

func TestRecordRemoteActor(t *testing.T) {
	const iri = "https://remote.example/users/bob"
	doc := func(s string) remote.ActorFetched {
		return remote.ActorFetched{IRI: iri, Type: "Person", Inbox: iri + "/inbox", Raw: json.RawMessage(s)}
	}
	steps := []struct {
		name        string
		fetched     *remote.ActorFetched
		gone        bool
		wantChanged bool
		wantLen     int
	}{
		{"first document", ptrTo(doc(`{"v":1}`)), false, true, 1},
		{"same document again", ptrTo(doc(`{"v":1}`)), false, false, 1},
		{"changed document", ptrTo(doc(`{"v":2}`)), false, true, 2},
		{"back to the first", ptrTo(doc(`{"v":1}`)), false, true, 3},
		{"gone", nil, true, true, 4},
		{"gone again", nil, true, false, 4},
		{"reappears", ptrTo(doc(`{"v":1}`)), false, true, 5},
	}
	r, store := newRemote(t)
	ctx := context.Background()
	for _, s := range steps {
		var changed bool
		var err error
		if s.gone {
			_, changed, err = r.RecordRemoteActorGone(ctx, remote.ActorGone{IRI: iri})
		} else {
			_, changed, err = r.RecordRemoteActor(ctx, *s.fetched)
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if changed != s.wantChanged {
			t.Errorf("%s: changed = %v, want %v", s.name, changed, s.wantChanged)
		}
		if n := streamLen(t, store, remote.ActorStream(iri)); n != s.wantLen {
			t.Errorf("%s: stream length %d, want %d", s.name, n, s.wantLen)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
