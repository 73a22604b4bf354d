package remote_test

import (
	"testing"
	"time"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/internal/domain/remote"
)

func TestStreamsAreDistinctPerActorAndKind(t *testing.T) {
	a, b := "https://remote.example/users/a", "https://remote.example/users/b"
	seen := map[string]string{}
	for name, s := range map[string]string{
		"erasure a": remote.ErasureStream(a), "erasure b": remote.ErasureStream(b),
		"actor a": remote.ActorStream(a), "activity a": remote.ActivityStream(a),
	} {
		if err := events.ValidateStreamName(s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if other, dup := seen[s]; dup {
			t.Fatalf("%s and %s share the stream %s", name, other, s)
		}
		seen[s] = name
	}
	if remote.ErasureStream(a) != remote.ErasureStream(a) {
		t.Fatal("ErasureStream is not deterministic")
	}
}

func TestActorErasedRoundTrips(t *testing.T) {
	reg := events.NewRegistry()
	remote.Register(reg)
	ed, err := reg.NewEvent(events.NewUUID(), remote.ActorErased{ActorIRI: "https://remote.example/users/a"},
		events.Metadata{OccurredAt: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Type != remote.TypeActorErased || string(ed.Data) != `{"actorIri":"https://remote.example/users/a"}` {
		t.Fatalf("event %s %s", ed.Type, ed.Data)
	}
	got, err := reg.Decode(events.Envelope{Type: ed.Type, Data: ed.Data, Metadata: ed.Metadata})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := got.(*remote.ActorErased); !ok || e.ActorIRI != "https://remote.example/users/a" {
		t.Fatalf("decoded %#v", got)
	}
}
