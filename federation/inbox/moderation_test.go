package inbox_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/hanse-network/hanse/federation/inbox"
	"github.com/hanse-network/hanse/federation/moderation"
)

// TestInboxModeration: a rejected domain's activity is answered 202 and
// dropped before any key is fetched; a silenced domain's is recorded.
func TestInboxModeration(t *testing.T) {
	p := newPeer(t)
	p.set("bob", keys[0], false)
	peerHost := moderation.HostOf(p.srv.URL)
	for _, tc := range []struct {
		decision moderation.Decision
		recorded int
	}{{moderation.Reject, 0}, {moderation.Silence, 1}, {moderation.Allow, 1}} {
		t.Run(string(tc.decision), func(t *testing.T) {
			policy := moderation.PolicyFunc(func(_ context.Context, host string) (moderation.Decision, error) {
				if host == peerHost {
					return tc.decision, nil
				}
				return moderation.Allow, nil
			})
			h := newHanse(t, hanseOptions{inbox: inbox.Options{Policy: policy}})
			gets := p.gets.Load()
			bob := p.iri("bob")
			id := bob + "/statuses/" + string(tc.decision)
			status, resp := post(t, h.srv.URL+"/inbox", activityJSON, activity("Create", id, bob,
				map[string]any{"id": id + "/note", "type": "Note", "attributedTo": bob, "content": "x"}), signer(p, "bob", keys[0]))
			if status != http.StatusAccepted {
				t.Fatalf("status %d %s", status, resp)
			}
			if got := len(h.received(t, id)); got != tc.recorded {
				t.Fatalf("%d recorded, want %d", got, tc.recorded)
			}
			if tc.decision == moderation.Reject && p.gets.Load() != gets {
				t.Fatal("the key of a rejected domain was fetched")
			}
		})
	}
}
