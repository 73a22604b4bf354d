package reactor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/federation/reactor"
	"github.com/hanse-network/hanse/internal/domain/remote"
	"github.com/hanse-network/hanse/projections"
)

func received(t *testing.T, pos events.Position, id, typ string) events.Envelope {
	t.Helper()
	reg := events.NewRegistry()
	remote.Register(reg)
	ed, err := reg.NewEvent(events.NewUUID(), remote.ActivityReceived{ActivityID: id, Type: typ, Actor: "https://peer.example/users/a"}, events.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	return events.Envelope{ID: ed.ID, StreamID: remote.ActivityStream(id), Position: pos, Type: ed.Type, Data: ed.Data, Metadata: ed.Metadata}
}

var errRefused = errors.New("refused")

func TestEach(t *testing.T) {
	r := reactor.NewReceived("test reactor", nil)
	if !r.Handles(remote.TypeActivityReceived) || r.Handles("follow.requested") {
		t.Fatal("Handles must accept received activities only")
	}
	refused := func(err error) bool { return errors.Is(err, errRefused) }
	batch := []events.Envelope{received(t, 1, "a1", "Follow"), received(t, 2, "a2", "Flag"), received(t, 3, "a3", "Undo")}
	tests := []struct {
		name     string
		answer   map[string]error
		batch    []events.Envelope
		wantSeen string
		wantErr  string
	}{
		{name: "all handled", batch: batch, wantSeen: "a1,a2,a3"},
		{name: "refusals are skipped", batch: batch, answer: map[string]error{"a2": errRefused}, wantSeen: "a1,a2,a3"},
		{name: "a failure stops at its position", batch: batch, answer: map[string]error{"a2": errors.New("disk full")},
			wantSeen: "a1,a2", wantErr: "test reactor: Flag a2 at position 2: disk full"},
		{name: "an undecodable payload stops", batch: []events.Envelope{{Position: 9, Type: remote.TypeActivityReceived, Data: []byte("{")}},
			wantErr: "position 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []string
			err := r.Each(context.Background(), tt.batch, refused, func(_ context.Context, rec *remote.ActivityReceived) error {
				seen = append(seen, rec.ActivityID)
				return tt.answer[rec.ActivityID]
			})
			if got := strings.Join(seen, ","); got != tt.wantSeen {
				t.Errorf("handled %q, want %q", got, tt.wantSeen)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var de *projections.DecodeError
			if tt.name == "an undecodable payload stops" && !errors.As(err, &de) {
				t.Errorf("undecodable payload gave %T, want *projections.DecodeError", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	const peer = "https://peer.example/users/a"
	local := func(iri string) bool { return strings.HasPrefix(iri, "https://hanse.test/") }
	for _, tc := range []struct {
		name, actor, raw, wantSkip string
	}{
		{"remote actor's activity", peer, `{"id":"https://peer.example/a/1","type":"Like","actor":"` + peer + `","object":"https://hanse.test/x"}`, ""},
		{"undecodable", peer, `{"type":`, "undecodable activity"},
		{"another actor", peer, `{"id":"https://peer.example/a/1","type":"Like","actor":"https://peer.example/users/b"}`, "is not the verified actor"},
		{"local actor", "https://hanse.test/users/me", `{"id":"https://hanse.test/a/1","type":"Like","actor":"https://hanse.test/users/me"}`, "by a local actor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act, err := reactor.Decode(&remote.ActivityReceived{Actor: tc.actor, Raw: []byte(tc.raw)}, local)
			if tc.wantSkip == "" {
				if err != nil || act == nil || act.Type != "Like" {
					t.Fatalf("%v, %v", act, err)
				}
				return
			}
			if act != nil || !reactor.IsSkip(err) || !strings.Contains(err.Error(), tc.wantSkip) {
				t.Fatalf("%v, %v; want a skip saying %q", act, err, tc.wantSkip)
			}
		})
	}
	if reactor.IsSkip(errRefused) || !reactor.IsSkip(fmt.Errorf("wrapped: %w", reactor.Skipf("no %s", "way"))) {
		t.Fatal("IsSkip must recognise skips, wrapped ones too, and nothing else")
	}
}
